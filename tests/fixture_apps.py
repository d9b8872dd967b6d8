"""Multi-file fixture apps whose lines carry ``# expect: CODE`` markers (ORM and queue tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main


def expected(app: Path, family: str) -> set[tuple[str, int, str]]:
    """``(path, line, code)`` of every ``# expect:`` marker naming codes of ``family``
    (``"BE4"``) in the app's Python files."""
    marker = re.compile(rf"#\s*expect:\s*({family}[0-9]{{2}}(?:\s*,\s*{family}[0-9]{{2}})*)")
    out = set()
    for path in sorted(app.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = marker.search(line)
            if match:
                for code in re.split(r"\s*,\s*", match.group(1)):
                    out.add((path.relative_to(app).as_posix(), number, code))
    return out


def lint(
    app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, select: str, *args: str
) -> str:
    """The JSON report of ``be-lint check --select SELECT`` run inside ``app`` with an empty
    configuration (so no configuration above the fixture applies)."""
    config = tmp_path / "be-lint.toml"
    config.write_text("")
    monkeypatch.chdir(app)
    result = CliRunner().invoke(
        main,
        ["check", "--select", select, "--format", "json", "--config", str(config), *args, "."],
    )
    assert result.exit_code in (0, 1), result.output
    return result.stdout
