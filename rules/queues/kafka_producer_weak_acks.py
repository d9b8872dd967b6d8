"""BE725 kafka-producer-weak-acks: a Kafka producer that does not wait for replicas."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import string_value
from be_lint.queues import KAFKA_PRODUCER_CLASSES, is_truthy, kafka_client
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
`acks` says when the broker confirms a write. With `acks=0` the producer does not wait at all:
a message sent to a broker that is down or failing over is simply gone, and nobody is told. With
`acks=1` only the partition leader has the message when it confirms; if the leader dies before
the followers copied it, the confirmed message is lost. Both also give up the idempotent
producer, so retries can write duplicates.

The rule reports producers configured with `acks` 0 or 1 (confluent-kafka's `"acks"`/
`"request.required.acks"`, kafka-python's and aiokafka's `acks=`) that do not enable
idempotence. The defaults are not reported (confluent-kafka defaults to `all`; kafka-python and
older aiokafka default to 1 -- set `acks="all"` there explicitly when the data matters).
"""

HOW_TO_FIX = """\
```python
Producer({"bootstrap.servers": servers, "acks": "all", "enable.idempotence": True})
KafkaProducer(bootstrap_servers=servers, acks="all")
AIOKafkaProducer(bootstrap_servers=servers, enable_idempotence=True)
```

Keep `acks=0`/`1` only for data you can afford to lose (metrics, logs), and say so in a
suppression comment.
"""


def _weak(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Integer):
        return expr.value in ("0", "1")
    if isinstance(expr, cst.UnaryOperation):
        return False
    return string_value(expr) in ("0", "1")


class KafkaProducerWeakAcks(PythonRule):
    meta = RuleMeta(
        code="BE725",
        name="kafka-producer-weak-acks",
        summary="Kafka producer with acks=0 or acks=1 and no idempotence",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://kafka.apache.org/documentation/#producerconfigs_acks",
            "https://docs.confluent.io/platform/current/clients/producer.html",
        ),
    )
    triggers = ("acks",)

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return "acks" in text and "kafka" in text

    bad = (
        Example(
            """\
from confluent_kafka import Producer

producer = Producer({"bootstrap.servers": "kafka:9092", "acks": "1"})  # expect: BE725
conf = {"bootstrap.servers": "kafka:9092", "request.required.acks": 0}  # expect: BE725
other = Producer(conf)
"""
        ),
        Example(
            """\
from aiokafka import AIOKafkaProducer
from kafka import KafkaProducer

producer = KafkaProducer(bootstrap_servers="kafka:9092", acks=0)  # expect: BE725
fast = AIOKafkaProducer(bootstrap_servers="kafka:9092", acks=1)  # expect: BE725
"""
        ),
    )
    good = (
        Example(
            """\
from confluent_kafka import Producer
from kafka import KafkaProducer

producer = Producer({"bootstrap.servers": "kafka:9092", "acks": "all"})
default = Producer({"bootstrap.servers": "kafka:9092"})
legacy = KafkaProducer(bootstrap_servers="kafka:9092", acks="all")
safe = Producer({"bootstrap.servers": "kafka:9092", "acks": 1, "enable.idempotence": True})
"""
        ),
        Example(
            """\
from aiokafka import AIOKafkaProducer

producer = AIOKafkaProducer(bootstrap_servers="kafka:9092", enable_idempotence=True)
unknown = AIOKafkaProducer(bootstrap_servers="kafka:9092", acks=settings.ACKS)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        client = kafka_client(node, self.ctx, KAFKA_PRODUCER_CLASSES)
        if client is None:
            return
        settings = client.settings
        idempotence = settings.get("enable.idempotence")
        if idempotence is not None and is_truthy(idempotence[1]):
            return
        if idempotence is None and not client.complete:
            return
        for key in ("acks", "request.required.acks"):
            found = settings.get(key)
            if found is not None and _weak(found[1]):
                code = self.ctx.module.code_for_node(found[1]) if self.ctx.module else "?"
                self.report(
                    found[0],
                    f"producer with acks={code} and no idempotence: a broker failure loses "
                    "messages the producer believes were written",
                    help='use acks="all" with enable.idempotence, or document that losing '
                    "these messages is acceptable",
                )
