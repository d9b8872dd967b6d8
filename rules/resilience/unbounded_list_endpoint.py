"""BE715 unbounded-list-endpoint: a request handler that returns every row of a query."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from be_lint.frameworks import (
    HTTP_METHODS,
    descendants,
    enclosing_class,
    per_request_function,
    positional_params,
)
from be_lint.http_semantics import handler_methods
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
An endpoint that returns `query.all()` returns as many rows as the table holds. That is fine on
the day it ships, with forty rows; a year later it serialises two hundred thousand, the response
takes seconds and hundreds of megabytes, the database sends the whole table on every call, and
a client that polls it becomes a load test. Nothing in the code changed, so nothing in review
caught it.

The rule reports `.all()` in what a request handler returns (directly, inside `list()`,
`jsonify()`, a response object, a dict or a comprehension) when the handler shows no sign of
pagination: no `limit`/`offset`/`slice`/`paginate` call, no slice of the query, and no
parameter named like a page or limit. It is opt-in: small, fixed lookup tables are legitimately
returned whole, and frameworks with pagination configured globally (DRF's
`DEFAULT_PAGINATION_CLASS`) paginate outside the handler. Only handlers that answer `GET`
are list endpoints: the methods come from the route declaration or from the project's routes
(`be-lint routes`). This rule belongs to the API contract (BE9xx) topic as well; it keeps its
released BE715 code and has no BE9xx twin.
"""

HOW_TO_FIX = """\
Paginate: accept `limit` (with a maximum) and a cursor or `offset`, and apply them to the query
(`.limit(limit).offset(offset)`, `queryset[offset:offset + limit]`, Flask-SQLAlchemy's
`.paginate()`, DRF pagination classes, fastapi-pagination). For a list that is small by
design, suppress the finding with a comment saying why.
"""

_PAGINATION_CALLS = frozenset(
    {"limit", "offset", "slice", "paginate", "fetch", "page", "first", "one", "get", "fetchmany"}
)
_PAGINATION_PARAMS = frozenset(
    {
        "page",
        "page_size",
        "per_page",
        "limit",
        "offset",
        "skip",
        "take",
        "cursor",
        "size",
        "pagination",
        "paginator",
        "params",
    }
)
#: Wrappers looked through when searching the returned value.
_RESPONSE_WRAPPERS = frozenset(
    {
        "list",
        "tuple",
        "jsonify",
        "JsonResponse",
        "Response",
        "JSONResponse",
        "json_response",
        "make_response",
        "dumps",
    }
)


class UnboundedListEndpoint(PythonRule):
    meta = RuleMeta(
        code="BE715",
        name="unbounded-list-endpoint",
        summary="List endpoint returns every row without pagination",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.LOW,
        cwe=770,
        enabled_by_default=False,
        references=("https://cwe.mitre.org/data/definitions/770.html",),
    )
    version = 2
    triggers = (".all()",)
    bad = (
        Example(
            """\
from fastapi import APIRouter, Depends

router = APIRouter()


@router.get("/orders")
def list_orders(db=Depends(get_db)):
    return db.query(Order).all()  # expect: BE715
"""
        ),
        Example(
            """\
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/users")
def users():
    return jsonify([u.to_dict() for u in User.query.all()])  # expect: BE715
"""
        ),
        Example(
            """\
from rest_framework.response import Response
from rest_framework.views import APIView


class Customers(APIView):
    def get(self, request):
        return Response(CustomerSerializer(Customer.objects.all(), many=True).data)  # expect: BE715
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter, Depends

router = APIRouter()


@router.get("/orders")
def list_orders(limit: int = 50, offset: int = 0, db=Depends(get_db)):
    return db.query(Order).offset(offset).limit(min(limit, 200)).all()


@router.get("/orders/recent")
def recent_orders(db=Depends(get_db)):
    return db.query(Order).order_by(Order.created.desc()).limit(20).all()


@router.post("/orders/bulk")
def create_orders(payload: list[OrderIn], db=Depends(get_db)):
    # answers the rows it created: not a list endpoint
    return db.query(Order).filter(Order.batch == save_all(db, payload)).all()
"""
        ),
        Example(
            """\
def export_all(db):
    # not a request handler
    return db.query(Order).all()
"""
        ),
        Example(
            """\
from rest_framework import viewsets


class OrderViewSet(viewsets.ModelViewSet):
    # a lazy queryset that DRF filters and paginates
    def get_queryset(self):
        return self.request.user.orders.all()
"""
        ),
    )

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None:
            return
        found = per_request_function(self.ctx, self.ctx.ancestors, tasks=False)
        if found is None:
            return
        handler, kind = found
        if kind == "view" and not _responds(handler, self.ctx.ancestors):
            return
        # A list is read with GET: a POST or DELETE that happens to return rows is not a list
        # endpoint (methods from the declaration or the project's routes, when known).
        ancestors = self.ctx.ancestors
        index = next((i for i, a in enumerate(ancestors) if a is handler), len(ancestors))
        methods = handler_methods(handler, self.ctx, ancestors[:index])
        if methods is not None and "GET" not in methods:
            return
        # A Django view returns a response object, never a bare queryset (which would be lazy
        # anyway): there only ``.all()`` inside a response, ``list()`` or serializer counts.
        for call in _all_calls(node.value, direct=kind == "route"):
            if _bounded_chain(call):
                continue
            if _paginated(handler):
                return
            self.report(
                call,
                f"`{handler.name.value}` returns every row of this query: the response grows "
                "with the table",
                help="paginate: apply a limit and an offset or cursor taken from the request",
            )
            return


def _responds(handler: cst.FunctionDef, ancestors: Sequence[cst.CSTNode]) -> bool:
    """A view function, or a class-based view's method that answers a request."""
    if enclosing_class(handler, ancestors) is None:
        return True
    return handler.name.value in HTTP_METHODS or handler.name.value in ("list", "retrieve")


def _name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _all_calls(value: cst.BaseExpression, *, direct: bool) -> list[cst.Call]:
    """``.all()`` calls in a returned value, looking through wrappers and literals.

    With ``direct`` false, only calls inside a wrapper (a response, ``list()``, a serializer)
    count.
    """
    out: list[cst.Call] = []
    stack: list[tuple[cst.CSTNode, bool]] = [(value, direct)]
    while stack:
        node, counts = stack.pop()
        if isinstance(node, cst.Call):
            name = _name(node.func)
            if name == "all" and isinstance(node.func, cst.Attribute) and not node.args:
                if counts:
                    out.append(node)
                continue
            if name in _RESPONSE_WRAPPERS or name.endswith(("Serializer", "Schema")):
                stack.extend((arg.value, True) for arg in node.args)
        elif isinstance(node, cst.Attribute) and node.attr.value == "data":
            stack.append((node.value, counts))
        elif isinstance(node, cst.List | cst.Tuple | cst.Set):
            stack.extend((e.value, counts) for e in node.elements)
        elif isinstance(node, cst.Dict):
            stack.extend((e.value, counts) for e in node.elements if isinstance(e, cst.DictElement))
        elif isinstance(node, cst.ListComp | cst.GeneratorExp | cst.SetComp):
            stack.append((node.for_in.iter, True))
    return out


def _bounded_chain(call: cst.Call) -> bool:
    current: cst.BaseExpression = call.func
    while True:
        if isinstance(current, cst.Attribute):
            if current.attr.value in _PAGINATION_CALLS:
                return True
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        return bool(isinstance(current, cst.Subscript))


def _paginated(handler: cst.FunctionDef) -> bool:
    params = [
        *positional_params(handler, skip_self=True),
        *handler.params.kwonly_params,
    ]
    if any(p.name.value in _PAGINATION_PARAMS for p in params):
        return True
    for node in descendants(handler.body):
        if isinstance(node, cst.Subscript) and any(
            isinstance(e.slice, cst.Slice) for e in node.slice
        ):
            return True
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in ("limit", "offset", "paginate", "slice")
        ):
            return True
    return False
