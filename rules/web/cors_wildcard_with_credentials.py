"""BE613 cors-wildcard-with-credentials: any origin may make credentialed requests."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.websettings import MISSING, is_django_settings, literal, module_assignments

RATIONALE = """\
CORS tells browsers which other sites may read your responses. Allowing every origin *and*
credentials means any web page a logged-in user visits can call your API with their cookies and
read the answers: their profile, their data, CSRF tokens -- the same-origin policy is switched
off for your site. (Browsers refuse a literal `*` with credentials, so the libraries echo the
caller's origin instead, which is worse: it works.)

Reported:

- Django (`django-cors-headers`): `CORS_ALLOW_ALL_ORIGINS = True` or `CORS_ORIGIN_ALLOW_ALL =
  True` in a settings module that also sets `CORS_ALLOW_CREDENTIALS = True`;
- Starlette/FastAPI `CORSMiddleware` (via `add_middleware` or `Middleware(...)`) with
  `allow_origins=["*"]` or `allow_origin_regex=".*"` and `allow_credentials=True`;
- flask-cors `CORS(app, ...)` and `@cross_origin(...)` with `supports_credentials=True` and
  origins that are `*` or left at flask-cors' default (`*`).

A wildcard without credentials (a public, read-only API) is not reported.
"""

HOW_TO_FIX = """\
List the origins that may call the API with credentials (`CORS_ALLOWED_ORIGINS =
["https://app.example.com"]`, `allow_origins=[...]`, `origins=[...]`), or drop credentials
for the public endpoints that need a wildcard.
"""

_CORS_MIDDLEWARE = frozenset(
    {"starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"}
)
_FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.cross_origin"})


class CorsWildcardWithCredentials(PythonRule):
    meta = RuleMeta(
        code="BE613",
        name="cors-wildcard-with-credentials",
        summary="CORS allows every origin together with credentials",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=942,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://cwe.mitre.org/data/definitions/942.html",
            "https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS#requests_with_credentials",
            "https://www.starlette.io/middleware/#corsmiddleware",
            "https://github.com/adamchainz/django-cors-headers#configuration",
        ),
    )
    triggers = ("CORS",)
    bad = (
        Example(
            """\
CORS_ALLOW_ALL_ORIGINS = True  # expect: BE613
CORS_ALLOW_CREDENTIALS = True
""",
            filename="api/settings.py",
        ),
        Example(
            """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware,  # expect: BE613
    allow_origins=["*"],
    allow_credentials=True,
)
"""
        ),
        Example(
            """\
from flask import Flask
from flask_cors import CORS

app = Flask(__name__)
CORS(app, supports_credentials=True)  # expect: BE613
"""
        ),
    )
    good = (
        Example(
            """\
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
""",
            filename="api/settings.py",
        ),
        Example(
            """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from flask_cors import CORS

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])
app.add_middleware(
    CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True
)
CORS(app, origins=["https://app.example.com"], supports_credentials=True)
"""
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        if not is_django_settings(self.ctx.path, node):
            return
        allow_all: cst.CSTNode | None = None
        credentials = False
        for name, value, target in module_assignments(node):
            if name in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"):
                if literal(value) is True:
                    allow_all = target
            elif name == "CORS_ALLOW_CREDENTIALS":
                credentials = literal(value) is True
        if allow_all is not None and credentials:
            self.report(allow_all, "every origin may send credentialed requests (CORS)")

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        if names & _FLASK_CORS:
            self._flask_cors(node)
            return
        middleware: cst.BaseExpression | None = None
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if positional and self.ctx.matches(positional[0], _CORS_MIDDLEWARE):
            middleware = positional[0]
        elif keyword_arg(node, "middleware_class") is not None:
            arg = keyword_arg(node, "middleware_class")
            if arg is not None and self.ctx.matches(arg.value, _CORS_MIDDLEWARE):
                middleware = arg.value
        if middleware is None:
            return
        credentials = keyword_arg(node, "allow_credentials")
        if credentials is None or literal(credentials.value) is not True:
            return
        origins = keyword_arg(node, "allow_origins")
        regex = keyword_arg(node, "allow_origin_regex")
        wildcard = origins is not None and _has_star(literal(origins.value))
        if regex is not None and literal(regex.value) in (".*", "^.*$", ".+", "^.*"):
            wildcard = True
        if wildcard:
            self.report(middleware, "CORSMiddleware allows every origin with credentials")

    def _flask_cors(self, node: cst.Call) -> None:
        credentials = keyword_arg(node, "supports_credentials")
        if credentials is None or literal(credentials.value) is not True:
            return
        origins = keyword_arg(node, "origins") or keyword_arg(node, "origin")
        resources = keyword_arg(node, "resources")
        if origins is not None:
            if not _has_star(literal(origins.value)):
                return
        elif resources is not None and not _resources_wildcard(resources.value):
            return
        self.report(node, "flask-cors allows every origin with credentials")


def _has_star(value: object) -> bool:
    if value is MISSING:
        return False
    if isinstance(value, str):
        return value.strip() in ("*", ".*")
    return isinstance(value, tuple) and any(v in ("*", ".*") for v in value)


def _resources_wildcard(expr: cst.BaseExpression) -> bool:
    """``{r"/api/*": {"origins": "*"}}`` (or resources without ``origins``: the default ``*``)."""
    if not isinstance(expr, cst.Dict):
        return False
    for element in expr.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.value, cst.Dict):
            options = {
                literal(e.key): e.value
                for e in element.value.elements
                if isinstance(e, cst.DictElement)
            }
            origins = options.get("origins")
            if origins is None or _has_star(literal(origins)):
                return True
    return False
