"""BE803 unlogged-server-error: a handler turns an exception into a 5xx without logging it."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import descendants, logging_call, per_request_function
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
When a request handler catches an exception and answers with a 500 itself -- `return
JSONResponse(..., status_code=500)`, `return {"error": str(e)}, 500`, `raise
HTTPException(500)`, `abort(500)` -- the framework never sees the exception, so its own error
logging and the error tracker's integration never fire. The client gets an error, but the
logs and Sentry stay clean; the incident is invisible until a user complains, and then there is
no traceback to start from. Logging `str(e)` alone is hardly better: the message of a
`KeyError` is just the key. (Catching one anticipated exception -- say a `TimeoutError` from an
upstream, answered with a 504 -- is a decision and is not reported.)

The rule reports a broad `except` clause (`Exception`, `BaseException` or bare) in a request
handler (see `connection-per-request` for how handlers are recognised) that returns or raises
a 5xx response without recording the exception with its traceback: `logger.exception(...)`,
a logging call with `exc_info=`, `sentry_sdk.capture_exception`, or
`traceback.print_exc`/`format_exc`. A handler that passes the caught exception to some other
function (which may well record it) is given the benefit of the doubt, and health checks
(`health`, `ready`, `ping`, ... in the handler's name) may answer 503 without a traceback.
"""

HOW_TO_FIX = """\
Record the exception before answering: `logger.exception("could not create order %s",
order_id)` inside the `except` block (it logs at ERROR with the traceback), or
`logger.error(..., exc_info=True)`. Better still, let unexpected exceptions propagate to the
framework's error handling, and only catch what you can answer meaningfully (a 4xx).
"""

_SERVER_ERROR_NAME = re.compile(
    r"HTTP_5[0-9][0-9]|INTERNAL_SERVER_ERROR|SERVICE_UNAVAILABLE|BAD_GATEWAY|GATEWAY_TIMEOUT|"
    r"InternalServerError|ServerError|ServiceUnavailable|BadGateway|GatewayTimeout"
)
_TRACEBACK_CALLS = frozenset(
    {
        "sentry_sdk.capture_exception",
        "sentry_sdk.api.capture_exception",
        "traceback.print_exc",
        "traceback.format_exc",
        "traceback.print_exception",
        "traceback.format_exception",
        "rollbar.report_exc_info",
        "bugsnag.notify",
    }
)
_TRACKER_NAMES = re.compile(r"capture_exception|report_exc|notify_exception|print_exc|format_exc")
_HEALTH_CHECK = re.compile(r"health|ready|readiness|liveness|alive|heartbeat|ping", re.I)
_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
_ABORTS = frozenset({"abort", "abort_with", "error"})


class UnloggedServerError(PythonRule):
    meta = RuleMeta(
        code="BE803",
        name="unlogged-server-error",
        summary="Exception turned into a 5xx response without being logged",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=778,
        owasp="A09:2021-Security Logging and Monitoring Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/778.html",
            "https://docs.python.org/3/library/logging.html#logging.Logger.exception",
        ),
    )
    triggers = ("500", "501", "502", "503", "504", "HTTP_5", "ServerError", "Unavailable")
    bad = (
        Example(
            """\
from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.post("/orders")
async def create_order(payload: OrderIn):
    try:
        return await orders.create(payload)
    except Exception as error:
        raise HTTPException(status_code=500, detail=str(error))  # expect: BE803
"""
        ),
        Example(
            """\
import logging

from flask import Flask, jsonify

app = Flask(__name__)
logger = logging.getLogger(__name__)


@app.route("/reports/<int:report_id>")
def report(report_id):
    try:
        return jsonify(build_report(report_id))
    except Exception as error:
        logger.error("report failed: %s", error)
        return jsonify({"error": "internal error"}), 500  # expect: BE803
"""
        ),
        Example(
            """\
from django.http import JsonResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView


class Export(APIView):
    def post(self, request):
        try:
            start_export(request.data)
        except Exception:
            return Response({"detail": "failed"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)  # expect: BE803
        return Response(status=202)
"""
        ),
    )
    good = (
        Example(
            """\
import logging

from fastapi import APIRouter, HTTPException

router = APIRouter()
logger = logging.getLogger(__name__)


@router.post("/orders")
async def create_order(payload: OrderIn):
    try:
        return await orders.create(payload)
    except OutOfStock as error:
        raise HTTPException(status_code=409, detail=str(error))
    except Exception:
        logger.exception("could not create order")
        raise HTTPException(status_code=500, detail="internal error")
"""
        ),
        Example(
            """\
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/reports/<int:report_id>")
def report(report_id):
    try:
        return jsonify(build_report(report_id))
    except Exception as error:
        log.error("report failed", exc_info=True)
        return jsonify({"error": "internal error"}), 500


@app.route("/export")
def export():
    try:
        return run_export()
    except Exception as error:
        notify_ops(error)
        return "failed", 503
"""
        ),
        Example(
            """\
def build(payload):
    # not a request handler
    try:
        return compile_report(payload)
    except Exception:
        return {"status": 500}
"""
        ),
    )

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if not self._broad(node.type):
            return  # an anticipated error mapped to a status is a decision, not a hidden bug
        server_error = self._server_error(node)
        if server_error is None:
            return
        found = per_request_function(self.ctx, self.ctx.ancestors, tasks=False)
        if found is None or _HEALTH_CHECK.search(found[0].name.value):
            return  # a health check answering 503 when a dependency is down is its job
        logged = self._logged(node)
        if logged == "traceback":
            return
        if logged == "message":
            message = (
                "this handler answers with a server error after logging only a message: the "
                "traceback is lost"
            )
        else:
            message = (
                "this handler answers with a server error without logging the exception: "
                "nothing reaches the logs or the error tracker"
            )
        self.report(
            server_error,
            message,
            help="call logger.exception(...) (or pass exc_info=True) in the except block",
        )

    def _broad(self, expr: cst.BaseExpression | None) -> bool:
        if expr is None:
            return True
        if isinstance(expr, cst.Tuple):
            return any(self._broad(element.value) for element in expr.elements)
        return self.ctx.matches(expr, _BROAD)

    def _server_error(self, handler: cst.ExceptHandler) -> cst.CSTNode | None:
        """The ``return``/``raise``/``abort(...)`` in the handler that produces a 5xx."""
        for node in descendants(handler.body):
            if isinstance(node, cst.Return) and node.value is not None:
                if _mentions_5xx(node.value):
                    return node
            elif isinstance(node, cst.Raise) and node.exc is not None:
                if _mentions_5xx(node.exc):
                    return node
            elif isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
                func = node.value.func
                name = (
                    func.attr.value
                    if isinstance(func, cst.Attribute)
                    else getattr(func, "value", "")
                )
                if name in _ABORTS and _mentions_5xx(node.value):
                    return node
        return None

    def _logged(self, handler: cst.ExceptHandler) -> str | None:
        """``traceback`` when the handler records the exception, ``message`` when it logs."""
        caught = (
            handler.name.name.value
            if handler.name is not None and isinstance(handler.name.name, cst.Name)
            else None
        )
        result: str | None = None
        for node in descendants(handler.body):
            if not isinstance(node, cst.Call):
                continue
            call = logging_call(node, self.ctx)
            if call is not None:
                if call.method == "exception" or _passes_exc_info(node):
                    return "traceback"
                result = "message"
                continue
            func = node.func
            written = self.ctx.dotted_name(func) or ""
            if self.ctx.matches(func, _TRACEBACK_CALLS) or _TRACKER_NAMES.search(written):
                return "traceback"
            if caught is not None and _passes_name(node, caught) and not _is_response(node):
                return "traceback"  # handed to something that may record it
        return result


def _mentions_5xx(expr: cst.CSTNode) -> bool:
    for node in [expr, *descendants(expr)]:
        if isinstance(node, cst.Integer):
            try:
                value = int(node.value)
            except ValueError:
                continue
            if 500 <= value <= 599:
                return True
        elif (isinstance(node, cst.Name) and _SERVER_ERROR_NAME.search(node.value)) or (
            isinstance(node, cst.Attribute) and _SERVER_ERROR_NAME.search(node.attr.value)
        ):
            return True
    return False


def _passes_exc_info(call: cst.Call) -> bool:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "exc_info":
            return not (isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"))
    return False


def _passes_name(call: cst.Call, name: str) -> bool:
    return any(isinstance(a.value, cst.Name) and a.value.value == name for a in call.args)


def _is_response(call: cst.Call) -> bool:
    """Calls that build the error response rather than record the error."""
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return bool(re.search(r"Response|Exception|Error|abort|jsonify|json_response|str|repr", name))
