"""BE605 open-redirect: a redirect to a URL taken from the request without a host check."""

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, RuleMeta, Severity
from be_lint.taint import (
    Sink,
    TaintRule,
    argument,
    call_names,
    constant_prefix,
    describe,
    host_fixed,
    lasts_of,
    taint_of,
    url_checked,
)

RATIONALE = """\
Login pages and "back" links often redirect to a URL from the request (`?next=...`). Without a
check, `https://your-site/login?next=https://evil.example` sends the user -- after they logged
in on your real site -- to a page the attacker controls, which asks for the password again or
serves malware with your site's credibility. Redirects are also a step in OAuth token theft.

The rule follows request data through the handler into the target of Flask/Werkzeug
`redirect`, Django `redirect`, `HttpResponseRedirect` and `HttpResponsePermanentRedirect`,
Starlette/FastAPI `RedirectResponse` and aiohttp's `HTTPFound`/`HTTPSeeOther`/
`HTTPTemporaryRedirect`.

Quiet when the target is checked -- `url_has_allowed_host_and_scheme(url, ...)` (Django),
`is_safe_url`, an allow-list membership test, an anchored `re.fullmatch` -- or built by
`url_for`/`reverse`, or when it starts with a fixed local path (`f"/orders/{order_id}"`,
`"/" + slug`, which cannot leave the site). The current page (`request.path`,
`request.get_full_path()`, `request.url`) and the `Referer` header are not client-chosen
targets and are not reported.
Data passed to a function of the same file is followed into it (two calls deep).
"""

HOW_TO_FIX = """\
Check the target before redirecting: Django's `url_has_allowed_host_and_scheme(url,
allowed_hosts={request.get_host()}, require_https=request.is_secure())`, or parse it and accept
only relative paths (no scheme, no netloc, not starting with `//` or `/\\`). Fall back to a
fixed page when the check fails. Better still, redirect to a named route (`url_for`,
`reverse`) and pass only an identifier in the request.
"""

_REDIRECTS = frozenset(
    {
        "flask.redirect",
        "werkzeug.utils.redirect",
        "quart.redirect",
        "django.shortcuts.redirect",
        "django.http.HttpResponseRedirect",
        "django.http.HttpResponsePermanentRedirect",
        "django.http.response.HttpResponseRedirect",
        "django.http.response.HttpResponsePermanentRedirect",
        "starlette.responses.RedirectResponse",
        "fastapi.responses.RedirectResponse",
        "aiohttp.web.HTTPFound",
        "aiohttp.web.HTTPSeeOther",
        "aiohttp.web.HTTPTemporaryRedirect",
        "aiohttp.web.HTTPMovedPermanently",
        "aiohttp.web.HTTPPermanentRedirect",
        "sanic.response.redirect",
        "bottle.redirect",
    }
)

_LASTS = lasts_of(_REDIRECTS)


class OpenRedirect(TaintRule):
    meta = RuleMeta(
        code="BE605",
        name="open-redirect",
        summary="Redirect to a URL from the request without checking its host",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=601,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://cwe.mitre.org/data/definitions/601.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html",
            "https://docs.djangoproject.com/en/stable/ref/utils/#django.utils.http.url_has_allowed_host_and_scheme",
        ),
    )
    triggers = ("redirect", "Redirect", "HTTPFound", "HTTPSeeOther", "HTTPTemporaryRedirect")
    bad = (
        Example(
            """\
from flask import Flask, redirect, request

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    next_url = request.args.get("next", "/")
    return redirect(next_url)  # expect: BE605
"""
        ),
        Example(
            """\
from django.http import HttpResponseRedirect


def done(request):
    target = request.POST.get("return_to") or "/"
    return HttpResponseRedirect(target)  # expect: BE605
"""
        ),
        Example(
            """\
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


@app.get("/go")
def go(url: str):
    return RedirectResponse(url=url)  # expect: BE605
"""
        ),
    )
    good = (
        Example(
            """\
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def done(request):
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


def back(request):
    nxt = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(nxt, allowed_hosts=None):
        return redirect(nxt)
    return redirect(request.get_full_path())


def order(request):
    return redirect(f"/orders/{request.GET['id']}/")


def cancel(request):
    if "next" in request.GET and url_has_allowed_host_and_scheme(request.GET["next"], None):
        return redirect(request.GET["next"])
    nxt = request.GET.get("next")
    if not nxt or not url_has_allowed_host_and_scheme(url=nxt, allowed_hosts=None):
        nxt = "/"
    return redirect(nxt)


def login(request, url):
    query = request.META["QUERY_STRING"]
    return redirect(f"{url}?{query}")
"""
        ),
        Example(
            """\
from flask import abort, redirect, request, url_for

PAGES = {"/home", "/account"}


def go():
    page = request.args["page"]
    if page not in PAGES:
        abort(400)
    redirect(page)
    redirect(url_for("profile", name=request.args["name"]))
    return redirect(request.url)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not call_names(self.ctx, node, _LASTS) & _REDIRECTS:
            return
        target = argument(node, 0, "url", "location", "redirect_to", "to")
        if target is None:
            return
        prefix = constant_prefix(self.ctx, target)
        if prefix.startswith("/") and len(prefix) > 1 and prefix[1] not in "/\\":
            return  # a local path: the host cannot change
        taint = taint_of(self.ctx, target, Sink.REDIRECT)
        if (
            taint.tainted
            and not url_checked(self.ctx, target)
            and not host_fixed(self.ctx, target, Sink.REDIRECT)
        ):
            self.report(
                target,
                f"redirect target comes from {describe(self.ctx, taint)} without a host check",
                help="accept only relative paths or allowed hosts "
                "(`url_has_allowed_host_and_scheme`)",
            )
