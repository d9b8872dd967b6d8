"""The ``gitlab`` format: GitLab Code Quality JSON, shown in merge-request widgets and diffs.

GitLab reads an array of issues, each with ``description``, ``check_name``, ``fingerprint``,
``severity`` (``info``, ``minor``, ``major``, ``critical`` or ``blocker``) and
``location.path`` with ``lines.begin``. GitLab uses the fingerprint to tell new issues from
fixed ones between the source and target branch, so it must not depend on line numbers: the
finding's own fingerprint (code, path, normalised statement, occurrence) is used, hashed once
more together with the code so two rules flagging one statement never collide. Findings
without a fingerprint (built by hand, through the API) fall back to a digest of their location.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from be_lint.rule import Finding, Severity

if TYPE_CHECKING:
    from be_lint.reporters import Report

#: be-lint's three levels on GitLab's five; ``critical`` and ``blocker`` are left to humans.
SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(report: Report) -> str:
    """Render ``report`` as a Code Quality report (a JSON array, possibly empty)."""
    issues = [_issue(finding, report) for finding in report.findings]
    return json.dumps(issues, indent=2, ensure_ascii=True) + "\n"


def _issue(finding: Finding, report: Report) -> dict[str, object]:
    return {
        "type": "issue",
        "description": f"{finding.code} {finding.message}",
        "check_name": f"{finding.code} {finding.name}",
        "categories": [_category(finding.code)],
        "fingerprint": fingerprint(finding),
        "severity": SEVERITIES[finding.severity],
        "location": {
            "path": finding.path,
            "lines": {"begin": finding.line, "end": finding.end_line},
        },
        "content": {"body": report.rule_url(finding.code, finding.name)},
    }


def fingerprint(finding: Finding) -> str:
    """A stable MD5-length hex digest (what GitLab's own analysers emit)."""
    basis = finding.fingerprint or f"{finding.path}\0{finding.line}\0{finding.column}"
    return hashlib.sha256(f"{finding.code}\0{basis}".encode()).hexdigest()[:32]


def _category(code: str) -> str:
    """Code Climate's category of a finding's family; GitLab shows it as a label."""
    return _CATEGORIES.get(code[:3], "Bug Risk")


_CATEGORIES = {
    "BE0": "Bug Risk",
    "BE1": "Security",
    "BE2": "Performance",
    "BE3": "Bug Risk",
    "BE4": "Performance",
    "BE5": "Security",
    "BE6": "Security",
    "BE7": "Bug Risk",
    "BE8": "Clarity",
    "BE9": "Bug Risk",
}
