"""BE913 webhook-signature-not-verified: an incoming webhook handler does not check the
sender's signature."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import enclosing_class, per_request_function
from be_lint.http_semantics import (
    HandlerRule,
    body_assignments,
    handler_methods,
    handler_symbol,
    mentions_word,
    route_decorator,
)
from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
A webhook endpoint is a public URL that acts on what it receives: "payment succeeded",
"repository pushed", "subscription cancelled". Anyone who finds the URL can post the same
JSON. Providers therefore sign each delivery -- Stripe's `Stripe-Signature`, GitHub's
`X-Hub-Signature-256`, Slack's `X-Slack-Signature`, Shopify's `X-Shopify-Hmac-Sha256` -- and
the receiver must recompute the HMAC over the raw body with the shared secret and compare it
in constant time before trusting anything in the payload. A handler that skips the check lets
an attacker mark orders paid or trigger deployments.

The rule reports request handlers that look like webhook receivers -- a `POST` handler whose
name or route path contains `webhook`, `hook` or `callback` -- and show no verification in
their body: no `hmac` call, no `compare_digest`, no provider helper (`construct_event`,
`verify_webhook`, `validate_signature`, ...), no read of a header or value named like a
signature or token, and no decorator named like a verification. Only the handler's own body
is read, so a check delegated to a helper with an unrelated name goes unseen; the rule is
therefore opt-in.
"""

HOW_TO_FIX = """\
Verify before acting: read the raw body, compute `hmac.new(secret, body, hashlib.sha256)`,
and compare it with the signature header using `hmac.compare_digest`; or call the provider's
helper (`stripe.Webhook.construct_event(payload, sig_header, secret)`). Reject unsigned or
mismatching deliveries with 400/401, and check the timestamp to stop replays.
"""

_WEBHOOK = re.compile(r"web_?hook|hook|callback", re.IGNORECASE)
_VERIFY = re.compile(
    r"hmac|compare_digest|construct_event|verify|validate_signature|check_signature|"
    r"signature|signed|x_hub|authenticate|token|secret",
    re.IGNORECASE,
)


class WebhookSignatureNotVerified(HandlerRule):
    meta = RuleMeta(
        code="BE913",
        name="webhook-signature-not-verified",
        summary="Incoming webhook handler does not verify the sender's signature",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.LOW,
        cwe=345,
        enabled_by_default=False,
        references=(
            "https://cwe.mitre.org/data/definitions/345.html",
            "https://docs.stripe.com/webhooks#verify-events",
            "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
        ),
    )
    triggers = ("hook", "Hook", "callback", "Callback")

    bad = (
        Example(
            """\
from flask import Flask, request

app = Flask(__name__)


@app.post("/webhooks/payments")
def payment_webhook():  # expect: BE913
    event = request.get_json()
    if event["type"] == "payment.succeeded":
        mark_paid(event["data"]["order_id"])
    return "", 204
"""
        ),
        Example(
            """\
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def github_hook(request):  # expect: BE913
    payload = json.loads(request.body)
    deploy(payload["ref"])
    return HttpResponse(status=204)
"""
        ),
    )
    good = (
        Example(
            """\
import hmac

from flask import Flask, abort, request

app = Flask(__name__)


@app.post("/webhooks/payments")
def payment_webhook():
    expected = hmac.new(SECRET, request.get_data(), "sha256").hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
        abort(401)
    mark_paid(request.get_json()["order_id"])
    return "", 204


@app.post("/webhooks/stripe")
def stripe_webhook():
    event = stripe.Webhook.construct_event(
        request.data, request.headers["Stripe-Signature"], ENDPOINT_SECRET
    )
    handle(event)
    return "", 204


@app.get("/oauth/callback")
def oauth_callback():
    return exchange_code(request.args["code"])
"""
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ctx = self.ctx
        found = per_request_function(ctx, [*ctx.ancestors, node], tasks=False)
        if found is None or found[0] is not node:
            return
        methods = handler_methods(node, ctx, ctx.ancestors)
        cls = enclosing_class(node, [*ctx.ancestors, node])
        if (methods is not None and "POST" not in methods) or (
            # A class-based view: only its POST handler receives deliveries, and classes that
            # manage webhook subscriptions (a model, form or serializer) receive none.
            cls is not None and (methods is None or _manages_records(cls))
        ):
            return
        if not self._looks_like_webhook(node):
            return
        for decorator in node.decorators:
            expr = decorator.decorator
            callee = expr.func if isinstance(expr, cst.Call) else expr
            if _VERIFY.search(dotted_name(callee) or ""):
                return
        if mentions_word(node.body, _VERIFY):
            return
        self.report(
            node.name,
            f"webhook handler `{node.name.value}` acts on the payload without verifying "
            "the sender's signature",
            help="check the HMAC signature header with `hmac.compare_digest` (or the "
            "provider's helper) before trusting the payload",
        )

    def _looks_like_webhook(self, node: cst.FunctionDef) -> bool:
        ctx = self.ctx
        if _WEBHOOK.search(node.name.value):
            return True
        cls = enclosing_class(node, [*ctx.ancestors, node])
        if cls is not None and _WEBHOOK.search(cls.name.value):
            return True
        decorator = route_decorator(node, ctx)
        if decorator is not None and decorator.path is not None:
            code = ctx.module.code_for_node(decorator.path) if ctx.module is not None else ""
            if _WEBHOOK.search(code):
                return True
        project = ctx.project
        if project is not None:
            symbol = handler_symbol(node, ctx.ancestors)
            if any(_WEBHOOK.search(r.path) for r in project.routes_of(ctx.path, symbol)):
                return True
        return False


_RECORD_ATTRS = frozenset({"model", "queryset", "serializer_class", "form_class", "fields"})


def _manages_records(cls: cst.ClassDef) -> bool:
    if cls.name.value.endswith("ViewSet"):
        return True
    return any(name in _RECORD_ATTRS for name, _ in body_assignments(cls.body))
