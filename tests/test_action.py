"""The GitHub Action (action.yml): well-formed, and every be-lint flag it uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from be_lint.cli import main

ACTION = Path(__file__).resolve().parent.parent / "action.yml"


def _action() -> dict[str, object]:
    data = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _steps() -> list[dict[str, object]]:
    runs = _action()["runs"]
    assert isinstance(runs, dict) and runs["using"] == "composite"
    steps = runs["steps"]
    assert isinstance(steps, list)
    return steps


def test_inputs() -> None:
    inputs = _action()["inputs"]
    assert isinstance(inputs, dict)
    assert set(inputs) == {
        "paths",
        "args",
        "version",
        "sarif-file",
        "upload-sarif",
        "python-version",
    }
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert isinstance(spec.get("default"), str), name  # action inputs are strings
    text = ACTION.read_text(encoding="utf-8")
    for name in inputs:
        assert f"inputs.{name}" in text, f"input {name} is never used"


def test_run_steps_use_bash_and_existing_flags() -> None:
    help_text = CliRunner().invoke(main, ["check", "--help"]).stdout
    scripts = [str(step["run"]) for step in _steps() if "run" in step]
    assert scripts
    for step in _steps():
        if "run" in step:
            assert step["shell"] == "bash"  # composite steps must name their shell
    lint = next(s for s in scripts if "be_lint check" in s)
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", lint))
    assert {"--output-format"} <= flags
    for flag in flags:
        assert flag in help_text, f"action.yml uses {flag}, which `be-lint check` lacks"
    # The output specs it passes are valid formats.
    for spec in re.findall(r'--output-format\s+"?([a-z]+)', lint):
        assert f"{spec}" in {"sarif", "github", "text", "json", "gitlab", "junit"}


def test_installs_from_the_action_or_a_version() -> None:
    install = next(str(s["run"]) for s in _steps() if "pip install" in str(s.get("run", "")))
    assert "$ACTION_PATH" in install and "be-lint==$BE_LINT_VERSION" in install
    (step,) = [s for s in _steps() if s.get("name") == "Install be-lint"]
    env = step["env"]
    assert isinstance(env, dict) and env["ACTION_PATH"] == "${{ github.action_path }}"


def test_uploads_sarif_when_enabled() -> None:
    (upload,) = [s for s in _steps() if str(s.get("uses", "")).startswith("github/codeql-action")]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert "inputs.upload-sarif == 'true'" in str(upload["if"])
    with_ = upload["with"]
    assert isinstance(with_, dict) and with_["sarif_file"] == "${{ inputs.sarif-file }}"


def test_user_input_never_expands_inside_a_script() -> None:
    # `${{ inputs.x }}` inside `run:` would be pasted into the shell script (script injection);
    # inputs reach scripts through environment variables only.
    for step in _steps():
        if "run" in step:
            assert "${{" not in str(step["run"]), step.get("name")
