"""Every rule's own examples, run through the real engine: the single source of rule tests.

Bad examples must give findings of the rule exactly on the lines marked ``# expect: CODE``
(``-- expect: CODE`` in SQL); good examples must give none; ``fixed`` must equal the text after
applying the rule's fixes. No per-rule test code.
"""

from __future__ import annotations

import re

import pytest

from be_lint.engine import Checker, Settings, select_rules
from be_lint.engine_rules import EngineRule
from be_lint.fixes import apply_fixes
from be_lint.loader import builtin_rules
from be_lint.rule import Example, FileKind, Finding, Rule

RULES = builtin_rules()
_EXPECT = re.compile(r"(?:#|--)\s*expect:\s*(?P<codes>BE[0-9]{3}(?:\s*,\s*BE[0-9]{3})*)")
_MARKER = re.compile(r"\s*(?:#|--)\s*(?:todo-)?expect:\s*BE[0-9]{3}(?:\s*,\s*BE[0-9]{3})*")


def _check(rule: type[Rule], example: Example) -> list[Finding]:
    # Engine rules are about other rules' findings, so they run with the default set.
    selected = select_rules(RULES, select=None) if issubclass(rule, EngineRule) else []
    codes = {r.meta.code for r in selected} | {rule.meta.code}
    options = dict(example.options or {})
    settings = Settings(
        selected=tuple(sorted(codes)),
        options=((rule.meta.code, tuple(sorted(options.items()))),),
        known=frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES}),
    )
    checker = Checker(settings, RULES)
    kind = FileKind.SQL if example.filename.endswith(".sql") else FileKind.PYTHON
    findings = checker.check_text(example.code, example.filename, kind)
    return [f for f in findings if f.code == rule.meta.code]


def _expected_lines(code: str, text: str) -> set[int]:
    lines = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match and code in re.split(r"\s*,\s*", match.group("codes")):
            lines.add(number)
    return lines


def _strip_markers(text: str) -> str:
    return "\n".join(_MARKER.sub("", line) for line in text.split("\n"))


def _cases(kind: str) -> list[object]:
    return [
        pytest.param(rule, example, id=f"{rule.meta.code}-{kind}{index}")
        for rule in RULES
        for index, example in enumerate(getattr(rule, kind))
    ]


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_bad_example_reports_exactly_the_marked_lines(rule: type[Rule], example: Example) -> None:
    findings = _check(rule, example)
    expected = _expected_lines(rule.meta.code, example.code)
    assert expected, "a bad example must mark at least one line with `expect:`"
    got = {f.line for f in findings}
    assert got == expected, "\n".join(f"{f.line}:{f.column} {f.message}" for f in findings)


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_fixed_output(rule: type[Rule], example: Example) -> None:
    findings = _check(rule, example)
    fixes = [f.fix for f in findings if f.fix is not None]
    if example.fixed is None:
        assert not fixes, "the rule fixes this example: add `fixed=` to it"
        return
    fixed, _count = apply_fixes(example.code, fixes)
    assert _strip_markers(fixed) == _strip_markers(example.fixed)


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_good_example_is_quiet(rule: type[Rule], example: Example) -> None:
    findings = _check(rule, example)
    assert findings == [], "\n".join(f"{f.line}:{f.column} {f.message}" for f in findings)


def test_codes_and_names_are_unique() -> None:
    codes = [r.meta.code for r in RULES]
    names = [r.meta.name for r in RULES]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.meta.code)
def test_every_rule_has_examples(rule: type[Rule]) -> None:
    assert rule.good, "every rule needs code that must not trigger it"
    if not rule.bad:
        # Only engine findings about files themselves (unreadable, too large, a crashing rule,
        # undecodable bytes) cannot be written as a text example; tests/test_bad_input.py has
        # them.
        assert issubclass(rule, EngineRule), "every rule needs code that must trigger it"
        assert rule.meta.code in {"BE002", "BE005", "BE006", "BE007"}


@pytest.mark.parametrize(("rule", "example"), [*_cases("bad"), *_cases("good")])
def test_prefilter_never_changes_results(rule: type[Rule], example: Example) -> None:
    """Triggers only skip work: every example gives the same findings with them switched off."""
    codes = tuple(sorted(r.meta.code for r in select_rules(RULES, select=None)))
    known = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})
    kind = FileKind.SQL if example.filename.endswith(".sql") else FileKind.PYTHON
    results = [
        Checker(Settings(selected=codes, known=known, prefilter=on), RULES).check_text(
            example.code, example.filename, kind
        )
        for on in (True, False)
    ]
    assert results[0] == results[1]
