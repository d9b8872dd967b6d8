"""BE721 celery-task-without-time-limit: a task that may run (and hold a worker) forever."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.queues import CeleryTaskRule, TaskDef, app_setting
from be_lint.rule import STOP_VISITING, Confidence, Example, RuleMeta, Severity, option

RATIONALE = """\
Celery sets no time limit by default. A task stuck on a socket without a timeout, a lock, or an
endless loop keeps its worker process forever; a few of them and the queue stops draining while
every worker looks busy. `soft_time_limit` raises `SoftTimeLimitExceeded` inside the task so it
can clean up; `time_limit` kills the process when even that did not help.

The rule reports task definitions with neither option, unless the same file sets
`task_time_limit`/`task_soft_time_limit` for the app. It is opt-in: the app-wide limits usually
live in another file (set the `app-time-limit` option when they do).
"""

HOW_TO_FIX = """\
```python
@shared_task(soft_time_limit=60, time_limit=90)
def export(report_id): ...
```

or set `task_soft_time_limit`/`task_time_limit` for the whole app and override them on the long
tasks.
"""


@dataclass(frozen=True)
class TimeLimitOptions:
    app_time_limit: bool = option(
        False, "The app sets task_time_limit or task_soft_time_limit elsewhere: report nothing."
    )


class CeleryTaskWithoutTimeLimit(CeleryTaskRule):
    meta = RuleMeta(
        code="BE721",
        name="celery-task-without-time-limit",
        summary="Celery task has no time limit",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        cwe=400,
        enabled_by_default=False,
        references=("https://docs.celeryq.dev/en/stable/userguide/workers.html#time-limits",),
        frameworks=("celery",),
    )
    options_class = TimeLimitOptions

    bad = (
        Example(
            """\
from celery import shared_task


@shared_task(max_retries=3)  # expect: BE721
def export(report_id):
    build(report_id)
"""
        ),
        Example(
            """\
from celery import Task


class Export(Task):  # expect: BE721
    def run(self, report_id):
        build(report_id)
"""
        ),
    )
    good = (
        Example(
            """\
from celery import shared_task


@shared_task(soft_time_limit=60, time_limit=90)
def export(report_id):
    build(report_id)


@shared_task(**TASK_DEFAULTS)
def archive(report_id):
    build(report_id)


@shared_task
def render(report_id):
    build(report_id)


def schedule(report_id, seconds):
    render.apply_async(args=(report_id,), soft_time_limit=seconds)
"""
        ),
        Example(
            """\
from celery import Celery

app = Celery("proj")
app.conf.task_soft_time_limit = 300


@app.task
def export(report_id):
    build(report_id)
"""
        ),
        Example(
            """\
from celery import shared_task


@shared_task
def export(report_id):
    build(report_id)
""",
            options={"app-time-limit": True},
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        options: TimeLimitOptions = self.options
        if (
            options.app_time_limit
            or app_setting(self.ctx, "task_time_limit") is not None
            or app_setting(self.ctx, "task_soft_time_limit") is not None
        ):
            return STOP_VISITING
        return None

    def check_task(self, task: TaskDef) -> None:
        if not task.complete or {"time_limit", "soft_time_limit"} & set(task.options):
            return
        if self._limited_per_call(task.node.name.value):
            return
        self.report(
            task.anchor or task.node,
            "this task has no time limit: if it hangs it holds a worker forever",
            help="pass soft_time_limit= and time_limit= (or set the app-wide task_*_time_limit)",
        )

    def _limited_per_call(self, name: str) -> bool:
        """``name.apply_async(..., time_limit=...)`` (or with ``**options``) in this file: the
        limits are chosen where the task is sent."""
        module = self.ctx.module
        if module is None or f"{name}.apply_async" not in self.ctx.text:
            return False
        for node in descendants(module, into_scopes=True):
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "apply_async"
                and isinstance(node.func.value, cst.Name)
                and node.func.value.value == name
                and any(
                    a.star == "**"
                    or (a.keyword is not None and a.keyword.value.endswith("time_limit"))
                    for a in node.args
                )
            ):
                return True
        return False
