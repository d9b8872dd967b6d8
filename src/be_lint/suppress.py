"""Suppression comments, applied to a file's findings after every rule has run.

Forms (Python ``#`` comments; ``--`` comments in SQL):

* ``# be-lint: ignore[BE101, sql-injection] optional reason until=2027-03-31`` -- these rules,
  on this line or on any line whose statement starts here. Text after the codes is the reason;
  ``until=YYYY-MM-DD`` is the last day the suppression is meant to be needed;
* ``# be-lint: ignore`` -- everything on the line;
* ``# noqa: BE101`` -- be-lint codes are read; Ruff's ``S`` codes map to be-lint rules (see
  ``PEERS``); other tools' codes and a bare ``# noqa`` are theirs and do nothing here;
* ``# nosec``, ``# nosec B608`` (Bandit) and ``# nosemgrep``, ``# nosemgrep: <rule-id>``
  (Semgrep) -- honoured for the be-lint rules that correspond to those checks, so a codebase
  switching tools keeps its reviewed exceptions. A bare ``# nosec`` / ``# nosemgrep`` covers
  every be-lint rule that has a peer equivalent, and nothing else; detect-secrets'
  ``# pragma: allowlist secret`` covers the secret-finding rules;
* ``# be-lint: file-ignore[BE5]`` -- the whole file.

Codes may be full codes, rule names, or code prefixes (``BE5``). A be-lint suppression that
suppressed nothing is reported as BE003 when a rule it names is selected; an unknown code as
BE004; one past its ``until=`` date, or with a date that is not one, as BE009 (it still
suppresses: the finding it hides was reviewed once, and the run fails until someone looks again).
Peer comments are never reported as unused or unknown: they belong to other tools too.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from be_lint.rule import Finding

# A directive starts a comment, or a second comment after whitespace (a `noqa` after a
# ``# type: ignore``); prose that merely quotes one (``a bare `# be-lint: ignore```) is not a
# directive.
_START = r"(?:^|(?<=\s))(?:#|--)\s*"
_DIRECTIVE = re.compile(
    _START + r"be-lint\s*:\s*(?P<kind>file-ignore|ignore)\b(?:\[(?P<codes>[^\]]*)\])?",
    re.IGNORECASE,
)
_NOQA = re.compile(
    _START + r"noqa\s*:\s*(?P<codes>[A-Za-z0-9_\-]+(?:\s*,\s*[A-Za-z0-9_\-]+)*)", re.I
)
# Bandit: ``# nosec``, ``# nosec B608``, ``# nosec: B608, B101``.
_NOSEC = re.compile(
    _START + r"nosec\b(?:\s*:?\s*(?P<codes>B[0-9]{3}(?:[\s,]+B[0-9]{3})*)\b)?", re.IGNORECASE
)
# Semgrep: ``# nosemgrep`` or ``# nosemgrep: rule.id, other-id``.
_NOSEMGREP = re.compile(
    _START + r"nosemgrep\b(?:\s*:\s*(?P<codes>[\w.\-]+(?:\s*,\s*[\w.\-]+)*))?", re.IGNORECASE
)
# detect-secrets: ``# pragma: allowlist secret``.
_ALLOWLIST = re.compile(_START + r"pragma\s*:\s*allowlist[ -]secret\b", re.IGNORECASE)
_BE_CODE = re.compile(r"^BE[0-9]{1,3}$")
_RUFF_S_CODE = re.compile(r"^S[0-9]{3}$")
_UNTIL = re.compile(r"(?:^|\s)until\s*=\s*(?P<date>\S*)", re.IGNORECASE)
_MARKERS = ("be-lint", "noqa", "nosec", "nosemgrep", "allowlist")

# -- peers -----------------------------------------------------------------------------------

# Each table maps a peer's check to the be-lint rules (by name, so renumbering cannot break
# it) that look for the same hazard. A peer check with no be-lint counterpart is absent: its
# comment then suppresses nothing here. tests/test_suppressions_audit.py checks that every
# name is a real rule and docs/suppressions.md lists the tables (``peer_table_markdown``).
_SQL = ("sql-injection", "sql-dynamic-identifier")
_SHELL = ("command-injection",)
_DESERIALIZE = ("unsafe-deserialization",)
_PASSWORD = ("hardcoded-credential",)
_SECRET_STRING = ("hardcoded-credential", "hardcoded-token")
_RANDOM = ("insecure-random-secret",)
_DEBUG = ("debug-mode-enabled", "debug-server-public-bind")
_BIND_ALL = ("debug-server-public-bind",)
_ASSERT = ("assert-for-access-control",)
_WEAK_HASH = ("weak-hash-algorithm", "weak-password-hashing")
_EVAL = ("code-injection",)
_XSS = ("cross-site-scripting",)
_TIMEOUT = ("http-request-without-timeout", "httpx-timeout-disabled")

#: Bandit test IDs -> be-lint rule names.
BANDIT: Mapping[str, tuple[str, ...]] = {
    "B101": _ASSERT,  # assert_used
    "B102": _EVAL,  # exec_used
    "B104": _BIND_ALL,  # hardcoded_bind_all_interfaces
    "B105": _SECRET_STRING,  # hardcoded_password_string
    "B106": _PASSWORD,  # hardcoded_password_funcarg
    "B107": _PASSWORD,  # hardcoded_password_default
    "B110": ("swallowed-exception",),  # try_except_pass
    "B112": ("swallowed-exception",),  # try_except_continue
    "B113": _TIMEOUT,  # request_without_timeout
    "B201": _DEBUG,  # flask_debug_true
    "B301": _DESERIALIZE,  # pickle
    "B302": _DESERIALIZE,  # marshal
    "B303": _WEAK_HASH,  # md5 / sha1
    "B307": _EVAL,  # eval
    "B308": _XSS,  # mark_safe
    "B310": ("server-side-request-forgery",),  # urllib_urlopen
    "B311": _RANDOM,  # random
    "B324": _WEAK_HASH,  # hashlib with md5/sha1
    "B506": _DESERIALIZE,  # yaml_load
    "B602": _SHELL,  # subprocess_popen_with_shell_equals_true
    "B603": _SHELL,  # subprocess_without_shell_equals_true
    "B604": _SHELL,  # any_other_function_with_shell_equals_true
    "B605": _SHELL,  # start_process_with_a_shell
    "B608": _SQL,  # hardcoded_sql_expressions
    "B610": ("sql-injection",),  # django_extra_used
    "B611": ("sql-injection",),  # django_rawsql_used
    "B701": _XSS,  # jinja2_autoescape_false
    "B703": _XSS,  # django_mark_safe
}
#: Ruff's ``S`` rules (flake8-bandit numbering) -> be-lint rule names.
RUFF: Mapping[str, tuple[str, ...]] = {
    "S101": _ASSERT,  # assert
    "S102": _EVAL,  # exec-builtin
    "S104": _BIND_ALL,  # hardcoded-bind-all-interfaces
    "S105": _SECRET_STRING,  # hardcoded-password-string
    "S106": _PASSWORD,  # hardcoded-password-func-arg
    "S107": _PASSWORD,  # hardcoded-password-default
    "S110": ("swallowed-exception",),  # try-except-pass
    "S112": ("swallowed-exception",),  # try-except-continue
    "S113": _TIMEOUT,  # request-without-timeout
    "S201": _DEBUG,  # flask-debug-true
    "S301": _DESERIALIZE,  # suspicious-pickle-usage
    "S302": _DESERIALIZE,  # suspicious-marshal-usage
    "S303": _WEAK_HASH,  # suspicious-insecure-hash-usage
    "S307": _EVAL,  # suspicious-eval-usage
    "S308": _XSS,  # suspicious-mark-safe-usage
    "S310": ("server-side-request-forgery",),  # suspicious-url-open-usage
    "S311": _RANDOM,  # suspicious-non-cryptographic-random-usage
    "S324": _WEAK_HASH,  # hashlib-insecure-hash-function
    "S506": _DESERIALIZE,  # unsafe-yaml-load
    "S602": _SHELL,  # subprocess-popen-with-shell-equals-true
    "S603": _SHELL,  # subprocess-without-shell-equals-true
    "S604": _SHELL,  # call-with-shell-equals-true
    "S605": _SHELL,  # start-process-with-a-shell
    "S608": _SQL,  # hardcoded-sql-expression
    "S610": ("sql-injection",),  # django-extra
    "S611": ("sql-injection",),  # django-raw-sql
    "S701": _XSS,  # jinja2-autoescape-false
    "S704": _XSS,  # unsafe-markup-use
}
#: Semgrep registry rule ids, by their last dotted segment -> be-lint rule names.
SEMGREP: Mapping[str, tuple[str, ...]] = {
    "avoid-pickle": _DESERIALIZE,
    "avoid-pyyaml-load": _DESERIALIZE,
    "avoid-sqlalchemy-text": ("sql-injection",),
    "dangerous-subprocess-use": _SHELL,
    "debug-enabled": _DEBUG,
    "django-secure-set-cookie": ("cookie-without-security-flags",),
    "dangerous-system-call": _SHELL,
    "eval-detected": _EVAL,
    "exec-detected": _EVAL,
    "formatted-sql-query": _SQL,
    "hardcoded-password-default-argument": _PASSWORD,
    "insecure-hash-algorithm-md5": _WEAK_HASH,
    "insecure-hash-algorithm-sha1": _WEAK_HASH,
    "jwt-python-hardcoded-secret": _PASSWORD,
    "logger-credential-leak": ("secret-in-log",),
    "md5-used-as-password": ("weak-password-hashing",),
    "no-csrf-exempt": ("csrf-exempt-view",),
    "open-redirect": ("open-redirect",),
    "path-traversal-open": ("path-traversal",),
    "secure-set-cookie": ("cookie-without-security-flags",),
    "sql-injection-db-cursor-execute": ("sql-injection",),
    "sql-injection-using-raw": ("sql-injection",),
    "sqlalchemy-execute-raw-query": ("sql-injection",),
    "ssrf-requests": ("server-side-request-forgery",),
    "subprocess-shell-true": _SHELL,
    "tainted-sql-string": ("sql-injection",),
    "unverified-jwt-decode": ("jwt-signature-not-verified",),
    "use-timeout": _TIMEOUT,
}
#: detect-secrets' ``# pragma: allowlist secret`` -> the rules that look for secrets.
DETECT_SECRETS: tuple[str, ...] = ("hardcoded-credential", "hardcoded-token", "credentials-in-url")
PEERS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "nosec": BANDIT,
    "noqa": RUFF,
    "nosemgrep": SEMGREP,
}
_PEER_TITLES = {
    "nosec": "Bandit (`# nosec B608`, `# nosec: B608`)",
    "noqa": "Ruff (`# noqa: S608`)",
    "nosemgrep": "Semgrep (`# nosemgrep: <rule-id>`, matched by the id's last segment)",
}


@functools.cache
def peer_rule_names() -> frozenset[str]:
    """Every be-lint rule a bare ``# nosec`` or ``# nosemgrep`` covers."""
    return frozenset(name for table in PEERS.values() for names in table.values() for name in names)


def peer_table_markdown() -> str:
    """The mapping tables as markdown (docs/suppressions.md embeds this text verbatim)."""
    out: list[str] = []
    for tool, table in PEERS.items():
        out += [f"### {_PEER_TITLES[tool]}", "", "| their check | be-lint rules |", "| --- | --- |"]
        for peer_code, names in sorted(table.items()):
            out.append(f"| `{peer_code}` | {', '.join(f'`{name}`' for name in names)} |")
        out.append("")
    out += [
        "### detect-secrets (`# pragma: allowlist secret`)",
        "",
        f"Covers {', '.join(f'`{name}`' for name in DETECT_SECRETS)}.",
        "",
    ]
    return "\n".join(out)


def _peer_targets(tool: str, written: str) -> tuple[str, ...]:
    table = PEERS[tool]
    if tool == "nosemgrep":
        # Semgrep ids are dotted paths ending in the rule's own name.
        return table.get(written.rsplit(".", 1)[-1].lower(), ())
    return table.get(written.upper(), ())


# -- parsing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Code:
    """One code written in a suppression, with where it was written (for BE003/BE004)."""

    text: str
    line: int
    column: int
    used: bool = False
    #: For a peer's code: the be-lint rule names it stands for (possibly none).
    targets: frozenset[str] | None = None


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
    #: "be-lint", or the peer whose comment this is: "noqa", "nosec", "nosemgrep".
    tool: str = "be-lint"
    reason: str = ""
    #: ``until=`` as written (None when absent), its column, and the date when it is one.
    until: str | None = None
    until_column: int = 0
    until_date: datetime.date | None = None


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


def may_have_suppressions(text: str) -> bool:
    """Cheap test: False when ``text`` cannot contain any suppression comment."""
    lowered = text.lower()
    return any(marker in lowered for marker in _MARKERS)


def parse_suppressions(text: str, *, sql: bool) -> list[Suppression]:
    if not may_have_suppressions(text):
        return []
    comments = _comments_by_line(text, "--") if sql else _comments_python(text)
    found: list[Suppression] = []
    for line, column, comment in comments:
        for match in _DIRECTIVE.finditer(comment):
            codes = match.group("codes")
            suppression = Suppression(
                line=line,
                column=column + match.start() + 1,
                end_column=column + match.end() + 1,
                codes=None
                if codes is None
                else _split(codes, line, column + match.start("codes") + 1),
                whole_file=match.group("kind").lower() == "file-ignore",
                raw=match.group(0),
            )
            _read_reason(suppression, comment, match.end(), column)
            found.append(suppression)
        for match in _NOQA.finditer(comment):
            codes = []
            for code in _split(match.group("codes"), line, column + match.start("codes") + 1):
                if _BE_CODE.match(code.text.upper()):
                    codes.append(code)
                elif _RUFF_S_CODE.match(code.text.upper()):
                    code.targets = frozenset(_peer_targets("noqa", code.text))
                    codes.append(code)
            if codes:
                found.append(_suppression(line, column, match, codes, "noqa"))
        for tool, pattern in (("nosec", _NOSEC), ("nosemgrep", _NOSEMGREP)):
            for match in pattern.finditer(comment):
                written = match.group("codes")
                if written is None:
                    bare = Code(text=tool, line=line, column=column + match.start() + 1)
                    bare.targets = peer_rule_names()
                    codes = [bare]
                else:
                    codes = _split(written, line, column + match.start("codes") + 1)
                    for code in codes:
                        code.targets = frozenset(_peer_targets(tool, code.text))
                found.append(_suppression(line, column, match, codes, tool))
        for match in _ALLOWLIST.finditer(comment):
            code = Code(text="detect-secrets", line=line, column=column + match.start() + 1)
            code.targets = frozenset(DETECT_SECRETS)
            found.append(_suppression(line, column, match, [code], "detect-secrets"))
    return found


def _suppression(
    line: int, column: int, match: re.Match[str], codes: list[Code], tool: str
) -> Suppression:
    return Suppression(
        line=line,
        column=column + match.start() + 1,
        end_column=column + match.end() + 1,
        codes=codes,
        raw=match.group(0),
        tool=tool,
    )


def _read_reason(suppression: Suppression, comment: str, end: int, column: int) -> None:
    """The free text after a directive (up to a following comment) and its ``until=``."""
    rest = comment[end:]
    stop = re.search(r"\s#", rest)
    if stop is not None:
        rest = rest[: stop.start()]
    until = _UNTIL.search(rest)
    if until is not None:
        written = until.group("date")
        suppression.until = written
        suppression.until_column = column + end + until.start("date") + 1
        suppression.until_date = _date(written)
        rest = rest[: until.start()] + rest[until.end() :]
    suppression.reason = " ".join(rest.split()).strip(" -:;,")


def _date(written: str) -> datetime.date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", written):
        return None
    try:
        return datetime.date.fromisoformat(written)
    except ValueError:
        return None


def _split(codes: str, line: int, column: int) -> list[Code]:
    out = []
    for match in re.finditer(r"[^,\s]+", codes):
        out.append(Code(text=match.group(0), line=line, column=column + match.start()))
    return out


def _code_matches(code: Code, finding: Finding) -> bool:
    if code.targets is not None:
        return finding.name in code.targets
    upper = code.text.upper()
    if _BE_CODE.match(upper):
        return finding.code.startswith(upper)
    return code.text.lower() == finding.name


# -- applying --------------------------------------------------------------------------------


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
            if _code_matches(code, finding):
                code.used = suppression.used = hit = True
    return hit


@dataclass(frozen=True, slots=True)
class SuppressionProblem:
    code: str  # "BE003", "BE004" or "BE009"
    message: str
    line: int
    column: int
    end_column: int


def suppression_problems(
    suppressions: list[Suppression],
    *,
    is_known: Callable[[str], bool],
    is_selected: Callable[[str], bool],
    today: datetime.date | None = None,
) -> list[SuppressionProblem]:
    """BE003 (suppresses nothing), BE004 (unknown code) and BE009 (expired) problems.

    ``is_known(code)`` says whether a written code, name or prefix names a rule at all;
    ``is_selected(code)`` whether any rule it names ran on this file; ``today`` decides
    expiry (the real date when None).
    """
    problems = []
    for suppression in suppressions:
        problems.extend(_expiry_problems(suppression, today or datetime.date.today()))
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
            if code.targets is not None:
                continue  # another tool's code: not ours to call unknown or unused
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


def _expiry_problems(suppression: Suppression, today: datetime.date) -> list[SuppressionProblem]:
    if suppression.until is None:
        return []
    start = suppression.until_column
    end = start + max(len(suppression.until), 1)
    if suppression.until_date is None:
        message = (
            f"`until={suppression.until}` is not a date (YYYY-MM-DD); the suppression cannot "
            "expire as written"
        )
    elif suppression.until_date < today:
        message = (
            f"suppression expired on {suppression.until_date.isoformat()}: review the finding "
            "it hides, then fix it, renew the date or remove the comment"
        )
    else:
        return []
    return [SuppressionProblem("BE009", message, suppression.line, start, end)]


def is_expired(suppression: Suppression, today: datetime.date) -> bool:
    return suppression.until is not None and (
        suppression.until_date is None or suppression.until_date < today
    )
