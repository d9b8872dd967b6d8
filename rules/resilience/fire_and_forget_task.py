"""BE710 fire-and-forget-task: an asyncio task created and immediately dropped."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import constructed_from
from be_lint.names import callee_last
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
The event loop keeps only a weak reference to the tasks it runs. A task created with
`asyncio.create_task(...)` (or `ensure_future`, or `loop.create_task`) whose result is thrown
away can be garbage-collected before it finishes: the work silently stops half-way, with no
exception anywhere. Even when it survives, nobody awaits it, so an exception it raises is only
reported as "Task exception was never retrieved" when the task is collected, long after the
fact and without the request that caused it, and shutdown cannot wait for it.

The rule reports a task-creating call used as a statement on its own. Tasks created on an
`asyncio.TaskGroup` (`tg.create_task`) are kept by the group and are not reported.
"""

HOW_TO_FIX = """\
Keep a strong reference until the task is done, and look at its result:

```python
background_tasks = set()

task = asyncio.create_task(send_email(user))
background_tasks.add(task)
task.add_done_callback(background_tasks.discard)
```

Better, give the tasks an owner that waits for them: `async with asyncio.TaskGroup() as tg:
tg.create_task(...)`, a framework's background-task facility (FastAPI/Starlette
`BackgroundTasks`), or a job queue for work that must survive the request.
"""

_CREATORS = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.create_task"})
_LOOPS = frozenset(
    {
        "asyncio.get_event_loop",
        "asyncio.get_running_loop",
        "asyncio.new_event_loop",
        "asyncio.events.get_event_loop",
        "asyncio.events.get_running_loop",
    }
)


class FireAndForgetTask(PythonRule):
    meta = RuleMeta(
        code="BE710",
        name="fire-and-forget-task",
        summary="asyncio task created without keeping a reference",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=("https://docs.python.org/3/library/asyncio-task.html#asyncio.create_task",),
    )
    triggers = ("create_task", "ensure_future")
    bad = (
        Example(
            """\
import asyncio


async def signup(user):
    await save(user)
    asyncio.create_task(send_welcome_email(user))  # expect: BE710
    return user
"""
        ),
        Example(
            """\
import asyncio
from asyncio import ensure_future


async def on_message(message):
    loop = asyncio.get_running_loop()
    loop.create_task(audit(message))  # expect: BE710
    ensure_future(index(message))  # expect: BE710
    asyncio.get_event_loop().create_task(ack(message))  # expect: BE710
"""
        ),
    )
    good = (
        Example(
            """\
import asyncio

background_tasks = set()


async def signup(user):
    task = asyncio.create_task(send_welcome_email(user))
    background_tasks.add(task)
    task.add_done_callback(background_tasks.discard)
    result = await asyncio.create_task(check(user))
    return result
"""
        ),
        Example(
            """\
import asyncio


async def crawl(urls):
    async with asyncio.TaskGroup() as tg:
        for url in urls:
            tg.create_task(fetch(url))
"""
        ),
        Example(
            """\
async def schedule(scheduler, job):
    # an unknown object's create_task method
    scheduler.create_task(job)
"""
        ),
    )

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        func = call.func
        last = callee_last(func)
        if last is None or last not in ("create_task", "ensure_future"):
            return
        names = self.ctx.qualified_names(func)
        name = next((n for n in sorted(names) if n in _CREATORS), None)
        if (
            name is None
            and isinstance(func, cst.Attribute)
            and last == "create_task"
            and constructed_from(func.value, self.ctx) & _LOOPS
        ):
            module = self.ctx.module
            written = self.ctx.dotted_name(func)
            if written is None and module is not None:
                written = "".join(module.code_for_node(func).split())
            name = written or "loop.create_task"
        if name is None:
            return
        self.report(
            call,
            f"the task from `{name}` is not kept: it may be garbage-collected before it "
            "finishes, and its errors go unnoticed",
            help="keep a reference (a set plus add_done_callback(set.discard)) or use "
            "asyncio.TaskGroup",
        )
