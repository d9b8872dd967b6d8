"""The ``json`` format: every finding with all its fields, plus a summary.

Findings are serialised field by field from the dataclass rather than from a hand-kept list, so
a field added to ``Finding`` shows up here without anyone remembering to add it. Only the
snippet is dropped: it is a copy of the user's source, which consumers can read themselves and
which would make the output large and sensitive.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import TYPE_CHECKING

from be_lint.rule import Finding

if TYPE_CHECKING:
    from be_lint.reporters import Report

_OMITTED_FIELDS = frozenset({"snippet"})


def render(report: Report) -> str:
    """Render ``report`` as stable, pretty-printed JSON."""
    document: dict[str, object] = {
        "version": report.version,
        "findings": [finding_to_dict(finding) for finding in report.findings],
        "summary": {
            "files": report.files_checked,
            "findings": len(report.findings),
            "by_severity": {
                severity.value: count for severity, count in report.by_severity().items()
            },
            "by_code": report.by_code(),
        },
    }
    if report.baseline is not None:
        summary = document["summary"]
        assert isinstance(summary, dict)
        summary["baseline"] = dict(report.baseline)
    if report.statistics:
        # ``--statistics``: the counts per rule, in the order the text format shows them.
        document["statistics"] = [
            {"code": code, "name": name, "count": count}
            for code, name, count in report.statistics_rows()
        ]
    # ASCII-only output does not depend on the encoding of whatever stream it is written to.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def finding_to_dict(finding: Finding) -> dict[str, object]:
    """A finding as plain JSON values: enums by value, ``fix`` as nested dicts or ``None``."""
    return {
        field.name: _plain(getattr(finding, field.name))
        for field in dataclasses.fields(finding)
        if field.name not in _OMITTED_FIELDS
    }


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Failing loudly beats emitting a repr that consumers would have to parse.
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
