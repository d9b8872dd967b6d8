"""Bad input never stops a run or prints a traceback: each case becomes a clear finding.

Each file below contains a trigger of BE701 (``requests``) so the prefilter does not skip it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import be_lint.source
from be_lint.cli import main

GOOD = "import requests\nrequests.get(url)\n"


def _lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, list[dict]]:
    (tmp_path / "good.py").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--format", "json", "-j", "1", *args, "."])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    # The good file is always checked: the run went on.
    assert any(f["path"] == "good.py" and f["code"] == "BE701" for f in findings)
    return result.exit_code, [f for f in findings if f["path"] != "good.py"]


def _only(findings: list[dict]) -> dict:
    assert len(findings) == 1, findings
    return findings[0]


def test_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.py").write_text("import requests\nx = (1,\n")
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert finding["code"] == "BE001" and finding["line"] == 2
    assert "never closed" in finding["message"]


def test_latin1_with_coding_cookie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = "# -*- coding: latin-1 -*-\nimport requests\nname = 'caf\xe9'\nrequests.get(name)\n"
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert (finding["code"], finding["line"]) == ("BE701", 4)


def test_utf8_bom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert (finding["code"], finding["line"], finding["column"]) == ("BE701", 2, 1)


def test_undecodable_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.py").write_bytes(b"import requests\nx = '\xff\xfe'\n")
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert finding["code"] == "BE002" and finding["line"] == 2


def test_binary_file_named_py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "blob.py").write_bytes(bytes(range(256)) * 8)
    assert _only(_lint(tmp_path, monkeypatch)[1])["code"] == "BE002"


def test_nul_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nul.py").write_bytes(b"import requests\x00\n")
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert finding["code"] == "BE002" and "NUL" in finding["message"]


def test_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "empty.sql").write_text("")
    assert _lint(tmp_path, monkeypatch)[1] == []


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "[" * 1000 + "]" * 1000,
        "a." * 20000 + "b",
        "1 + " * 10000 + "1",
        "f(" * 3000 + ")" * 3000,
    ],
    ids=["parens", "lists", "attribute-chain", "operator-chain", "calls"],
)
def test_deep_nesting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expression: str) -> None:
    (tmp_path / "deep.py").write_text(f"import requests\nx = {expression}\n")
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert finding["code"] == "BE008" and finding["line"] == 2


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text(GOOD)
    if os.geteuid() != 0:
        secret.chmod(0)
    else:  # root reads everything: deny the open where the engine reads files

        def deny(file: object, *args: Any, **kwargs: Any) -> Any:
            if str(file).endswith("secret.py"):
                raise PermissionError(13, "Permission denied", str(file))
            return open(file, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(be_lint.source, "open", deny, raising=False)
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert finding["code"] == "BE006" and "Permission denied" in finding["message"]


def test_symlink_loop_and_broken_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    findings = _lint(tmp_path, monkeypatch)[1]
    assert {f["path"]: f["code"] for f in findings} == {
        "dangling.py": "BE006",
        "loop_a.py": "BE006",
        "loop_b.py": "BE006",
    }


def test_missing_path_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["does/not/exist.py"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "be-lint: error: path not found: does/not/exist.py"


def test_large_generated_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = "requests.get(url)  # generated\n"
    (tmp_path / "generated.py").write_text("import requests\n" + line * (5_000_000 // len(line)))
    finding = _only(_lint(tmp_path, monkeypatch)[1])
    assert finding["code"] == "BE007" and finding["severity"] == "info"
    assert "max-file-size" in finding["message"]
