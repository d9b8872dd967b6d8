"""BE730 sqs-receive-without-visibility-timeout: SQS receive relying on the queue's default."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg, spreads_kwargs
from be_lint.queues import sqs_receive
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A received SQS message is hidden from other consumers for the *visibility timeout* -- 30 seconds
unless the queue says otherwise. If processing takes longer, the message reappears and a second
worker processes it too, while the first is still busy; if the timeout is much longer than the
processing, a crashed worker's messages wait that long before anyone retries them. The right
value depends on how long *this* consumer's work takes, which the queue's default does not know.

Opt-in: the rule reports `receive_message(QueueUrl=...)` and `queue.receive_messages(...)` calls
that do not pass `VisibilityTimeout`, so the timeout is chosen next to the code that needs it.
"""

HOW_TO_FIX = """\
Pass a timeout a little above the worst-case processing time, and extend it with
`change_message_visibility` for work that may run longer:

```python
sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, VisibilityTimeout=300)
```
"""


class SqsReceiveWithoutVisibilityTimeout(PythonRule):
    meta = RuleMeta(
        code="BE730",
        name="sqs-receive-without-visibility-timeout",
        summary="SQS receive relies on the queue's default visibility timeout",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        enabled_by_default=False,
        references=(
            "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html",
        ),
    )
    triggers = ("receive_message",)
    bad = (
        Example(
            """\
import boto3

sqs = boto3.client("sqs")
response = sqs.receive_message(QueueUrl=URL, WaitTimeSeconds=20)  # expect: BE730
"""
        ),
    )
    good = (
        Example(
            """\
import boto3

sqs = boto3.client("sqs")
response = sqs.receive_message(QueueUrl=URL, WaitTimeSeconds=20, VisibilityTimeout=300)
messages = queue.receive_messages(WaitTimeSeconds=20, VisibilityTimeout=60)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = sqs_receive(node, self.ctx)
        if (
            name is None
            or spreads_kwargs(node)
            or keyword_arg(node, "VisibilityTimeout") is not None
        ):
            return
        self.report(
            node,
            f"`{name}` without VisibilityTimeout: the queue's default (30 s unless set) decides "
            "when a slow or crashed worker's message is handed to another worker",
            help="pass VisibilityTimeout= sized to this consumer's processing time",
        )
