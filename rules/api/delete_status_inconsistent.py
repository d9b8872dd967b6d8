"""BE904 delete-status-inconsistent: a DELETE answers 200 with a body where the app's other
DELETE routes answer 204."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import is_none, keyword_arg
from be_lint.http_semantics import (
    HandlerRule,
    answers,
    handler_methods,
    handler_symbol,
    is_exempt_path,
    mentions_status,
    sets_status,
)
from be_lint.rule import STOP_VISITING, Confidence, Example, RuleMeta, Severity

RATIONALE = """\
There are two sound answers to a successful `DELETE`: `204 No Content`, or `200 OK` with a
body describing the result. An API that uses both makes every client handle both -- and the
client written against the 204 routes (no body to parse) breaks on the first route that sends
one, or the other way round. Consistency across one API is what makes it predictable; generated
clients and API guidelines (Microsoft, Google, Zalando) all pick one convention.

The rule uses the project's routes (see `be-lint routes`): when at least one DELETE route of
the project declares 204 -- `status_code=204`, `status=HTTP_204_NO_CONTENT`, `return "", 204`,
or DRF's own `destroy` -- it reports DELETE handlers that answer a body with the default 200:
a FastAPI route without `status_code` that returns a value, `Response(data)`,
`jsonify(...)`, `json_response(...)` or a returned dict. It is quiet in projects that never
declare 204 (those answer 200 everywhere, consistently).
"""

HOW_TO_FIX = """\
Answer `204 No Content` without a body, like the project's other DELETE routes:
`@router.delete("/x/{id}", status_code=204)` returning `None`,
`return Response(status=status.HTTP_204_NO_CONTENT)`, `return "", 204`. If this route really
must return the deleted object, return it with an explicit 200 and document the exception.
"""


class DeleteStatusInconsistent(HandlerRule):
    meta = RuleMeta(
        code="BE904",
        name="delete-status-inconsistent",
        summary="DELETE answers 200 with a body where other DELETE routes answer 204",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=("https://www.rfc-editor.org/rfc/rfc9110#name-delete",),
    )
    triggers = ("delete", "destroy", "DELETE")

    bad = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.delete("/orders/{order_id}", status_code=204)
def delete_order(order_id: int):
    remove_order(order_id)


@router.delete("/items/{item_id}")  # expect: BE904
def delete_item(item_id: int):
    item = remove_item(item_id)
    return {"deleted": item.id}
"""
        ),
        Example(
            """\
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter


class OrderViewSet(viewsets.ModelViewSet):
    queryset = Order.objects.all()


class TagViewSet(viewsets.ModelViewSet):
    def destroy(self, request, pk=None):
        tag = Tag.objects.get(pk=pk)
        tag.delete()
        return Response({"deleted": pk})  # expect: BE904


router = DefaultRouter()
router.register("orders", OrderViewSet)
router.register("tags", TagViewSet)
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.delete("/orders/{order_id}")
def delete_order(order_id: int):
    return {"deleted": order_id}


@router.delete("/items/{item_id}")
def delete_item(item_id: int):
    return {"deleted": item_id}
"""
        ),
        Example(
            """\
from flask import Flask, jsonify

app = Flask(__name__)


@app.delete("/orders/<int:order_id>")
def delete_order(order_id):
    remove(order_id)
    return "", 204


@app.delete("/items/<int:item_id>")
def delete_item(item_id):
    if not remove(item_id):
        return jsonify(error="no such item"), 404
    return "", 204
"""
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        project = self.ctx.project
        if is_exempt_path(self.ctx.path) or project is None:
            return STOP_VISITING
        if not any(r.method == "DELETE" and r.no_content for r in project.routes):
            return STOP_VISITING
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ctx = self.ctx
        if handler_methods(node, ctx, ctx.ancestors) != frozenset({"DELETE"}) or sets_status(node):
            return
        answered = answers(node, ctx)
        if any(mentions_status(r, 204) for r, _ in answered.returns):
            return
        target: cst.CSTNode | None = None
        fastapi = answered.fastapi
        if fastapi is not None:
            if keyword_arg(fastapi.call, "status_code") is not None:
                return
            if any(_has_body(r) for r, _ in answered.returns) and not answered.has("explicit"):
                target = fastapi.call
        else:
            target = answered.last_default()
        if target is None:
            return
        project = ctx.project
        assert project is not None
        own = (ctx.path, handler_symbol(node, ctx.ancestors))
        others = [
            r
            for r in project.routes
            if r.method == "DELETE" and r.no_content and (r.file, r.symbol) != own
        ]
        if not others:
            return
        example = others[0]
        count = len({(r.file, r.symbol) for r in others})
        self.report(
            target,
            f"`{node.name.value}` answers DELETE with a body and 200, while {count} other "
            f"DELETE handler(s) of this project answer 204 (e.g. `{example.path}`)",
            help="answer 204 No Content without a body, like the rest of the API",
        )


def _has_body(node: cst.Return) -> bool:
    return node.value is not None and not is_none(node.value)
