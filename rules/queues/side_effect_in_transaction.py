"""BE732 side-effect-in-transaction: a message, e-mail or task sent before the commit."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import enclosing_functions
from be_lint.queues import celery_task, outbound_call, transaction_block
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
Inside a database transaction nothing is final until the commit. A task enqueued, a message
published, an e-mail sent or a webhook posted from inside it is final at once: if the
transaction then rolls back (a later constraint violation, an exception, a deadlock retry), the
customer got the "order confirmed" e-mail for an order that does not exist. Even when it
commits, the worker is often faster than the commit: the task starts, looks the new row up,
and does not find it (`DoesNotExist`), or reads the old values.

The rule reports Celery `.delay()`/`.apply_async()`/`send_task()`, Django `send_mail`/
`EmailMessage.send()`, Kafka `produce`/`send`, SQS `send_message`, RabbitMQ `basic_publish`/
`publish`, and `requests`/`httpx` POST/PUT/PATCH calls made inside `with transaction.atomic():`,
a function decorated `@transaction.atomic`, or SQLAlchemy's `with session.begin():`/`with
engine.begin():`. Calls inside a function or lambda (such as the callback given to
`transaction.on_commit`) run later and are not reported.
"""

HOW_TO_FIX = """\
Send after the commit. With Django, register the side effect on the transaction:

```python
with transaction.atomic():
    order = Order.objects.create(...)
    transaction.on_commit(lambda: send_confirmation.delay(order.pk))
```

(Celery 5.4+: `send_confirmation.delay_on_commit(order.pk)`.) With SQLAlchemy, send after the
`with session.begin():` block, or from an `after_commit` session event. For messages that must
never be lost, write them to an outbox table in the same transaction and publish from there.
"""


class SideEffectInTransaction(PythonRule):
    meta = RuleMeta(
        code="BE732",
        name="side-effect-in-transaction",
        summary="Task, message, e-mail or webhook sent inside a database transaction",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.djangoproject.com/en/stable/topics/db/transactions/#performing-actions-after-commit",
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#database-transactions",
            "https://microservices.io/patterns/data/transactional-outbox.html",
        ),
    )
    triggers = ("atomic", "begin(")
    bad = (
        Example(
            """\
from django.core.mail import send_mail
from django.db import transaction


def place_order(cart):
    with transaction.atomic():
        order = Order.objects.create(cart=cart)
        send_confirmation.delay(order.pk)  # expect: BE732
        send_mail("Order placed", "...", None, [cart.email])  # expect: BE732
    return order


@transaction.atomic
def refund(order):
    order.refund()
    payments.apply_async(args=(order.pk,))  # expect: BE732
"""
        ),
        Example(
            """\
import requests
from confluent_kafka import Producer
from sqlalchemy.orm import Session

producer = Producer({"bootstrap.servers": "kafka:9092"})


def transfer(session: Session, sqs, url):
    with session.begin():
        session.add(Transfer(amount=10))
        producer.produce("transfers", b"10")  # expect: BE732
        sqs.send_message(QueueUrl=url, MessageBody="10")  # expect: BE732
        requests.post("https://hooks.example.com/transfer", json={}, timeout=5)  # expect: BE732
"""
        ),
    )
    good = (
        Example(
            """\
from django.db import transaction


def place_order(cart):
    with transaction.atomic():
        order = Order.objects.create(cart=cart)
        transaction.on_commit(lambda: send_confirmation.delay(order.pk))

        def notify():
            send_receipt.delay(order.pk)

        transaction.on_commit(notify)
    send_invoice.delay(order.pk)
    return order
"""
        ),
        Example(
            """\
from sqlalchemy.orm import Session


def transfer(session: Session, sqs, url):
    with session.begin():
        session.add(Transfer(amount=10))
    sqs.send_message(QueueUrl=url, MessageBody="10")


def unrelated(lock):
    with lock.begin():
        task.delay(1)
"""
        ),
        Example(
            """\
from celery import shared_task
from django.db import transaction


@shared_task
def deliver(call_id, attempt):
    with transaction.atomic():
        call = record_attempt(call_id)
        if call.failed:
            # a retry of this very task is wanted whatever happens to the log row
            deliver.apply_async(args=(call_id, attempt + 1), countdown=60)
"""
        ),
    )

    #: Transaction blocks and ``@atomic`` functions being visited (most calls are outside any).
    _open: list[cst.CSTNode]

    def visit_Module(self, node: cst.Module) -> None:
        self._open = []

    def visit_With(self, node: cst.With) -> None:
        if self._opened(node) is not None:
            self._open.append(node)

    def leave_With(self, node: cst.With) -> None:
        if self._open and self._open[-1] is node:
            self._open.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.decorators and self._opened(node) is not None:
            self._open.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._open and self._open[-1] is node:
            self._open.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self._open:
            return
        opened = self._transaction(node)
        if opened is None:
            return
        what = outbound_call(node, self.ctx)
        if what is None or self._reenqueues_itself(node):
            return
        self.report(
            node,
            f"{what} is sent inside `{opened}`: it goes out even if the transaction rolls "
            "back, and a worker may act before the data is committed",
            help="send it after the commit: transaction.on_commit(lambda: ...), or after the "
            "transaction block",
        )

    def _transaction(self, node: cst.CSTNode) -> str | None:
        """The transaction ``node`` runs in (not through a nested function or lambda, which
        run later -- the ``on_commit`` callback among them)."""
        ancestors = [*self.ctx.ancestors, node]
        for index in range(len(ancestors) - 1, 0, -1):
            ancestor, child = ancestors[index - 1], ancestors[index]
            if isinstance(ancestor, cst.Lambda):
                return None
            if isinstance(ancestor, cst.FunctionDef):
                if child is not ancestor.body:
                    return None
                return self._opened(ancestor)
            if isinstance(ancestor, cst.With) and child is ancestor.body:
                opened = self._opened(ancestor)
                if opened is not None:
                    return opened
        return None

    def _opened(self, node: cst.With | cst.FunctionDef) -> str | None:
        key = ("BE732.opened", id(node))
        memo = self.ctx.memo
        if key not in memo:
            memo[key] = transaction_block(node, self.ctx)
        found = memo[key]
        return found if isinstance(found, str) else None

    def _reenqueues_itself(self, node: cst.Call) -> bool:
        """A task that enqueues itself again (a manual retry) wants the retry whatever
        happens to the transaction."""
        func = node.func
        if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
            return False
        name = func.value.value
        return any(
            f.name.value == name and celery_task(f, self.ctx) is not None
            for f in enclosing_functions(self.ctx.ancestors)
        )
