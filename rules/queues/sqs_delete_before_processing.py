"""BE729 sqs-delete-before-processing: an SQS message deleted before it was handled."""

from __future__ import annotations

import libcst as cst

from be_lint.context import FileContext
from be_lint.frameworks import descendants, keyword_arg, logging_call
from be_lint.names import dotted_name
from be_lint.queues import call_name, names_in
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
SQS delivers a message at least once and keeps it until the consumer deletes it: the delete is
the acknowledgement. Deleting first and processing afterwards turns that into "at most once" --
if the processing raises, times out or the worker dies, the message is already gone, with no
retry and no dead-letter queue to look in. A delete in a `finally:` block does the same: it runs
when the processing failed too.

The rule reports, inside a loop over received messages (`response["Messages"]`,
`response.get("Messages")`, `queue.receive_messages(...)`), a `delete_message`/
`delete_message_batch` call (or `message.delete()`) that is followed by further processing in
the same block, or that sits in a `finally:` block. A function that receives one message
(`receive_message(...)["Messages"][0]`) and deletes it before processing is reported the same
way.
"""

HOW_TO_FIX = """\
Delete only after the processing succeeded; on failure leave the message alone (it becomes
visible again after the visibility timeout, and goes to the dead-letter queue after
`maxReceiveCount` attempts):

```python
for message in response.get("Messages", []):
    try:
        handle(json.loads(message["Body"]))
    except Exception:
        log.exception("message failed; SQS will redeliver it")
        continue
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
```
"""


def _messages(expr: cst.BaseExpression, ctx: FileContext, depth: int = 0) -> bool:
    """``response["Messages"]``, ``response.get("Messages", [])``, ``queue.receive_messages()``
    or a name holding one of these."""
    if isinstance(expr, cst.Subscript):
        return any(
            isinstance(e.slice, cst.Index)
            and isinstance(e.slice.value, cst.SimpleString)
            and e.slice.value.evaluated_value == "Messages"
            for e in expr.slice
        )
    if isinstance(expr, cst.Call):
        name = call_name(expr)
        if name == "receive_messages":
            return True
        if name == "get" and expr.args:
            first = expr.args[0].value
            return isinstance(first, cst.SimpleString) and first.evaluated_value == "Messages"
        return False
    if isinstance(expr, cst.BooleanOperation):
        return _messages(expr.left, ctx, depth) or _messages(expr.right, ctx, depth)
    if isinstance(expr, cst.Name) and depth < 3:
        value = ctx.value_of(expr)
        return value is not None and _messages(value, ctx, depth + 1)
    return False


def _receives(func: cst.FunctionDef) -> bool:
    return any(
        isinstance(node, cst.Call) and call_name(node) == "receive_message"
        for node in descendants(func.body)
    )


class SqsDeleteBeforeProcessing(PythonRule):
    meta = RuleMeta(
        code="BE729",
        name="sqs-delete-before-processing",
        summary="SQS message deleted before its processing succeeded",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html",
        ),
    )
    triggers = ("delete_message", ".delete(")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return super().may_match(text, kind) and ("Messages" in text or "receive_messages" in text)

    bad = (
        Example(
            """\
import json

import boto3

sqs = boto3.client("sqs")


def poll(url):
    response = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    for message in response.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # expect: BE729
        handle(json.loads(message["Body"]))


def poll_resource(queue):
    for message in queue.receive_messages(WaitTimeSeconds=20):
        try:
            handle(message.body)
        finally:
            message.delete()  # expect: BE729
"""
        ),
    )
    good = (
        Example(
            """\
import json

import boto3

sqs = boto3.client("sqs")


def poll(url):
    response = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    for message in response.get("Messages", []):
        try:
            handle(json.loads(message["Body"]))
        except Exception:
            log.exception("failed")
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        log.info("deleted %s", message["MessageId"])
        processed += 1


def cleanup(rows):
    for row in rows:
        row.delete()
        audit(row)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        if name in ("delete_message", "delete_message_batch"):
            if keyword_arg(node, "ReceiptHandle") is None and keyword_arg(node, "Entries") is None:
                return
            loop = self._message_loop(receiver=None)
        elif name == "delete" and not node.args and isinstance(func.value, cst.Name):
            loop = self._message_loop(receiver=func.value.value)
        else:
            return
        if loop is None:
            return
        # Outside a loop over messages, only work on the deleted message itself counts.
        subject: frozenset[str] | None = None
        if isinstance(loop, cst.FunctionDef):
            handle = keyword_arg(node, "ReceiptHandle") or keyword_arg(node, "Entries")
            assert handle is not None
            subject = frozenset(names_in(handle.value))
        # Walk up from the call to the loop: a ``finally`` on the way, or a later statement in
        # any enclosing block that still processes, means the delete comes first.
        ancestors = self.ctx.ancestors
        start = next(i for i, a in enumerate(ancestors) if a is loop)
        path = [*ancestors[start + 1 :], node]
        for index in range(len(path) - 1, 0, -1):
            holder, child = path[index - 1], path[index]
            if isinstance(holder, cst.Finally):
                self.report(
                    node,
                    "the message is deleted in `finally:`, also when its processing failed: "
                    "a failed message is lost instead of redelivered",
                    help="delete only after the processing succeeded",
                )
                return
            if isinstance(holder, cst.IndentedBlock):
                later = holder.body[holder.body.index(child) + 1 :] if child in holder.body else []
                if any(self._processes(statement, subject) for statement in later):
                    self.report(
                        node,
                        "the message is deleted before it is processed: if the processing "
                        "fails, the message is already gone",
                        help="delete after the processing succeeded",
                    )
                    return
            if holder is loop.body:
                break

    def _message_loop(self, receiver: str | None) -> cst.For | cst.FunctionDef | None:
        """The loop over received messages holding the delete; for a client delete outside
        such a loop, the function that receives the message itself (``receive_message`` then
        ``Messages[0]``)."""
        for ancestor in reversed(self.ctx.ancestors):
            if isinstance(ancestor, cst.FunctionDef):
                if receiver is None and _receives(ancestor):
                    return ancestor
                return None
            if isinstance(ancestor, cst.Lambda | cst.ClassDef):
                return None
            if isinstance(ancestor, cst.For) and _messages(ancestor.iter, self.ctx):
                if receiver is None:
                    return ancestor
                target = ancestor.target
                return (
                    ancestor if isinstance(target, cst.Name) and target.value == receiver else None
                )
        return None

    def _processes(self, statement: cst.CSTNode, subject: frozenset[str] | None) -> bool:
        """A statement that calls something other than logging, ``print`` or another delete
        (with an argument naming one of ``subject``, when given)."""
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, cst.Continue | cst.Break | cst.Pass) for s in statement.body
        ):
            return False
        for node in descendants(statement):
            if not isinstance(node, cst.Call):
                continue
            name = call_name(node)
            if name.startswith("delete") or name in ("print", "append", "add", "len"):
                continue
            if logging_call(node, self.ctx) is not None:
                continue
            written = dotted_name(node.func) or ""
            if written.startswith(("metrics.", "statsd.", "stats.")):
                continue
            if subject is not None and not any(names_in(arg.value) & subject for arg in node.args):
                continue
            return True
        return False
