"""BE508 jwt-signature-not-verified: a JWT decoded without checking its signature or algorithm."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants, keyword_arg
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    JWT_DECODE,
    JWT_ENCODE,
    JWT_TRIGGERS,
    dict_entries,
    dict_literal,
    is_false,
    jwt_algorithms,
    jwt_function,
    literal_string,
    use_site,
    words,
)

RATIONALE = """\
A JSON Web Token is only as trustworthy as the check of its signature. Decoding without it
accepts any claims anyone writes -- `{"sub": "admin"}` base64-encoded by hand. The `none`
algorithm means "no signature", and a decoder that lets the token's own header choose the
algorithm can be talked into `none`, or into verifying an HMAC with the server's public key.

Reported, for PyJWT (`jwt.decode`), python-jose (`jose.jwt.decode`) and authlib
(`authlib.jose.jwt`):

- `options={"verify_signature": False}` (also through a local `options` dict) and PyJWT 1's
  `verify=False`;
- `jwt.decode(...)` (PyJWT, python-jose) without `algorithms=`: PyJWT 1 and python-jose then
  accept the algorithm the token names (PyJWT 2 refuses at run time);
- `algorithms` containing `"none"`, and `jwt.encode(..., algorithm="none")`.

Reading the claims of a token *before* verifying it -- to pick the key by its `kid` or `iss`
-- is legitimate: a decode without verification is quiet when its result is stored under a
name that says so (`unverified`, `untrusted`, `header`, `peek`) or when the same function
decodes again with verification. Prefer `jwt.get_unverified_header()` for that.

Disabled claim checks (`verify_exp`, `verify_aud`, ...) are BE510, algorithm confusion BE511,
literal keys BE501, and tokens written to logs BE801.
"""

HOW_TO_FIX = """\
Always verify, and pin the algorithm the key is for:

```python
claims = jwt.decode(token, settings.JWT_PUBLIC_KEY, algorithms=["RS256"], audience="api")
```

To read a header before choosing the key, use `jwt.get_unverified_header(token)` and then
decode with verification.
"""

_UNVERIFIED_WORDS = frozenset({"unverified", "untrusted", "unsafe", "insecure", "header", "peek"})


class JwtSignatureNotVerified(PythonRule):
    meta = RuleMeta(
        code="BE508",
        name="jwt-signature-not-verified",
        summary="JWT decoded without verifying its signature or pinning the algorithm",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=347,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/347.html",
            "https://pyjwt.readthedocs.io/en/stable/api.html#jwt.decode",
            "https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html",
        ),
    )
    triggers = JWT_TRIGGERS

    bad = (
        Example(
            """\
import jwt
from jose import jwt as jose_jwt


def current_user(token):
    claims = jwt.decode(token, options={"verify_signature": False})  # expect: BE508
    return User.objects.get(pk=claims["sub"])


def legacy(token, key):
    return jwt.decode(token, key, verify=False)  # expect: BE508


def any_algorithm(token, key):
    return jose_jwt.decode(token, key)  # expect: BE508


def lenient(token, key):
    opts = {"verify_signature": False, "verify_exp": True}
    return jwt.decode(token, key, algorithms=["HS256"], options=opts)  # expect: BE508


def unsigned(token, key):
    return jwt.decode(token, key, algorithms=["HS256", "none"])  # expect: BE508


def issue(claims):
    return jwt.encode(claims, None, algorithm="none")  # expect: BE508
"""
        ),
    )
    good = (
        Example(
            """\
import jwt

from django.conf import settings


def current_user(token):
    claims = jwt.decode(token, settings.JWT_KEY, algorithms=["HS256"], audience="api")
    return User.objects.get(pk=claims["sub"])


def by_issuer(token):
    unverified = jwt.decode(token, options={"verify_signature": False})
    key = keys_for(unverified["iss"])
    return key


def verified(token):
    claims = jwt.decode(token, options={"verify_signature": False})
    key = keys_for(claims["iss"])
    return jwt.decode(token, key, algorithms=["RS256"])


def header(token):
    return jwt.get_unverified_header(token)["kid"]
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        encode = jwt_function(self.ctx, node, JWT_ENCODE)
        if encode is not None:
            arg = keyword_arg(node, "algorithm")
            if arg is not None and (literal_string(arg.value) or "").lower() == "none":
                self._report(arg, "token signed with the `none` algorithm: it has no signature")
            return
        found = jwt_function(self.ctx, node, JWT_DECODE)
        if found is None:
            return
        _name, library = found
        options = dict_literal(
            (keyword_arg(node, "options") or cst.Arg(cst.Name("None"))).value, self.ctx
        )
        unverified: cst.CSTNode | None = None
        if options is not None:
            entries, _opaque = dict_entries(options)
            element = entries.get("verify_signature")
            if element is not None and is_false(element.value):
                unverified = keyword_arg(node, "options")
        verify = keyword_arg(node, "verify")
        if verify is not None and is_false(verify.value):
            unverified = verify
        if unverified is not None:
            if not self._reading_before_verifying(node):
                self._report(
                    unverified,
                    "JWT decoded without verifying its signature: anyone can forge its claims",
                )
            return
        algorithms = jwt_algorithms(node, self.ctx)
        if algorithms is None and keyword_arg(node, "algorithms") is None:
            if library in ("pyjwt", "jose") and not any(arg.star for arg in node.args):
                self._report(
                    node,
                    "JWT decoded without `algorithms=`: the token's header picks the algorithm",
                )
            return
        for text, item in algorithms or ():
            if text.lower() == "none":
                self._report(item, "`none` among the accepted JWT algorithms: unsigned tokens pass")
                return

    def _reading_before_verifying(self, node: cst.Call) -> bool:
        site = use_site(node, self.ctx.ancestors)
        if any(not _UNVERIFIED_WORDS.isdisjoint(words(n)) for n in site.names()):
            return True
        function = self.ctx.enclosing(cst.FunctionDef)
        if function is None:
            return False
        decodes = 0
        for inner in descendants(function):
            if isinstance(inner, cst.Call) and jwt_function(self.ctx, inner, JWT_DECODE):
                decodes += 1
        return decodes >= 2

    def _report(self, node: cst.CSTNode, message: str) -> None:
        self.report(
            node,
            message,
            help='verify with the expected key and pin the algorithm: algorithms=["RS256"]',
        )
