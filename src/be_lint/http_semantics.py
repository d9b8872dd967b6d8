"""What the BE9xx rules ask about a request handler: which HTTP methods it serves, whether it
writes to the database, what status it answers with, and the route paths a file declares.

Methods come from the handler's own declaration when the file shows it (``@app.get``,
``@app.route(methods=[...])``, a class-based view's ``get``, a DRF view set's ``list``,
``@api_view([...])``, ``@require_POST``) and otherwise from the project index's routes (Django
``urlpatterns``, Flask ``add_url_rule``, ...). Everything is a pure function over libcst nodes
and the ``FileContext``, like ``frameworks``, except the two base classes that hold the rules'
shared plumbing (``HandlerRule``, ``ProjectRoutesRule``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from be_lint.context import FileContext
from be_lint.frameworks import (
    HTTP_METHODS,
    constructed_from,
    descendants,
    enclosing_class,
    handler_kind,
    is_view_class,
    keyword_arg,
    positional_args,
    string_value,
)
from be_lint.index.model import Route
from be_lint.index.querysets import is_migration_path, is_test_path
from be_lint.index.routes import may_define_routes
from be_lint.names import dotted_last, dotted_name, suite_statements
from be_lint.prefilter import per_text
from be_lint.rule import STOP_VISITING, FileKind, PythonRule

__all__ = [
    "DRF_ACTIONS",
    "Write",
    "handler_methods",
    "handler_symbol",
    "is_exempt_path",
    "route_decorator",
    "switches_on_method",
    "writes",
]

#: DRF view set actions and the HTTP method each answers.
DRF_ACTIONS = {
    "list": "GET",
    "retrieve": "GET",
    "create": "POST",
    "update": "PUT",
    "partial_update": "PATCH",
    "destroy": "DELETE",
}
_REQUIRE = {
    "django.views.decorators.http.require_GET": frozenset({"GET"}),
    "django.views.decorators.http.require_POST": frozenset({"POST"}),
    "django.views.decorators.http.require_safe": frozenset({"GET", "HEAD"}),
}
_DECORATOR_ROUTE_ATTRS = frozenset({*HTTP_METHODS, "route", "api_route"})


def is_exempt_path(path: str) -> bool:
    """Tests and migrations: not request handling code."""
    return is_test_path(path) or is_migration_path(path)


def _strings(expr: cst.BaseExpression | None) -> frozenset[str]:
    if isinstance(expr, cst.List | cst.Tuple | cst.Set):
        return frozenset(
            v.upper() for e in expr.elements if (v := string_value(e.value)) is not None
        )
    value = string_value(expr)
    return frozenset({value.upper()}) if value is not None else frozenset()


def _all_strings(expr: cst.BaseExpression | None) -> bool:
    """True when ``expr`` is a literal list of strings (so ``_strings`` read all of it)."""
    if isinstance(expr, cst.List | cst.Tuple | cst.Set):
        return all(string_value(e.value) is not None for e in expr.elements)
    return string_value(expr) is not None


@dataclass(frozen=True, slots=True)
class RouteDecorator:
    """``@owner.<attr>(path, ...)`` on a handler."""

    call: cst.Call
    attr: str
    methods: frozenset[str]
    path: cst.BaseExpression | None


def route_decorator(func: cst.FunctionDef, ctx: FileContext) -> RouteDecorator | None:
    """The route decorator of ``func`` (FastAPI, Flask, Starlette, aiohttp, ...), if any."""
    for decorator in func.decorators:
        expr = decorator.decorator
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
            continue
        attr = expr.func.attr.value
        if attr not in _DECORATOR_ROUTE_ATTRS:
            continue
        if handler_kind(func, ctx, [*ctx.ancestors, func]) != "route":
            # ``@cache.get(...)`` and the like: not a route.
            continue
        path = positional_args(expr)[0].value if positional_args(expr) else None
        if path is None:
            arg = keyword_arg(expr, "path") or keyword_arg(expr, "rule")
            path = arg.value if arg is not None else None
        if attr in HTTP_METHODS:
            methods = frozenset({attr.upper()})
        else:
            given = keyword_arg(expr, "methods")
            if given is not None and not _all_strings(given.value):
                methods = frozenset()  # computed at run time: unknown
            else:
                methods = _strings(given.value) if given is not None else frozenset({"GET"})
        return RouteDecorator(expr, attr, methods, path)
    return None


def handler_symbol(func: cst.FunctionDef | cst.ClassDef, ancestors: Sequence[cst.CSTNode]) -> str:
    """``func``'s name inside its module: ``view``, ``OrderView.get``, ``create_app.index``."""
    names: list[str] = []
    for node in ancestors:
        if isinstance(node, cst.ClassDef | cst.FunctionDef) and node is not func:
            names.append(node.name.value)
    names.append(func.name.value)
    return ".".join(names)


def handler_methods(
    func: cst.FunctionDef, ctx: FileContext, ancestors: Sequence[cst.CSTNode]
) -> frozenset[str] | None:
    """The HTTP methods ``func`` answers, or None when it is no handler or they are unknown.

    ``ancestors`` are those of ``func`` (not including it).
    """
    found = route_decorator(func, ctx)
    if found is not None:
        return found.methods or None
    for decorator in func.decorators:
        expr = decorator.decorator
        callee = expr.func if isinstance(expr, cst.Call) else expr
        names = ctx.qualified_names(callee)
        for name in names:
            if name in _REQUIRE:
                return _REQUIRE[name]
            if name == "django.views.decorators.http.require_http_methods" and isinstance(
                expr, cst.Call
            ):
                args = positional_args(expr)
                if args and _all_strings(args[0].value):
                    return _strings(args[0].value) or None
                return None
            if name == "rest_framework.decorators.api_view":
                if not isinstance(expr, cst.Call):
                    return frozenset({"GET"})
                args = positional_args(expr)
                if args and _all_strings(args[0].value):
                    return _strings(args[0].value) or frozenset({"GET"})
                return frozenset({"GET"}) if not args else None
            if name == "rest_framework.decorators.action":
                given = keyword_arg(expr, "methods") if isinstance(expr, cst.Call) else None
                if given is None:
                    return frozenset({"GET"})
                return _strings(given.value) if _all_strings(given.value) else None
    cls = enclosing_class(func, [*ancestors, func])
    name = func.name.value
    if cls is not None and is_view_class(cls, ctx):
        if name in HTTP_METHODS:
            return frozenset({name.upper()})
        if name in DRF_ACTIONS and _is_viewset(cls, ctx):
            return frozenset({DRF_ACTIONS[name]})
    project = ctx.project
    if project is not None and project.routes:
        routes = project.routes_of(ctx.path, handler_symbol(func, ancestors))
        if routes and all(r.method not in ("ANY", "WS") for r in routes):
            return frozenset(r.method for r in routes)
    return None


def _is_viewset(cls: cst.ClassDef, ctx: FileContext) -> bool:
    for base in cls.bases:
        written = dotted_name(base.value) or ""
        if "ViewSet" in written or any("viewsets" in n for n in ctx.qualified_names(base.value)):
            return True
    return False


def switches_on_method(func: cst.FunctionDef) -> bool:
    """True when the body branches on ``request.method`` (one view serving several methods)."""
    for node in descendants(func.body):
        if isinstance(node, cst.Attribute) and node.attr.value == "method":
            written = dotted_name(node) or ""
            if written.endswith(("request.method", "req.method")):
                return True
    return False


# -- writes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Write:
    """A call that writes to the database, and a short description for messages."""

    node: cst.Call
    what: str
    #: The method called (``save``, ``create``, ``add``, ``execute``, ...).
    method: str = ""
    #: A DB-API statement's first keyword (``INSERT``), upper case; empty for ORM calls.
    statement: str = ""


_ORM_WRITE_METHODS = frozenset(
    {"create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "update"}
)
_QUERYSET_MARKS = frozenset(
    {"objects", "filter", "exclude", "all", "select_for_update", "query", "_default_manager"}
)
_SESSION_WRITES = frozenset({"add", "add_all", "delete", "merge", "commit", "bulk_save_objects"})
_SESSION_NAMES = re.compile(r"(?:^|_)(?:session|db|dbsession|db_session)$", re.IGNORECASE)
#: Receivers whose ``save``/``delete`` is no database write.
_NOT_DB = re.compile(
    r"(?:^|[._])(?:session|cache|caches|cookies?|image|img|im|thumb\w*|wb|workbook|fig|figure|"
    r"plt|file|fh|fp|storage|default_storage|zip\w*|buf\w*|pdf|doc|document|response|resp|"
    r"redis|r|client|s3|bucket|blob|key|kv|store)$",
    re.IGNORECASE,
)
#: Fields that a read may legitimately touch (RFC 9110 allows incidental side effects such as
#: hit counters and "last seen" stamps).
_INCIDENTAL_FIELDS = re.compile(
    r"^(?:last_\w+|\w*_(?:at|on|seen|count|counter|views|hits|visits)|views|hits|visits|"
    r"view_count|access_count|accessed|seen|count)$"
)
_SQL_WRITE = re.compile(
    r"""^[rRbBuUfF]{0,2}(?:'''|\"\"\"|'|")\s*(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|TRUNCATE)\b""",
    re.IGNORECASE,
)
_SQLALCHEMY_DML = frozenset(
    {"sqlalchemy.insert", "sqlalchemy.update", "sqlalchemy.delete", "sqlalchemy.sql.insert"}
)


def _chain(expr: cst.BaseExpression) -> Iterator[str]:
    """Attribute and call names along ``a.b(...).c`` (innermost last)."""
    current: cst.BaseExpression = expr
    while True:
        if isinstance(current, cst.Attribute):
            yield current.attr.value
            current = current.value
        elif isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Subscript):
            current = current.value
        else:
            if isinstance(current, cst.Name):
                yield current.value
            return


def _incidental(call: cst.Call) -> bool:
    """``obj.save(update_fields=["last_seen"])`` or ``qs.update(views=F("views") + 1)``."""
    fields = keyword_arg(call, "update_fields")
    if fields is not None:
        names = _strings(fields.value)
        return bool(names) and all(_INCIDENTAL_FIELDS.match(n.lower()) for n in names)
    keywords = [a.keyword.value for a in call.args if a.keyword is not None]
    return bool(keywords) and all(_INCIDENTAL_FIELDS.match(k) for k in keywords)


def write_call(call: cst.Call, ctx: FileContext) -> str | None:
    """What ``call`` writes (for messages), or None when it is not a database write."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    receiver = func.value
    written = dotted_name(receiver) or ""
    chain = list(_chain(receiver))
    if method in ("save", "delete") and not positional_args(call):
        if not written and not chain:
            return None
        if _NOT_DB.search(written or chain[0]) or "session" in chain or "cache" in chain:
            return None
        if method == "save" and _incidental(call):
            return None
        if method == "delete" and "request" in chain:
            return None
        return f"`.{method}()`"
    if method in ("bulk_create", "bulk_update", "get_or_create", "update_or_create"):
        return f"`.{method}()`"
    if method in ("create", "update") and _QUERYSET_MARKS.intersection(chain):
        if method == "update" and (positional_args(call) or _incidental(call)):
            return None  # ``dict.update(other)`` or a hit counter
        return f"`.{method}()`"
    if method == "delete" and _QUERYSET_MARKS.intersection(chain) and not positional_args(call):
        return "`.delete()`"
    if method in _SESSION_WRITES:
        owners = constructed_from(receiver, ctx)
        sqlalchemy = any(o.startswith(("sqlalchemy", "flask_sqlalchemy")) for o in owners)
        named = _SESSION_NAMES.search(written.rsplit(".", 1)[-1] if written else "")
        if (sqlalchemy or named) and "cache" not in written.lower():
            if written.endswith(("request.session", "self.session")) and not sqlalchemy:
                return None  # Django's session store, a requests.Session
            if method in ("delete", "add", "merge") and not positional_args(call):
                return None
            return f"`{written}.{method}()`" if written else f"`.{method}()`"
    if method in ("execute", "executemany", "exec_driver_sql") and call.args:
        first = call.args[0].value
        code = _code(first)
        if _SQL_WRITE.match(code):
            return "a write statement"
        if isinstance(first, cst.Call) and (
            ctx.qualified_names(first.func) & _SQLALCHEMY_DML
            or _first_call(first, ctx) & _SQLALCHEMY_DML
        ):
            return "a write statement"
    return None


def _first_call(expr: cst.BaseExpression, ctx: FileContext) -> frozenset[str]:
    """Qualified names of the innermost call of a chain: ``update(T).where(...)`` -> update."""
    current = expr
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        inner = current.func.value
        if not isinstance(inner, cst.Call):
            break
        current = inner
    return ctx.qualified_names(current.func) if isinstance(current, cst.Call) else frozenset()


def _code(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.SimpleString):
        return expr.value
    if isinstance(expr, cst.ConcatenatedString) and isinstance(expr.left, cst.SimpleString):
        return expr.left.value
    if isinstance(expr, cst.FormattedString):
        text = "".join(p.value for p in expr.parts if isinstance(p, cst.FormattedStringText))
        return f'"{text}'
    if isinstance(expr, cst.Call) and expr.args:  # ``text("UPDATE ...")``
        return _code(expr.args[0].value)
    return ""


def writes(func: cst.FunctionDef, ctx: FileContext) -> list[Write]:
    """Database writes in the body of ``func`` (nested functions and classes excluded)."""
    out: list[Write] = []
    for node in descendants(func.body):
        if isinstance(node, cst.Call):
            what = write_call(node, ctx)
            if what is not None:
                assert isinstance(node.func, cst.Attribute)
                statement = ""
                if what == "a write statement" and node.args:
                    match = _SQL_WRITE.match(_code(node.args[0].value))
                    statement = match.group(1).upper() if match else ""
                out.append(Write(node, what, node.func.attr.value, statement))
    return out


def creations(func: cst.FunctionDef, ctx: FileContext) -> list[Write]:
    """Writes in ``func`` that create rows: ``.create()``, ``session.add``, ``INSERT``, and
    ``.save()`` of an object the function constructed (``Order(...)``, a serializer or model
    form given ``data`` but no instance)."""
    built = _constructed_here(func)
    out = []
    for write in writes(func, ctx):
        if write.method in ("create", "bulk_create", "add", "add_all") or write.statement in (
            "INSERT",
            "UPSERT",
        ):
            out.append(write)
        elif write.method == "save":
            receiver = write.node.func.value if isinstance(write.node.func, cst.Attribute) else None
            name = dotted_name(receiver) if receiver is not None else None
            if name is not None and name in built:
                out.append(write)
    return out


def _constructed_here(func: cst.FunctionDef) -> set[str]:
    """Names the function assigns a new object to: ``order = Order(...)``,
    ``serializer = OrderSerializer(data=request.data)`` (no instance)."""
    out: set[str] = set()
    for node in descendants(func.body):
        if not isinstance(node, cst.Assign) or not isinstance(node.value, cst.Call):
            continue
        call = node.value
        callee = dotted_name(call.func) or ""
        last = callee.rsplit(".", 1)[-1]
        if not last[:1].isupper():
            continue
        if last.endswith(("Serializer", "Form", "Schema")) and (
            keyword_arg(call, "instance") is not None
            or (positional_args(call) and keyword_arg(call, "data") is not None)
            or (positional_args(call) and last.endswith("Serializer"))
        ):
            continue  # bound to an existing object: an update
        for target in node.targets:
            name = dotted_name(target.target)
            if name is not None:
                out.add(name)
    return out


# -- responses -------------------------------------------------------------------------------

_ERROR_KEYS = frozenset({"error", "errors", "error_message", "error_code", "err"})


def error_payload(expr: cst.BaseExpression | None) -> str | None:
    """The key that marks ``expr`` as an error body: ``{"error": ...}``, ``{"success": False}``."""
    if not isinstance(expr, cst.Dict):
        return None
    for element in expr.elements:
        if not isinstance(element, cst.DictElement):
            continue
        key = string_value(element.key)
        if key is None:
            continue
        if key.lower() in _ERROR_KEYS and not _is_empty(element.value):
            return key
        if key.lower() in ("success", "ok") and _is_false(element.value):
            return f"{key}: False"
        if key.lower() == "status" and (string_value(element.value) or "").lower() in (
            "error",
            "fail",
            "failed",
            "failure",
        ):
            return f"status: {string_value(element.value)}"
    return None


def _is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def _is_empty(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name) and expr.value in ("None", "False"):
        return True
    if isinstance(expr, cst.List | cst.Dict | cst.Tuple) and not expr.elements:
        return True
    return string_value(expr) == ""


def sets_status(func: cst.FunctionDef) -> bool:
    """True when the body assigns a status (``response.status_code = 400``, ``resp.status =``)."""
    for node in descendants(func.body):
        targets: Sequence[cst.BaseExpression] = ()
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, cst.AugAssign | cst.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, cst.Attribute) and target.attr.value in (
                "status_code",
                "status",
                "status_int",
            ):
                return True
    return False


# -- what a handler answers -----------------------------------------------------------------

#: Response constructors whose body is data (JSON), not a page.
JSON_RESPONSES = frozenset(
    {
        "jsonify",
        "JsonResponse",
        "JSONResponse",
        "ORJSONResponse",
        "UJSONResponse",
        "json_response",
        "Response",
        "make_response",
    }
)
_REDIRECTS = re.compile(r"redirect|Redirect|HTTPFound|HTTPSeeOther|HTTPMovedPermanently")
_PAGES = re.compile(r"^(?:render\w*|TemplateResponse|render_to_response|HttpResponse)$")
_STATUS_CLASS = re.compile(
    r"^(?:HttpResponse|HTTP)(?:BadRequest|NotFound|Forbidden|NotAllowed|Gone|ServerError|"
    r"Conflict|Unauthorized|UnprocessableEntity|NoContent|Created|Accepted|\w*Error)"
)

Status = str  # "explicit", "default", "redirect", "page", "unknown"


def response_status(expr: cst.BaseExpression | None, *, route: bool) -> Status:
    """How the returned ``expr`` sets its status.

    ``default``: a body answered with the framework's default 200 (a dict or list returned by
    a route, ``jsonify(...)``, ``Response(data)``); ``explicit``: a status is given (a
    ``(body, status)`` tuple, ``status=``/``status_code=``, ``make_response(body, 201)``);
    ``redirect``/``page``: not a data API answer; ``unknown``: anything else.
    """
    if expr is None:
        return "unknown"
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Tuple) and len(expr.elements) >= 2:
        return "explicit"
    if isinstance(expr, cst.Dict | cst.List | cst.DictComp | cst.ListComp):
        return "default" if route else "unknown"
    if not isinstance(expr, cst.Call):
        return "unknown"
    last = dotted_last(expr.func) or ""
    if _REDIRECTS.search(last):
        return "redirect"
    if _STATUS_CLASS.match(last):
        return "explicit"
    if keyword_arg(expr, "status") is not None or keyword_arg(expr, "status_code") is not None:
        return "explicit"
    if _PAGES.match(last):
        return "page"
    if last in JSON_RESPONSES:
        positional = positional_args(expr)
        if last in ("make_response", "Response") and len(positional) >= 2:
            if last == "Response" and string_value(positional[1].value) is not None:
                return "unknown"  # Flask/Starlette ``Response(body, "text/plain")``-like
            return "explicit"
        return "default"
    return "unknown"


def returns(func: cst.FunctionDef) -> list[cst.Return]:
    """The ``return`` statements of ``func`` itself (not of nested functions)."""
    return [n for n in descendants(func.body) if isinstance(n, cst.Return)]


@dataclass(frozen=True, slots=True)
class Answers:
    """How a handler answers: each ``return`` with its ``response_status``."""

    returns: list[tuple[cst.Return, Status]]
    decorator: RouteDecorator | None
    #: The route decorator when the file uses FastAPI, whose ``status_code=`` sets the status.
    fastapi: RouteDecorator | None

    def has(self, status: Status) -> bool:
        return any(found == status for _, found in self.returns)

    def last_default(self) -> cst.Return | None:
        """The last ``return`` answering the default 200, when every answer's status is known."""
        defaults = [r for r, status in self.returns if status == "default"]
        if not defaults or self.has("unknown"):
            return None
        return defaults[-1]


def answers(func: cst.FunctionDef, ctx: FileContext) -> Answers:
    """The status of each of ``func``'s answers, read the way its route declares them."""
    decorator = route_decorator(func, ctx)
    statuses = [(r, response_status(r.value, route=decorator is not None)) for r in returns(func)]
    imports = ctx.imports
    fastapi = imports is not None and imports.imports_module("fastapi")
    return Answers(statuses, decorator, decorator if fastapi else None)


def mentions_word(node: cst.CSTNode, pattern: re.Pattern[str]) -> bool:
    """A name, attribute or string literal inside ``node`` matches ``pattern`` (searched)."""
    for inner in descendants(node):
        if isinstance(inner, cst.Name | cst.SimpleString):
            text = inner.value
        elif isinstance(inner, cst.Attribute):
            text = inner.attr.value
        else:
            continue
        if pattern.search(text):
            return True
    return False


def mentions_status(expr: cst.CSTNode, code: int) -> bool:
    """True when ``expr`` contains the status ``code`` (``201``, ``HTTP_201_CREATED``, ...)."""
    names = {201: ("CREATED", "HTTP_201"), 204: ("NO_CONTENT", "HTTP_204")}[code]
    for node in (expr, *descendants(expr)):
        if isinstance(node, cst.Integer) and node.value == str(code):
            return True
        if isinstance(node, cst.Name | cst.Attribute):
            text = node.value if isinstance(node, cst.Name) else node.attr.value
            if isinstance(text, str) and text.upper().startswith(names):
                return True
    return False


# -- paths declared in a file ----------------------------------------------------------------

_PARAM = re.compile(r"^(?:<[^>]*>|\{[^}]*\}|\(.*\)|:\w+|\*\w*)$")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_PATH_CALLS = frozenset({"path", "re_path", "url"})
_DRF_VIEW_NAME = re.compile(r"(?:API|Api|APIView|ViewSet)$")


@dataclass(frozen=True, slots=True)
class DeclaredPath:
    """A literal route path (or DRF ``@action``/router prefix) written in the file."""

    node: cst.CSTNode
    text: str


def literal_segments(path: str) -> list[str]:
    """The literal segments of a route path (parameters and regex groups dropped)."""
    path = path.strip("^$")
    out = []
    for part in path.split("/"):
        part = part.strip()
        if not part or _PARAM.match(part) or any(c in part for c in "<>{}()[]*?\\$^|+"):
            continue
        out.append(part)
    return out


def words(segment: str) -> list[str]:
    """``getUserOrders`` -> ["get", "user", "orders"]; also snake and kebab case."""
    return [w.lower() for w in _WORDS.findall(segment)]


def style(segment: str) -> str | None:
    """The naming style of a multi-word segment: snake, kebab or camel (None: one word)."""
    if "_" in segment and "-" not in segment and segment.lower() == segment:
        return "snake"
    if "-" in segment and "_" not in segment and segment.lower() == segment:
        return "kebab"
    if re.match(r"^[a-z]+(?:[A-Z][a-z0-9]*)+$", segment):
        return "camel"
    return None


def _appbuilder_api(func: cst.FunctionDef, ancestors: Sequence[cst.CSTNode]) -> bool:
    """A Flask-AppBuilder endpoint that answers data: in an ``*Api`` class or ``@api``-like."""
    for decorator in func.decorators:
        expr = decorator.decorator
        callee = expr.func if isinstance(expr, cst.Call) else expr
        if "api" in (dotted_name(callee) or "").rsplit(".", 1)[-1].lower():
            return True
    cls = enclosing_class(func, [*ancestors, func])
    if cls is None:
        return False
    return any("api" in (dotted_name(b.value) or "").lower() for b in cls.bases)


def declared_paths(
    node: cst.CSTNode, ctx: FileContext, ancestors: Sequence[cst.CSTNode]
) -> list[DeclaredPath]:
    """Paths of API routes declared by ``node``.

    ``node`` may be a function (its route decorator's path, a DRF ``@action``'s ``url_path`` or
    method name) or a call (``router.register("prefix", ...)``, ``add_api_route``,
    ``add_url_rule``, and Django ``path()``/``re_path()`` of DRF views).
    """
    out: list[DeclaredPath] = []
    if isinstance(node, cst.FunctionDef):
        found = route_decorator(node, ctx)
        if found is not None and found.path is not None:
            text = string_value(found.path)
            if text is not None:
                out.append(DeclaredPath(found.path, text))
            return out
        for decorator in node.decorators:
            expr = decorator.decorator
            if not isinstance(expr, cst.Call):
                continue
            names = ctx.qualified_names(expr.func)
            if any(n.startswith("flask_appbuilder.") and n.endswith(".expose") for n in names):
                if not _appbuilder_api(node, ancestors):
                    continue  # an HTML page of a model view (``/add``, ``/edit/<pk>``)
                args = positional_args(expr)
                text = string_value(args[0].value) if args else None
                if text is not None:
                    out.append(DeclaredPath(args[0].value, text))
                continue
            if "rest_framework.decorators.action" not in names:
                continue
            given = keyword_arg(expr, "url_path")
            if given is not None:
                text = string_value(given.value)
                if text is not None:
                    out.append(DeclaredPath(given.value, text))
            else:
                out.append(DeclaredPath(node.name, node.name.value))
        return out
    if not isinstance(node, cst.Call):
        return out
    name = (dotted_name(node.func) or "").rsplit(".", 1)[-1]
    args = positional_args(node)
    first = args[0].value if args else None
    if (name == "register" and len(args) >= 2) or name in ("add_api_route", "add_url_rule"):
        text = string_value(first)
        if first is not None and text is not None:
            out.append(DeclaredPath(first, text))
    elif name in _PATH_CALLS and len(args) >= 2 and string_value(first) is not None:
        view = args[1].value
        if isinstance(view, cst.Call) and isinstance(view.func, cst.Attribute):
            view = view.func.value
        written = (dotted_name(view) or "").rsplit(".", 1)[-1]
        if _DRF_VIEW_NAME.search(written):
            assert first is not None
            out.append(DeclaredPath(first, string_value(first) or ""))
    return out


def routes_of_node(
    node: cst.FunctionDef | cst.ClassDef, ctx: FileContext, ancestors: Sequence[cst.CSTNode]
) -> list[Route]:
    """The project's routes served by a module-level function or class of this file.

    A class gets the routes of all its methods (inherited ones included); methods themselves
    get none, so each route is reported once, at its class.
    """
    project = ctx.project
    if project is None or not project.routes:
        return []
    if any(isinstance(a, cst.ClassDef) for a in ancestors):
        return []
    if isinstance(node, cst.FunctionDef):
        return list(project.routes_of(ctx.path, handler_symbol(node, ancestors)))
    prefix = handler_symbol(node, ancestors) + "."
    return [r for r in project.routes if r.file == ctx.path and r.symbol.startswith(prefix)]


def body_assignments(body: cst.BaseSuite) -> Iterator[tuple[str, cst.Assign]]:
    """``name = value`` directly in a block (a class's attributes): each name with its
    assignment, in order."""
    for statement in suite_statements(body):
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            yield target.target.value, small


#: Frameworks whose routes are APIs (Django's own views mostly serve HTML pages).
API_FRAMEWORKS = frozenset({"fastapi", "flask", "drf", "starlette", "aiohttp", "flask-appbuilder"})


class HandlerRule(PythonRule):
    """Plumbing of the rules about request handlers: they read application code only (not
    tests or migrations) and, unless they say otherwise, only files that can handle requests
    and contain one of their ``triggers``."""

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_handle_requests(text, *cls.triggers)

    @classmethod
    def skips_path(cls, path: str, options: object) -> bool:
        return is_exempt_path(path)

    def visit_Module(self, node: cst.Module) -> object:
        return STOP_VISITING if is_exempt_path(self.ctx.path) else None


class ProjectRoutesRule(PythonRule):
    """Plumbing of the rules that hold each handler's API routes against the project's (see
    ``be-lint routes``): ``applies`` looks at every route once per file, ``check`` sees the
    API routes of each function or class that declares some."""

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_define_routes(text)

    @classmethod
    def skips_path(cls, path: str, options: object) -> bool:
        return is_exempt_path(path)

    def applies(self, routes: Sequence[Route]) -> bool:
        """Whether the project's routes give this file anything to check."""
        raise NotImplementedError

    def check(self, node: cst.FunctionDef | cst.ClassDef, routes: list[Route]) -> None:
        raise NotImplementedError

    def visit_Module(self, node: cst.Module) -> object:
        project = self.ctx.project
        if is_exempt_path(self.ctx.path) or project is None or not self.applies(project.routes):
            return STOP_VISITING
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check_routes(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._check_routes(node)

    def _check_routes(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        routes = [
            r
            for r in routes_of_node(node, self.ctx, self.ctx.ancestors)
            if r.framework in API_FRAMEWORKS
        ]
        if routes:
            self.check(node, routes)


#: Text a file that handles requests contains (a web framework's import).
_WEB_TEXT = (
    "django",
    "flask",
    "fastapi",
    "rest_framework",
    "aiohttp",
    "starlette",
    "quart",
    "sanic",
    "litestar",
    "falcon",
    "bottle",
)


@per_text
def _names_web_framework(text: str) -> bool:
    return any(word in text for word in _WEB_TEXT)


def may_handle_requests(text: str, *needles: str) -> bool:
    """The cheap prefilter of the handler rules: a web framework is named in the file, one
    of ``needles`` occurs (when given), and the text can declare a handler (the project
    index's test for routes and views)."""
    if not _names_web_framework(text):
        return False
    if needles and not any(needle in text for needle in needles):
        return False
    return may_define_routes(text)
