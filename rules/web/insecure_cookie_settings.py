"""BE612 insecure-cookie-settings: session or CSRF cookies configured without protection."""

from __future__ import annotations

import libcst as cst

from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.websettings import (
    MISSING,
    DevSettingsOptions,
    config_key,
    is_dev_path,
    literal,
    production_settings,
)

RATIONALE = """\
The session cookie is the user's login. Without the `Secure` flag the browser also sends it
over plain HTTP, where anyone on the network path reads it (one `http://` link or a downgrade
is enough); without `HttpOnly`, any script injected into a page can read it and send it away;
`SameSite=None` sends it along with requests other sites trigger, which re-opens CSRF.

Reported when a setting explicitly weakens the session or CSRF cookie, in Django settings
modules and Flask configuration outside development files (see `dev-settings`):
`SESSION_COOKIE_SECURE = False`, `CSRF_COOKIE_SECURE = False`, `SESSION_COOKIE_HTTPONLY =
False`, `SESSION_COOKIE_SAMESITE = None`/`"None"`, `REMEMBER_COOKIE_SECURE = False`,
`REMEMBER_COOKIE_HTTPONLY = False` (Flask-Login), and the same keys set through
`app.config[...] = ...` or `app.config.update(...)`. Django's defaults for the `*_SECURE`
settings are `False` too, but a missing setting is not reported: many deployments set them
from the environment or terminate TLS in a proxy that rewrites cookies.
"""

HOW_TO_FIX = """\
In production set `SESSION_COOKIE_SECURE = True`, `CSRF_COOKIE_SECURE = True`, keep
`SESSION_COOKIE_HTTPONLY = True` and `SESSION_COOKIE_SAMESITE = "Lax"` (or `"Strict"`); turn
them off only in development settings.
"""

#: Setting -> the weak values.
_WEAK: dict[str, tuple[object, ...]] = {
    "SESSION_COOKIE_SECURE": (False,),
    "CSRF_COOKIE_SECURE": (False,),
    "SESSION_COOKIE_HTTPONLY": (False,),
    "SESSION_COOKIE_SAMESITE": (None, "None", False),
    "CSRF_COOKIE_SAMESITE": (None, "None", False),
    "REMEMBER_COOKIE_SECURE": (False,),
    "REMEMBER_COOKIE_HTTPONLY": (False,),
}


class InsecureCookieSettings(PythonRule):
    meta = RuleMeta(
        code="BE612",
        name="insecure-cookie-settings",
        summary="Session or CSRF cookie configured without Secure/HttpOnly/SameSite",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=614,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://docs.djangoproject.com/en/stable/ref/settings/#session-cookie-secure",
            "https://flask.palletsprojects.com/en/stable/security/#set-cookie-options",
            "https://cwe.mitre.org/data/definitions/614.html",
            "https://cwe.mitre.org/data/definitions/1004.html",
        ),
    )
    options_class = DevSettingsOptions
    triggers = ("COOKIE_SECURE", "COOKIE_HTTPONLY", "COOKIE_SAMESITE")
    bad = (
        Example(
            """\
SESSION_COOKIE_SECURE = False  # expect: BE612
CSRF_COOKIE_SECURE = False  # expect: BE612
SESSION_COOKIE_SAMESITE = None  # expect: BE612
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
from flask import Flask

app = Flask(__name__)
app.config["SESSION_COOKIE_SECURE"] = False  # expect: BE612
app.config.update(SESSION_COOKIE_HTTPONLY=False)  # expect: BE612
""",
            filename="app/main.py",
        ),
    )
    good = (
        Example(
            """\
import os

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = os.environ.get("INSECURE_COOKIES") != "1"
SESSION_COOKIE_SAMESITE = "Lax"
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
SESSION_COOKIE_SECURE = False
""",
            filename="shop/settings/dev.py",
        ),
    )

    def _skip(self) -> bool:
        return is_dev_path(self.ctx.path, self.options.dev_settings)

    def visit_Module(self, node: cst.Module) -> None:
        for name, value, target in production_settings(
            self.ctx.path, node, self.options.dev_settings
        ):
            self._judge(name, value, target)

    def _judge(self, name: str, value: cst.BaseExpression, node: cst.CSTNode) -> None:
        weak = _WEAK.get(name)
        if weak is None:
            return
        constant = literal(value)
        if constant is MISSING or constant not in weak:
            return
        self.report(node, f"`{name}` is set to `{constant!r}`: the cookie loses its protection")

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._skip():
            return
        for target in node.targets:
            key = config_key(target.target)
            if key is not None:
                self._judge(key, node.value, target.target)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "update" or self._skip():
            return
        if not (dotted_name(func.value) or "").endswith("config"):
            return
        for arg in node.args:
            if arg.keyword is not None:
                self._judge(arg.keyword.value, arg.value, arg)
