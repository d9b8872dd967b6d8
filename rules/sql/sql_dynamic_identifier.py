"""BE102 sql-dynamic-identifier: a table, column or sort order spliced into SQL text."""

from __future__ import annotations

import libcst as cst

from be_lint.dataflow import Origin
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.sql.calls import SQL_CALL_TRIGGERS, SqlCall
from be_lint.sql.injection import (
    ArgumentReport,
    Position,
    Splice,
    analyze_call,
    describe_how,
    more,
    subject,
    worst,
)

RATIONALE = """\
Query parameters bind values, never names: `ORDER BY %s` sorts by a constant string, and a
driver refuses a placeholder for a table. So code that lets callers choose a table, a column or
a sort direction pastes the name into the SQL text, and whoever controls that name controls the
query: `id; DROP TABLE users` is a fine "column" to an f-string.

The rule finds runtime values that land in a *name* position of the parsed statement -- a table
(`FROM`, `JOIN`, `INSERT INTO`, `UPDATE`, `DROP TABLE`), a selected, grouped or sorted column, a
column compared to a placeholder (`WHERE {column} = %s`), a column set by an `UPDATE`, a sort
direction, a quoted name -- and follows them back through the function like BE101 does. Values
in value positions are BE101's findings, so the two rules never report the same splice.

Names that come from code are fine: constants, a lookup in a constant table
(`SORT_COLUMNS[key]`), a choice between literals (`"DESC" if desc else "ASC"`), Django's
`Model._meta.db_table`, and names quoted by the driver (`psycopg.sql.Identifier`,
`connection.ops.quote_name`), and names checked against an allow-list first (`if column not in
COLUMNS: raise`). A name from the HTTP request is reported as an error, a parameter of the
function as a warning, any other runtime value (an attribute, the result of a call) as info.
"""

HOW_TO_FIX = """\
Map the input to a name you wrote: `column = SORT_COLUMNS.get(key, "created_at")` with a dict
of allowed columns, `direction = "DESC" if descending else "ASC"`. When the set of names is
open (tables created at run time), quote them with the driver's composition API:
`sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))` (psycopg), or
`connection.ops.quote_name(table)` (Django) after checking the name against the catalogue.
"""


class SqlDynamicIdentifier(PythonRule):
    meta = RuleMeta(
        code="BE102",
        name="sql-dynamic-identifier",
        summary="Table, column or sort order spliced into SQL text from a runtime value",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=89,
        owasp="A03:2021-Injection",
        references=(
            "https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html#defense-option-3-allow-list-input-validation",
            "https://www.psycopg.org/psycopg3/docs/api/sql.html",
        ),
    )
    triggers = SQL_CALL_TRIGGERS
    bad = (
        Example(
            """\
import sqlalchemy as sa


def count_rows(session, table):
    return session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # expect: BE102
"""
        ),
        Example(
            """\
from flask import request


def listing(cursor):
    sort = request.args.get("sort", "created_at")
    direction = request.args.get("dir", "ASC")
    cursor.execute(f"SELECT * FROM posts ORDER BY {sort} {direction}")  # expect: BE102
"""
        ),
        Example(
            """\
from django.db.models.expressions import RawSQL

from myapp.models import Book


def ranked(order_column):
    rank = RawSQL("SELECT count(*) FROM myapp_book ORDER BY " + order_column, [])  # expect: BE102
    return Book.objects.annotate(rank=rank)
"""
        ),
        Example(
            """\
import sqlite3


def reset(conn: sqlite3.Connection, table: str):
    conn.executescript("DROP TABLE IF EXISTS %s; VACUUM;" % table)  # expect: BE102
"""
        ),
        Example(
            """\
class Repository:
    table = "users"

    def __init__(self, conn, table=None):
        self.conn = conn
        if table:
            self.table = table

    def count(self):
        return self.conn.execute(f"SELECT count(*) FROM {self.table}").fetchone()  # expect: BE102
"""
        ),
        Example(
            """\
def by_field(cursor, field, value):
    query = "SELECT id FROM users WHERE {} = %s".format(field)
    cursor.execute(query, (value,))  # expect: BE102
"""
        ),
        Example(
            """\
def insert_row(cursor, table, row: dict):
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))  # expect: BE102
"""
        ),
        Example(
            """\
def update_profile(cursor, user_id, data: dict):
    cursor.execute(
        f"UPDATE users SET {', '.join(f'{key} = %s' for key in data)} WHERE id = %s",  # expect: BE102
        [*data.values(), user_id],
    )
"""
        ),
    )
    good = (
        Example(
            """\
SORT_COLUMNS = {"name": "name", "newest": "created_at"}


def listing(cursor, sort, descending):
    column = SORT_COLUMNS.get(sort, "id")
    direction = "DESC" if descending else "ASC"
    cursor.execute(f"SELECT * FROM posts ORDER BY {column} {direction}")
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
from django.db import connection


def truncate(model):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
"""
        ),
        Example(
            """\
def find(cursor, name):
    # A value, not a name: BE101's finding.
    cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
"""
        ),
        Example(
            """\
from .tables import AUDIT_TABLE

TABLES = ("users", "orders")


def counts(cursor):
    for table in TABLES:
        cursor.execute(f"SELECT count(*) FROM {table}")
    cursor.execute(f"SELECT count(*) FROM {AUDIT_TABLE}")
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        report = analyze_call(node, self.ctx)
        if report is None:
            return
        for argument in report.arguments:
            splices = argument.of(Position.IDENTIFIER)
            if splices:
                self._report(report.found, argument, splices)

    def _report(self, found: SqlCall, argument: ArgumentReport, splices: list[Splice]) -> None:
        trace = worst(s.trace for s in splices)
        splice = next((s for s in splices if s.trace is trace), splices[0])
        expr = splice.hole.expr
        how = describe_how(splice.hole, argument.argument, self.ctx.dataflow)
        role = splice.role or "name"
        named = subject(self.ctx, trace, expr)
        if named.startswith(("parameter ", "route parameter ")):
            named = f"{role} from {named}"
        else:
            named = f"{role} {named}"
        reaches = f"is built into SQL with {how} that reaches `{found.api}`"
        reaches += more(len(splices) - 1, "name")
        if trace.origin is Origin.REQUEST:
            message = f"SQL injection: {named} {reaches}"
            severity = Severity.ERROR
        else:
            message = f"Dynamic {named} {reaches}; placeholders cannot bind names"
            severity = Severity.WARNING if trace.origin is Origin.PARAMETER else Severity.INFO
        target: cst.CSTNode = argument.argument
        if expr is not None and _contains(argument.argument, expr):
            target = expr
        self.report(
            target,
            message,
            help=(
                "map the input to a name written in code (a dict of allowed names), or quote it "
                "with the driver, e.g. psycopg's sql.Identifier"
            ),
            severity=severity,
        )


def _contains(root: cst.CSTNode, node: cst.CSTNode) -> bool:
    stack = [root]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        stack.extend(current.children)
    return False
