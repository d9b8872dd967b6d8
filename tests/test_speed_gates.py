"""The shortcuts that keep a cold run fast must not change a single finding.

``Rule.skips_path`` lets the engine leave a file unparsed for a rule; it has to agree with
what the rule does when it does visit the file. ``per_text`` remembers prefilter answers;
the route prefilter is split into patterns that must answer as the single alternation did;
sqlglot must not be imported until SQL is parsed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from be_lint.engine import Checker, Settings, _overrides, complexity_problem
from be_lint.index.routes import _KEYS, ROUTE_TEXT, may_define_routes
from be_lint.loader import builtin_rules
from be_lint.prefilter import per_text
from be_lint.rule import FileKind, Rule, build_options

RULES = builtin_rules()
GATED = [r for r in RULES if _overrides(r, "skips_path")]
#: Test code, migrations, and ordinary application modules.
PATHS = (
    "app/tests/test_views.py",
    "tests/test_api.py",
    "app/test_models.py",
    "conftest.py",
    "app/migrations/0002_auto.py",
    "alembic/versions/1a2b_add.py",
    "app/views.py",
    "app/api/routes.py",
    "shop/models.py",
)


def test_some_rules_are_gated_by_path() -> None:
    assert {"BE401", "BE618", "BE901"} <= {r.meta.code for r in GATED}


@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.meta.code)
@pytest.mark.parametrize("path", PATHS)
def test_skipped_path_gives_no_finding_without_the_gate(rule: type[Rule], path: str) -> None:
    """Where ``skips_path`` says the rule reports nothing, the rule run on the file anyway
    (prefilter off, so no gate) reports nothing on its own bad examples."""
    options = build_options(rule.options_class, {}, rule.meta.code)
    if not rule.skips_path(path, options):
        return
    checker = Checker(Settings(selected=(rule.meta.code,), prefilter=False), [rule])
    for example in rule.bad:
        if example.filename.endswith(".sql") or example.options:
            continue
        findings = checker.check_text(example.code, path, FileKind.PYTHON)
        assert [f for f in findings if f.code == rule.meta.code] == []


def test_gated_rules_still_run_on_application_code() -> None:
    for rule in GATED:
        options = build_options(rule.options_class, {}, rule.meta.code)
        assert not rule.skips_path("app/views.py", options), rule.meta.code


def test_per_text_remembers_by_identity() -> None:
    calls: list[str] = []

    @per_text
    def test(text: str) -> bool:
        calls.append(text)
        return "x" in text

    first = "ax" * 10
    assert test(first) and test(first)
    assert len(calls) == 1
    other = "".join(["ax"] * 10)  # equal, not the same object: asked again
    assert test(other)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "text",
    [
        b"urlpatterns = []",
        b'path("a/", view)',
        b"re_path(r'^x', v)",
        b"xpath('a')",
        b"@app.get('/x')\ndef f(): pass",
        b"@router.api_route('/x')",
        b"def index(request):\n    pass",
        b"def index(  request ):",
        b"from flask import Flask, request",
        b"from flask import Flask\nrequest = 1",
        b"class Orders(generics.ListAPIView):",
        b"class Orders(Base):\n    View = 1",
        b"app.add_route('/x', h)",
        b"router.register(r'orders', OrderViewSet)",
        b"x.register(Model)",
        b"routes = [Route('/', h), Mount('/api', app)]",
        b"app.router.add_get('/', h)",
        b"nothing to see",
        b"",
    ],
)
def test_split_route_prefilter_answers_like_the_alternation(text: bytes) -> None:
    expected = any(k in text for k in _KEYS) and ROUTE_TEXT.search(text) is not None
    assert may_define_routes(text) is expected


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("x = 1\n", False),
        ("(" * 150 + ")" * 150 + "\n", False),
        (")" * 300 + "\n", False),
        ("x = [" + "[" * 250 + "]" * 250 + "]\n", True),
    ],
)
def test_nesting_quick_scan(text: str, flagged: bool) -> None:
    assert (complexity_problem(text) is not None) is flagged


def test_sqlglot_waits_for_sql() -> None:
    code = (
        "import sys\n"
        "from be_lint.loader import builtin_rules\n"
        "from be_lint.engine import Checker, Settings\n"
        "from be_lint.rule import FileKind\n"
        "rules = builtin_rules()\n"
        "checker = Checker(Settings(selected=tuple(r.meta.code for r in rules)), rules)\n"
        "checker.check_text('def f(x):\\n    return x + 1\\n', 'app/m.py', FileKind.PYTHON)\n"
        "assert 'sqlglot' not in sys.modules, 'sqlglot imported without SQL'\n"
        "checker.check_text('def f(c):\\n    c.execute(\"SELECT 1\")\\n', 'app/n.py',"
        " FileKind.PYTHON)\n"
        "assert 'sqlglot' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
