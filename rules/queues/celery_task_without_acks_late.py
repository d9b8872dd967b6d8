"""BE717 celery-task-without-acks-late: a state-changing task acknowledged before it runs."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.queues import CeleryTaskRule, TaskDef, app_setting, state_change
from be_lint.rule import STOP_VISITING, Confidence, Example, RuleMeta, Severity, option

RATIONALE = """\
By default a Celery worker acknowledges a message when it *starts* the task. If the worker then
dies -- OOM kill, deploy, lost node -- the broker has already forgotten the message and the task
is never run again: the order is never charged, the row never written, and nothing records it.
With `acks_late=True` the message is acknowledged after the task returns, so a task that did not
finish is delivered again to another worker.

Late acknowledgement means a task may run twice, so it suits tasks that are idempotent; the
rule reports tasks that change state (ORM writes, `execute`/`commit`, HTTP POST/PUT/PATCH/DELETE)
and declare neither `acks_late` on the task nor `task_acks_late` in the same file. It is opt-in
because the app-wide setting usually lives in another file (set the `app-acks-late` option when
it does).
"""

HOW_TO_FIX = """\
Acknowledge after the work is done, and make the task safe to run twice:

```python
@shared_task(acks_late=True, reject_on_worker_lost=True)
def settle(payment_id):
    ...
```

or set `task_acks_late = True` (`CELERY_TASK_ACKS_LATE = True` with Django settings) for the
whole app. An explicit `acks_late=False` is taken as a decision and not reported.
"""


@dataclass(frozen=True)
class AcksLateOptions:
    app_acks_late: bool = option(
        False, "The app sets task_acks_late=True elsewhere: report nothing."
    )


class CeleryTaskWithoutAcksLate(CeleryTaskRule):
    meta = RuleMeta(
        code="BE717",
        name="celery-task-without-acks-late",
        summary="State-changing Celery task is acknowledged before it runs",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        enabled_by_default=False,
        references=(
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late",
            "https://docs.celeryq.dev/en/stable/faq.html#faq-acks-late-vs-retry",
        ),
        frameworks=("celery",),
    )
    options_class = AcksLateOptions

    bad = (
        Example(
            """\
import requests
from celery import shared_task


@shared_task  # expect: BE717
def settle(payment_id):
    payment = Payment.objects.get(pk=payment_id)
    payment.status = "settled"
    payment.save()


@shared_task(max_retries=3)  # expect: BE717
def notify(url, payload):
    requests.post(url, json=payload, timeout=10)
"""
        ),
        Example(
            """\
import celery


class Sync(celery.Task):  # expect: BE717
    def run(self, rows):
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO t VALUES (%s)", rows)
"""
        ),
    )
    good = (
        Example(
            """\
import requests
from celery import shared_task


@shared_task(acks_late=True)
def settle(payment_id):
    Payment.objects.filter(pk=payment_id).update(status="settled")


@shared_task(acks_late=False)
def notify(url, payload):
    requests.post(url, json=payload, timeout=10)


@shared_task
def render(report_id):
    # reads only
    return Report.objects.get(pk=report_id).render()
"""
        ),
        Example(
            """\
from celery import Celery

app = Celery("proj")
app.conf.update(task_acks_late=True)


@app.task
def settle(payment_id):
    Payment.objects.get(pk=payment_id).save()
"""
        ),
        Example(
            """\
from celery import shared_task


@shared_task
def settle(payment_id):
    Payment.objects.get(pk=payment_id).save()
""",
            options={"app-acks-late": True},
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        options: AcksLateOptions = self.options
        setting = app_setting(self.ctx, "task_acks_late")
        if options.app_acks_late or (setting is not None and setting not in ("False", "false")):
            return STOP_VISITING
        return None

    def check_task(self, task: TaskDef) -> None:
        if "acks_late" in task.options or not task.complete:
            return
        body = task.node
        for inner in descendants(body, into_scopes=isinstance(body, cst.ClassDef)):
            if isinstance(inner, cst.Call):
                change = state_change(inner, self.ctx)
                if change is not None:
                    self.report(
                        task.anchor or task.node,
                        f"this task changes state ({change}) but is acknowledged when it "
                        "starts: a worker crash mid-task loses it",
                        help="set acks_late=True (and make the task idempotent), or "
                        "task_acks_late for the app",
                    )
                    return
