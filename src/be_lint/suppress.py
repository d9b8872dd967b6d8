"""Suppression comments, applied to a file's findings after every rule has run.

Forms (Python ``#`` comments; ``--`` comments in SQL):

* ``# be-lint: ignore[BE101, sql-injection] optional reason`` -- these rules, on this line or on
  any line whose statement starts here;
* ``# be-lint: ignore`` -- everything on the line;
* ``# noqa: BE101`` -- only be-lint codes are read; other tools' codes and a bare ``# noqa`` are
  theirs, so they neither suppress nor get reported;
* ``# be-lint: file-ignore[BE5]`` -- the whole file.

Codes may be full codes, rule names, or code prefixes (``BE5``). A suppression that suppressed
nothing is reported as BE003 when a rule it names is selected; an unknown code as BE004.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from be_lint.rule import Finding

# A directive starts a comment, or a second comment after whitespace (``# type: ignore  # noqa:
# BE101``); prose that merely quotes one (``a bare `# be-lint: ignore```) is not a directive.
_START = r"(?:^|(?<=\s))(?:#|--)\s*"
_DIRECTIVE = re.compile(
    _START + r"be-lint\s*:\s*(?P<kind>file-ignore|ignore)\b(?:\[(?P<codes>[^\]]*)\])?",
    re.IGNORECASE,
)
_NOQA = re.compile(
    _START + r"noqa\s*:\s*(?P<codes>[A-Za-z0-9_\-]+(?:\s*,\s*[A-Za-z0-9_\-]+)*)", re.I
)
_BE_CODE = re.compile(r"^BE[0-9]{1,3}$")


@dataclass(slots=True)
class Code:
    """One code written in a suppression, with where it was written (for BE003/BE004)."""

    text: str
    line: int
    column: int
    used: bool = False


@dataclass(slots=True)
class Suppression:
    line: int
    column: int
    #: None means "everything" (a bare ``# be-lint: ignore``).
    codes: list[Code] | None
    whole_file: bool = False
    used: bool = False
    end_column: int = 0
    raw: str = field(default="")


def _comments_python(text: str) -> Iterable[tuple[int, int, str]]:
    """(line, column, comment) for every comment; falls back to a line scan on bad syntax."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.start[1], token.string
        return
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    yield from _comments_by_line(text, "#")


def _comments_by_line(text: str, marker: str) -> Iterable[tuple[int, int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        index = line.find(marker)
        if index >= 0:
            yield number, index, line[index:]


def parse_suppressions(text: str, *, sql: bool) -> list[Suppression]:
    if "be-lint" not in text and "noqa" not in text.lower():
        return []
    comments = _comments_by_line(text, "--") if sql else _comments_python(text)
    found: list[Suppression] = []
    for line, column, comment in comments:
        for match in _DIRECTIVE.finditer(comment):
            codes = match.group("codes")
            found.append(
                Suppression(
                    line=line,
                    column=column + match.start() + 1,
                    end_column=column + match.end() + 1,
                    codes=None
                    if codes is None
                    else _split(codes, line, column + match.start("codes") + 1),
                    whole_file=match.group("kind").lower() == "file-ignore",
                    raw=match.group(0),
                )
            )
        for match in _NOQA.finditer(comment):
            codes = [
                c
                for c in _split(match.group("codes"), line, column + match.start("codes") + 1)
                if _BE_CODE.match(c.text.upper())
            ]
            if codes:
                found.append(
                    Suppression(
                        line=line,
                        column=column + match.start() + 1,
                        end_column=column + match.end() + 1,
                        codes=codes,
                        raw=match.group(0),
                    )
                )
    return found


def _split(codes: str, line: int, column: int) -> list[Code]:
    out = []
    for match in re.finditer(r"[^,\s]+", codes):
        out.append(Code(text=match.group(0), line=line, column=column + match.start()))
    return out


def _code_matches(written: str, finding: Finding) -> bool:
    upper = written.upper()
    if _BE_CODE.match(upper):
        return finding.code.startswith(upper)
    return written.lower() == finding.name


def apply_suppressions(
    findings: Sequence[tuple[Finding, int]],
    suppressions: list[Suppression],
) -> list[Finding]:
    """Drop suppressed findings. Each finding comes with the first line of its statement."""
    if not suppressions:
        return [finding for finding, _ in findings]
    by_line: dict[int, list[Suppression]] = {}
    whole_file: list[Suppression] = []
    for suppression in suppressions:
        if suppression.whole_file:
            whole_file.append(suppression)
        else:
            by_line.setdefault(suppression.line, []).append(suppression)
    kept = []
    for finding, statement_line in findings:
        candidates = list(whole_file)
        candidates += by_line.get(finding.line, [])
        if statement_line != finding.line:
            candidates += by_line.get(statement_line, [])
        if not _suppress(finding, candidates):
            kept.append(finding)
    return kept


def _suppress(finding: Finding, candidates: list[Suppression]) -> bool:
    hit = False
    for suppression in candidates:
        if suppression.codes is None:
            suppression.used = hit = True
            continue
        for code in suppression.codes:
            if _code_matches(code.text, finding):
                code.used = suppression.used = hit = True
    return hit


@dataclass(frozen=True, slots=True)
class SuppressionProblem:
    code: str  # "BE003" or "BE004"
    message: str
    line: int
    column: int
    end_column: int


def suppression_problems(
    suppressions: list[Suppression],
    *,
    is_known: Callable[[str], bool],
    is_selected: Callable[[str], bool],
) -> list[SuppressionProblem]:
    """BE003 (suppresses nothing) and BE004 (unknown code) for ``suppressions``.

    ``is_known(code)`` says whether a written code, name or prefix names a rule at all;
    ``is_selected(code)`` whether any rule it names ran on this file.
    """
    problems = []
    for suppression in suppressions:
        if suppression.codes is None:
            if not suppression.used:
                problems.append(
                    SuppressionProblem(
                        "BE003",
                        f"`{suppression.raw}` suppresses nothing on this line",
                        suppression.line,
                        suppression.column,
                        suppression.end_column,
                    )
                )
            continue
        for code in suppression.codes:
            end = code.column + len(code.text)
            if not is_known(code.text):
                problems.append(
                    SuppressionProblem(
                        "BE004",
                        f"unknown rule `{code.text}` in suppression",
                        code.line,
                        code.column,
                        end,
                    )
                )
            elif not code.used and is_selected(code.text):
                what = "this file" if suppression.whole_file else "this line"
                problems.append(
                    SuppressionProblem(
                        "BE003",
                        f"suppression of `{code.text}` is unused: no such finding on {what}",
                        code.line,
                        code.column,
                        end,
                    )
                )
    return problems
