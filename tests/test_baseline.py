"""Baselines and the ratchet (issue 8): adopt be-lint in a legacy tree, then only new findings
count. Moving code must never bring baselined findings back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint import baseline
from be_lint.cli import main
from be_lint.rule import Finding, Severity

LEGACY = """\
import requests


def first(url):
    return requests.get(url)


def second(url):
    return requests.get(url)


def third(url):
    return requests.post(url, data={})
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(LEGACY)
    (tmp_path / "other.py").write_text("import requests\nrequests.get('u')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".home-cache"))
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def _record(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["baseline", *args])
    assert result.exit_code == 0, result.output
    return json.loads(Path(".be-lint-baseline.json").read_text())


def _lines(out: str) -> list[str]:
    return [line.split(": ")[0] for line in out.splitlines() if ": BE" in line]


def test_the_baseline_file_is_versioned_sorted_and_line_free(project: Path) -> None:
    document = _record(".")
    assert document["tool"] == "be-lint" and document["version"] == 1
    entries = document["findings"]
    assert isinstance(entries, list) and len(entries) == 4
    assert [(e["path"], e["code"]) for e in entries] == sorted(
        (e["path"], e["code"]) for e in entries
    )
    assert all(set(e) == {"code", "name", "path", "fingerprint"} for e in entries)
    text = Path(".be-lint-baseline.json").read_text()
    _record(".")
    assert Path(".be-lint-baseline.json").read_text() == text  # byte-identical


def test_baselined_findings_are_hidden_and_new_ones_reported(project: Path) -> None:
    _record(".")
    code, out, err = _run("--baseline", ".be-lint-baseline.json", ".")
    assert code == 0 and _lines(out) == []
    assert "4 baselined findings hidden" in err
    (project / "app.py").write_text(LEGACY + "\n\ndef fourth(url):\n    return requests.get(url)\n")
    code, out, _ = _run("--baseline", ".be-lint-baseline.json", ".")
    assert code == 1 and _lines(out) == ["app.py:17:12"]


def test_moving_code_does_not_resurrect_findings(project: Path) -> None:
    _record(".")
    # Lines inserted above, functions reordered, indentation of blank lines changed.
    moved = '"""A docstring that pushes everything down."""\n\nimport os\n' + LEGACY.replace(
        "import requests\n", "import requests\n\nTIMEOUT = 3\n"
    )
    head, _, rest = moved.partition("def first")
    first, _, tail = rest.partition("def second")
    moved = head + "def second" + tail + "\n\ndef first" + first
    (project / "app.py").write_text(moved)
    code, out, _ = _run("--baseline", ".be-lint-baseline.json", ".")
    assert (code, _lines(out)) == (0, [])


def test_duplicates_are_told_apart_by_occurrence(project: Path) -> None:
    _record(".")
    # A third copy of an identical statement is new, though its text matches the other two.
    (project / "app.py").write_text(LEGACY + "\n\ndef again(url):\n    return requests.get(url)\n")
    code, out, _ = _run("--baseline", ".be-lint-baseline.json", ".")
    assert code == 1 and len(_lines(out)) == 1


def test_entries_that_no_longer_occur_are_counted_and_pruned(project: Path) -> None:
    _record(".")
    (project / "other.py").write_text("import requests\nrequests.get('u', timeout=3)\n")
    code, _, err = _run("--baseline", ".be-lint-baseline.json", ".")
    assert code == 0
    assert "1 baseline entry no longer occurs" in err
    code, _, _ = _run(
        "--format", "json", "--baseline", ".be-lint-baseline.json", "--update-baseline", "."
    )
    assert code == 0
    remaining = json.loads(Path(".be-lint-baseline.json").read_text())["findings"]
    assert [e["path"] for e in remaining] == ["app.py"] * 3
    _, _, err = _run("--baseline", ".be-lint-baseline.json", ".")
    assert "no longer occur" not in err


def test_linting_part_of_the_tree_does_not_call_the_rest_stale(project: Path) -> None:
    _record(".")
    _, _, err = _run("--baseline", ".be-lint-baseline.json", "app.py")
    assert "no longer occur" not in err
    _run("--baseline", ".be-lint-baseline.json", "--update-baseline", "app.py")
    entries = json.loads(Path(".be-lint-baseline.json").read_text())["findings"]
    assert len(entries) == 4


def test_baseline_from_config_is_relative_to_the_config_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(".")
    (project / "pyproject.toml").write_text('[tool.be-lint]\nbaseline = ".be-lint-baseline.json"\n')
    sub = project / "pkg"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code, out, _ = _run("..")
    assert (code, _lines(out)) == (0, [])


def test_a_baseline_recorded_elsewhere_matches_from_any_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "lint").mkdir()
    result = CliRunner().invoke(main, ["baseline", "-o", "lint/base.json", "."])
    assert result.exit_code == 0
    entries = json.loads((project / "lint" / "base.json").read_text())["findings"]
    assert entries[0]["path"] == "../app.py"
    monkeypatch.chdir(project / "lint")
    code, out, _ = _run("--baseline", "base.json", "..")
    assert (code, _lines(out)) == (0, [])


def test_ratchet_fails_only_when_a_count_grows(project: Path) -> None:
    _record(".")
    # Editing a baselined line changes its fingerprint, but the count of BE701 stays 3.
    edited = LEGACY.replace("return requests.get(url)\n", "return requests.get(url + '/')\n", 1)
    (project / "app.py").write_text(edited)
    code, _, _ = _run("--baseline", ".be-lint-baseline.json", ".")
    assert code == 1  # plain baseline: the edited line counts as new
    code, out, err = _run("--baseline", ".be-lint-baseline.json", "--ratchet", ".")
    assert (code, _lines(out), "grew" in err) == (0, [], False)
    (project / "app.py").write_text(edited + "\n\ndef more(url):\n    return requests.get(url)\n")
    code, out, err = _run("--baseline", ".be-lint-baseline.json", "--ratchet", ".")
    assert code == 1
    assert "ratchet: app.py: BE701 grew from 3 to 4" in err
    assert len(_lines(out)) >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ratchet", "."], "--ratchet needs a baseline"),
        (["--update-baseline", "."], "--update-baseline needs a baseline"),
        (["--baseline", "missing.json", "."], "baseline file not found: "),
    ],
)
def test_usage_errors_exit_2(project: Path, args: list[str], message: str) -> None:
    code, _, err = _run(*args)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"tool": "be-lint", "version": 99, "findings": []}',
        '{"tool": "be-lint", "version": 1, "findings": [{"code": 1}]}',
    ],
)
def test_broken_baseline_files_exit_2(project: Path, content: str) -> None:
    Path("bad.json").write_text(content)
    code, _, err = _run("--baseline", "bad.json", ".")
    assert code == 2 and err.startswith("be-lint: error:") and len(err.splitlines()) == 1


def test_fingerprints_ignore_line_numbers_and_whitespace() -> None:
    def finding(line: int, snippet: str) -> Finding:
        return Finding(
            "BE701", "x", Severity.WARNING, "m", "a.py", line, 1, line, 2, snippet=(snippet,)
        )

    base = Path("/p")
    one = baseline.entries_for([finding(3, "requests.get(u)")], base, base)
    two = baseline.entries_for([finding(40, "    requests.get( u)".replace("( ", "("))], base, base)
    assert one[0].fingerprint == two[0].fingerprint
    pair = baseline.entries_for([finding(3, "x()"), finding(9, "x()")], base, base)
    assert pair[0].fingerprint != pair[1].fingerprint


def test_json_summary_counts_the_baseline(project: Path) -> None:
    _record(".")
    (project / "other.py").write_text("x = 1\n")
    code, out, _ = _run("--format", "json", "--baseline", ".be-lint-baseline.json", ".")
    assert code == 0
    assert json.loads(out)["summary"]["baseline"] == {"hidden": 3, "stale": 1, "grown": 0}
    _, plain, _ = _run("--format", "json", ".")
    assert "baseline" not in json.loads(plain)["summary"]


def test_stdin_uses_the_baseline_without_calling_other_files_stale(project: Path) -> None:
    _record(".")
    result = CliRunner().invoke(
        main,
        ["--baseline", ".be-lint-baseline.json", "--stdin-filename", "app.py", "-"],
        input=LEGACY,
    )
    assert result.exit_code == 0
    assert "no longer occur" not in result.stderr
