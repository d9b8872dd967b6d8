"""BE510 jwt-claim-check-disabled: expiry, audience or issuer checks of a JWT turned off."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants, keyword_arg
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    JWT_DECODE,
    JWT_TRIGGERS,
    dict_entries,
    dict_literal,
    is_false,
    jwt_function,
    terminal_name,
    use_site,
)

RATIONALE = """\
A valid signature says who issued a token, not that it is meant for this service or still
current. The expiry check makes stolen tokens die; the audience check stops a token issued for
another service (by the same identity provider) from being replayed here; the issuer check
stops tokens from another tenant or environment.

Reported: in the `options` of `jwt.decode` (PyJWT, python-jose; a dict literal, also through a
local variable), `verify_exp`, `verify_aud`, `verify_iss`, `verify_nbf` or `verify_iat` set to
`False`; PyJWT 1's `verify_expiration=False`; and authlib's `jwt.decode(...)` whose claims
are never validated -- authlib checks `exp`, `nbf`, `iss` and `aud` only in
`claims.validate()`, so a function that decodes, reads the claims and neither calls
`validate()` nor returns them has checked nothing but the signature. A decode that skips the signature altogether is
BE508's finding instead.
"""

HOW_TO_FIX = """\
Keep the checks on and pass what they need: `audience="my-api"`, `issuer="https://idp/"`,
`leeway=30` for clock skew. If a claim is optional in your tokens, require it from the issuer
instead of disabling its check.
"""

_CHECKS = {
    "verify_exp": "expiry",
    "verify_aud": "audience",
    "verify_iss": "issuer",
    "verify_nbf": "not-before",
    "verify_iat": "issued-at",
}


class JwtClaimCheckDisabled(PythonRule):
    meta = RuleMeta(
        code="BE510",
        name="jwt-claim-check-disabled",
        summary="JWT expiry, audience or issuer check turned off",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=613,
        owasp="A07:2021-Identification and Authentication Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/613.html",
            "https://pyjwt.readthedocs.io/en/stable/api.html#jwt.decode",
        ),
    )
    triggers = JWT_TRIGGERS

    bad = (
        Example(
            """\
import jwt


def claims(token, key):
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_aud": False},  # expect: BE510
    )


def legacy(token, key):
    return jwt.decode(token, key, algorithms=["HS256"], verify_expiration=False)  # expect: BE510
"""
        ),
        Example(
            """\
from authlib.jose import jwt


def current_user(token, public_key):
    claims = jwt.decode(token, public_key)  # expect: BE510
    return User.objects.get(pk=claims["sub"])
"""
        ),
    )
    good = (
        Example(
            """\
import jwt


def claims(token, key):
    return jwt.decode(
        token, key, algorithms=["RS256"], audience="api", options={"require": ["exp", "aud"]}
    )


def strict(token, key):
    options = {"verify_exp": True}
    return jwt.decode(token, key, algorithms=["RS256"], options=options)


def peek(token):
    unverified = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    return unverified["iss"]
"""
        ),
        Example(
            """\
from authlib.jose import jwt


def current_user(token, public_key):
    claims = jwt.decode(token, public_key, claims_options={"iss": {"essential": True}})
    claims.validate()
    return User.objects.get(pk=claims["sub"])


def decode(token, public_key):
    return jwt.decode(token, public_key)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        found = jwt_function(self.ctx, node, JWT_DECODE)
        if found is None:
            return
        if found[1] == "authlib":
            self._authlib(node)
            return
        legacy = keyword_arg(node, "verify_expiration")
        if legacy is not None and is_false(legacy.value):
            self._report(legacy, ["expiry"])
            return
        options_arg = keyword_arg(node, "options")
        if options_arg is None:
            return
        options = dict_literal(options_arg.value, self.ctx)
        if options is None:
            return
        entries, _opaque = dict_entries(options)
        signature = entries.get("verify_signature")
        if signature is not None and is_false(signature.value):
            return  # BE508
        off = [
            label
            for key, label in _CHECKS.items()
            if key in entries and is_false(entries[key].value)
        ]
        if off:
            self._report(options_arg, off)

    def _authlib(self, node: cst.Call) -> None:
        """authlib checks claims only in ``claims.validate()``: a decoded result that the
        function neither validates nor hands back has had none of its claims checked."""
        site = use_site(node, self.ctx.ancestors)
        if site.returned or site.callees or site.keywords:
            return  # the caller (or the call it is passed to) may validate
        names = [t for t in site.targets if t]
        function = self.ctx.enclosing(cst.FunctionDef) or self.ctx.module
        if function is None:
            return
        for inner in descendants(function):
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and inner.func.attr.value == "validate"
                and (not names or terminal_name(inner.func.value) in names)
            ):
                return
            if (
                isinstance(inner, cst.Return)
                and inner.value is not None
                and terminal_name(inner.value) in names
            ):
                return
        self.report(
            node,
            "authlib JWT claims are never validated: expiry, not-before, issuer and audience "
            "go unchecked",
            help="call claims.validate() (with claims_options for iss/aud) after decoding",
        )

    def _report(self, node: cst.CSTNode, checks: list[str]) -> None:
        self.report(
            node,
            f"JWT {', '.join(checks)} check{'s' if len(checks) > 1 else ''} turned off",
            help="keep the checks on and pass audience=/issuer=/leeway= instead",
        )
