"""BE718 celery-task-called-synchronously: a request handler runs a task inline."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import per_request_function
from be_lint.queues import imported_task, local_tasks
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
Calling a Celery task like a function -- `send_invoice(order.id)`, `send_invoice.run(...)` or
`send_invoice.apply(...)` -- runs it right there, in the web process, while the user waits. The
work was made a task because it is slow or fragile (an e-mail, a PDF, a third-party API); run
inline it makes the request slow, fails the request when it fails, and loses the retries, time
limits and rate limits configured on the task.

The rule reports such calls inside request handlers when the callee is known to be a Celery
task: defined in the same file, or found by the project index in another module
(`from .tasks import send_invoice`).
"""

HOW_TO_FIX = """\
Enqueue it: `send_invoice.delay(order.id)` or `send_invoice.apply_async(args=(order.id,),
countdown=5)`. With Django, enqueue after the transaction commits:
`transaction.on_commit(lambda: send_invoice.delay(order.id))`.
"""


class CeleryTaskCalledSynchronously(PythonRule):
    meta = RuleMeta(
        code="BE718",
        name="celery-task-called-synchronously",
        summary="Celery task called directly from a request handler instead of enqueued",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=("https://docs.celeryq.dev/en/stable/userguide/calling.html",),
        frameworks=("celery",),
    )
    triggers = ("task",)
    bad = (
        Example(
            """\
from celery import shared_task
from django.http import HttpResponse


@shared_task
def send_invoice(order_id):
    mail_invoice(order_id)


def checkout(request):
    order = place_order(request)
    send_invoice(order.id)  # expect: BE718
    send_invoice.run(order.id)  # expect: BE718
    send_invoice.apply(args=(order.id,))  # expect: BE718
    return HttpResponse("ok")
"""
        ),
    )
    good = (
        Example(
            """\
from celery import shared_task
from django.http import HttpResponse


@shared_task
def send_invoice(order_id):
    mail_invoice(order_id)


@shared_task
def send_all(order_ids):
    for order_id in order_ids:
        send_invoice(order_id)  # a task may call another task's body on purpose


def checkout(request):
    order = place_order(request)
    send_invoice.delay(order.id)
    send_invoice.apply_async(args=(order.id,), countdown=5)
    send_invoice.s(order.id).delay()
    return HttpResponse("ok")


def rebuild():
    # not a request handler (a management command helper)
    send_invoice(1)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        how = "called directly"
        target: cst.BaseExpression = func
        if isinstance(func, cst.Attribute) and func.attr.value in ("run", "apply"):
            target = func.value
            how = f"run with `.{func.attr.value}()`"
        name = self._task_name(target)
        if name is None:
            return
        if per_request_function(self.ctx, self.ctx.ancestors, tasks=False) is None:
            return
        self.report(
            node,
            f"the Celery task `{name}` is {how} in a request handler: it runs inline, in the "
            "web process, without the queue's retries and limits",
            help=f"enqueue it: {name}.delay(...) or {name}.apply_async(...)",
        )

    def _task_name(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Name) and expr.value in local_tasks(self.ctx):
            return expr.value
        if isinstance(expr, cst.Name | cst.Attribute):
            found = imported_task(expr, self.ctx)
            if found is not None:
                return found.rsplit(".", 1)[-1]
        return None
