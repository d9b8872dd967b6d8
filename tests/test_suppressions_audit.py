"""Suppressions users can account for: reasons, ``until=`` expiry (BE009), the ``be-lint
suppressions`` listing, ``--ignore-suppressions``, and peers' comments (issue 8)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main
from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind, Finding
from be_lint.suppress import (
    BANDIT,
    DETECT_SECRETS,
    PEERS,
    RUFF,
    SEMGREP,
    parse_suppressions,
    peer_rule_names,
    peer_table_markdown,
)

RULES = builtin_rules()
KNOWN = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})
NAMES = {r.meta.name for r in RULES}
ROOT = Path(__file__).resolve().parent.parent


def _lint(
    text: str, codes: tuple[str, ...] = ("BE003", "BE004", "BE009", "BE701", "BE802"), **kw: object
) -> list[tuple[str, int]]:
    settings = Settings(selected=codes, known=KNOWN, **kw)  # type: ignore[arg-type]
    findings: list[Finding] = Checker(settings, RULES).check_text(text, "t.py", FileKind.PYTHON)
    return [(f.code, f.line) for f in findings]


# -- reasons and until= ----------------------------------------------------------------------


def test_reason_and_until_are_parsed() -> None:
    (s,) = parse_suppressions(
        "x = 1  # be-lint: ignore[BE701] vendor API is slow -- OPS-12 until=2027-03-31  # noqa: E501\n",
        sql=False,
    )
    assert s.reason == "vendor API is slow -- OPS-12"
    assert s.until == "2027-03-31"
    assert s.until_date is not None and s.until_date.isoformat() == "2027-03-31"
    (bare,) = parse_suppressions("x = 1  # be-lint: ignore  until=2027-01-01\n", sql=False)
    assert bare.codes is None and bare.reason == "" and bare.until == "2027-01-01"


GET = "import requests\nrequests.get(u)  # be-lint: ignore[BE701] reviewed until={}\n"


def test_a_suppression_before_its_date_is_silent() -> None:
    assert _lint(GET.format("2027-06-30"), today="2027-06-30") == []


def test_an_expired_suppression_still_suppresses_but_is_reported() -> None:
    assert _lint(GET.format("2027-06-30"), today="2027-07-01") == [("BE009", 2)]


@pytest.mark.parametrize("date", ["2027-02-30", "27-01-01", "soon", ""])
def test_an_invalid_date_is_reported(date: str) -> None:
    assert _lint(GET.format(date), today="2020-01-01") == [("BE009", 2)]


def test_expiry_message_and_position() -> None:
    settings = Settings(selected=("BE009", "BE701"), known=KNOWN, today="2030-01-01")
    (finding,) = Checker(settings, RULES).check_text(
        GET.format("2029-12-31"), "t.py", FileKind.PYTHON
    )
    assert "expired on 2029-12-31" in finding.message
    line = GET.format("2029-12-31").splitlines()[1]
    assert line[finding.column - 1 : finding.end_column - 1] == "2029-12-31"


def test_expired_suppression_not_reported_when_be009_is_not_selected() -> None:
    assert _lint(GET.format("2020-01-01"), codes=("BE701",), today="2027-07-01") == []


# -- audit mode ------------------------------------------------------------------------------


def test_ignore_suppressions_reports_everything() -> None:
    text = (
        "import requests\n"
        "requests.get(u)  # be-lint: ignore[BE701]\n"
        "requests.get(u)  # noqa: BE701\n"
        "requests.get(u, timeout=3)  # be-lint: ignore[BE701]\n"
        "# be-lint: file-ignore[BE7]\n"
    )
    assert _lint(text) == [("BE003", 4)]
    # Every finding comes back, and nothing is said about the comments themselves.
    assert _lint(text, ignore_suppressions=True) == [("BE701", 2), ("BE701", 3)]


# -- peers -----------------------------------------------------------------------------------

PEER_CASES = [
    ("requests.get(u)  # nosec B113\n", []),
    ("requests.get(u)  # nosec: B113\n", []),
    ("requests.get(u)  # nosec B101, B113\n", []),
    ("requests.get(u)  # nosec\n", []),
    ("requests.get(u)  # noqa: S113\n", []),
    ("requests.get(u)  # noqa: E501, S113\n", []),
    ("requests.get(u)  # nosemgrep\n", []),
    ("requests.get(u)  # nosemgrep: python.requests.best-practice.use-timeout.use-timeout\n", []),
    ("requests.get(u)  # nosemgrep: use-timeout\n", []),
    # Another check's code does not suppress this one, and is not ours to report.
    ("requests.get(u)  # nosec B608\n", [("BE701", 2)]),
    ("requests.get(u)  # noqa: S608\n", [("BE701", 2)]),
    ("requests.get(u)  # nosec B101\n", [("BE701", 2)]),
    ("requests.get(u)  # nosemgrep: some.other.rule\n", [("BE701", 2)]),
    # Peers' comments that suppress nothing are never reported as unused.
    ("requests.get(u, timeout=3)  # nosec B113\n", []),
    ("requests.get(u, timeout=3)  # nosec\n", []),
    ("requests.get(u, timeout=3)  # noqa: S113\n", []),
    ("requests.get(u, timeout=3)  # nosemgrep\n", []),
    # A statement spanning lines: the comment on its first line counts, as for be-lint's own.
    ("requests.get(  # nosec B113\n    u,\n)\n", []),
    # Quoted in a string, it is not a comment.
    ("s = '# nosec'; requests.get(u)\n", [("BE701", 2)]),
]


@pytest.mark.parametrize(("body", "expected"), PEER_CASES)
def test_peer_comments(body: str, expected: list[tuple[str, int]]) -> None:
    assert _lint("import requests\n" + body) == expected


def test_bare_peer_comment_covers_only_rules_with_a_peer_equivalent() -> None:
    text = "import logging\nlogging.info('x %s' % y)  # nosec\n"
    # eager-log-formatting has no Bandit/Semgrep/Ruff-S equivalent: the comment is not for it.
    assert "eager-log-formatting" not in peer_rule_names()
    assert _lint(text) == [("BE802", 2)]


def test_peer_comments_are_ignored_in_audit_mode() -> None:
    assert _lint("import requests\nrequests.get(u)  # nosec\n", ignore_suppressions=True) == [
        ("BE701", 2)
    ]


def test_every_mapped_rule_exists() -> None:
    for tool, table in PEERS.items():
        for peer_code, names in table.items():
            assert names, f"{tool} {peer_code} maps to nothing"
            missing = set(names) - NAMES
            assert not missing, f"{tool} {peer_code} maps to unknown rules {missing}"


def test_mapping_keys_have_the_peers_shapes() -> None:
    assert all(re.fullmatch(r"B[0-9]{3}", code) for code in BANDIT)
    assert all(re.fullmatch(r"S[0-9]{3}", code) for code in RUFF)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", rule_id) for rule_id in SEMGREP)


def test_the_mapping_table_is_documented() -> None:
    doc = (ROOT / "docs" / "suppressions.md").read_text(encoding="utf-8")
    assert peer_table_markdown() in doc, "regenerate the tables in docs/suppressions.md"


def test_detect_secrets_allowlist_pragma() -> None:
    body = "API_PASSWORD = 'hunter2-but-longer'  # pragma: allowlist secret\n"
    codes = ("BE003", "BE501")
    assert _lint("import os\n" + body.replace("  # pragma: allowlist secret", ""), codes) == [
        ("BE501", 2)
    ]
    assert _lint("import os\n" + body, codes) == []
    assert set(DETECT_SECRETS) <= NAMES
    plain = body.replace("  # pragma: allowlist secret", "")
    for comment in ("# nosec B105", "# noqa: S105", "# nosec"):
        assert _lint("import os\n" + plain.rstrip("\n") + f"  {comment}\n", codes) == []
    # A Bandit code for another check leaves the finding alone.
    assert _lint("import os\n" + plain.rstrip("\n") + "  # nosec B311\n", codes) == [("BE501", 2)]


# -- be-lint suppressions ---------------------------------------------------------------------

PROJECT = """\
import requests

requests.get(u)  # be-lint: ignore[BE701] vendor is slow until=2020-01-01
requests.get(u, timeout=2)  # be-lint: ignore[http-request-without-timeout]
requests.get(u)  # nosec B113
x = 1  # nosemgrep
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(PROJECT)
    (tmp_path / "clean.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_suppressions_command_json(project: Path) -> None:
    result = CliRunner().invoke(main, ["suppressions", "--format", "json", "."])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows = [
        (r["line"], r["tool"], r["codes"], r["reason"], r["until"], r["expired"], r["used"])
        for r in document["suppressions"]
    ]
    assert rows == [
        (3, "be-lint", ["BE701"], "vendor is slow", "2020-01-01", True, True),
        (4, "be-lint", ["http-request-without-timeout"], "", None, False, False),
        (5, "nosec", ["B113"], "", None, False, True),
        (6, "nosemgrep", [], "", None, False, False),
    ]
    assert all(r["path"] == "app.py" for r in document["suppressions"])
    assert document["summary"] == {"files": 2, "suppressions": 4, "unused": 2, "expired": 1}


def test_suppressions_command_text(project: Path) -> None:
    result = CliRunner().invoke(main, ["suppressions"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "app.py:3:18: be-lint [BE701]  used  until 2020-01-01 (EXPIRED)  reason: vendor is slow"
    )
    assert lines[-1] == "4 suppressions (2 unused, 1 expired) in 1 of 2 files."


def test_cli_ignore_suppressions(project: Path) -> None:
    normal = CliRunner().invoke(main, ["--format", "json", "."])
    audit = CliRunner().invoke(main, ["--format", "json", "--ignore-suppressions", "."])
    codes = lambda out: [(f["code"], f["line"]) for f in json.loads(out)["findings"]]  # noqa: E731
    assert codes(normal.stdout) == [("BE009", 3), ("BE003", 4)]
    assert codes(audit.stdout) == [("BE701", 3), ("BE701", 5)]
