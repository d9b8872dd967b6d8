"""BE726 kafka-consumer-auto-commit: offsets committed before the messages are processed."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.names import dotted_name
from be_lint.queues import (
    KAFKA_CONSUMER_CLASSES,
    binding_scope,
    bound_name,
    is_falsy,
    kafka_client,
    method_calls,
    outbound_call,
    state_change,
)
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
Kafka consumers commit offsets automatically by default (`enable.auto.commit`, on in
confluent-kafka, kafka-python and aiokafka alike): every few seconds, in the background, the
position of the messages already *handed to the application* is committed -- whether or not the
application has finished with them. If the process crashes after the commit and before the
processing (a database write, a call to another service) completed, those messages are never
read again.

The rule reports a consumer with auto-commit on (set or left at the default) when the code shows
it cares about when offsets are committed or does work that must not be lost:

- it also calls `commit()` on the consumer -- the manual commit does not stop the background
  ones, so offsets still run ahead of the processing; or
- its message loop (`for msg in consumer`, `consumer.poll()`/`consume()`/`getone()`/
  `getmany()` in a loop) writes to a database, sends HTTP writes, enqueues tasks or produces
  messages.

Consumers whose loop only reads or logs are not reported.
"""

HOW_TO_FIX = """\
Turn auto-commit off and commit after the processing succeeded:

```python
consumer = Consumer({"group.id": "billing", "enable.auto.commit": False, ...})
while True:
    msg = consumer.poll(1.0)
    if msg is None or msg.error():
        continue
    apply_payment(msg.value())
    consumer.commit(message=msg, asynchronous=False)
```

(`KafkaConsumer(..., enable_auto_commit=False)` / `AIOKafkaConsumer(..., enable_auto_commit=
False)` and `consumer.commit()` with kafka-python and aiokafka.) Processing must then be
idempotent: a crash before the commit delivers the message again.
"""

_READS = frozenset({"poll", "consume", "getone", "getmany"})


class KafkaConsumerAutoCommit(PythonRule):
    meta = RuleMeta(
        code="BE726",
        name="kafka-consumer-auto-commit",
        summary="Kafka consumer auto-commits offsets before processing finishes",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://docs.confluent.io/platform/current/clients/consumer.html#offset-management",
            "https://kafka-python.readthedocs.io/en/master/apidoc/KafkaConsumer.html",
        ),
    )
    triggers = ("Consumer",)

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return "Consumer" in text and "kafka" in text

    bad = (
        Example(
            """\
from confluent_kafka import Consumer


def run():
    consumer = Consumer({"bootstrap.servers": "kafka:9092", "group.id": "billing"})  # expect: BE726
    consumer.subscribe(["payments"])
    while True:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        Payment.objects.create(payload=msg.value())
"""
        ),
        Example(
            """\
from kafka import KafkaConsumer


def run():
    consumer = KafkaConsumer("payments", group_id="billing", enable_auto_commit=True)  # expect: BE726
    for message in consumer:
        handle(message)
        consumer.commit()
"""
        ),
        Example(
            """\
from aiokafka import AIOKafkaConsumer


class Worker:
    async def start(self):
        self.consumer = AIOKafkaConsumer("events", group_id="sync")  # expect: BE726
        await self.consumer.start()

    async def loop(self):
        async for message in self.consumer:
            await self.session.execute(insert_event(message.value))
"""
        ),
    )
    good = (
        Example(
            """\
from confluent_kafka import Consumer


def run():
    consumer = Consumer(
        {"bootstrap.servers": "kafka:9092", "group.id": "billing", "enable.auto.commit": False}
    )
    while True:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        Payment.objects.create(payload=msg.value())
        consumer.commit(message=msg)
"""
        ),
        Example(
            """\
from kafka import KafkaConsumer


def tail():
    # reads and prints: nothing is lost that matters
    consumer = KafkaConsumer("logs", group_id="tail")
    for message in consumer:
        print(message.value)


def run(config):
    consumer = KafkaConsumer("payments", **config)
    for message in consumer:
        handle(message)
        consumer.commit()
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        client = kafka_client(node, self.ctx, KAFKA_CONSUMER_CLASSES)
        if client is None:
            return
        setting = client.settings.get("enable.auto.commit")
        if setting is not None and is_falsy(setting[1]):
            return
        if setting is None and not client.complete:
            return
        name = bound_name(self.ctx)
        if name is None:
            return
        scope = binding_scope(self.ctx, name)
        if scope is None:
            return
        reason = self._reason(scope, name)
        if reason is None:
            return
        self.report(
            node,
            f"auto-commit is on{' (the default)' if setting is None else ''} and {reason}: "
            "offsets are committed in the background, before processing finishes, so a "
            "crash loses those messages",
            help="set enable.auto.commit/enable_auto_commit to False and commit after "
            "processing succeeded",
        )

    def _reason(self, scope: cst.CSTNode, name: str) -> str | None:
        reads = False
        for method, _call in method_calls(scope, name):
            if method == "commit":
                return "the consumer also commits manually"
            if method in _READS:
                reads = True
        into = isinstance(scope, cst.ClassDef | cst.Module)
        for loop in descendants(scope, into_scopes=into):
            if not isinstance(loop, cst.For | cst.While):
                continue
            if isinstance(loop, cst.For) and dotted_name(loop.iter) == name:
                pass
            elif not (reads and self._polls(loop, name)):
                continue
            effect = self._effect(loop)
            if effect is not None:
                return f"its message loop does {effect}"
        return None

    @staticmethod
    def _polls(loop: cst.For | cst.While, name: str) -> bool:
        return any(method in _READS for method, _call in method_calls(loop.body, name))

    def _effect(self, loop: cst.For | cst.While) -> str | None:
        for node in descendants(loop.body):
            if isinstance(node, cst.Call):
                found = state_change(node, self.ctx) or outbound_call(node, self.ctx)
                if found is not None:
                    return found
        return None
