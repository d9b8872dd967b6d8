"""BE908 unversioned-route: an API route outside the version prefix the project uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from be_lint.http_semantics import API_FRAMEWORKS, is_exempt_path, routes_of_node
from be_lint.index.routes import may_define_routes
from be_lint.rule import (
    STOP_VISITING,
    Confidence,
    Example,
    FileKind,
    PythonRule,
    RuleMeta,
    Severity,
    option,
)

RATIONALE = """\
A project that versions its API (`/api/v1/...`) has promised clients that a breaking change
comes with a new version. A route added outside the version prefix breaks that promise
silently: it cannot evolve without breaking its callers, it is missing from the versioned
documentation and gateway rules, and when `v2` arrives nobody knows which version it belongs
to.

The rule uses the project's routes (see `be-lint routes`): when some API routes match the
version pattern (by default a `v1`, `v2.1`, ... path segment), it reports handlers whose API
routes do not, except operational endpoints (health checks, metrics, docs and schema, static
files, the root). Django's HTML views are left out. It is opt-in; the pattern is
configurable.
"""

HOW_TO_FIX = """\
Mount the route under the versioned prefix (`app.include_router(router, prefix="/api/v1")`,
the versioned `urlpatterns`), or add it to the operational exceptions if it is not part of the
public API.
"""

_OPERATIONAL = re.compile(
    r"^/?(?:$|health|healthz|livez|readyz|ready|ping|status|metrics|version|docs|redoc|"
    r"swagger|openapi|schema|static|media|favicon|robots|\.well-known|admin)(?=$|[/.\-_])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Options:
    version_pattern: str = option(
        r"(?:^|/)(?:v[0-9]+(?:\.[0-9]+)*|[0-9]+\.[0-9]+)(?:/|$)",
        "Regular expression that a versioned route path contains (searched, not matched). "
        "The default accepts `v1`, `v2.1` and `2.0` segments.",
    )


class UnversionedRoute(PythonRule):
    meta = RuleMeta(
        code="BE908",
        name="unversioned-route",
        summary="API route outside the version prefix the project uses",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        enabled_by_default=False,
        references=("https://google.aip.dev/185",),
    )
    options_class = Options
    options: Options
    triggers = ()

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_define_routes(text)

    bad = (
        Example(
            """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/v1/orders")
def orders():
    return []


@app.get("/customers")
def customers():  # expect: BE908
    return []
"""
        ),
        Example(
            """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/2024-01/orders")
def orders():
    return []


@app.get("/api/customers")
def customers():  # expect: BE908
    return []
""",
            options={"version-pattern": r"/api/\d{4}-\d{2}/"},
        ),
    )
    good = (
        Example(
            """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/v1/orders")
def orders():
    return []


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/openapi-extra.json")
def schema():
    return {}
"""
        ),
        Example(
            """\
from flask import Flask

app = Flask(__name__)


@app.get("/orders")
def orders():
    return []
"""
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        project = self.ctx.project
        if is_exempt_path(self.ctx.path) or project is None:
            return STOP_VISITING
        try:
            self._pattern = re.compile(self.options.version_pattern)
        except re.error:
            return STOP_VISITING
        if not any(
            r.framework in API_FRAMEWORKS and self._pattern.search(r.path) for r in project.routes
        ):
            return STOP_VISITING
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._check(node)

    def _check(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        routes = [
            r
            for r in routes_of_node(node, self.ctx, self.ctx.ancestors)
            if r.framework in API_FRAMEWORKS
        ]
        if not routes or any(self._pattern.search(r.path) for r in routes):
            return
        if all(_OPERATIONAL.match(r.path) or r.path.startswith(("{", "/{")) for r in routes):
            return  # operational, or under a prefix computed at run time
        self.report(
            node.name,
            f"`{routes[0].path}` is not under a version prefix, while other routes of this "
            "project are",
            help="mount it under the versioned prefix, like the rest of the API",
        )
