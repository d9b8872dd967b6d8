"""BE101 sql-injection: SQL text built from runtime values at the call that runs it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import libcst as cst
import sqlglot.expressions as exp

from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.sql.calls import SQL_CALL_TRIGGERS, SqlCall, sql_call
from be_lint.sql.extract import is_numeric_conversion
from be_lint.sql.lexer import looks_like_sql
from be_lint.sql.model import Hole, HoleKind, SqlStatement

if TYPE_CHECKING:
    from be_lint.context import FileContext

RATIONALE = """\
When a query is built by pasting values into its text -- an f-string, `%` or `.format()`
formatting, `+` concatenation -- a value containing a quote changes the query itself. Anyone
who controls such a value can read or change other rows, skip a login check, or run other
statements. Escaping by hand misses cases (encodings, numeric contexts, identifiers); the
driver's query parameters never do, because the values travel separately from the SQL.

The rule looks at the SQL argument of known database calls (DB-API `execute`, asyncpg,
SQLAlchemy `text()`, Django `raw()`/`extra()`/`RawSQL`, pandas `read_sql` and more) and
reports it when the text is built at the call from values that are not constants. Literals,
module-level `UPPER_CASE` string constants, numbers by construction (`int(x)`, `len(x)`, `%d`)
and choices between literals (`"ASC" if asc else "DESC"`) are not reported.
"""

HOW_TO_FIX = """\
Keep the SQL text constant and pass values as parameters: `cursor.execute("... WHERE id = %s",
(user_id,))` (the placeholder depends on the driver: `%s`, `?`, `:name`, `$1`), SQLAlchemy
`text("... WHERE id = :id").bindparams(id=user_id)`, Django `Model.objects.raw("... %s",
[user_id])`. Table and column names cannot be parameters: map user input to names through an
allow-list (`SORT_COLUMNS[key]`), or compose with `psycopg.sql.Identifier`.
"""

_NUMERIC_BUILTINS = frozenset(
    f"builtins.{name}" for name in ("int", "float", "len", "round", "bool", "abs", "ord", "hash")
)
_PSYCOPG_QUOTED = frozenset(
    f"{package}.sql.{name}"
    for package in ("psycopg", "psycopg2")
    for name in ("Identifier", "Literal", "Placeholder")
)
_PSYCOPG_SQL = frozenset({"psycopg.sql.SQL", "psycopg2.sql.SQL"})
#: Functions (by last name, on any receiver) that quote an identifier or literal for SQL:
#: Django's ``connection.ops.quote_name``, psycopg2's ``quote_ident``, asyncpg's and
#: SQLAlchemy's identifier preparers. Their output is what a reviewer asks for.
_QUOTING_FUNCTIONS = frozenset(
    {
        "quote_name",
        "quote_name_unless_alias",
        "quote_ident",
        "quote_identifier",
        "quote_schema",
        "format_table",
        "format_column",
        "escape_identifier",
        "quote_literal",
        "escape_literal",
    }
)
_QUOTING_NAME = re.compile(
    "|".join([*sorted(_QUOTING_FUNCTIONS), "quote_value", r"quote_\w*name"]), re.IGNORECASE
)
_ARITHMETIC = (cst.Add, cst.Subtract, cst.Divide, cst.FloorDivide, cst.Power)
_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_SQLISH_NAME = re.compile(r"sql|query|stmt|statement", re.IGNORECASE)
_MAX_DEPTH = 20


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
    bad = (
        Example(
            """\
import sqlite3


def find_user(conn: sqlite3.Connection, user_id: str):
    cursor = conn.cursor()
    cursor.execute(f"SELECT * FROM users WHERE id = {user_id}")  # expect: BE101
    return cursor.fetchone()
"""
        ),
        Example(
            """\
def orders_with_status(cursor, status):
    cursor.execute("SELECT * FROM orders WHERE status = '%s'" % status)  # expect: BE101
    return cursor.fetchall()
"""
        ),
        Example(
            """\
def search(cursor, name):
    cursor.execute("SELECT id FROM users WHERE name = '{}'".format(name))  # expect: BE101
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
import sqlalchemy as sa


def count_rows(session, table):
    return session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # expect: BE101
"""
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
"""
        ),
        Example(
            """\
from django.db.models.expressions import RawSQL

from myapp.models import Book


def ranked(order_column):
    rank = RawSQL("SELECT count(*) FROM myapp_book ORDER BY " + order_column, [])  # expect: BE101
    return Book.objects.annotate(rank=rank)
"""
        ),
        Example(
            """\
def cheaper_than(queryset, max_price):
    return queryset.extra(where=[f"price < {max_price}"])  # expect: BE101
"""
        ),
        Example(
            """\
import sqlite3


def reset(conn: sqlite3.Connection, table: str):
    conn.executescript("DROP TABLE IF EXISTS %s; VACUUM;" % table)  # expect: BE101
"""
        ),
        Example(
            """\
import asyncpg


async def emails(pool: asyncpg.Pool, domain: str):
    async with pool.acquire() as conn:
        return await conn.fetch(f"SELECT email FROM users WHERE email LIKE '%{domain}'")  # expect: BE101
"""
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
def update_profile(cursor, user_id, data: dict):
    cursor.execute(
        f"UPDATE users SET {', '.join(f'{key} = %s' for key in data)} WHERE id = %s",  # expect: BE101
        [*data.values(), user_id],
    )
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
        return self.conn.execute(f"SELECT count(*) FROM {self.table}").fetchone()  # expect: BE101
"""
        ),
        Example(
            """\
QUERY = "SELECT * FROM users WHERE name = '%s'"


def by_name(cursor, name):
    cursor.execute(QUERY % name)  # expect: BE101
"""
        ),
    )
    good = (
        Example(
            """\
from django.db import connection


def drop(table_name):
    # Identifiers quoted by the driver's or framework's quoting function.
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE %s" % connection.ops.quote_name(table_name))
        cursor.execute(f"TRUNCATE {qn(table_name)}")
"""
        ),
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
TABLE = "users"
SORT_COLUMNS = {"name": "name", "newest": "created_at DESC"}


def listing(cursor, sort, descending):
    cursor.execute(f"SELECT * FROM {TABLE} ORDER BY {SORT_COLUMNS[sort]}")
    cursor.execute(f"SELECT * FROM {TABLE} ORDER BY id {'DESC' if descending else 'ASC'}")
"""
        ),
        Example(
            """\
from django.conf import settings


class UserRepository:
    TABLE = "users"

    def __init__(self, conn):
        self.conn = conn

    def count(self):
        return self.conn.execute(f"SELECT count(*) FROM {self.TABLE}").fetchone()

    def set_timeout(self):
        self.conn.execute(f"SET statement_timeout = {settings.DB_TIMEOUT_MS}")
"""
        ),
        Example(
            """\
def page(cursor, limit, ids):
    cursor.execute(f"SELECT * FROM users LIMIT {int(limit)}")
    cursor.execute("SELECT * FROM users LIMIT %d" % limit)
    cursor.execute(f"SELECT * FROM users WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)
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
from sqlalchemy import text


def find(session, user_id):
    return session.execute(text("SELECT * FROM users WHERE id = :id").bindparams(id=user_id))
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


def rows(cursor, table, columns):
    query = sql.SQL("SELECT {} FROM {}")
    cursor.execute(
        query.format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(table)
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
    )

    def __init__(self, ctx: FileContext, options: object) -> None:
        super().__init__(ctx, options)
        self._constants: dict[str, cst.BaseExpression] | None = None
        self._class_cache: dict[int, frozenset[str]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        found = sql_call(node, self.ctx)
        if found is None:
            return
        for argument in found.arguments:
            problem = self._problem(found, argument)
            if problem is None:
                continue
            how, values, identifier = problem
            self.report(
                argument,
                f"SQL built with {how} from {self._describe(values)} reaches `{found.api}`",
                help=_help(found, values, identifier),
            )

    # -- what is wrong with one SQL argument ---------------------------------------------------

    def _problem(
        self, found: SqlCall, argument: cst.BaseExpression
    ) -> tuple[str, list[cst.BaseExpression | None], bool] | None:
        """(how the text was built, the unsafe values, whether the first stands for a name)."""
        source = self.ctx.sql_source(argument)
        if source is not None:
            if not found.strong and not looks_like_sql(source.text):
                return None
            unsafe = [h for h in source.holes if not self._safe_hole(h)]
            if not unsafe:
                return None
            how = _how(unsafe[0], argument, _parents(argument))
            identifier = _is_identifier_hole(self.ctx.sql_statements(source), unsafe[0])
            return how, _unique(h.expr for h in unsafe), identifier
        return self._formatted_template(found, argument)

    def _formatted_template(
        self, found: SqlCall, argument: cst.BaseExpression
    ) -> tuple[str, list[cst.BaseExpression | None], bool] | None:
        """``sql % values`` or ``sql.format(...)`` where ``sql`` is a name: text unknown here."""
        template: cst.BaseExpression
        values: list[cst.BaseExpression]
        if isinstance(argument, cst.BinaryOperation) and isinstance(argument.operator, cst.Modulo):
            template = argument.left
            right = argument.right
            values = (
                [e.value for e in right.elements]
                if isinstance(right, cst.Tuple)
                else [e.value for e in right.elements if isinstance(e, cst.DictElement)]
                if isinstance(right, cst.Dict)
                else [right]
            )
            how = "`%` formatting"
        elif (
            isinstance(argument, cst.Call)
            and isinstance(argument.func, cst.Attribute)
            and argument.func.attr.value in ("format", "format_map")
        ):
            template = argument.func.value
            values = [a.value for a in argument.args]
            how = f"`str.{argument.func.attr.value}`"
        else:
            return None
        # A call as template is some other object's method (``sql.SQL(...).format``), and a
        # number template means arithmetic.
        if not isinstance(template, cst.Name | cst.Attribute):
            return None
        if not found.strong and not self._names_sql(template):
            return None
        unsafe = [v for v in values if not self._safe_value(v, 0)]
        if not unsafe:
            return None
        return how, _unique(unsafe), False

    def _names_sql(self, template: cst.Name | cst.Attribute) -> bool:
        """``query``/``SQL_BY_ID``, or a module constant whose text reads as SQL."""
        if _SQLISH_NAME.search(self.ctx.dotted_name(template) or ""):
            return True
        if isinstance(template, cst.Name):
            constant = self._module_constants().get(template.value)
            if constant is not None:
                source = self.ctx.sql_source(constant)
                return source is not None and looks_like_sql(source.text)
        return False

    # -- what counts as safe ---------------------------------------------------------------------

    def _safe_hole(self, hole: Hole, bound: frozenset[str] = frozenset()) -> bool:
        if hole.kind is not HoleKind.DYNAMIC:
            return True
        if is_numeric_conversion(hole.conversion):
            return True  # ``%d``/``{:d}`` raise unless the value is a number
        return hole.expr is not None and self._safe_value(hole.expr, 0, bound)

    def _safe_value(
        self, expr: cst.BaseExpression, depth: int, bound: frozenset[str] = frozenset()
    ) -> bool:
        """True when ``expr`` can only be a constant, a choice of constants, or a number.

        ``bound`` holds comprehension variables that range over constants.
        """
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.Integer | cst.Float | cst.Imaginary | cst.SimpleString):
            return True
        if isinstance(expr, cst.ConcatenatedString | cst.FormattedString):
            source = self.ctx.sql_source(expr)
            return source is not None and all(self._safe_hole(h, bound) for h in source.holes)
        if isinstance(expr, cst.Name):
            return (
                expr.value in ("True", "False", "None")
                or expr.value in bound
                or self._is_constant(expr.value)
            )
        if isinstance(expr, cst.UnaryOperation):
            return isinstance(expr.operator, cst.Minus | cst.Plus) and self._numeric(
                expr.expression, depth + 1
            )
        if isinstance(expr, cst.IfExp):
            return self._safe_value(expr.body, depth + 1, bound) and self._safe_value(
                expr.orelse, depth + 1, bound
            )
        if isinstance(expr, cst.Subscript):
            # ``SORT_COLUMNS[key]``: a lookup in a constant table of literals is an allow-list.
            return isinstance(expr.value, cst.Name) and self._is_constant(expr.value.value)
        if isinstance(expr, cst.Attribute):
            return self._safe_attribute(expr)
        if isinstance(expr, cst.Call):
            return self._safe_call(expr, depth, bound)
        return self._numeric(expr, depth)

    def _safe_attribute(self, expr: cst.Attribute) -> bool:
        name = expr.attr.value
        dotted = self.ctx.dotted_name(expr) or ""
        # Django model metadata is written in code, not taken from requests.
        if name in ("db_table", "column") and "_meta" in dotted.split("."):
            return True
        if name == "__tablename__":
            return True
        # Settings are the deployment's configuration, not user input.
        if _CONSTANT_NAME.match(name) and "django.conf.settings" in self.ctx.qualified_names(
            expr.value
        ):
            return True
        # ``self.TABLE`` where the enclosing class binds ``TABLE`` to a literal.
        if isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls"):
            return name in self._class_constants()
        return False

    def _class_constants(self) -> frozenset[str]:
        classdef = self.ctx.enclosing(cst.ClassDef)
        if not isinstance(classdef, cst.ClassDef):
            return frozenset()
        key = id(classdef)
        if key not in self._class_cache:
            self._class_cache[key] = _class_constants(classdef)
        return self._class_cache[key]

    def _safe_call(self, call: cst.Call, depth: int, bound: frozenset[str]) -> bool:
        name = self.ctx.qualified_name(call.func)
        if name in _NUMERIC_BUILTINS:
            return True
        if name == "builtins.str":
            return len(call.args) == 1 and self._safe_value(call.args[0].value, depth + 1, bound)
        if name in _PSYCOPG_QUOTED:
            return True  # psycopg quotes these itself
        func_name = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
        if isinstance(call.func, cst.Name):
            func_name = call.func.value
        if (func_name is not None and _QUOTING_NAME.search(func_name)) or (
            isinstance(call.func, cst.Name) and self._quoting_alias(call.func.value)
        ):
            return True
        if name in _PSYCOPG_SQL:
            return len(call.args) == 1 and self._safe_value(call.args[0].value, depth + 1, bound)
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "join"
            and len(call.args) == 1
            and (
                isinstance(func.value, cst.SimpleString)
                or (
                    isinstance(func.value, cst.Call)
                    and self._safe_call(func.value, depth + 1, bound)
                )
            )
        ):
            # ``", ".join(["%s"] * len(ids))``: a list of placeholders, or of other constants.
            return self._safe_items(call.args[0].value, depth + 1, bound)
        return False

    def _quoting_alias(self, name: str) -> bool:
        """``qn = connection.ops.quote_name`` earlier in the same function."""
        function = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(function, cst.FunctionDef):
            return False
        for statement in function.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and isinstance(small.value, cst.Attribute)
                    and small.value.attr.value in _QUOTING_FUNCTIONS
                    and any(
                        isinstance(t.target, cst.Name) and t.target.value == name
                        for t in small.targets
                    )
                ):
                    return True
        return False

    def _safe_items(self, expr: cst.BaseExpression, depth: int, bound: frozenset[str]) -> bool:
        """True when every item of the iterable ``expr`` is safe."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.List | cst.Tuple | cst.Set):
            return all(
                not isinstance(e, cst.StarredElement) and self._safe_value(e.value, depth, bound)
                for e in expr.elements
            )
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
            return self._safe_items(expr.left, depth + 1, bound) or self._safe_items(
                expr.right, depth + 1, bound
            )
        if isinstance(expr, cst.GeneratorExp | cst.ListComp | cst.SetComp):
            inner = bound | self._constant_loop_names(expr.for_in, depth + 1, bound)
            return self._safe_value(expr.elt, depth + 1, inner)
        if isinstance(expr, cst.Name):
            return expr.value in bound or self._is_constant(expr.value)
        if isinstance(expr, cst.Call):
            func = expr.func
            if self.ctx.qualified_name(func) == "builtins.range":
                return True
            # ``FIELDS.items()`` of a constant table.
            return (
                isinstance(func, cst.Attribute)
                and func.attr.value in ("items", "keys", "values")
                and self._safe_items(func.value, depth + 1, bound)
            )
        return isinstance(expr, cst.SimpleString)  # ``"?" * n`` joins single characters

    def _constant_loop_names(
        self, comp: cst.CompFor, depth: int, bound: frozenset[str]
    ) -> frozenset[str]:
        """Names bound by ``for x in CONSTANTS`` clauses (they can only take constant values)."""
        names: set[str] = set()
        current: cst.CompFor | None = comp
        while current is not None:
            if self._safe_items(current.iter, depth, bound | names):
                names.update(n.value for n in _target_names(current.target))
            current = current.inner_for_in
        return frozenset(names)

    def _numeric(self, expr: cst.BaseExpression, depth: int) -> bool:
        """A number by construction: a literal, a numeric builtin, arithmetic on those."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.Integer | cst.Float | cst.Imaginary):
            return True
        if isinstance(expr, cst.Call):
            return self.ctx.qualified_name(expr.func) in _NUMERIC_BUILTINS
        if isinstance(expr, cst.UnaryOperation):
            return isinstance(expr.operator, cst.Minus | cst.Plus) and self._numeric(
                expr.expression, depth + 1
            )
        if isinstance(expr, cst.BinaryOperation):
            left = self._numeric(expr.left, depth + 1)
            right = self._numeric(expr.right, depth + 1)
            if isinstance(expr.operator, _ARITHMETIC):
                # ``x - 1`` is a number or an error; ``x * 2`` may repeat a string.
                return left or right
            if isinstance(expr.operator, cst.Multiply):
                return left and right
        return False

    def _is_constant(self, name: str) -> bool:
        return name in self._module_constants()

    def _module_constants(self) -> dict[str, cst.BaseExpression]:
        """``UPPER_CASE`` names bound at module level, only ever to literals."""
        if self._constants is None:
            self._constants = _collect_constants(self.ctx.module)
        return self._constants

    def _describe(self, values: list[cst.BaseExpression | None]) -> str:
        shown = [f"`{self._code(v)}`" for v in values[:2] if v is not None]
        if not shown:
            return "a runtime value"
        rest = len(values) - len(shown)
        if rest > 0:
            return f"{', '.join(shown)} and {rest} more value{'s' if rest > 1 else ''}"
        return " and ".join(shown)

    def _code(self, expr: cst.BaseExpression) -> str:
        module = self.ctx.module
        text = module.code_for_node(expr) if module is not None else ""
        text = " ".join(text.split())
        return text if len(text) <= 40 else text[:39] + "…"


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _target_names(e.value)]
    return []


def _class_constants(classdef: cst.ClassDef) -> frozenset[str]:
    """Class attributes bound only to literals in the class body and never set on ``self``."""
    bound: dict[str, list[cst.BaseExpression]] = {}
    body = classdef.body.body if isinstance(classdef.body, cst.IndentedBlock) else ()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        bound.setdefault(target.target.value, []).append(small.value)
            elif (
                isinstance(small, cst.AnnAssign)
                and small.value is not None
                and isinstance(small.target, cst.Name)
            ):
                bound.setdefault(small.target.value, []).append(small.value)
    reassigned = _self_assignments(classdef)
    return frozenset(
        name
        for name, values in bound.items()
        if name not in reassigned and all(_is_literal(v) for v in values)
    )


class _SelfAssignments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._record(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._record(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record(node.target)

    def _record(self, target: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value in ("self", "cls")
        ):
            self.names.add(target.attr.value)


def _self_assignments(classdef: cst.ClassDef) -> set[str]:
    visitor = _SelfAssignments()
    classdef.visit(visitor)
    return visitor.names


def _collect_constants(module: cst.Module | None) -> dict[str, cst.BaseExpression]:
    if module is None:
        return {}
    bound: dict[str, list[cst.BaseExpression]] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        bound.setdefault(target.target.value, []).append(small.value)
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                if isinstance(small.target, cst.Name):
                    bound.setdefault(small.target.value, []).append(small.value)
            elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                bound.setdefault(small.target.value, []).append(small.target)  # never literal
    return {
        name: values[-1]
        for name, values in bound.items()
        if _CONSTANT_NAME.match(name) and all(_is_literal(v) for v in values)
    }


def _is_literal(expr: cst.BaseExpression) -> bool:
    """A literal string or number, or a tuple/list/set/dict of them (a constant table)."""
    if isinstance(expr, cst.SimpleString | cst.Integer | cst.Float):
        return True
    if isinstance(expr, cst.ConcatenatedString):
        # Long implicit concatenations nest deeply: walk them instead of recursing.
        part: cst.BaseExpression = expr
        while isinstance(part, cst.ConcatenatedString):
            if not _is_literal(part.left):
                return False
            part = part.right
        return _is_literal(part)
    if isinstance(expr, cst.Tuple | cst.List | cst.Set):
        return all(
            not isinstance(e, cst.StarredElement) and _is_literal(e.value) for e in expr.elements
        )
    if isinstance(expr, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and _is_literal(e.key) and _is_literal(e.value)
            for e in expr.elements
        )
    return False


def _unique(values: Iterable[cst.BaseExpression | None]) -> list[cst.BaseExpression | None]:
    seen: set[int] = set()
    out: list[cst.BaseExpression | None] = []
    for value in values:
        key = id(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _parents(root: cst.CSTNode) -> dict[int, cst.CSTNode]:
    parents: dict[int, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[id(child)] = node
            stack.append(child)
    return parents


def _how(hole: Hole, argument: cst.BaseExpression, parents: dict[int, cst.CSTNode]) -> str:
    """How the hole's value got into the text, from the construct that holds it."""
    node: cst.CSTNode | None = hole.expr
    while node is not None and node is not argument:
        parent = parents.get(id(node))
        if isinstance(parent, cst.FormattedStringExpression):
            return "an f-string"
        if isinstance(parent, cst.BinaryOperation):
            if isinstance(parent.operator, cst.Modulo):
                return "`%` formatting"
            if isinstance(parent.operator, cst.Add):
                return "string concatenation"
        if (
            isinstance(parent, cst.Call)
            and isinstance(parent.func, cst.Attribute)
            and parent.func.attr.value in ("format", "format_map")
        ):
            return f"`str.{parent.func.attr.value}`"
        node = parent
    return "string formatting"


_EXAMPLES = {
    "sqlalchemy-text": 'bind values instead, e.g. text("... WHERE id = :id").bindparams(id={name})',
    "django-raw": 'pass values as parameters, e.g. Model.objects.raw("... WHERE id = %s", [{name}])',
    "django-rawsql": 'pass values as parameters, e.g. RawSQL("... WHERE id = %s", [{name}])',
    "django-extra": 'pass values through params, e.g. .extra(where=["id = %s"], params=[{name}])',
    "asyncpg": 'pass values as query arguments, e.g. conn.fetch("... WHERE id = $1", {name})',
    "databases": 'pass values as query arguments, e.g. db.fetch_all("... WHERE id = :id", {{"id": {name}}})',
    "pandas": 'pass values as parameters, e.g. pd.read_sql("... WHERE id = %(id)s", con, params={{"id": {name}}})',
    "psycopg-sql": 'compose instead, e.g. sql.SQL("... WHERE id = {{}}").format(sql.Literal({name}))',
}
_DEFAULT_EXAMPLE = (
    'pass values as query parameters, e.g. cursor.execute("... WHERE id = %s", ({name},))'
)
_IDENTIFIER_HELP = (
    "table and column names cannot be query parameters: map `{name}` to a name you expect "
    "through an allow-list, e.g. a dict of known columns"
)


def _help(found: SqlCall, values: list[cst.BaseExpression | None], identifier: bool) -> str:
    first = values[0] if values else None
    name = first.value if isinstance(first, cst.Name) else "value"
    if identifier:
        return _IDENTIFIER_HELP.format(name=name)
    return _EXAMPLES.get(found.kind, _DEFAULT_EXAMPLE).format(name=name)


def _is_identifier_hole(statements: Sequence[SqlStatement], hole: Hole) -> bool:
    """True when the hole stands for a table or a sort/group column rather than a value."""
    for stmt in statements:
        if stmt.tree is None or not stmt.start <= hole.start < stmt.end:
            continue
        name = stmt.source.text[hole.start : hole.end]
        for identifier in stmt.tree.find_all(exp.Identifier):
            if name not in identifier.name:
                continue
            if identifier.find_ancestor(exp.Table, exp.Ordered, exp.Group) is not None:
                return True
    return False
