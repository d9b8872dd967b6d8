"""``--changed-since REF`` (issue 8): only findings on lines added or changed since a git ref."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main
from be_lint.gitdiff import parse_diff

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

OLD = """\
import requests


def first(url):
    return requests.get(url)


def second(url):
    return requests.get(url)
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text(OLD)
    (root / "pkg" / "untouched.py").write_text("import requests\nrequests.get('u')\n")
    (root / "pkg" / "moved.py").write_text(OLD)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "start")
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    return root


def _run(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["--no-cache", *args])
    found = [line.split(": ")[0] for line in result.stdout.splitlines() if ": BE" in line]
    return result.exit_code, found, result.stderr


def test_only_changed_lines_are_reported(repo: Path) -> None:
    assert _run("--changed-since", "HEAD", ".")[:2] == (0, [])
    app = repo / "pkg" / "app.py"
    app.write_text(
        OLD.replace("def second(url):\n", "def second(url):\n    requests.post(url)\n")
        + "\n\ndef third(url):\n    return requests.put(url)\n"
    )
    code, found, _ = _run("--changed-since", "HEAD", ".")
    assert code == 1
    assert found == ["pkg/app.py:9:5", "pkg/app.py:14:12"]


def test_staged_and_committed_changes_count_against_an_older_ref(repo: Path) -> None:
    (repo / "pkg" / "app.py").write_text(OLD + "\nrequests.get('x')\n")
    _git(repo, "commit", "-qam", "more")
    assert _run("--changed-since", "HEAD", ".")[1] == []
    assert _run("--changed-since", "HEAD~1", ".")[1] == ["pkg/app.py:11:1"]


def test_untracked_files_count_as_changed_in_full(repo: Path) -> None:
    (repo / "pkg" / "new.py").write_text(OLD)
    _, found, _ = _run("--changed-since", "HEAD", ".")
    assert found == ["pkg/new.py:5:12", "pkg/new.py:9:12"]


def test_a_renamed_file_reports_only_its_edited_lines(repo: Path) -> None:
    _git(repo, "mv", "pkg/moved.py", "pkg/renamed.py")
    renamed = repo / "pkg" / "renamed.py"
    renamed.write_text(OLD + "\n\ndef third(url):\n    return requests.get(url)\n")
    _, found, _ = _run("--changed-since", "HEAD", ".")
    assert found == ["pkg/renamed.py:13:12"]


def test_works_from_a_subdirectory_and_on_paths_outside_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "pkg" / "app.py").write_text(OLD + "\nrequests.get('x')\n")
    monkeypatch.chdir(repo / "pkg")
    assert _run("--changed-since", "HEAD", ".")[1] == ["app.py:11:1"]
    monkeypatch.chdir(repo.parent)
    assert _run("--changed-since", "HEAD", "repo")[1] == ["repo/pkg/app.py:11:1"]


def test_clear_errors_outside_a_repository_and_on_a_bad_ref(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run("--changed-since", "no-such-branch", ".")
    assert code == 2
    assert err == "be-lint: error: --changed-since: unknown git revision 'no-such-branch'\n"
    code, _, err = _run("--changed-since", "--output=x", ".")
    assert code == 2 and len(err.splitlines()) == 1
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "a.py").write_text("x = 1\n")
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, _, err = _run("--changed-since", "HEAD", ".")
    assert code == 2
    assert err.startswith("be-lint: error: --changed-since: not inside a git repository")
    assert len(err.splitlines()) == 1


def test_changed_lines_compose_with_a_baseline(repo: Path) -> None:
    assert CliRunner().invoke(main, ["baseline", "."]).exit_code == 0
    app = repo / "pkg" / "app.py"
    app.write_text(OLD.replace("def first(url):\n", "def first(url):\n    x = 1\n"))
    # The finding below the inserted line moved, but it is baselined and its line unchanged.
    code, found, _ = _run("--changed-since", "HEAD", "--baseline", ".be-lint-baseline.json", ".")
    assert (code, found) == (0, [])


def test_parse_diff_reads_hunks_quoted_paths_and_deletions(tmp_path: Path) -> None:
    diff = (
        b"diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n"
        b"@@ -1,0 +2,3 @@\n+x\n+y\n+z\n@@ -10 +12 @@\n-old\n+new\n@@ -20,2 +23,0 @@\n-a\n-b\n"
        b'diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"\n--- "a/caf\\303\\251.py"\n'
        b'+++ "b/caf\\303\\251.py"\n@@ -1 +1 @@\n-a\n+b\n'
    )
    files = parse_diff(diff, tmp_path)
    assert files[str(tmp_path / "a.py")] == frozenset({2, 3, 4, 12})
    assert files[str(tmp_path / "café.py")] == frozenset({1})


def test_only_changed_files_are_checked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from be_lint import engine

    parsed: list[str] = []
    real = engine._parse

    def counting(text: str) -> object:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(engine, "_parse", counting)
    changed = OLD + "\nrequests.get('x')\n"
    (repo / "pkg" / "app.py").write_text(changed)
    assert _run("-j", "1", "--changed-since", "HEAD", ".")[1] == ["pkg/app.py:11:1"]
    assert parsed == [changed]
