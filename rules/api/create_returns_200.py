"""BE902 create-returns-200: a POST handler creates a resource but answers 200 OK."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import enclosing_class, keyword_arg
from be_lint.http_semantics import (
    HandlerRule,
    answers,
    creations,
    handler_methods,
    may_handle_requests,
    mentions_status,
    sets_status,
)
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
`201 Created` tells a client that a new resource exists (and, with a `Location` header,
where); `200 OK` says "here is the result of your request". Clients, SDK generators and API
gateways read the difference: an OpenAPI document generated from a FastAPI route without
`status_code=201` promises a 200, generated clients check for it, and the moment someone
fixes the status the clients break. Every framework answers 200 unless told otherwise, so a
creation endpoint answers 200 by accident far more often than by choice.

The rule reports a handler that only answers `POST`, creates something -- an ORM `.create()`,
`session.add(...)`, an `INSERT`, or `.save()` of an object it constructed (`Order(...)`, a
serializer given `data=` but no instance) -- and answers with the default status: a FastAPI
route whose decorator has no `status_code=`; a DRF `Response(serializer.data)` without
`status=`; a Flask or aiohttp handler returning a body without a status (`return
jsonify(order)` rather than `return jsonify(order), 201`). Handlers that redirect or render a
page (HTML forms) are not API answers and are left alone, as are handlers that set a status
anywhere.
"""

HOW_TO_FIX = """\
Answer 201 when the request created a resource: `@router.post("/orders", status_code=201)`,
`return Response(serializer.data, status=status.HTTP_201_CREATED)`, `return jsonify(order),
201`, `web.json_response(data, status=201)`; add a `Location` header with the new resource's
URL where clients need it. A POST that performs an action rather than creating something can
keep 200 (suppress the finding with a comment saying so).
"""


class CreateReturns200(HandlerRule):
    meta = RuleMeta(
        code="BE902",
        name="create-returns-200",
        summary="POST handler creates a resource but answers 200 OK",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=("https://www.rfc-editor.org/rfc/rfc9110#name-201-created",),
    )
    triggers = ("create(", ".add(", ".add_all(", ".save(", "INSERT", "insert")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_handle_requests(text, "post", "POST") and any(t in text for t in cls.triggers)

    bad = (
        Example(
            """\
from fastapi import APIRouter
from sqlalchemy.orm import Session

router = APIRouter()


@router.post("/orders")  # expect: BE902
def create_order(payload: OrderIn, db: Session) -> OrderOut:
    order = Order(**payload.model_dump())
    db.add(order)
    db.commit()
    return order
"""
        ),
        Example(
            """\
from rest_framework.response import Response
from rest_framework.views import APIView


class Orders(APIView):
    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)  # expect: BE902
"""
        ),
        Example(
            """\
from flask import Blueprint, jsonify

bp = Blueprint("orders", __name__)


@bp.post("/orders")
def create_order():
    order = Order.objects.create(**request.json)
    if order is None:
        return jsonify(error="invalid"), 400
    return jsonify(order.to_dict())  # expect: BE902
"""
        ),
        Example(
            """\
from aiohttp import web

routes = web.RouteTableDef()


@routes.post("/items")
async def add_item(request):
    await request.app["db"].execute("INSERT INTO items (name) VALUES ($1)", "x")
    return web.json_response({"ok": True})  # expect: BE902
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.post("/orders", status_code=201)
def create_order(payload: OrderIn, db: Session):
    db.add(Order(**payload.model_dump()))
    db.commit()


@router.post("/orders/{order_id}/pay")
def pay(order_id: int, db: Session):
    order = db.get(Order, order_id)
    order.paid = True
    db.commit()
    return order


@router.post("/search")
def search(query: Query, db: Session):
    return db.query(Order).filter_by(**query.model_dump()).all()
"""
        ),
        Example(
            """\
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView


class Orders(APIView):
    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    def put(self, request, pk):
        serializer = OrderSerializer(Order.objects.get(pk=pk), data=request.data)
        serializer.save()
        return Response(serializer.data)
"""
        ),
        Example(
            """\
from flask import Flask, jsonify, redirect

app = Flask(__name__)


@app.route("/orders", methods=["POST"])
def create_order():
    Order.objects.create(**request.form)
    return redirect("/orders")


@app.post("/api/orders")
def api_create_order():
    order = Order(**request.json)
    order.save()
    return jsonify(order.to_dict()), 201


@app.post("/login")
def login():
    session_token = issue_token(request.json)
    return jsonify(token=session_token)
"""
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ctx = self.ctx
        methods = handler_methods(node, ctx, ctx.ancestors)
        if methods != frozenset({"POST"}):
            return
        created = creations(node, ctx)
        if not created or sets_status(node):
            return
        what = created[0].what
        answered = answers(node, ctx)
        if answered.has("redirect") or answered.has("page"):
            return
        if any(status == "explicit" and mentions_status(r, 201) for r, status in answered.returns):
            return
        fastapi = answered.fastapi
        if fastapi is not None and not answered.has("explicit"):
            if keyword_arg(fastapi.call, "status_code") is None:
                self.report(
                    fastapi.call,
                    f"`{node.name.value}` creates a resource ({what}) but the route answers "
                    "the default 200: declare `status_code=201`",
                    help="add `status_code=201` (or `status.HTTP_201_CREATED`) to the decorator",
                )
            return
        # A function view: only DRF's ``@api_view`` answers data by default.
        if (
            answered.decorator is None
            and enclosing_class(node, [*ctx.ancestors, node]) is None
            and not any(
                ctx.qualified_names(
                    d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                )
                & {"rest_framework.decorators.api_view"}
                for d in node.decorators
            )
        ):
            return
        target = answered.last_default()
        if target is None:
            return
        self.report(
            target,
            f"`{node.name.value}` creates a resource ({what}) but answers 200: a creation "
            "answers 201 Created",
            help="return the body with status 201 (and a Location header where useful)",
        )
