"""Turn the command line's paths into the sorted list of files to lint.

Directories are walked with ``os.scandir`` (one system call per directory, file types come
free with the entries), pruning excluded and git-ignored directories before descending, so
the cost follows the size of the code being linted, not of ``node_modules`` or a virtualenv.
Everything that can go wrong with a path found in a walk (a broken or looping symbolic link,
an unreadable directory) becomes a ``problems`` entry: one bad entry must not hide the rest of
the tree. Only a path *argument* that does not exist is fatal (``PathError``), because that is
almost always a typo the user wants to hear about.

Exclusion semantics follow Ruff and git:

* ``exclude`` / ``extend-exclude`` are gitignore patterns relative to ``config.project_root``
  (a bare ``build`` matches at any depth, ``tests/fixtures`` only at the root);
* ``.gitignore`` files (the repository's, nested ones, ``.git/info/exclude``) apply when
  ``respect_gitignore`` is on, each relative to its own directory, deeper files winning;
* a directory holding ``pyvenv.cfg`` (a virtualenv) or ``conda-meta`` (a conda env) is
  skipped whatever its name;
* a path named on the command line is linted even when excluded, unless ``force_exclude``
  (what pre-commit setups want, since pre-commit passes every staged file explicitly). For a
  named *directory* that is itself excluded, the patterns that exclude it are set aside for
  its subtree, so ``be-lint tests/fixtures`` lints the fixtures while still skipping any
  ``__pycache__`` inside them;
* symbolic links to files are linted (once, however many paths reach the same file);
  symbolic links to directories are not followed during a walk, which rules out cycles.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from pathspec import GitIgnoreSpec

from be_lint.config import Config

LINTED_SUFFIXES: tuple[str, ...] = (".py", ".sql")
"""File endings picked up while walking a directory. Files named explicitly are linted
whatever their ending (a script without ``.py``), like Ruff."""

ENV_MARKERS: frozenset[str] = frozenset({"pyvenv.cfg", "conda-meta"})
"""Names whose presence marks a directory as a Python environment rather than project code."""


class PathError(Exception):
    """A path given on the command line does not exist. ``str()`` is one line."""


@dataclass(frozen=True)
class Discovered:
    """Result of ``discover``.

    ``files`` are absolute and lexically normalised but keep the path under which they were
    found (symbolic links are not resolved), sorted and free of duplicates. ``problems``
    pairs paths that could not be examined with a short reason, sorted.
    """

    files: tuple[Path, ...]
    problems: tuple[tuple[Path, str], ...]


def discover(paths: Sequence[Path], config: Config, cwd: Path) -> Discovered:
    """Find the files to lint under ``paths`` (the working directory when empty)."""
    return _Discovery(config, cwd).run(paths)


def display_path(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` with ``/`` separators, or absolute when outside ``cwd``.

    Reports must not depend on where the checkout lives, hence relative paths; a file outside
    the working directory has no stable relative form (``../../x`` changes with the caller),
    so it is shown absolute.
    """
    absolute = PurePath(os.path.normpath(os.path.join(cwd, path)))
    try:
        return absolute.relative_to(os.path.normpath(cwd)).as_posix() or "."
    except ValueError:
        return absolute.as_posix()


# --------------------------------------------------------------------------- matching


class _Layer:
    """Gitignore patterns that are relative to one directory (``base``)."""

    __slots__ = ("any_match", "base", "prefix", "spec")

    def __init__(self, base: str, spec: GitIgnoreSpec, any_match: re.Pattern[str] | None) -> None:
        self.base = base
        # Entries are always below `base` (layers are only applied to their subtree), so
        # slicing off this prefix is the cheapest way to make a path relative.
        self.prefix = base if base.endswith(os.sep) else base + os.sep
        self.spec = spec
        self.any_match = any_match

    @classmethod
    def build(cls, base: str, spec: GitIgnoreSpec) -> _Layer:
        return cls(base, spec, _any_match_regex(spec))

    def rebase(self, base: str) -> _Layer:
        """The same patterns relative to another directory (sharing the compiled regexes)."""
        return _Layer(base, self.spec, self.any_match)

    def check(self, path: str, is_dir: bool) -> bool | None:
        """True: ignored; False: re-included by a ``!`` pattern; None: no pattern matched."""
        if not path.startswith(self.prefix):
            return None
        relative = path[len(self.prefix) :]
        if os.sep != "/":
            relative = relative.replace(os.sep, "/")
        # gitignore patterns ending in `/` match directories only; the trailing slash is how
        # pathspec is told that the path is one.
        if is_dir:
            relative += "/"
        if self.any_match is not None and self.any_match.search(relative) is None:
            return None
        return self.spec.check_file(relative).include

    def without_patterns_matching(self, directory: str) -> _Layer:
        """This layer minus the patterns that match ``directory`` (see the module docstring)."""
        if not directory.startswith(self.prefix):
            return self
        relative = directory[len(self.prefix) :].replace(os.sep, "/") + "/"
        kept = [p for p in self.spec.patterns if p.include is None or not p.match_file(relative)]
        return _Layer.build(self.base, GitIgnoreSpec(kept))


def _any_match_regex(spec: GitIgnoreSpec) -> re.Pattern[str] | None:
    """One regex matching wherever at least one pattern of ``spec`` matches.

    pathspec tries its patterns one by one in Python, about 1 µs each; the walk asks about
    every directory and every candidate file, and almost always the answer is "no pattern
    matches". Alternating all the patterns' regexes lets ``re`` answer that in one C call;
    only paths it matches go through pathspec for the exact (last-match-wins) verdict. When
    the patterns are not plain regexes this returns None and every path takes the slow way.
    """
    sources: list[str] = []
    for pattern in spec.patterns:
        if pattern.include is None:
            continue
        regex = getattr(pattern, "regex", None)
        # Flags do not survive joining sources, so any pattern compiled with some makes the
        # prefilter unsound; fall back rather than guess.
        if (
            not isinstance(regex, re.Pattern)
            or not isinstance(regex.pattern, str)
            or regex.flags != re.UNICODE
        ):
            return None
        # Group names (pathspec marks directory separators with one) may not repeat in one
        # regex; the prefilter needs no groups, so make them plain.
        sources.append(_NAMED_GROUP.sub("(?:", regex.pattern))
    if not sources:
        return None
    try:
        return re.compile("|".join(f"(?:{source})" for source in sources))
    except re.error:
        return None


_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")


def _is_under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(
        directory if directory.endswith(os.sep) else directory + os.sep
    )


# --------------------------------------------------------------------------- the walk


class _Discovery:
    """State of one ``discover`` call: caches of git roots and parsed ignore files."""

    def __init__(self, config: Config, cwd: Path) -> None:
        self.config = config
        self.cwd = os.path.normpath(os.path.abspath(cwd))
        self.project_root = os.path.normpath(os.path.join(self.cwd, config.project_root))
        self.exclude = _Layer.build(
            self.project_root, GitIgnoreSpec.from_lines(config.all_excludes)
        )
        self.respect_gitignore = config.respect_gitignore
        self.found: list[tuple[str, bool]] = []  # (path, is a symbolic link)
        self.problems: list[tuple[str, str]] = []
        # Set when any symbolic link is involved; only then do duplicates need the costlier
        # real-path comparison (without links, equal files have equal normalised paths).
        self.links_seen = False
        self._git_roots: dict[str, str | None] = {}
        self._ignore_files: dict[str, _Layer | None] = {}
        self._info_excludes: dict[str, tuple[_Layer, ...]] = {}
        self._inherited: dict[str, tuple[_Layer, ...]] = {}

    def run(self, paths: Sequence[Path]) -> Discovered:
        for argument in paths or [Path(".")]:
            self._argument(argument)
        return Discovered(files=self._dedupe(), problems=self._sorted_problems())

    # ---------------------------------------------------------------- command-line arguments

    def _argument(self, argument: Path) -> None:
        path = os.path.normpath(os.path.join(self.cwd, argument))
        try:
            info = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise PathError(f"path not found: {argument}") from None
        except OSError as exc:
            self.problems.append((path, _access_error(exc)))
            return
        is_link = stat.S_ISLNK(info.st_mode)
        if is_link:
            try:
                info = os.stat(path)
            except OSError as exc:
                self.problems.append((path, _link_error(exc)))
                return
        if is_link or os.path.realpath(path) != path:
            self.links_seen = True

        is_dir = stat.S_ISDIR(info.st_mode)
        if not is_dir and not stat.S_ISREG(info.st_mode):
            self.problems.append((path, "not a regular file"))
            return
        parent = os.path.dirname(path)
        exclude = self._exclude_layer(parent if not is_dir else path)
        inherited: tuple[_Layer, ...] = ()
        if self.respect_gitignore and not (is_dir and self._top(path)[0] == path):
            # Ignore files above the top (the repository root) do not apply; the walk reads
            # the top directory's own ones.
            inherited = self._layers_for(parent)
        excluded = path != self.project_root and self._ignored(path, is_dir, exclude, inherited)
        if excluded and self.config.force_exclude:
            return
        if not is_dir:
            self.found.append((path, is_link))
            return
        if excluded:
            # Named explicitly but excluded: set aside the patterns responsible, so the
            # subtree is judged as if the user had pointed the tool straight at it.
            exclude = exclude.without_patterns_matching(path)
            inherited = tuple(layer.without_patterns_matching(path) for layer in inherited)
        self._walk(path, exclude, inherited)

    def _exclude_layer(self, directory: str) -> _Layer:
        # Patterns are relative to the project root; outside it (linting some other tree),
        # relative to the argument, where at least the unanchored ones (`build`) still work.
        base = self.project_root if _is_under(directory, self.project_root) else directory
        return self.exclude.rebase(base)

    # ---------------------------------------------------------------- directories

    def _walk(self, root: str, exclude: _Layer, inherited: tuple[_Layer, ...]) -> None:
        stack: list[tuple[str, tuple[_Layer, ...]]] = [(root, inherited)]
        while stack:
            directory, layers = stack.pop()
            try:
                with os.scandir(directory) as scan:
                    entries = list(scan)
            except OSError as exc:
                self.problems.append((directory, _directory_error(exc)))
                continue
            names = {entry.name for entry in entries}
            if directory != root and not ENV_MARKERS.isdisjoint(names):
                continue  # a virtualenv or conda env: installed packages, not project code
            if self.respect_gitignore:
                if ".git" in names:  # a repository root (or a nested one): its own excludes
                    layers = (*layers, *self._info_exclude(directory))
                if ".gitignore" in names:
                    own = self._ignore_file(directory)
                    if own is not None:
                        layers = (*layers, own)
            for entry in entries:
                self._entry(entry, exclude, layers, stack)

    def _entry(
        self,
        entry: os.DirEntry[str],
        exclude: _Layer,
        layers: tuple[_Layer, ...],
        stack: list[tuple[str, tuple[_Layer, ...]]],
    ) -> None:
        path = entry.path
        linted = entry.name.endswith(LINTED_SUFFIXES)
        try:
            if entry.is_symlink():
                # Links to directories are never followed; links to anything else only matter
                # when they look like code.
                if linted and not self._ignored(path, False, exclude, layers):
                    self._linked_file(path)
            elif entry.is_dir(follow_symlinks=False):
                if not self._ignored(path, True, exclude, layers):
                    stack.append((path, layers))
            elif (
                linted
                and entry.is_file(follow_symlinks=False)
                and not self._ignored(path, False, exclude, layers)
            ):
                self.found.append((path, False))
        except OSError as exc:  # d_type unknown and the entry vanished or is unreadable
            self.problems.append((path, _access_error(exc)))

    def _linked_file(self, path: str) -> None:
        try:
            info = os.stat(path)
        except OSError as exc:
            self.problems.append((path, _link_error(exc)))
            return
        if stat.S_ISREG(info.st_mode):
            self.links_seen = True
            self.found.append((path, True))

    def _ignored(
        self, path: str, is_dir: bool, exclude: _Layer, layers: tuple[_Layer, ...]
    ) -> bool:
        if exclude.check(path, is_dir):
            return True
        # git's precedence: the deepest ignore file with a matching pattern decides.
        for layer in reversed(layers):
            verdict = layer.check(path, is_dir)
            if verdict is not None:
                return verdict
        return False

    # ---------------------------------------------------------------- .gitignore files

    def _layers_for(self, directory: str) -> tuple[_Layer, ...]:
        """Ignore layers applying to entries directly inside ``directory`` (an ancestor walk).

        They start at the repository root (with ``.git/info/exclude``); outside a repository
        ``.gitignore`` files are still honoured, from the project root (or ``directory`` when
        it is elsewhere) down, so an exported tarball behaves like its checkout.
        """
        cached = self._inherited.get(directory)
        if cached is not None:
            return cached
        top, git_root = self._top(directory)
        layers: tuple[_Layer, ...]
        if directory == top or os.path.dirname(directory) == directory:
            layers = () if git_root is None else self._info_exclude(git_root)
        else:
            layers = self._layers_for(os.path.dirname(directory))
        own = self._ignore_file(directory)
        if own is not None:
            layers = (*layers, own)
        self._inherited[directory] = layers
        return layers

    def _top(self, directory: str) -> tuple[str, str | None]:
        """The directory where ignore files start to apply for ``directory``, and the
        repository root if there is one."""
        git_root = self._git_root(directory)
        if git_root is not None:
            return git_root, git_root
        if _is_under(directory, self.project_root):
            return self.project_root, None
        return directory, None

    def _git_root(self, directory: str) -> str | None:
        visited: list[str] = []
        current = directory
        result: str | None = None
        while True:
            if current in self._git_roots:
                result = self._git_roots[current]
                break
            visited.append(current)
            # `.git` is a directory in a plain clone and a file in worktrees and submodules.
            if os.path.lexists(os.path.join(current, ".git")):
                result = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for path in visited:
            self._git_roots[path] = result
        return result

    def _info_exclude(self, git_root: str) -> tuple[_Layer, ...]:
        if git_root not in self._info_excludes:
            self._info_excludes[git_root] = self._read_info_exclude(git_root)
        return self._info_excludes[git_root]

    def _read_info_exclude(self, git_root: str) -> tuple[_Layer, ...]:
        dot_git = os.path.join(git_root, ".git")
        git_dir = dot_git if os.path.isdir(dot_git) else _gitdir_from_file(dot_git)
        if git_dir is None:
            return ()
        layer = self._read_ignore_file(os.path.join(git_dir, "info", "exclude"), git_root)
        return () if layer is None else (layer,)

    def _ignore_file(self, directory: str) -> _Layer | None:
        if directory not in self._ignore_files:
            path = os.path.join(directory, ".gitignore")
            self._ignore_files[directory] = self._read_ignore_file(path, directory)
        return self._ignore_files[directory]

    def _read_ignore_file(self, path: str, base: str) -> _Layer | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            # Linting files the user meant to ignore is noisy but visible; say why.
            self.problems.append((path, f"cannot read ignore file: {exc.strerror or exc}"))
            return None
        spec = GitIgnoreSpec.from_lines(lines)
        if all(p.include is None for p in spec.patterns):
            return None  # only comments and blank lines
        return _Layer.build(base, spec)

    # ---------------------------------------------------------------- results

    def _dedupe(self) -> tuple[Path, ...]:
        ordered = sorted({path: link for path, link in self.found}.items(), key=_path_key)
        if not self.links_seen:
            return tuple(Path(path) for path, _ in ordered)
        real_dirs: dict[str, str] = {}
        seen: set[str] = set()
        files: list[Path] = []
        for path, is_link in ordered:
            if is_link:
                real = os.path.realpath(path)
            else:
                # A regular file's real path is its directory's plus its name, and there are
                # far fewer directories than files to resolve.
                parent, name = os.path.split(path)
                if parent not in real_dirs:
                    real_dirs[parent] = os.path.realpath(parent)
                real = os.path.join(real_dirs[parent], name)
            if real not in seen:
                seen.add(real)
                files.append(Path(path))
        return tuple(files)

    def _sorted_problems(self) -> tuple[tuple[Path, str], ...]:
        unique = dict.fromkeys(self.problems)
        return tuple((Path(p), message) for p, message in sorted(unique, key=_path_key))


def _path_key(item: tuple[str, object]) -> tuple[list[str], str]:
    # Component-wise, like Path ordering: `a/b.py` sorts before `a-b.py`, keeping each
    # directory's files together.
    return item[0].split(os.sep), str(item[1])


def _gitdir_from_file(dot_git: str) -> str | None:
    """The repository directory named by a ``.git`` file (``gitdir: <path>``)."""
    try:
        with open(dot_git, encoding="utf-8", errors="replace") as handle:
            first = handle.readline().strip()
    except OSError:
        return None
    if not first.startswith("gitdir:"):
        return None
    return os.path.normpath(os.path.join(os.path.dirname(dot_git), first[len("gitdir:") :].strip()))


def _link_error(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "broken symbolic link"
    return _access_error(exc)


def _directory_error(exc: OSError) -> str:
    return f"cannot read directory: {exc.strerror or exc}"


def _access_error(exc: OSError) -> str:
    return f"cannot access: {exc.strerror or exc}"
