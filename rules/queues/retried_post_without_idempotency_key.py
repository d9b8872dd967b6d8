"""BE731 retried-post-without-idempotency-key: a retried POST the receiver cannot deduplicate."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg, spreads_kwargs
from be_lint.queues import http_write, literal_dict, retry_context
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A POST that timed out may still have succeeded: the request reached the server and only the
answer was lost. Retrying it then charges the card twice, creates the order twice, or delivers the
webhook twice. An idempotency key -- a value unique to the *operation*, sent unchanged with every
attempt (`Idempotency-Key` header, as Stripe, Adyen and the IETF draft use) -- lets the receiver
recognise the repeat and answer with the first result.

Opt-in: the rule reports `post(...)` calls (`requests`, `httpx`, `aiohttp`, and sessions or
clients) made inside a retry -- a retry loop, a function under a retry decorator (tenacity,
backoff, retrying, stamina), or a Celery task that retries -- whose `headers` have no
idempotency key. Calls whose headers it cannot read, and functions that mention an idempotency
key anywhere, are left alone.
"""

HOW_TO_FIX = """\
Create the key once per operation, outside the retry, and send it with every attempt:

```python
key = str(uuid.uuid4())  # or derived from the operation: f"refund-{refund.pk}"
for attempt in range(5):
    response = session.post(url, json=payload, headers={"Idempotency-Key": key}, timeout=10)
    ...
```
"""


class RetriedPostWithoutIdempotencyKey(PythonRule):
    meta = RuleMeta(
        code="BE731",
        name="retried-post-without-idempotency-key",
        summary="Retried POST request without an idempotency key",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        enabled_by_default=False,
        references=(
            "https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/",
            "https://docs.stripe.com/api/idempotent_requests",
        ),
    )
    triggers = (".post(",)
    bad = (
        Example(
            """\
import time

import requests
from tenacity import retry, stop_after_attempt


def deliver(url, payload):
    for attempt in range(5):
        try:
            return requests.post(url, json=payload, timeout=10)  # expect: BE731
        except requests.ConnectionError:
            time.sleep(2 ** attempt)


@retry(stop=stop_after_attempt(3))
def charge(session, amount):
    return session.post(  # expect: BE731
        "https://pay.example.com/charges",
        json={"amount": amount},
        headers={"Authorization": "Bearer x"},
        timeout=10,
    )
"""
        ),
        Example(
            """\
import httpx
from celery import shared_task


@shared_task(autoretry_for=(httpx.HTTPError,), retry_backoff=True)
def notify(url, event):
    httpx.post(url, json=event, timeout=10).raise_for_status()  # expect: BE731
"""
        ),
    )
    good = (
        Example(
            """\
import time
import uuid

import requests


def deliver(url, payload):
    key = str(uuid.uuid4())
    for attempt in range(5):
        try:
            return requests.post(
                url, json=payload, headers={"Idempotency-Key": key}, timeout=10
            )
        except requests.ConnectionError:
            time.sleep(2 ** attempt)


def once(url, payload):
    # not retried
    return requests.post(url, json=payload, timeout=10)


def with_headers(url, payload, headers):
    for attempt in range(3):
        try:
            return requests.post(url, json=payload, headers=headers, timeout=10)
        except requests.ConnectionError:
            time.sleep(2 ** attempt)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not http_write(node, self.ctx, ("post",)):
            return
        if keyword_arg(node, "idempotency_key") is not None:
            return
        if spreads_kwargs(node):
            return
        headers = keyword_arg(node, "headers")
        if headers is not None:
            items = literal_dict(headers.value, self.ctx)
            if items is None or any("idempotency" in key.lower() for key in items):
                return
        why = retry_context(node, self.ctx)
        if why is None:
            return
        func = self.ctx.enclosing(cst.FunctionDef)
        module = self.ctx.module
        if (
            func is not None
            and module is not None
            and "idempotency" in module.code_for_node(func).lower()
        ):
            return
        self.report(
            node,
            f"this POST runs inside {why} without an idempotency key: an attempt that timed "
            "out after the server acted is performed twice",
            help="send an Idempotency-Key header, created once per operation and reused by "
            "every attempt",
        )
