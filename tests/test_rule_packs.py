"""User rule packs (`rule-paths`) load exactly like the built-in `rules/` folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from be_lint.cli import main
from be_lint.rule import Rule

PYTHON_RULE = """\
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.rule import Example, PythonRule, RuleMeta, Severity, option


@dataclass(frozen=True)
class Options:
    banned: tuple[str, ...] = option(("legacy.query",), "Qualified names that must not be called.")
    max_args: int = option(3, "Largest number of arguments allowed.")


class BannedCall(PythonRule):
    meta = RuleMeta(
        code="BE990",
        name="banned-call",
        summary="Call to a banned function",
        rationale="Our team retired these helpers.",
        how_to_fix="Use the new API.",
        severity=Severity.ERROR,
    )
    options_class = Options
    bad = (Example("import legacy\\nlegacy.query(1)  # expect: BE990\\n"),)
    good = (Example("import legacy\\nlegacy.other(1)\\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.matches(node.func, set(self.options.banned)):
            self.report(node.func, f"banned call (limit {self.options.max_args})")
"""

YAML_RULE = """\
rules:
  - code: BE991
    name: verify-disabled
    summary: TLS verification disabled
    rationale: Disabling verification allows interception.
    how-to-fix: Remove verify=False.
    severity: error
    message: "`{call}` disables TLS certificate verification"
    match:
      kind: call-keyword-equals
      calls: [requests.get, requests.post]
      keyword: verify
      value: false
    fix:
      replace-value: "True"
      safety: unsafe
    bad:
      - code: |
          import requests
          requests.get(u, verify=False, timeout=3)  # expect: BE991
        fixed: |
          import requests
          requests.get(u, verify=True, timeout=3)
    good:
      - |
        import requests
        requests.get(u, verify=True, timeout=3)
"""

APP = """\
import legacy
import requests

legacy.query(1)
requests.get("https://x", verify=False, timeout=3)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    before = len(Rule.registry)
    pack = tmp_path / "lint_rules"
    pack.mkdir()
    (pack / "banned_call.py").write_text(PYTHON_RULE)
    (pack / "tls.yml").write_text(YAML_RULE)
    (pack / "_helpers.py").write_text("raise RuntimeError('private modules are not loaded')\n")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "pyproject.toml").write_text('[tool.be-lint]\nrule-paths = ["lint_rules"]\n')
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    del Rule.registry[before:]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_user_rules_run_next_to_built_in_ones(project: Path) -> None:
    code, out, err = _run("--format", "json", "app.py")
    assert code == 1, err
    found = {(f["code"], f["line"]) for f in json.loads(out)["findings"]}
    assert found == {("BE990", 4), ("BE991", 5)}


def test_user_rules_are_listed_and_explained(project: Path) -> None:
    rows = json.loads(_run("rules", "--format", "json")[1])
    assert {"BE990", "BE991", "BE101"} <= {row["code"] for row in rows}
    assert "Our team retired these helpers." in _run("explain", "banned-call")[1]


def test_options_reach_the_rule(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.be-lint]\nrule-paths = ["lint_rules"]\n'
        "[tool.be-lint.rules.banned-call]\nbanned = ['legacy.other']\nmax-args = 7\n"
    )
    (project / "app.py").write_text("import legacy\nlegacy.other()\nlegacy.query()\n")
    code, out, _ = _run("--format", "json", "app.py")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert (finding["line"], finding["message"]) == (2, "banned call (limit 7)")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("banned = 'x'", "expected a list of strings"),
        ("max-args = 'many'", "expected a number"),
        ("colour = 1", "unknown option 'colour'"),
    ],
)
def test_bad_options_exit_2(project: Path, options: str, message: str) -> None:
    (project / "pyproject.toml").write_text(
        f'[tool.be-lint]\nrule-paths = ["lint_rules"]\n[tool.be-lint.rules.BE990]\n{options}\n'
    )
    code, _, err = _run("app.py")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("broken.yml", "rules: [", "cannot read rule file"),
        ("nokind.yml", "rules:\n  - code: BE992\n", "must be a non-empty string"),
        ("dup.yml", YAML_RULE, "already defined"),
        ("boom.py", "raise ValueError('nope')\n", "ValueError: nope"),
        ("badcode.yml", YAML_RULE.replace("BE991", "X1").replace("verify-", "v-"), "BE + three"),
    ],
)
def test_broken_rule_packs_exit_2(project: Path, filename: str, content: str, message: str) -> None:
    other = project / "more_rules"
    other.mkdir()
    (other / filename).write_text(content)
    (project / "pyproject.toml").write_text(
        '[tool.be-lint]\nrule-paths = ["lint_rules", "more_rules"]\n'
    )
    code, out, err = _run("app.py")
    assert code == 2, out
    assert message in err and "Traceback" not in err


def test_sarif_output_is_schema_valid(project: Path) -> None:
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
    code, out, _ = _run("--format", "sarif", "app.py")
    assert code == 1
    sarif = json.loads(out)
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"BE990", "BE991", "BE701"}
    verify = next(r for r in run["results"] if r["ruleId"] == "BE991")
    assert verify["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]
    assert verify["partialFingerprints"]
