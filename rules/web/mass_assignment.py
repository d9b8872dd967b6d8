"""BE609 mass-assignment: raw request data spread into a model's fields."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg, positional_args
from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, RuleMeta, Severity
from be_lint.taint import TaintRule, raw_request_mapping

RATIONALE = """\
`Model(**request.data)` or `Model.objects.create(**request.POST.dict())` lets the client set
every field of the row, not just the ones the form shows: `is_staff=true`, `owner_id=1`,
`price=0`, `email_verified=true`. Nothing in the code says which fields a client may write, so
adding a column later silently makes it writable too (CWE-915, "mass assignment").

The rule reports raw request data -- `request.data`, `request.POST`, `request.get_json()`,
`await request.json()`, a FastAPI parameter typed `dict`/`Any`, or a name or `{**...}` copy
holding one -- spread into:

- a model constructor (a Django or SQLAlchemy model of the project index; when a file is
  checked without its project, a class imported from a `models` module): `Order(**payload)`;
- Django manager and query set writes: `create`, `update`, `get_or_create`/`update_or_create`
  (`**data` or `defaults=data`), `bulk_create`;
- SQLAlchemy `insert(Model).values(data)`, query `update(data)`;
- generic copying: `obj.__dict__.update(data)` and `for key, value in data.items():
  setattr(obj, key, value)`.

Not reported: validated data (`serializer.validated_data`, `form.cleaned_data`, a pydantic
model's `model_dump()`/`dict()`), pydantic models built from the data (`Item(**payload)`
validates each field), and single fields picked by name (`Order(note=request.data["note"])`).
"""

HOW_TO_FIX = """\
Validate into an explicit schema and copy only allowed fields: a DRF serializer with `fields =
[...]` and `serializer.save()`, a Django `ModelForm` with `fields`, a pydantic model per use
case (`ItemCreate`) and `Item(**item_in.model_dump())`, or a small allow-list
(`{k: data[k] for k in EDITABLE if k in data}`).
"""

_MANAGER_WRITES = frozenset(
    {"create", "update", "get_or_create", "update_or_create", "bulk_create", "filter_update"}
)


class MassAssignment(TaintRule):
    meta = RuleMeta(
        code="BE609",
        name="mass-assignment",
        summary="Raw request data is spread into a model's fields",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=915,
        owasp="A08:2021-Software and Data Integrity Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/915.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Mass_Assignment_Cheat_Sheet.html",
        ),
    )
    triggers = ("**", "setattr", "__dict__", "defaults=", ".values(")
    bad = (
        Example(
            """\
from django.db import models
from rest_framework.decorators import api_view
from rest_framework.response import Response


class Profile(models.Model):
    name = models.CharField(max_length=50)
    is_admin = models.BooleanField(default=False)


@api_view(["POST"])
def create_profile(request):
    profile = Profile(**request.data)  # expect: BE609
    profile.save()
    Profile.objects.create(**request.POST.dict())  # expect: BE609
    return Response({"id": profile.pk})
"""
        ),
        Example(
            """\
from fastapi import FastAPI

from app.db import SessionLocal
from app.models import User

app = FastAPI()


@app.post("/users")
async def create_user(payload: dict):
    with SessionLocal() as session:
        session.add(User(**payload))  # expect: BE609
        session.commit()
"""
        ),
        Example(
            """\
from flask import request


def update_user(user):
    data = request.get_json()
    for key, value in data.items():
        setattr(user, key, value)  # expect: BE609
    user.__dict__.update(data)  # expect: BE609
"""
        ),
    )
    good = (
        Example(
            """\
from django.db import models
from pydantic import BaseModel
from rest_framework.decorators import api_view


class Profile(models.Model):
    name = models.CharField(max_length=50)


class ProfileIn(BaseModel):
    name: str


@api_view(["POST"])
def create_profile(request):
    serializer = ProfileSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    Profile.objects.create(**serializer.validated_data)
    Profile(name=request.data["name"])
    checked = ProfileIn(**request.data)
    Profile.objects.create(**checked.model_dump())
"""
        ),
        Example(
            """\
from flask import request

EDITABLE = ("name", "bio")


def update_user(user):
    data = request.get_json()
    for key in EDITABLE:
        if key in data:
            setattr(user, key, data[key])
    options = {"timeout": 5}
    connect(**options)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        spread = next((a.value for a in node.args if a.star == "**"), None)
        if isinstance(func, cst.Name) and func.value == "setattr":
            self._setattr(node)
            return
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "update" and dotted_name(func.value) is not None:
                target = dotted_name(func.value) or ""
                if target.endswith(".__dict__"):
                    self._check(node, _first(node), "the object's `__dict__`")
                    return
            if method in _MANAGER_WRITES and _chain_has(func.value, _MANAGERS):
                self._check(node, spread, f"`{method}()` of a Django model")
                defaults = keyword_arg(node, "defaults")
                if defaults is not None:
                    self._check(node, defaults.value, f"`{method}(defaults=...)`")
                return
            if method == "values" and _is_insert(func.value, self):
                self._check(node, spread or _first(node), "an INSERT's values")
                return
            if method == "update" and _chain_has(func.value, _QUERY):
                self._check(node, _first(node), "a query's `update()`")
                return
        if spread is not None and self._is_model(func):
            name = dotted_name(func) or "model"
            self._check(node, spread, f"`{name}(...)`")

    def _check(self, node: cst.Call, data: cst.BaseExpression | None, where: str) -> None:
        if data is None:
            return
        source = raw_request_mapping(self.ctx, data)
        if source is None:
            return
        self.report(
            node,
            f"raw request data is spread into {where}: the client can set any field",
            help="validate into an explicit schema or copy only allowed fields",
        )

    def _setattr(self, node: cst.Call) -> None:
        if len(node.args) < 3:
            return
        key, value = node.args[1].value, node.args[2].value
        if not isinstance(key, cst.Name) or not isinstance(value, cst.Name):
            return
        for ancestor in reversed(self.ctx.ancestors):
            if isinstance(ancestor, cst.FunctionDef):
                return
            if not isinstance(ancestor, cst.For):
                continue
            target = ancestor.target
            names = (
                [e.value for e in target.elements] if isinstance(target, cst.Tuple) else [target]
            )
            if not any(isinstance(n, cst.Name) and n.value == key.value for n in names):
                continue
            iterable = ancestor.iter
            if (
                isinstance(iterable, cst.Call)
                and isinstance(iterable.func, cst.Attribute)
                and iterable.func.attr.value == "items"
            ):
                self._check(node, iterable.func.value, "attributes named by the client (setattr)")
            return

    def _is_model(self, func: cst.BaseExpression) -> bool:
        project = self.ctx.project
        names = self.ctx.qualified_names(func)
        if project is not None and project.models:
            # The index knows the project's ORM models: pydantic classes kept in a
            # ``models`` module are not among them.
            if names and project.find(names) is not None:
                return True
            last = (dotted_name(func) or "").rsplit(".", 1)[-1]
            return not names and len(project.model_names.get(last, ())) == 1
        # Checking one file alone: a class imported from a ``models`` module.
        return any(".models." in n or n.startswith("models.") for n in names)


def _first(node: cst.Call) -> cst.BaseExpression | None:
    positional = positional_args(node)
    return positional[0].value if positional else None


#: ``Model.objects``, ``Model.objects.filter(...)``, ``self.model._default_manager``.
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
#: ``session.query(M).filter(...)``, ``M.query.filter_by(...)``.
_QUERY = frozenset({"query"})


def _chain_has(expr: cst.BaseExpression, attributes: frozenset[str]) -> bool:
    """An attribute along the call/attribute chain ``expr`` (12 links at most) is one of
    ``attributes``."""
    for _ in range(12):
        if isinstance(expr, cst.Call):
            expr = expr.func
        elif isinstance(expr, cst.Attribute):
            if expr.attr.value in attributes:
                return True
            expr = expr.value
        else:
            return False
    return False


def _is_insert(expr: cst.BaseExpression, rule: MassAssignment) -> bool:
    for _ in range(8):
        if isinstance(expr, cst.Call):
            names = rule.ctx.qualified_names(expr.func)
            if any(n.startswith("sqlalchemy") and n.endswith("insert") for n in names):
                return True
            expr = expr.func
        elif isinstance(expr, cst.Attribute):
            if expr.attr.value == "insert":
                return True
            expr = expr.value
        else:
            return False
    return False
