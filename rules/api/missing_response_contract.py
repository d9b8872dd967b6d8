"""BE905 missing-response-contract: an API route declares no response schema."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from be_lint.frameworks import descendants, keyword_arg
from be_lint.http_semantics import is_exempt_path, mentions_status, returns, route_decorator
from be_lint.names import suite_statements
from be_lint.rule import STOP_VISITING, Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A route whose response shape is declared is a contract: FastAPI validates and filters the
response against `response_model` (or the return annotation), so a new column on the ORM model
does not leak to clients, and the OpenAPI document -- the thing client generators, API
gateways and reviewers read -- says what comes back. A route without it returns whatever the
handler happened to build; the documentation says "any", and changing the response is a
breaking change nobody can see in review. DRF views without a serializer have the same
problem: nothing describes, validates or documents what they answer.

The rule reports FastAPI routes with neither `response_model=` nor a return annotation (routes
that return a `Response` object of their own, answer 204, or are hidden from the schema with
`include_in_schema=False` are left alone), and DRF views and view sets that derive directly
from a DRF class and name no `serializer_class`, no `get_serializer_class` and no schema
decorator (`@extend_schema`, `@swagger_auto_schema`). It is opt-in: many internal APIs live
happily without published schemas.
"""

HOW_TO_FIX = """\
Declare the response: `def get_order(...) -> OrderOut:` or `@router.get(...,
response_model=OrderOut)` with a Pydantic model of exactly the fields clients may see; for DRF
set `serializer_class` (or describe the response with `@extend_schema(responses=...)`).
"""

_FASTAPI_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route"})
_RESPONSE_CLASSES = (
    "Response",
    "FileResponse",
    "StreamingResponse",
    "RedirectResponse",
    "HTMLResponse",
    "PlainTextResponse",
    "EventSourceResponse",
)
_SCHEMA_DECORATORS = ("extend_schema", "swagger_auto_schema", "extend_schema_view", "schema")
_DRF_VIEW_BASES = frozenset(
    {
        "rest_framework.views.APIView",
        "rest_framework.generics.GenericAPIView",
        "rest_framework.viewsets.ViewSet",
        "rest_framework.viewsets.GenericViewSet",
        "rest_framework.viewsets.ModelViewSet",
        "rest_framework.viewsets.ReadOnlyModelViewSet",
    }
)


class MissingResponseContract(PythonRule):
    meta = RuleMeta(
        code="BE905",
        name="missing-response-contract",
        summary="API route declares no response schema",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.HIGH,
        enabled_by_default=False,
        frameworks=("fastapi", "drf"),
        references=(
            "https://fastapi.tiangolo.com/tutorial/response-model/",
            "https://www.django-rest-framework.org/api-guide/serializers/",
        ),
    )
    triggers = ("fastapi", "rest_framework")
    bad = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/orders/{order_id}")  # expect: BE905
def get_order(order_id: int, db: Session):
    return db.get(Order, order_id)
"""
        ),
        Example(
            """\
from rest_framework import generics
from rest_framework.views import APIView


class OrderStats(APIView):  # expect: BE905
    def get(self, request):
        return Response(compute_stats())


class OrderList(generics.ListAPIView):  # expect: BE905
    queryset = Order.objects.all()
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter()


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: int):
    return find(order_id)


@router.get("/items/{item_id}")
def get_item(item_id: int) -> ItemOut:
    return find(item_id)


@router.get("/report")
def report():
    return FileResponse("report.pdf")


@router.delete("/items/{item_id}", status_code=204)
def delete_item(item_id: int):
    remove(item_id)


@router.post("/ping")
def ping():
    pass
"""
        ),
        Example(
            """\
from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.views import APIView


class OrderList(generics.ListAPIView):
    serializer_class = OrderSerializer


class OrderViewSet(viewsets.ModelViewSet):
    def get_serializer_class(self):
        return OrderSerializer


class Stats(APIView):
    @extend_schema(responses=StatsSerializer)
    def get(self, request):
        return Response(compute_stats())


class Child(ProjectBaseView):
    pass
"""
        ),
    )

    @classmethod
    def skips_path(cls, path: str, options: object) -> bool:
        return is_exempt_path(path)

    def visit_Module(self, node: cst.Module) -> object:
        return STOP_VISITING if is_exempt_path(self.ctx.path) else None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        imports = self.ctx.imports
        if node.returns is not None or imports is None or not imports.imports_module("fastapi"):
            return
        decorator = route_decorator(node, self.ctx)
        if decorator is None or decorator.attr not in _FASTAPI_METHODS:
            return
        call = decorator.call
        if any(
            keyword_arg(call, k) is not None
            for k in ("response_model", "response_class", "include_in_schema")
        ) or mentions_status(call, 204):
            return
        values = [r.value for r in returns(node) if r.value is not None]
        if not values or any(
            isinstance(v, cst.Call)
            and (self.ctx.dotted_name(v.func) or "").endswith(_RESPONSE_CLASSES)
            for v in values
        ):
            return
        self.report(
            call,
            f"`{node.name.value}` declares no response model: the API schema says nothing "
            "about what it returns",
            help="annotate the return type or pass `response_model=`",
        )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        # Only classes built from DRF's own classes: a project base or mixin may well set
        # the serializer for its subclasses.
        drf = any(
            any(
                n in _DRF_VIEW_BASES or n.startswith("rest_framework.generics.")
                for n in self.ctx.qualified_names(b.value)
            )
            for b in node.bases
        )
        for base in node.bases:
            names = self.ctx.qualified_names(base.value)
            if not any(n.startswith(("rest_framework.", "builtins.object")) for n in names):
                drf = False
        if not drf or _decorated(node.decorators):
            return
        project = self.ctx.project
        if project is not None and project.routes:
            # A base class of the project's views (subclasses set the serializer) serves no
            # route of its own.
            prefix = f"{node.name.value}."
            if not any(
                r.file == self.ctx.path and r.symbol.startswith(prefix) for r in project.routes
            ):
                return
        for statement in suite_statements(node.body):
            if isinstance(statement, cst.FunctionDef):
                if statement.name.value == "get_serializer_class" or _decorated(
                    statement.decorators
                ):
                    return
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign | cst.AnnAssign):
                        targets = (
                            [t.target for t in small.targets]
                            if isinstance(small, cst.Assign)
                            else [small.target]
                        )
                        if any(
                            isinstance(t, cst.Name) and t.value == "serializer_class"
                            for t in targets
                        ):
                            return
        self.report(
            node.name,
            f"`{node.name.value}` names no serializer: nothing declares what it answers",
            help="set `serializer_class` or describe the response with `@extend_schema`",
        )


def _decorated(decorators: Sequence[cst.Decorator]) -> bool:
    """A schema decorator, also wrapped: ``@method_decorator(name="get",
    decorator=extend_schema(...))``."""
    for decorator in decorators:
        for inner in descendants(decorator, into_scopes=True):
            if isinstance(inner, cst.Name) and inner.value in _SCHEMA_DECORATORS:
                return True
        expr = decorator.decorator
        callee = expr.func if isinstance(expr, cst.Call) else expr
        name = cst.ensure_type(callee, cst.Name).value if isinstance(callee, cst.Name) else None
        if name is None and isinstance(callee, cst.Attribute):
            name = callee.attr.value
        if name in _SCHEMA_DECORATORS:
            return True
    return False
