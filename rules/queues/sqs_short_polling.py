"""BE728 sqs-short-polling: SQS receive without long polling."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg, spreads_kwargs
from be_lint.queues import is_falsy, sqs_receive
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
`ReceiveMessage` without `WaitTimeSeconds` is a *short* poll: SQS asks a sample of its servers
and answers at once, often with nothing even when the queue holds messages. A worker polling in
a loop then makes a request (billed) many times a second per worker for empty answers, burns CPU,
and still picks messages up late. Long polling (`WaitTimeSeconds` up to 20) waits on the server
until a message arrives and asks all servers.

The rule reports `receive_message(QueueUrl=...)` (client) and `queue.receive_messages(...)`
(resource) without `WaitTimeSeconds`, or with `WaitTimeSeconds=0`. A queue created with
`ReceiveMessageWaitTimeSeconds` long-polls by default; pass the wait explicitly anyway, so the
code does not depend on how the queue was created.
"""

HOW_TO_FIX = """\
```python
response = sqs.receive_message(
    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=20, VisibilityTimeout=120
)
```
"""


class SqsShortPolling(PythonRule):
    meta = RuleMeta(
        code="BE728",
        name="sqs-short-polling",
        summary="SQS receive without long polling (WaitTimeSeconds)",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html",
        ),
    )
    triggers = ("receive_message",)
    bad = (
        Example(
            """\
import boto3

sqs = boto3.client("sqs")


def poll(url):
    while True:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)  # expect: BE728
        for message in response.get("Messages", []):
            handle(message)


def poll_resource(queue):
    return queue.receive_messages(MaxNumberOfMessages=10, WaitTimeSeconds=0)  # expect: BE728
"""
        ),
    )
    good = (
        Example(
            """\
import boto3

sqs = boto3.client("sqs")


def poll(url):
    response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=20)
    options = {"WaitTimeSeconds": 20}
    more = sqs.receive_message(QueueUrl=url, **options)
    return queue.receive_messages(WaitTimeSeconds=10), response, more


def inbox(mailbox):
    # some other API's receive_message
    return mailbox.receive_message()
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = sqs_receive(node, self.ctx)
        if name is None or spreads_kwargs(node):
            return
        wait = keyword_arg(node, "WaitTimeSeconds")
        if wait is None:
            self.report(
                node,
                f"`{name}` without WaitTimeSeconds short-polls: empty answers, billed "
                "requests in a tight loop, and late pickup",
                help="pass WaitTimeSeconds=20 (long polling)",
            )
        elif is_falsy(wait.value):
            self.report(
                wait,
                "WaitTimeSeconds=0 short-polls: empty answers, billed requests in a tight "
                "loop, and late pickup",
                help="pass WaitTimeSeconds=20 (long polling)",
            )
