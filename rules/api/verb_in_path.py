"""BE906 verb-in-path: a route path names the CRUD action its HTTP method already states."""

from __future__ import annotations

import libcst as cst

from be_lint.http_semantics import HandlerRule, declared_paths, literal_segments, words
from be_lint.index.routes import may_define_routes
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
In an HTTP API the method is the verb and the path names the resource: `GET /users/42`,
`POST /orders`, `DELETE /users/42`. Paths such as `/getUser`, `/createOrder` or
`/users/delete/42` put the verb in the path too, which leads to RPC-style APIs over HTTP: each
operation gets its own URL, the methods stop meaning anything (a `GET /deleteUser` is a
crawler away from deleting users), caches and tooling cannot tell reads from writes, and the
API grows one endpoint per action instead of a small set of resources.

The rule reports literal route path segments that start with a create/read/update/delete
verb (`get`, `fetch`, `list`, `create`, `add`, `insert`, `update`, `edit`, `modify`, `save`,
`delete`, `remove`) -- `getUser`, `create-order`, `delete_item`, or a bare `delete` segment
-- in FastAPI, Flask, Starlette and aiohttp route decorators, `add_api_route`/`add_url_rule`,
DRF `@action`s (their `url_path`, or the method name) and router prefixes, and Django
`path()`s of DRF views. Domain actions that are not CRUD (`/orders/42/cancel`,
`/users/42/set_password`, `/search`, `/login`) are fine and are not reported; neither are
Django's HTML pages (a `/delete` confirmation page is a page, not an API).
"""

HOW_TO_FIX = """\
Name the resource and let the method say what happens: `GET /users/{id}` instead of
`GET /getUser`, `POST /orders` instead of `POST /createOrder`, `DELETE /users/{id}` instead of
`POST /users/delete/{id}`. In DRF, the standard view set actions already map methods to
`list`/`create`/`retrieve`/`update`/`destroy`.
"""

_VERBS = frozenset(
    {
        "get",
        "fetch",
        "create",
        "add",
        "insert",
        "update",
        "edit",
        "modify",
        "save",
        "delete",
        "remove",
    }
)
#: Verbs that name a resource too often when they stand alone (``/list``).
_COMPOUND_ONLY = frozenset({"list"})


def verb_of(segment: str) -> str | None:
    parts = words(segment)
    if not parts:
        return None
    first = parts[0]
    if first in _VERBS or (first in _COMPOUND_ONLY and len(parts) > 1):
        return first
    return None


class VerbInPath(HandlerRule):
    meta = RuleMeta(
        code="BE906",
        name="verb-in-path",
        summary="Route path names the CRUD action its HTTP method states",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=(
            "https://www.rfc-editor.org/rfc/rfc9110#name-methods",
            "https://github.com/microsoft/api-guidelines/blob/vNext/azure/Guidelines.md",
        ),
    )
    triggers = (
        "get",
        "Get",
        "fetch",
        "Fetch",
        "list",
        "List",
        "create",
        "Create",
        "add",
        "Add",
        "insert",
        "update",
        "Update",
        "edit",
        "Edit",
        "modify",
        "save",
        "Save",
        "delete",
        "Delete",
        "remove",
        "Remove",
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_define_routes(text) and any(t in text for t in cls.triggers)

    bad = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/getUser/{user_id}")  # expect: BE906
def get_user(user_id: int):
    return {}


@router.post("/orders/create-order")  # expect: BE906
def create_order():
    return {}
"""
        ),
        Example(
            """\
from flask import Flask

app = Flask(__name__)


@app.route("/users/delete/<int:user_id>", methods=["POST"])  # expect: BE906
def delete_user(user_id):
    return "", 204
"""
        ),
        Example(
            """\
from rest_framework import routers, viewsets
from rest_framework.decorators import action


class UserViewSet(viewsets.ModelViewSet):
    @action(detail=False)
    def get_active(self, request):  # expect: BE906
        return Response()

    @action(detail=True, methods=["post"], url_path="remove-avatar")  # expect: BE906
    def avatar(self, request, pk=None):
        return Response()


router = routers.DefaultRouter()
router.register(r"fetchUsers", UserViewSet)  # expect: BE906
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/users/{user_id}")
def get_user(user_id: int):
    return {}


@router.post("/orders/{order_id}/cancel")
def cancel(order_id: int):
    return {}


@router.get("/settings/addresses")
def settings():
    # "settings" and "addresses" only start with the letters of "set" and "add"
    return []


@router.get("/{get_param}/addresses")
def addresses(get_param: str):
    return []
"""
        ),
        Example(
            """\
from django.urls import path
from rest_framework.decorators import action

from . import views

urlpatterns = [
    path("orders/<int:pk>/delete/", views.OrderDelete.as_view()),  # an HTML page
    path("lists/", views.ListsAPI.as_view()),
]


class UserViewSet(viewsets.ModelViewSet):
    @action(detail=True, methods=["post"])
    def set_password(self, request, pk=None):
        return Response()
"""
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        for declared in declared_paths(node, self.ctx, self.ctx.ancestors):
            for segment in literal_segments(declared.text):
                verb = verb_of(segment)
                if verb is None:
                    continue
                self.report(
                    declared.node,
                    f"path segment `{segment}` names the action (`{verb}`): the HTTP method "
                    "should say it, the path should name the resource",
                    help="name the resource (`/users/{id}`) and let the method be the verb",
                )
                break
