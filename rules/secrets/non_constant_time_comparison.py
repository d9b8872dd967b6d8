"""BE513 non-constant-time-comparison: a signature, token or digest compared with ``==``."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.prefilter import lowered
from be_lint.rule import Confidence, Example, FileKind, FixSafety, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    expression_names,
    literal_string,
    report_by_place,
    resolve,
    terminal_name,
    test_path_options,
    use_site,
    words,
)

RATIONALE = """\
`==` on strings and bytes stops at the first differing character, so the time it takes
reveals how much of a guess was right. Against a signature or token check, an attacker
guesses the expected value one character at a time; with enough samples this works over a
network, and HMAC-signed webhooks and API keys are the textbook target.

Reported: `==` and `!=` where the code checks a guess against a secret:

- one side is named as a secret -- signature, sig, HMAC, MAC, token, API key, secret, OTP,
  nonce, or password hash (`signature`, `request.headers["X-Signature"]`, `user.api_key`,
  `hashed_password`) -- and one side carries the client's guess: it is read from the request
  (`request.headers`, `request.GET`, `self.kwargs`, ..., directly or through a local variable)
  or named like the incoming value (`provided`, `received`, `given`, `supplied`, `header`);
- or both sides are named as secrets (`token == expected_token`, `api_key == API_KEY`) in a
  file that imports a crypto or token library (`hmac`, `secrets`, `jwt`, `itsdangerous`,
  `django.core.signing`, ...) or in a function named for an auth check (`verify_...`,
  `authenticate`, `..._webhook`, `login`), when the comparison decides (`if`, `return`)
  rather than being stored as a flag (`changed = old.secret != secret`);
- or one side is an HMAC computed in place or held by a local variable:
  `hmac.new(...).hexdigest() == header`.

Requiring the guess keeps comparisons that are not checks quiet: two machine-learning model
"signatures", a cached token against a refreshed one, a "token" of a parser, content digests
compared for integrity (a digest of public data is not a secret).

Quiet: comparisons with `None`, `""`, string or number constants (`token_type == "bearer"`),
lengths, upper-case constants not named as secrets, `is`/`is not`, `hmac.compare_digest`, names about a secret rather than the secret
(`token_type`, `signature_version`, `token_id`), `__eq__` methods, `assert` statements, and
test code (`test-paths`, `test-severity` off by default).
"""

HOW_TO_FIX = """\
Compare with `hmac.compare_digest(a, b)` (or `secrets.compare_digest`), which takes the same
time wherever the inputs differ. Compare bytes with bytes or ASCII strings with ASCII strings:

```python
if not hmac.compare_digest(request.headers.get("X-Signature", ""), expected):
    raise PermissionDenied
```
"""

_SECRET_WORDS = frozenset(
    {"signature", "sig", "hmac", "mac", "token", "secret", "otp", "apikey", "nonce"}
)
#: Where the guess comes from: the request, or a name that says it is the incoming value.
_INCOMING = frozenset(
    {
        "request",
        "req",
        "headers",
        "GET",
        "POST",
        "META",
        "COOKIES",
        "query_params",
        "provided",
        "received",
        "given",
        "supplied",
        "submitted",
        "incoming",
        "candidate",
        "header",
        "presented",
    }
)
_CRYPTO_MODULES = (
    "hmac",
    "secrets",
    "jwt",
    "jose",
    "authlib",
    "itsdangerous",
    "django.core.signing",
    "django.utils.crypto",
    "nacl",
    "cryptography",
)
_AUTH_WORDS = frozenset(
    {"verify", "authenticate", "authorize", "auth", "login", "webhook", "permission", "csrf"}
)
_MAC_CALLS = frozenset({"hmac.new", "hmac.HMAC", "hmac.digest"})
_HASH_WORDS = frozenset({"hash", "hashed"})
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pw"})
_METADATA_WORDS = frozenset(
    {
        "type",
        "types",
        "version",
        "id",
        "ids",
        "name",
        "kind",
        "count",
        "len",
        "length",
        "method",
        "algorithm",
        "alg",
        "header",
        "prefix",
        "scheme",
        "status",
        "format",
        "key",  # sig_key, token_key: the name of a field, not its value
        "url",
        "user",
        "owner",
        "expires",
        "expiry",
        "created",
        "scope",
        "scopes",
        "size",
        "page",
        "next",
        "max",
        "min",
        "csrf",
        "xsrf",
        "refresh",
        "field",
        "algo",
        "mode",
        "hint",
        "label",
        "provider",
        "issuer",
        "audience",
    }
)
_HINTS = ("sig", "hmac", "mac", "token", "secret", "otp", "api_key", "apikey", "nonce", "hash")
_DIGEST_CALLS = frozenset({"hexdigest", "digest", "b64digest"})


def _secret_operand(expr: cst.BaseExpression) -> str | None:
    """How ``expr`` names a secret (``signature``, ``X-Hub-Signature``), or None."""
    name = terminal_name(expr)
    if name is None:
        return None
    found = words(name)
    if not found or found[0] in _METADATA_WORDS:
        return None
    if tuple(found[-2:]) in (("api", "key"), ("secret", "key"), ("access", "key")):
        return name
    if found[-1] in _METADATA_WORDS:
        return None
    if found[-1] in _SECRET_WORDS:
        return name
    if found[-1] in _HASH_WORDS and not _PASSWORD_WORDS.isdisjoint(found):
        return name
    if found[0] in _HASH_WORDS and not _PASSWORD_WORDS.isdisjoint(found):
        return name  # hashed_password
    return None


def _constant(expr: cst.BaseExpression) -> bool:
    if literal_string(expr) is not None:
        return True
    if isinstance(expr, cst.Integer | cst.Float):
        return True
    if isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"):
        return True
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
        return expr.func.value in ("len", "type", "bool", "isinstance")
    if isinstance(expr, cst.Attribute | cst.Name):
        # ``cls.ASC_OPERATOR``, ``TOKEN_TYPE_BEARER``; but ``API_TOKEN`` is a configured secret
        name = expr.attr.value if isinstance(expr, cst.Attribute) else expr.value
        return name.isupper() and _secret_operand(expr) is None
    return False


Options = test_path_options("off")


class NonConstantTimeComparison(PythonRule):
    meta = RuleMeta(
        code="BE513",
        name="non-constant-time-comparison",
        summary="Signature, token or digest compared with `==` instead of `compare_digest`",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=208,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/208.html",
            "https://docs.python.org/3/library/hmac.html#hmac.compare_digest",
        ),
    )
    options_class = Options
    triggers = ("==", "!=")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        if "==" not in text and "!=" not in text:
            return False
        low = lowered(text)
        return any(hint in low for hint in _HINTS)

    bad = (
        Example(
            """\
import hashlib
import hmac


def verify_webhook(request, secret):
    expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
    if request.headers["X-Signature"] != expected:  # expect: BE513
        raise PermissionDenied


def check_key(request, account):
    provided = request.headers.get("X-Api-Key")
    return account.api_key == provided  # expect: BE513


def check_hmac(secret, body, header):
    return hmac.new(secret, body, "sha256").hexdigest() == header  # expect: BE513


def verify_api_token(api_token):
    return api_token == settings.API_TOKEN  # expect: BE513
""",
            fixed="""\
import hashlib
import hmac


def verify_webhook(request, secret):
    expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(request.headers["X-Signature"], expected):  # expect: BE513
        raise PermissionDenied


def check_key(request, account):
    provided = request.headers.get("X-Api-Key")
    return hmac.compare_digest(account.api_key, provided)  # expect: BE513


def check_hmac(secret, body, header):
    return hmac.compare_digest(hmac.new(secret, body, "sha256").hexdigest(), header)  # expect: BE513


def verify_api_token(api_token):
    return hmac.compare_digest(api_token, settings.API_TOKEN)  # expect: BE513
""",
        ),
    )
    good = (
        Example(
            """\
import hmac


def verify(request, expected, token):
    if not hmac.compare_digest(request.headers.get("X-Signature", ""), expected):
        raise PermissionDenied
    if token is None or token == "":
        raise PermissionDenied
    if token.token_type == "bearer" or len(token) != 40:
        raise PermissionDenied
    if request.auth.token_id == token.token_id:
        return True
    assert token.scope == expected.scope


class Token:
    def __eq__(self, other):
        return self.token == other.token
"""
        ),
        Example(
            """\
from mlflow.models import infer_signature


def check_model(signature, inferred_signature, cached_token, fresh):
    # no crypto in sight and nothing from the request: model signatures, a token cache
    if signature is not None and signature != inferred_signature:
        raise ValueError("signature mismatch")
    if cached_token != fresh.token:
        refresh(fresh)
"""
        ),
        Example(
            """\
import hmac
import os


def fresh_entry(path, known):
    # a file's stat triple named "signature" in a module that signs cache entries
    signature = (os.stat(path).st_mtime_ns, os.stat(path).st_size)
    if known.signature == signature:
        return known
    return None
"""
        ),
    )

    def _mac(self, expr: cst.BaseExpression, depth: int = 0) -> str | None:
        """``hmac.new(...).hexdigest()`` (or a name holding it): a MAC computed in place."""
        if depth > 4:
            return None
        if isinstance(expr, cst.Name):
            imports = self.ctx.imports
            if imports is None or not imports.imports_module("hmac"):
                return None  # no HMAC can be computed in this file
            expr = resolve(expr, self.ctx)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._mac(expr.left, depth + 1) or self._mac(
                expr.right, depth + 1
            )  # "sha256=" + hexdigest()
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in _DIGEST_CALLS
            and isinstance(expr.func.value, cst.Call)
            and self.ctx.matches(expr.func.value.func, _MAC_CALLS)
        ):
            return f"hmac {expr.func.attr.value}()"
        return None

    def _not_text(self, expr: cst.BaseExpression) -> bool:
        """``expr`` holds a container or a number (``signature = (mtime, size)``)."""
        value = resolve(expr, self.ctx) if isinstance(expr, cst.Name) else expr
        return isinstance(
            value,
            cst.Tuple
            | cst.List
            | cst.Set
            | cst.Dict
            | cst.ListComp
            | cst.SetComp
            | cst.DictComp
            | cst.Integer
            | cst.Float,
        )

    def _decides(self, node: cst.Comparison) -> bool:
        """The comparison decides something (``if``, ``return``), rather than being stored as a
        flag (``changed = old.secret != secret``)."""
        return not use_site(node, self.ctx.ancestors).targets

    def _security_context(self) -> bool:
        """The file imports a crypto or token library, or the function is an auth check."""
        imports = self.ctx.imports
        if imports is not None and any(imports.imports_module(m) for m in _CRYPTO_MODULES):
            return True
        function = self.ctx.enclosing(cst.FunctionDef)
        return isinstance(function, cst.FunctionDef) and not _AUTH_WORDS.isdisjoint(
            words(function.name.value)
        )

    def _incoming(self, expr: cst.BaseExpression) -> bool:
        """The operand carries the client's guess: read from the request (directly or through
        a local variable) or named like the incoming value."""
        candidates = [expr]
        if isinstance(expr, cst.Name):
            value = resolve(expr, self.ctx)
            if value is not expr:
                candidates.append(value)
        for candidate in candidates:
            if any(
                isinstance(node, cst.Attribute)
                and node.attr.value == "kwargs"
                and isinstance(node.value, cst.Name)
                and node.value.value == "self"
                for node in (candidate, *descendants(candidate))
            ):
                return True  # a class-based view's URL parameters
            names = expression_names(candidate)
            if any(n in _INCOMING or not _INCOMING.isdisjoint(words(n)) for n in names):
                return True
        return False

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        operator = target.operator
        if not isinstance(operator, cst.Equal | cst.NotEqual):
            return
        left, right = node.left, target.comparator
        if _constant(left) or _constant(right):
            return
        if self._not_text(left) or self._not_text(right):
            return  # compare_digest compares str/bytes; a tuple or number is no secret
        secret = self._mac(left) or self._mac(right)
        if secret is None:
            left_secret, right_secret = _secret_operand(left), _secret_operand(right)
            secret = left_secret or right_secret
            if secret is None:
                return
            both = left_secret is not None and right_secret is not None
            if not (
                self._incoming(left)
                or self._incoming(right)
                or (both and self._security_context() and self._decides(node))
            ):
                return
        if self.ctx.enclosing(cst.Assert) is not None:
            return
        function = self.ctx.enclosing(cst.FunctionDef)
        if isinstance(function, cst.FunctionDef) and function.name.value in ("__eq__", "__ne__"):
            return
        replacement: cst.BaseExpression = cst.Call(
            func=cst.Attribute(cst.Name("hmac"), cst.Name("compare_digest")),
            args=[
                cst.Arg(
                    left.with_changes(lpar=[], rpar=[]),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                ),
                cst.Arg(right.with_changes(lpar=[], rpar=[])),
            ],
        )
        if isinstance(operator, cst.NotEqual):
            replacement = cst.UnaryOperation(cst.Not(), replacement)
        imported = self.ctx.imports is not None and "hmac" in self.ctx.imports.resolve_dotted(
            "hmac"
        )
        report_by_place(
            self,
            node,
            f"`{secret}` compared with `{'==' if isinstance(operator, cst.Equal) else '!='}`: "
            "the time taken leaks how much of a guess matches",
            help="use hmac.compare_digest(a, b)",
            replacement=replacement.with_changes(lpar=node.lpar, rpar=node.rpar)
            if imported
            else None,
            fix_safety=FixSafety.UNSAFE,
            fix_description="compare with hmac.compare_digest",
        )
