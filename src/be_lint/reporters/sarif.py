"""The ``sarif`` format: SARIF 2.1.0 for code-scanning services (GitHub, GitLab, IDEs).

``tool.driver.rules`` lists every selected rule, not only those that fired, so a viewer can
show the help of any rule and a service can tell "fixed" from "rule turned off". The output is
built from dicts in a fixed insertion order and carries no timestamps, durations or absolute
paths (locations are relative to ``%SRCROOT%``), so one tree always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from be_lint.rule import Edit, Finding, Rule, Severity

if TYPE_CHECKING:
    from be_lint.reporters import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/be-lint/be-lint"
FINGERPRINT_KEY = "beLint/v1"
SRCROOT = "%SRCROOT%"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report) -> str:
    """Render ``report`` as a SARIF 2.1.0 log with one run."""
    descriptors, index = _descriptors(report)
    results = [_result(finding, index[finding.code]) for finding in report.findings]
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "be-lint",
                        "version": report.version,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                # Columns come from Python strings, so they count code points, not UTF-16 units
                # (the SARIF default); saying so keeps non-ASCII lines correctly highlighted.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def _descriptors(report: Report) -> tuple[list[dict[str, object]], dict[str, int]]:
    """Rule descriptors sorted by code, and each code's index among them.

    A finding whose code is not among the selected rules (an engine diagnostic such as a parse
    error, or a rule the caller did not pass) gets a minimal descriptor, so every result can
    carry a valid ``ruleIndex``.
    """
    by_code: dict[str, dict[str, object]] = {
        code: _rule_descriptor(rule, report) for code, rule in report.rules_by_code().items()
    }
    for finding in report.findings:
        if finding.code not in by_code:
            by_code[finding.code] = _bare_descriptor(finding)
    codes = sorted(by_code)
    return [by_code[code] for code in codes], {code: i for i, code in enumerate(codes)}


def _rule_descriptor(rule: type[Rule], report: Report) -> dict[str, object]:
    meta = rule.meta
    rationale = meta.rationale.strip()
    how_to_fix = meta.how_to_fix.strip()
    url = report.rule_url(meta.code, meta.name)
    tags = [meta.family]
    if meta.cwe is not None:
        # The tag format GitHub code scanning recognises for linking a CWE.
        tags.append(f"external/cwe/cwe-{meta.cwe}")
    return {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": rationale},
        "helpUri": url,
        "help": {
            "text": f"{rationale}\n\nHow to fix:\n{how_to_fix}\n\nSee {url}",
            "markdown": f"{rationale}\n\n**How to fix**\n\n{how_to_fix}\n\n[Rule page]({url})",
        },
        "defaultConfiguration": {"level": _LEVELS[meta.severity]},
        "properties": {"tags": tags, "precision": meta.confidence.value},
    }


def _bare_descriptor(finding: Finding) -> dict[str, object]:
    # No ``helpUri``: without a rule class there is no generated page to link to.
    return {
        "id": finding.code,
        "name": finding.name,
        "defaultConfiguration": {"level": _LEVELS[finding.severity]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        # The finding's own severity, which may differ from the rule's default.
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": _region(
                        finding.line, finding.column, finding.end_line, finding.end_column
                    ),
                }
            }
        ],
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    # A fix without edits cannot be expressed: SARIF requires at least one replacement.
    if finding.fix is not None and finding.fix.edits:
        fix: dict[str, object] = {}
        if finding.fix.description:
            fix["description"] = {"text": finding.fix.description}
        fix["artifactChanges"] = [
            {
                "artifactLocation": _artifact(finding.path),
                "replacements": [_replacement(edit) for edit in finding.fix.edits],
            }
        ]
        # SARIF has no notion of fix safety; keep it where tools that know be-lint can read it.
        fix["properties"] = {"safety": finding.fix.safety.value}
        result["fixes"] = [fix]
    return result


def _artifact(path: str) -> dict[str, object]:
    # ``uri`` must be a URI reference, so spaces, ``%``, ``:`` and non-ASCII characters in
    # file names are percent-encoded; ``/`` separators are kept.
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, object]:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _replacement(edit: Edit) -> dict[str, object]:
    return {
        "deletedRegion": _region(edit.line, edit.column, edit.end_line, edit.end_column),
        "insertedContent": {"text": edit.content},
    }
