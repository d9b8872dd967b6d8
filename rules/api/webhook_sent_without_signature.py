"""BE914 webhook-sent-without-signature: an outgoing webhook is posted unsigned."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import enclosing_functions, keyword_arg, positional_args
from be_lint.http_semantics import HandlerRule, mentions_word
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
A service that sends webhooks asks its customers to trust HTTP requests arriving from the
internet. Unless each delivery carries a signature -- an HMAC of the body with a secret shared
per subscription, in a header such as `X-Signature-256`, ideally with a timestamp -- the
receiver cannot tell a genuine delivery from a forged one, and every receiver built against
the API is insecure by construction. It is also the sender's only way to let receivers reject
replays.

The rule reports HTTP `POST`s (`requests`, `httpx`, `aiohttp`, a session or client) whose
target URL comes from something named like a webhook (`webhook.url`, `subscription.hook_url`,
`callback_url`) when the sending function shows no signing: no `hmac` call, nothing named
`signature`/`sign`, no header named like a signature. It is opt-in: the signature may be
added by a session configured elsewhere.
"""

HOW_TO_FIX = """\
Sign every delivery: serialise the body once, compute `hmac.new(subscription.secret,
timestamp + "." + body, hashlib.sha256).hexdigest()`, and send it in a header (with the
timestamp) next to the exact bytes that were signed. Document how receivers verify it, and
rotate secrets per subscription.
"""

_TARGET = re.compile(
    r"web_?hook|\bhooks?\b|hook_url|callback_url|notify_url|target_url", re.IGNORECASE
)
_SIGNED = re.compile(r"hmac|signature|sign|signed|x-hub|jwt|digest", re.IGNORECASE)
_CLIENTS = re.compile(
    r"^(?:requests|httpx|session|client|http|sess|s|aiohttp_session|\w*session|\w*client)$"
)


class WebhookSentWithoutSignature(HandlerRule):
    meta = RuleMeta(
        code="BE914",
        name="webhook-sent-without-signature",
        summary="Outgoing webhook is posted without a signature",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.LOW,
        cwe=345,
        enabled_by_default=False,
        references=(
            "https://cwe.mitre.org/data/definitions/345.html",
            "https://www.standardwebhooks.com/",
        ),
    )
    triggers = ("hook", "callback_url", "notify_url", "target_url")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return ".post(" in text and any(t in text for t in cls.triggers)

    bad = (
        Example(
            """\
import requests


def deliver(subscription, event):
    requests.post(subscription.webhook_url, json=event.payload, timeout=10)  # expect: BE914
"""
        ),
        Example(
            """\
import httpx


async def notify(hook, body):
    async with httpx.AsyncClient() as client:
        await client.post(hook.url, content=body, timeout=5)  # expect: BE914
"""
        ),
    )
    good = (
        Example(
            """\
import hashlib
import hmac

import requests


def deliver(subscription, event):
    body = json.dumps(event.payload).encode()
    signature = hmac.new(subscription.secret, body, hashlib.sha256).hexdigest()
    requests.post(
        subscription.webhook_url,
        data=body,
        headers={"X-Signature-256": signature},
        timeout=10,
    )
"""
        ),
        Example(
            """\
import requests


def fetch_orders(api_url):
    return requests.post(api_url, json={"page": 1}, timeout=10)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "post":
            return
        receiver = self.ctx.dotted_name(func.value) or ""
        if not _CLIENTS.match(receiver.rsplit(".", 1)[-1]):
            return
        args = positional_args(node)
        url = args[0].value if args else None
        if url is None:
            given = keyword_arg(node, "url")
            url = given.value if given is not None else None
        module = self.ctx.module
        if url is None or module is None or not _TARGET.search(module.code_for_node(url)):
            return
        scopes = enclosing_functions(self.ctx.ancestors)
        if mentions_word(scopes[-1].body if scopes else node, _SIGNED):
            return
        self.report(
            node,
            "webhook delivered without a signature: receivers cannot tell it from a forged request",
            help="sign the body with an HMAC of a per-subscription secret and send it in a header",
        )
