"""BE616 cookie-without-security-flags: a session-like cookie set without Secure/HttpOnly."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import keyword_arg, string_value
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.taint import argument
from be_lint.websettings import MISSING, TEST_GLOBS, is_dev_path, literal, skip_file

RATIONALE = """\
A cookie that identifies the user -- a session id, an auth or refresh token, a remember-me
token -- is as good as their password while it is valid. `Secure` keeps the browser from
sending it over plain HTTP; `HttpOnly` keeps scripts (an XSS payload, a compromised analytics
tag) from reading it; `SameSite` keeps other sites from triggering requests that carry it.
`set_cookie` in Django, Flask/Werkzeug and Starlette sets none of them by default.

The rule reports `response.set_cookie(...)` (and `set_signed_cookie`) when the cookie's name
says it authenticates (contains `session`, `sid`, `token`, `auth`, `jwt`, `remember`, `login`,
`access`, `refresh`, configurable with `sensitive-names`) and `secure`, `httponly` or
`samesite` is missing or off. `samesite="None"` without `secure=True` is reported for every
cookie (browsers drop it). Not reported: cookies with other names (preferences, a theme, a
CSRF token that scripts must read), cookies being deleted (`max_age=0`, `expires=0`), and
calls that pass the flags through `**kwargs`, and test files (`test-paths`).
"""

HOW_TO_FIX = """\
Pass the flags: `response.set_cookie("session", value, secure=True, httponly=True,
samesite="Lax")`. Use the framework's session machinery where possible; it applies the
session cookie settings for you.
"""


@dataclass(frozen=True)
class Options:
    test_paths: tuple[str, ...] = option(TEST_GLOBS, "Path globs of test files, not checked.")
    sensitive_names: str = option(
        r"sess|sid\b|token|auth|jwt|remember|login|access|refresh|identity|credential",
        "Regular expression (searched, case-insensitive) for cookie names that authenticate.",
    )


class CookieWithoutSecurityFlags(PythonRule):
    meta = RuleMeta(
        code="BE616",
        name="cookie-without-security-flags",
        summary="An authentication cookie is set without Secure, HttpOnly or SameSite",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=614,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://cwe.mitre.org/data/definitions/614.html",
            "https://cwe.mitre.org/data/definitions/1004.html",
            "https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#restrict_access_to_cookies",
        ),
    )
    options_class = Options
    triggers = ("set_cookie", "set_signed_cookie")

    @classmethod
    def skips_path(cls, path: str, options: Options) -> bool:
        return is_dev_path(path, options.test_paths)

    def visit_Module(self, node: cst.Module) -> object:
        return skip_file(self.ctx.path, self.options.test_paths)

    bad = (
        Example(
            """\
from django.http import JsonResponse


def login(request):
    response = JsonResponse({"ok": True})
    response.set_cookie("session_id", make_session(request))  # expect: BE616
    response.set_cookie("refresh_token", token(), httponly=True, secure=False, samesite="Lax")  # expect: BE616
    response.set_cookie("theme", "dark", samesite="None")  # expect: BE616
    return response
"""
        ),
    )
    good = (
        Example(
            """\
def login(response, value):
    response.set_cookie("session_id", value, secure=True, httponly=True, samesite="Lax")
    response.set_cookie("theme", "dark")
    response.set_cookie("csrftoken_hint", "1", secure=True)
    response.set_cookie("auth_token", "", max_age=0)
    response.set_cookie("auth_token", value, **COOKIE_FLAGS)
    response.delete_cookie("session_id")
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in (
            "set_cookie",
            "set_signed_cookie",
        ):
            return
        if any(arg.star == "**" for arg in node.args):
            return
        name = string_value(argument(node, 0, "key"))
        if name is None:
            return
        if _deleting(node):
            return
        samesite = keyword_arg(node, "samesite")
        secure = keyword_arg(node, "secure")
        secure_on = secure is not None and literal(secure.value) not in (False, None, MISSING)
        if secure is not None and literal(secure.value) is MISSING:
            secure_on = True  # decided at run time (``secure=request.is_secure()``)
        if samesite is not None and literal(samesite.value) in ("None", "none") and not secure_on:
            self.report(node, f"cookie `{name}` has `SameSite=None` without `Secure`")
            return
        if not re.search(self.options.sensitive_names, name, re.IGNORECASE):
            return
        if re.search(r"csrf|xsrf", name, re.IGNORECASE):
            return  # read by scripts by design; its secrecy is not what protects it
        missing = []
        if not secure_on:
            missing.append("secure")
        httponly = keyword_arg(node, "httponly")
        if httponly is None or literal(httponly.value) in (False, None):
            missing.append("httponly")
        if samesite is None or literal(samesite.value) in (None, False):
            missing.append("samesite")
        if missing:
            flags = ", ".join(f"`{m}`" for m in missing)
            self.report(node, f"authentication cookie `{name}` is set without {flags}")


def _deleting(node: cst.Call) -> bool:
    for keyword in ("max_age", "expires"):
        arg = keyword_arg(node, keyword)
        if arg is not None:
            value = literal(arg.value)
            if value == 0 or (isinstance(value, str) and "1970" in value):
                return True
    return False
