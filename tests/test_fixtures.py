"""Fixture corpora: ``tests/fixtures/<pack>/<CODE>[_topic].py`` annotated like rule examples.

Each file is checked with the rules named by its file name (``BE101_sinks.py`` runs BE101); the
findings of those rules must be exactly the lines marked ``# expect: CODE``. Fixtures hold what
does not fit in a rule's metadata examples: long lists of APIs, many shapes of one pattern.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind

FIXTURES = Path(__file__).parent / "fixtures"
RULES = builtin_rules()
_CODE = re.compile(r"^(BE[0-9]{3})")
_EXPECT = re.compile(r"(?:#|--)\s*expect:\s*(?P<codes>BE[0-9]{3}(?:\s*,\s*BE[0-9]{3})*)")


def _fixtures() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.glob("*/*")
        if path.suffix in (".py", ".sql") and _CODE.match(path.name)
    )


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_reports_exactly_the_marked_lines(path: Path) -> None:
    match = _CODE.match(path.name)
    assert match is not None
    code = match.group(1)
    text = path.read_text(encoding="utf-8")
    known = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})
    checker = Checker(Settings(selected=(code,), known=known), RULES)
    kind = FileKind.SQL if path.suffix == ".sql" else FileKind.PYTHON
    found = {
        f.line for f in checker.check_text(text, path.name, kind, "fixtures") if f.code == code
    }
    expected = {
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if (m := _EXPECT.search(line)) and code in re.split(r"\s*,\s*", m.group("codes"))
    }
    assert expected, "a fixture must mark at least one line"
    assert sorted(found - expected) == [], "reported but not marked"
    assert sorted(expected - found) == [], "marked but not reported"
