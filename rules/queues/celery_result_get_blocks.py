"""BE719 celery-result-get-blocks: waiting for a task result inside a task or a request."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import per_request_function
from be_lint.queues import async_result, enclosing_task
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
`AsyncResult.get()` blocks until another worker has run the task. Inside a task this takes a
worker slot to wait for work that needs a free worker slot: with all workers waiting on their
sub-tasks, nobody runs them and the pool deadlocks (Celery refuses it at run time with
`RuntimeError: Never call result.get() within a task!` unless `disable_sync_subtasks=False`
hides the problem). Inside a request handler it holds the web worker -- and the user -- for as
long as the queue is backed up, turning a queue delay into request timeouts.

The rule reports `.get()` (and `.wait()`) on a result of `.delay()`, `.apply_async()`,
`send_task()` or `AsyncResult(...)`, directly or through a variable, inside a Celery task
(error) or a request handler (warning). Scripts and tests that wait deliberately are not
reported.
"""

HOW_TO_FIX = """\
Inside tasks, chain the work instead of waiting for it: `chain(fetch.s(id), store.s())`,
`chord(parts, combine.s())`, or a callback with `link=`. In request handlers, enqueue and return
at once (`202 Accepted` with the task id), and let the client poll a status endpoint or receive a
notification.
"""


class CeleryResultGetBlocks(PythonRule):
    meta = RuleMeta(
        code="BE719",
        name="celery-result-get-blocks",
        summary="Waiting for a Celery result inside a task or request handler",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=833,
        references=(
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#avoid-launching-synchronous-subtasks",
        ),
        frameworks=("celery",),
    )
    triggers = (".get(", ".wait(")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        # ``.get()`` is everywhere; a Celery result must be made in the file too.
        return super().may_match(text, kind) and any(
            t in text for t in ("delay(", "apply_async(", "AsyncResult", "send_task(")
        )

    bad = (
        Example(
            """\
from celery import shared_task


@shared_task
def build_report(account_id):
    totals = compute_totals.delay(account_id).get()  # expect: BE719
    result = render.apply_async(args=(account_id, totals))
    return result.get(timeout=60)  # expect: BE719
"""
        ),
        Example(
            """\
from celery.result import AsyncResult
from django.http import JsonResponse


def export_status(request, task_id):
    result = AsyncResult(task_id)
    return JsonResponse({"rows": result.get()})  # expect: BE719


def export(request):
    job = export_task.delay(request.user.id)
    job.wait()  # expect: BE719
    return JsonResponse({"ok": True})
"""
        ),
    )
    good = (
        Example(
            """\
from celery import chain, shared_task
from celery.result import AsyncResult
from django.http import JsonResponse


@shared_task
def build_report(account_id):
    chain(compute_totals.s(account_id), render.s()).delay()
    return settings.get("x")


def export_status(request, task_id):
    result = AsyncResult(task_id)
    if result.ready():
        return JsonResponse({"rows": result.result})
    return JsonResponse({"state": result.state}, status=202)
"""
        ),
        Example(
            """\
def main():
    # a command-line script may wait
    print(compute_totals.delay(1).get(timeout=30))


def test_compute_totals():
    assert compute_totals.delay(1).get() == 3
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in ("get", "wait"):
            return
        source = async_result(func.value, self.ctx)
        if source is None:
            return
        method = func.attr.value
        if enclosing_task(self.ctx) is not None:
            self.report(
                node,
                f"`.{method}()` on the result of {source} inside a task: a worker waits for "
                "another worker, and a busy pool deadlocks",
                help="chain the tasks (chain, chord, link=) instead of waiting",
            )
        elif per_request_function(self.ctx, self.ctx.ancestors, tasks=False) is not None:
            self.report(
                node,
                f"`.{method}()` on the result of {source} in a request handler blocks the "
                "request until a worker has run the task",
                help="return the task id (202 Accepted) and let the client poll for the result",
                severity=Severity.WARNING,
            )
