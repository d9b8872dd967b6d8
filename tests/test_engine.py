"""Engine behaviour: dispatch, crashes, suppressions, selection, prefilter, positions."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
import pytest

from be_lint.engine import (
    Checker,
    SelectionError,
    Settings,
    complexity_problem,
    select_rules,
)
from be_lint.loader import builtin_rules
from be_lint.rule import (
    Example,
    FileKind,
    Finding,
    PythonRule,
    Rule,
    RuleMeta,
    Severity,
)
from be_lint.walker import Dispatch, walk

RULES = builtin_rules()
KNOWN = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})


@pytest.fixture
def test_rules() -> Iterator[list[type[Rule]]]:
    """Rules that exist only for these tests (taken out of the registry afterwards)."""
    before = len(Rule.registry)

    class Crashes(PythonRule):
        meta = RuleMeta(
            code="BE990",
            name="crashes",
            summary="s",
            rationale="r",
            how_to_fix="h",
            severity=Severity.ERROR,
        )
        good = (Example("x = 1\n"),)

        def visit_Call(self, node: cst.Call) -> None:
            raise ZeroDivisionError("boom")

    class NamesPrint(PythonRule):
        meta = RuleMeta(
            code="BE991",
            name="names-print",
            summary="s",
            rationale="r",
            how_to_fix="h",
            severity=Severity.INFO,
        )
        triggers = ("print",)

        def visit_Call(self, node: cst.Call) -> None:
            if self.ctx.qualified_name(node.func) == "builtins.print":
                self.report(node.func, "print call")

    made: list[type[Rule]] = [Crashes, NamesPrint]
    yield made
    del Rule.registry[before:]


def _checker(rules: list[type[Rule]], codes: list[str], **kw: object) -> Checker:
    all_rules = [*RULES, *rules]
    known = KNOWN | {r.meta.code for r in rules} | {r.meta.name for r in rules}
    return Checker(Settings(selected=tuple(codes), known=known, **kw), all_rules)  # type: ignore[arg-type]


def _lint(checker: Checker, text: str, name: str = "t.py") -> list[Finding]:
    kind = FileKind.SQL if name.endswith(".sql") else FileKind.PYTHON
    return checker.check_text(text, name, kind)


def test_a_crashing_rule_is_reported_and_others_go_on(test_rules: list[type[Rule]]) -> None:
    checker = _checker(test_rules, ["BE990", "BE991", "BE005"])
    findings = _lint(checker, "print(1)\nprint(2)\n")
    assert [(f.code, f.line) for f in findings] == [("BE005", 1), ("BE991", 1), ("BE991", 2)]
    crash = findings[0]
    assert "BE990 (crashes)" in crash.message and "ZeroDivisionError: boom" in crash.message


def test_positions_are_one_based_with_exclusive_end(test_rules: list[type[Rule]]) -> None:
    findings = _lint(_checker(test_rules, ["BE991"]), "x = 1\n  # c\nif x:\n    print(x)\n")
    (finding,) = findings
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (4, 5, 4, 10)
    assert finding.snippet == ("    print(x)",)


def test_shadowed_builtin_is_not_resolved(test_rules: list[type[Rule]]) -> None:
    assert _lint(_checker(test_rules, ["BE991"]), "from rich import print\nprint(1)\n") == []


def test_prefilter_skips_files_without_triggers(test_rules: list[type[Rule]]) -> None:
    checker = _checker(test_rules, ["BE991", "BE001"])
    # Not parsed at all, so even the syntax error goes unreported.
    assert _lint(checker, "def f(:\n") == []
    assert [f.code for f in _lint(checker, "print(\n")] == ["BE001"]


def test_syntax_error_has_parser_position() -> None:
    checker = _checker([], ["BE001", "BE701"])
    (finding,) = _lint(checker, "import requests\n\ndef f(:\n    pass\n")
    assert finding.code == "BE001"
    assert (finding.line, finding.column) == (3, 7)
    assert finding.message.startswith("syntax error:")


def test_python_312_syntax_parses() -> None:
    checker = _checker([], ["BE001", "BE701"])
    source = (
        "import requests\n"
        "type Pair[T] = tuple[T, T]\n"
        "def first[T](p: Pair[T]) -> T:\n    return p[0]\n"
        "songs = ['a']\n"
        "msg = f\"{'\\n'.join(songs)} {f'{songs[0]}'}\"\n"
        'requests.get(f"{msg}")\n'
    )
    assert [(f.code, f.line) for f in _lint(checker, source)] == [("BE701", 7)]


SUPPRESSION_CASES = [
    ("requests.get(u)  # be-lint: ignore[BE701]\n", []),
    ("requests.get(u)  # be-lint: ignore[http-request-without-timeout] slow on purpose\n", []),
    ("requests.get(u)  # be-lint: ignore\n", []),
    ("requests.get(u)  # noqa: BE701\n", []),
    ("requests.get(u)  # noqa: E501, BE7\n", []),
    ("requests.get(u)  # noqa\n", [("BE701", 2)]),
    ("requests.get(u)  # noqa: E501\n", [("BE701", 2)]),
    ("requests.get(u)  # be-lint: ignore[BE101]\n", [("BE003", 2), ("BE701", 2)]),
    ("requests.get(u)  # be-lint: ignore[BE9999]\n", [("BE004", 2), ("BE701", 2)]),
    ("requests.get(u, timeout=1)  # be-lint: ignore[BE701]\n", [("BE003", 2)]),
    ("requests.get(u, timeout=1)  # be-lint: ignore\n", [("BE003", 2)]),
    ("requests.get(  # be-lint: ignore[BE701]\n    u,\n)\n", []),
    ("x = [\n    requests.get(u),\n]  # be-lint: ignore[BE701]\n", [("BE701", 3), ("BE003", 4)]),
    ("x = requests.get(\n    u,\n)  # be-lint: ignore[BE701]\n", [("BE701", 2), ("BE003", 4)]),
    ("# be-lint: file-ignore[BE7]\nrequests.get(u)\n", []),
    ("requests.get(u)  # be-lint: ignore[BE701]  # noqa: E501\n", []),
    ("s = '# be-lint: ignore[BE701]'; requests.get(u)\n", [("BE701", 2)]),
]


@pytest.mark.parametrize(("body", "expected"), SUPPRESSION_CASES)
def test_suppressions(body: str, expected: list[tuple[str, int]]) -> None:
    checker = _checker([], ["BE003", "BE004", "BE701", "BE101"])
    findings = _lint(checker, "import requests\n" + body)
    assert sorted((f.code, f.line) for f in findings) == sorted(expected)


def test_unused_suppression_of_unselected_rule_is_not_reported() -> None:
    checker = _checker([], ["BE003", "BE701"])
    assert _lint(checker, "x = 1  # be-lint: ignore[BE101]\n") == []


def test_sql_file_suppression() -> None:
    checker = _checker([], ["BE201", "BE003"])
    text = "DELETE FROM users; -- be-lint: ignore[BE201]\nUPDATE t SET a = 1;\n"
    assert [(f.code, f.line) for f in _lint(checker, text, "m.sql")] == [("BE201", 2)]


def test_per_file_ignores_and_severity_overrides() -> None:
    checker = _checker(
        [],
        ["BE701"],
        per_file_ignores=(("tests/*", ("BE7",)),),
        severity=(("http-request-without-timeout", "error"),),
    )
    text = "import requests\nrequests.get(u)\n"
    assert _lint(checker, text, "tests/test_x.py") == []
    (finding,) = _lint(checker, text, "app/x.py")
    assert finding.severity is Severity.ERROR


def test_fingerprints_survive_moving_code() -> None:
    checker = _checker([], ["BE701"])
    before = _lint(checker, "import requests\nrequests.get(a)\nrequests.get(a)\n")
    after = _lint(checker, "import requests\n\n\n# moved\nrequests.get(a)\n\nrequests.get(a)\n")
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert len({f.fingerprint for f in before}) == 2


def test_selection() -> None:
    codes = lambda **kw: [r.meta.code for r in select_rules(RULES, **kw)]  # noqa: E731
    assert "BE701" in codes(select=None)
    family = codes(select=["BE7"])
    assert "BE701" in family and all(code.startswith("BE7") for code in family)
    opt_in = [
        r.meta.code
        for r in RULES
        if r.meta.code.startswith("BE7") and not r.meta.enabled_by_default
    ]
    # A family prefix does not switch opt-in rules on; naming them does.
    assert not set(opt_in) & set(family)
    assert set(codes(select=["BE7", *opt_in])) == set(family) | set(opt_in)
    assert codes(select=["http-request-without-timeout", "BE101"]) == ["BE101", "BE701"]
    assert "BE701" not in codes(select=None, ignore=["BE70"])
    assert codes(select=["BE101"], extend_select=["BE201"]) == ["BE101", "BE201"]
    with pytest.raises(SelectionError):
        select_rules(RULES, select=["BE99"])  # no rule has a BE99x code
    with pytest.raises(SelectionError):
        select_rules(RULES, select=["no-such-rule"])


def test_walker_visits_in_source_order_and_tracks_ancestors() -> None:
    module = cst.parse_module("@deco\ndef f(a=b):\n    return g(c)\n")
    seen: list[tuple[str, int]] = []
    ancestors: list[cst.CSTNode] = []

    class Recorder:
        def visit_Name(self, node: cst.Name) -> None:
            seen.append((node.value, len(ancestors)))

    dispatch = Dispatch()
    dispatch.add_rule(Recorder())
    walk(module, dispatch, ancestors, lambda owner, error: None)
    assert [name for name, _ in seen] == ["deco", "f", "a", "b", "g", "c"]
    assert ancestors == []


def test_complexity_guard() -> None:
    assert complexity_problem("x = " + "(" * 150 + "1" + ")" * 150) is None
    deep = complexity_problem("x = " + "(" * 5000 + "1" + ")" * 5000)
    assert deep is not None and "nested" in deep[2]
    chain = complexity_problem("x = " + "a." * 5000 + "b\n")
    assert chain is not None and "chains" in chain[2]
    # Brackets inside strings do not count.
    assert complexity_problem("x = '" + "(" * 300 + "'\n") is None
    # A long flat literal is fine.
    assert complexity_problem("x = [" + "1, " * 20000 + "]\n") is None
