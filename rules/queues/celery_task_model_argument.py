"""BE720 celery-task-model-argument: a model instance sent to a task instead of its id."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg, positional_args
from be_lint.index.tasks import TASK_TEXT
from be_lint.queues import celery_task, is_model_instance, model_annotation
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
A task argument is serialized into the message and read back later, in another process. A model
instance does not survive the trip well: with the JSON serializer (Celery's default) the call
fails outright; with pickle the worker receives a copy of the row as it was when the task was
queued -- stale by the time it runs (another request changed it, or the transaction that created
it rolled back), and saving it writes the stale values back over newer ones. Pickled models also
bloat the message and break when the model class changes between deploys.

The rule reports `.delay()`, `.apply_async()`, `.s()`/`.si()` arguments known to hold a model
instance (`Model.objects.get(...)`, `get_object_or_404(...)`, `request.user`,
`self.get_object()`, a loop variable over `Model.objects...`), and task parameters annotated
with a model class of the project (unless the task has a custom `base=` class, which often
loads rows from ids before the task runs).
"""

HOW_TO_FIX = """\
Pass the primary key and load the row inside the task:

```python
send_receipt.delay(order.pk)

@shared_task
def send_receipt(order_id: int):
    order = Order.objects.get(pk=order_id)
```
"""

_ENQUEUE = frozenset({"delay", "apply_async", "s", "si", "signature"})


class CeleryTaskModelArgument(PythonRule):
    meta = RuleMeta(
        code="BE720",
        name="celery-task-model-argument",
        summary="Model instance passed to a Celery task instead of its id",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#state",
            "https://docs.celeryq.dev/en/stable/userguide/calling.html#serializers",
        ),
        frameworks=("celery",),
    )
    triggers = (".delay(", ".apply_async(", ".s(", ".si(", ".signature(")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return super().may_match(text, kind) or TASK_TEXT.search(text) is not None

    bad = (
        Example(
            """\
from django.shortcuts import get_object_or_404


def checkout(request, order_id):
    order = get_object_or_404(Order, pk=order_id)
    send_receipt.delay(order)  # expect: BE720
    audit.delay(user=request.user)  # expect: BE720
    notify.apply_async(args=(Order.objects.get(pk=order_id),))  # expect: BE720


def remind():
    for customer in Customer.objects.filter(active=True):
        remind_customer.delay(customer)  # expect: BE720
"""
        ),
        Example(
            """\
from celery import shared_task
from django.contrib.auth.models import User


@shared_task
def welcome(user: User):  # expect: BE720
    send(user.email)
"""
        ),
    )
    good = (
        Example(
            """\
from django.shortcuts import get_object_or_404


def checkout(request, order_id):
    order = get_object_or_404(Order, pk=order_id)
    send_receipt.delay(order.pk)
    audit.delay(user_id=request.user.id)
    for row in Customer.objects.values_list("id", flat=True):
        remind_customer.delay(row)
    data = cache.get("x")
    publish.delay(data)
"""
        ),
        Example(
            """\
from celery import shared_task


@shared_task
def welcome(user_id: int, email: str):
    send(email)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _ENQUEUE:
            return
        for value in self._arguments(node, func.attr.value):
            found = is_model_instance(value, self.ctx)
            if found is not None:
                self.report(
                    value,
                    f"{found} is passed to a task: it is serialized into the message and is "
                    "stale (or unserializable) when the worker runs",
                    help="pass its primary key and load the row inside the task",
                )

    @staticmethod
    def _arguments(node: cst.Call, method: str) -> list[cst.BaseExpression]:
        if method != "apply_async":
            return [a.value for a in node.args if not a.star]
        out: list[cst.BaseExpression] = []
        positional = positional_args(node)
        args = keyword_arg(node, "args")
        kwargs = keyword_arg(node, "kwargs")
        if args is None and positional:
            args = positional[0]
        if kwargs is None and len(positional) > 1:
            kwargs = positional[1]
        if args is not None and isinstance(args.value, cst.Tuple | cst.List):
            out.extend(e.value for e in args.value.elements if isinstance(e, cst.Element))
        if kwargs is not None and isinstance(kwargs.value, cst.Dict):
            out.extend(e.value for e in kwargs.value.elements if isinstance(e, cst.DictElement))
        return out

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = celery_task(node, self.ctx)
        if task is None or "base" in task.options:
            return  # a custom base class may load rows from ids in ``__call__``
        params = node.params
        positional = [*params.posonly_params, *params.params]
        if task.bind and positional:
            positional = positional[1:]  # the task itself
        for param in (*positional, *params.kwonly_params):
            found = model_annotation(param, self.ctx)
            if found is not None:
                self.report(
                    param,
                    f"this task takes {found}: callers must serialize a whole row into the "
                    "message, stale by the time the worker runs",
                    help="take the primary key (an int or str) and load the row inside the task",
                )
