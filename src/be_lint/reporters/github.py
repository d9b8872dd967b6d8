"""The ``github`` format: GitHub Actions workflow commands, one annotation per finding.

The runner parses each line as ``::level key=value,...::message``; a stray newline would end
the command early and a ``,`` or ``:`` inside a value would be read as a separator, so those are
percent-escaped the way the Actions toolkit escapes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from be_lint.rule import Finding, Severity

if TYPE_CHECKING:
    from be_lint.reporters import Report

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: Report) -> str:
    """Render ``report`` as workflow commands; empty when there is nothing to annotate."""
    return "".join(f"{_command(finding)}\n" for finding in report.findings)


def _command(finding: Finding) -> str:
    properties = {
        "file": finding.path,
        "line": str(finding.line),
        "col": str(finding.column),
        "endLine": str(finding.end_line),
        "endColumn": str(finding.end_column),
        "title": f"{finding.code} {finding.name}",
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{_COMMANDS[finding.severity]} {joined}::{escape_data(finding.message)}"


def escape_data(text: str) -> str:
    """Escape a command's message. ``%`` goes first so the escapes themselves survive."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value, which additionally must not contain the separators."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
