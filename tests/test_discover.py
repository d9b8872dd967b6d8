"""File discovery: excludes, .gitignore, environments, explicit paths and symbolic links."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import pytest

from be_lint.config import Config
from be_lint.discover import Discovered, PathError, discover, display_path

needs_symlinks = pytest.mark.skipif(
    not hasattr(os, "symlink") or os.name == "nt", reason="needs POSIX symbolic links"
)


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def run(root: Path, *paths: str, **fields: object) -> Discovered:
    """Discover ``paths`` from ``root``, with ``root`` as the project root plus ``fields``."""
    config = dataclasses.replace(Config(project_root=root), **fields)  # type: ignore[arg-type]
    return discover([Path(p) for p in paths], config, root)


def names(result: Discovered, root: Path) -> list[str]:
    return [display_path(path, root) for path in result.files]


# --------------------------------------------------------------------------- basics


def test_walks_py_and_sql_sorted(tmp_path: Path) -> None:
    touch(tmp_path, "b.py", "a/z.sql", "a/y.py", "a-b.py", "notes.txt", "stub.pyi", "c.PY")
    result = run(tmp_path)
    assert names(result, tmp_path) == ["a/y.py", "a/z.sql", "a-b.py", "b.py"]
    assert result.problems == ()
    assert all(path.is_absolute() for path in result.files)


def test_relative_and_absolute_arguments(tmp_path: Path) -> None:
    touch(tmp_path, "src/app.py", "other/x.py")
    result = run(tmp_path, "src", str(tmp_path / "other"))
    assert result.files == (tmp_path / "other" / "x.py", tmp_path / "src" / "app.py")


def test_overlapping_arguments_deduplicated(tmp_path: Path) -> None:
    touch(tmp_path, "src/app.py")
    result = run(tmp_path, "src", "src/app.py", "./src/../src")
    assert names(result, tmp_path) == ["src/app.py"]


def test_nonexistent_path_raises(tmp_path: Path) -> None:
    with pytest.raises(PathError, match=r"^path not found: srcc$"):
        run(tmp_path, "srcc")


def test_explicit_file_any_suffix(tmp_path: Path) -> None:
    touch(tmp_path, "manage")
    assert names(run(tmp_path, "manage"), tmp_path) == ["manage"]


# --------------------------------------------------------------------------- excludes


def test_default_excludes_skip_build_dist_caches(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "app.py",
        "build/gen.py",
        "dist/pkg.py",
        "pkg/__pycache__/m.py",
        "pkg/node_modules/x.py",
        "thing.egg-info/x.py",
        ".git/hooks/x.py",
        ".venv/lib/x.py",
        "deep/er/build/x.py",
    )
    assert names(run(tmp_path), tmp_path) == ["app.py"]


def test_default_excludes_are_directory_patterns(tmp_path: Path) -> None:
    # A module *named* like an excluded directory is code; only the directories are skipped.
    touch(tmp_path, "build.py", "pkg/dist.py", "env/settings.py")
    assert names(run(tmp_path), tmp_path) == ["build.py", "env/settings.py", "pkg/dist.py"]


def test_exclude_replaces_defaults(tmp_path: Path) -> None:
    touch(tmp_path, "build/gen.py", "legacy/old.py", "app.py")
    result = run(tmp_path, exclude=("legacy",))
    assert names(result, tmp_path) == ["app.py", "build/gen.py"]


def test_extend_exclude_anchored_and_unanchored(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "app.py",
        "tests/fixtures/bad.py",
        "pkg/tests/fixtures/kept.py",
        "pkg/generated_pb2.py",
        "build/x.py",
    )
    result = run(tmp_path, extend_exclude=("tests/fixtures", "*_pb2.py"))
    assert names(result, tmp_path) == ["app.py", "pkg/tests/fixtures/kept.py"]


def test_exclude_relative_to_project_root_not_cwd(tmp_path: Path) -> None:
    touch(tmp_path, "svc/tests/fixtures/bad.py", "svc/tests/test_a.py")
    config = Config(project_root=tmp_path / "svc", extend_exclude=("tests/fixtures",))
    result = discover([Path("svc")], config, tmp_path)
    assert names(result, tmp_path) == ["svc/tests/test_a.py"]


def test_exclude_negation(tmp_path: Path) -> None:
    touch(tmp_path, "gen/a.py", "gen/keep.py")
    result = run(tmp_path, exclude=("gen/*.py", "!gen/keep.py"))
    assert names(result, tmp_path) == ["gen/keep.py"]


def test_virtualenv_detected_by_pyvenv_cfg(tmp_path: Path) -> None:
    touch(tmp_path, "app.py", "myenv/lib/python3.12/site.py", "conda/lib/x.py")
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (tmp_path / "conda" / "conda-meta").mkdir()
    assert names(run(tmp_path), tmp_path) == ["app.py"]


def test_explicit_excluded_file_kept_unless_force_exclude(tmp_path: Path) -> None:
    touch(tmp_path, "build/gen.py", "migrations/0001.py")
    config = Config(project_root=tmp_path, extend_exclude=("migrations",))
    kept = discover([Path("build/gen.py"), Path("migrations/0001.py")], config, tmp_path)
    assert names(kept, tmp_path) == ["build/gen.py", "migrations/0001.py"]
    forced = Config(project_root=tmp_path, extend_exclude=("migrations",), force_exclude=True)
    dropped = discover([Path("build/gen.py"), Path("migrations/0001.py")], forced, tmp_path)
    assert dropped.files == ()
    assert dropped.problems == ()


def test_explicit_excluded_directory_is_walked(tmp_path: Path) -> None:
    touch(tmp_path, "tests/fixtures/a.py", "tests/fixtures/__pycache__/a.py")
    config = Config(project_root=tmp_path, extend_exclude=("tests/fixtures",))
    result = discover([Path("tests/fixtures")], config, tmp_path)
    # The pattern naming the directory is set aside; the others still apply inside it.
    assert names(result, tmp_path) == ["tests/fixtures/a.py"]
    forced = Config(project_root=tmp_path, extend_exclude=("tests/fixtures",), force_exclude=True)
    assert discover([Path("tests/fixtures")], forced, tmp_path).files == ()


def test_paths_outside_project_root(tmp_path: Path) -> None:
    touch(tmp_path, "proj/app.py", "elsewhere/lib.py", "elsewhere/build/x.py")
    config = Config(project_root=tmp_path / "proj")
    result = discover([tmp_path / "elsewhere"], config, tmp_path / "proj")
    assert result.files == (tmp_path / "elsewhere" / "lib.py",)
    assert display_path(result.files[0], tmp_path / "proj") == (
        (tmp_path / "elsewhere" / "lib.py").as_posix()
    )


# --------------------------------------------------------------------------- .gitignore


def git_repo(root: Path) -> None:
    (root / ".git" / "info").mkdir(parents=True)


def test_gitignore_respected(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("generated/\n*_local.py\n", encoding="utf-8")
    touch(tmp_path, "app.py", "generated/x.py", "settings_local.py", "pkg/db_local.py")
    assert names(run(tmp_path), tmp_path) == ["app.py"]


def test_gitignore_off(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("generated/\n", encoding="utf-8")
    touch(tmp_path, "app.py", "generated/x.py")
    result = run(tmp_path, respect_gitignore=False)
    assert names(result, tmp_path) == ["app.py", "generated/x.py"]


def test_nested_gitignore_relative_to_its_directory_and_overrides_parent(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("*.sql\n", encoding="utf-8")
    touch(tmp_path, "a.sql", "db/schema.sql", "db/tmp/x.py", "tmp/y.py", "db/app.py")
    (tmp_path / "db" / ".gitignore").write_text("!schema.sql\n/tmp/\n", encoding="utf-8")
    assert names(run(tmp_path), tmp_path) == ["db/app.py", "db/schema.sql", "tmp/y.py"]


def test_gitignore_above_repository_root_ignored(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.py\n", encoding="utf-8")  # e.g. in $HOME
    git_repo(tmp_path / "repo")
    touch(tmp_path, "repo/app.py")
    config = Config(project_root=tmp_path / "repo")
    result = discover([Path(".")], config, tmp_path / "repo")
    assert names(result, tmp_path / "repo") == ["app.py"]
    outside_git = Config(project_root=tmp_path / "proj")
    touch(tmp_path, "proj/app.py")
    result = discover([Path(".")], outside_git, tmp_path / "proj")
    # Outside a repository, ignore files start at the project root; nothing leaks from above.
    assert names(result, tmp_path / "proj") == ["app.py"]


def test_git_info_exclude(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".git" / "info" / "exclude").write_text("scratch.py\n", encoding="utf-8")
    touch(tmp_path, "scratch.py", "app.py")
    assert names(run(tmp_path), tmp_path) == ["app.py"]


def test_gitignore_of_ancestors_applies_when_walking_a_subdirectory(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("out/\n", encoding="utf-8")
    touch(tmp_path, "src/pkg/out/x.py", "src/pkg/a.py")
    result = discover([Path("pkg")], Config(project_root=tmp_path), tmp_path / "src")
    assert names(result, tmp_path / "src") == ["pkg/a.py"]


def test_gitignore_of_repo_root_above_project_root(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("secret_*.py\n", encoding="utf-8")
    touch(tmp_path, "svc/secret_a.py", "svc/b.py")
    config = Config(project_root=tmp_path / "svc")
    assert names(discover([], config, tmp_path / "svc"), tmp_path / "svc") == ["b.py"]


def test_gitignore_outside_a_repository_still_honoured(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    touch(tmp_path, "gen/x.py", "a.py")
    assert names(run(tmp_path), tmp_path) == ["a.py"]


def test_worktree_git_file(tmp_path: Path) -> None:
    real = tmp_path / "real-git-dir"
    (real / "info").mkdir(parents=True)
    (real / "info" / "exclude").write_text("ignored.py\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").write_text("gitdir: ../real-git-dir\n", encoding="utf-8")
    touch(work, "ignored.py", "kept.py")
    assert names(run(work), work) == ["kept.py"]


def test_explicit_gitignored_file_kept_unless_force_exclude(tmp_path: Path) -> None:
    git_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("local.py\n", encoding="utf-8")
    touch(tmp_path, "local.py")
    assert names(run(tmp_path, "local.py"), tmp_path) == ["local.py"]
    assert run(tmp_path, "local.py", force_exclude=True).files == ()


# --------------------------------------------------------------------------- links


@needs_symlinks
def test_symlinked_file_linted_once(tmp_path: Path) -> None:
    touch(tmp_path, "real/mod.py")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real" / "mod.py")
    # "alias.py" sorts before "real/mod.py", so the link is the path kept.
    assert names(run(tmp_path), tmp_path) == ["alias.py"]


@needs_symlinks
def test_symlinked_file_to_outside_is_linted(tmp_path: Path) -> None:
    touch(tmp_path, "outside/shared.py")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "shared.py").symlink_to(tmp_path / "outside" / "shared.py")
    assert names(run(tmp_path / "proj"), tmp_path / "proj") == ["shared.py"]


@needs_symlinks
def test_symlinked_directory_not_followed_in_walk(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "mirror").symlink_to(tmp_path / "pkg", target_is_directory=True)
    result = run(tmp_path)
    assert names(result, tmp_path) == ["pkg/a.py"]
    assert result.problems == ()


@needs_symlinks
def test_symlinked_directory_followed_when_named(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py")
    (tmp_path / "mirror").symlink_to(tmp_path / "pkg", target_is_directory=True)
    assert names(run(tmp_path, "mirror"), tmp_path) == ["mirror/a.py"]
    # Both spellings of the same file: linted once, under the first path in order.
    assert names(run(tmp_path, "pkg", "mirror"), tmp_path) == ["mirror/a.py"]


@needs_symlinks
def test_broken_symlink_and_loop_reported(tmp_path: Path) -> None:
    touch(tmp_path, "ok.py")
    (tmp_path / "broken.py").symlink_to(tmp_path / "gone.py")
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    (tmp_path / "broken_data").symlink_to(tmp_path / "nothing")  # not code: not reported
    result = run(tmp_path)
    assert names(result, tmp_path) == ["ok.py"]
    assert result.problems == (
        (tmp_path / "broken.py", "broken symbolic link"),
        (tmp_path / "loop_a.py", "symbolic link loop"),
        (tmp_path / "loop_b.py", "symbolic link loop"),
    )


@needs_symlinks
def test_explicit_broken_symlink_is_a_problem_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").symlink_to(tmp_path / "gone.py")
    (tmp_path / "self.py").symlink_to(tmp_path / "self.py")
    result = run(tmp_path, "broken.py", "self.py")
    assert result.files == ()
    assert result.problems == (
        (tmp_path / "broken.py", "broken symbolic link"),
        (tmp_path / "self.py", "symbolic link loop"),
    )


@needs_symlinks
def test_ignored_broken_symlink_not_reported(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "broken.py").symlink_to(tmp_path / "gone.py")
    assert run(tmp_path).problems == ()


# --------------------------------------------------------------------------- unreadable


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any directory"
)
def test_unreadable_directory_reported_and_walk_continues(tmp_path: Path) -> None:
    touch(tmp_path, "locked/a.py", "open/b.py")
    locked = tmp_path / "locked"
    locked.chmod(0)
    try:
        result = run(tmp_path)
    finally:
        locked.chmod(0o755)
    assert names(result, tmp_path) == ["open/b.py"]
    assert len(result.problems) == 1
    path, message = result.problems[0]
    assert path == locked
    assert message.startswith("cannot read directory: ")


# --------------------------------------------------------------------------- display


def test_display_path(tmp_path: Path) -> None:
    assert display_path(tmp_path / "a" / "b.py", tmp_path) == "a/b.py"
    assert display_path(Path("a/b.py"), tmp_path) == "a/b.py"
    assert display_path(tmp_path, tmp_path) == "."
    outside = tmp_path.parent / "x.py"
    assert display_path(outside, tmp_path) == outside.as_posix()


def test_unreadable_directory_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same path as above, reachable when the suite runs as root (as in CI).
    touch(tmp_path, "locked/a.py", "open/b.py")
    locked = str(tmp_path / "locked")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path == locked:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run(tmp_path)
    assert names(result, tmp_path) == ["open/b.py"]
    assert result.problems == ((tmp_path / "locked", "cannot read directory: Permission denied"),)
