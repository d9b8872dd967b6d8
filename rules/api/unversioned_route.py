"""BE908 unversioned-route: an API route outside the version prefix the project uses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from be_lint.http_semantics import API_FRAMEWORKS, ProjectRoutesRule
from be_lint.index.model import Route
from be_lint.rule import Confidence, Example, RuleMeta, Severity, option

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


class UnversionedRoute(ProjectRoutesRule):
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

    def applies(self, routes: Sequence[Route]) -> bool:
        try:
            self._pattern = re.compile(self.options.version_pattern)
        except re.error:
            return False
        return any(r.framework in API_FRAMEWORKS and self._pattern.search(r.path) for r in routes)

    def check(self, node: cst.FunctionDef | cst.ClassDef, routes: list[Route]) -> None:
        if any(self._pattern.search(r.path) for r in routes):
            return
        if all(_OPERATIONAL.match(r.path) or r.path.startswith(("{", "/{")) for r in routes):
            return  # operational, or under a prefix computed at run time
        self.report(
            node.name,
            f"`{routes[0].path}` is not under a version prefix, while other routes of this "
            "project are",
            help="mount it under the versioned prefix, like the rest of the API",
        )
