"""The SQL layer: extraction from Python and .sql files, positions, parsing, DB-call knowledge."""

from __future__ import annotations

import ast
import re

import libcst as cst
import pytest
import sqlglot.expressions as exp
from hypothesis import given, settings
from hypothesis import strategies as st

from be_lint.context import FileContext
from be_lint.rule import FileKind
from be_lint.sql.calls import SQL_CALL_TRIGGERS, sql_argument, sql_arguments, sql_call
from be_lint.sql.extract import (
    extract_sql,
    hole_name,
    holes_named,
    is_numeric_conversion,
    source_from_sql_file,
)
from be_lint.sql.lexer import looks_like_sql
from be_lint.sql.model import HoleKind, SqlSource
from be_lint.sql.parse import node_span, parse_statements, split_statements

# -- helpers -----------------------------------------------------------------------------------


def make_ctx(src: str) -> FileContext:
    return FileContext(
        path="t.py",
        kind=FileKind.PYTHON,
        text=src,
        module=cst.parse_module(src),
        dialect="postgres",
    )


def value_of(src: str) -> tuple[FileContext, cst.BaseExpression]:
    """The expression assigned by ``x = <expr>`` on the last line of ``src``."""
    ctx = make_ctx(src)
    assert ctx.module is not None
    statement = ctx.module.body[-1]
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    return ctx, assign.value


def extract(expr_src: str, prelude: str = "") -> tuple[FileContext, SqlSource | None]:
    ctx, expr = value_of(f"{prelude}x = {expr_src}\n")
    return ctx, extract_sql(expr, ctx)


def text_of(expr_src: str) -> str | None:
    _, source = extract(expr_src)
    return None if source is None else source.text


def code(ctx: FileContext, node: cst.CSTNode | None) -> str:
    assert ctx.module is not None and node is not None
    return ctx.module.code_for_node(node)


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def calls_in(src: str) -> tuple[FileContext, list[cst.Call]]:
    ctx = make_ctx(src)
    visitor = _Calls()
    assert ctx.module is not None
    ctx.module.visit(visitor)
    return ctx, visitor.calls


_ESCAPE = re.compile(
    r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|[0-7]{1,3}|.)"
)


def assert_round_trip(ctx: FileContext, source: SqlSource) -> None:
    """Every SQL character outside holes maps to the source character it was read from."""
    hole_chars = {i for h in source.holes for i in range(h.start, h.end)}
    for i, ch in enumerate(source.text):
        if i in hole_chars:
            continue
        node, offset = source.locate(i)
        origin = code(ctx, node)
        if origin[offset] == ch:
            continue
        # An escape sequence: the character is what the sequence starting there decodes to.
        m = _ESCAPE.match(origin, offset)
        assert m is not None, (i, ch, origin, offset)
        assert ast.literal_eval(f'"{m.group()}"') == ch, (i, ch, origin, offset)


# -- extraction: texts and holes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ('"SELECT 1"', "SELECT 1"),
        ('"SELECT " "id " \'FROM t\'', "SELECT id FROM t"),
        ('("SELECT "\n    "1")', "SELECT 1"),
        ("\"SELECT 'a\\nb', '\\\\', 'it\\'s'\"", "SELECT 'a\nb', '\\', 'it's'"),
        ("r\"SELECT '\\d+'\"", "SELECT '\\d+'"),
        ('"""SELECT\n  1"""', "SELECT\n  1"),
        ("'''SELECT \"x\"'''", 'SELECT "x"'),
        ('"SELECT \\x41, \\101, \\u00e9, \\N{BULLET}"', "SELECT A, A, é, •"),
        ('"SELECT \\\n1"', "SELECT 1"),
        ("\"SELECT '\\d'\"", "SELECT '\\d'"),
        ("f\"SELECT '{{1}}'\"", "SELECT '{1}'"),
        ("f\"SELECT {'id'} FROM t LIMIT {10}\"", "SELECT id FROM t LIMIT 10"),
        ('"SELECT %s FROM t LIMIT %d" % ("id", 5)', "SELECT id FROM t LIMIT 5"),
        ('"SELECT {} FROM {t}".format("id", t="users")', "SELECT id FROM users"),
        ('"SELECT " + "1"', "SELECT 1"),
        ('"SELECT 1" % ()', "SELECT 1"),
        ('"SELECT %r" % "x"', "SELECT 'x'"),
        ('"LIMIT %05d" % 7', "LIMIT 00007"),
        ('"LIMIT %s" % 0x10', "LIMIT 16"),
    ],
)
def test_literal_texts(expr: str, text: str) -> None:
    assert text_of(expr) == text


@pytest.mark.parametrize(
    "expr",
    ["name", "obj.attr", "get_sql()", "a + b", 'b"SELECT 1"', 'b"SELECT " + x', "x + 1", "1 + 2"],
)
def test_no_literal_text_gives_none(expr: str) -> None:
    assert text_of(expr) is None


def test_fstring_holes_are_dynamic_and_bound_to_their_expressions() -> None:
    ctx, source = extract('f"SELECT * FROM {table} WHERE id = {user.id!r} LIMIT {n:d}"')
    assert source is not None
    assert source.text == (
        f"SELECT * FROM {hole_name(1)} WHERE id = {hole_name(2)} LIMIT {hole_name(3)}"
    )
    assert [h.kind for h in source.holes] == [HoleKind.DYNAMIC] * 3
    assert [code(ctx, h.expr) for h in source.holes] == ["table", "user.id", "n"]
    assert [h.conversion for h in source.holes] == [None, "!r", ":d"]
    assert source.is_dynamic
    for hole in source.holes:
        assert source.text[hole.start : hole.end].startswith("__be_hole_")


def test_percent_operands_are_matched_to_conversions() -> None:
    ctx, source = extract('"SELECT %s, %(k)s, %d FROM t WHERE a = %%s" % (a, b)')
    assert source is not None
    # ``%(k)s`` with a tuple operand is a runtime error; it stands for the whole operand.
    assert [code(ctx, h.expr) if h.expr else None for h in source.holes[:3]] == [
        "a",
        "(a, b)",
        "b",
    ]
    assert [h.conversion for h in source.holes[:3]] == ["%s", "%(k)s", "%d"]
    # ``%%s`` becomes ``%s`` after Python formats: a driver placeholder.
    assert source.holes[3].kind is HoleKind.PLACEHOLDER


def test_percent_with_mapping_and_missing_operands() -> None:
    ctx, source = extract('"SELECT %(a)s, %(b)s FROM t" % {"a": x, "b": "t2"}')
    assert source is not None
    assert source.text == f"SELECT {hole_name(1)}, t2 FROM t"
    assert code(ctx, source.holes[0].expr) == "x"
    ctx, source = extract('"SELECT %s, %s" % (x,)')
    assert source is not None
    assert source.holes[1].expr is None and source.holes[1].kind is HoleKind.DYNAMIC
    ctx, source = extract('"SELECT %s, %s" % args')
    assert source is not None
    assert [code(ctx, h.expr) for h in source.holes] == ["args", "args"]


def test_format_fields_bind_to_arguments() -> None:
    ctx, source = extract(
        '"SELECT {} FROM {1} WHERE {col} = {0!r} AND {x.y}".format(a, b, col=c, x=d)'
    )
    assert source is not None
    assert [code(ctx, h.expr) for h in source.holes] == ["a", "b", "c", "a", "d"]
    assert source.holes[3].conversion == "!r"
    ctx, source = extract('"SELECT {} {k}".format(*args, **kw)')
    assert source is not None
    assert [code(ctx, h.expr) for h in source.holes] == ["args", "kw"]
    ctx, source = extract('"SELECT {k}".format_map(values)')
    assert source is not None
    assert code(ctx, source.holes[0].expr) == "values"


def test_concatenation_holes() -> None:
    ctx, source = extract('"SELECT * FROM t WHERE a = " + a + " AND b = ?" + f" AND c = {c}"')
    assert source is not None
    assert [(h.kind, code(ctx, h.expr) if h.expr else None) for h in source.holes] == [
        (HoleKind.DYNAMIC, "a"),
        (HoleKind.PLACEHOLDER, None),
        (HoleKind.DYNAMIC, "c"),
    ]


def test_nested_constructs() -> None:
    ctx, source = extract('("SELECT %s FROM " + table) % col')
    assert source is not None
    assert [code(ctx, h.expr) for h in source.holes] == ["col", "table"]
    ctx, source = extract("f\"SELECT {f'{a}'}\"")
    assert source is not None
    assert [code(ctx, h.expr) for h in source.holes] == ["a"]


@pytest.mark.parametrize(
    ("sql", "placeholders"),
    [
        ("SELECT * FROM t WHERE id = %s AND n = %(name)s", ["%s", "%(name)s"]),
        ("SELECT * FROM t WHERE id = ? AND n = ?", ["?", "?"]),
        ("SELECT * FROM t WHERE id = :id AND n=:n", [":id", ":n"]),
        ("SELECT * FROM t WHERE id = $1 AND n = $2", ["$1", "$2"]),
        ("SELECT a::int, b::text FROM t WHERE c = :c", [":c"]),
        ("SELECT ':x', '?', '$1' FROM t", []),
        ("SELECT data ? 'k', data ?| array['a'] FROM t WHERE id = %s", ["%s"]),
        ("SELECT * FROM t WHERE a = :a AND data ? 'k'", [":a"]),
        ("SELECT arr[1:n], arr[i:2] FROM t", []),
        ("SELECT * FROM t WHERE a = :1 AND b = :2", [":1", ":2"]),
        ("SELECT $$ :x ? $$, a$1 FROM t -- :c ?", []),
        ("SELECT * FROM {table} WHERE id = %s", ["{table}", "%s"]),
        ("SELECT '%s' FROM t WHERE a = %s", ["%s", "%s"]),
    ],
)
def test_driver_placeholders(sql: str, placeholders: list[str]) -> None:
    ctx, source = extract(repr(sql))
    assert source is not None
    found = [h for h in source.holes if h.kind is HoleKind.PLACEHOLDER]
    assert len(found) == len(placeholders)
    for hole, expected in zip(found, placeholders, strict=True):
        node, offset = source.locate(hole.start)
        assert code(ctx, node)[offset : offset + len(expected)] == expected
        # The span over the whole hole maps onto the whole placeholder.
        end_node, end_offset = source.locate(hole.end - 1)
        assert end_node is node and end_offset == offset + len(expected) - 1


def test_double_percent_is_a_literal_percent_under_pyformat() -> None:
    assert text_of("\"SELECT '100%%' WHERE id = %s\"") == f"SELECT '100%' WHERE id = {hole_name(1)}"
    assert text_of("\"SELECT '%%' || %s\" % x") == f"SELECT '%' || {hole_name(1)}"
    # Without pyformat placeholders the driver passes ``%%`` through unchanged.
    assert text_of("\"SELECT '100%%' WHERE id = ?\"") == f"SELECT '100%%' WHERE id = {hole_name(1)}"


def test_casts_are_not_placeholders() -> None:
    assert text_of("\"SELECT now()::date, '{}'::jsonb\"") == "SELECT now()::date, '{}'::jsonb"


def test_hole_lookup_helpers() -> None:
    _, source = extract('f"SELECT {a} FROM t WHERE b = %s"')
    assert source is not None
    assert holes_named(source, f"x_{hole_name(2)}") == [source.holes[1]]
    assert source.hole_at(0, len(source.text)) == list(source.holes)
    assert is_numeric_conversion("%d") and is_numeric_conversion("%(x)05.1f")
    assert is_numeric_conversion(":d") and is_numeric_conversion(":>{w}.2f")
    assert not is_numeric_conversion("%s") and not is_numeric_conversion("!r:d")
    assert not is_numeric_conversion("%c") and not is_numeric_conversion(None)


def test_resolver_hook_is_consulted_for_names() -> None:
    ctx, expr = value_of('BASE = "SELECT * FROM t"\nx = BASE + " WHERE id = " + uid\n')
    assert ctx.module is not None
    first = ctx.module.body[0]
    assert isinstance(first, cst.SimpleStatementLine)
    assign = first.body[0]
    assert isinstance(assign, cst.Assign)
    bound = {"BASE": assign.value}
    source = extract_sql(expr, ctx, resolver=lambda name: bound.get(name.value))
    assert source is not None
    assert source.text == f"SELECT * FROM t WHERE id = {hole_name(1)}"


# -- positions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "\"SELECT 'a\\tb' FROM t\"",
        '(\n    "SELECT id, "\n    "name FROM t"\n)',
        'r"""SELECT\n  \'\\d\'\n"""',
        'u"SELECT \\u00e9\\N{BULLET}\\x41 FROM \\"t\\""',
        "f\"SELECT {a} FROM t WHERE b = '{{x}}' AND c = {'lit'}\"",
        'rf"SELECT \\d {a}"',
        '"SELECT %s FROM t WHERE a = %%s" % col',
        '"SELECT {} FROM t WHERE a = {{1}}".format(col)',
        '"SELECT " + col + " FROM t"',
        '"""SELECT 1;\n\\tUPDATE t SET a = \'\\\\\'"""',
    ],
)
def test_locate_round_trips(expr: str) -> None:
    ctx, source = extract(expr)
    assert source is not None
    assert_round_trip(ctx, source)


def test_locate_dynamic_hole_points_at_expression() -> None:
    ctx, source = extract('f"SELECT {user.name} FROM t"')
    assert source is not None
    hole = source.holes[0]
    node, offset = source.locate(hole.start)
    assert code(ctx, node) == "user.name" and offset == 0
    end_node, end_offset = source.locate(hole.end - 1)
    assert end_node is node and end_offset == len("user.name") - 1


_SQL_CHARS = st.text(
    alphabet=st.sampled_from(list("SELCT *,()=<>;:?$%_-/\n\t'\"\\{}ab01éß\x07")), max_size=60
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_SQL_CHARS, min_size=1, max_size=4), form=st.sampled_from(["repr", "fstr"]))
def test_locate_round_trips_for_any_literal(pieces: list[str], form: str) -> None:
    if form == "repr":
        parts = [repr(p) for p in pieces]
    else:
        # An f-string with doubled braces and a hole between pieces.
        parts = ["f" + repr(p.replace("{", "{{").replace("}", "}}")) for p in pieces]
        parts = [part[:-1] + "{v}" + part[-1] for part in parts]
    ctx, source = extract("(\n    " + "\n    ".join(parts) + "\n)")
    if source is None:
        assert not "".join(pieces)
        return
    assert_round_trip(ctx, source)


_TEMPLATE_CHARS = st.lists(
    st.sampled_from([*"%sdr(){}[]!:.*0129ab'\"\\ ;?$\n", "%%", "{{", "}}", "%(k)s", "{0}"]),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    template=_TEMPLATE_CHARS,
    form=st.sampled_from(
        ["{t} % (a, 5)", "{t} % x", '{t} % {{"k": v}}', "{t}.format(a, k=1)", "{t} + y"]
    ),
)
def test_extraction_never_raises(template: str, form: str) -> None:
    ctx, source = extract(form.format(t=repr(template)))
    if source is None:
        return
    for i in range(len(source.text)):
        node, offset = source.locate(i)
        assert node is not None and 0 <= offset < max(1, len(code(ctx, node)))
    for statement in parse_statements(source, "postgres"):
        assert statement.start <= statement.end


def test_sql_file_source() -> None:
    text = "\\set id 1\nSELECT :id, :'name', :\"col\", $1 FROM t; -- :c\nSELECT '::x' || a::text;\n"
    source = source_from_sql_file(text)
    assert source.text.startswith(" " * len("\\set id 1") + "\n")
    assert len(source.holes) == 4
    assert all(h.kind is HoleKind.PLACEHOLDER for h in source.holes)
    originals = []
    for hole in source.holes:
        node, start = source.locate(hole.start)
        _, end = source.locate(hole.end - 1)
        assert node is None
        originals.append(text[start : end + 1])
    assert originals == [":id", ":'name'", ':"col"', "$1"]
    hole_chars = {i for h in source.holes for i in range(h.start, h.end)}
    for i, ch in enumerate(source.text):
        if i not in hole_chars:
            node, offset = source.locate(i)
            assert node is None and (text[offset] == ch or ch == " ")


def test_sql_file_keeps_meta_command_lookalikes_inside_strings() -> None:
    text = "CREATE FUNCTION f() RETURNS text AS $$\n\\not a command\n$$ LANGUAGE sql;\n"
    assert source_from_sql_file(text).text == text


# -- parsing ----------------------------------------------------------------------------------


def parse_file(text: str, dialect: str = "postgres") -> list:  # type: ignore[type-arg]
    return parse_statements(source_from_sql_file(text), dialect)


def test_statements_split_on_semicolons_outside_quotes() -> None:
    text = (
        "-- header\nSELECT 'a;b';\n/* c */ SELECT $$;$$ AS x;;\n"
        'SELECT "we;ird" FROM t;\nSELECT 1 -- trailing\n'
    )
    statements = parse_file(text)
    assert [s.text for s in statements] == [
        "SELECT 'a;b'",
        "SELECT $$;$$ AS x",
        'SELECT "we;ird" FROM t',
        "SELECT 1",
    ]
    assert all(s.tree is not None and s.error is None for s in statements)


def test_split_falls_back_to_the_lexer_on_tokenizer_errors() -> None:
    text = "SELECT 1; SELECT 'unterminated"
    assert split_statements(text, "postgres") == [(0, 8), (10, len(text))]
    statements = parse_file(text)
    assert statements[0].tree is not None
    assert statements[1].tree is None and statements[1].error


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t WHERE a <<= b",
        "SELECT * FROM t WHERE",
        "SELECT 'abc",
        "UPDATE t SET a = 1 WHERE CURRENT OF c",
        "SELECT ((((((",
        "SELECT FROM FROM",
    ],
)
def test_errors_become_error_statements(sql: str) -> None:
    statements = parse_file(sql)
    assert statements and statements[0].tree is None
    error = statements[0].error
    assert error and "\n" not in error


def test_error_offset_points_at_the_offending_token() -> None:
    text = "SELECT 1;\nSELECT *\nFROM t\nWHERE;"
    bad = parse_file(text)[1]
    assert bad.error_offset is not None
    assert text[bad.error_offset :].startswith("WHERE")


def test_unknown_dialect_never_raises() -> None:
    statements = parse_file("SELECT 1; SELECT 2", dialect="no-such-dialect")
    assert len(statements) == 2
    assert all(s.tree is None and s.error for s in statements)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("SELECT FROMWHERE()*;,'\"$`-/\\:=<>?%1a\n")), max_size=80)
)
def test_parse_never_raises(text: str) -> None:
    for statement in parse_file(text):
        assert (statement.tree is None) == (statement.error is not None)
        assert 0 <= statement.start <= statement.end <= len(statement.source.text)


def test_command_fallbacks_parse_without_noise(capsys: pytest.CaptureFixture[str]) -> None:
    statements = parse_file("VACUUM t")
    assert isinstance(statements[0].tree, exp.Command)
    assert capsys.readouterr().err == ""


def test_parse_cache_returns_shared_trees() -> None:
    first = parse_file("SELECT 42 FROM cached_table")[0]
    second = parse_file("SELECT 42 FROM cached_table")[0]
    assert first.tree is second.tree


# -- node_span ----------------------------------------------------------------------------------


def test_node_span_of_names_and_clauses() -> None:
    text = "/* lead */  UPDATE users SET a = 1\nWHERE id = 2 AND b IN (SELECT x FROM y)"
    stmt = parse_file(text)[0]
    assert stmt.tree is not None
    assert node_span(stmt, None) == (text.index("UPDATE"), len(text))
    assert node_span(stmt, stmt.tree) == (text.index("UPDATE"), len(text))
    table = stmt.tree.find(exp.Table)
    start, end = node_span(stmt, table)
    assert text[start:end] == "users"
    where = stmt.tree.find(exp.Where)
    start, end = node_span(stmt, where)
    assert text[start:end] == "WHERE id = 2 AND b IN (SELECT x FROM y"
    select = stmt.tree.find(exp.Select)
    start, end = node_span(stmt, select)
    assert text[start:end] == "SELECT x FROM y"


def test_node_span_skips_leading_ctes() -> None:
    text = "WITH s AS (SELECT id FROM t)\nDELETE FROM t"
    stmt = parse_file(text)[0]
    start, end = node_span(stmt, stmt.tree)
    assert text[start:end] == "DELETE FROM t"


def test_node_span_in_python_maps_back_through_holes() -> None:
    ctx, source = extract('f"SELECT * FROM {table} WHERE id = 1"')
    assert source is not None
    stmt = parse_statements(source, "postgres")[0]
    assert stmt.tree is not None
    table = stmt.tree.find(exp.Table)
    start, _ = node_span(stmt, table)
    node, offset = source.locate(start)
    assert code(ctx, node) == "table" and offset == 0
    literal = stmt.tree.find(exp.Literal)
    start, end = node_span(stmt, literal)
    node, offset = source.locate(start)
    assert code(ctx, node)[offset] == "1"
    assert end == start + 1


def test_node_span_of_a_foreign_object_is_the_statement() -> None:
    stmt = parse_file("SELECT 1")[0]
    assert node_span(stmt, object()) == (0, 8)
    assert node_span(stmt, exp.column("not_in_statement")) == (0, 8)


# -- DB calls --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "argument"),
    [
        ("cursor.execute('SELECT 1', params)", "'SELECT 1'"),
        ("self.cursor.executemany(sql=q, seq_of_parameters=rows)", "q"),
        ("conn.executescript(script)", "script"),
        ("cur.mogrify('SELECT %s', (1,))", "'SELECT %s'"),
        ("connection.cursor().execute(query=q)", "q"),
        ("await conn.fetch('SELECT 1')", "'SELECT 1'"),
        ("await self.pool.fetchrow(q, 1)", "q"),
        ("await db.fetchval(q)", "q"),
        ("engine.connect().exec_driver_sql(q)", "q"),
        ("Person.objects.raw(q, [1])", "q"),
        ("Person.objects.using('replica').raw(q)", "q"),
        ("self.model._default_manager.raw(raw_query=q)", "q"),
        ("pd.read_sql(q, engine)", "q"),
        ("pandas.read_sql_query(sql=q, con=engine)", "q"),
        ("await database.fetch_all(query=q)", "q"),
        ("cursor.copy_expert(q, f)", "q"),
    ],
)
def test_sql_arguments_of_db_calls(src: str, argument: str) -> None:
    prelude = "import pandas\nimport pandas as pd\n"
    ctx, calls = calls_in(f"{prelude}async def f():\n    {src}\n")
    found = [a for call in calls for a in sql_arguments(call, ctx)]
    assert [code(ctx, a) for a in found] == [argument]


@pytest.mark.parametrize(
    ("src", "argument"),
    [
        ("import sqlalchemy\nsqlalchemy.text(q)", "q"),
        ("import sqlalchemy as sa\nsa.text(q)", "q"),
        ("from sqlalchemy import text as t\nt(q)", "q"),
        ("from sqlalchemy.sql import text\ntext(text=q)", "q"),
        ("from sqlalchemy.sql.expression import text\ntext(q)", "q"),
        ("from django.db.models import RawSQL\nRawSQL(q, [])", "q"),
        ("from django.db.models.expressions import RawSQL\nRawSQL(q, [])", "q"),
        ("from django.db import models\nmodels.expressions.RawSQL(q, [])", "q"),
        ("from psycopg2 import sql\nsql.SQL(q)", "q"),
        ("from pandas import read_sql\nread_sql(q, con)", "q"),
    ],
)
def test_sql_arguments_by_qualified_name(src: str, argument: str) -> None:
    ctx, calls = calls_in(src + "\n")
    found = [a for call in calls for a in sql_arguments(call, ctx)]
    assert [code(ctx, a) for a in found] == [argument]


def test_run_sql_in_django_migrations() -> None:
    ctx, calls = calls_in(
        "from django.db import migrations\n"
        "ops = [\n"
        "    migrations.RunSQL('UPDATE t SET a = 1', reverse_sql=migrations.RunSQL.noop),\n"
        "    migrations.RunSQL(['SELECT 1', ('SELECT %s', [1])], 'SELECT 2'),\n"
        "]\n"
    )
    found = [code(ctx, a) for call in calls for a in sql_arguments(call, ctx)]
    assert found == ["'UPDATE t SET a = 1'", "'SELECT 1'", "'SELECT %s'", "'SELECT 2'"]


def test_extra_returns_every_fragment() -> None:
    ctx, calls = calls_in(
        "qs.extra(where=['a = 1', f'b = {b}'], select={'x': 'y + 1'}, tables=['t'], params=[1])\n"
    )
    found = sql_call(calls[0], ctx)
    assert found is not None and found.kind == "django-extra" and found.params is not None
    assert [code(ctx, a) for a in sql_arguments(calls[0], ctx)] == [
        "'a = 1'",
        "f'b = {b}'",
        "'y + 1'",
        "'t'",
    ]
    assert sql_argument(calls[0], ctx) is not None


@pytest.mark.parametrize(
    "src",
    [
        "text(q)",  # not sqlalchemy's
        "from myapp import text\ntext(q)",
        "response.raw(q)",
        "self.raw(q)",
        "client.fetch(url)",
        "await http_session.fetch(url)",
        "qs.extra(depth=2)",
        "executor.execute(task)",
        "executor.execute(f'resize {path}')",
        "graphql.execute(f'query {{ user(id: {uid}) }}')",
        "execute('SELECT 1')",
        "cursor.fetchall()",
        "cursor.execute(*args)",
        "log.info('SELECT {}'.format(x))",
    ],
)
def test_near_misses_are_not_sql_calls(src: str) -> None:
    ctx, calls = calls_in(src + "\n")
    assert all(sql_arguments(call, ctx) == [] for call in calls)


def test_weak_receivers_count_when_the_text_reads_as_sql() -> None:
    ctx, calls = calls_in("self.execute(f'SELECT * FROM t WHERE id = {x}')\n")
    found = sql_call(calls[0], ctx)
    assert found is not None and not found.strong
    assert len(sql_arguments(calls[0], ctx)) == 1


def test_asyncpg_import_widens_fetch() -> None:
    ctx, calls = calls_in("import asyncpg\nasync def f(c):\n    await c.fetch('SELECT 1')\n")
    assert len(sql_arguments(calls[0], ctx)) == 1
    ctx, calls = calls_in("async def f(c):\n    await c.fetch('SELECT 1')\n")
    assert sql_arguments(calls[0], ctx) == []


@pytest.mark.parametrize(
    "src",
    [
        "cursor.execute(q)",
        "conn.fetchrow(q)",
        "import sqlalchemy as sa\nsa.text(q)",
        "from sqlalchemy import text as t\nt(q)",
        "from django.db.models import RawSQL\nRawSQL(q, [])",
        "from django.db import migrations\nmigrations.RunSQL(q)",
        "from psycopg2 import sql\nsql.SQL(q)",
        "qs.extra(where=[q])",
        "User.objects.raw(q)",
        "import pandas as pd\npd.read_sql(q, con)",
    ],
)
def test_triggers_cover_every_recognised_call(src: str) -> None:
    """Each source holds a call ``sql_call`` recognises, so the prefilter must let it through."""
    module = cst.parse_module(src)
    ctx = FileContext(
        path="t.py", kind=FileKind.PYTHON, text=src, module=module, dialect="postgres"
    )
    call = module.body[-1].body[0].value  # type: ignore[attr-defined]
    assert sql_arguments(call, ctx), src
    assert any(trigger in src for trigger in SQL_CALL_TRIGGERS), src


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT id FROM t", True),
        ("  (SELECT 1)", True),
        ("-- c\nINSERT INTO t VALUES (1)", True),
        ("update t set a = 1", True),
        ("DELETE FROM t", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("CREATE UNIQUE INDEX i ON t (a)", True),
        ("SET search_path TO app", True),
        ("select an option", False),
        ("Update the record", False),
        ("resize --width 10", False),
        ("https://example.com/users/1", False),
        ("query { user { id } }", False),
    ],
)
def test_looks_like_sql(text: str, expected: bool) -> None:
    assert looks_like_sql(text) is expected


@pytest.mark.parametrize(
    "src",
    [
        "from alembic import op\nop.execute(q)",
        "from alembic import op\nop.get_bind().execute(q)",
        "bind.execute(q)",
        "schema_editor.execute(q)",
        "self.schema_editor.execute(q)",
    ],
)
def test_migration_executors_are_strong_sinks(src: str) -> None:
    """Migrations run any SQL they are given, so even non-SELECT text is SQL there."""
    module = cst.parse_module(src)
    ctx = FileContext(
        path="t.py", kind=FileKind.PYTHON, text=src, module=module, dialect="postgres"
    )
    call = module.body[-1].body[0].value  # type: ignore[attr-defined]
    found = sql_call(call, ctx)
    assert found is not None and found.strong


def test_other_executors_stay_weak() -> None:
    src = "executor.execute(task)"
    module = cst.parse_module(src)
    ctx = FileContext(
        path="t.py", kind=FileKind.PYTHON, text=src, module=module, dialect="postgres"
    )
    call = module.body[-1].body[0].value  # type: ignore[attr-defined]
    found = sql_call(call, ctx)
    assert found is not None and not found.strong
