"""Fixes: the BE101 rewrite to query parameters, fixing in rounds, and ``--fix``/``--diff``.

Every fix must leave a file that parses and has no BE1xx finding left at the fixed call.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from be_lint.cli import main
from be_lint.engine import Checker, Settings
from be_lint.fixing import MAX_ROUNDS, fix_text
from be_lint.loader import builtin_rules
from be_lint.rule import Edit, FileKind, Finding, Fix, FixSafety, Severity

RULES = builtin_rules()
KNOWN = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})
BE1 = Checker(Settings(selected=("BE101", "BE102"), known=KNOWN), RULES)


def fix(code: str) -> tuple[str, list[Finding]]:
    """(fixed text, findings before fixing) of ``code`` with BE1 rules and unsafe fixes."""
    code = textwrap.dedent(code)
    before = BE1.check_text(code, "app.py", FileKind.PYTHON)
    result = fix_text(BE1, code, "app.py", unsafe=True)
    cst.parse_module(result.fixed)  # every fixed file parses
    return result.fixed, before


def fixed_line(code: str, marker: str = "execute") -> str:
    """The fixed line holding ``marker``; asserts the fix left no BE1 finding there."""
    fixed, before = fix(code)
    assert any(f.fix is not None for f in before), "expected a fix"
    after = BE1.check_text(fixed, "app.py", FileKind.PYTHON)
    lines = fixed.splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if marker in line)
    assert [f for f in after if f.line == number] == []
    return lines[number - 1].strip()


# -- the rule's own examples ----------------------------------------------------------------------

_BE101 = next(r for r in RULES if r.meta.code == "BE101")


@pytest.mark.parametrize(
    "example",
    [e for e in _BE101.bad if e.fixed is not None],
    ids=lambda e: e.code.splitlines()[-2][:40] if len(e.code.splitlines()) > 1 else "x",
)
def test_example_fixes_parse_and_leave_no_finding_at_the_call(example: object) -> None:
    code = getattr(example, "code")  # noqa: B009 - the Example type is not imported here
    result = fix_text(BE1, code, "example.py", unsafe=True)
    assert result.changed
    cst.parse_module(result.fixed)
    findings = BE1.check_text(result.fixed, "example.py", FileKind.PYTHON)
    marked = {
        n for n, line in enumerate(result.fixed.splitlines(), start=1) if "expect: BE101" in line
    }
    assert [f for f in findings if f.code == "BE101" and f.line in marked] == []
    # Fixing again changes nothing.
    assert fix_text(BE1, result.fixed, "example.py", unsafe=True).fixed == result.fixed


# -- placeholder styles per driver ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("driver", "expected"),
    [
        ("import sqlite3", 'cur.execute("SELECT * FROM t WHERE a = ? AND b = ?", (a, b))'),
        ("import aiosqlite", 'cur.execute("SELECT * FROM t WHERE a = ? AND b = ?", (a, b))'),
        ("import pyodbc", 'cur.execute("SELECT * FROM t WHERE a = ? AND b = ?", (a, b))'),
        ("import psycopg2", 'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))'),
        ("import psycopg", 'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))'),
        ("import pymysql", 'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))'),
        ("import MySQLdb", 'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))'),
        (
            "import mysql.connector",
            'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))',
        ),
        ("import aiomysql", 'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))'),
        (
            "from django.db import connection",
            'cur.execute("SELECT * FROM t WHERE a = %s AND b = %s", (a, b))',
        ),
        ("import oracledb", 'cur.execute("SELECT * FROM t WHERE a = :1 AND b = :2", (a, b))'),
        ("import cx_Oracle", 'cur.execute("SELECT * FROM t WHERE a = :1 AND b = :2", (a, b))'),
    ],
)
def test_dbapi_placeholder_styles(driver: str, expected: str) -> None:
    code = f"""\
        {driver}


        def f(cur, a, b):
            cur.execute(f"SELECT * FROM t WHERE a = '{{a}}' AND b = {{b}}")
        """
    assert fixed_line(code) == expected


def test_asyncpg_passes_values_as_positional_arguments() -> None:
    code = """\
        import asyncpg


        async def f(conn: asyncpg.Connection, a, b):
            return await conn.fetchrow(f"SELECT * FROM t WHERE a = '{a}' AND b = {b}")
        """
    assert fixed_line(code, "fetchrow") == (
        'return await conn.fetchrow("SELECT * FROM t WHERE a = $1 AND b = $2", a, b)'
    )


def test_databases_passes_values_by_name() -> None:
    code = """\
        async def f(database, user):
            return await database.fetch_all(f"SELECT * FROM t WHERE owner = '{user.name}'")
        """
    assert fixed_line(code, "fetch_all") == (
        'return await database.fetch_all("SELECT * FROM t WHERE owner = :name", '
        'values={"name": user.name})'
    )


def test_sqlalchemy_text_binds_on_the_clause() -> None:
    code = """\
        from sqlalchemy import text


        def f(session, name, data):
            session.execute(text(f"SELECT * FROM t WHERE a = '{name}' AND b = '{data['b']}'"))
        """
    assert fixed_line(code) == (
        'session.execute(text("SELECT * FROM t WHERE a = :name AND b = :b")'
        ".bindparams(name=name, b=data['b']))"
    )


def test_django_raw_and_rawsql_take_a_list() -> None:
    code = """\
        from django.db.models.expressions import RawSQL


        def f(qs, a):
            return qs.annotate(x=RawSQL("SELECT b FROM t WHERE a = '%s'" % a, ()))
        """
    assert fixed_line(code, "RawSQL(") == (
        'return qs.annotate(x=RawSQL("SELECT b FROM t WHERE a = %s", [a]))'
    )


# -- what the new SQL text keeps ------------------------------------------------------------------


def test_safe_holes_stay_interpolated_and_percent_is_escaped() -> None:
    code = """\
        import psycopg2

        TABLE = "users"


        def f(cur, name, limit):
            cur.execute(
                "SELECT * FROM %s WHERE name LIKE 'a%%' AND id = %s LIMIT %d"
                % (TABLE, name, limit)
            )
        """
    fixed, _ = fix(code)
    assert (
        "    cur.execute(\n"
        "        f\"SELECT * FROM {TABLE} WHERE name LIKE 'a%%' AND id = %s LIMIT {int(limit)}\", "
        "(name,)\n"
        "    )\n"
    ) in fixed


def test_quoted_holes_become_one_parameter() -> None:
    code = """\
        import sqlite3


        def f(cur, term, first):
            cur.execute(f"SELECT * FROM t WHERE a LIKE '%{term}%' AND b = '{first} {term}'")
        """
    assert fixed_line(code) == (
        'cur.execute("SELECT * FROM t WHERE a LIKE ? AND b = ?", (f"%{term}%", f"{first} {term}"))'
    )


def test_braces_and_multiline_text_survive() -> None:
    code = '''\
        import sqlite3

        TABLE = "t"


        def f(cur, a):
            cur.execute(f"""
                SELECT '{{"k": 1}}'::json FROM {TABLE}
                WHERE a = '{a}'
            """)
        '''
    fixed, _ = fix(code)
    assert (
        'f"""\n        SELECT \'{{"k": 1}}\'::json FROM {TABLE}\n        WHERE a = ?\n    """, (a,)'
        in (fixed)
    )


def test_sql_built_in_a_variable_read_once() -> None:
    code = """\
        import sqlite3


        def f(conn, name):
            sql = "SELECT * FROM users WHERE name = '%s'" % name
            log("running")
            return conn.execute(sql).fetchall()
        """
    fixed, _ = fix(code)
    assert 'sql = "SELECT * FROM users WHERE name = ?"' in fixed
    assert "return conn.execute(sql, (name,)).fetchall()" in fixed


# -- no fix when it cannot be right ----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        # An identifier is spliced in: placeholders cannot bind it.
        'import sqlite3\ndef f(c, t, a):\n    c.execute(f"SELECT * FROM {t} WHERE a = {a}")\n',
        # Parameters already passed.
        'import sqlite3\ndef f(c, a, b):\n    c.execute(f"SELECT * FROM t WHERE a = {a} AND b = ?", (b,))\n',
        # executemany takes a sequence of rows.
        'import sqlite3\ndef f(c, a):\n    c.executemany(f"INSERT INTO t VALUES ({a}, ?)", [(1,)])\n',
        # Unknown driver, or two drivers with different placeholders.
        'def f(c, a):\n    c.execute(f"SELECT * FROM t WHERE a = {a}")\n',
        'import sqlite3, psycopg2\ndef f(c, a):\n    c.execute(f"SELECT * FROM t WHERE a = {a}")\n',
        # DDL and SET take no parameters.
        "import psycopg2\ndef f(c, d):\n    c.execute(f\"ALTER TABLE t ALTER COLUMN a SET DEFAULT '{d}'\")\n",
        'import psycopg2\ndef f(c, v):\n    c.execute(f"SET search_path = {v}")\n',
        # A fragment, not a value.
        'import sqlite3\ndef f(c, where):\n    c.execute("SELECT * FROM t WHERE " + where)\n',
        # Part of the text is built elsewhere.
        "import sqlite3\ndef f(c, a):\n    w = f\"a = '{a}'\"\n    c.execute('SELECT * FROM t WHERE ' + w)\n",
        # The variable is read twice, or its value changes before the call.
        "import sqlite3\ndef f(c, a):\n    s = f\"SELECT * FROM t WHERE a = '{a}'\"\n"
        "    c.execute(s)\n    print(s)\n",
        "import sqlite3\ndef f(c, a):\n    s = f\"SELECT * FROM t WHERE a = '{a}'\"\n"
        "    a = a.strip()\n    c.execute(s)\n",
        # pandas: the placeholder depends on the connection.
        "import pandas as pd\ndef f(e, a):\n    pd.read_sql(f\"SELECT * FROM t WHERE a = '{a}'\", e)\n",
    ],
)
def test_no_fix_when_it_would_be_wrong(code: str) -> None:
    findings = BE1.check_text(code, "app.py", FileKind.PYTHON)
    assert any(f.code == "BE101" for f in findings)
    assert all(f.fix is None for f in findings)


# -- fixing in rounds -------------------------------------------------------------------------------


class _StubChecker:
    """Hands out prepared findings, one list per call, then none."""

    def __init__(self, rounds: list[list[Finding]]) -> None:
        self.rounds = rounds
        self.calls = 0

    def check_text(self, text: str, display: str, kind: FileKind, package: object) -> list[Finding]:
        self.calls += 1
        return self.rounds.pop(0) if self.rounds else []


def _finding(line: int, column: int, end: int, content: str, safety: FixSafety) -> Finding:
    edit = Edit(line, column, line, end, content)
    return Finding(
        code="BE999",
        name="x",
        severity=Severity.WARNING,
        message="m",
        path="a.py",
        line=line,
        column=column,
        end_line=line,
        end_column=end,
        fix=Fix((edit,), safety, f"put {content}"),
    )


def test_overlapping_fixes_are_applied_in_later_rounds() -> None:
    text = "x = 1\n"
    rename = _finding(1, 1, 2, "y", FixSafety.SAFE)
    overlapping = _finding(1, 1, 6, "z = 9", FixSafety.SAFE)  # skipped: overlaps the rename
    found_again = _finding(1, 5, 6, "3", FixSafety.SAFE)  # re-linting the renamed text
    stub = _StubChecker([[rename, overlapping], [found_again], []])
    result = fix_text(stub, text, "a.py")  # type: ignore[arg-type]
    assert result.fixed == "y = 3\n"
    assert result.applied == 2


def test_a_fix_that_breaks_the_parse_is_dropped_and_reported() -> None:
    text = "x = 1\ny = 2\n"
    broken = _finding(1, 5, 6, "(", FixSafety.SAFE)
    good = _finding(2, 5, 6, "3", FixSafety.SAFE)
    stub = _StubChecker([[broken, good], [broken], [broken]])
    result = fix_text(stub, text, "a.py")  # type: ignore[arg-type]
    assert result.fixed == "x = 1\ny = 3\n"
    assert result.rejected == [broken]
    assert stub.calls <= MAX_ROUNDS + 1


def test_unsafe_fixes_need_asking() -> None:
    unsafe = _finding(1, 5, 6, "2", FixSafety.UNSAFE)
    assert fix_text(_StubChecker([[unsafe]]), "x = 1\n", "a.py").fixed == "x = 1\n"  # type: ignore[arg-type]
    result = fix_text(_StubChecker([[unsafe]]), "x = 1\n", "a.py", unsafe=True)  # type: ignore[arg-type]
    assert result.fixed == "x = 2\n"


def test_rounds_stop_at_the_limit() -> None:
    endless = [[_finding(1, 1, 2, str(i % 10), FixSafety.SAFE)] for i in range(1, 30)]
    stub = _StubChecker(endless)
    fix_text(stub, "0\n", "a.py")  # type: ignore[arg-type]
    assert stub.calls == MAX_ROUNDS + 1


# -- the command line -------------------------------------------------------------------------------

APP = """\
import sqlite3


def find(conn: sqlite3.Connection, name, table):
    conn.execute(f"SELECT * FROM users WHERE name = '{name}'")
    conn.execute(f"SELECT * FROM {table}")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--select", "BE1", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_diff_shows_unsafe_fixes_and_changes_nothing(project: Path) -> None:
    code, out, err = _run("--diff", "--unsafe-fixes", ".")
    assert code == 1
    assert out.startswith("--- a/app.py\n+++ b/app.py\n")
    assert '+    conn.execute("SELECT * FROM users WHERE name = ?", (name,))' in out
    assert "Would fix 1 finding in 1 file." in err
    assert (project / "app.py").read_text() == APP


def test_diff_without_unsafe_fixes_has_nothing_to_show(project: Path) -> None:
    code, out, err = _run("--diff", ".")
    assert code == 0
    assert out == ""
    assert "1 more fix available with --unsafe-fixes." in err


def test_fix_applies_and_reports_what_is_left(project: Path) -> None:
    code, out, err = _run("--fix", "--unsafe-fixes", ".")
    assert code == 1  # the dynamic table name remains
    fixed = (project / "app.py").read_text()
    assert 'conn.execute("SELECT * FROM users WHERE name = ?", (name,))' in fixed
    assert "BE102" in out and "BE101" not in out
    assert "Fixed 1 finding in 1 file." in err
    cst.parse_module(fixed)


def test_fix_without_unsafe_fixes_keeps_unsafe_ones(project: Path) -> None:
    code, out, err = _run("--fix", ".")
    assert code == 1
    assert (project / "app.py").read_text() == APP
    assert "BE101" in out
    assert "1 more fix available with --unsafe-fixes." in err


def test_unsafe_fixes_alone_is_a_usage_error(project: Path) -> None:
    code, _, err = _run("--unsafe-fixes", ".")
    assert code == 2
    assert "--unsafe-fixes only applies together with --fix or --diff" in err


def test_fix_stdin_prints_the_fixed_source(project: Path) -> None:
    code, out, _ = _run("--fix", "--unsafe-fixes", "--stdin-filename", "app.py", "-", stdin=APP)
    assert code == 1
    assert 'conn.execute("SELECT * FROM users WHERE name = ?", (name,))' in out
    assert (project / "app.py").read_text() == APP


def test_fix_keeps_the_file_encoding(project: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + APP.replace("users", "usérs")
    (project / "app.py").write_bytes(source.encode("latin-1"))
    _run("--fix", "--unsafe-fixes", ".")
    data = (project / "app.py").read_bytes()
    assert "usérs WHERE name = ?".encode("latin-1") in data
