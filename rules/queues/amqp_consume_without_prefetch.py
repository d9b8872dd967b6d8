"""BE724 amqp-consume-without-prefetch: a RabbitMQ consumer with an unbounded prefetch."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.queues import AMQP_MODULES, call_name, imports_any, is_falsy
from be_lint.rule import (
    STOP_VISITING,
    Confidence,
    Example,
    FileKind,
    PythonRule,
    RuleMeta,
    Severity,
)

RATIONALE = """\
Without a prefetch limit (QoS), RabbitMQ pushes every ready message in the queue to the first
consumer that connects. One process ends up holding thousands of unacknowledged messages in
memory -- it may run out of it -- while the other consumers sit idle, and when that process dies
all of them are redelivered at once. A prefetch count bounds how many unacknowledged messages
each consumer holds, which spreads the work and bounds the memory.

The rule reports consumers (pika `basic_consume`/`consume`, aio-pika `queue.consume`/
`queue.iterator`, kombu `Consumer`) in files that set no prefetch anywhere (`basic_qos`,
`set_qos`, `qos(...)`, `prefetch_count=`). Consumers with automatic acknowledgement are left to
BE722: the broker ignores the prefetch for them.
"""

HOW_TO_FIX = """\
Set the QoS on the channel before consuming:

```python
channel.basic_qos(prefetch_count=20)             # pika
await channel.set_qos(prefetch_count=20)         # aio-pika
Consumer(conn, queues, prefetch_count=20)        # kombu
```

Pick the count from the handling time: low (1-10) for slow jobs, higher for quick ones.
"""

_QOS = re.compile(r"basic_qos|set_qos|\.qos\(|prefetch_count|prefetch_size")


class AmqpConsumeWithoutPrefetch(PythonRule):
    meta = RuleMeta(
        code="BE724",
        name="amqp-consume-without-prefetch",
        summary="RabbitMQ consumer without a prefetch limit",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=770,
        references=("https://www.rabbitmq.com/docs/consumer-prefetch",),
    )
    triggers = ("consume", "iterator(", "Consumer(")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return (
            any(t in text for t in cls.triggers)
            and any(m in text for m in AMQP_MODULES)
            and not _QOS.search(text)
        )

    bad = (
        Example(
            """\
import pika

channel = pika.BlockingConnection().channel()
channel.basic_consume(queue="orders", on_message_callback=handle)  # expect: BE724
channel.start_consuming()
"""
        ),
        Example(
            """\
import aio_pika


async def main(connection):
    channel = await connection.channel()
    queue = await channel.declare_queue("orders", durable=True)
    await queue.consume(on_message)  # expect: BE724
"""
        ),
        Example(
            """\
from kombu import Consumer


def run(connection, queues):
    with Consumer(connection, queues, callbacks=[handle]):  # expect: BE724
        while True:
            connection.drain_events()
"""
        ),
    )
    good = (
        Example(
            """\
import pika

channel = pika.BlockingConnection().channel()
channel.basic_qos(prefetch_count=10)
channel.basic_consume(queue="orders", on_message_callback=handle)
"""
        ),
        Example(
            """\
import aio_pika


async def main(connection):
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=10)
    queue = await channel.declare_queue("orders", durable=True)
    async with queue.iterator() as messages:
        async for message in messages:
            async with message.process():
                await handle(message)
"""
        ),
        Example(
            """\
import pika

channel = pika.BlockingConnection().channel()
# automatic acknowledgement: BE722's business, prefetch does not apply
channel.basic_consume(queue="logs", on_message_callback=handle, auto_ack=True)


def read(stream):
    # not an AMQP consumer
    return stream.consume(10)
"""
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        if not imports_any(self.ctx, AMQP_MODULES):
            return STOP_VISITING
        if _QOS.search(self.ctx.text):
            return STOP_VISITING
        return None

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        func = node.func
        if name == "basic_consume":
            pass
        elif name in ("consume", "iterator") and isinstance(func, cst.Attribute):
            if not self._amqp_consume(node, func):
                return
        elif name == "Consumer":
            if not (
                self.ctx.matches(func, {"kombu.Consumer", "kombu.messaging.Consumer"})
                or (isinstance(func, cst.Attribute) and imports_any(self.ctx, ("kombu",)))
            ):
                return
        else:
            return
        if any(a.star for a in node.args):
            return  # a wrapper: the caller passes the settings
        for keyword in ("auto_ack", "no_ack"):
            arg = keyword_arg(node, keyword)
            if arg is not None and not is_falsy(arg.value):
                return  # automatic acknowledgement, or decided by the caller
        self.report(
            node,
            "this consumer sets no prefetch limit: the broker pushes it every ready message, "
            "unbounded memory and no work sharing between consumers",
            help="call basic_qos/set_qos(prefetch_count=N) on the channel before consuming",
        )

    def _amqp_consume(self, node: cst.Call, func: cst.Attribute) -> bool:
        """``queue.consume(callback)`` / ``channel.consume("q")`` / ``queue.iterator()`` of an
        AMQP client: a callback or queue name is passed, or the receiver is a declared queue."""
        receiver = func.value
        if isinstance(receiver, cst.Name):
            value = self.ctx.value_of(receiver)
            if isinstance(value, cst.Await):
                value = value.expression
            if isinstance(value, cst.Call) and call_name(value) in (
                "declare_queue",
                "get_queue",
                "channel",
            ):
                return True
            written = receiver.value.lower()
            return "channel" in written or written in ("ch", "chan", "queue", "q")
        return False
