"""BE722 amqp-consumer-auto-ack: RabbitMQ messages acknowledged before they are processed."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.queues import AMQP_MODULES, call_name, imports_any, is_truthy
from be_lint.rule import STOP_VISITING, Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
With automatic acknowledgement the broker deletes a message as soon as it has *sent* it to the
consumer. If the consumer crashes, is killed during a deploy, or raises while handling the
message, the message is gone: nothing redelivers it. Under load it is worse, since the broker
pushes messages as fast as it can and every one buffered in the dying process is lost too.

The rule reports consumers started with `auto_ack=True` (pika 1.x `basic_consume`, `consume`,
`basic_get`) or `no_ack=True` (pika 0.x, aio-pika `queue.consume`/`queue.iterator`/`queue.get`,
kombu `Consumer`/`Queue`/`SimpleQueue`), in files that import an AMQP client.
"""

HOW_TO_FIX = """\
Acknowledge after the work is done, and reject (or let the broker redeliver) when it fails:

```python
def on_message(channel, method, properties, body):
    handle(body)
    channel.basic_ack(delivery_tag=method.delivery_tag)

channel.basic_qos(prefetch_count=10)
channel.basic_consume(queue="orders", on_message_callback=on_message)
```

With aio-pika, `async with message.process():` acknowledges on success and rejects on error.
"""

_CONSUMERS = frozenset(
    {
        "basic_consume",
        "consume",
        "basic_get",
        "iterator",
        "get",
        "Consumer",
        "Queue",
        "SimpleQueue",
        "SimpleBuffer",
    }
)


class AmqpConsumerAutoAck(PythonRule):
    meta = RuleMeta(
        code="BE722",
        name="amqp-consumer-auto-ack",
        summary="RabbitMQ consumer acknowledges messages before processing them",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://www.rabbitmq.com/docs/confirms#acknowledgement-modes",
            "https://pika.readthedocs.io/en/stable/modules/channel.html",
            "https://docs.aio-pika.readthedocs.io/en/latest/apidoc.html",
        ),
    )
    triggers = ("auto_ack", "no_ack")
    bad = (
        Example(
            """\
import pika

channel = pika.BlockingConnection().channel()
channel.basic_consume(queue="orders", on_message_callback=handle, auto_ack=True)  # expect: BE722
for method, properties, body in channel.consume("events", auto_ack=True):  # expect: BE722
    handle(body)
"""
        ),
        Example(
            """\
import aio_pika


async def main(channel):
    queue = await channel.declare_queue("orders", durable=True)
    await queue.consume(on_message, no_ack=True)  # expect: BE722
    async with queue.iterator(no_ack=True) as messages:  # expect: BE722
        async for message in messages:
            await handle(message)
"""
        ),
        Example(
            """\
from kombu import Consumer, Queue


def start(connection):
    queue = Queue("orders")
    with Consumer(connection, queues=[queue], callbacks=[handle], no_ack=True):  # expect: BE722
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
channel.basic_consume(queue="audit", on_message_callback=handle, auto_ack=False)
"""
        ),
        Example(
            """\
import aio_pika


async def main(channel):
    queue = await channel.declare_queue("orders", durable=True)
    async with queue.iterator() as messages:
        async for message in messages:
            async with message.process():
                await handle(message)
"""
        ),
        Example(
            """\
# not an AMQP client
def fetch(api):
    return api.consume("stream", no_ack=True)
"""
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        if not imports_any(self.ctx, AMQP_MODULES):
            return STOP_VISITING
        return None

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        if name not in _CONSUMERS:
            return
        for keyword in ("auto_ack", "no_ack"):
            arg = keyword_arg(node, keyword)
            if arg is not None and is_truthy(arg.value):
                self.report(
                    arg,
                    f"`{keyword}=True`: the broker forgets each message once it is delivered, "
                    "so a crash or error while handling it loses the message",
                    help="acknowledge after processing (basic_ack / message.ack() / "
                    "`async with message.process()`)",
                )
