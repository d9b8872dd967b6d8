"""Applying fixes: text edits at 1-based (line, column) ranges, non-overlapping, end to start."""

from __future__ import annotations

from collections.abc import Iterable

from be_lint.rule import Edit, Fix


def _offsets(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """Apply every fix whose edits do not overlap an earlier one; returns (text, fixes applied).

    Fixes are taken in order of position; one that overlaps a fix already taken is left for a
    later round (the caller re-checks the fixed text).
    """
    starts = _offsets(text)

    def offset(line: int, column: int) -> int:
        return starts[min(line, len(starts)) - 1] + column - 1

    taken: list[tuple[int, int, Edit]] = []
    applied = 0
    for fix in sorted(fixes, key=lambda f: [(e.line, e.column) for e in f.edits]):
        spans = [(offset(e.line, e.column), offset(e.end_line, e.end_column), e) for e in fix.edits]
        if any(s < te and ts < e for s, e, _ in spans for ts, te, _ in taken):
            continue
        taken.extend(spans)
        applied += 1
    for start, end, edit in sorted(taken, key=lambda span: span[0], reverse=True):
        text = text[:start] + edit.content + text[end:]
    return text, applied
