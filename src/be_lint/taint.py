"""Taint tracking for web-security rules: does request data reach this argument unsanitised?

A thin layer over ``be_lint.dataflow``, which already knows the sources (Flask, Django, DRF,
Starlette/FastAPI and aiohttp request objects, route parameters of decorated handlers) and how
values move inside a function (assignments, containers, f-strings, ``%``/``.format``/``+``,
``.get()``, subscripts, ``str`` methods, unpacking, loops, branches, constant-folded dead
branches, allow-list and pattern guards). What this module adds is what depends on the sink:

- *sanitisers*: a value passed through ``shlex.quote`` is safe in a shell command but not in a
  file path; ``secure_filename`` makes a path safe but not HTML. Each ``Sink`` has its own set,
  plus the ones that hold everywhere (``int()``, ``uuid.UUID()``, pydantic validation of a
  whole object, allow-list membership checks and anchored ``re.fullmatch`` guards);
- *propagators*: calls that are unknown to the dataflow (so normally end a trace) but return
  their argument's data: ``os.path.join``, ``pathlib.Path``, ``urljoin``, ``base64`` decoding,
  ``json.loads``, ``path / name``;
- *exclusions*: request attributes that are not attacker-chosen for a sink (``request.path``
  as a redirect target is the current page).

Only data that comes from a request is *tainted*. A value that comes from a parameter of a
function is followed to the calls of that function in the same file, two levels deep (the
engine never reads other files from a rule, so helpers in other modules are not followed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from be_lint.dataflow import Dataflow, Origin, Trace
from be_lint.names import dotted_last, dotted_name
from be_lint.prefilter import per_text
from be_lint.rule import FileKind, PythonRule

if TYPE_CHECKING:
    from be_lint.context import FileContext

__all__ = ["Sink", "Taint", "TaintRule", "request_source", "taint_of", "tainted"]


class Sink(enum.Enum):
    """Where a value ends up; decides which sanitisers count."""

    SHELL = "shell"
    URL = "url"
    PATH = "path"
    HTML = "html"
    REDIRECT = "redirect"
    CODE = "code"
    DATA = "data"


#: Conversions that leave nothing of the text but a number, a UUID or a boolean.
_CONVERTERS = frozenset(
    {
        "uuid.UUID",
        "ipaddress.ip_address",
        "ipaddress.IPv4Address",
        "ipaddress.IPv6Address",
        "datetime.date.fromisoformat",
        "datetime.datetime.fromisoformat",
        "datetime.datetime.strptime",
        "dateutil.parser.parse",
    }
)
_HTML_ESCAPES = frozenset(
    {
        "html.escape",
        "markupsafe.escape",
        "flask.escape",
        "jinja2.escape",
        "django.utils.html.escape",
        "django.utils.html.conditional_escape",
        "django.utils.html.format_html",
        "django.utils.html.strip_tags",
        "django.utils.html.urlize",
        "bleach.clean",
        "bleach.linkify",
        "nh3.clean",
        "xml.sax.saxutils.escape",
        "cgi.escape",
        "werkzeug.utils.escape",
    }
)
_SHELL_QUOTES = frozenset({"shlex.quote", "pipes.quote", "shlex.join"})
_PATH_CLEANERS = frozenset(
    {
        "werkzeug.utils.secure_filename",
        "werkzeug.secure_filename",
        "os.path.basename",
        "posixpath.basename",
        "ntpath.basename",
        "django.utils.text.get_valid_filename",
        "pathvalidate.sanitize_filename",
        "slugify.slugify",
        "django.utils.text.slugify",
    }
)
#: Redirect helpers that keep the target on the site (``url_for`` builds a local URL).
_LOCAL_URLS = frozenset(
    {
        "flask.url_for",
        "django.urls.reverse",
        "django.urls.reverse_lazy",
        "django.shortcuts.resolve_url",
        "starlette.datastructures.URL",
    }
)
#: Calls whose result carries their arguments' data (unknown to the dataflow otherwise).
_PROPAGATORS = frozenset(
    {
        "os.path.join",
        "os.path.normpath",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.expanduser",
        "os.path.dirname",
        "os.fspath",
        "posixpath.join",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.PurePosixPath",
        "urllib.parse.urljoin",
        "urllib.parse.unquote",
        "urllib.parse.unquote_plus",
        "urllib.parse.urlunparse",
        "urllib.parse.urlunsplit",
        "base64.b64decode",
        "base64.urlsafe_b64decode",
        "base64.b32decode",
        "binascii.unhexlify",
        "codecs.decode",
        "json.loads",
        "ujson.loads",
        "orjson.loads",
        "yarl.URL",
        "furl.furl",
        "textwrap.dedent",
        "string.Template",
    }
)
_OTHER_SANITISERS = _HTML_ESCAPES | _SHELL_QUOTES | _PATH_CLEANERS
#: Methods on a path/URL object that keep its data (``Path(x).resolve()``).
_PATH_METHODS = frozenset(
    {"resolve", "absolute", "joinpath", "with_name", "with_suffix", "expanduser", "geturl"}
)
#: Validation of a whole object: the result is a validated model, not raw text.
_VALIDATORS = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw"})
#: Request attributes that describe the current page, not a target the client chose.
_SELF_URLS = frozenset({"path", "full_path", "path_info", "url", "get_full_path", "base_url"})
_PAGE_EDITS = frozenset({"replace", "rstrip", "lstrip", "strip", "split", "removesuffix"})
_REFERER = frozenset({"HTTP_REFERER", "Referer", "referer", "referrer"})


@dataclass(frozen=True, slots=True)
class Taint:
    """What reaches a sink: the origin and the sub-expression responsible."""

    origin: Origin
    witness: cst.CSTNode | None
    function: str | None = None
    #: When the data arrives through a parameter: the helper it was passed to (``run_tool``).
    via: str | None = None

    @property
    def tainted(self) -> bool:
        return self.origin is Origin.REQUEST


class _Classifier:
    """The sink's sanitisers and propagators, consulted by the dataflow at every expression."""

    def __init__(self, ctx: FileContext, flow: Dataflow, sink: Sink) -> None:
        self.ctx = ctx
        self.flow = flow
        self.sink = sink

    def __call__(self, expr: cst.BaseExpression) -> Origin | None:
        if (
            self.sink in (Sink.REDIRECT, Sink.URL)
            and isinstance(expr, cst.Attribute | cst.Call)
            and _self_url(expr, self.flow)
        ):
            return Origin.UNKNOWN
        if self.sink is Sink.REDIRECT and _referer(expr, self.flow):
            return Origin.UNKNOWN
        if self.sink is Sink.PATH and _upload(expr, self.flow):
            return Origin.UNKNOWN  # an uploaded file object, not a file name
        if isinstance(expr, cst.Call):
            return self._call(expr)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            # ``base / name`` on paths: the worst of both sides (the dataflow calls it a number).
            left = self.flow.origin(expr.left, self)
            right = self.flow.origin(expr.right, self)
            if left.is_safe and right.is_safe:
                return Origin.NUMERIC
            return max(left, right)
        if (
            self.sink is Sink.PATH
            and isinstance(expr, cst.Attribute)
            and expr.attr.value in ("filename", "name", "raw_filename")
            and _upload(expr.value, self.flow)
        ):
            return Origin.REQUEST
        # A field of request data (``upload.name``, ``item.url``) is request data too; the
        # dataflow treats attributes of local values as unknown.
        if (
            isinstance(expr, cst.Attribute)
            and not self.flow.is_request(expr)
            and self.flow.origin(expr.value, self) is Origin.REQUEST
        ):
            return Origin.REQUEST
        return None

    def _call(self, call: cst.Call) -> Origin | None:
        names = self.ctx.qualified_names(call.func)
        if names & _CONVERTERS:
            return Origin.NUMERIC
        sink = self.sink
        if sink is Sink.HTML and names & _HTML_ESCAPES:
            return Origin.CONSTANT
        if sink is Sink.SHELL and names & _SHELL_QUOTES:
            return Origin.CONSTANT
        if sink is Sink.PATH and names & _PATH_CLEANERS:
            return Origin.CONSTANT
        if sink is Sink.REDIRECT and names & _LOCAL_URLS:
            return Origin.CONSTANT
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in _VALIDATORS:
                return Origin.UNKNOWN
            if method in _PATH_METHODS and not self.flow.is_request(call):
                return self.flow.origin(func.value, self)
            if method in ("escape",) and sink is Sink.HTML:
                return Origin.CONSTANT
        if names & _PROPAGATORS or names & _OTHER_SANITISERS:
            # A sanitiser for another sink (``shlex.quote`` in a path) keeps the data.
            out = Origin.CONSTANT
            for arg in call.args:
                out = max(out, self.flow.origin(arg.value, self))
            return out
        return None


def _self_url(expr: cst.BaseExpression, flow: Dataflow) -> bool:
    """``request.path``, ``request.get_full_path()``, ``request.url``: the current page (also
    edited with ``str`` methods: ``request.path.replace(token, "set-password")``)."""
    for _ in range(6):
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in _PAGE_EDITS
        ):
            expr = expr.func.value
        else:
            break
    target = expr.func if isinstance(expr, cst.Call) else expr
    if not isinstance(target, cst.Attribute) or target.attr.value not in _SELF_URLS:
        return False
    return flow.is_request(target)


def _upload(expr: cst.BaseExpression, flow: Dataflow, depth: int = 0) -> bool:
    """``request.files["f"]``, ``request.FILES.get("f")``, or a name holding one."""
    if depth > 4:
        return False
    if isinstance(expr, cst.Name):
        values = flow.values_of(expr)
        return bool(values) and all(_upload(v, flow, depth + 1) for v in values)
    current = expr
    if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        if current.func.attr.value not in ("get", "getlist"):
            return False
        current = current.func.value
    elif isinstance(current, cst.Subscript):
        current = current.value
    else:
        return False
    return (
        isinstance(current, cst.Attribute)
        and current.attr.value in ("files", "FILES")
        and flow.is_request(current)
    )


def _referer(expr: cst.BaseExpression, flow: Dataflow) -> bool:
    """``request.META.get("HTTP_REFERER")``, ``request.headers["Referer"]``."""
    key: cst.BaseExpression | None = None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value == "get" and expr.args:
            key = expr.args[0].value
            expr = expr.func.value
    elif isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        if isinstance(index, cst.Index):
            key = index.value
            expr = expr.value
    if not isinstance(key, cst.SimpleString):
        return False
    value = key.evaluated_value
    return isinstance(value, str) and value in _REFERER and flow.is_request(expr)


def _classifier(ctx: FileContext, sink: Sink) -> _Classifier:
    # One classifier per file and sink, so the dataflow's memo of answers is shared by rules.
    key = ("taint.classifier", sink)
    found = ctx.memo.get(key)
    if not isinstance(found, _Classifier):
        found = _Classifier(ctx, ctx.dataflow, sink)
        ctx.memo[key] = found
    return found


def taint_of(ctx: FileContext, expr: cst.BaseExpression, sink: Sink) -> Taint:
    """Where the value of ``expr`` (read at the node being visited) comes from, for ``sink``.

    A value that comes from a parameter of a function of this file is followed to the calls of
    that function in the same file (two levels deep): ``def ping(host): os.system("ping " +
    host)`` called as ``ping(request.args["host"])`` is tainted, through ``ping``.
    """
    flow = ctx.dataflow
    trace: Trace = flow.trace(expr, _classifier(ctx, sink))
    taint = Taint(trace.origin, trace.witness, trace.function)
    if trace.origin is Origin.PARAMETER:
        through = _through_callers(ctx, expr, list(ctx.ancestors), sink, 0)
        if through is not None:
            return through
    return taint


_MAX_CALLER_DEPTH = 2


class _ParamMarker:
    """The sink's classifier, plus: reads of one parameter count as request data (to ask
    whether that parameter reaches the sink)."""

    def __init__(self, base: _Classifier, param: cst.Param) -> None:
        self.base = base
        self.param = param

    def __call__(self, expr: cst.BaseExpression) -> Origin | None:
        if isinstance(expr, cst.Name) and any(
            d.node is self.param for d in self.base.flow.definitions(expr)
        ):
            return Origin.REQUEST
        return self.base(expr)


def _through_callers(
    ctx: FileContext, expr: cst.BaseExpression, ancestors: list[cst.CSTNode], sink: Sink, depth: int
) -> Taint | None:
    """Request data passed, at a call in this file, for a parameter that reaches ``expr``."""
    if depth >= _MAX_CALLER_DEPTH:
        return None
    function = next((n for n in reversed(ancestors) if isinstance(n, cst.FunctionDef)), None)
    if function is None or function.name.value.startswith("__"):
        return None
    calls = [
        (call, found)
        for call, found in _calls_by_name(ctx).get(function.name.value, ())
        if function not in found  # recursion
    ]
    if not calls:
        return None
    base = _classifier(ctx, sink)
    flow = ctx.dataflow
    flow.enter(ancestors)
    positional = [*function.params.posonly_params, *function.params.params]
    method = bool(positional) and positional[0].name.value in ("self", "cls")
    for param in _params(function):
        if method and param is positional[0]:
            continue
        if flow.trace(expr, _ParamMarker(base, param)).origin is not Origin.REQUEST:
            continue  # this parameter does not reach the sink
        position = next((i for i, p in enumerate(positional) if p is param), None)
        if position is not None and method:
            position -= 1  # ``self.helper(x)``: the receiver is not an argument
        for call, call_ancestors in calls:
            argument_expr = _argument_for(call, position, param.name.value)
            if argument_expr is None:
                continue
            flow.enter(call_ancestors)
            found = flow.trace(argument_expr, base)
            if found.origin is Origin.REQUEST:
                return Taint(found.origin, found.witness, found.function, via=function.name.value)
            if found.origin is Origin.PARAMETER:
                deeper = _through_callers(ctx, argument_expr, call_ancestors, sink, depth + 1)
                if deeper is not None:
                    return Taint(
                        deeper.origin, deeper.witness, deeper.function, via=function.name.value
                    )
        flow.enter(ancestors)
    return None


def _params(function: cst.FunctionDef) -> list[cst.Param]:
    params = function.params
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            out.append(extra)
    return out


def _argument_for(call: cst.Call, position: int | None, name: str) -> cst.BaseExpression | None:
    index = 0
    for arg in call.args:
        if arg.star:
            return None  # ``f(*args)``: positions unknown
        if arg.keyword is not None:
            if arg.keyword.value == name:
                return arg.value
            continue
        if position is not None and index == position:
            return arg.value
        index += 1
    return None


def _calls_by_name(
    ctx: FileContext,
) -> dict[str, list[tuple[cst.Call, list[cst.CSTNode]]]]:
    """Every call of a plain name or ``self.name`` in the file, with its ancestors (memoised)."""
    key = "taint.calls_by_name"
    found = ctx.memo.get(key)
    if isinstance(found, dict):
        return found
    from be_lint.walker import children

    out: dict[str, list[tuple[cst.Call, list[cst.CSTNode]]]] = {}
    module = ctx.module
    if module is not None:
        stack: list[tuple[cst.CSTNode, list[cst.CSTNode]]] = [(module, [])]
        while stack:
            node, ancestors = stack.pop()
            if isinstance(node, cst.Call):
                func = node.func
                name: str | None = None
                if isinstance(func, cst.Name):
                    name = func.value
                elif (
                    isinstance(func, cst.Attribute)
                    and isinstance(func.value, cst.Name)
                    and func.value.value in ("self", "cls")
                ):
                    name = func.attr.value
                if name is not None:
                    out.setdefault(name, []).append((node, ancestors))
            inner = [*ancestors, node]
            stack.extend((child, inner) for child in children(node))
    ctx.memo[key] = out
    return out


def tainted(ctx: FileContext, expr: cst.BaseExpression, sink: Sink) -> bool:
    """True when request data reaches ``expr`` without a sanitiser that counts for ``sink``."""
    return taint_of(ctx, expr, sink).tainted


def request_source(ctx: FileContext, expr: cst.BaseExpression) -> bool:
    """``expr`` reads request data directly (``request.data``, ``request.POST.dict()``)."""
    return ctx.dataflow.is_request(expr)


def describe(ctx: FileContext, taint: Taint) -> str:
    """A short phrase naming where tainted data came from, for messages."""
    witness = taint.witness
    through = f" (passed to `{taint.via}()`)" if taint.via else ""
    if isinstance(witness, cst.Name) and taint.function:
        return f"route parameter `{witness.value}` of `{taint.function}`{through}"
    if isinstance(witness, cst.CSTNode) and ctx.module is not None:
        text = ctx.module.code_for_node(witness).strip()
        if len(text) > 50:
            text = text[:47] + "..."
        return f"`{text}`{through}"
    return "request data" + through


def constant_prefix(ctx: FileContext, expr: cst.BaseExpression, depth: int = 0) -> str:
    """The text a built string certainly starts with: ``f"https://api.x.com/{p}"`` gives
    ``"https://api.x.com/"``; ``BASE + path`` gives ``BASE``'s value when it is known."""
    if depth > 8:
        return ""
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else ""
    if isinstance(expr, cst.FormattedString):
        out = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            inner = constant_prefix(ctx, part.expression, depth + 1)
            out.append(inner)
            if not _is_constant_text(ctx, part.expression):
                break
        return "".join(out)
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.Add):
            left = constant_prefix(ctx, expr.left, depth + 1)
            if _is_constant_text(ctx, expr.left):
                return left + constant_prefix(ctx, expr.right, depth + 1)
            return left
        if isinstance(expr.operator, cst.Modulo):
            template = constant_prefix(ctx, expr.left, depth + 1)
            return template.split("%", 1)[0]
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "format"
    ):
        template = constant_prefix(ctx, expr.func.value, depth + 1)
        return template.split("{", 1)[0]
    if isinstance(expr, cst.Name):
        held = ctx.value_of(expr)
        if held is not None and held is not expr:
            return constant_prefix(ctx, held, depth + 1)
        definitions = ctx.dataflow.definitions(expr)
        values = ctx.dataflow.values_of(expr)
        if values and all(d.kind.value in ("assign", "augment") for d in definitions):
            # Several assignments reach it (``url = f"{url}&{q}"`` in branches): the text
            # every one of them starts with.
            prefixes = [constant_prefix(ctx, v, depth + 1) for v in values]
            common = prefixes[0]
            for prefix in prefixes[1:]:
                while not prefix.startswith(common):
                    common = common[:-1]
            return common
    return ""


def _is_constant_text(ctx: FileContext, expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        return True
    if isinstance(expr, cst.Name):
        held = ctx.value_of(expr)
        return isinstance(held, cst.SimpleString | cst.ConcatenatedString)
    return False


#: Text any file with a request source contains (the prefilter of taint rules).
SOURCE_HINTS = (
    "request",
    "fastapi",
    "starlette",
    "route(",
    "aiohttp",
    "sanic",
    "quart",
    "bottle",
    "falcon",
    "litestar",
    "ninja",
    "Query(",
    "Body(",
)


@per_text
def may_have_sources(text: str) -> bool:
    """Cheap: the file may read request data (so a taint rule may match)."""
    return any(hint in text for hint in SOURCE_HINTS)


class TaintRule(PythonRule):
    """A rule that follows request data to a sink.

    Only files that may read request data can match (besides the rule's ``triggers``), and
    ``report_taint`` words every finding the same way: where the data came from, then what
    happens to it.
    """

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return super().may_match(text, kind) and may_have_sources(text)

    def report_taint(self, expr: cst.BaseExpression, sink: Sink, outcome: str, help: str) -> None:
        """Report ``expr`` when request data reaches it unsanitised for ``sink``: "request data
        from <source> <outcome>"."""
        taint = taint_of(self.ctx, expr, sink)
        if taint.tainted:
            self.report(expr, f"request data from {describe(self.ctx, taint)} {outcome}", help=help)


def call_names(
    ctx: FileContext, call: cst.Call, lasts: frozenset[str] | None = None
) -> frozenset[str]:
    """Qualified names of the callee, also through objects the file constructs
    (``s = requests.Session(); s.get(url)`` gives ``requests.Session.get``).

    With ``lasts`` (the last segments of the names a rule wants), callees that cannot match are
    rejected before any resolution: rules see every call of a file. Answers are memoised.
    """
    func = call.func
    if lasts is not None:
        if isinstance(func, cst.Attribute):
            if func.attr.value not in lasts:
                return frozenset()
        elif isinstance(func, cst.Name):
            if func.value not in lasts and not any(
                n.rsplit(".", 1)[-1] in lasts for n in ctx.qualified_names(func)
            ):
                return frozenset()
        else:
            return frozenset()
    key = ("taint.call_names", id(call))
    found = ctx.memo.get(key)
    if found is None:
        from be_lint.frameworks import called_names

        found = called_names(call, ctx)
        ctx.memo[key] = found
    assert isinstance(found, frozenset)
    return found


def lasts_of(*groups: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    """The last segments of qualified names (``flask.redirect`` gives ``redirect``)."""
    return frozenset(name.rsplit(".", 1)[-1] for group in groups for name in group)


def argument(call: cst.Call, position: int, *keywords: str) -> cst.BaseExpression | None:
    """The argument at ``position`` (counting positional ones) or passed as one of
    ``keywords`` (the first of them that is passed, in the order given)."""
    for keyword in keywords:
        found = _argument(call, position, keyword)
        if found is not None:
            return found
    return None


def _argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    index = 0
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg.value
            continue
        if arg.star:
            return None
        if index == position:
            return arg.value
        index += 1
    return None


#: Calls that copy a mapping as a whole (``request.POST.dict()``, ``dict(request.data)``).
_WHOLE_COPIES = frozenset({"dict", "copy", "to_dict", "items", "lists"})
#: Annotations of a handler parameter that accept any JSON body without validation.
RAW_BODY_TYPES = frozenset({"dict", "Dict", "Any", "object", "Mapping", "MutableMapping", "Json"})


def raw_request_mapping(
    ctx: FileContext, expr: cst.BaseExpression, depth: int = 0
) -> cst.CSTNode | None:
    """The raw request data ``expr`` is, as a whole mapping (not one field picked from it).

    ``request.data``, ``request.POST.dict()``, ``request.get_json()``, ``await request.json()``,
    ``dict(request.form)``, ``{**request.data, "owner": user}``, a name holding one of these, or
    a FastAPI route parameter typed ``dict``/``Any``. Returns the source expression, else None.
    """
    if depth > 8:
        return None
    flow = ctx.dataflow
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.StarredDictElement):
                found = raw_request_mapping(ctx, element.value, depth + 1)
                if found is not None:
                    return found
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        if "builtins.dict" in ctx.qualified_names(func) and len(expr.args) >= 1:
            return raw_request_mapping(ctx, expr.args[0].value, depth + 1)
        if isinstance(func, cst.Attribute):
            if func.attr.value in _WHOLE_COPIES and not expr.args:
                return raw_request_mapping(ctx, func.value, depth + 1)
            if func.attr.value in ("get_json", "json", "form", "post") and flow.is_request(expr):
                return expr
        return None
    if isinstance(expr, cst.Attribute):
        if expr.attr.value in _RAW_ATTRS and flow.is_request(expr):
            return expr
        return None
    if isinstance(expr, cst.Name):
        for definition in flow.definitions(expr):
            if (
                definition.kind.value == "parameter"
                and definition.role == "route"
                and _raw_body_param(definition.node)
            ):
                return definition.node
        for value in flow.values_of(expr):
            found = raw_request_mapping(ctx, value, depth + 1)
            if found is not None:
                return found
    return None


_RAW_ATTRS = frozenset(
    {"data", "POST", "GET", "json", "form", "args", "values", "query_params", "body", "media"}
)


def _raw_body_param(node: cst.CSTNode) -> bool:
    """A route parameter typed ``dict``/``Any``/``dict[str, Any]`` (an unvalidated body)."""
    if not isinstance(node, cst.Param) or node.annotation is None:
        return False
    annotation = node.annotation.annotation
    if isinstance(annotation, cst.Subscript):
        if (dotted_name(annotation.value) or "").rsplit(".", 1)[-1] == "Annotated":
            first = annotation.slice[0].slice if annotation.slice else None
            if isinstance(first, cst.Index):
                annotation = first.value
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
    name = (dotted_name(annotation) or "").rsplit(".", 1)[-1]
    return name in RAW_BODY_TYPES


def host_fixed(ctx: FileContext, url: cst.BaseExpression, sink: Sink) -> bool:
    """The URL starts with a fixed scheme and host (or a trusted base) before any taint.

    ``f"https://api.example.com/users/{uid}"``, ``BASE + "/" + path``, ``f"{settings.API}/x/{p}"``
    and ``f"{url}&{query}"`` keep their host; ``f"https://{host}/x"`` and ``"https://a.com" +
    suffix`` (no ``/`` before the data) do not.
    """
    pieces = _pieces(ctx, url, 0)
    text = ""
    trusted_base = False
    for piece in pieces:
        if isinstance(piece, str):
            if trusted_base and text == "\0" and piece[:1] in ("/", "?", "#", "&"):
                return True
            text += piece
            if _authority_closed(text):
                return True
            continue
        if tainted(ctx, piece, sink):
            return False
        if not text:
            trusted_base = True  # a configured or computed base URL
        text += "\0"
    return trusted_base


def _authority_closed(text: str) -> bool:
    """``https://host/``, ``//host?``, or a relative ``/path``: the host can no longer change."""
    if text.startswith("/") and not text.startswith("//"):
        return True
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text.startswith("//"):
            rest = text[2:]
        else:
            return False
    if "\0" in scheme or "\0" in rest.split("/", 1)[0].split("?", 1)[0]:
        return False
    return any(mark in rest for mark in ("/", "?", "#"))


def _pieces(
    ctx: FileContext, expr: cst.BaseExpression, depth: int
) -> list[str | cst.BaseExpression]:
    """A built string as a sequence of constant texts and runtime expressions, in order."""
    if depth > 8:
        return [expr]
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        return [value] if isinstance(value, str) else [expr]
    if isinstance(expr, cst.FormattedString):
        out: list[str | cst.BaseExpression] = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
            elif isinstance(part, cst.FormattedStringExpression):
                out.extend(_pieces(ctx, part.expression, depth + 1))
        return out
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return [*_pieces(ctx, expr.left, depth + 1), *_pieces(ctx, expr.right, depth + 1)]
    if isinstance(expr, cst.Name):
        held = ctx.value_of(expr)
        if held is not None and not isinstance(held, cst.Name):
            return _pieces(ctx, held, depth + 1)
    return [expr]


#: Checks that a redirect target stays on allowed hosts (the dataflow knows them as guards on
#: names; ``url_checked`` finds them on whole expressions).
URL_CHECKS = frozenset(
    {"url_has_allowed_host_and_scheme", "is_safe_url", "is_safe_redirect_url", "is_safe_next_url"}
)


def url_checked(ctx: FileContext, target: cst.BaseExpression) -> bool:
    """The enclosing function checks ``target`` (the same expression) with a URL check:
    ``if url_has_allowed_host_and_scheme(request.GET.get("next"), ...): redirect(request.GET
    .get("next"))``, ``url = url if is_safe_url(url) else "/"``."""
    from be_lint.frameworks import descendants

    module = ctx.module
    function = next((n for n in reversed(ctx.ancestors) if isinstance(n, cst.FunctionDef)), None)
    if module is None or function is None:
        return False
    wanted = module.code_for_node(target).strip()
    for node in descendants(function.body):
        if (
            not isinstance(node, cst.Call)
            or dotted_last(node.func) not in URL_CHECKS
            or not node.args
        ):
            continue
        subject = node.args[0].value
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "url":
                subject = arg.value
        if module.code_for_node(subject).strip() == wanted:
            return True
    return False


def imports_any(ctx: FileContext, modules: tuple[str, ...]) -> bool:
    """The file imports one of ``modules`` (memoised per file)."""
    key = ("taint.imports", modules)
    found = ctx.memo.get(key)
    if found is None:
        imports = ctx.imports
        found = imports is not None and any(imports.imports_module(m) for m in modules)
        ctx.memo[key] = found
    return bool(found)
