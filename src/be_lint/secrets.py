"""Shared knowledge of the BE5xx rules: what a secret looks like, by name and by value.

- *Names*: ``secret_kind("db_password")`` says which kind of secret an identifier, attribute or
  dictionary key names (``password``, ``token``, ``key``, ``secret``, ``credentials``), or None
  for names that merely mention one (``PASSWORD_FIELD``, ``token_type``, ``max_tokens``,
  ``password_reset_url``). ``SecretNames`` is that test over a vocabulary of one's own (BE801
  uses it with the words of request headers).
- *Values*: ``placeholder("<your-token>")`` recognises the values that stand for a secret
  without being one (empty, ``changeme``, ``${VAR}``, ``{password}``, ``***``, ``example``);
  ``known_token("ghp_...")`` recognises the formats of real provider tokens and private keys;
  ``entropy`` and ``looks_random`` measure how machine-made a string is; ``url_password`` finds
  the password in ``scheme://user:password@host``.
- *Places*: ``is_test_path`` matches the configurable globs of test code, where the rules lower
  their severity or stay quiet.
- *Expressions*: ``literal_string``, ``int_value``, ``terminal_name`` and ``argument`` read the
  few shapes the rules need, following names to their one value through the value tracking.
- *Rules*: ``LiteralTextRule`` feeds a rule the text of every string literal once;
  ``report_by_place`` reports with the severity the test options give the file.

Nothing here parses or reads files; every helper is a pure function of its arguments (plus
``FileContext.value_of`` where a name is followed).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, make_dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst
import pathspec

from be_lint.frameworks import keyword_arg, positional_args
from be_lint.rule import FixSafety, OptionsError, PythonRule, Severity, option

if TYPE_CHECKING:
    from be_lint.context import FileContext

# -- names ---------------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(identifier: str) -> list[str]:
    """``"dbPassword_2"`` -> ``["db", "password", "2"]`` (lower case; camel and snake case)."""
    return [word.lower() for word in _WORDS.findall(identifier)]


#: Last words that name a secret, and the kind each names.
_SECRET_LAST: dict[str, str] = {
    "password": "password",
    "passwd": "password",
    "pwd": "password",
    "passphrase": "password",
    "passcode": "password",
    "secret": "secret",
    "token": "token",
    "apikey": "key",
    "credential": "credentials",
    "credentials": "credentials",
    "creds": "credentials",
    "jwt": "token",
}
#: Two-word endings that name a secret (``api_key``, ``client_secret`` is caught by its last
#: word already).
_SECRET_PAIRS: dict[tuple[str, str], str] = {
    ("api", "key"): "key",
    ("secret", "key"): "key",
    ("private", "key"): "key",
    ("access", "key"): "key",
    ("signing", "key"): "key",
    ("encryption", "key"): "key",
    ("master", "key"): "key",
    ("auth", "key"): "key",
    ("app", "key"): "key",
    ("license", "key"): "key",
    ("hmac", "key"): "key",
    ("jwt", "key"): "key",
    ("webhook", "key"): "key",
    ("pass", "phrase"): "password",
    ("pass", "word"): "password",
    ("auth", "pass"): "password",
    ("db", "pass"): "password",
    ("smtp", "pass"): "password",
    ("user", "pass"): "password",
}
#: Words before the secret word that make the name about something else: counts, pagination,
#: NLP vocabularies and test doubles (``next_page_token``, ``max_tokens``, ``fake_password``).
NOT_SECRET_CONTEXT = frozenset(
    {
        "page",
        "next",
        "prev",
        "previous",
        "continuation",
        "sync",
        "cancel",
        "cancellation",
        "stop",
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "mask",
        "cls",
        "special",
        "input",
        "output",
        "prompt",
        "completion",
        "max",
        "min",
        "num",
        "total",
        "count",
        "n",
        "is",
        "has",
        "use",
        "should",
        "require",
        "requires",
        "csrf",
        "xsrf",
        "fake",
        "dummy",
        "test",
        "example",
        "placeholder",
    }
)
#: For the BE5xx rules also: the *name* or *kind* of a secret rather than its value, and the
#: actions of account forms on it (``default_password``, ``reset_token``, ``confirm_password``).
_NOT_SECRET_BEFORE = NOT_SECRET_CONTEXT | {
    "needs",
    "default",
    "no",
    "invalid",
    "bad",
    "wrong",
    "expired",
    "old",
    "new",
    "reset",
    "forgot",
    "forgotten",
    "change",
    "confirm",
    "show",
    "hide",
    "validate",
    "check",
    "verify",
}
#: Words after the secret word that make the name about its metadata, not its value.
_NOT_SECRET_AFTER = frozenset(
    {
        "field",
        "fields",
        "name",
        "names",
        "type",
        "types",
        "kind",
        "label",
        "param",
        "parameter",
        "header",
        "env",
        "var",
        "variable",
        "url",
        "uri",
        "path",
        "file",
        "filename",
        "dir",
        "id",
        "ids",
        "length",
        "len",
        "size",
        "min",
        "max",
        "prefix",
        "suffix",
        "pattern",
        "regex",
        "re",
        "format",
        "template",
        "help",
        "text",
        "message",
        "msg",
        "error",
        "errors",
        "placeholder",
        "policy",
        "validator",
        "validators",
        "hasher",
        "hashers",
        "algorithm",
        "algorithms",
        "alg",
        "scheme",
        "location",
        "expiry",
        "expires",
        "lifetime",
        "ttl",
        "timeout",
        "age",
        "attr",
        "attribute",
        "column",
        "key",  # a key *under which* a secret is stored: PASSWORD_KEY = "password"
        "class",
        "backend",
        "model",
        "form",
        "widget",
        "view",
        "endpoint",
        "route",
        "method",
        "mode",
        "source",
        "provider",
        "required",
        "enabled",
        "set",
        "count",
        "version",
        "status",
        "hint",
        "audience",
        "issuer",
        "manager",
        "handler",
        "serializer",
        "generator",
        "factory",
        "store",
        "storage",
        "cache",
        "usage",
        "limit",
        "query",
        "display",
    }
)


@dataclass(frozen=True, slots=True)
class SecretNames:
    """A vocabulary of names that name a secret: a ``last`` word or a ``pairs`` of last two
    words, each mapped to the kind of secret it names, unless one of the ``not_before`` words
    stands before it. Only the end of the name counts: ``db_password`` names a secret,
    ``PASSWORD_FIELD`` and ``password_reset_url`` do not."""

    last: Mapping[str, str]
    pairs: Mapping[tuple[str, str], str]
    not_before: frozenset[str]

    def kind(self, identifier: str) -> str | None:
        """The kind of secret ``identifier`` names, or None."""
        found = words(identifier)
        if not found:
            return None
        kind: str | None = None
        consumed = 1
        if tuple(found[-2:]) in self.pairs and len(found) >= 2:
            kind, consumed = self.pairs[(found[-2], found[-1])], 2
        elif found[-1] in self.last:
            kind = self.last[found[-1]]
        if kind is None:
            return None
        if any(word in self.not_before for word in found[:-consumed]):
            return None
        return kind


#: The names of credentials the BE5xx rules look for.
CREDENTIAL_NAMES = SecretNames(_SECRET_LAST, _SECRET_PAIRS, _NOT_SECRET_BEFORE)


def secret_kind(identifier: str) -> str | None:
    """The kind of secret ``identifier`` names (``password``, ``token``, ``key``, ``secret``,
    ``credentials``), or None. Only the end of the name counts: ``db_password`` and
    ``STRIPE_API_KEY`` name secrets, ``PASSWORD_FIELD``, ``token_type``, ``max_tokens`` and
    ``password_reset_url`` do not."""
    return CREDENTIAL_NAMES.kind(identifier)


def mentions_secret(identifier: str) -> bool:
    """True when any word of ``identifier`` is a secret word, wherever it stands
    (``PASSWORD_FIELD``, ``token_type``): names *about* a secret."""
    found = words(identifier)
    return any(w in _SECRET_LAST for w in found) or any(
        pair in _SECRET_PAIRS for pair in itertools.pairwise(found)
    )


#: Words whose presence in a name means "password-like" for the hashing rules.
PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "passcode", "pw"})


def password_like(identifier: str) -> bool:
    """``password``, ``raw_password``, ``new_pwd``, ``user.passwd`` -- but not
    ``password_reset_url``-style metadata (checked on the words after the password word)."""
    found = words(identifier)
    for index, word in enumerate(found):
        if word in PASSWORD_WORDS or (word == "pass" and found[index + 1 : index + 2] == ["word"]):
            rest = found[index + 1 :]
            if rest and rest[0] == "word":
                rest = rest[1:]
            return not any(r in _NOT_SECRET_AFTER or r in ("reset", "changed") for r in rest)
    return False


# -- values --------------------------------------------------------------------------------

#: Whole values (lower case) that stand for a secret instead of being one.
_PLACEHOLDER_VALUES = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "secret",
        "token",
        "key",
        "apikey",
        "api_key",
        "api-key",
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "replaceme",
        "replace_me",
        "replace-me",
        "todo",
        "tbd",
        "fixme",
        "none",
        "null",
        "nil",
        "undefined",
        "empty",
        "unset",
        "notset",
        "not_set",
        "not-set",
        "default",
        "redacted",
        "removed",
        "hidden",
        "masked",
        "secretkey",
        "secret_key",
        "secret-key",
        "mysecret",
        "yoursecret",
        "your_secret",
        "notasecret",
        "not-a-secret",
        "not_a_secret",
        "dev",
        "development",
        "local",
        "insecure",
    }
)
#: Words inside a value that mark it as a stand-in or test value.
_PLACEHOLDER_WORDS = re.compile(
    r"change[_\- ]?me|replace[_\- ]?me|changeit|your[_\- ]|example|dummy|placeholder|sample|"
    r"fake|mock|test|redacted|xxxx|\.\.\.|\*\*\*|<[^>]*>|\$\{|\{\{|%\(|%s|"
    r"not[_\- ]?a[_\- ]?(?:real[_\- ]?)?secret|do[_\- ]?not[_\- ]?use|\bfoo\b|\bbar\b",
    re.IGNORECASE,
)
_FORMAT_FIELD = re.compile(r"\{[A-Za-z_][\w.\[\]]*(?:![rsa])?(?::[^{}]*)?\}|\{\}")
_ENV_REFERENCE = re.compile(r"^\$[A-Za-z_]\w*$|^%[A-Za-z_]\w*%$|^env:", re.IGNORECASE)


def placeholder(value: str) -> bool:
    """True for values that stand for a secret: ``""``, ``changeme``, ``<your-token>``,
    ``${API_KEY}``, ``{password}``, ``***``, ``xxxxxxxx``, ``example``, ``$SECRET``, values of
    one repeated character, and values made only of the word ``password``/``secret``/..."""
    stripped = value.strip()
    if len(stripped) < 3:
        return True
    low = stripped.lower()
    if low in _PLACEHOLDER_VALUES:
        return True
    if len(set(low)) <= 2:
        return True  # "xxxxxxxx", "********", "000000", "abab"
    if _ENV_REFERENCE.match(stripped) or _FORMAT_FIELD.search(stripped):
        return True
    return bool(_PLACEHOLDER_WORDS.search(stripped))


_IDENTIFIER = re.compile(r"^_*[A-Za-z][A-Za-z_\-]*$")
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


def name_like(value: str) -> bool:
    """A value that reads as the name of something rather than a secret: ``"bearer"``,
    ``"password"``, ``"X-Api-Key"``, ``"django.contrib.auth.hashers.MD5PasswordHasher"``,
    ``"api_token"``, a path or URL without credentials, or text with spaces."""
    if _IDENTIFIER.match(value) or _DOTTED.match(value):
        return True
    if any(ch.isspace() for ch in value.strip()):
        return True  # messages and labels
    return value.startswith(("/", "./", "../", "http://", "https://", "#"))


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(value: str, *, min_length: int = 16, min_entropy: float = 3.0) -> bool:
    """True for machine-made strings: long enough, varied characters, no spaces."""
    if len(value) < min_length or any(ch.isspace() for ch in value):
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )
    return classes >= 2 and entropy(value) >= min_entropy


# -- well-known token formats --------------------------------------------------------------

#: (label, pattern). Each pattern matches the whole secret; ``known_token`` checks the random
#: part for placeholders and repetition so that documentation examples stay quiet.
_TOKEN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,251}\b")),
    ("GitHub fine-grained token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{60,255}\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-(?:[0-9A-Za-z]+-){1,4}[0-9A-Za-z]{6,}")),
    (
        "Slack webhook URL",
        re.compile(
            r"https://hooks\.slack\.com/services/T[0-9A-Z]{6,}/B[0-9A-Z]{6,}/[0-9A-Za-z]{20,}"
        ),
    ),
    ("Stripe live key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    ("SendGrid API key", re.compile(r"\bSG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}\b")),
    (
        "OpenAI API key",
        re.compile(
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}"
        ),
    ),
    ("Anthropic API key", re.compile(r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,}")),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("PyPI token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z]{34,}\b")),
    ("Shopify token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    (
        "private key",
        re.compile(
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
            r"\s*(?:[A-Za-z\-]+: [^\n]*\n\s*)*[A-Za-z0-9+/=\s\\n]{40,}"
        ),
    ),
    (
        "JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}"),
    ),
)
#: Cheap substrings, one of which every format above contains (the rules' prefilter).
TOKEN_TRIGGERS = (
    "AKIA",
    "ASIA",
    "ABIA",
    "ACCA",
    "AGPA",
    "AIDA",
    "AROA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xox",
    "hooks.slack.com",
    "_live_",
    "AIza",
    "SG.",
    "T3BlbkFJ",
    "sk-ant-",
    "npm_",
    "pypi-",
    "hf_",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "PRIVATE KEY",
    "eyJ",
)
_REPEAT = re.compile(r"(.)\1{5,}")


def known_token(value: str) -> tuple[str, str] | None:
    """``(label, matched text)`` when ``value`` contains a well-known secret format whose
    random part is not a placeholder, else None."""
    for label, pattern in _TOKEN_FORMATS:
        for match in pattern.finditer(value):
            text = match.group(0)
            body = text.split("-----", 3)[-1] if label == "private key" else text
            if _fake_token(label, body):
                continue
            return label, text
    return None


def _fake_token(label: str, text: str) -> bool:
    upper = text.upper()
    if "EXAMPLE" in upper or "XXXX" in upper or "FAKE" in upper or "DUMMY" in upper:
        return True
    if label != "private key" and _REPEAT.search(text):
        return True  # "ghp_aaaaaaaaaaaa...", "AKIA0000000000000000"
    if label in ("private key", "JSON Web Token"):
        return False
    tail = re.sub(r"^[A-Za-z]+[_\-]", "", text)
    return entropy(tail) < 3.0


# -- URLs ----------------------------------------------------------------------------------

#: Schemes of connection URLs (a ``+driver`` suffix is allowed: ``postgresql+psycopg``).
URL_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "oracle",
        "mssql",
        "cockroachdb",
        "redshift",
        "snowflake",
        "clickhouse",
        "mongodb",
        "mongodb+srv",
        "redis",
        "rediss",
        "valkey",
        "amqp",
        "amqps",
        "kafka",
        "nats",
        "memcached",
        "sqs",
        "http",
        "https",
        "ftp",
        "ftps",
        "sftp",
        "ssh",
        "smtp",
        "smtps",
        "imap",
        "imaps",
        "ldap",
        "ldaps",
        "elasticsearch",
        "opensearch",
        "influxdb",
        "neo4j",
        "bolt",
        "couchdb",
        "cassandra",
        "db2",
        "ibm_db_sa",
        "trino",
        "presto",
        "hive",
        "druid",
        "sqlite",
    }
)
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<user>[^\s:/@?#]*):(?P<password>[^\s@/?#]+)@"
    r"(?P<host>[^\s/?#:]*)"
)


def url_password(value: str) -> tuple[str, str, str, str] | None:
    """``(scheme, user, password, host)`` for the first ``scheme://user:password@host`` in
    ``value`` whose password is real (not a placeholder, not the user name repeated)."""
    for match in _URL_CREDENTIALS.finditer(value):
        user, password = match.group("user"), match.group("password")
        scheme = match.group("scheme").lower()
        if scheme not in URL_SCHEMES and scheme.split("+", 1)[0] not in URL_SCHEMES:
            continue
        if _placeholder_password(password, user):
            continue
        return match.group("scheme"), user, password, match.group("host")
    return None


def _placeholder_password(password: str, user: str) -> bool:
    if password == user:
        return True  # postgres:postgres, guest:guest -- a local default, not a secret
    if password.startswith(("$", "%", "{", "<", "[")) or password.endswith(("}", ">", "]")):
        return True
    if set(password) <= {"*", "x", "X", "."}:
        return True
    return placeholder(password)


# -- places --------------------------------------------------------------------------------

DEFAULT_TEST_PATHS: tuple[str, ...] = (
    "tests/",
    "test/",
    "testing/",
    "testutils/",
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "tests.py",
    "conftest.py",
    "fixtures/",
    "test_settings.py",
    "settings_test.py",
    "**/settings/test.py",
    "**/settings/testing.py",
    "**/settings/tests.py",
)


@functools.lru_cache(maxsize=32)
def _test_spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def is_test_path(path: str, patterns: Iterable[str]) -> bool:
    """True when ``path`` (relative, ``/`` separators) matches one of the gitignore-style
    ``patterns`` (``tests/`` matches any ``tests`` directory, ``test_*.py`` any such file)."""
    spec = _test_spec(tuple(patterns))
    return bool(spec.match_file(path.replace("\\", "/").lstrip("./") or path))


# -- expressions ---------------------------------------------------------------------------


def literal_string(expr: cst.BaseExpression | None) -> str | None:
    """The text of a plain string or bytes literal (bytes decoded as Latin-1), else None.
    Implicit concatenations of plain literals count; f-strings do not."""
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        try:
            value = expr.evaluated_value
        except Exception:  # malformed escapes in a literal the parser accepted
            return None
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return value if isinstance(value, str) else None
    return None


def argument(call: cst.Call, *keywords: str, index: int = -1) -> cst.Arg | None:
    """The argument passed as the first of ``keywords`` given, else the ``index``-th passed by
    position (``*args`` not counted); a negative ``index`` looks at keywords only."""
    for keyword in keywords:
        arg = keyword_arg(call, keyword)
        if arg is not None:
            return arg
    args = positional_args(call)
    return args[index] if 0 <= index < len(args) else None


def int_value(
    expr: cst.BaseExpression | None, ctx: FileContext | None = None, depth: int = 0
) -> int | None:
    """The value of an integer expression: literals (``600_000``), ``2 ** 17``, ``1 << 16``,
    ``+ - * //``, unary minus, and names followed to their one value."""
    if expr is None or depth > 8:
        return None
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = int_value(expr.expression, ctx, depth + 1)
        return -inner if inner is not None else None
    if isinstance(expr, cst.BinaryOperation):
        left = int_value(expr.left, ctx, depth + 1)
        right = int_value(expr.right, ctx, depth + 1)
        if left is None or right is None:
            return None
        op = expr.operator
        if isinstance(op, cst.Add):
            return left + right
        if isinstance(op, cst.Subtract):
            return left - right
        if isinstance(op, cst.Multiply):
            return left * right
        if isinstance(op, cst.FloorDivide) and right:
            return left // right
        if isinstance(op, cst.Power) and 0 <= right <= 64:
            return int(left**right)
        if isinstance(op, cst.LeftShift) and 0 <= right <= 64:
            return left << right
        return None
    if isinstance(expr, cst.Name) and ctx is not None:
        return int_value(resolve(expr, ctx), ctx, depth + 1)
    return None


def resolve(expr: cst.BaseExpression, ctx: FileContext) -> cst.BaseExpression:
    """``expr``, or the one value a name holds where it is read (followed a few steps); a
    conditional expression whose condition is constant (``"md5" if 7 * 6 > 40 else "sha256"``)
    gives its live branch."""
    seen = 0
    while seen < 6:
        seen += 1
        if isinstance(expr, cst.IfExp):
            live = _live_branch(expr, ctx)
            if live is None:
                return expr
            expr = live
            continue
        if not isinstance(expr, cst.Name):
            return expr
        try:
            value = ctx.value_of(expr)
        except Exception:  # value tracking is best effort; a failure means "unknown"
            return expr
        if value is None or value is expr:
            return expr
        expr = value
    return expr


def _live_branch(expr: cst.IfExp, ctx: FileContext) -> cst.BaseExpression | None:
    """The branch of ``expr`` that runs when its test folds to a constant, else None."""
    try:
        from be_lint.dataflow import truth

        lookup = getattr(ctx.dataflow, "constant", None)
        known = truth(expr.test, lookup)
    except Exception:  # folding is best effort (and optional in the value tracking)
        return None
    if known is None:
        return None
    return expr.body if known else expr.orelse


def terminal_name(expr: cst.BaseExpression) -> str | None:
    """The identifier that names ``expr``: ``x`` -> x, ``a.b.c`` -> c, ``d["key"]`` -> key,
    ``d.get("key")`` -> key, ``x.encode()``/``str(x)`` -> the name of ``x``."""
    for _ in range(6):
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, cst.Attribute):
            return expr.attr.value
        if isinstance(expr, cst.Subscript):
            if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
                key = literal_string(expr.slice[0].slice.value)
                if key is not None:
                    return key
            return None
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("get", "pop", "getlist"):
                key = literal_string(expr.args[0].value) if expr.args else None
                return key
            if isinstance(func, cst.Attribute) and func.attr.value in ("encode", "strip", "lower"):
                expr = func.value
                continue
            if isinstance(func, cst.Name) and func.value in ("str", "bytes") and expr.args:
                expr = expr.args[0].value
                continue
            return None
        if isinstance(expr, cst.Await):
            expr = expr.expression
            continue
        return None
    return None


def assigned_names(node: cst.CSTNode) -> list[str]:
    """Identifiers an assignment statement binds: names, attribute names, literal keys."""
    targets: list[cst.BaseExpression] = []
    if isinstance(node, cst.Assign):
        targets = [t.target for t in node.targets]
    elif isinstance(node, cst.AnnAssign | cst.AugAssign):
        targets = [node.target]
    out: list[str] = []
    for target in targets:
        elements = target.elements if isinstance(target, cst.Tuple | cst.List) else None
        for item in [e.value for e in elements] if elements is not None else [target]:
            name = terminal_name(item)
            if name is not None:
                out.append(name)
    return out


# -- rules over every string literal ------------------------------------------------------------


class LiteralTextRule(PythonRule):
    """A rule that reads the text of every string and bytes literal once: an implicit
    concatenation of plain literals as one string (its parts not again alone), and the text
    parts of f-strings. Subclasses define ``check_text``.

    In a concatenation that holds f-strings, the plain parts after the last f-string are read
    as one string and the other plain parts alone; with ``read_parts_of_mixed``, every plain
    part is (also) read alone."""

    read_parts_of_mixed: ClassVar[bool] = False

    def __init__(self, ctx: FileContext, options: Any) -> None:
        super().__init__(ctx, options)
        self._seen: set[int] = set()

    def check_text(self, node: cst.CSTNode, text: str) -> None:
        """Look at the ``text`` of the literal (or f-string part) ``node``."""
        raise NotImplementedError

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        parts: list[cst.BaseExpression] = []
        current: cst.BaseExpression = node
        while isinstance(current, cst.ConcatenatedString):
            parts.append(current.left)
            current = current.right
        parts.append(current)
        text = literal_string(node)
        if text is not None:
            self._seen.update(id(p) for p in parts)
            self.check_text(node, text)
        elif self.read_parts_of_mixed:
            self._seen.update(id(p) for p in parts)
            for part in parts:
                value = literal_string(part) if isinstance(part, cst.SimpleString) else None
                if value is not None:
                    self.check_text(part, value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if id(node) not in self._seen:
            text = literal_string(node)
            if text is not None:
                self.check_text(node, text)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        self.check_text(node, node.value)


# -- options shared by the rules that lower their severity in tests ---------------------------

_SEVERITIES = ("error", "warning", "info", "off")


def test_paths_option() -> Any:
    """The ``test-paths`` field of an options dataclass: globs of test code."""
    return option(
        DEFAULT_TEST_PATHS,
        "Gitignore-style globs of test code, where findings get `test-severity`.",
    )


def test_severity_option(default: str) -> Any:
    """The ``test-severity`` field of an options dataclass, defaulting to ``default``; pair it
    with ``__post_init__`` calling ``validate_test_severity``."""
    return option(
        default,
        "Severity of findings in `test-paths`: error, warning, info, or off (not reported).",
    )


def test_path_options(default_severity: str) -> type:
    """An options dataclass with ``test-paths`` (globs) and ``test-severity`` (error, warning,
    info, or off to skip test code) defaulting to ``default_severity``."""
    return make_dataclass(
        "Options",
        [
            ("test_paths", tuple[str, ...], test_paths_option()),
            ("test_severity", str, test_severity_option(default_severity)),
        ],
        frozen=True,
        namespace={"__post_init__": validate_test_severity},
    )


def validate_test_severity(options: object) -> None:
    """``__post_init__`` of the options classes: reject an unknown ``test-severity``."""
    value = getattr(options, "test_severity", "info")
    if str(value).lower() not in _SEVERITIES:
        raise OptionsError(
            f"test-severity: expected one of {', '.join(_SEVERITIES)}, got {value!r}"
        )


def severity_here(ctx: FileContext, options: object) -> tuple[bool, str | None]:
    """``(report, severity override)`` for the file being checked, from the test options."""
    paths = getattr(options, "test_paths", DEFAULT_TEST_PATHS)
    if not is_test_path(ctx.path, paths):
        return True, None
    level = str(getattr(options, "test_severity", "info")).lower()
    if level == "off":
        return False, None
    if level not in _SEVERITIES:
        level = "info"
    return True, level


def report_by_place(
    rule: PythonRule,
    node: cst.CSTNode,
    message: str,
    *,
    help: str,
    replacement: cst.CSTNode | None = None,
    fix_safety: FixSafety = FixSafety.SAFE,
    fix_description: str = "",
) -> None:
    """``rule.report(...)`` with the severity that the rule's test options give the file
    being checked: nothing in test code when ``test-severity`` is off."""
    report, level = severity_here(rule.ctx, rule.options)
    if report:
        rule.report(
            node,
            message,
            help=help,
            replacement=replacement,
            fix_safety=fix_safety,
            fix_description=fix_description,
            severity=Severity(level) if level else None,
        )


_SAMPLE_WORDS = frozenset(
    {
        "sample",
        "samples",
        "example",
        "examples",
        "dummy",
        "fake",
        "placeholder",
        "placeholders",
        "mock",
        "demo",
        "fixture",
        "fixtures",
        "stub",
        "preview",
    }
)


def in_sample_code(ancestors: Iterable[cst.CSTNode]) -> bool:
    """True inside a function or class named for sample data (``_event_sample``,
    ``base_placeholders``, ``DemoData``, ``make_fake_user``): its literals are made up."""
    for node in ancestors:
        if isinstance(node, cst.FunctionDef | cst.ClassDef) and not _SAMPLE_WORDS.isdisjoint(
            words(node.name.value)
        ):
            return True
    return False


# -- where a value goes ----------------------------------------------------------------------


class UseSite:
    """Where an expression's value ends up, read from the nodes enclosing it: the names it is
    assigned to, the keywords and dictionary keys it is passed under, whether the enclosing
    function returns it, and the names of the enclosing functions and classes."""

    __slots__ = (
        "callees",
        "classes",
        "functions",
        "keywords",
        "returned",
        "statement",
        "targets",
    )

    def __init__(self) -> None:
        self.targets: list[str] = []
        #: Names of the calls the value is passed to, innermost first (``fingerprint``).
        self.callees: list[str] = []
        self.keywords: list[str] = []
        self.returned = False
        self.functions: list[str] = []
        self.classes: list[str] = []
        self.statement: cst.CSTNode | None = None

    def names(self) -> list[str]:
        """Names the value is stored or passed under (targets, keywords, keys)."""
        return [*self.targets, *self.keywords]


def use_site(node: cst.CSTNode, ancestors: list[cst.CSTNode]) -> UseSite:
    """How the value of ``node`` (with ``ancestors``, outermost first) is used."""
    site = UseSite()
    child: cst.CSTNode = node
    index = len(ancestors) - 1
    while index >= 0:
        parent = ancestors[index]
        if isinstance(parent, cst.Arg) and parent.value is child:
            if parent.keyword is not None:
                site.keywords.append(parent.keyword.value)
            call = ancestors[index - 1] if index > 0 else None
            if isinstance(call, cst.Call):
                callee = terminal_name(call.func)
                if callee is not None:
                    site.callees.append(callee)
        elif isinstance(parent, cst.DictElement) and parent.value is child:
            key = literal_string(parent.key)
            if key is not None:
                site.keywords.append(key)
        elif isinstance(parent, cst.Assign | cst.AnnAssign | cst.AugAssign):
            site.targets.extend(assigned_names(parent))
            break
        elif isinstance(parent, cst.NamedExpr):
            name = terminal_name(parent.target)
            if name:
                site.targets.append(name)
        elif isinstance(parent, cst.Return):
            site.returned = True
            break
        elif isinstance(
            parent,
            cst.BaseSmallStatement
            | cst.BaseCompoundStatement
            | cst.Lambda
            | cst.FunctionDef
            | cst.ClassDef,
        ):
            break
        child = parent
        index -= 1
    for outer in reversed(ancestors[: index + 1] if index >= 0 else []):
        if site.statement is None and isinstance(
            outer, cst.SimpleStatementLine | cst.BaseCompoundStatement
        ):
            site.statement = outer
        if isinstance(outer, cst.FunctionDef):
            site.functions.append(outer.name.value)
        elif isinstance(outer, cst.ClassDef):
            site.classes.append(outer.name.value)
    return site


def expression_names(expr: cst.BaseExpression, limit: int = 40) -> list[str]:
    """Identifiers read in ``expr``: names, attribute names, literal subscript and ``.get``
    keys (nested functions and lambdas excluded)."""
    out: list[str] = []
    stack: list[cst.CSTNode] = [expr]
    from be_lint.walker import children

    while stack and len(out) < limit:
        node = stack.pop()
        if isinstance(node, cst.Name):
            out.append(node.value)
        elif isinstance(node, cst.Attribute):
            out.append(node.attr.value)
            stack.append(node.value)
            continue
        elif isinstance(node, cst.Subscript | cst.Call):
            name = terminal_name(node)
            if (name is not None and not isinstance(node, cst.Call)) or (
                isinstance(node, cst.Call) and name is not None
            ):
                out.append(name)
        elif isinstance(node, cst.Lambda | cst.FunctionDef):
            continue
        stack.extend(children(node))
    return out


# -- JSON Web Tokens -------------------------------------------------------------------------

#: Decoding functions -> library (PyJWT, python-jose, authlib).
JWT_DECODE: dict[str, str] = {
    "jwt.decode": "pyjwt",
    "jwt.decode_complete": "pyjwt",
    "jwt.api_jwt.decode": "pyjwt",
    "jwt.api_jwt.decode_complete": "pyjwt",
    "jose.jwt.decode": "jose",
    "authlib.jose.jwt.decode": "authlib",
}
JWT_ENCODE: dict[str, str] = {
    "jwt.encode": "pyjwt",
    "jwt.api_jwt.encode": "pyjwt",
    "jose.jwt.encode": "jose",
    "authlib.jose.jwt.encode": "authlib",
}
JWT_TRIGGERS = ("jwt", "jose")


def jwt_function(ctx: FileContext, call: cst.Call, table: dict[str, str]) -> tuple[str, str] | None:
    """``(qualified name, library)`` when ``call`` is one of ``table``'s functions."""
    for name in ctx.qualified_names(call.func):
        library = table.get(name)
        if library is not None:
            return name, library
    return None


def dict_literal(expr: cst.BaseExpression | None, ctx: FileContext) -> cst.Dict | None:
    """The dict literal ``expr`` is (or holds, through a name): ``{...}`` or ``dict(k=v)``
    rewritten as its items; None for anything else, or when ``**`` spreads unknown keys."""
    if expr is None:
        return None
    value = resolve(expr, ctx)
    if isinstance(value, cst.Dict):
        return value
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "dict"
    ):
        if any(arg.keyword is None for arg in value.args):
            return None
        return cst.Dict(
            [
                cst.DictElement(cst.SimpleString(repr(arg.keyword.value)), arg.value)
                for arg in value.args
                if arg.keyword is not None
            ]
        )
    return None


def dict_entries(node: cst.Dict) -> tuple[dict[str, cst.DictElement], bool]:
    """``(literal key -> element, has a spread or computed key)``."""
    entries: dict[str, cst.DictElement] = {}
    opaque = False
    for element in node.elements:
        if isinstance(element, cst.DictElement):
            key = literal_string(element.key)
            if key is None:
                opaque = True
            else:
                entries[key] = element
        else:
            opaque = True
    return entries, opaque


def is_false(expr: cst.BaseExpression) -> bool:
    return (isinstance(expr, cst.Name) and expr.value == "False") or (
        isinstance(expr, cst.Integer) and expr.value == "0"
    )


def jwt_algorithms(
    call: cst.Call, ctx: FileContext, keyword: str = "algorithms"
) -> list[tuple[str, cst.BaseExpression]] | None:
    """The literal algorithm names passed as ``keyword`` (a list, tuple or one string; names
    followed), each with its node; None when absent or not literal."""
    arg = None
    for candidate in call.args:
        if candidate.keyword is not None and candidate.keyword.value == keyword:
            arg = candidate
    if arg is None:
        return None
    value = resolve(arg.value, ctx)
    items: list[cst.BaseExpression]
    if isinstance(value, cst.List | cst.Tuple | cst.Set):
        items = [resolve(e.value, ctx) for e in value.elements]
    else:
        items = [value]
    out: list[tuple[str, cst.BaseExpression]] = []
    for item in items:
        text = literal_string(item)
        if text is None:
            return None
        out.append((text, item))
    return out
