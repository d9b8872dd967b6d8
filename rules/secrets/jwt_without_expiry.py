"""BE509 jwt-without-expiry: a JWT issued without an ``exp`` claim."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    JWT_ENCODE,
    JWT_TRIGGERS,
    argument,
    dict_entries,
    dict_literal,
    jwt_function,
    literal_string,
)

RATIONALE = """\
A token without an expiry is valid forever: a token copied from a log, a browser, a leaked
backup or a former employee's laptop keeps working until the signing key is rotated, which
logs everybody out. Short-lived access tokens (minutes) plus refresh tokens that the server can
revoke are the usual answer.

Reported: `jwt.encode(payload, ...)` (PyJWT, python-jose; authlib's `jwt.encode(header,
payload, key)`) whose payload is a dict literal -- written in the call, or held by a local
variable, or built with `dict(...)` -- without an `"exp"` key, and not given one later in the
function (`payload["exp"] = ...`, `payload.update(exp=...)`, `payload.setdefault("exp", ...)`).

Payloads built elsewhere, or spreading `**claims`, are not judged. A signed value that is not
an authentication token (a download link signed with an expiry of its own, a webhook body)
may legitimately lack `exp`: suppress the finding there with a reason.
"""

HOW_TO_FIX = """\
Add an expiry, and keep it short for access tokens:

```python
now = datetime.now(tz=timezone.utc)
payload = {"sub": str(user.id), "iat": now, "exp": now + timedelta(minutes=15)}
token = jwt.encode(payload, key, algorithm="HS256")
```
"""


class JwtWithoutExpiry(PythonRule):
    meta = RuleMeta(
        code="BE509",
        name="jwt-without-expiry",
        summary="JWT issued without an expiry (`exp`)",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=613,
        owasp="A07:2021-Identification and Authentication Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/613.html",
            "https://datatracker.ietf.org/doc/html/rfc7519#section-4.1.4",
            "https://pyjwt.readthedocs.io/en/stable/usage.html#expiration-time-claim-exp",
        ),
    )
    triggers = JWT_TRIGGERS

    bad = (
        Example(
            """\
import jwt


def login(user, key):
    return jwt.encode({"sub": str(user.id), "role": user.role}, key, algorithm="HS256")  # expect: BE509


def refresh(user, key):
    payload = {"sub": str(user.id)}
    payload["scope"] = "refresh"
    return jwt.encode(payload, key, algorithm="HS256")  # expect: BE509
"""
        ),
    )
    good = (
        Example(
            """\
from datetime import datetime, timedelta, timezone

import jwt


def login(user, key):
    now = datetime.now(tz=timezone.utc)
    return jwt.encode({"sub": str(user.id), "exp": now + timedelta(minutes=15)}, key)


def later(user, key):
    payload = {"sub": str(user.id)}
    payload["exp"] = datetime.now(tz=timezone.utc) + timedelta(hours=1)
    return jwt.encode(payload, key, algorithm="HS256")


def built_elsewhere(claims, key):
    return jwt.encode(claims, key, algorithm="HS256")


def merged(claims, key):
    return jwt.encode({**claims, "sub": "x"}, key, algorithm="HS256")
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        found = jwt_function(self.ctx, node, JWT_ENCODE)
        if found is None:
            return
        _name, library = found
        index = 1 if library == "authlib" else 0
        arg = argument(node, "payload", "claims", index=index)
        if arg is None:
            return
        payload = dict_literal(arg.value, self.ctx)
        if payload is None:
            return
        entries, opaque = dict_entries(payload)
        if opaque or "exp" in entries:
            return
        if isinstance(arg.value, cst.Name) and self._exp_added(arg.value.value):
            return
        self.report(
            arg.value,
            "JWT issued without `exp`: it stays valid until the signing key changes",
            help='add an expiry: "exp": datetime.now(tz=timezone.utc) + timedelta(minutes=15)',
        )

    def _exp_added(self, name: str) -> bool:
        scope = self.ctx.enclosing(cst.FunctionDef) or self.ctx.module
        if scope is None:
            return True
        for inner in descendants(scope):
            if (
                isinstance(inner, cst.Subscript)
                and _is(inner.value, name)
                and len(inner.slice) == 1
                and isinstance(inner.slice[0].slice, cst.Index)
                and literal_string(inner.slice[0].slice.value) == "exp"
            ):
                return True
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and _is(inner.func.value, name)
                and inner.func.attr.value in ("update", "setdefault")
            ):
                return True  # update() may add anything: give it the benefit of the doubt
        return False


def _is(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name
