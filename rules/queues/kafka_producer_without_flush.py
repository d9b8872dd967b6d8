"""BE727 kafka-producer-without-flush: a short-lived producer that exits with messages queued."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.names import dotted_name
from be_lint.queues import KAFKA_PRODUCER_CLASSES, bound_name, kafka_client
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
Kafka producers are asynchronous: `produce()`/`send()` only put the message in a local buffer,
and a background thread sends it later, in batches. A function or script that creates a
producer, produces, and returns without `flush()` (or `close()`, which flushes, or aiokafka's
`stop()`) drops whatever is still buffered when the process exits or the producer is garbage
collected -- typically the last messages, silently, with delivery callbacks never called.

The rule reports a producer created in a function (or at module level in a script) that sends
messages there and is never flushed, closed or stopped in that scope, and does not escape it
(returned, stored on an object, passed to another function, used as a context manager).
Long-lived producers kept at module level and used from functions are not reported.
"""

HOW_TO_FIX = """\
```python
producer = Producer(conf)
for event in events:
    producer.produce("events", value=event)
producer.flush(10)  # wait up to 10 s for delivery; returns how many are still queued
```

Better, create one producer per process and flush it on shutdown.
"""

_SENDS = frozenset({"produce", "send", "send_batch", "produce_batch"})
_ENDS = frozenset({"flush", "close", "stop", "purge"})


class KafkaProducerWithoutFlush(PythonRule):
    meta = RuleMeta(
        code="BE727",
        name="kafka-producer-without-flush",
        summary="Short-lived Kafka producer is never flushed",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.confluent.io/platform/current/clients/confluent-kafka-python/html/index.html#confluent_kafka.Producer.flush",
            "https://kafka-python.readthedocs.io/en/master/apidoc/KafkaProducer.html",
        ),
    )
    triggers = ("Producer",)

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return "Producer" in text and "kafka" in text

    bad = (
        Example(
            """\
from confluent_kafka import Producer


def publish_all(events):
    producer = Producer({"bootstrap.servers": "kafka:9092"})  # expect: BE727
    for event in events:
        producer.produce("events", value=event)
"""
        ),
        Example(
            """\
from kafka import KafkaProducer

producer = KafkaProducer(bootstrap_servers="kafka:9092")  # expect: BE727
for line in open("events.jsonl"):
    producer.send("events", line.encode())
"""
        ),
    )
    good = (
        Example(
            """\
from confluent_kafka import Producer
from kafka import KafkaProducer


def publish_all(events):
    producer = Producer({"bootstrap.servers": "kafka:9092"})
    for event in events:
        producer.produce("events", value=event)
    producer.flush()


def make_producer():
    producer = KafkaProducer(bootstrap_servers="kafka:9092")
    producer.send("boot", b"hello")
    return producer


def publish_with(events):
    producer = KafkaProducer(bootstrap_servers="kafka:9092")
    try:
        for event in events:
            producer.send("events", event)
    finally:
        producer.close()
"""
        ),
        Example(
            """\
from confluent_kafka import Producer

# a long-lived producer shared by the app's functions
producer = Producer({"bootstrap.servers": "kafka:9092"})


def publish(event):
    producer.produce("events", value=event)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if kafka_client(node, self.ctx, KAFKA_PRODUCER_CLASSES) is None:
            return
        name = bound_name(self.ctx)
        if name is None or "." in name:
            return
        func = self.ctx.enclosing(cst.FunctionDef)
        scope: cst.CSTNode | None = func if func is not None else self.ctx.module
        if scope is None:
            return
        if self._unflushed(scope, name, module=func is None):
            self.report(
                node,
                f"`{name}` produces messages but is never flushed or closed here: messages "
                "still buffered when it goes away are lost",
                help=f"call {name}.flush() (or close()) before returning",
            )

    @staticmethod
    def _unflushed(scope: cst.CSTNode, name: str, *, module: bool) -> bool:
        # Flushes and escapes count anywhere (at module level, functions may flush at exit);
        # sends only in the scope's own code (a module producer used by functions lives long).
        for node in descendants(scope, into_scopes=module):
            if isinstance(node, cst.Call):
                func = node.func
                if isinstance(func, cst.Attribute) and dotted_name(func.value) == name:
                    if func.attr.value in _ENDS:
                        return False
                    continue
                # passed to another function: someone else may flush it
                if any(_mentions(a.value, name) for a in node.args):
                    return False
            elif isinstance(node, cst.Return | cst.Yield) and node.value is not None:
                value = node.value
                if isinstance(value, cst.From):
                    value = value.item
                if _mentions(value, name):
                    return False
            elif isinstance(node, cst.Assign | cst.AnnAssign) and node.value is not None:
                if _mentions(node.value, name):
                    return False
            elif (isinstance(node, cst.WithItem) and dotted_name(node.item) == name) or isinstance(
                node, cst.Global | cst.Nonlocal
            ):
                return False
        return any(
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _SENDS
            and dotted_name(node.func.value) == name
            for node in descendants(scope)
        )


def _mentions(expr: cst.BaseExpression, name: str) -> bool:
    """``name`` itself, or inside a container / call argument of ``expr`` (not ``name.x``)."""
    if isinstance(expr, cst.Name):
        return expr.value == name
    return any(
        isinstance(n, cst.Name) and n.value == name
        for n in descendants(expr)
        if not isinstance(n, cst.Attribute)
    ) and not (isinstance(expr, cst.Call) and _only_receiver(expr, name))


def _only_receiver(call: cst.Call, name: str) -> bool:
    """``name.method(...)`` whose arguments do not mention ``name``."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and dotted_name(func.value) == name
        and not any(_mentions(a.value, name) for a in call.args)
    )
