"""BE512 token-in-url: a token, key or password put in the query string of a redirect or request."""

from __future__ import annotations

import itertools
import re

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import argument, literal_string, resolve, words

RATIONALE = """\
A URL is not a place for a secret. Query strings are written to the access logs of every
server and proxy on the way, kept in browser history, shown in the address bar, and sent to
third parties in the `Referer` header when the page loads an image or a script. A token in a
redirect URL ends up in all of them; RFC 6750 tells clients not to send bearer tokens in the
query.

Reported: a query parameter named like a secret (`token`, `access_token`, `id_token`, `jwt`,
`api_key`, `apikey`, `password`, `secret`, `session_id`) whose value is not a literal, in

- the URL of a redirect: Django `redirect()`/`HttpResponseRedirect`, Flask/Werkzeug
  `redirect()`, Starlette/FastAPI `RedirectResponse`;
- the URL of an outbound HTTP call (`requests`, `httpx`) or its `params=` dict;

built with an f-string, `+`, `%`, `.format()`, or held by a local variable built that way.
The fragment (`#access_token=...`, as in OAuth's implicit flow) is never sent to servers and
is not reported. Links placed in e-mails (password-reset and verification links) are not
sinks of this rule. Writing tokens to logs is BE801's finding.
"""

HOW_TO_FIX = """\
Send tokens in a header (`Authorization: Bearer ...`) or a POST body; hand a session to the
browser with a `Secure`, `HttpOnly` cookie, or redirect with a short-lived one-time code that
the client exchanges for the token in a back-channel request.
"""

_REDIRECTS = frozenset(
    {
        "django.shortcuts.redirect",
        "django.http.HttpResponseRedirect",
        "django.http.HttpResponsePermanentRedirect",
        "django.http.response.HttpResponseRedirect",
        "flask.redirect",
        "werkzeug.utils.redirect",
        "quart.redirect",
        "starlette.responses.RedirectResponse",
        "fastapi.responses.RedirectResponse",
    }
)
_HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_REQUESTS = frozenset(
    {f"{lib}.{m}" for lib in ("requests", "httpx") for m in _HTTP_METHODS}
    | {"requests.api.request", "urllib.request.urlopen", "urllib.request.Request"}
)
_PARAM = re.compile(r"[?&;]([A-Za-z][\w\-]*)=$")
_SECRET_PARAM_WORDS = frozenset(
    {"token", "jwt", "apikey", "password", "passwd", "secret", "sessionid", "sid"}
)

Segment = tuple[str, cst.BaseExpression | None]


def secret_param(name: str) -> bool:
    found = words(name)
    if not found or found[0] in ("csrf", "xsrf", "page", "next", "continuation"):
        return False
    if any(w in _SECRET_PARAM_WORDS for w in found):
        return True
    return any(
        pair in (("api", "key"), ("session", "id"), ("access", "key"))
        for pair in itertools.pairwise(found)
    )


class TokenInUrl(PythonRule):
    meta = RuleMeta(
        code="BE512",
        name="token-in-url",
        summary="Token, API key or password put in a URL's query string",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=598,
        owasp="A04:2021-Insecure Design",
        references=(
            "https://cwe.mitre.org/data/definitions/598.html",
            "https://datatracker.ietf.org/doc/html/rfc6750#section-5.3",
            "https://owasp.org/www-community/vulnerabilities/Information_exposure_through_query_strings_in_url",
        ),
    )
    triggers = ("redirect", "Redirect", "requests", "httpx", "urlopen")

    bad = (
        Example(
            """\
import requests
from django.shortcuts import redirect


def sso_callback(request, user):
    token = issue_jwt(user)
    return redirect(f"{settings.FRONTEND_URL}/login?next=/home&token={token}")  # expect: BE512


def fetch_report(api_key):
    url = "https://reports.example.com/v1/summary?api_key=" + api_key
    return requests.get(url, timeout=10)  # expect: BE512


def sync(session_token):
    return requests.post("https://sync.example.com/push", params={"access_token": session_token}, timeout=5)  # expect: BE512
"""
        ),
    )
    good = (
        Example(
            """\
import requests
from django.core.mail import send_mail
from django.shortcuts import redirect


def sso_callback(request, code):
    return redirect(f"{settings.FRONTEND_URL}/login?code={code}")


def implicit(request, token):
    return redirect(f"https://app.example.com/callback#access_token={token}")


def fetch(token):
    return requests.get(
        "https://api.example.com/items", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def send_reset(user, token):
    send_mail("Reset", f"https://shop.example.com/reset?token={token}", None, [user.email])


def paginate(page_token):
    return requests.get(f"https://api.example.com/items?page_token={page_token}", timeout=5)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        if not names:
            return
        redirect = not names.isdisjoint(_REDIRECTS)
        outbound = not names.isdisjoint(_REQUESTS)
        if not (redirect or outbound):
            return
        method_first = any(n.endswith(".request") for n in names)
        url = argument(node, "url", "to", "location", index=1 if method_first else 0)
        if url is not None:
            found = self._secret_in(url.value)
            if found is not None:
                where = "redirect" if redirect else "request"
                self._report(url.value, found, where)
                return
        if outbound:
            params = keyword_arg(node, "params")
            if params is not None:
                value = resolve(params.value, self.ctx)
                if isinstance(value, cst.Dict):
                    for element in value.elements:
                        if not isinstance(element, cst.DictElement):
                            continue
                        key = literal_string(element.key)
                        if key and secret_param(key) and literal_string(element.value) is None:
                            self._report(element, key, "request")
                            return

    def _report(self, node: cst.CSTNode, param: str, where: str) -> None:
        self.report(
            node,
            f"`{param}` is put in the query string of a {where} URL: it leaks through logs, "
            "history and Referer",
            help="send it in an Authorization header or a POST body, or hand over a one-time "
            "code instead",
        )

    def _secret_in(self, expr: cst.BaseExpression) -> str | None:
        segments = self._segments(expr, 4)
        text = ""
        for literal, hole in segments:
            if hole is None:
                text += literal
                continue
            if "#" in text:
                return None
            match = _PARAM.search(text)
            if match and secret_param(match.group(1)) and literal_string(hole) is None:
                return match.group(1)
            text += "\0"
        return None

    def _segments(self, expr: cst.BaseExpression, depth: int) -> list[Segment]:
        if depth <= 0:
            return [("", expr)]
        if isinstance(expr, cst.Name):
            value = resolve(expr, self.ctx)
            return [("", expr)] if value is expr else self._segments(value, depth - 1)
        text = literal_string(expr)
        if text is not None:
            return [(text, None)]
        if isinstance(expr, cst.FormattedString):
            out: list[Segment] = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append((part.value, None))
                elif isinstance(part, cst.FormattedStringExpression):
                    out.append(("", part.expression))
            return out
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._segments(expr.left, depth - 1) + self._segments(expr.right, depth - 1)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Modulo):
            template = literal_string(expr.left)
            if template is not None:
                return _holes(template, re.compile(r"%(?:\([^)]*\))?[sdr]"), expr.right)
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == "format"
        ):
            template = literal_string(expr.func.value)
            if template is not None:
                return _holes(template, re.compile(r"\{[^{}]*\}"), expr)
        return [("", expr)]


def _holes(template: str, pattern: re.Pattern[str], value: cst.BaseExpression) -> list[Segment]:
    out: list[Segment] = []
    last = 0
    for match in pattern.finditer(template):
        out.append((template[last : match.start()], None))
        out.append(("", value))
        last = match.end()
    out.append((template[last:], None))
    return out
