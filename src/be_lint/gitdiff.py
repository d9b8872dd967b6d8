"""Changed lines since a git ref, for ``--changed-since REF``.

``git diff --unified=0 REF`` compares the working tree (staged and unstaged edits alike) with
``REF`` and lists, per file, the line ranges that were added or changed on the new side; files
git does not track yet count as changed in full. Renames are followed (``-M``): a moved file
reports only the lines edited in the move, under its new name. Git runs from the repository's
top level so that its paths (``--relative`` would drop files outside the working directory)
can be joined to absolute paths and compared with the files being linted.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from be_lint.rule import Finding

#: ``@@ -a,b +c,d @@``: the new side starts at ``c`` and spans ``d`` lines (1 when omitted).
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(Exception):
    """git is missing, the path is outside a repository, or the ref is unknown (one line)."""


#: All lines of a file (untracked or new files).
ALL: frozenset[int] = frozenset({0})


@dataclass(frozen=True)
class ChangedLines:
    """Changed lines per absolute, normalised file path."""

    files: dict[str, frozenset[int]]

    def contains(self, path: str, line: int) -> bool:
        lines = self.files.get(os.path.normcase(os.path.normpath(path)))
        if lines is None:
            return False
        return lines is ALL or line in lines

    def touches(self, path: Path) -> bool:
        """Whether ``path`` (absolute) has any changed line."""
        lines = self.files.get(os.path.normcase(os.path.normpath(os.path.abspath(path))))
        return bool(lines)

    def keep(self, findings: Iterable[Finding], cwd: Path) -> list[Finding]:
        """The findings on changed lines (a multi-line finding counts if any of its lines did).

        Findings about a whole file that cannot be read or parsed (BE001, BE002, BE006, BE007,
        BE008) are kept whenever the file changed at all.
        """
        out = []
        for finding in findings:
            absolute = os.path.normpath(os.path.join(cwd, finding.path))
            key = os.path.normcase(absolute)
            if key not in self.files:
                continue
            lines = range(finding.line, max(finding.line, finding.end_line) + 1)
            if finding.code in _WHOLE_FILE or any(self.contains(absolute, n) for n in lines):
                out.append(finding)
        return out


_WHOLE_FILE = frozenset({"BE001", "BE002", "BE006", "BE007", "BE008"})


def _git(args: Sequence[str], cwd: Path) -> bytes:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("--changed-since needs git, which was not found on PATH") from None
    except OSError as error:
        raise GitError(f"cannot run git: {error}") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(detail[0] if detail else f"git {args[0]} failed")
    return result.stdout


def repository_root(cwd: Path) -> Path:
    try:
        out = _git(["rev-parse", "--show-toplevel"], cwd)
    except GitError as error:
        raise GitError(f"--changed-since: not inside a git repository ({error})") from None
    return Path(os.fsdecode(out.rstrip(b"\n")))


def changed_lines(ref: str, cwd: Path) -> ChangedLines:
    """Lines added or changed since ``ref`` in the repository that contains ``cwd``."""
    if ref.startswith("-"):
        raise GitError(f"--changed-since: {ref!r} is not a git revision")
    root = repository_root(cwd)
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    except GitError:
        raise GitError(f"--changed-since: unknown git revision {ref!r}") from None
    diff = _git(
        [
            "-c",
            "core.quotePath=false",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--unified=0",
            "-M",
            "--diff-filter=AMRC",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            ref,
            "--",
        ],
        root,
    )
    files = parse_diff(diff, root)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    for name in untracked.split(b"\0"):
        if name:
            files[_key(root, os.fsdecode(name))] = ALL
    return ChangedLines(files)


def parse_diff(diff: bytes, root: Path) -> dict[str, frozenset[int]]:
    """File -> changed new-side lines, from ``git diff --unified=0`` output."""
    files: dict[str, set[int]] = {}
    current: set[int] | None = None
    for raw in diff.split(b"\n"):
        if raw.startswith(b"+++ "):
            target = raw[4:]
            if target == b"/dev/null":
                current = None
                continue
            name = _unquote(target)
            name = name[2:] if name.startswith("b/") else name
            current = files.setdefault(_key(root, name), set())
        elif raw.startswith(b"@@") and current is not None:
            match = _HUNK.match(raw)
            if match is None:
                continue
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            current.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in files.items()}


def _unquote(raw: bytes) -> str:
    """git quotes paths with unusual bytes as C strings (``"b/caf\\303\\251.py"``)."""
    text = raw.rstrip(b"\t")
    if text.startswith(b'"') and text.endswith(b'"'):
        body = text[1:-1]
        decoded = body.decode("unicode_escape").encode("latin-1")
        return os.fsdecode(decoded)
    return os.fsdecode(text)


def _key(root: Path, relative: str) -> str:
    return os.path.normcase(os.path.normpath(os.path.join(root, relative)))
