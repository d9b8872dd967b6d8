"""BE903 error-with-success-status: a handler answers an error body with 200 OK."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import (
    enclosing_functions,
    keyword_arg,
    per_request_function,
    positional_args,
)
from be_lint.http_semantics import (
    JSON_RESPONSES,
    HandlerRule,
    error_payload,
    response_status,
    route_decorator,
    sets_status,
)
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
An error answered with `200 OK` -- `return {"error": "not found"}`, `jsonify(error=...)`,
`Response({"errors": ...})` -- looks like success to everything that does not parse the body:
HTTP client libraries (`raise_for_status()` stays silent), retries and circuit breakers, load
balancer health checks, monitoring that counts 4xx/5xx rates, caches (which may store the
error), and the browser's `fetch().ok`. Each client has to know this endpoint's private
convention, and the ones that do not treat the failure as data. Error rates on dashboards stay
flat while users fail.

The rule reports, inside request handlers, an error body answered without a status: a
returned dict literal with a non-empty `error`/`errors`/`error_message`/`error_code` key,
`"success": False`, `"ok": False` or `"status": "error"` (in a route whose framework turns
dicts into 200 responses), and the same payloads passed to `jsonify`, `JsonResponse`,
`JSONResponse`, DRF's `Response` or aiohttp's `json_response` without `status`. It stays
quiet when a status is given (`return {...}, 404`, `status=400`, `make_response(body, 400)`)
or set on the response anywhere in the handler (`response.status_code = 400`).
"""

HOW_TO_FIX = """\
Answer with the status that says what went wrong: `400` for a malformed request, `404` for a
missing resource, `409` for a conflict, `422` for a failed validation, `5xx` for the server's
own failures -- `return jsonify(error="not found"), 404`, `Response({...},
status=status.HTTP_404_NOT_FOUND)`, or raise the framework's exception (`HTTPException`,
`abort(404)`, DRF's `NotFound`). Keep the JSON body for the details.
"""


class ErrorWithSuccessStatus(HandlerRule):
    meta = RuleMeta(
        code="BE903",
        name="error-with-success-status",
        summary="Handler answers an error body with 200 OK",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://www.rfc-editor.org/rfc/rfc9110#name-status-codes",
            "https://www.rfc-editor.org/rfc/rfc9457",
        ),
    )
    triggers = (
        '"error',
        "'error",
        "error=",
        "errors=",
        "success",
        '"ok"',
        "'ok'",
        '"status"',
        "'status'",
    )

    bad = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/orders/{order_id}")
def get_order(order_id: int, db: Session):
    order = db.get(Order, order_id)
    if order is None:
        return {"error": "order not found"}  # expect: BE903
    return order
"""
        ),
        Example(
            """\
from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/login")
def login():
    user = authenticate(request.json)
    if user is None:
        return jsonify(error="invalid credentials")  # expect: BE903
    return jsonify(token=issue(user))
"""
        ),
        Example(
            """\
from rest_framework.response import Response
from rest_framework.views import APIView
from django.http import JsonResponse


class Refund(APIView):
    def post(self, request, pk):
        if not request.user.is_staff:
            return Response({"success": False, "message": "forbidden"})  # expect: BE903
        return Response({"success": True})


def cancel(request, pk):
    try:
        Order.objects.get(pk=pk).cancel()
    except Order.DoesNotExist:
        return JsonResponse({"errors": ["no such order"]})  # expect: BE903
    return JsonResponse({})
"""
        ),
    )
    good = (
        Example(
            """\
from flask import Flask, jsonify, make_response

app = Flask(__name__)


@app.post("/login")
def login():
    user = authenticate(request.json)
    if user is None:
        return jsonify(error="invalid credentials"), 401
    if user.locked:
        return make_response(jsonify(error="locked"), 423)
    return jsonify(token=issue(user), error=None)


def error_body(message):
    # a helper, not a handler: callers add the status
    return jsonify(error=message)
"""
        ),
        Example(
            """\
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/orders/{order_id}")
def get_order(order_id: int, response: Response):
    order = find(order_id)
    if order is None:
        response.status_code = 404
        return {"error": "order not found"}
    return order


@router.get("/items/{item_id}")
def get_item(item_id: int):
    if item_id < 0:
        return JSONResponse({"error": "bad id"}, status_code=400)
    return {"errors": []}
"""
        ),
        Example(
            """\
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView


class Refund(APIView):
    def post(self, request, pk):
        if not request.user.is_staff:
            return Response({"error": "forbidden"}, status=status.HTTP_403_FORBIDDEN)
        return Response({"ok": True})
"""
        ),
    )

    def _handler(self) -> cst.FunctionDef | None:
        found = per_request_function(self.ctx, self.ctx.ancestors, tasks=False)
        if found is None:
            return None
        handler = found[0]
        return None if sets_status(handler) else handler

    def visit_Return(self, node: cst.Return) -> None:
        if not isinstance(node.value, cst.Dict):
            return
        key = error_payload(node.value)
        if key is None:
            return
        handler = self._handler()
        if handler is None or route_decorator(handler, self.ctx) is None:
            return
        if enclosing_functions(self.ctx.ancestors)[-1] is not handler:
            return
        self.report(
            node.value,
            f"`{handler.name.value}` answers an error body (`{key}`) with the default 200 OK",
            help="return the body with an error status: `return {...}, 404` or raise "
            "the framework's HTTP exception",
        )

    def visit_Call(self, node: cst.Call) -> None:
        name = (self.ctx.dotted_name(node.func) or "").rsplit(".", 1)[-1]
        if name not in JSON_RESPONSES or name == "make_response":
            return
        if response_status(node, route=False) != "default":
            return
        key = _call_payload(node, name)
        if key is None or self._status_outside(node):
            return
        handler = self._handler()
        if handler is None:
            return
        self.report(
            node,
            f"`{handler.name.value}` answers an error body (`{key}`) with the default 200 OK",
            help="pass an error status (`status=400`, `status_code=404`) or raise the "
            "framework's HTTP exception",
        )

    def _status_outside(self, node: cst.Call) -> bool:
        """The call sits in a ``(body, status)`` tuple or a call that sets the status."""
        parent = self.ctx.parent
        if isinstance(parent, cst.Element):
            parent = self.ctx.ancestors[-2] if len(self.ctx.ancestors) >= 2 else None
            return isinstance(parent, cst.Tuple) and len(parent.elements) >= 2
        if isinstance(parent, cst.Arg):
            outer = self.ctx.ancestors[-2] if len(self.ctx.ancestors) >= 2 else None
            return isinstance(outer, cst.Call) and response_status(outer, route=False) in (
                "explicit",
                "unknown",
            )
        return False


def _call_payload(node: cst.Call, name: str) -> str | None:
    if name == "jsonify":
        for arg in node.args:
            if arg.keyword is not None:
                key = arg.keyword.value
                fake = cst.Dict([cst.DictElement(cst.SimpleString(f'"{key}"'), arg.value)])
                found = error_payload(fake)
                if found is not None:
                    return found
    positional = positional_args(node)
    body = positional[0].value if positional else None
    if body is None:
        content = keyword_arg(node, "content") or keyword_arg(node, "data")
        body = content.value if content is not None else None
    return error_payload(body)
