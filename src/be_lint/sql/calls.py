"""Which calls take SQL text, and which of their arguments it is.

Covered: DB-API cursors and connections (``execute``, ``executemany``, ``executescript``,
``mogrify``, psycopg2 ``copy_expert``), asyncpg and ``databases`` (``fetch``, ``fetchrow``,
``fetchval``, ``fetch_all``, asyncpg's ``cursor(query)`` ...), SQLAlchemy (``text()``,
``literal_column()``, ``exec_driver_sql``), psycopg's ``sql.SQL()``, Django (``Manager.raw``,
``QuerySet.extra``, ``RawSQL``, ``migrations.RunSQL``), peewee (``execute_sql``, ``Model.raw``),
pandas ``read_sql`` and polars ``read_database``. Alembic's ``op.execute`` is a plain ``execute``.

Method names like ``execute`` and ``fetch`` are shared with task executors and HTTP clients, and
a receiver's type is unknown without running the code. So each match is *strong* (a qualified
name, a distinctive method, or a receiver named like a database handle: ``cursor``, ``conn``,
``db.session``) or *weak* (``executor.execute``); the SQL of a weak match only counts when it
reads as SQL (``lexer.looks_like_sql``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import libcst as cst

from be_lint.names import dotted_name
from be_lint.rule import FileKind
from be_lint.sql.lexer import looks_like_sql

if TYPE_CHECKING:
    from be_lint.context import FileContext

#: A file that contains none of these cannot hold a call ``sql_call`` recognises: method names
#: for the methods matched on any receiver, and for functions matched by qualified name the
#: module or class name their import must spell out (``text`` only counts when it resolves to
#: SQLAlchemy, so the file names ``sqlalchemy``; ``psycopg.sql.SQL`` needs ``psycopg``).
SQL_CALL_TRIGGERS: tuple[str, ...] = (
    "execute",
    "exec_driver_sql",
    "mogrify",
    "copy_expert",
    "sqlalchemy",
    "psycopg",
    "RawSQL",
    "RunSQL",
    "raw",
    "extra",
    "read_sql",
    "read_database",
    "fetch",
    "prepare",
    "cursor",
    "literal_column",
)


_last_reach: tuple[str | None, bool] = (None, False)


def may_reach_sql(text: str, kind: FileKind) -> bool:
    """Cheap prefilter shared by the SQL rules: a ``.sql`` file, or Python that may hold a call
    ``sql_call`` recognises. Remembered for the last text, since every SQL rule asks in turn."""
    global _last_reach
    if kind is FileKind.SQL:
        return True
    if _last_reach[0] is not text:
        _last_reach = (text, any(trigger in text for trigger in SQL_CALL_TRIGGERS))
    return _last_reach[1]


_DBAPI_KEYWORDS = ("sql", "query", "operation", "statement", "stmt", "sql_query")


@dataclass(frozen=True, slots=True)
class _Method:
    kind: str
    keywords: tuple[str, ...]
    #: "any": strong on any receiver; "dbish": strong on a database-looking receiver, weak on
    #: others; "connection": only on a receiver named like a connection or pool (strong), or
    #: in a file importing asyncpg for asyncpg's methods (weak); "manager": only on a Django
    #: manager.
    receiver: str
    asyncpg: bool = False


_METHODS: dict[str, _Method] = {
    "execute": _Method("dbapi", _DBAPI_KEYWORDS, "dbish"),
    "executemany": _Method("dbapi", _DBAPI_KEYWORDS, "dbish"),
    "executescript": _Method("dbapi", ("sql_script", *_DBAPI_KEYWORDS), "any"),
    "mogrify": _Method("dbapi", _DBAPI_KEYWORDS, "any"),
    "exec_driver_sql": _Method("sqlalchemy", ("statement",), "any"),
    "copy_expert": _Method("dbapi", ("sql",), "any"),
    "execute_fetchall": _Method("dbapi", _DBAPI_KEYWORDS, "dbish"),  # aiosqlite
    "fetch": _Method("asyncpg", ("query",), "connection", asyncpg=True),
    "fetchrow": _Method("asyncpg", ("query",), "connection", asyncpg=True),
    "fetchval": _Method("asyncpg", ("query",), "connection", asyncpg=True),
    "fetchmany": _Method("asyncpg", ("query",), "connection", asyncpg=True),
    "prepare": _Method("asyncpg", ("query",), "connection", asyncpg=True),
    "fetch_all": _Method("databases", ("query",), "connection"),  # databases
    "fetch_one": _Method("databases", ("query",), "connection"),
    "fetch_val": _Method("databases", ("query",), "connection"),
    "raw": _Method("django-raw", ("raw_query",), "manager"),
    "read_sql": _Method("pandas", ("sql",), "any"),
    "read_sql_query": _Method("pandas", ("sql",), "any"),
    "read_database": _Method("polars", ("query",), "any"),  # polars
    "execute_sql": _Method("peewee", ("sql",), "any"),  # peewee
    # asyncpg's ``conn.cursor(query)``; psycopg's ``conn.cursor("name")`` takes a cursor name,
    # so the argument only counts when it reads as SQL.
    "cursor": _Method("asyncpg", ("query",), "asyncpg-cursor", asyncpg=True),
}

#: Qualified names of functions and classes whose first argument is SQL text.
_FUNCTIONS: dict[str, _Method] = {
    "sqlalchemy.text": _Method("sqlalchemy-text", ("text",), "any"),
    "sqlalchemy.sql.text": _Method("sqlalchemy-text", ("text",), "any"),
    "sqlalchemy.sql.expression.text": _Method("sqlalchemy-text", ("text",), "any"),
    "sqlalchemy.sql.expression.TextClause": _Method("sqlalchemy-text", ("text",), "any"),
    "sqlalchemy.sql.elements.TextClause": _Method("sqlalchemy-text", ("text",), "any"),
    "django.db.models.RawSQL": _Method("django-rawsql", ("sql",), "any"),
    "django.db.models.expressions.RawSQL": _Method("django-rawsql", ("sql",), "any"),
    "psycopg2.sql.SQL": _Method("psycopg-sql", ("string",), "any"),
    "psycopg.sql.SQL": _Method("psycopg-sql", ("string", "obj"), "any"),
    "pandas.read_sql": _Method("pandas", ("sql",), "any"),
    "pandas.read_sql_query": _Method("pandas", ("sql",), "any"),
    "pandas.io.sql.read_sql": _Method("pandas", ("sql",), "any"),
    "pandas.io.sql.read_sql_query": _Method("pandas", ("sql",), "any"),
    "sqlalchemy.literal_column": _Method("sqlalchemy-fragment", ("text",), "any"),
    "sqlalchemy.sql.literal_column": _Method("sqlalchemy-fragment", ("text",), "any"),
    "sqlalchemy.sql.expression.literal_column": _Method("sqlalchemy-fragment", ("text",), "any"),
}

_RUN_SQL = frozenset(
    {
        "django.db.migrations.RunSQL",
        "django.db.migrations.operations.RunSQL",
        "django.db.migrations.operations.special.RunSQL",
    }
)

#: ``QuerySet.extra`` keywords whose values hold SQL fragments.
_EXTRA_KEYWORDS = ("where", "select", "tables")
_MANAGER_NAMES = frozenset({"objects", "_default_manager", "_base_manager"})
#: Words (of ``snake_case``/``camelCase`` names) that name a database handle.
_DB_WORDS = frozenset(
    {
        "cur",
        "curs",
        "cursor",
        "cursors",
        "con",
        "conn",
        "conns",
        "connection",
        "connections",
        "cnx",
        "cnxn",
        "db",
        "dbs",
        "database",
        "session",
        "sess",
        "sql",
        "sqlite",
        "sqlite3",
        "pg",
        "postgres",
        "postgresql",
        "psql",
        "mysql",
        "pool",
        "engine",
        "tx",
        "txn",
        "transaction",
        "asyncpg",
        "bind",
        "aiosqlite",
        "psycopg",
        "psycopg2",
    }
)
_CONNECTION_WORDS = frozenset(
    {"con", "conn", "conns", "connection", "connections", "cnx", "cnxn", "db", "dbs"}
    | {"database", "pool", "asyncpg"}
)
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@dataclass(frozen=True, slots=True)
class SqlCall:
    """A call recognised as taking SQL text."""

    call: cst.Call
    #: How the callee reads in messages: ``cursor.execute``, ``sa.text``, ``.raw``.
    api: str
    #: The expressions holding SQL text (usually one; several for ``.extra(where=[...])``).
    arguments: tuple[cst.BaseExpression, ...]
    #: True when the callee is certainly a database API; a weak match's SQL only counts when
    #: it reads as SQL.
    strong: bool
    #: Which API family: ``dbapi``, ``asyncpg``, ``databases``, ``sqlalchemy``,
    #: ``sqlalchemy-text``, ``psycopg-sql``, ``django-raw``, ``django-rawsql``,
    #: ``django-extra``, ``django-migration``, ``pandas``, ``polars``.
    kind: str = "dbapi"
    #: The parameters argument, when one was passed (``execute(sql, params)``).
    params: cst.BaseExpression | None = None


def sql_call(call: cst.Call, ctx: FileContext) -> SqlCall | None:
    """Recognise ``call`` as a database call taking SQL text, or None."""
    # Asked of every call by the SQL layer and by the injection rules: once per node. The
    # call is kept with its answer, so its id cannot stand for another node meanwhile.
    key = ("sql-call", id(call))
    cached = ctx.memo.get(key)
    if isinstance(cached, tuple) and cached[0] is call:
        return cast("SqlCall | None", cached[1])
    found = _sql_call(call, ctx)
    ctx.memo[key] = (call, found)
    return found


def _sql_call(call: cst.Call, ctx: FileContext) -> SqlCall | None:
    func = call.func
    names = ctx.qualified_names(func)
    for name in names:
        if name in _RUN_SQL:
            return _run_sql(call, _callee(func))
        function = _FUNCTIONS.get(name)
        if function is not None:
            return _with_argument(call, _callee(func), function, strong=True)
    if not names and isinstance(func, cst.Name) and func.value == "RawSQL":
        # ``from django.db.models import *`` binds RawSQL without an import the map can see.
        return _with_argument(call, "RawSQL", _FUNCTIONS["django.db.models.RawSQL"], strong=True)
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    if method == "extra":
        return _extra(call, func)
    spec = _METHODS.get(method)
    if spec is None:
        return None
    receiver = func.value
    if spec.receiver == "manager":
        if _is_manager(receiver):
            strong = True
        elif _is_peewee_model(receiver, ctx):
            return _with_argument(call, _callee(func), _PEEWEE_RAW, strong=True)
        else:
            return None
    elif spec.receiver == "asyncpg-cursor":
        # Only in files using asyncpg, and only SQL-looking text (weak).
        if not (ctx.imports is not None and ctx.imports.imports_module("asyncpg")):
            return None
        if not _looks_like_db(receiver, _CONNECTION_WORDS):
            return None
        strong = False
    elif spec.receiver == "connection":
        # ``fetch`` is everywhere (HTTP clients, caches): ask for a connection-like receiver.
        strong = _looks_like_db(receiver, _CONNECTION_WORDS)
        if not strong and not (
            spec.asyncpg and ctx.imports is not None and ctx.imports.imports_module("asyncpg")
        ):
            return None
    elif spec.receiver == "dbish":
        # Alembic's ``op.execute`` and Django's ``schema_editor.execute`` in migrations run
        # whatever SQL they get, typos and GRANTs included.
        strong = (
            _looks_like_db(receiver)
            or "alembic.op" in ctx.qualified_names(receiver)
            or _dotted_tail(receiver) == "schema_editor"
        )
    else:
        strong = True
    return _with_argument(call, _callee(func), spec, strong=strong)


def sql_arguments(call: cst.Call, ctx: FileContext) -> list[cst.BaseExpression]:
    """Every expression of ``call`` holding SQL text (empty when it is no known DB call).

    For a weak match (``executor.execute(...)``) only arguments whose text reads as SQL count.
    """
    found = sql_call(call, ctx)
    if found is None:
        return []
    if found.strong:
        return list(found.arguments)
    kept: list[cst.BaseExpression] = []
    for argument in found.arguments:
        source = ctx.sql_source(argument)
        if source is not None and looks_like_sql(source.text):
            kept.append(argument)
    return kept


def sql_argument(call: cst.Call, ctx: FileContext) -> cst.BaseExpression | None:
    """The first SQL-text expression of ``call``, or None."""
    arguments = sql_arguments(call, ctx)
    return arguments[0] if arguments else None


def _with_argument(call: cst.Call, api: str, spec: _Method, *, strong: bool) -> SqlCall | None:
    argument: cst.BaseExpression | None = None
    params: cst.BaseExpression | None = None
    positional = [a for a in call.args if a.keyword is None]
    if positional and not positional[0].star:
        argument = positional[0].value
        if len(positional) > 1 and not positional[1].star:
            params = positional[1].value
    for arg in call.args:
        if arg.keyword is None:
            continue
        if argument is None and arg.keyword.value in spec.keywords:
            argument = arg.value
        elif arg.keyword.value in ("params", "parameters", "args", "vars", "values"):
            params = arg.value
    if argument is None:
        return None
    return SqlCall(call, api, (argument,), strong, spec.kind, params)


def _extra(call: cst.Call, func: cst.Attribute) -> SqlCall | None:
    """``QuerySet.extra(where=[...], select={...}, tables=[...])``: each element is SQL."""
    fragments: list[cst.BaseExpression] = []
    params: cst.BaseExpression | None = None
    for arg in call.args:
        if arg.keyword is None:
            continue
        key = arg.keyword.value
        if key in ("params", "select_params"):
            params = params or arg.value
        if key not in _EXTRA_KEYWORDS:
            continue
        value = arg.value
        if isinstance(value, cst.List | cst.Tuple):
            fragments.extend(
                e.value for e in value.elements if not isinstance(e, cst.StarredElement)
            )
        elif isinstance(value, cst.Dict):
            fragments.extend(e.value for e in value.elements if isinstance(e, cst.DictElement))
        else:
            fragments.append(value)
    if not fragments:
        return None
    return SqlCall(call, _callee(func), tuple(fragments), True, "django-extra", params)


def _run_sql(call: cst.Call, api: str) -> SqlCall | None:
    """Django's ``migrations.RunSQL(sql, reverse_sql)``: each may be a string or a list of
    strings and ``(sql, params)`` pairs."""
    values: list[cst.BaseExpression] = []
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    values.extend(positional[:2])
    values.extend(
        a.value
        for a in call.args
        if a.keyword is not None and a.keyword.value in ("sql", "reverse_sql")
    )
    fragments: list[cst.BaseExpression] = []
    for value in values:
        if isinstance(value, cst.List | cst.Tuple):
            for element in value.elements:
                item = element.value
                if isinstance(item, cst.Tuple | cst.List) and item.elements:
                    item = item.elements[0].value  # (sql, params)
                fragments.append(item)
        elif not (isinstance(value, cst.Attribute) and value.attr.value == "noop"):
            fragments.append(value)
    if not fragments:
        return None
    return SqlCall(call, api, tuple(fragments), True, "django-migration")


def _callee(func: cst.BaseExpression) -> str:
    name = dotted_name(func)
    if name is not None:
        return name
    if isinstance(func, cst.Attribute):
        return f".{func.attr.value}"
    return "the call"


def _receiver_names(receiver: cst.BaseExpression) -> list[str]:
    """Names along a receiver chain: ``self.db.cursor()`` gives ``cursor``, ``db``, ``self``."""
    names: list[str] = []
    current: cst.BaseExpression | None = receiver
    while current is not None:
        if isinstance(current, cst.Name):
            names.append(current.value)
            current = None
        elif isinstance(current, cst.Attribute):
            names.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Subscript):
            current = current.value
        elif isinstance(current, cst.Await):
            current = current.expression
        else:
            current = None
    return names


def _dotted_tail(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else None


def _looks_like_db(receiver: cst.BaseExpression, vocabulary: frozenset[str] = _DB_WORDS) -> bool:
    for name in _receiver_names(receiver):
        words = [w.lower() for w in _WORDS.findall(name)]
        if any(w in vocabulary or w.endswith("db") or w.startswith("conn") for w in words):
            return True
    return False


_PEEWEE_RAW = _Method("peewee", ("sql",), "any")


def _is_peewee_model(receiver: cst.BaseExpression, ctx: FileContext) -> bool:
    """``User.raw(...)`` in a file that imports peewee: a model class (CamelCase name)."""
    return (
        isinstance(receiver, cst.Name)
        and receiver.value[:1].isupper()
        and ctx.imports is not None
        and ctx.imports.imports_module("peewee")
    )


#: DB-API drivers by their placeholder style (PEP 249 ``paramstyle``): ``format`` is ``%s``,
#: ``qmark`` is ``?``, ``numeric`` is ``:1``; asyncpg numbers ``$1``.
_DRIVER_STYLES: dict[str, str] = {
    "sqlite3": "qmark",
    "aiosqlite": "qmark",
    "pyodbc": "qmark",
    "psycopg2": "format",
    "psycopg": "format",
    "pymysql": "format",
    "MySQLdb": "format",
    "mysql": "format",  # mysql.connector
    "aiomysql": "format",
    "aiopg": "format",
    "django.db": "format",
    "oracledb": "numeric",
    "cx_Oracle": "numeric",
    "asyncpg": "dollar",
}


def paramstyle(found: SqlCall, ctx: FileContext) -> str | None:
    """How values are bound for ``found``: ``format``, ``qmark``, ``numeric``, ``dollar``,
    ``named`` (SQLAlchemy ``text()``, ``databases``) or ``django`` (``%s`` with a list).

    None when the driver cannot be told: a DB-API call in a file importing no driver, or
    drivers of different styles.
    """
    if found.kind == "sqlalchemy-text":
        return "named"
    if found.kind in ("django-raw", "django-rawsql"):
        return "django"
    if found.kind == "databases":
        return "named"
    if found.kind not in ("dbapi", "asyncpg") or not found.strong or ctx.imports is None:
        return None
    styles = {
        style for module, style in _DRIVER_STYLES.items() if ctx.imports.imports_module(module)
    }
    if found.kind == "asyncpg":
        return "dollar" if styles == {"dollar"} else None
    return next(iter(styles)) if len(styles) == 1 else None


def _is_manager(receiver: cst.BaseExpression) -> bool:
    """``Model.objects``, ``self.model._default_manager``, ``Model.objects.using("x")``."""
    current = receiver
    if (
        isinstance(current, cst.Call)
        and isinstance(current.func, cst.Attribute)
        and current.func.attr.value in ("using", "all", "db_manager")
    ):
        current = current.func.value
    if isinstance(current, cst.Attribute):
        return current.attr.value in _MANAGER_NAMES
    return isinstance(current, cst.Name) and current.value in _MANAGER_NAMES
