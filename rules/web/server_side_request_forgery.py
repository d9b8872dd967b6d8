"""BE602 server-side-request-forgery: request data chooses where the server sends a request."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.rule import Confidence, Example, RuleMeta, Severity, option
from be_lint.taint import (
    Sink,
    TaintRule,
    argument,
    call_names,
    describe,
    host_fixed,
    lasts_of,
    taint_of,
)

RATIONALE = """\
A server that fetches a URL the client chose can be pointed at places the client cannot reach:
the cloud metadata endpoint (`169.254.169.254`, which hands out credentials), admin consoles on
`localhost`, databases and services on the private network. Responses, timings and error
messages leak what is there; some internal services act on a plain GET.

The rule follows request data through the handler into the URL of outbound HTTP calls:
`requests` (functions and sessions), `httpx` (functions and clients), `urllib.request.urlopen`
and `Request`, `urllib3` pools and `aiohttp` client sessions.

Where the data lands matters. When it can choose the *host* -- the whole URL, or text before
the end of the authority (`f"https://{host}/api"`, `"https://api.example.com" + suffix`) -- the
finding is an error. When the URL starts with a fixed scheme and host and the data only fills
the path or the query (`f"https://api.example.com/users/{user_id}"`, `BASE_URL + "/" + path`
with a configured base), the request cannot leave that host; path tricks (`../`) stay within
it. That shape is quiet by default and reported as a warning with the option
`report-fixed-host = true`.

Allow-list checks (`if host not in ALLOWED_HOSTS: abort(400)`), anchored `re.fullmatch`
guards and conversions (`int()`, `uuid.UUID()`) end the taint.
Data passed to a function of the same file is followed into it (two calls deep).
"""

HOW_TO_FIX = """\
Do not let the client pick hosts. Map a client-supplied name to a URL from an allow-list
(`URLS[name]`), or parse the URL and check scheme and host against an allow-list before the
call -- and resolve the host and refuse private, loopback and link-local addresses, since DNS
can point an allowed-looking name anywhere. Keep the host constant and pass client values as
path segments (quoted) or query parameters (`params={...}`).
"""

_FUNCTIONS = frozenset(
    {
        *(f"requests.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "options")),
        *(f"httpx.{m}" for m in ("get", "post", "put", "patch", "delete", "head", "options")),
        "urllib.request.urlopen",
        "urllib.request.Request",
        "urllib.request.urlretrieve",
        "urllib2.urlopen",
        "urllib2.Request",
        "httpx.stream",
    }
)
#: ``request(method, url)`` shapes: the URL is the second argument.
_METHOD_FIRST = frozenset({"requests.request", "httpx.request"})
_CLIENTS = (
    "requests.Session",
    "requests.session",
    "requests.sessions.Session",
    "httpx.Client",
    "httpx.AsyncClient",
    "aiohttp.ClientSession",
    "aiohttp.client.ClientSession",
    "urllib3.PoolManager",
    "urllib3.poolmanager.PoolManager",
)
_CLIENT_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen"}
)

_LASTS = lasts_of(_FUNCTIONS, _METHOD_FIRST) | _CLIENT_METHODS


@dataclass(frozen=True)
class Options:
    report_fixed_host: bool = option(
        False,
        "Also report request data in the path or query of a URL whose scheme and host are fixed "
        "(as a warning).",
    )


class ServerSideRequestForgery(TaintRule):
    meta = RuleMeta(
        code="BE602",
        name="server-side-request-forgery",
        summary="Request data chooses the host of an outbound HTTP request",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=918,
        owasp="A10:2021-Server-Side Request Forgery",
        references=(
            "https://owasp.org/Top10/A10_2021-Server-Side_Request_Forgery_%28SSRF%29/",
            "https://cwe.mitre.org/data/definitions/918.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html",
        ),
    )
    options_class = Options
    triggers = ("requests", "httpx", "urllib", "aiohttp", "urlopen")
    bad = (
        Example(
            """\
import requests

from flask import Flask, request

app = Flask(__name__)


@app.route("/preview")
def preview():
    url = request.args["url"]
    page = requests.get(url, timeout=5)  # expect: BE602
    return page.text
"""
        ),
        Example(
            """\
import httpx

from fastapi import FastAPI

app = FastAPI()


@app.get("/status/{host}")
async def status(host: str):
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.get(f"https://{host}/health")  # expect: BE602
    return r.json()
"""
        ),
        Example(
            """\
from urllib.request import urlopen


def fetch(request):
    target = request.POST.get("target", "")
    with urlopen("https://api.example.com" + target) as resp:  # expect: BE602
        return resp.read()
"""
        ),
        Example(
            """\
import requests

from flask import request


def user():
    uid = request.args["id"]
    return requests.get(f"https://api.example.com/users/{uid}", timeout=5).json()  # expect: BE602
""",
            options={"report-fixed-host": True},
        ),
    )
    good = (
        Example(
            """\
import requests

from flask import request


def user():
    uid = request.args["id"]
    base = "https://api.example.com"
    requests.get(f"https://api.example.com/users/{uid}", timeout=5)
    requests.get(base + "/users/" + uid, timeout=5)
    requests.get("https://api.example.com/search", params={"q": uid}, timeout=5)
"""
        ),
        Example(
            """\
import requests

from flask import abort, request

ALLOWED = {"https://a.example.com", "https://b.example.com"}
FEEDS = {"news": "https://news.example.com/rss", "blog": "https://blog.example.com/rss"}


def fetch():
    url = request.args["url"]
    if url not in ALLOWED:
        abort(400)
    requests.get(url, timeout=5)
    feed = FEEDS["news"]
    requests.get(feed, timeout=5)
"""
        ),
        Example(
            """\
import requests


def fetch(url):
    # A helper's parameter: callers are not followed.
    return requests.get(url, timeout=5)
"""
        ),
        Example(
            """\
from django.conf import settings

import requests


def sync(request):
    path = request.GET["path"]
    requests.post(f"{settings.BACKEND_URL}/sync/{path}", timeout=5)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = call_names(self.ctx, node, _LASTS)
        url: cst.BaseExpression | None = None
        if names & _FUNCTIONS:
            url = argument(node, 0, "url")
        elif names & _METHOD_FIRST:
            url = argument(node, 1, "url")
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in _CLIENT_METHODS:
            if not any(n.startswith(_CLIENTS) for n in names):
                return
            if node.func.attr.value in ("request", "urlopen"):
                url = argument(node, 1, "url")
            else:
                url = argument(node, 0, "url")
        if url is None:
            return
        taint = taint_of(self.ctx, url, Sink.URL)
        if not taint.tainted:
            return
        if host_fixed(self.ctx, url, Sink.URL):
            if self.options.report_fixed_host:
                self.report(
                    url,
                    f"request data from {describe(self.ctx, taint)} fills the path or query of "
                    "an outbound request (the host is fixed)",
                    severity=Severity.WARNING,
                    help="quote path segments and pass query values with `params=`",
                )
            return
        self.report(
            url,
            f"request data from {describe(self.ctx, taint)} chooses the host of an outbound "
            "request",
            help="map client input to URLs from an allow-list; never fetch a client-chosen host",
        )
