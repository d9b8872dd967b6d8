"""The command line as users drive it: exit codes, formats, config errors, stdin, jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main

APP = """\
import requests


def fetch(url):
    return requests.get(url)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "clean.py").write_text("import requests\nrequests.get('u', timeout=3)\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_findings_exit_1_and_print_a_code_frame(project: Path) -> None:
    code, out, _ = _run(".")
    assert code == 1
    assert "app.py:5:12: BE701 [warning]" in out
    assert "5 |     return requests.get(url)" in out
    assert out.rstrip().endswith("Found 1 finding (0 errors, 1 warning, 0 infos) in 2 files.")


def test_check_is_the_default_command(project: Path) -> None:
    assert _run("check", ".")[1] == _run(".")[1] == _run()[1]


def test_clean_tree_exits_0(project: Path) -> None:
    code, out, _ = _run("clean.py")
    assert code == 0
    assert "No findings in 1 file." in out


def test_exit_zero_and_fail_on(project: Path) -> None:
    assert _run("--exit-zero", ".")[0] == 0
    assert _run("--fail-on", "error", ".")[0] == 0
    assert _run("--fail-on", "info", ".")[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select", "BE999"], "unknown rule or prefix 'BE999'"),
        (["--select", "nope"], "unknown rule or prefix 'nope'"),
        (["--sql-dialect", "klingon"], "klingon"),
        (["missing-dir"], "path not found: missing-dir"),
        (["--config", "nowhere.toml"], "config file not found"),
        (["--format", "xml"], "xml"),
        (["--jobs", "0"], "0"),
    ],
)
def test_usage_errors_exit_2_with_one_line(project: Path, args: list[str], message: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_config_errors_exit_2_naming_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.be-lint]\nselct = ['BE7']\n")
    code, _, err = _run(".")
    assert code == 2
    assert "selct" in err and len(err.strip().splitlines()) == 1


def test_unknown_rule_options_exit_2(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.be-lint.rules.BE701]\ncolour = 1\n")
    code, _, err = _run(".")
    assert code == 2 and "colour" in err
    (project / "pyproject.toml").write_text("[tool.be-lint.rules.BE777]\nx = 1\n")
    code, _, err = _run(".")
    assert code == 2 and "BE777" in err


def test_config_select_and_per_file_ignores(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.be-lint]\nper-file-ignores = { 'app.py' = ['BE701'] }\n"
    )
    assert _run(".")[0] == 0
    (project / "pyproject.toml").write_text("[tool.be-lint]\nseverity = { BE701 = 'info' }\n")
    assert _run(".")[0] == 0  # info is below the default fail-on (warning)


def test_json_output(project: Path) -> None:
    code, out, _ = _run("--format", "json", ".")
    data = json.loads(out)
    assert code == 1
    (finding,) = data["findings"]
    assert finding["code"] == "BE701" and finding["path"] == "app.py"
    assert finding["fix"]["safety"] == "unsafe"
    assert data["summary"]["files"] == 2


def test_output_file(project: Path) -> None:
    code, out, _ = _run("--format", "sarif", "--output", "out.sarif", ".")
    assert code == 1 and out == ""
    sarif = json.loads((project / "out.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "BE701"


def test_stdin(project: Path) -> None:
    code, out, _ = _run("--stdin-filename", "pkg/view.py", "-", stdin=APP)
    assert code == 1
    assert "pkg/view.py:5:12: BE701" in out
    code, out, _ = _run("-", stdin="x = 1\n")
    assert code == 0


def test_quiet_drops_the_summary(project: Path) -> None:
    out = _run("-q", ".")[1]
    assert "BE701" in out and "Found" not in out


def test_statistics(project: Path) -> None:
    out = _run("--statistics", ".")[1]
    assert "http-request-without-timeout" in out.split("app.py:5:12")[-1]


def test_rules_and_explain() -> None:
    code, out, _ = _run("rules")
    assert code == 0
    assert "BE701" in out and "http-request-without-timeout" in out
    rows = json.loads(_run("rules", "--format", "json")[1])
    assert {"BE001", "BE101", "BE201", "BE701"} <= {row["code"] for row in rows}
    code, out, _ = _run("explain", "BE701")
    assert code == 0 and "timeout" in out
    assert _run("explain", "http-request-without-timeout")[1] == out
    code, _, err = _run("explain", "BE999")
    assert code == 2 and "BE999" in err


def test_jobs_give_byte_identical_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(40):
        package = tmp_path / f"pkg{index % 4}"
        package.mkdir(exist_ok=True)
        (package / f"mod{index}.py").write_text(APP * (1 + index % 3))
    (tmp_path / "pkg0" / "broken.py").write_text("import requests\ndef f(:\n")
    monkeypatch.chdir(tmp_path)
    outputs = set()
    for jobs in ("1", "2", "3"):
        for fmt in ("text", "json", "sarif"):
            outputs.add((fmt, _run("-j", jobs, "--format", fmt, ".")[1]))
    assert len(outputs) == 3
    text = next(out for fmt, out in outputs if fmt == "text")
    assert "pkg0/broken.py:2:7: BE001" in text


def test_respects_gitignore_and_excludes(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("generated/\n")
    (project / "generated").mkdir()
    (project / "generated" / "client.py").write_text(APP)
    (project / "build").mkdir()
    (project / "build" / "lib.py").write_text(APP)
    assert "generated/" not in _run(".")[1]
    assert "build/" not in _run(".")[1]
    assert "generated/client.py" in _run("--no-respect-gitignore", ".")[1]
    # A path named explicitly is linted unless --force-exclude.
    assert "generated/client.py" in _run("generated/client.py")[1]
    assert _run("--force-exclude", "generated/client.py")[0] == 0


def test_no_color_when_not_a_tty(project: Path) -> None:
    assert "\x1b[" not in _run(".")[1]


def test_per_file_ignores_are_relative_to_the_config_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.be-lint.per-file-ignores]\n'**/migrations/*.py' = ['BE7']\n'app.py' = ['BE701']\n"
    )
    migrations = project / "shop" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0001_initial.py").write_text(APP)
    (migrations / "deeper").mkdir()
    (migrations / "deeper" / "x.py").write_text(APP)
    (project / "migrations").mkdir()
    (project / "migrations" / "0002.py").write_text(APP)
    monkeypatch.chdir(project / "shop")
    out = _run("--format", "json", "..")[1]
    paths = sorted(f["path"] for f in json.loads(out)["findings"])
    # `*` does not cross directories; `**/` also matches at the top; globs are anchored at
    # the directory of pyproject.toml although the run starts in shop/.
    assert paths == ["migrations/deeper/x.py"]
