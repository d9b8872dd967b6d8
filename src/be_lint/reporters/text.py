"""The human format: a header per finding, a code frame, hints, and a one-line summary.

The header ``path:line:col: CODE [severity] message`` is the shape editors and terminals already
turn into links, so it stays on one line whatever the message contains. Everything taken from
the scanned code or from rule text is made printable first: a linted file must not be able to
send escape sequences to the user's terminal through a snippet.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from be_lint.rule import Finding, Severity

if TYPE_CHECKING:
    from be_lint.reporters import Report

# Tabs are shown as a fixed four spaces (as ruff does) rather than left to the terminal's tab
# stops, because the underline must be computed in the same cells the source is drawn in.
_TAB = "    "

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;34m",
}


def render(report: Report) -> str:
    """Render ``report`` for a person reading a terminal or a CI log."""
    blocks = [_finding_block(finding, report.color) for finding in report.findings]
    out: list[str] = []
    for block in blocks:
        out.extend(block)
        out.append("")
    if report.statistics and report.findings:
        out.extend(_statistics(report))
        out.append("")
    out.append(_summary(report))
    return "\n".join(out) + "\n"


def _finding_block(finding: Finding, color: bool) -> list[str]:
    code = finding.code
    severity = f"[{finding.severity.value}]"
    if color:
        style = _SEVERITY_STYLE[finding.severity]
        code = f"{style}{code}{_RESET}"
        severity = f"{style}{severity}{_RESET}"
    header = (
        f"{_printable(finding.path)}:{finding.line}:{finding.column}: "
        f"{code} {severity} {_printable(finding.message)}"
    )
    lines = [header, *_frame(finding)]
    if finding.help:
        lines.extend(_hint("help", finding.help))
    if finding.fix is not None:
        label = f"fix available ({finding.fix.safety.value})"
        if finding.fix.description:
            lines.extend(_hint(label, finding.fix.description))
        else:
            lines.append(f"  = {label}")
    return lines


def _frame(finding: Finding) -> list[str]:
    """The snippet with a line-number gutter and an underline below its first line.

    Only the first line is underlined: for a multi-line finding the underline runs to the end
    of that line and the following lines show where it continues.
    """
    if not finding.snippet:
        return []
    last_number = finding.line + len(finding.snippet) - 1
    width = len(str(last_number))
    blank_gutter = f"{'':>{width}} |"
    lines = [blank_gutter]
    for offset, raw in enumerate(finding.snippet):
        source = raw.rstrip("\r\n")
        lines.append(f"{finding.line + offset:>{width}} | {_display(source)}".rstrip())
        if offset == 0:
            multiline = finding.end_line > finding.line
            end = None if multiline else finding.end_column
            lines.append(f"{blank_gutter} {_underline(source, finding.column, end)}")
    return lines


def _underline(source: str, column: int, end_column: int | None) -> str:
    """Carets under 1-based columns ``column`` up to (excluding) ``end_column``.

    ``None`` means "to the end of the line". At least one caret is drawn so a zero-width or
    end-of-line finding still points somewhere.
    """
    start = max(column, 1) - 1
    stop = len(source) if end_column is None else min(end_column - 1, len(source))
    pad = sum(_cell_width(char) for char in source[:start])
    # Past-the-end positions (e.g. a missing token at end of line) still get one caret.
    pad += max(start - len(source), 0)
    carets = sum(_cell_width(char) for char in source[start:stop])
    return " " * pad + "^" * max(carets, 1)


def _cell_width(char: str) -> int:
    """How many terminal cells ``char`` takes once passed through ``_display``."""
    if char == "\t":
        return len(_TAB)
    if unicodedata.combining(char):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2
    return 1


def _display(source: str) -> str:
    """A source line made safe to print; every character keeps its ``_cell_width``."""
    return "".join(_TAB if char == "\t" else _printable_char(char) for char in source)


def _printable(text: str) -> str:
    return "".join(_printable_char(char) for char in text)


def _printable_char(char: str) -> str:
    # Control characters are swapped for their visible "control picture" symbols (U+2400
    # block), which take one cell, so the text stays on one line and alignment is preserved.
    point = ord(char)
    if point < 0x20:
        return chr(0x2400 + point)
    if point == 0x7F:
        return "\u2421"
    if 0x80 <= point < 0xA0:
        return "\ufffd"
    return char


def _hint(label: str, text: str) -> list[str]:
    """``  = label: text``, with further lines of ``text`` aligned under its first line."""
    first, *rest = text.strip("\n").split("\n")
    indent = " " * len(f"  = {label}: ")
    lines = [f"  = {label}: {_printable(first)}".rstrip()]
    lines.extend(f"{indent}{_printable(line)}".rstrip() if line else "" for line in rest)
    return lines


def _statistics(report: Report) -> list[str]:
    rows = report.statistics_rows()
    width = len(str(rows[0][2]))
    code_width = max(len(code) for code, _, _ in rows)
    lines = []
    for code, name, count in rows:
        # Pad before colouring: escape codes would otherwise count towards the column width.
        shown = f"{code:<{code_width}}"
        if report.color:
            shown = f"{_BOLD}{shown}{_RESET}"
        lines.append(f"{count:>{width}}  {shown}  {name}")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _summary(report: Report) -> str:
    files = _plural(report.files_checked, "file")
    if not report.findings:
        return f"No findings in {files}."
    severities = report.by_severity()
    parts = ", ".join(
        _plural(severities[severity], word)
        for severity, word in (
            (Severity.ERROR, "error"),
            (Severity.WARNING, "warning"),
            (Severity.INFO, "info"),
        )
    )
    return f"Found {_plural(len(report.findings), 'finding')} ({parts}) in {files}."
