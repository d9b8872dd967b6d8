"""BE615 csrf-exempt-view: a Django view opted out of CSRF protection."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.websettings import TEST_GLOBS, is_dev_path, skip_file

RATIONALE = """\
`@csrf_exempt` turns off Django's check that a state-changing request came from your own pages.
For a view that relies on the session cookie, any other site the user visits can submit the
request for them -- change their e-mail, transfer money, delete data -- because the browser
attaches the cookie.

The rule reports `@csrf_exempt` on views and `csrf_exempt(view)` calls (in URL
configurations). It is quiet for views that authenticate requests by other means visible in the
view -- webhook receivers that check a signature (the view's code mentions `signature`, `hmac`,
`compare_digest`, `verify` or `construct_event`) -- and for endpoints that browsers or other
services call without a session, recognised by name: `*webhook*`, `*callback*`, `*report*`
(CSP and error reports), `*notify*`/`*notification*`, `*ipn*`, `*hook*`, `*metric*`,
`*health*`, `*ping*`, `*beacon*`. Test files (`test-paths`) are not checked.
"""

HOW_TO_FIX = """\
Remove `@csrf_exempt` and send the CSRF token with the request (the `csrftoken` cookie in an
`X-CSRFToken` header for JavaScript clients). For machine-to-machine endpoints, authenticate
with a token or a request signature instead of the session, and verify it in the view.
"""

_EXEMPT = frozenset(
    {"django.views.decorators.csrf.csrf_exempt", "django.views.decorators.csrf.csrf_exempt()"}
)
_VERIFIES = re.compile(r"signature|hmac|compare_digest|verify|construct_event", re.IGNORECASE)
#: Endpoints that browsers or other services call without a session: reports, webhooks.
_MACHINE_ENDPOINT = re.compile(
    r"webhook|callback|report|notify|notification|ipn|hook|metric|health|ping|beacon",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Options:
    test_paths: tuple[str, ...] = option(TEST_GLOBS, "Path globs of test files, not checked.")


class CsrfExemptView(PythonRule):
    meta = RuleMeta(
        code="BE615",
        name="csrf-exempt-view",
        summary="A Django view is exempted from CSRF protection",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=352,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://docs.djangoproject.com/en/stable/ref/csrf/#django.views.decorators.csrf.csrf_exempt",
            "https://cwe.mitre.org/data/definitions/352.html",
        ),
        frameworks=("django",),
    )
    options_class = Options
    triggers = ("csrf_exempt",)

    @classmethod
    def skips_path(cls, path: str, options: Options) -> bool:
        return is_dev_path(path, options.test_paths)

    def visit_Module(self, node: cst.Module) -> object:
        return skip_file(self.ctx.path, self.options.test_paths)

    bad = (
        Example(
            """\
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # expect: BE615
def update_email(request):
    request.user.email = request.POST["email"]
    request.user.save()
    return JsonResponse({"ok": True})
"""
        ),
        Example(
            """\
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import views

urlpatterns = [path("transfer/", csrf_exempt(views.transfer))]  # expect: BE615
"""
        ),
    )
    good = (
        Example(
            """\
import hmac

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def stripe_webhook(request):
    expected = sign(request.body)
    if not hmac.compare_digest(expected, request.headers["Stripe-Signature"]):
        return HttpResponseForbidden()
    return HttpResponse()


def csrf_exempt_paths():
    return ["/health"]
"""
        ),
    )

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator
        target = expr.func if isinstance(expr, cst.Call) else expr
        if not self.ctx.matches(target, _EXEMPT):
            return
        func = self.ctx.parent
        if isinstance(func, cst.FunctionDef | cst.ClassDef) and self.ctx.module is not None:
            if _MACHINE_ENDPOINT.search(func.name.value):
                return
            if _VERIFIES.search(self.ctx.module.code_for_node(func.body)):
                return
        self.report(node, "CSRF protection is switched off for this view")

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.matches(node.func, _EXEMPT) or not node.args:
            return
        if isinstance(self.ctx.parent, cst.Decorator):
            return
        self.report(node, "CSRF protection is switched off for this view")
