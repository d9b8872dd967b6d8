"""The queue and background-job rules (BE713 outbound retries, BE716-BE732).

A multi-file Celery/Django app checks what only the project index connects (tasks imported
from another module, task base classes that enqueue on commit); the other tests pin shapes the
rules' own examples do not show, near-misses that must stay quiet, and the index facts.
"""

from __future__ import annotations

import json
from pathlib import Path

import fixture_apps
import pytest

from be_lint.engine import Checker, Settings
from be_lint.index.build import index_paths
from be_lint.index.tasks import may_define_tasks
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind

FIXTURES = Path(__file__).parent / "fixtures" / "queues"
#: The default-on rules of the family (the opt-in ones are tested on their own).
CODES = ("BE713", *(f"BE7{n}" for n in range(16, 33) if n not in (17, 21, 30, 31)))
RULES = builtin_rules()


def _lines(code: str, text: str, **options: object) -> list[int]:
    settings = Settings(
        selected=(code,),
        options=((code, tuple(sorted(options.items()))),),
        known=frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES}),
    )
    findings = Checker(settings, RULES).check_text(text, "example.py", FileKind.PYTHON)
    return sorted(f.line for f in findings if f.code == code)


# -- the fixture app -----------------------------------------------------------------------------


def _expected(app: Path) -> set[tuple[str, int, str]]:
    return fixture_apps.expected(app, "BE7")


def _lint(app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    return fixture_apps.lint(app, tmp_path, monkeypatch, ",".join(CODES), *args)


def test_fixture_app_findings_match_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FIXTURES / "celery_app"
    report = json.loads(_lint(app, tmp_path, monkeypatch, "-j1"))
    got = {(f["path"], f["line"], f["code"]) for f in report["findings"]}
    assert got == _expected(app)


def test_fixture_app_output_is_the_same_for_any_number_of_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FIXTURES / "celery_app"
    assert _lint(app, tmp_path, monkeypatch, "-j1") == _lint(app, tmp_path, monkeypatch, "-j2")


def test_index_knows_tasks_and_tasks_that_enqueue_on_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = FIXTURES / "celery_app"
    monkeypatch.chdir(app)
    index = index_paths(sorted(app.rglob("*.py")), app)
    assert index.tasks == frozenset(
        {"shop.tasks.send_invoice", "shop.tasks.notify_warehouse", "shop.tasks.welcome"}
    )
    assert index.deferred_tasks == frozenset({"shop.tasks.notify_warehouse"})


def test_task_prefilter() -> None:
    assert may_define_tasks(b"@app.task(bind=True)\ndef f(self): ...")
    assert may_define_tasks("@shared_task\ndef f(): ...")
    assert not may_define_tasks("def task(): ...\nx = task")


# -- Celery --------------------------------------------------------------------------------------


def test_retry_rule_reads_retry_kwargs_and_ignores_other_queues() -> None:
    text = """\
from celery import shared_task


@shared_task(autoretry_for=(IOError,), retry_backoff=True, retry_kwargs={"max_retries": None})
def a(x):
    pass


@shared_task(autoretry_for=(IOError,), retry_kwargs={"countdown": 30})
def b(x):
    pass
"""
    assert _lines("BE716", text) == [4]
    huey = """\
from huey import RedisHuey

huey = RedisHuey()


@huey.task(retries=None)
def c(x):
    pass
"""
    assert _lines("BE716", huey) == []


def test_sync_call_in_drf_view_method_and_flask_route() -> None:
    text = """\
from celery import shared_task
from flask import Flask
from rest_framework.views import APIView

app = Flask(__name__)


@shared_task
def export(report_id):
    pass


class ExportView(APIView):
    def post(self, request):
        export(request.data["id"])


@app.route("/export", methods=["POST"])
def run_export():
    export.apply(args=(1,))
    return "ok"
"""
    assert _lines("BE718", text) == [15, 20]


def test_result_get_inside_task_class_and_through_send_task() -> None:
    text = """\
from celery import Task
from proj.celery import app


class Report(Task):
    def run(self, account_id):
        job = app.send_task("totals", args=(account_id,))
        return job.get()


def cli():
    return app.send_task("totals").get()
"""
    assert _lines("BE719", text) == [8]


def test_model_instance_argument_shapes() -> None:
    text = """\
def view(request):
    order = Order.objects.filter(user=request.user).first()
    invoice.si(order).delay()
    rows = Order.objects.filter(paid=True)
    for row in rows:
        refresh.apply_async((row,), countdown=5)
    for pk in Order.objects.values_list("pk", flat=True):
        refresh.delay(pk)
    refresh.delay(self_object=order.pk)
"""
    assert _lines("BE720", text) == [3, 6]


def test_acks_late_and_time_limit_stay_quiet_for_unknown_options() -> None:
    text = """\
from celery import shared_task


@shared_task(**DEFAULTS)
def a(pk):
    Row.objects.filter(pk=pk).update(done=True)


@shared_task(base=ExternalBase)
def b(pk):
    Row.objects.filter(pk=pk).delete()
"""
    assert _lines("BE717", text) == []
    assert _lines("BE721", text) == []


def test_async_task_decorators_are_not_celery() -> None:
    """Faust and TaskIQ spell ``@app.task`` too; Celery cannot run ``async def`` tasks."""
    text = """\
import faust

app = faust.App("words")


@app.task
async def sender():
    await topic.send(value=1)
"""
    assert _lines("BE721", text) == []
    assert _lines("BE717", text) == []


def test_app_settings_in_django_settings_style() -> None:
    text = """\
CELERY_TASK_ACKS_LATE = True


@shared_task
def a(pk):
    Row.objects.get(pk=pk).save()
"""
    assert _lines("BE717", text) == []


# -- RabbitMQ ------------------------------------------------------------------------------------


def test_pika_basic_get_auto_ack_and_aio_pika_get() -> None:
    text = """\
import aio_pika
import pika


def once(channel):
    return channel.basic_get("orders", auto_ack=True)


async def one(queue):
    return await queue.get(no_ack=True, fail=False)
"""
    assert _lines("BE722", text) == [6, 10]


def test_persistent_properties_through_a_variable() -> None:
    text = """\
import pika

channel.queue_declare(queue="orders", durable=True)
props = pika.BasicProperties(content_type="application/json")
channel.basic_publish("", "orders", b"{}", props)
good = pika.BasicProperties(delivery_mode=2)
channel.basic_publish("", "orders", b"{}", good)
"""
    assert _lines("BE723", text) == [4]


def test_consume_wrapper_passing_the_ack_mode_through_is_quiet() -> None:
    text = """\
import kombu


class Queue:
    def consume(self, callback, no_ack=None):
        return self.channel.basic_consume(queue=self.name, no_ack=no_ack, callback=callback)
"""
    assert _lines("BE724", text) == []


def test_prefetch_set_anywhere_in_the_file_is_enough() -> None:
    text = """\
import pika


def setup(channel):
    channel.basic_qos(prefetch_count=5)


def run(channel):
    channel.basic_consume(queue="orders", on_message_callback=handle)
"""
    assert _lines("BE724", text) == []


# -- Kafka ---------------------------------------------------------------------------------------


def test_weak_acks_in_a_config_variable_and_string_values() -> None:
    text = """\
import confluent_kafka

CONF = {"bootstrap.servers": "k:9092", "acks": "0"}
p = confluent_kafka.Producer(CONF)
q = confluent_kafka.Producer({"acks": "-1"})
"""
    assert _lines("BE725", text) == [3]


def test_auto_commit_quiet_when_disabled_in_a_config_variable() -> None:
    text = """\
from confluent_kafka import Consumer


def run():
    conf = {"group.id": "g", "enable.auto.commit": "false"}
    consumer = Consumer(conf)
    while True:
        msg = consumer.poll(1.0)
        requests.post(URL, data=msg.value(), timeout=5)
        consumer.commit(msg)
"""
    assert _lines("BE726", text) == []


def test_aiokafka_producer_stopped_or_used_as_context_manager() -> None:
    text = """\
from aiokafka import AIOKafkaProducer


async def a(events):
    producer = AIOKafkaProducer(bootstrap_servers="k:9092")
    await producer.start()
    try:
        for event in events:
            await producer.send("events", event)
    finally:
        await producer.stop()


async def b(events):
    producer = AIOKafkaProducer(bootstrap_servers="k:9092")
    await producer.start()
    for event in events:
        await producer.send("events", event)
"""
    assert _lines("BE727", text) == [15]


# -- SQS -----------------------------------------------------------------------------------------


def test_delete_before_processing_inside_try_and_batch_delete() -> None:
    text = """\
def poll(sqs, url):
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
    for message in messages:
        try:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handle(message)
        except ValueError:
            pass
    for message in messages:
        handle(message)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "1"}])
"""
    assert _lines("BE729", text) == [5]


def test_azure_receive_messages_is_not_sqs() -> None:
    text = """\
import boto3


def poll(receiver):
    return receiver.receive_messages(max_message_count=1, max_wait_time=5)
"""
    assert _lines("BE728", text) == []
    assert _lines("BE730", text) == []


# -- outbound delivery ---------------------------------------------------------------------------


def test_status_retry_with_counter_and_backoff_is_quiet() -> None:
    text = """\
import random
import time

import httpx


def deliver(url, payload):
    attempt = 0
    while True:
        response = httpx.post(url, json=payload, timeout=10)
        if response.is_success:
            return response
        attempt += 1
        if attempt > 5:
            raise RuntimeError("gave up")
        time.sleep(2 ** attempt + random.random())
"""
    assert _lines("BE713", text) == []


def test_idempotency_key_through_a_headers_variable() -> None:
    text = """\
import time
import uuid

import requests


def deliver(url, payload):
    headers = {"X-Idempotency-Key": str(uuid.uuid4())}
    for attempt in range(5):
        response = requests.post(url, json=payload, headers=headers, timeout=10)
        if response.ok:
            return response
        time.sleep(2 ** attempt)


def deliver_unkeyed(url, payload):
    for attempt in range(5):
        response = requests.post(url, json=payload, timeout=10)
        if response.ok:
            return response
        time.sleep(2 ** attempt)
"""
    assert _lines("BE731", text) == [18]


def test_batch_and_paging_loops_are_not_retries() -> None:
    text = """\
import requests


def push_all(url, items):
    for item in items:
        try:
            requests.post(url, json=item, timeout=10)
        except requests.ConnectionError:
            log.warning("failed")


def pages(session, url):
    for page in range(10):
        response = session.post(url, json={"page": page}, timeout=10)
        if response.status_code != 200:
            break
"""
    assert _lines("BE731", text) == []
    assert _lines("BE713", text) == []


# -- transactions --------------------------------------------------------------------------------


def test_transaction_shapes() -> None:
    text = """\
from django.core.mail import EmailMessage
from django.db import transaction
from sqlalchemy import create_engine

engine = create_engine("postgresql://")


def a(order):
    with transaction.atomic(using="default"):
        message = EmailMessage("Paid", "...", to=[order.email])
        message.send()


def b():
    with engine.begin() as conn:
        conn.execute(insert_row)
        app.send_task("sync.rows")


@transaction.atomic()
def c(order):
    def later():
        notify.delay(order.pk)

    transaction.on_commit(later)
"""
    assert _lines("BE732", text) == [11, 17]
