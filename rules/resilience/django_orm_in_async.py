"""BE708 django-orm-in-async: a synchronous Django ORM query run inside ``async def``."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import in_async_function
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
Django's ORM is synchronous. Inside an `async def` view, consumer or task, a query that runs
there (`Model.objects.get()`, `.count()`, `.create()`, iterating a queryset, `list(qs)`)
either blocks the event loop for the whole round trip to the database or, in a
`DEBUG`/async-unsafe context, raises `SynchronousOnlyOperation` at run time. Either way it
shows up in production rather than in review.

The rule follows manager chains (`Model.objects...`, `Model._default_manager...`) written
directly in the body of an `async def` and reports the call that runs the query: the methods
that hit the database (`get`, `first`, `count`, `exists`, `create`, `update`, `delete`,
`aggregate`, `bulk_create`, ...), a plain `for` loop or comprehension over a queryset, and
`list()`/`len()`/`bool()` of one. Building a queryset (`filter`, `exclude`, `order_by`) runs
nothing and is not reported; neither is the async API (`aget`, `acount`, `acreate`, `async
for`) nor anything wrapped in `sync_to_async`.
"""

HOW_TO_FIX = """\
Use the async query API (Django 4.1+): `await Model.objects.aget(...)`, `acount()`,
`aexists()`, `acreate()`, `aupdate()`, `adelete()`, `async for obj in queryset`. For code with
no async variant (transactions, related-object access, third-party helpers), wrap a sync
function: `await sync_to_async(do_work)(...)`.
"""

#: Manager/queryset methods that run a query.
_EVALUATING = frozenset(
    {
        "get",
        "first",
        "last",
        "latest",
        "earliest",
        "count",
        "exists",
        "contains",
        "create",
        "get_or_create",
        "update_or_create",
        "update",
        "delete",
        "aggregate",
        "bulk_create",
        "bulk_update",
        "in_bulk",
        "iterator",
        "explain",
    }
)
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_EVALUATING_BUILTINS = frozenset(
    {"builtins.list", "builtins.len", "builtins.bool", "builtins.tuple"}
)


class DjangoOrmInAsync(PythonRule):
    meta = RuleMeta(
        code="BE708",
        name="django-orm-in-async",
        summary="Synchronous Django ORM query inside `async def`",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.djangoproject.com/en/stable/topics/async/#queries-the-orm",
            "https://docs.djangoproject.com/en/stable/topics/async/#async-safety",
        ),
        frameworks=("django",),
    )
    triggers = ("objects", "_default_manager", "_base_manager")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return "async def" in text and super().may_match(text, kind)

    bad = (
        Example(
            """\
from django.http import JsonResponse

from .models import Order


async def order_detail(request, order_id):
    order = Order.objects.select_related("customer").get(pk=order_id)  # expect: BE708
    return JsonResponse({"id": order.pk, "customer": order.customer.name})
"""
        ),
        Example(
            """\
from .models import Event


async def dashboard(request):
    total = Event.objects.filter(user=request.user).count()  # expect: BE708
    recent = [e.title for e in Event.objects.order_by("-created")[:10]]  # expect: BE708
    for event in Event.objects.filter(pinned=True):  # expect: BE708
        print(event)
    return list(Event.objects.all()), total, recent  # expect: BE708
"""
        ),
    )
    good = (
        Example(
            """\
from asgiref.sync import sync_to_async

from .models import Event, Order


async def order_detail(request, order_id):
    order = await Order.objects.select_related("customer").aget(pk=order_id)
    count = await Event.objects.filter(user=request.user).acount()
    titles = [e.title async for e in Event.objects.order_by("-created")[:10]]
    first = await sync_to_async(Event.objects.first)()
    return order, count, titles, first
"""
        ),
        Example(
            """\
from .models import Event


def dashboard(request):
    # a sync view: the ORM is fine here
    return Event.objects.filter(user=request.user).count()


async def recent(request):
    # building a queryset runs no query
    qs = Event.objects.filter(user=request.user).order_by("-created")

    def load():
        return list(qs[:10])

    return qs, load
"""
        ),
        Example(
            """\
async def handler(config):
    # not a model manager
    return config.objects.get("key"), settings.objects.count()
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in _EVALUATING and _is_manager_chain(func.value):
                self._report(node, f"`.{func.attr.value}()` runs a query")
        elif (
            isinstance(func, cst.Name)
            and len(node.args) == 1
            and _is_manager_chain(node.args[0].value)
            and self.ctx.matches(func, _EVALUATING_BUILTINS)
        ):
            self._report(node, f"`{func.value}()` of a queryset runs a query")

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is None and _is_manager_chain(node.iter):
            self._report(node.iter, "iterating a queryset runs a query")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is None and _is_manager_chain(node.iter):
            self._report(node.iter, "iterating a queryset runs a query")

    def _report(self, node: cst.CSTNode, what: str) -> None:
        where = in_async_function(self.ctx.ancestors)
        if where is None:
            return
        self.report(
            node,
            f"{what} with the synchronous ORM inside `async def {where.name.value}`",
            help="use the async API (aget, acount, acreate, async for) or wrap it in sync_to_async",
        )


def _is_manager_chain(expr: cst.BaseExpression) -> bool:
    """True for ``Model.objects`` followed by any chain of calls, attributes and slices.

    The part before the manager must look like a model: a CamelCase name (``Order.objects``,
    ``models.Order.objects``) or ``self.model``/``cls``.
    """
    current = expr
    while True:
        if isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Subscript):
            current = current.value
        elif isinstance(current, cst.Attribute):
            if current.attr.value in _MANAGERS:
                return _looks_like_model(current.value)
            current = current.value
        else:
            return False


def _looks_like_model(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value[:1].isupper() or expr.value in ("cls", "model")
    if isinstance(expr, cst.Attribute):
        return expr.attr.value[:1].isupper() or expr.attr.value == "model"
    return False
