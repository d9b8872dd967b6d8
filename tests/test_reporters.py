"""Golden-file and format-validity tests for the reporters.

Every reporter renders the same hand-built reports; the output is compared byte for byte with
``tests/golden/<reporter>/<case>.txt``. Refresh with ``pytest --update-golden`` and review the
diff. The rules used here are created per test session and taken out of ``Rule.registry`` again,
so they never reach the suite that runs every registered rule's examples.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest

from be_lint.reporters import DEFAULT_DOCS_URL, REPORTERS, Report
from be_lint.reporters.github import escape_data, escape_property
from be_lint.rule import (
    Confidence,
    Edit,
    Finding,
    Fix,
    FixSafety,
    Rule,
    RuleMeta,
    Severity,
)

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
SARIF_SCHEMA = HERE / "schemas" / "sarif-schema-2.1.0.json"
# A fixed version keeps the golden files valid across releases.
VERSION = "0.0.0+test"

Rules = dict[str, type[Rule]]


def _throwaway_rule(rule_meta: RuleMeta) -> type[Rule]:
    """A rule class for these tests only: created, then taken out of the global registry."""

    class Throwaway(Rule):
        meta = rule_meta

    Rule.registry.remove(Throwaway)
    return Throwaway


@pytest.fixture(scope="module")
def rules() -> Iterator[Rules]:
    before = list(Rule.registry)
    made = [
        _throwaway_rule(
            RuleMeta(
                code="BE101",
                name="sql-string-format",
                summary="SQL query built with string formatting",
                rationale="Formatting values into SQL lets input change the query.\n\n"
                "This is *SQL injection*.",
                how_to_fix="Pass values as query parameters.",
                severity=Severity.ERROR,
                confidence=Confidence.HIGH,
                cwe=89,
            )
        ),
        _throwaway_rule(
            RuleMeta(
                code="BE701",
                name="request-without-timeout",
                summary="HTTP call has no timeout",
                rationale="A call without a timeout can hang a worker forever.",
                how_to_fix="Pass `timeout=`.",
                severity=Severity.WARNING,
                confidence=Confidence.MEDIUM,
            )
        ),
        _throwaway_rule(
            RuleMeta(
                code="BE702",
                name="retry-without-backoff",
                summary="Retry loop without backoff",
                rationale="Retrying at once amplifies an outage.",
                how_to_fix="Sleep with exponential backoff between attempts.",
                severity=Severity.INFO,
                confidence=Confidence.LOW,
            )
        ),
    ]
    assert Rule.registry == before
    yield {rule.meta.code: rule for rule in made}
    assert Rule.registry == before


def _empty(rules: Rules) -> Report:
    return Report(findings=(), rules=tuple(rules.values()), files_checked=4, version=VERSION)


def _several_findings() -> tuple[Finding, ...]:
    findings = [
        Finding(
            code="BE101",
            name="sql-string-format",
            severity=Severity.ERROR,
            message="SQL query built with an f-string",
            path="app/db.py",
            line=12,
            column=17,
            end_line=12,
            end_column=60,
            help="Pass `user_id` as a parameter.",
            fix=Fix(
                edits=(
                    Edit(12, 17, 12, 60, '"SELECT * FROM users WHERE id = %s"'),
                    Edit(12, 60, 12, 60, ", (user_id,)"),
                ),
                safety=FixSafety.UNSAFE,
                description="Use a parameterised query",
            ),
            fingerprint="3f2a9c0d1e7b5a64",
            snippet=('    cur.execute(f"SELECT * FROM users WHERE id = {user_id}")',),
        ),
        Finding(
            code="BE101",
            name="sql-string-format",
            severity=Severity.ERROR,
            message="SQL query built with string concatenation",
            path="app/db.py",
            line=98,
            column=9,
            end_line=101,
            end_column=6,
            help="Build the query with placeholders\nand pass the values separately.",
            fingerprint="b7c1d2e3f4a5b6c7",
            snippet=(
                '    q = ("SELECT name FROM t "',
                '         "WHERE a = \'" + a + "\' "',
                '         "ORDER BY name"',
                "    )",
            ),
        ),
        Finding(
            code="BE701",
            name="request-without-timeout",
            severity=Severity.WARNING,
            message="`requests.get` has no timeout",
            path="app/http.py",
            line=7,
            column=12,
            end_line=7,
            end_column=29,
            help="Pass `timeout=` in seconds.",
            fix=Fix(
                edits=(Edit(7, 28, 7, 28, ", timeout=10"),),
                safety=FixSafety.SAFE,
                description="Add `timeout=10`",
            ),
            fingerprint="0011223344556677",
            snippet=("    return requests.get(url)",),
        ),
        Finding(
            code="BE701",
            name="request-without-timeout",
            # A severity overridden by configuration, different from the rule's default.
            severity=Severity.INFO,
            message="`httpx.post` has no timeout",
            path="app/http.py",
            line=21,
            column=5,
            end_line=21,
            end_column=30,
            fingerprint="8899aabbccddeeff",
        ),
        Finding(
            code="BE001",
            name="syntax-error",
            severity=Severity.ERROR,
            message="Cannot parse: unexpected indent",
            path="app/models.py",
            line=3,
            column=1,
            end_line=3,
            end_column=5,
            snippet=("        x = 1",),
        ),
    ]
    return tuple(sorted(findings, key=lambda f: f.sort_key))


def _several(rules: Rules) -> Report:
    return Report(
        findings=_several_findings(),
        rules=tuple(rules.values()),
        files_checked=3,
        version=VERSION,
    )


def _escaping(rules: Rules) -> Report:
    message = 'Value "50%, then: 100%"\r\nsecond line: ünïcode ✓ 漢字 and a \x1b[31mterminal escape'
    finding = Finding(
        code="BE101",
        name="sql-string-format",
        severity=Severity.WARNING,
        message=message,
        path="src/wei rd,na:me/ünï%.py",
        line=5,
        column=7,
        end_line=5,
        end_column=9,
        help="First line, with: punctuation\nsecond line 'quoted'",
        fix=Fix(
            edits=(Edit(5, 7, 5, 9, 'f"漢字 %s" % (x,)\n'),),
            safety=FixSafety.UNSAFE,
            description='Quote "properly"',
        ),
        fingerprint="ffeeddccbbaa9988",
        snippet=('\tq = "漢字" + x + "\x07"  # ✓',),
    )
    return Report(
        findings=(finding,),
        rules=(rules["BE101"],),
        files_checked=1,
        version=VERSION,
    )


def _statistics(rules: Rules) -> Report:
    report = _several(rules)
    return Report(
        findings=report.findings,
        rules=report.rules,
        files_checked=report.files_checked,
        statistics=True,
        version=VERSION,
    )


def _color(rules: Rules) -> Report:
    return Report(
        findings=_several_findings(),
        rules=tuple(rules.values()),
        files_checked=3,
        color=True,
        statistics=True,
        version=VERSION,
    )


COMMON_CASES: dict[str, Callable[[Rules], Report]] = {
    "empty": _empty,
    "several": _several,
    "escaping": _escaping,
}
# ``color`` and ``statistics`` only change the text format.
TEXT_CASES: dict[str, Callable[[Rules], Report]] = {
    "statistics": _statistics,
    "color": _color,
}
GOLDEN_CASES = [
    *((reporter, case) for reporter in sorted(REPORTERS) for case in COMMON_CASES),
    *(("text", case) for case in TEXT_CASES),
    # ``--statistics`` adds a per-rule table to the json document too.
    ("json", "statistics"),
]


def _build(case: str, rules: Rules) -> Report:
    return {**COMMON_CASES, **TEXT_CASES}[case](rules)


@pytest.mark.parametrize(("reporter", "case"), GOLDEN_CASES)
def test_golden(reporter: str, case: str, rules: Rules, update_golden: bool) -> None:
    actual = REPORTERS[reporter](_build(case, rules)).encode("utf-8")
    path = GOLDEN / reporter / f"{case}.txt"
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"{path} is missing; run pytest --update-golden and review it"
    # Compare text for a readable diff; UTF-8 decoding is one-to-one, so this is byte-exact.
    assert actual.decode("utf-8") == path.read_bytes().decode("utf-8")


def test_registry_names() -> None:
    assert sorted(REPORTERS) == ["github", "gitlab", "json", "junit", "sarif", "text"]


@pytest.mark.parametrize("reporter", sorted(REPORTERS))
@pytest.mark.parametrize("case", sorted(COMMON_CASES))
def test_output_is_deterministic(reporter: str, case: str, rules: Rules) -> None:
    render = REPORTERS[reporter]
    assert render(_build(case, rules)) == render(_build(case, rules))


@pytest.mark.parametrize("case", sorted(COMMON_CASES))
def test_sarif_is_valid(case: str, rules: Rules) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    # The published schema declares draft-04; pick the validator it asks for.
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    validator_class.check_schema(schema)
    log = json.loads(REPORTERS["sarif"](_build(case, rules)))
    errors = sorted(validator_class(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_sarif_rules_and_indices(rules: Rules) -> None:
    log = json.loads(REPORTERS["sarif"](_several(rules)))
    run = log["runs"][0]
    descriptors = run["tool"]["driver"]["rules"]
    ids = [descriptor["id"] for descriptor in descriptors]
    # All selected rules (BE702 has no findings) plus the engine code that fired without one.
    assert ids == ["BE001", "BE101", "BE701", "BE702"]
    for result in run["results"]:
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]
    be101 = descriptors[ids.index("BE101")]
    assert be101["helpUri"] == f"{DEFAULT_DOCS_URL}BE101-sql-string-format.md"
    assert be101["defaultConfiguration"] == {"level": "error"}
    assert be101["properties"] == {
        "tags": ["sql-injection", "external/cwe/cwe-89"],
        "precision": "high",
    }
    levels = [result["level"] for result in run["results"]]
    assert levels == ["error", "error", "warning", "note", "error"]
    first = run["results"][0]
    assert first["partialFingerprints"] == {"beLint/v1": "3f2a9c0d1e7b5a64"}
    replacements = first["fixes"][0]["artifactChanges"][0]["replacements"]
    assert [r["insertedContent"]["text"] for r in replacements] == [
        '"SELECT * FROM users WHERE id = %s"',
        ", (user_id,)",
    ]


@pytest.mark.parametrize("case", sorted(COMMON_CASES))
def test_json_round_trips(case: str, rules: Rules) -> None:
    report = _build(case, rules)
    output = REPORTERS["json"](report)
    document = json.loads(output)
    assert json.dumps(document, indent=2, sort_keys=True) + "\n" == output
    assert [f["message"] for f in document["findings"]] == [f.message for f in report.findings]
    assert all("snippet" not in finding for finding in document["findings"])
    summary = document["summary"]
    assert summary["findings"] == len(report.findings)
    assert summary["files"] == report.files_checked
    assert set(summary["by_severity"]) == {"error", "warning", "info"}
    assert sum(summary["by_code"].values()) == len(report.findings)


def test_json_finding_fields(rules: Rules) -> None:
    document = json.loads(REPORTERS["json"](_several(rules)))
    first = document["findings"][0]
    assert first["severity"] == "error"
    assert first["fix"]["safety"] == "unsafe"
    assert first["fix"]["edits"][1] == {
        "line": 12,
        "column": 60,
        "end_line": 12,
        "end_column": 60,
        "content": ", (user_id,)",
    }
    assert document["findings"][1]["fix"] is None
    assert document["summary"]["by_severity"] == {"error": 3, "warning": 1, "info": 1}
    assert document["summary"]["by_code"] == {"BE001": 1, "BE101": 2, "BE701": 2}


@pytest.mark.parametrize("case", [*sorted(COMMON_CASES), "statistics"])
def test_text_without_color_has_no_escape_codes(case: str, rules: Rules) -> None:
    # The "escaping" case puts an escape sequence in a message and a BEL in a snippet: neither
    # may reach the terminal.
    output = REPORTERS["text"](_build(case, rules))
    assert "\x1b" not in output
    assert "\x07" not in output


def test_text_with_color_has_escape_codes(rules: Rules) -> None:
    output = REPORTERS["text"](_color(rules))
    assert "\x1b[" in output
    plain = REPORTERS["text"](_statistics(rules))
    # Colour changes only the styling, never the text around it.
    assert _strip_ansi(output) == plain


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_text_summary_grammar(rules: Rules) -> None:
    one = Finding(
        code="BE101",
        name="sql-string-format",
        severity=Severity.ERROR,
        message="m",
        path="a.py",
        line=1,
        column=1,
        end_line=1,
        end_column=2,
    )
    render = REPORTERS["text"]
    single = Report(findings=(one,), rules=(), files_checked=1, version=VERSION)
    assert render(single).endswith("Found 1 finding (1 error, 0 warnings, 0 infos) in 1 file.\n")
    none = Report(findings=(), rules=(), files_checked=1, version=VERSION)
    assert render(none) == "No findings in 1 file.\n"


def test_github_escaping() -> None:
    assert escape_data("50%\r\nnext, a: b") == "50%25%0D%0Anext, a: b"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_github_empty_report_prints_nothing(rules: Rules) -> None:
    assert REPORTERS["github"](_empty(rules)) == ""


def test_json_statistics(rules: Rules) -> None:
    plain = json.loads(REPORTERS["json"](_several(rules)))
    assert "statistics" not in plain
    document = json.loads(REPORTERS["json"](_statistics(rules)))
    assert document["statistics"] == [
        {"code": "BE101", "name": "sql-string-format", "count": 2},
        {"code": "BE701", "name": "request-without-timeout", "count": 2},
        {"code": "BE001", "name": "syntax-error", "count": 1},
    ]


# -- gitlab (Code Quality) -------------------------------------------------------------------

_GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


@pytest.mark.parametrize("case", sorted(COMMON_CASES))
def test_gitlab_issues_have_the_required_keys(case: str, rules: Rules) -> None:
    report = _build(case, rules)
    issues = json.loads(REPORTERS["gitlab"](report))
    assert isinstance(issues, list)
    assert len(issues) == len(report.findings)
    for issue, finding in zip(issues, report.findings, strict=True):
        assert isinstance(issue["description"], str) and finding.message in issue["description"]
        assert issue["check_name"] == f"{finding.code} {finding.name}"
        assert re.fullmatch(r"[0-9a-f]{32}", issue["fingerprint"])
        assert issue["severity"] in _GITLAB_SEVERITIES
        assert issue["location"]["path"] == finding.path
        assert issue["location"]["lines"]["begin"] == finding.line
        assert isinstance(issue["location"]["lines"]["begin"], int)


def test_gitlab_severity_mapping_and_unique_fingerprints(rules: Rules) -> None:
    issues = json.loads(REPORTERS["gitlab"](_several(rules)))
    assert [issue["severity"] for issue in issues] == ["major", "major", "minor", "info", "major"]
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)


def test_gitlab_fingerprint_ignores_line_moves(rules: Rules) -> None:
    import dataclasses

    from be_lint.reporters.gitlab import fingerprint

    finding = _several_findings()[0]
    moved = dataclasses.replace(finding, line=finding.line + 30, end_line=finding.end_line + 30)
    assert fingerprint(moved) == fingerprint(finding)
    other_rule = dataclasses.replace(finding, code="BE102")
    assert fingerprint(other_rule) != fingerprint(finding)


def test_gitlab_empty_is_an_empty_array(rules: Rules) -> None:
    assert REPORTERS["gitlab"](_empty(rules)) == "[]\n"


# -- junit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(COMMON_CASES))
def test_junit_is_well_formed(case: str, rules: Rules) -> None:
    report = _build(case, rules)
    output = REPORTERS["junit"](report)
    root = ET.fromstring(output.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    failures = suites[0].findall("testcase/failure")
    assert len(failures) == len(report.findings) == int(suites[0].get("failures", "-1"))
    assert int(suites[0].get("tests", "-1")) == len(suites[0].findall("testcase"))
    # Nothing that changes from run to run.
    assert "timestamp" not in output and "time=" not in output and "hostname" not in output


def test_junit_test_cases_per_rule(rules: Rules) -> None:
    root = ET.fromstring(REPORTERS["junit"](_several(rules)).encode("utf-8"))
    cases = root.findall("testsuite/testcase")
    assert [case.get("name") for case in cases] == [
        "BE001 syntax-error",
        "BE101 sql-string-format",
        "BE701 request-without-timeout",
        "BE702 retry-without-backoff",
    ]
    # A rule that ran without findings is a passing test case.
    assert cases[3].findall("failure") == []
    assert [f.get("type") for f in cases[2].findall("failure")] == ["warning", "info"]
    assert cases[1].findall("failure")[0].get("message") == (
        "app/db.py:12:17: SQL query built with an f-string"
    )


def test_junit_escapes_hostile_text(rules: Rules) -> None:
    root = ET.fromstring(REPORTERS["junit"](_escaping(rules)).encode("utf-8"))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    message = failure.get("message", "")
    # Quotes, newlines and non-ASCII survive; the escape character (not allowed in XML 1.0)
    # is replaced rather than breaking the document.
    assert 'Value "50%, then: 100%"\r\nsecond line: ünïcode ✓ 漢字' in message
    assert "\x1b" not in message
    assert failure.text is not None and "help: First line, with: punctuation" in failure.text
