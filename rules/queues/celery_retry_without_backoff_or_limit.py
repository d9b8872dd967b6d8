"""BE716 celery-retry-without-backoff-or-limit: Celery retries at a fixed pace or forever."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import is_none, keyword_arg, positional_params
from be_lint.queues import (
    CeleryTaskRule,
    TaskDef,
    enclosing_task,
    is_falsy,
    is_truthy,
    literal_dict,
    task_calls_retry,
)
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
A Celery task that retries on failure is how a job survives a flaky dependency. Two settings
decide whether it instead makes the failure worse:

- **No backoff.** `autoretry_for=(...)` without `retry_backoff` and `self.retry()` without a
  `countdown`/`eta` retry after the same fixed delay (`default_retry_delay`, three minutes unless
  changed) every time, with no jitter: when a dependency goes down, every task that failed at
  that moment comes back at the same moment, again and again -- a retry storm aimed at a service
  trying to recover.
- **No limit.** `max_retries=None` retries forever: a task that can never succeed (a deleted
  row, a revoked credential, a bug) stays in the queue for good, taking a worker slot on every
  attempt and hiding the error from whoever should fix it.

The rule checks `autoretry_for` on task decorators and `Task` subclasses, and `self.retry(...)`
calls in bound tasks (`bind=True`) and in `Task.run`. A `countdown=`/`eta=` passed to `retry`, or
a `default_retry_delay` chosen on the task, counts as a deliberate delay for `retry()`;
`max_retries` left at Celery's default (3) is a limit.
"""

HOW_TO_FIX = """\
Let Celery back off exponentially with jitter and keep the attempts bounded:

```python
@shared_task(
    autoretry_for=(ConnectionError,),
    retry_backoff=True,        # 1s, 2s, 4s, ... with jitter (retry_jitter defaults to True)
    retry_backoff_max=600,
    max_retries=8,
)
def sync_order(order_id): ...
```

With manual retries, compute the delay: `raise self.retry(exc=exc, countdown=2 **
self.request.retries + random.random())`.
"""


class CeleryRetryWithoutBackoffOrLimit(CeleryTaskRule):
    meta = RuleMeta(
        code="BE716",
        name="celery-retry-without-backoff-or-limit",
        summary="Celery task retries without backoff or without a retry limit",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=400,
        references=(
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions",
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying",
        ),
        frameworks=("celery",),
    )
    triggers = ("autoretry_for", ".retry(")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        # Only files that retry, not every file defining a task.
        return any(trigger in text for trigger in cls.triggers)

    bad = (
        Example(
            """\
from celery import shared_task


@shared_task(autoretry_for=(ConnectionError,), max_retries=5)  # expect: BE716
def sync_order(order_id):
    push(order_id)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=None)  # expect: BE716
def sync_invoice(invoice_id):
    push(invoice_id)
"""
        ),
        Example(
            """\
from proj.celery import app


@app.task(bind=True)
def notify(self, user_id):
    try:
        deliver(user_id)
    except TimeoutError as exc:
        raise self.retry(exc=exc)  # expect: BE716


@app.task(bind=True, max_retries=None)  # expect: BE716
def charge(task, payment_id):
    try:
        gateway.charge(payment_id)
    except GatewayError as exc:
        raise task.retry(exc=exc, countdown=30)
"""
        ),
        Example(
            """\
import celery


class SyncTask(celery.Task):
    autoretry_for = (IOError,)  # expect: BE716

    def run(self, item_id):
        sync(item_id)


class PushTask(celery.Task):
    def run(self, item_id):
        try:
            push(item_id)
        except IOError as exc:
            raise self.retry(exc=exc, max_retries=None, countdown=10)  # expect: BE716
"""
        ),
    )
    good = (
        Example(
            """\
from celery import shared_task


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def sync_order(order_id):
    push(order_id)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=2, retry_backoff_max=600)
def sync_invoice(invoice_id):
    push(invoice_id)
"""
        ),
        Example(
            """\
import random

from proj.celery import app


@app.task(bind=True, max_retries=5)
def notify(self, user_id):
    try:
        deliver(user_id)
    except TimeoutError as exc:
        raise self.retry(exc=exc, countdown=2 ** self.request.retries + random.random())


@app.task(bind=True, default_retry_delay=2)
def lock_and_update(self, item_id):
    try:
        update_locked(item_id)
    except LockTimeout:
        self.retry()


def helper(client):
    # not a task: some other object's retry method
    client.retry(request)


@app.task(max_retries=None)
def cleanup():
    # unbounded on paper, but the task never retries
    purge()
"""
        ),
        Example(
            """\
import celery


class SyncTask(celery.Task):
    autoretry_for = (IOError,)
    retry_backoff = True

    def run(self, item_id):
        sync(item_id)
"""
        ),
    )

    # -- decorators and classes ------------------------------------------------------------

    def check_task(self, task: TaskDef) -> None:
        node = task.node
        retries_in_body = isinstance(node, cst.FunctionDef) and task_calls_retry(node, task)
        options = task.options
        autoretry = options.get("autoretry_for")
        retry_kwargs = literal_dict(options.get("retry_kwargs"), self.ctx) or {}
        if autoretry is not None and not is_falsy(autoretry) and task.complete:
            backoff = options.get("retry_backoff")
            if not is_truthy(backoff) and backoff is None and "countdown" not in retry_kwargs:
                self.report(
                    self._anchor(task, "autoretry_for"),
                    "`autoretry_for` without `retry_backoff`: every retry comes after the same "
                    "fixed delay, with no backoff or jitter",
                    help="add retry_backoff=True (and retry_backoff_max) to the task options",
                )
                return
        if autoretry is None and not retries_in_body:
            return
        unbounded = options.get("max_retries")
        if "max_retries" in retry_kwargs:
            unbounded = retry_kwargs["max_retries"]
        if is_none(unbounded):
            self.report(
                self._anchor(task, "max_retries"),
                "`max_retries=None`: a task that keeps failing is retried forever",
                help="set a finite max_retries so a persistent failure ends in an error",
            )

    def _anchor(self, task: TaskDef, option: str) -> cst.CSTNode:
        node = task.node
        if isinstance(node, cst.ClassDef):
            for statement in node.body.body:
                if isinstance(statement, cst.SimpleStatementLine):
                    for small in statement.body:
                        if isinstance(small, cst.Assign) and any(
                            isinstance(t.target, cst.Name) and t.target.value == option
                            for t in small.targets
                        ):
                            return small
        anchor = task.anchor
        if isinstance(anchor, cst.Decorator) and isinstance(anchor.decorator, cst.Call):
            arg = keyword_arg(anchor.decorator, option)
            if arg is not None:
                return arg
        return anchor or node

    # -- self.retry(...) -------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "retry":
            return
        receiver = func.value
        if not isinstance(receiver, cst.Name):
            return
        task = self._task_of(receiver.value)
        if task is None:
            return
        if any(arg.star for arg in node.args):
            return
        max_retries = keyword_arg(node, "max_retries")
        if max_retries is not None and is_none(max_retries.value):
            self.report(
                max_retries,
                "`retry(max_retries=None)`: a task that keeps failing is retried forever",
                help="pass a finite max_retries (or leave Celery's default of 3)",
            )
            return
        delay = keyword_arg(node, "countdown") or keyword_arg(node, "eta")
        if delay is None:
            # ``retry(args, kwargs, exc, throw, eta, countdown, ...)`` positionally
            delay_args = [a for a in node.args if a.keyword is None]
            if len(delay_args) >= 5:
                return
            if "default_retry_delay" in task.options and not _is_zero(
                task.options["default_retry_delay"]
            ):
                return  # a delay chosen for this task, like a constant countdown
            self.report(
                node,
                "`retry()` without `countdown`: every retry comes after the same fixed "
                "`default_retry_delay`, with no backoff or jitter",
                help="pass countdown=<exponential delay with jitter>, e.g. "
                "2 ** self.request.retries + random.random()",
            )
        elif _is_zero(delay.value):
            self.report(
                delay,
                "`retry(countdown=0)` retries at once: a failing dependency gets hit again "
                "immediately",
                help="pass an exponential countdown with jitter",
            )

    def _task_of(self, receiver: str) -> TaskDef | None:
        """The task whose ``retry`` ``receiver.retry`` is: a bound task's first parameter,
        ``self`` in a ``Task`` subclass's method, or the task function's own name."""
        task = enclosing_task(self.ctx)
        if task is None:
            return None
        func = task.node
        if isinstance(func, cst.ClassDef):
            return task if receiver == "self" else None
        params = positional_params(func, skip_self=False)
        if (task.bind and params and params[0].name.value == receiver) or (
            func.name.value == receiver
        ):
            return task
        return None


def _is_zero(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Integer) and expr.value.strip("0_") == ""
