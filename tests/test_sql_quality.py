"""BE2xx statement-quality rules beyond their examples: positions, fragments, dialects, and
regressions found on real projects."""

from __future__ import annotations

import textwrap

import pytest

from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind, Finding

RULES = builtin_rules()


def _check(
    text: str,
    codes: tuple[str, ...],
    path: str = "app/db.py",
    dialect: str = "postgres",
    options: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = (),
) -> list[Finding]:
    text = textwrap.dedent(text)
    checker = Checker(Settings(selected=codes, dialect=dialect, options=options), RULES)
    kind = FileKind.SQL if path.endswith(".sql") else FileKind.PYTHON
    return checker.check_text(text, path, kind)


# -- BE202 sql-syntax-error ------------------------------------------------------------------------


def test_syntax_error_is_reported_inside_the_python_string() -> None:
    findings = _check(
        """\
        def load(cursor):
            cursor.execute(
                "SELECT id, email "
                "FORM users WHERE id = %s",
                (1,),
            )
        """,
        ("BE202",),
    )
    assert [(f.line, f.column, f.end_column, f.message) for f in findings] == [
        (4, 10, 14, "`FORM` looks like a misspelt `FROM`")
    ]


@pytest.mark.parametrize(
    "call",
    [
        # psycopg composes statements from pieces
        'sql.SQL("SELECT * FROM ")',
        # SQLAlchemy fragments
        'sa.literal_column("))")',
        'sa.text("count(*) > 1 AND")',
        # Django fragments
        'Order.objects.extra(where=["total > 1 AND"])',
        # values that look like keywords, strings and quoted names that look like punctuation
        'cursor.execute("PRAGMA foreign_keys = ON")',
        'cursor.execute("SET standard_conforming_strings TO on")',
        "cursor.execute(\"SELECT id FROM t WHERE note IN (')', '(')\")",
        "cursor.execute('INSERT INTO quota (id, \"limit\") VALUES (%s, %s)', (1, 2))",
        'cursor.execute("INSERT INTO t DEFAULT VALUES")',
        # operators and syntax the parser does not know, far from any misspelling
        'cursor.execute("SELECT form FROM ranges WHERE span <<= %s", (1,))',
        'cursor.execute("SELECT orders FROM t WHERE a <<= b")',
    ],
)
def test_syntax_error_stays_quiet(call: str) -> None:
    text = f"""\
import sqlalchemy as sa
from psycopg import sql


def f(cursor, Order):
    {call}
"""
    assert _check(text, ("BE202",)) == []


def test_syntax_error_skips_templates_in_sql_files() -> None:
    sql = "SELECT id FROM {{ ref('orders') }} WHRE total > 1;\n"
    assert _check(sql, ("BE202",), path="models/orders.sql") == []


def test_all_parse_errors_option() -> None:
    text = 'def f(cursor):\n    cursor.execute("SELECT a FROM t WHERE a <<= b")\n'
    assert _check(text, ("BE202",)) == []
    findings = _check(text, ("BE202",), options=(("BE202", (("all-parse-errors", True),)),))
    assert [f.line for f in findings] == [2]
    assert findings[0].message.startswith("SQL does not parse")


def test_trailing_comma_only_in_dialects_that_reject_it() -> None:
    text = 'def f(cursor):\n    cursor.execute("SELECT a, b, FROM t")\n'
    assert len(_check(text, ("BE202",))) == 1
    assert _check(text, ("BE202",), dialect="duckdb") == []


def test_misspelt_statement_keyword() -> None:
    findings = _check('def f(cursor):\n    cursor.execute("UDPATE t SET a = 1")\n', ("BE202",))
    assert [f.message for f in findings] == [
        "`UDPATE` is not a SQL statement: did you mean `UPDATE`?"
    ]


def test_plural_table_names_are_not_typos() -> None:
    text = 'def f(cursor):\n    cursor.execute("SELECT id FROM t, orders WHERE a <<= b")\n'
    assert _check(text, ("BE202",)) == []


# -- BE203 select-star ---------------------------------------------------------------------------


def test_select_star_quiet_in_migrations_and_orm_mappings() -> None:
    migration = """\
    from alembic import op

    revision = "x"


    def upgrade():
        op.execute("INSERT INTO b SELECT * FROM a")
        op.execute("CREATE TABLE c AS SELECT * FROM a")
    """
    assert _check(migration, ("BE203",), path="versions/x.py") == []
    sql_migration = "ALTER TABLE a ADD COLUMN x int;\nCREATE TABLE b AS SELECT * FROM a;\n"
    assert _check(sql_migration, ("BE203",), path="db/002.sql") == []


def test_select_star_points_at_the_star() -> None:
    findings = _check(
        'def f(cursor):\n    cursor.execute("SELECT DISTINCT u.* FROM users u")\n', ("BE203",)
    )
    assert [(f.line, f.column, f.end_column) for f in findings] == [(2, 37, 40)]


# -- BE206 implicit-cross-join ---------------------------------------------------------------------


def test_cross_join_with_schema_qualified_tables() -> None:
    findings = _check(
        'def f(cursor):\n    cursor.execute("SELECT 1 FROM public.a x, public.b y WHERE x.k = 1")\n',
        ("BE206",),
    )
    assert len(findings) == 1
    quiet = _check(
        'def f(cursor):\n    cursor.execute("SELECT 1 FROM public.a x, public.b y WHERE x.k = y.k")\n',
        ("BE206",),
    )
    assert quiet == []


def test_explicit_join_without_on_is_not_a_comma_join() -> None:
    text = 'def f(cursor):\n    cursor.execute("SELECT 1 FROM a NATURAL JOIN b")\n'
    assert _check(text, ("BE206",)) == []


# -- BE209 limit-without-order-by ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "WITH todo AS (SELECT id FROM t WHERE x IS NULL LIMIT 500) UPDATE t SET x = 1 FROM todo WHERE t.id = todo.id",
        "SELECT id FROM t WHERE id IN (SELECT id FROM u LIMIT 10) ORDER BY id",
        "SELECT max(id) FROM t LIMIT 10",
        "SELECT id FROM t LIMIT 0",
    ],
)
def test_limit_without_order_by_quiet(query: str) -> None:
    assert _check(f'def f(cursor):\n    cursor.execute("{query}")\n', ("BE209",)) == []


def test_limit_without_order_by_in_union_branch_is_not_the_result() -> None:
    text = 'def f(c):\n    c.execute("(SELECT id FROM a LIMIT 5) UNION ALL (SELECT id FROM b LIMIT 5)")\n'
    assert _check(text, ("BE209",)) == []


# -- BE204 / BE207 / BE208 / BE210 positions --------------------------------------------------------


def test_like_reported_at_the_comparison() -> None:
    findings = _check(
        "def f(cursor):\n    cursor.execute(\"SELECT 1 FROM t WHERE name LIKE '%x'\")\n",
        ("BE204",),
    )
    assert [(f.line, f.column, f.end_column) for f in findings] == [(2, 43, 57)]


def test_offset_option_and_position() -> None:
    text = 'def f(cursor):\n    cursor.execute("SELECT 1 FROM t ORDER BY a LIMIT 5 OFFSET 2000")\n'
    findings = _check(text, ("BE208",))
    assert [(f.column, f.end_column) for f in findings] == [(63, 67)]
    assert _check(text, ("BE208",), options=(("BE208", (("max-offset", 5000),)),)) == []


def test_non_sargable_ignores_placeholders_but_not_columns() -> None:
    assert (
        len(
            _check(
                'def f(c):\n    c.execute("SELECT 1 FROM t WHERE date(created) = %s", (1,))\n',
                ("BE210",),
            )
        )
        == 1
    )
    assert (
        _check(
            'def f(c):\n    c.execute("SELECT 1 FROM t WHERE date(created) = date(other)")\n',
            ("BE210",),
        )
        == []
    )


def test_not_in_with_null_filtered_subquery_is_quiet() -> None:
    text = (
        'def f(c):\n    c.execute("SELECT 1 FROM t WHERE a NOT IN '
        '(SELECT b FROM u WHERE NOT b IS NULL)")\n'
    )
    assert _check(text, ("BE207",)) == []
