"""BE723 amqp-publish-not-persistent: transient messages published next to a durable queue."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import (
    descendants,
    keyword_arg,
    positional_args,
    spreads_kwargs,
    string_value,
)
from be_lint.queues import AMQP_MODULES, call_name, imports_any, is_falsy
from be_lint.rule import STOP_VISITING, Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A durable queue survives a broker restart; the messages in it survive only if they were
published as *persistent*. Pika's `basic_publish` and aio-pika's `Message` default to transient
delivery: the queue comes back after a restart or a failover, empty. The declaration says "this
data matters"; the publish quietly says the opposite.

The rule reports, in files that declare a durable queue (`queue_declare(..., durable=True)`,
`declare_queue(..., durable=True)`, a kombu `Queue` -- durable by default), pika
`basic_publish` calls without `properties` or whose `BasicProperties` lack `delivery_mode=2`
(`pika.DeliveryMode.Persistent`), aio-pika `Message(...)` publishes without
`delivery_mode=DeliveryMode.PERSISTENT`, and kombu publishes with `delivery_mode` 1 or
`"transient"` (kombu's default is persistent).
"""

HOW_TO_FIX = """\
```python
channel.basic_publish(
    exchange="", routing_key="orders", body=body,
    properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
)
await exchange.publish(
    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key="orders"
)
```

Persistence alone does not guarantee delivery: use publisher confirms
(`channel.confirm_delivery()`) too.
"""

_PERSISTENT_TEXT = ("2", "PERSISTENT", "Persistent", "persistent", "PERSISTENT_DELIVERY_MODE")


def _persistent(expr: cst.BaseExpression) -> bool | None:
    """True/False for a recognisable delivery mode, None when unknown (a variable)."""
    if isinstance(expr, cst.Integer):
        return expr.value == "2"
    text = string_value(expr)
    if text is not None:
        return text == "persistent"
    if isinstance(expr, cst.Attribute):
        return expr.attr.value in _PERSISTENT_TEXT
    if isinstance(expr, cst.Name) and expr.value in _PERSISTENT_TEXT:
        return True
    return None


class AmqpPublishNotPersistent(PythonRule):
    meta = RuleMeta(
        code="BE723",
        name="amqp-publish-not-persistent",
        summary="Message published as transient to a durable RabbitMQ queue",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://www.rabbitmq.com/docs/queues#durability",
            "https://www.rabbitmq.com/docs/persistence-conf",
        ),
    )
    triggers = ("durable", "kombu")
    bad = (
        Example(
            """\
import pika

channel = pika.BlockingConnection().channel()
channel.queue_declare(queue="orders", durable=True)
channel.basic_publish(exchange="", routing_key="orders", body=b"{}")  # expect: BE723
channel.basic_publish(
    exchange="",
    routing_key="orders",
    body=b"{}",
    properties=pika.BasicProperties(content_type="application/json"),  # expect: BE723
)
"""
        ),
        Example(
            """\
import aio_pika


async def send(channel, body):
    await channel.declare_queue("orders", durable=True)
    message = aio_pika.Message(body=body)  # expect: BE723
    await channel.default_exchange.publish(message, routing_key="orders")
"""
        ),
        Example(
            """\
from kombu import Queue

orders = Queue("orders")


def send(producer, body):
    producer.publish(body, routing_key="orders", declare=[orders], delivery_mode=1)  # expect: BE723
"""
        ),
    )
    good = (
        Example(
            """\
import pika

channel = pika.BlockingConnection().channel()
channel.queue_declare(queue="orders", durable=True)
channel.basic_publish(
    exchange="",
    routing_key="orders",
    body=b"{}",
    properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
)
channel.basic_publish(exchange="", routing_key="orders", body=b"{}", properties=PROPS)
"""
        ),
        Example(
            """\
import aio_pika
from aio_pika import DeliveryMode


async def send(channel, body):
    await channel.declare_queue("orders", durable=True)
    message = aio_pika.Message(body=body, delivery_mode=DeliveryMode.PERSISTENT)
    await channel.default_exchange.publish(message, routing_key="orders")
"""
        ),
        Example(
            """\
import pika

# no durable queue here: transient messages are a fine choice for a transient queue
channel = pika.BlockingConnection().channel()
channel.queue_declare(queue="tmp", exclusive=True)
channel.basic_publish(exchange="", routing_key="tmp", body=b"{}")
"""
        ),
    )

    def visit_Module(self, node: cst.Module) -> object:
        if not imports_any(self.ctx, AMQP_MODULES):
            return STOP_VISITING
        if not self._durable_queue(node):
            return STOP_VISITING
        return None

    def _durable_queue(self, module: cst.Module) -> bool:
        for node in descendants(module, into_scopes=True):
            if not isinstance(node, cst.Call):
                continue
            name = call_name(node)
            durable = keyword_arg(node, "durable")
            if name in ("queue_declare", "declare_queue", "Queue") and durable is not None:
                if not is_falsy(durable.value):
                    return True
            elif name == "Queue" and self.ctx.matches(
                node.func, {"kombu.Queue", "kombu.entity.Queue"}
            ):
                return True  # kombu queues are durable by default
        return False

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        if name == "basic_publish":
            # py-amqp and kombu channels take a message object that carries its own mode.
            if imports_any(self.ctx, ("pika",)):
                self._pika(node)
        elif name == "Message" and self.ctx.matches(
            node.func, {"aio_pika.Message", "aio_pika.message.Message"}
        ):
            self._aio_pika(node)
        elif name == "publish":
            mode = keyword_arg(node, "delivery_mode")
            if mode is not None and _persistent(mode.value) is False:
                self.report(
                    mode,
                    "transient delivery mode for a durable queue: queued messages are lost "
                    "when the broker restarts",
                    help="leave kombu's default (persistent) or pass delivery_mode=2",
                )

    def _pika(self, node: cst.Call) -> None:
        properties = keyword_arg(node, "properties")
        value: cst.BaseExpression | None = properties.value if properties is not None else None
        if value is None:
            positional = positional_args(node)
            if len(positional) >= 4:
                value = positional[3].value
        if any(a.star for a in node.args):
            return
        if value is None:
            self.report(
                node,
                "`basic_publish` without properties publishes a transient message to a durable "
                "queue: it is lost when the broker restarts",
                help="pass properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode."
                "Persistent)",
            )
            return
        if isinstance(value, cst.Name):
            resolved = self.ctx.value_of(value)
            if resolved is None:
                return
            value = resolved
        if not isinstance(value, cst.Call) or call_name(value) != "BasicProperties":
            return
        self._mode(value, "BasicProperties")

    def _aio_pika(self, node: cst.Call) -> None:
        self._mode(node, "Message")

    def _mode(self, call: cst.Call, what: str) -> None:
        if spreads_kwargs(call):
            return
        mode = keyword_arg(call, "delivery_mode")
        if mode is not None and _persistent(mode.value) is not False:
            return
        self.report(
            call if mode is None else mode,
            f"`{what}` without a persistent delivery mode, in a file with a durable queue: "
            "queued messages are lost when the broker restarts",
            help="pass delivery_mode=2 (pika.DeliveryMode.Persistent / "
            "aio_pika.DeliveryMode.PERSISTENT)",
        )
