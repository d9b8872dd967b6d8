"""BE621 unauthenticated-state-changing-route: a POST/PUT/PATCH/DELETE route with no auth."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import HTTP_METHODS, handler_kind, keyword_arg, string_value
from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option

RATIONALE = """\
A route that creates, changes or deletes data and does not say who may call it is either
public on purpose (sign-up, login, a webhook with a signature) or a forgotten check. This
opt-in rule lists the second kind for review: handlers of state-changing methods that show no
authentication at the place they are declared.

Recognised handlers: Flask/Quart routes (`@app.post`, `@bp.route(..., methods=["POST"])`),
FastAPI/Starlette-style routes (`@router.delete(...)`), Django views decorated with
`require_POST`/`require_http_methods([...])`, and DRF function views (`@api_view(["POST"])`).

A handler counts as authenticated when any of its decorators, its FastAPI dependencies
(parameters with `Depends(...)`/`Security(...)`, the route's `dependencies=[...]`, or a router
created with `dependencies=`) or its DRF `@permission_classes` name something matching
`auth-names` (by default `login`, `auth`, `permission`, `current_user`, `jwt`, `token`,
`require`, `admin`, `staff`, `signature`, `verify`, `protect`, `access`, `role`, `session`,
`user`), a case-insensitive regular expression. DRF views with `AllowAny` are reported; DRF
views without their own permission classes use the project default and are not. Handlers
public by design are recognised by name (`public-names`: webhooks, callbacks, reports,
health checks, login, sign-up, password reset, token endpoints).
"""

HOW_TO_FIX = """\
Add the project's authentication: `@login_required`, `@jwt_required()`, a FastAPI dependency
(`user: User = Depends(get_current_user)`), DRF `@permission_classes([IsAuthenticated])`.
For routes that are public by design, suppress the finding with a comment saying why.
"""

_STATE_CHANGING = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True)
class Options:
    auth_names: str = option(
        r"login|auth|permission|current_user|jwt|token|require(?!_http_methods|_post|_get|_safe)"
        r"|admin|staff|signature|verify|protect|access|role|session|user",
        "Regular expression (case-insensitive) for decorators and dependencies that authenticate.",
    )
    public_names: str = option(
        r"webhook|callback|report|notify|notification|ipn|health|ping|beacon|metric"
        r"|login|logout|signup|sign_up|register|password_reset|token",
        "Regular expression (case-insensitive, searched in the handler's name) for handlers that "
        "are public by design.",
    )


class UnauthenticatedStateChangingRoute(PythonRule):
    meta = RuleMeta(
        code="BE621",
        name="unauthenticated-state-changing-route",
        summary="A state-changing route declares no authentication",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.LOW,
        cwe=306,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://cwe.mitre.org/data/definitions/306.html",
            "https://owasp.org/Top10/A01_2021-Broken_Access_Control/",
        ),
        enabled_by_default=False,
    )
    options_class = Options
    triggers = ("post", "put", "patch", "delete", "POST", "PUT", "PATCH", "DELETE")
    bad = (
        Example(
            """\
from flask import Blueprint

bp = Blueprint("orders", __name__)


@bp.route("/orders/<int:order_id>", methods=["DELETE"])
def delete_order(order_id):  # expect: BE621
    Order.query.filter_by(id=order_id).delete()
    return "", 204
"""
        ),
        Example(
            """\
from fastapi import APIRouter, Depends

router = APIRouter()


@router.post("/items")
async def create_item(item: ItemIn, db=Depends(get_db)):  # expect: BE621
    return await db.save(item)
"""
        ),
        Example(
            """\
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny


@api_view(["POST"])
@permission_classes([AllowAny])
def reset_counters(request):  # expect: BE621
    Counter.objects.update(value=0)
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter, Depends
from flask import Blueprint
from flask_login import login_required

bp = Blueprint("orders", __name__)
router = APIRouter()
admin = APIRouter(dependencies=[Depends(require_admin)])


@bp.route("/orders/<int:order_id>", methods=["DELETE"])
@login_required
def delete_order(order_id):
    return "", 204


@bp.route("/orders")
def list_orders():
    return []


@router.post("/items")
async def create_item(item: ItemIn, user=Depends(get_current_user)):
    return item


@router.post("/items/{id}/archive", dependencies=[Depends(verify_api_key)])
async def archive(id: int):
    return id


@admin.delete("/users/{id}")
async def delete_user(id: int):
    return id
"""
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not node.decorators:
            return
        if handler_kind(node, self.ctx, [*self.ctx.ancestors, node]) != "route":
            return  # ``@mock.patch`` is not a route
        pattern = re.compile(self.options.auth_names, re.IGNORECASE)
        methods: set[str] = set()
        authenticated = False
        drf_allow_any = False
        drf = False
        for decorator in node.decorators:
            expr = decorator.decorator
            callee = expr.func if isinstance(expr, cst.Call) else expr
            name = dotted_name(callee) or ""
            last = name.rsplit(".", 1)[-1]
            qualified = self.ctx.qualified_names(callee)
            if isinstance(expr, cst.Call) and last in HTTP_METHODS | {"route", "api_route"}:
                if last in _STATE_CHANGING:
                    methods.add(last)
                methods |= _methods_of(expr)
                if _has_auth_dependency(expr, pattern):
                    authenticated = True
                if isinstance(callee, cst.Attribute) and self._router_has_dependencies(
                    callee.value
                ):
                    authenticated = True
                continue
            if "rest_framework.decorators.api_view" in qualified and isinstance(expr, cst.Call):
                drf = True
                methods |= _methods_of(expr)
                continue
            if "rest_framework.decorators.permission_classes" in qualified:
                text = self.ctx.module.code_for_node(expr) if self.ctx.module else ""
                if "AllowAny" in text:
                    drf_allow_any = True
                else:
                    authenticated = True
                continue
            if last == "require_POST":
                methods.add("post")
                continue
            if last == "require_http_methods" and isinstance(expr, cst.Call):
                methods |= _methods_of(expr)
                continue
            if pattern.search(name) or (
                isinstance(expr, cst.Call) and pattern.search(self._text(expr))
            ):
                authenticated = True
        if not methods & _STATE_CHANGING or authenticated:
            return
        if re.search(self.options.public_names, node.name.value, re.IGNORECASE):
            return
        if drf and not drf_allow_any:
            return
        for param in [*node.params.params, *node.params.kwonly_params]:
            default = param.default
            if (
                isinstance(default, cst.Call)
                and (dotted_name(default.func) or "").rsplit(".", 1)[-1] in ("Depends", "Security")
                and pattern.search(self._text(default))
            ):
                return
            annotation = param.annotation
            if (
                annotation is not None
                and pattern.search(self._text(annotation.annotation))
                and "Depends" in self._text(annotation.annotation)
            ):
                return
        verbs = ", ".join(sorted(m.upper() for m in methods & _STATE_CHANGING))
        self.report(
            node.name,
            f"`{node.name.value}` handles {verbs} without a visible authentication check",
            help="add the project's authentication decorator or dependency, or suppress with "
            "a reason if the route is public by design",
        )

    def _text(self, node: cst.CSTNode) -> str:
        return self.ctx.module.code_for_node(node) if self.ctx.module is not None else ""

    def _router_has_dependencies(self, owner: cst.BaseExpression) -> bool:
        """``router = APIRouter(dependencies=[...])`` at module level."""
        if not isinstance(owner, cst.Name) or self.ctx.module is None:
            return False
        for statement in self.ctx.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and any(
                        isinstance(t.target, cst.Name) and t.target.value == owner.value
                        for t in small.targets
                    )
                    and isinstance(small.value, cst.Call)
                    and keyword_arg(small.value, "dependencies") is not None
                ):
                    return True
        return False


def _methods_of(call: cst.Call) -> set[str]:
    """``methods=["POST"]`` or a first positional list of methods (``api_view(["POST"])``)."""
    found: set[str] = set()
    candidates = [a.value for a in call.args if a.keyword is None]
    methods = keyword_arg(call, "methods") or keyword_arg(call, "http_method_names")
    if methods is not None:
        candidates.append(methods.value)
    for value in candidates:
        if isinstance(value, cst.List | cst.Tuple | cst.Set):
            for element in value.elements:
                text = string_value(element.value)
                if text is not None:
                    found.add(text.lower())
    return found


def _has_auth_dependency(call: cst.Call, pattern: re.Pattern[str]) -> bool:
    dependencies = keyword_arg(call, "dependencies")
    if dependencies is None:
        return False
    names = [dotted_name(n) or "" for n in _calls_args(dependencies.value)]
    return any(pattern.search(n) for n in names)


def _calls_args(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    out: list[cst.BaseExpression] = []
    if isinstance(expr, cst.List | cst.Tuple):
        for element in expr.elements:
            value = element.value
            if isinstance(value, cst.Call) and value.args:
                out.append(value.args[0].value)
    return out
