"""Celery tasks in the project index: which module-level functions are tasks.

A view that calls ``send_invoice(order.id)`` imported ``from .tasks`` runs the task inline; to
know that, the rule needs to know that ``send_invoice`` is decorated as a task in the other
module. Files whose text shows a task decorator (``@shared_task``, ``@<app>.task``) are read with
``ast`` in the index's first pass and contribute the qualified names of their tasks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from be_lint.index.syntax import dotted

#: Text that a module defining Celery tasks contains.
TASK_TEXT = re.compile(r"@\s*(?:[\w.]+\.)?(?:shared_task|task)\b|def (?:apply_async|delay)\b")
_TASK_BYTES = re.compile(TASK_TEXT.pattern.encode())
#: Task queues whose decorators are spelled like Celery's but are not Celery.
_OTHER_QUEUES = re.compile(
    r"^\s*(?:from|import)\s+(?:huey|dramatiq|faust|taskiq|procrastinate)\b", re.MULTILINE
)


def may_define_tasks(data: bytes | str) -> bool:
    """The cheap textual test: can this file define Celery tasks?"""
    if isinstance(data, bytes):
        return _TASK_BYTES.search(data) is not None
    return TASK_TEXT.search(data) is not None


def task_facts(
    body: Sequence[ast.stmt], module: str, text: str, resolve: Callable[[str], tuple[str, ...]]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(qualified name, base class candidates)`` of the module-level Celery tasks.

    The base candidates are the qualified names ``base=`` may stand for (empty without one).
    """
    other = _OTHER_QUEUES.search(text) is not None and "celery" not in text
    out = []
    for node in _functions(body):
        for decorator in node.decorator_list:
            if not _is_task_decorator(decorator, other):
                continue
            base: tuple[str, ...] = ()
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    written = dotted(keyword.value) if keyword.arg == "base" else None
                    if written is not None:
                        base = resolve(written)
            out.append((f"{module}.{node.name}", base))
            break
    return tuple(sorted(out))


def deferring_classes(body: Sequence[ast.stmt], module: str) -> tuple[str, ...]:
    """Classes whose ``apply_async``/``delay`` registers the call with ``on_commit``.

    A task with such a ``base=`` is only enqueued once the transaction commits (pretix's
    ``TransactionAwareTask``), so sending it inside a transaction is safe.
    """
    out = []
    for node in body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if (
                isinstance(item, ast.FunctionDef)
                and item.name in ("apply_async", "delay")
                and any(
                    isinstance(call, ast.Call)
                    and (
                        (isinstance(call.func, ast.Attribute) and call.func.attr == "on_commit")
                        or (isinstance(call.func, ast.Name) and call.func.id == "on_commit")
                    )
                    for call in ast.walk(item)
                )
            ):
                out.append(f"{module}.{node.name}")
                break
    return tuple(out)


def deferred_tasks(
    tasks: Iterable[tuple[str, tuple[str, ...]]], deferring: Iterable[str]
) -> frozenset[str]:
    """The tasks whose base class defers enqueueing to the commit."""
    classes = set(deferring)
    names = {c.rsplit(".", 1)[-1] for c in classes}
    out = set()
    for task, bases in tasks:
        for base in bases:
            if base in classes or (
                base.rsplit(".", 1)[-1] in names
                and any(c.endswith("." + base) or base.endswith("." + c) for c in classes)
            ):
                out.add(task)
    return frozenset(out)


def _functions(body: Iterable[ast.stmt]) -> Iterator[ast.FunctionDef]:
    """Module-level ``def`` functions (Celery cannot run ``async def`` ones)."""
    stack = list(body)[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef):
            yield node
        elif isinstance(node, ast.If | ast.Try):
            inner = [*node.body, *node.orelse]
            if isinstance(node, ast.Try):
                inner += [s for h in node.handlers for s in h.body] + node.finalbody
            stack.extend(reversed(inner))


def _is_task_decorator(decorator: ast.expr, other_queue: bool) -> bool:
    callee = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(callee, ast.Name):
        return callee.id == "shared_task"
    if isinstance(callee, ast.Attribute):
        if callee.attr == "shared_task":
            return True
        return callee.attr == "task" and not other_queue
    return False
