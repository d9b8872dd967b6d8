"""BE604 cross-site-scripting: request data written into HTML without escaping."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import handler_kind, innermost_function, keyword_arg, string_value
from be_lint.rule import Confidence, Example, RuleMeta, Severity
from be_lint.taint import Sink, TaintRule, argument, call_names, imports_any, lasts_of

RATIONALE = """\
Template engines escape values by default; code that builds HTML by hand or tells the engine a
string is already safe switches that off. Request data that reaches such a place is rendered as
markup: a `<script>` in a search term runs in every visitor's browser with their session
(reflected or stored cross-site scripting). A template *source* built from request data is
worse: Jinja2 and Django templates evaluate expressions, so the client runs code on the server
(server-side template injection).

The rule follows request data through the handler into:

- strings declared safe: `markupsafe.Markup`/`flask.Markup`, Django `mark_safe`/`SafeString`;
- template sources: Flask `render_template_string`, `jinja2.Template`,
  `Environment.from_string`, Django `Template`;
- HTML responses built from it: Starlette/FastAPI `HTMLResponse`, Django `HttpResponse` (unless
  its `content_type` is not HTML), and strings with markup (`f"<h1>{name}</h1>"`) returned
  from a Flask route.

Values passed through `escape` (`markupsafe`, `html`, Django), `format_html`, `bleach.clean` or
`nh3.clean`, or converted to numbers, are not tainted. Templates rendered with
`render_template`/`render` and context variables are escaped by the engine and are not
reported (a `|safe` filter in a template is out of scope).
Data passed to a function of the same file is followed into it (two calls deep).
"""

HOW_TO_FIX = """\
Render HTML with a template file and pass values in the context; the engine escapes them. When
building a fragment in code, use `format_html` (Django) or `Markup("<b>{}</b>").format(value)`
(Markupsafe escapes the arguments), or escape each value with `markupsafe.escape`. Never build
a template's source from request data.
"""

_SAFE_MARKERS = frozenset(
    {
        "markupsafe.Markup",
        "flask.Markup",
        "jinja2.Markup",
        "django.utils.safestring.mark_safe",
        "django.utils.safestring.SafeString",
        "django.utils.safestring.SafeText",
    }
)
_TEMPLATES = frozenset(
    {
        "flask.render_template_string",
        "flask.templating.render_template_string",
        "jinja2.Template",
        "django.template.Template",
        "mako.template.Template",
    }
)
_HTML_RESPONSES = frozenset(
    {
        "starlette.responses.HTMLResponse",
        "fastapi.responses.HTMLResponse",
        "django.http.HttpResponse",
        "django.http.response.HttpResponse",
        "flask.Response",
        "flask.make_response",
        "werkzeug.wrappers.Response",
        "aiohttp.web.Response",
    }
)

_LASTS = lasts_of(_SAFE_MARKERS, _TEMPLATES, _HTML_RESPONSES)


class CrossSiteScripting(TaintRule):
    meta = RuleMeta(
        code="BE604",
        name="cross-site-scripting",
        summary="Request data is written into HTML or a template source without escaping",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=79,
        owasp="A03:2021-Injection",
        references=(
            "https://owasp.org/www-community/attacks/xss/",
            "https://cwe.mitre.org/data/definitions/79.html",
            "https://cwe.mitre.org/data/definitions/1336.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Cross_Site_Scripting_Prevention_Cheat_Sheet.html",
        ),
    )
    triggers = (
        "Markup",
        "mark_safe",
        "SafeString",
        "render_template_string",
        "Template",
        "from_string",
        "HTMLResponse",
        "HttpResponse",
        "Response",
        "return f",
        "<",
    )
    bad = (
        Example(
            """\
from flask import Flask, request
from markupsafe import Markup

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    greeting = Markup(f"<b>Hello {name}</b>")  # expect: BE604
    return f"<h1>{name}</h1>"  # expect: BE604
"""
        ),
        Example(
            """\
from django.http import HttpResponse
from django.utils.safestring import mark_safe


def search(request):
    q = request.GET.get("q", "")
    label = mark_safe("<em>" + q + "</em>")  # expect: BE604
    return HttpResponse("<p>No results for %s</p>" % q)  # expect: BE604
"""
        ),
        Example(
            """\
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from flask import render_template_string, request

app = FastAPI()


@app.get("/page")
def page(title: str):
    return HTMLResponse(f"<title>{title}</title>")  # expect: BE604


def preview():
    return render_template_string(request.form["template"])  # expect: BE604
"""
        ),
    )
    good = (
        Example(
            """\
from django.http import HttpResponse
from django.utils.html import escape, format_html
from flask import Flask, render_template, request
from markupsafe import Markup

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    Markup("<b>{}</b>").format(name)
    Markup(f"<b>{escape(name)}</b>")
    return render_template("hello.html", name=name)


def search(request):
    q = request.GET.get("q", "")
    format_html("<em>{}</em>", q)
    HttpResponse(q, content_type="text/plain")
    return HttpResponse(f"<p>{len(q)} characters</p>")
"""
        ),
        Example(
            """\
from flask import Flask, request

app = Flask(__name__)


@app.route("/echo")
def echo():
    name = request.args.get("name", "")
    page = int(request.args.get("page", "1"))
    return f"<p>Page {page}</p>"


def label(text):
    return f"<b>{text}</b>"
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = call_names(self.ctx, node, _LASTS)
        content: cst.BaseExpression | None = None
        what = ""
        if names & _SAFE_MARKERS:
            content, what = argument(node, 0, "s", "base"), "a string marked safe"
        elif names & _TEMPLATES or (
            isinstance(node.func, cst.Attribute) and node.func.attr.value == "from_string"
        ):
            content, what = argument(node, 0, "source"), "a template's source"
        elif names & _HTML_RESPONSES:
            content_type = keyword_arg(node, "content_type") or keyword_arg(node, "media_type")
            if content_type is None:
                content_type = keyword_arg(node, "mimetype")
            if content_type is not None:
                value = string_value(content_type.value)
                if value is None or "html" not in value:
                    return
            content = argument(node, 0, "content", "response", "body", "text")
            if (
                content is not None
                and not _builds_markup(content)
                and not (
                    "starlette.responses.HTMLResponse" in names
                    or "fastapi.responses.HTMLResponse" in names
                )
            ):
                # A plain value in a generic response: only interpolated markup is reported.
                return
            if "aiohttp.web.Response" in names and keyword_arg(node, "content_type") is None:
                return
            what = "an HTML response"
        if content is None:
            return
        self.report_taint(
            content,
            Sink.HTML,
            f"reaches {what} unescaped",
            help="render with a template and context, or escape values (`format_html`, "
            "`markupsafe.escape`)",
        )

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        if value is None or not _builds_markup(value):
            return
        if not imports_any(self.ctx, ("flask", "quart")):
            return
        func = innermost_function(self.ctx.ancestors)
        if not isinstance(func, cst.FunctionDef):
            return
        if handler_kind(func, self.ctx, self.ctx.ancestors) != "route":
            return
        self.report_taint(
            value,
            Sink.HTML,
            "is returned as HTML unescaped",
            help="render with a template, or escape values with `markupsafe.escape`",
        )


def _builds_markup(expr: cst.BaseExpression) -> bool:
    """A string built by interpolation whose constant text contains a tag (``f"<b>{x}</b>"``)."""
    if isinstance(expr, cst.FormattedString):
        text = "".join(p.value for p in expr.parts if isinstance(p, cst.FormattedStringText))
        return "<" in text and any(isinstance(p, cst.FormattedStringExpression) for p in expr.parts)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add | cst.Modulo):
        return _has_tag(expr.left) or _has_tag(expr.right) or _builds_markup(expr.left)
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "format"
    ):
        return _has_tag(expr.func.value)
    return False


def _has_tag(expr: cst.BaseExpression) -> bool:
    value = string_value(expr)
    return value is not None and "<" in value
