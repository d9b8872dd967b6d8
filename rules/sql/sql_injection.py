"""BE101 sql-injection: runtime values spliced into SQL text that reaches a database call."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from be_lint.dataflow import Origin, Trace
from be_lint.rule import Confidence, Example, FixSafety, PythonRule, RuleMeta, Severity
from be_lint.sql.calls import SQL_CALL_TRIGGERS, SqlCall
from be_lint.sql.injection import (
    ArgumentReport,
    Position,
    analyze_call,
    code_of,
    describe_how,
    more,
    subject,
    worst,
)
from be_lint.sql.parameterize import parameterize

RATIONALE = """\
When a query is built by pasting values into its text -- an f-string, `%` or `.format()`
formatting, `+` concatenation, `"".join(...)` -- a value containing a quote changes the query
itself. Anyone who controls such a value can read or change other rows, skip a login check, or
run other statements. Escaping by hand misses cases (encodings, numeric contexts); the driver's
query parameters never do, because the values travel separately from the SQL.

The rule follows the SQL argument of known database calls (DB-API `execute` of sqlite3,
psycopg 2 and 3, PyMySQL, MySQLdb, mysql.connector, pyodbc, oracledb; asyncpg, aiosqlite,
aiomysql and `databases`; SQLAlchemy `text()`, `literal_column()`, `exec_driver_sql`; Django
`raw()`, `extra()`, `RawSQL`; pandas `read_sql`; peewee `execute_sql` and `raw`) back through
the function: a query assembled over several statements -- `+=` in loops and branches, lists of
conditions joined, helper variables -- is checked as a whole.

It is quiet when every piece is a constant (literals, module constants, `UPPER_CASE` names
imported from the project, constant lists joined, branches that only add literals), a number by
construction (`int(x)`, `len(x)`, arithmetic, `%d`), quoted by the driver or framework
(`quote_name`, `psycopg.sql.Identifier`) or bound through a composition API (`psycopg.sql`,
SQLAlchemy `bindparam`). Table and column names spliced into SQL are reported by BE102
instead.

The finding says where the value comes from. Data from an HTTP request (Flask `request.args`,
Django `request.GET`, DRF `request.data`, route parameters of FastAPI or Flask handlers) is a
confirmed injection and reported as an error; a parameter of the function is a likely one (a
warning); any other runtime value -- an attribute, the result of a call -- a possible one (info).
Guards count: a value checked with `if x not in ALLOWED: raise`, `x.isdigit()` or an anchored
`re.fullmatch` is no worse than what the check admits.
"""

HOW_TO_FIX = """\
Keep the SQL text constant and pass values as parameters: `cursor.execute("... WHERE id = %s",
(user_id,))` (the placeholder depends on the driver: `%s`, `?`, `:1`, `$1`, `:name`), SQLAlchemy
`text("... WHERE id = :id").bindparams(id=user_id)`, Django `Model.objects.raw("... %s",
[user_id])`. For optional conditions, build a list of constant clauses and a list of
parameters side by side.
"""


class SqlInjection(PythonRule):
    meta = RuleMeta(
        code="BE101",
        name="sql-injection",
        summary="SQL text built from runtime values reaches a database call",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=89,
        owasp="A03:2021-Injection",
        references=(
            "https://owasp.org/Top10/A03_2021-Injection/",
            "https://cheatsheetseries.owasp.org/cheatsheets/Query_Parameterization_Cheat_Sheet.html",
            "https://peps.python.org/pep-0249/#paramstyle",
            "https://docs.djangoproject.com/en/stable/topics/db/sql/#passing-parameters-into-raw",
        ),
    )
    triggers = SQL_CALL_TRIGGERS
    fix_safety: ClassVar[FixSafety] = FixSafety.UNSAFE
    version = 2
    bad = (
        Example(
            """\
import sqlite3


def find_user(conn: sqlite3.Connection, user_id: str):
    cursor = conn.cursor()
    cursor.execute(f"SELECT * FROM users WHERE id = {user_id}")  # expect: BE101
    return cursor.fetchone()
""",
            fixed="""\
import sqlite3


def find_user(conn: sqlite3.Connection, user_id: str):
    cursor = conn.cursor()
    cursor.execute("SELECT * FROM users WHERE id = ?", (user_id,))  # expect: BE101
    return cursor.fetchone()
""",
        ),
        Example(
            """\
import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/search")
def search():
    term = request.args.get("q", "")
    db = sqlite3.connect("blog.db")
    sql = "SELECT id, title FROM posts WHERE title LIKE '%" + term + "%'"
    return db.execute(sql).fetchall()  # expect: BE101
""",
            fixed="""\
import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/search")
def search():
    term = request.args.get("q", "")
    db = sqlite3.connect("blog.db")
    sql = "SELECT id, title FROM posts WHERE title LIKE ?"
    return db.execute(sql, (f"%{term}%",)).fetchall()  # expect: BE101
""",
        ),
        Example(
            """\
import psycopg2


def orders_with_status(cursor, status):
    cursor.execute("SELECT * FROM orders WHERE status = '%s' AND total > 0" % status)  # expect: BE101
    return cursor.fetchall()
""",
            fixed="""\
import psycopg2


def orders_with_status(cursor, status):
    cursor.execute("SELECT * FROM orders WHERE status = %s AND total > 0", (status,))  # expect: BE101
    return cursor.fetchall()
""",
        ),
        Example(
            """\
from django.db import connection


def product_search(request):
    name = request.GET["name"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shop_product WHERE name = '{}'".format(name))  # expect: BE101
        return cursor.fetchall()
""",
            fixed="""\
from django.db import connection


def product_search(request):
    name = request.GET["name"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM shop_product WHERE name = %s", (name,))  # expect: BE101
        return cursor.fetchall()
""",
        ),
        Example(
            """\
def search(cursor, filters: dict):
    sql = "SELECT * FROM products WHERE 1 = 1"
    for column, value in filters.items():
        sql += f" AND {column} = '{value}'"
    cursor.execute(sql)  # expect: BE101
"""
        ),
        Example(
            """\
def find(cursor, name, email):
    conditions = []
    if name:
        conditions.append(f"name = '{name}'")
    if email:
        conditions.append("email = '" + email + "'")
    where = " AND ".join(conditions)
    cursor.execute("SELECT * FROM users WHERE " + where)  # expect: BE101
"""
        ),
        Example(
            """\
def delete_user(conn, user_id):
    conn.execute("DELETE FROM users WHERE id = " + user_id)  # expect: BE101
"""
        ),
        Example(
            """\
from sqlalchemy import text


def by_email(session, email):
    return session.execute(text(f"SELECT * FROM users WHERE email = '{email}'")).all()  # expect: BE101
""",
            fixed="""\
from sqlalchemy import text


def by_email(session, email):
    return session.execute(text("SELECT * FROM users WHERE email = :email").bindparams(email=email)).all()  # expect: BE101
""",
        ),
        Example(
            """\
from sqlalchemy import text as sql_text


def rename(conn, new_name, user_id):
    stmt = sql_text("UPDATE users SET name = '" + new_name + "' WHERE id = :id")  # expect: BE101
    conn.execute(stmt, {"id": user_id})
"""
        ),
        Example(
            """\
from myapp.models import Person


def by_last_name(name):
    return Person.objects.raw(f"SELECT * FROM myapp_person WHERE last_name = '{name}'")  # expect: BE101
""",
            fixed="""\
from myapp.models import Person


def by_last_name(name):
    return Person.objects.raw("SELECT * FROM myapp_person WHERE last_name = %s", [name])  # expect: BE101
""",
        ),
        Example(
            """\
from django.db.models.expressions import RawSQL

from myapp.models import Book


def well_rated(min_stars):
    rated = RawSQL("SELECT count(*) FROM myapp_review WHERE stars >= " + min_stars, [])  # expect: BE101
    return Book.objects.annotate(rated=rated)
""",
            fixed="""\
from django.db.models.expressions import RawSQL

from myapp.models import Book


def well_rated(min_stars):
    rated = RawSQL("SELECT count(*) FROM myapp_review WHERE stars >= %s", [min_stars])  # expect: BE101
    return Book.objects.annotate(rated=rated)
""",
        ),
        Example(
            """\
def cheaper_than(queryset, max_price):
    return queryset.extra(where=[f"price < {max_price}"])  # expect: BE101
"""
        ),
        Example(
            """\
import asyncpg


async def emails(pool: asyncpg.Pool, domain: str):
    async with pool.acquire() as conn:
        return await conn.fetch(f"SELECT email FROM users WHERE email LIKE '%{domain}'")  # expect: BE101
""",
            fixed="""\
import asyncpg


async def emails(pool: asyncpg.Pool, domain: str):
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT email FROM users WHERE email LIKE $1", f"%{domain}")  # expect: BE101
""",
        ),
        Example(
            """\
from fastapi import Depends, FastAPI

from .db import get_database

app = FastAPI()


@app.get("/users/{user_id}")
async def read_user(user_id: str, database=Depends(get_database)):
    return await database.fetch_one(f"SELECT * FROM users WHERE id = {user_id}")  # expect: BE101
""",
            fixed="""\
from fastapi import Depends, FastAPI

from .db import get_database

app = FastAPI()


@app.get("/users/{user_id}")
async def read_user(user_id: str, database=Depends(get_database)):
    return await database.fetch_one("SELECT * FROM users WHERE id = :user_id", values={"user_id": user_id})  # expect: BE101
""",
        ),
        Example(
            """\
import pandas as pd


def load(engine, since):
    return pd.read_sql("SELECT * FROM events WHERE created_at > '" + since + "'", engine)  # expect: BE101
"""
        ),
        Example(
            """\
def archive(cursor, where_clause):
    # A whole condition pasted in: nothing here can tell what it contains.
    cursor.execute("DELETE FROM events WHERE " + where_clause)  # expect: BE101
"""
        ),
        Example(
            """\
QUERY = "SELECT * FROM users WHERE name = '%s'"


def by_name(cursor, name):
    cursor.execute(QUERY % name)  # expect: BE101
"""
        ),
        Example(
            """\
from .queries import USER_BY_NAME


def by_name(cursor, name):
    cursor.execute(USER_BY_NAME.format(name))  # expect: BE101
"""
        ),
        Example(
            """\
import peewee

db = peewee.SqliteDatabase("app.db")


def posts_by(author):
    return db.execute_sql("SELECT * FROM post WHERE author = '%s'" % author)  # expect: BE101
"""
        ),
    )
    good = (
        Example(
            """\
def find_user(cursor, user_id):
    cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    cursor.execute("SELECT * FROM users WHERE id = %(id)s", {"id": user_id})
"""
        ),
        Example(
            """\
import sqlite3


def find_user(conn: sqlite3.Connection, user_id: int, email: str):
    conn.execute("SELECT * FROM users WHERE id = ?", (user_id,))
    conn.execute("SELECT * FROM users WHERE email = :email", {"email": email})
"""
        ),
        Example(
            """\
def active(cursor):
    cursor.execute(
        "SELECT id, name "
        "FROM users "
        "WHERE active"
    )
    cursor.execute("SELECT count(*) " + "FROM users")
    cursor.execute(f"SELECT {'id'} FROM users LIMIT {100}")
    cursor.execute("SELECT * FROM %s LIMIT %d" % ("users", 10))
"""
        ),
        Example(
            """\
BASE = "SELECT id, name FROM users"


def listing(cursor, active_only, limit):
    # Built over several statements, but only from constants and a number.
    sql = BASE
    if active_only:
        sql += " WHERE active"
    sql += " ORDER BY name LIMIT %d" % int(limit)
    cursor.execute(sql)
"""
        ),
        Example(
            """\
def search(cursor, name=None, email=None):
    # Optional conditions: constant clauses, values passed as parameters.
    clauses, params = [], []
    if name:
        clauses.append("name = %s")
        params.append(name)
    if email:
        clauses.append("email = %s")
        params.append(email)
    sql = "SELECT * FROM users"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    cursor.execute(sql, params)
"""
        ),
        Example(
            """\
from .queries import ACTIVE_USERS, USERS_TABLE

COLUMNS = ["id", "name", "email"]


def users(cursor, status):
    cursor.execute(ACTIVE_USERS)
    cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {USERS_TABLE} WHERE status = %s", (status,))
"""
        ),
        Example(
            """\
from django.conf import settings
from django.db import connection


def drop(table_name):
    # Identifiers quoted by the framework, configuration values.
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE %s" % connection.ops.quote_name(table_name))
        cursor.execute(f"TRUNCATE {qn(table_name)}")
        cursor.execute(f"SET statement_timeout = {settings.DB_TIMEOUT_MS}")
"""
        ),
        Example(
            """\
TABLE = "users"
SORT_COLUMNS = {"name": "name", "newest": "created_at DESC"}


def listing(cursor, sort, descending):
    cursor.execute(f"SELECT * FROM {TABLE} ORDER BY {SORT_COLUMNS[sort]}")
    cursor.execute(f"SELECT * FROM {TABLE} ORDER BY id {'DESC' if descending else 'ASC'}")
"""
        ),
        Example(
            """\
class UserRepository:
    TABLE = "users"

    def __init__(self, conn):
        self.conn = conn

    def count(self):
        return self.conn.execute(f"SELECT count(*) FROM {self.TABLE}").fetchone()
"""
        ),
        Example(
            """\
def page(cursor, limit, offset, ids):
    cursor.execute(f"SELECT * FROM users LIMIT {int(limit)} OFFSET {int(offset) * 50}")
    cursor.execute("SELECT * FROM users LIMIT %d" % limit)
    cursor.execute(f"SELECT * FROM users WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)
    cursor.execute(f"SELECT * FROM users WHERE id IN ({','.join('?' * len(ids))})", ids)
"""
        ),
        Example(
            """\
FIELDS = ("name", "email")


def update_profile(cursor, user_id, data):
    cursor.execute(
        f"UPDATE users SET {', '.join(f'{key} = %s' for key in FIELDS)} WHERE id = %s",
        [*(data[key] for key in FIELDS), user_id],
    )
"""
        ),
        Example(
            """\
def rows(cursor, table):
    # A table name spliced into SQL is BE102's finding, not this rule's.
    cursor.execute(f"SELECT * FROM {table}")
"""
        ),
        Example(
            """\
from sqlalchemy import bindparam, select, text

from .models import users


def find(session, user_id, name):
    session.execute(text("SELECT * FROM users WHERE id = :id").bindparams(id=user_id))
    session.execute(text("SELECT * FROM users WHERE name = :name"), {"name": name})
    session.execute(select(users).where(users.c.name == bindparam("name")), {"name": name})
    return session.execute(select(users).where(users.c.id == user_id)).all()
"""
        ),
        Example(
            """\
from django.db.models.expressions import RawSQL

from myapp.models import Book, Person


def lookups(name, max_price):
    Person.objects.raw("SELECT * FROM myapp_person WHERE last_name = %s", [name])
    Book.objects.extra(where=["price < %s"], params=[max_price])
    return Book.objects.annotate(cheap=RawSQL("price < %s", (max_price,)))
"""
        ),
        Example(
            """\
import logging

log = logging.getLogger(__name__)


def audit(user, query):
    log.info("user {} ran {}".format(user, query))
    message = "SELECT denied for %s" % user
    return message
"""
        ),
        Example(
            """\
def download(response, executor, task, client, user_id):
    body = response.raw(f"chunk-{user_id}")
    executor.execute(task)
    executor.execute(f"resize --width {user_id} image.png")
    return body, client.fetch(f"https://api.example.com/users/{user_id}")
"""
        ),
        Example(
            """\
from psycopg2 import sql


def rows(cursor, table, columns, user_id):
    query = sql.SQL("SELECT {} FROM {} WHERE id = {}")
    cursor.execute(
        query.format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.Identifier(table),
            sql.Literal(user_id),
        )
    )
"""
        ),
        Example(
            """\
from psycopg import sql


def count(conn, table):
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    return conn.execute(query).fetchone()
"""
        ),
        Example(
            """\
def run(cursor, sql, params):
    # The text arrives whole from the caller: nothing here splices values into it.
    cursor.execute(sql, params)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        report = analyze_call(node, self.ctx)
        if report is None:
            return
        for argument in report.arguments:
            self._report(report.found, argument)

    def _report(self, found: SqlCall, argument: ArgumentReport) -> None:
        if argument.whole is not None:
            shown = code_of(self.ctx, argument.whole.witness or argument.argument)
            self.report(
                argument.argument,
                f"SQL injection: the SQL text comes from the HTTP request (`{shown}`) and "
                f"reaches `{found.api}`",
                help="never run SQL text a client sends; choose among queries written in code",
                severity=Severity.ERROR,
            )
            return
        values: list[tuple[cst.BaseExpression | None, Trace]]
        if argument.template_values:
            values = list(argument.template_values)
            how = argument.how
        else:
            splices = argument.of(Position.VALUE, Position.FRAGMENT)
            if not splices:
                return  # only identifiers: BE102's finding
            values = [(s.hole.expr, s.trace) for s in splices]
            how = describe_how(splices[0].hole, argument.argument, self.ctx.dataflow)
        message, severity = self._message(found, how, values)
        fixed = parameterize(self.ctx, found, argument)
        self.report(
            argument.argument,
            message,
            help=_help(found, values[0][0]),
            severity=severity,
            replacement=fixed.replacement if fixed is not None else None,
            fix_node=fixed.target if fixed is not None else None,
            fix_safety=FixSafety.UNSAFE,
            fix_description=fixed.description if fixed is not None else "",
        )

    def _message(
        self,
        found: SqlCall,
        how: str,
        values: list[tuple[cst.BaseExpression | None, Trace]],
    ) -> tuple[str, Severity]:
        trace = worst(t for _, t in values)
        expr = next((e for e, t in values if t is trace), values[0][0])
        reaches = f"with {how} that reaches `{found.api}`{more(len(values) - 1, 'value')}"
        named = subject(self.ctx, trace, expr)
        if trace.origin is Origin.REQUEST:
            return f"SQL injection: {named} is built into SQL {reaches}", Severity.ERROR
        if trace.origin is Origin.PARAMETER:
            return f"Likely SQL injection: {named} is built into SQL {reaches}", Severity.WARNING
        return f"SQL built from {named} {reaches}", Severity.INFO


_EXAMPLES = {
    "sqlalchemy-text": 'bind values instead, e.g. text("... WHERE id = :id").bindparams(id={name})',
    "sqlalchemy-fragment": "compare with bindparam() or a column object instead of SQL text",
    "django-raw": 'pass values as parameters, e.g. Model.objects.raw("... WHERE id = %s", [{name}])',
    "django-rawsql": 'pass values as parameters, e.g. RawSQL("... WHERE id = %s", [{name}])',
    "django-extra": 'pass values through params, e.g. .extra(where=["id = %s"], params=[{name}])',
    "asyncpg": 'pass values as query arguments, e.g. conn.fetch("... WHERE id = $1", {name})',
    "databases": 'pass values as query arguments, e.g. db.fetch_all("... WHERE id = :id", {{"id": {name}}})',
    "pandas": 'pass values as parameters, e.g. pd.read_sql("... WHERE id = %(id)s", con, params={{"id": {name}}})',
    "psycopg-sql": 'compose instead, e.g. sql.SQL("... WHERE id = {{}}").format(sql.Literal({name}))',
    "peewee": 'pass values as parameters, e.g. db.execute_sql("... WHERE id = ?", ({name},))',
}
_DEFAULT_EXAMPLE = (
    'pass values as query parameters, e.g. cursor.execute("... WHERE id = %s", ({name},))'
)


def _help(found: SqlCall, first: cst.BaseExpression | None) -> str:
    name = first.value if isinstance(first, cst.Name) else "value"
    return _EXAMPLES.get(found.kind, _DEFAULT_EXAMPLE).format(name=name)
