"""Fixing files: lint, apply the fixes, lint the result again, until nothing more changes.

Fixes of one round must not overlap (``fixes.apply_fixes`` keeps the first of two that do);
the others are found again on the fixed text and applied in a later round, up to
``MAX_ROUNDS``. Every round's result must still parse: a fix that breaks the file is dropped,
reported, and not tried again. No printing here: the CLI reports what came back.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from be_lint.engine import Checker
from be_lint.fixes import apply_fixes
from be_lint.rule import FileKind, Finding, Fix, FixSafety
from be_lint.source import SourceText, read_source

MAX_ROUNDS = 10


@dataclass
class FileFix:
    """The outcome of fixing one file."""

    display: str
    original: str
    fixed: str
    #: Fixes applied over all rounds.
    applied: int = 0
    #: Findings whose fix produced code that does not parse (the fix was not applied).
    rejected: list[Finding] = field(default_factory=list)
    #: Findings left in the fixed text.
    findings: list[Finding] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        """A unified diff from the original to the fixed text (empty when unchanged)."""
        if not self.changed:
            return ""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed.splitlines(keepends=True),
            fromfile=f"a/{self.display}",
            tofile=f"b/{self.display}",
        )
        out: list[str] = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


@dataclass
class FixRun:
    files: list[FileFix]
    #: Every finding after fixing: those of fixed files replaced by what is left in them.
    findings: list[Finding]

    @property
    def applied(self) -> int:
        return sum(f.applied for f in self.files)

    @property
    def changed(self) -> list[FileFix]:
        return [f for f in self.files if f.changed]


def wanted(fix: Fix | None, *, unsafe: bool) -> bool:
    return fix is not None and (unsafe or fix.safety is FixSafety.SAFE)


def fix_text(
    checker: Checker,
    text: str,
    display: str,
    package: str | None = None,
    *,
    unsafe: bool = False,
    kind: FileKind | None = None,
) -> FileFix:
    """Fix ``text`` (the file ``display``) in rounds; the result always parses."""
    if kind is None:
        kind = FileKind.SQL if display.lower().endswith(".sql") else FileKind.PYTHON
    result = FileFix(display, text, text)
    banned: set[tuple[object, ...]] = set()
    current = text
    findings = checker.check_text(current, display, kind, package)
    for _ in range(MAX_ROUNDS):
        candidates = [
            f for f in findings if wanted(f.fix, unsafe=unsafe) and _key(f, current) not in banned
        ]
        if not candidates:
            break
        fixed, count = _apply_parsing(current, candidates, kind, banned, result.rejected)
        if count == 0 or fixed == current:
            break
        current = fixed
        result.applied += count
        findings = checker.check_text(current, display, kind, package)
    result.fixed = current
    result.findings = findings
    return result


def _apply_parsing(
    text: str,
    candidates: Sequence[Finding],
    kind: FileKind,
    banned: set[tuple[object, ...]],
    rejected: list[Finding],
) -> tuple[str, int]:
    """Apply the candidates' fixes; a fix that breaks the parse is banned and recorded."""
    fixes = [f.fix for f in candidates if f.fix is not None]
    fixed, count = apply_fixes(text, fixes)
    if _parses(fixed, kind):
        return fixed, count
    # Find the culprits: every fix on its own against the current text.
    good: list[Finding] = []
    for finding in candidates:
        assert finding.fix is not None
        alone, _ = apply_fixes(text, [finding.fix])
        if _parses(alone, kind):
            good.append(finding)
        else:
            banned.add(_key(finding, text))
            rejected.append(finding)
    if not good:
        return text, 0
    fixed, count = apply_fixes(text, [f.fix for f in good if f.fix is not None])
    if _parses(fixed, kind):
        return fixed, count
    # Each parses alone but not together: take one per round.
    first = good[0]
    assert first.fix is not None
    return apply_fixes(text, [first.fix])


def _key(finding: Finding, text: str) -> tuple[object, ...]:
    """A finding's fix, independent of where the file's lines moved to."""
    assert finding.fix is not None
    lines = text.splitlines(keepends=True)
    spans = []
    for edit in finding.fix.edits:
        old = "".join(lines[edit.line - 1 : edit.end_line])
        spans.append((old.strip(), edit.content))
    return (finding.code, finding.fix.description, tuple(spans))


def _parses(text: str, kind: FileKind) -> bool:
    if kind is not FileKind.PYTHON:
        return True
    try:
        cst.parse_module(text)
    except Exception:  # a syntax error, or libcst failing on what a fix produced
        return False
    return True


def fix_files(
    checker: Checker,
    files: Iterable[tuple[Path, str, str | None]],
    findings: Sequence[Finding],
    *,
    unsafe: bool = False,
    write: bool = True,
) -> FixRun:
    """Fix every file (``(path, display, package)``) that has a finding with a wanted fix.

    ``findings`` are the results of a normal run over the same files; files without wanted
    fixes are not read again. With ``write``, changed files are written back in their own
    encoding (a BOM stays).
    """
    fixable = {f.path for f in findings if wanted(f.fix, unsafe=unsafe)}
    results: list[FileFix] = []
    for path, display, package in files:
        if display not in fixable:
            continue
        source = read_source(path, max_bytes=checker.settings.max_file_size)
        if not isinstance(source, SourceText):
            continue
        result = fix_text(checker, source.text, display, package, unsafe=unsafe)
        result.encoding = source.encoding
        results.append(result)
        if write and result.changed:
            path.write_bytes(result.fixed.encode(source.encoding))
    replaced = {r.display for r in results}
    merged = [f for f in findings if f.path not in replaced]
    for result in results:
        merged.extend(result.findings)
    merged.sort(key=lambda f: f.sort_key)
    return FixRun(results, merged)
