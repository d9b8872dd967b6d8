"""BE0xx: findings the engine itself produces (bad input, suppressions, crashing rules).

They are rules like any other for selection, severity overrides, suppression and docs, but the
engine emits them; the classes only carry metadata and examples.
"""

from __future__ import annotations

from be_lint.rule import Confidence, Example, FileKind, Rule, RuleMeta, Severity


class EngineRule(Rule):
    """A rule emitted by the engine rather than by visiting the tree."""

    file_kinds = frozenset({FileKind.PYTHON, FileKind.SQL})


class SyntaxError_(EngineRule):
    meta = RuleMeta(
        code="BE001",
        name="syntax-error",
        summary="File is not valid Python",
        rationale=(
            "be-lint could not parse this file, so no other rule checked it. The message gives "
            "the parser's line and column. Files are parsed with libcst, which reads the syntax "
            "of every Python version from 3.0 to 3.14, including PEP 701 f-strings."
        ),
        how_to_fix="Fix the syntax error, or exclude the file if it is not meant to be Python.",
        severity=Severity.ERROR,
    )
    bad = (Example("import requests\ndef f(:  # expect: BE001\n    pass\n"),)
    good = (Example("def f(x):\n    return x\n"),)


class UndecodableFile(EngineRule):
    meta = RuleMeta(
        code="BE002",
        name="undecodable-file",
        summary="File is binary or not valid text in its declared encoding",
        rationale=(
            "Python source is UTF-8 unless a PEP 263 coding cookie says otherwise. A file whose "
            "bytes do not decode, or that contains NUL bytes, cannot be checked."
        ),
        how_to_fix=(
            "Save the file as UTF-8, add a correct `# -*- coding: ... -*-` line, or exclude "
            "the file if it is not source code."
        ),
        severity=Severity.WARNING,
    )
    # Examples are text, so they cannot hold undecodable bytes; tests/test_bad_input.py covers
    # binary, NUL-byte and badly encoded files.
    bad = ()
    good = (Example("# -*- coding: latin-1 -*-\nname = 'caf\u00e9'\n"),)


class UnusedSuppression(EngineRule):
    meta = RuleMeta(
        code="BE003",
        name="unused-suppression",
        summary="Suppression comment suppresses nothing",
        rationale=(
            "A `# be-lint: ignore[...]` or `# noqa: BE...` comment that matches no finding is "
            "noise at best; at worst it hides a future real finding on that line. It is "
            "reported only when the suppressed rule is selected, so narrowing the rule set "
            "does not make suppressions look stale."
        ),
        how_to_fix="Delete the comment, or the codes in it that no longer apply.",
        severity=Severity.WARNING,
    )
    bad = (
        Example(
            "import requests\n"
            "requests.get(url, timeout=5)  # be-lint: ignore[BE701]  # expect: BE003\n"
        ),
    )
    good = (Example("import requests\nrequests.get(url)  # be-lint: ignore[BE701]\n"),)


class UnknownSuppressionCode(EngineRule):
    meta = RuleMeta(
        code="BE004",
        name="unknown-suppression-code",
        summary="Suppression names a rule that does not exist",
        rationale=(
            "A typo in a suppression (`ignore[BE17]`, `ignore[sql-injecton]`) suppresses nothing "
            "and leaves the finding it was meant for. Codes in `# noqa` that are not be-lint "
            "codes belong to other tools and are left alone."
        ),
        how_to_fix="Correct the code or name; `be-lint rules` lists them.",
        severity=Severity.WARNING,
    )
    bad = (Example("x = 1  # be-lint: ignore[BE9999]  # expect: BE004\n"),)
    good = (Example("x = 1  # noqa: E501\n"),)


class RuleCrashed(EngineRule):
    meta = RuleMeta(
        code="BE005",
        name="rule-crashed",
        summary="A rule raised an exception on this file",
        rationale=(
            "A bug in a rule must not stop the run: the engine reports it here, naming the rule "
            "and the exception, skips that rule for the rest of the file and goes on."
        ),
        how_to_fix=(
            "Report the file and message to the rule's author; until fixed, ignore the rule "
            "for this file with `per-file-ignores`."
        ),
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
    )
    # The engine's crash handling is tested in tests/test_engine.py with a rule that raises;
    # an example cannot make a correct built-in rule crash.
    bad = ()
    good = (Example("x = 1\n"),)


class UnreadableFile(EngineRule):
    meta = RuleMeta(
        code="BE006",
        name="unreadable-file",
        summary="File or link could not be read",
        rationale=(
            "Permission errors, broken symbolic links and symbolic link loops are reported "
            "instead of silently skipped, so a CI run never passes because it read nothing."
        ),
        how_to_fix="Fix the permissions or the link, or exclude the path.",
        severity=Severity.WARNING,
    )
    bad = ()
    good = (Example("x = 1\n"),)


class FileTooLarge(EngineRule):
    meta = RuleMeta(
        code="BE007",
        name="file-too-large",
        summary="File is larger than max-file-size and was skipped",
        rationale=(
            "Very large files are nearly always generated (protobuf stubs, vendored bundles, "
            "data dumps). Parsing them costs more than the rest of the project together and "
            "finds nothing a human can act on, so they are skipped and listed here."
        ),
        how_to_fix=(
            "Exclude generated files with `extend-exclude`, or raise `max-file-size` if the "
            "file is hand-written."
        ),
        severity=Severity.INFO,
    )
    bad = ()
    good = (Example("x = 1\n"),)


class TooComplexToParse(EngineRule):
    meta = RuleMeta(
        code="BE008",
        name="too-complex-to-parse",
        summary="Expression nesting is too deep to parse safely",
        rationale=(
            "Expressions nested or chained thousands of levels deep (usually generated code) "
            "exhaust the parser's stack. CPython itself rejects more than 200 nested "
            "brackets. be-lint detects such files before parsing and skips them."
        ),
        how_to_fix="Exclude the generated file, or split the expression.",
        severity=Severity.WARNING,
    )
    # Files are only parsed when a selected rule's trigger occurs in them, hence the import.
    bad = (Example("import requests\nx = " + "(" * 250 + "1" + ")" * 250 + "  # expect: BE008\n"),)
    good = (Example("x = " + "(" * 20 + "1" + ")" * 20 + "\n"),)


class ExpiredSuppression(EngineRule):
    meta = RuleMeta(
        code="BE009",
        name="expired-suppression",
        summary="Suppression is past its `until=` date, or the date is not one",
        rationale=(
            "`# be-lint: ignore[CODE] reason until=YYYY-MM-DD` records that a finding was "
            "accepted for a while: a migration window, a vendor fix that is due. After that "
            "day the suppression still hides the finding (so nothing changes silently), but "
            "this finding is reported in its place, so the run fails until someone reviews the "
            "exception again. A date that is not a real `YYYY-MM-DD` date is reported too: a "
            "typo must not turn a temporary exception into a permanent one."
        ),
        how_to_fix=(
            "Fix the suppressed finding and delete the comment, or, after review, write a new "
            "`until=` date (and a reason saying why)."
        ),
        severity=Severity.WARNING,
    )
    bad = (
        Example(
            "import requests\n"
            "requests.get(url)  # be-lint: ignore[BE701] vendor API until=2020-01-31  # expect: BE009\n"
        ),
        Example("x = 1  # be-lint: ignore[BE701] until=next-week  # expect: BE009, BE003\n"),
    )
    good = (
        Example(
            "import requests\n"
            "requests.get(url)  # be-lint: ignore[BE701] vendor API until=2999-12-31\n"
        ),
    )


ENGINE_RULES: tuple[type[Rule], ...] = (
    SyntaxError_,
    UndecodableFile,
    UnusedSuppression,
    UnknownSuppressionCode,
    RuleCrashed,
    UnreadableFile,
    FileTooLarge,
    TooComplexToParse,
    ExpiredSuppression,
)

BY_CODE = {rule.meta.code: rule for rule in ENGINE_RULES}
