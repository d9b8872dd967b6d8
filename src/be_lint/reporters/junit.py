"""The ``junit`` format: JUnit XML, which every CI server turns into a test report.

One ``<testsuite>``; one ``<testcase>`` per rule that ran (so a rule with no findings shows as
a passing check) and per engine code that fired, each finding a ``<failure>`` of its rule's
test case. No ``timestamp``, ``time`` or ``hostname`` attributes: the same tree must give the
same bytes on every run. Text is escaped by the XML library, and characters XML 1.0 cannot
carry at all (most control characters) are replaced, so a hostile message cannot break the
document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from be_lint.rule import Finding

if TYPE_CHECKING:
    from be_lint.reporters import Report

# XML 1.0 allows tab, newline and carriage return below U+0020, and nothing in the surrogate
# range or the two non-characters at the top of the BMP.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report) -> str:
    """Render ``report`` as a JUnit XML document with one test suite."""
    names = {code: rule.meta.name for code, rule in report.rules_by_code().items()}
    names_of_rules = frozenset(names)
    by_code: dict[str, list[Finding]] = {code: [] for code in names}
    for finding in report.findings:
        names.setdefault(finding.code, finding.name)
        by_code.setdefault(finding.code, []).append(finding)
    suites = ET.Element(
        "testsuites",
        {"name": "be-lint", "tests": str(len(by_code)), "failures": str(len(report.findings))},
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        {
            "name": "be-lint",
            "tests": str(len(by_code)),
            "failures": str(len(report.findings)),
            "errors": "0",
            "skipped": "0",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("be-lint.version", report.version), ("files", report.files_checked)):
        ET.SubElement(properties, "property", {"name": name, "value": str(value)})
    for code in sorted(by_code):
        case = ET.SubElement(
            suite, "testcase", {"classname": "be-lint", "name": f"{code} {names[code]}"}
        )
        for finding in by_code[code]:
            failure = ET.SubElement(
                case,
                "failure",
                {
                    "message": _clean(
                        f"{finding.path}:{finding.line}:{finding.column}: {finding.message}"
                    ),
                    "type": finding.severity.value,
                },
            )
            failure.text = _clean(_body(finding, report, documented=code in names_of_rules))
    ET.indent(suites, space="  ")
    body = ET.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _body(finding: Finding, report: Report, *, documented: bool) -> str:
    lines = [
        f"{finding.path}:{finding.line}:{finding.column}: {finding.code} "
        f"[{finding.severity.value}] {finding.message}"
    ]
    if finding.help:
        lines.append(f"help: {finding.help}")
    if documented:
        lines.append(f"see: {report.rule_url(finding.code, finding.name)}")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
