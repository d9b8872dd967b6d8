"""be-lint's migration rules (BE3xx) and Squawk on the same ``.sql`` migrations.

Each fixture in ``tests/fixtures/migrations/`` is one scenario. ``TABLE`` documents, per
fixture, what both tools report (``agree``), what only Squawk reports and what only be-lint
reports, as ``(line, code)`` pairs; a Squawk rule is written as the be-lint code that covers the
same hazard (``SQUAWK_TO_BE_LINT``) or as ``squawk:<rule>`` when be-lint has no counterpart.
The be-lint half is checked on every run; the Squawk half runs the ``squawk`` binary
(``squawk-cli``, a dev dependency) and is skipped when it is not installed.

Squawk's ``require-statement-timeout`` is excluded: be-lint deliberately has no counterpart (a
statement timeout would also cancel the long, non-blocking ``CREATE INDEX CONCURRENTLY`` that
the other rules recommend).

Where they differ, and why:

- ``constraint-missing-not-valid`` on ``UNIQUE``/``PRIMARY KEY``: Postgres has no ``NOT VALID``
  for those; be-lint reports them as BE311 (build the index concurrently, attach it with
  ``USING INDEX``) instead.
- ``prefer-bigint-over-int`` on every ``int`` column: be-lint's BE313 only reports primary keys
  (other counters rarely overflow, and the noise would bury the keys that do).
- ``prefer-identity`` on ``bigserial``: not reported by be-lint (a 64-bit sequence does not run
  out; BE313 mentions identity columns in its remedy).
- ``adding-not-nullable-field`` on a table created earlier in the same file: be-lint knows the
  table is new and empty and stays quiet.
- ``ban-drop-database``, ``ban-drop-not-null``, ``ban-truncate-cascade``: no be-lint rule.
- be-lint only: BE318 (a full-table backfill in the same transaction as schema changes) and
  BE317 for a ``serial`` column added to an existing table (filling it rewrites the table).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind

FIXTURES = Path(__file__).parent / "fixtures" / "migrations"
RULES = builtin_rules()

SQUAWK_TO_BE_LINT = {
    "require-concurrent-index-creation": "BE301",
    "require-concurrent-index-deletion": "BE301",
    "ban-concurrent-index-creation-in-transaction": "BE302",
    "adding-required-field": "BE303",
    "adding-foreign-key-constraint": "BE304",
    "constraint-missing-not-valid": "BE304",
    "changing-column-type": "BE305",
    "renaming-column": "BE306",
    "renaming-table": "BE307",
    "ban-drop-column": "BE308",
    "ban-drop-table": "BE309",
    "adding-not-nullable-field": "BE310",
    "disallowed-unique-constraint": "BE311",
    "adding-serial-primary-key-field": "BE311",
    "prefer-text-field": "BE312",
    "ban-char-field": "BE312",
    "prefer-bigint-over-int": "BE313",
    "prefer-bigint-over-smallint": "BE313",
    "prefer-identity": "BE313",
    "prefer-timestamp-tz": "BE314",
    "require-lock-timeout": "BE315",
    "prefer-robust-stmts": "BE316",
    "adding-field-with-default": "BE317",
    "transaction-nesting": "BE321",
    "ban-uncommitted-transaction": "BE321",
}

Pair = tuple[int, str]


@dataclass(frozen=True)
class Case:
    agree: frozenset[Pair] = field(default_factory=frozenset)
    only_squawk: frozenset[Pair] = field(default_factory=frozenset)
    only_be_lint: frozenset[Pair] = field(default_factory=frozenset)

    @property
    def be_lint(self) -> set[Pair]:
        return set(self.agree | self.only_be_lint)

    @property
    def squawk(self) -> set[Pair]:
        return set(self.agree | self.only_squawk)


def _pairs(*items: Pair) -> frozenset[Pair]:
    return frozenset(items)


TABLE: dict[str, Case] = {
    "01_create_index.sql": Case(
        agree=_pairs((3, "BE301"), (3, "BE316"), (5, "BE301"), (5, "BE316")),
    ),
    "02_concurrently_in_transaction.sql": Case(agree=_pairs((4, "BE302"))),
    "03_add_column.sql": Case(agree=_pairs((4, "BE303"), (5, "BE317"), (8, "BE317"))),
    "04_constraints.sql": Case(
        agree=_pairs((4, "BE304"), (6, "BE304"), (7, "BE304"), (8, "BE311")),
        only_squawk=_pairs((8, "BE304")),
    ),
    "05_alter_column.sql": Case(agree=_pairs((4, "BE305"), (5, "BE310"), (7, "BE304"))),
    "06_renames_and_drops.sql": Case(
        agree=_pairs((4, "BE306"), (5, "BE307"), (6, "BE308"), (7, "BE309")),
    ),
    "07_create_table_types.sql": Case(
        agree=_pairs((4, "BE313"), (5, "BE312"), (6, "BE312"), (7, "BE314")),
        only_squawk=_pairs((8, "BE313")),
    ),
    "08_table_created_in_same_migration.sql": Case(only_squawk=_pairs((8, "BE310"))),
    "09_missing_lock_timeout.sql": Case(agree=_pairs((3, "BE315"))),
    "10_transaction_control.sql": Case(agree=_pairs((5, "BE321"), (8, "BE321"))),
    "11_backfill.sql": Case(only_be_lint=_pairs((5, "BE318"))),
    "12_not_rerunnable.sql": Case(
        agree=_pairs((3, "BE316"), (4, "BE316"), (5, "BE316"), (7, "BE309")),
    ),
    "13_inline_constraints.sql": Case(
        agree=_pairs((4, "BE304"), (5, "BE311"), (6, "BE311"), (7, "BE311")),
        only_squawk=_pairs((5, "BE304"), (6, "BE313")),
        only_be_lint=_pairs((6, "BE317")),
    ),
    "14_beyond_tables.sql": Case(
        agree=_pairs((5, "BE305")),
        only_squawk=_pairs(
            (4, "squawk:ban-drop-database"),
            (6, "squawk:ban-drop-not-null"),
            (7, "squawk:ban-truncate-cascade"),
        ),
    ),
}


def test_every_fixture_is_documented() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.sql")) == sorted(TABLE)


def _be_lint(path: Path) -> set[Pair]:
    codes = tuple(sorted(r.meta.code for r in RULES if r.meta.code.startswith("BE3")))
    checker = Checker(Settings(selected=codes), RULES)
    findings = checker.check_text(path.read_text(), path.name, FileKind.SQL)
    return {(f.line, f.code) for f in findings}


def _squawk_binary() -> str | None:
    beside = Path(sys.executable).with_name("squawk")
    if beside.is_file():
        return str(beside)
    return shutil.which("squawk")


def _squawk(binary: str, path: Path) -> set[Pair]:
    run = subprocess.run(
        [binary, "--reporter", "json", "--exclude", "require-statement-timeout", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    found = json.loads(run.stdout or "[]")
    return {
        (item["line"] + 1, SQUAWK_TO_BE_LINT.get(item["rule_name"], f"squawk:{item['rule_name']}"))
        for item in found
    }


@pytest.mark.parametrize("name", sorted(TABLE))
def test_be_lint_side_of_the_table(name: str) -> None:
    assert _be_lint(FIXTURES / name) == TABLE[name].be_lint


@pytest.mark.parametrize("name", sorted(TABLE))
def test_squawk_side_of_the_table(name: str) -> None:
    binary = _squawk_binary()
    if binary is None:
        pytest.skip("squawk is not installed (pip install squawk-cli, part of the dev extra)")
    assert _squawk(binary, FIXTURES / name) == TABLE[name].squawk
