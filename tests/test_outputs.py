"""Several outputs in one run, GitHub Actions defaults, --statistics and the progress bar
(issue 8)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint import progress
from be_lint.cli import main
from be_lint.outputs import Output, OutputError, parse_output, plan_outputs

APP = "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_parse_output() -> None:
    assert parse_output("sarif") == Output("sarif", None)
    assert parse_output("SARIF:out/results.sarif") == Output("sarif", Path("out/results.sarif"))
    assert parse_output("junit:C:/ci/report.xml") == Output("junit", Path("C:/ci/report.xml"))
    with pytest.raises(OutputError, match="unknown format 'xml'"):
        parse_output("xml:a.xml")
    with pytest.raises(OutputError, match="no file"):
        parse_output("json:")


def test_plan_outputs_defaults() -> None:
    assert plan_outputs((), None, None, {}) == [Output("text")]
    assert plan_outputs((), None, None, {"GITHUB_ACTIONS": "true"}) == [
        Output("text"),
        Output("github"),
    ]
    # An explicit format wins over the Actions default.
    assert plan_outputs((), "json", None, {"GITHUB_ACTIONS": "true"}) == [Output("json")]
    assert plan_outputs(("sarif:x",), None, None, {"GITHUB_ACTIONS": "true"}) == [
        Output("sarif", Path("x"))
    ]
    # --output alone keeps the default format.
    assert plan_outputs((), None, Path("r.txt"), {}) == [Output("text", Path("r.txt"))]
    assert plan_outputs((), None, Path("r.txt"), {"GITHUB_ACTIONS": "true"}) == [
        Output("text", Path("r.txt")),
        Output("github"),
    ]


def test_plan_outputs_conflicts() -> None:
    with pytest.raises(OutputError, match="standard output"):
        plan_outputs(("json", "text"), None, None, {})
    with pytest.raises(OutputError, match="same file"):
        plan_outputs(("json:a", "sarif:a"), None, None, {})


def test_several_outputs_in_one_run(project: Path) -> None:
    code, out, _ = _run(
        "--output-format",
        "sarif:results.sarif",
        "--output-format",
        "junit:junit.xml",
        "--output-format",
        "gitlab:gl.json",
        "--output-format",
        "text",
        ".",
    )
    assert code == 1
    assert "app.py:5:12: BE701" in out
    sarif = json.loads((project / "results.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["BE701"]
    junit = ET.parse(project / "junit.xml").getroot()
    assert len(junit.findall("testsuite/testcase/failure")) == 1
    gitlab = json.loads((project / "gl.json").read_text())
    assert gitlab[0]["location"] == {"path": "app.py", "lines": {"begin": 5, "end": 5}}


def test_outputs_match_single_format_runs(project: Path) -> None:
    _run("--output-format", "json:a.json", "--output-format", "sarif:a.sarif", ".")
    assert (project / "a.json").read_text() == _run("--format", "json", ".")[1]
    assert (project / "a.sarif").read_text() == _run("--format", "sarif", ".")[1]


def test_format_and_output_still_work(project: Path) -> None:
    code, out, _ = _run("--format", "json", "--output", "r.json", ".")
    assert code == 1 and out == ""
    assert json.loads((project / "r.json").read_text())["summary"]["findings"] == 1
    # ... and combine with --output-format.
    _run("--format", "junit", "-o", "j.xml", "--output-format", "gitlab", ".")
    assert (project / "j.xml").read_text().startswith("<?xml")


def test_bad_output_format_exits_2(project: Path) -> None:
    code, _, err = _run("--output-format", "yaml", ".")
    assert code == 2
    assert err.startswith("be-lint: error: --output-format 'yaml': unknown format")


def test_github_annotations_under_actions(project: Path) -> None:
    code, out, _ = _run(".", env={"GITHUB_ACTIONS": "true"})
    assert code == 1
    text, annotations = out.split("Found 1 finding", 1)
    assert "app.py:5:12: BE701" in text
    assert annotations.strip().splitlines()[-1].startswith("::warning file=app.py,line=5,col=12,")
    # A format given explicitly is exactly what is printed.
    _, json_out, _ = _run("--format", "json", ".", env={"GITHUB_ACTIONS": "true"})
    assert "::warning" not in json_out and json.loads(json_out)
    _, plain, _ = _run(".", env={"GITHUB_ACTIONS": "false"})
    assert "::warning" not in plain


def test_statistics_text_and_json(project: Path) -> None:
    (project / "more.py").write_text(APP + "requests.post(url)\n")
    _, out, _ = _run("--statistics", "-q", ".")
    assert out.rstrip().splitlines()[-1] == "3  BE701  http-request-without-timeout"
    _, out, _ = _run("--statistics", "--format", "json", ".")
    assert json.loads(out)["statistics"] == [
        {"code": "BE701", "count": 3, "name": "http-request-without-timeout"}
    ]


# -- progress --------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert progress.wanted(_Tty(), quiet=False)
    assert not progress.wanted(io.StringIO(), quiet=False)
    assert not progress.wanted(_Tty(), quiet=True)
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted(_Tty(), quiet=False)
    monkeypatch.setenv("CI", "false")
    assert progress.wanted(_Tty(), quiet=False)


def test_progress_draws_after_a_delay_and_erases_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    stream = _Tty()
    with progress.Progress(10, stream) as bar:
        bar.advance(3)
        assert stream.getvalue() == ""  # short runs never show a bar
        clock[0] += 2
        bar.advance(2)
        assert stream.getvalue().endswith("5/10 files")
    assert stream.getvalue().endswith("\r\x1b[2K")
    silent = _Tty()
    with progress.Progress(10, silent, enabled=False) as bar:
        clock[0] += 5
        bar.advance(10)
    assert silent.getvalue() == ""


def test_progress_never_touches_stdout(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Force the bar on from the first file: stdout must be the same bytes either way.
    for index in range(6):
        (project / f"m{index}.py").write_text(APP)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    monkeypatch.setattr("be_lint.cli.progress_wanted", lambda stream, quiet: True)
    code, with_bar, err = _run("-j", "1", "--format", "json", ".")
    assert code == 1
    assert "files" in err and "\r" in err
    monkeypatch.setattr("be_lint.cli.progress_wanted", lambda stream, quiet: False)
    assert _run("-j", "1", "--format", "json", ".")[1] == with_bar
