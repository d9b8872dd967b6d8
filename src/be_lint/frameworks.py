"""Framework knowledge shared by rules: request handlers, background tasks, async code, loggers.

Questions such as "does this code run once per request?", "is this inside an ``async def``?",
"is this call a logging call?" or "what was this name constructed from?" come up in many
rules. The answers live here as pure functions over libcst nodes and the ``FileContext``, so
every rule answers them the same way.

Everything is cheap by design (DESIGN.md): no libcst scope metadata, only the import map,
``ctx.ancestors`` and small per-file facts (top-level constructions, assignments inside one
function or class) computed on first use and cached for the file being checked.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from be_lint.context import FileContext
from be_lint.names import block_statements, dotted_name, suite_statements
from be_lint.walker import children

__all__ = [
    "HTTP_METHODS",
    "WEB_FRAMEWORK_MODULES",
    "Handler",
    "LogCall",
    "Scope",
    "called_names",
    "constructed_from",
    "descendants",
    "enclosing_class",
    "enclosing_functions",
    "function_scope",
    "handler_kind",
    "imports_web_framework",
    "in_async_function",
    "innermost_function",
    "is_async",
    "is_celery_task",
    "is_none",
    "is_request_handler",
    "is_view_class",
    "keyword_arg",
    "logging_call",
    "per_request_function",
    "positional_args",
    "positional_params",
    "spreads_kwargs",
    "string_value",
]

Scope = cst.FunctionDef | cst.Lambda

#: Top-level modules of web frameworks. A file importing one of them may define handlers.
WEB_FRAMEWORK_MODULES = frozenset(
    {
        "aiohttp",
        "apiflask",
        "bottle",
        "django",
        "falcon",
        "fastapi",
        "flask",
        "flask_restful",
        "flask_restx",
        "flask_smorest",
        "litestar",
        "ninja",
        "pyramid",
        "quart",
        "rest_framework",
        "sanic",
        "starlette",
        "tornado",
    }
)

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})

#: Decorator methods that register a route on an app, router or blueprint object.
_ROUTE_ATTRS = HTTP_METHODS | {"route", "api_route", "websocket", "websocket_route", "view"}

#: Classes whose instances register routes with ``@obj.<method>(path)``.
_ROUTE_OWNERS = frozenset(
    {
        "flask.Flask",
        "flask.Blueprint",
        "quart.Quart",
        "quart.Blueprint",
        "apiflask.APIFlask",
        "apiflask.APIBlueprint",
        "flask_smorest.Blueprint",
        "fastapi.FastAPI",
        "fastapi.APIRouter",
        "fastapi.routing.APIRouter",
        "starlette.applications.Starlette",
        "starlette.routing.Router",
        "aiohttp.web.RouteTableDef",
        "aiohttp.web_routedef.RouteTableDef",
        "sanic.Sanic",
        "sanic.Blueprint",
        "bottle.Bottle",
        "ninja.NinjaAPI",
        "ninja.Router",
    }
)

#: Decorators (qualified names) that by themselves mark a function as a request handler.
_HANDLER_DECORATORS = frozenset(
    {
        "rest_framework.decorators.api_view",
        "rest_framework.decorators.action",
        "pyramid.view.view_config",
        "bottle.route",
        "bottle.get",
        "bottle.post",
        "bottle.put",
        "bottle.delete",
        "litestar.get",
        "litestar.post",
        "litestar.put",
        "litestar.patch",
        "litestar.delete",
        "litestar.route",
        "django.contrib.auth.decorators.login_required",
        "django.contrib.auth.decorators.permission_required",
        "django.contrib.auth.decorators.user_passes_test",
        "django.contrib.admin.views.decorators.staff_member_required",
    }
)
#: Every decorator in these modules wraps a view (``require_POST``, ``csrf_exempt``, ...).
_HANDLER_DECORATOR_MODULES = ("django.views.decorators.",)

#: Base classes whose subclasses are request handlers (every method runs per request).
_VIEW_BASE_PREFIXES = (
    "django.views.",
    "django.contrib.auth.views.",
    "rest_framework.views.",
    "rest_framework.viewsets.",
    "rest_framework.generics.",
    "rest_framework.mixins.",
    "flask.views.",
    "quart.views.",
    "flask_restful.Resource",
    "flask_restx.Resource",
    "aiohttp.web.View",
    "aiohttp.web_urldispatcher.View",
    "starlette.endpoints.",
    "tornado.web.RequestHandler",
    "tornado.websocket.WebSocketHandler",
    "ninja.",
)
#: Project base classes are recognised by name in files that import a web framework.
_VIEW_CLASS_NAME = re.compile(r"(?:View(?:Set)?(?:Mixin)?|Endpoint|Resource)$")

_TASK_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.task",
        "celery.decorators.task",
        "celery.decorators.periodic_task",
        "dramatiq.actor",
        "rq.decorators.job",
        "rq.job",
        "django_rq.job",
        "huey.contrib.djhuey.task",
        "huey.contrib.djhuey.db_task",
        "huey.contrib.djhuey.periodic_task",
        "huey.contrib.djhuey.db_periodic_task",
    }
)
#: ``@app.task``, ``@celery.task(bind=True)``, ``@huey.periodic_task(...)``: a task queue's
#: decorator method, whatever the app object is called.
_TASK_ATTRS = frozenset({"task", "shared_task", "periodic_task", "db_task", "actor"})
_TASK_BASES = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task"})

_REQUEST_PARAM_NAMES = frozenset({"request", "req"})


# -- per-file facts --------------------------------------------------------------------------


@dataclass
class _Facts:
    """Facts about one file, computed on first use."""

    web: bool | None = None
    module_assignments: dict[str, frozenset[str]] | None = None
    scopes: dict[int, dict[str, frozenset[str]]] = field(default_factory=dict)


_FACTS: weakref.WeakKeyDictionary[FileContext, _Facts] = weakref.WeakKeyDictionary()


def _facts(ctx: FileContext) -> _Facts:
    facts = _FACTS.get(ctx)
    if facts is None:
        facts = _FACTS[ctx] = _Facts()
    return facts


def imports_web_framework(ctx: FileContext) -> bool:
    """True when the file imports any web framework (so it may define request handlers)."""
    facts = _facts(ctx)
    if facts.web is None:
        imports = ctx.imports
        facts.web = imports is not None and any(
            imports.imports_module(module) for module in WEB_FRAMEWORK_MODULES
        )
    return facts.web


# -- functions and scopes --------------------------------------------------------------------


def is_async(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.FunctionDef) and node.asynchronous is not None


def innermost_function(ancestors: Sequence[cst.CSTNode]) -> Scope | None:
    """The innermost ``def`` or ``lambda`` enclosing the current node, if any."""
    for node in reversed(ancestors):
        if isinstance(node, cst.FunctionDef | cst.Lambda):
            return node
    return None


def in_async_function(ancestors: Sequence[cst.CSTNode]) -> cst.FunctionDef | None:
    """The ``async def`` whose own body holds the current node, or None.

    Code in a nested sync ``def`` or a ``lambda`` does not run on the event loop when it is
    written (it runs wherever it is later called, typically ``run_in_executor`` or
    ``asyncio.to_thread``), so only the innermost function counts.
    """
    func = innermost_function(ancestors)
    if isinstance(func, cst.FunctionDef) and func.asynchronous is not None:
        # Decorators and default values are evaluated where the ``def`` is, not inside it.
        return func if _inside_body(func, ancestors) else None
    return None


def _inside_body(func: cst.FunctionDef, ancestors: Sequence[cst.CSTNode]) -> bool:
    for index in range(len(ancestors) - 1, -1, -1):
        if ancestors[index] is func:
            return index + 1 < len(ancestors) and ancestors[index + 1] is func.body
    return False


def enclosing_functions(ancestors: Sequence[cst.CSTNode]) -> list[cst.FunctionDef]:
    """Every ``def`` enclosing the current node, outermost first."""
    return [node for node in ancestors if isinstance(node, cst.FunctionDef)]


def enclosing_class(func: cst.FunctionDef, ancestors: Sequence[cst.CSTNode]) -> cst.ClassDef | None:
    """The class ``func`` is a method of (directly in its body), or None."""
    for index in range(len(ancestors) - 1, -1, -1):
        if ancestors[index] is func:
            parent = ancestors[index - 2] if index >= 2 else None
            if isinstance(parent, cst.ClassDef) and ancestors[index - 1] is parent.body:
                return parent
            return None
    return None


def positional_params(func: cst.FunctionDef, *, skip_self: bool) -> list[cst.Param]:
    params = [*func.params.posonly_params, *func.params.params]
    if skip_self and params and params[0].name.value in ("self", "cls"):
        params = params[1:]
    return params


def function_scope(ancestors: Sequence[cst.CSTNode]) -> cst.CSTNode | None:
    """The innermost function or class body that names are assigned in (None: the module)."""
    for node in reversed(ancestors):
        if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            return node
    return None


# -- handlers and tasks ----------------------------------------------------------------------

Handler = Literal["route", "view", "task"]


def _decorator_callee(decorator: cst.Decorator) -> cst.BaseExpression:
    expr = decorator.decorator
    return expr.func if isinstance(expr, cst.Call) else expr


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non-f, non-bytes) string literal, else None."""
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _is_route_decorator(decorator: cst.Decorator, ctx: FileContext) -> bool:
    callee = _decorator_callee(decorator)
    names = ctx.qualified_names(callee)
    if any(n in _HANDLER_DECORATORS or n.startswith(_HANDLER_DECORATOR_MODULES) for n in names):
        return True
    if not isinstance(callee, cst.Attribute) or callee.attr.value not in _ROUTE_ATTRS:
        return False
    owner = constructed_from(callee.value, ctx)
    if owner & _ROUTE_OWNERS:
        return True
    # The app or router may come from another module: a path-like first argument in a file
    # that imports a web framework is enough (``@router.get("/items")``).
    expr = decorator.decorator
    if not isinstance(expr, cst.Call) or not imports_web_framework(ctx):
        return False
    path = next((a.value for a in expr.args if a.keyword is None), None)
    if path is None:
        path = next(
            (a.value for a in expr.args if a.keyword and a.keyword.value in ("path", "rule")),
            None,
        )
    text = string_value(path)
    return text is not None and (text == "" or text.startswith("/"))


def _is_task_decorator(decorator: cst.Decorator, ctx: FileContext) -> bool:
    callee = _decorator_callee(decorator)
    if ctx.matches(callee, _TASK_DECORATORS):
        return True
    if isinstance(callee, cst.Attribute):
        return callee.attr.value in _TASK_ATTRS and isinstance(callee.value, cst.Name)
    return isinstance(callee, cst.Name) and callee.value == "shared_task"


def is_view_class(cls: cst.ClassDef, ctx: FileContext) -> bool:
    """A class-based view: a subclass of a framework's view class (or a project's ``*View``)."""
    for base in cls.bases:
        names = ctx.qualified_names(base.value)
        if any(name.startswith(_VIEW_BASE_PREFIXES) for name in names):
            return True
        written = dotted_name(base.value)
        if (
            written is not None
            and _VIEW_CLASS_NAME.search(written.rsplit(".", 1)[-1])
            and imports_web_framework(ctx)
        ):
            return True
    return False


def _is_task_class(cls: cst.ClassDef, ctx: FileContext) -> bool:
    return any(ctx.matches(base.value, _TASK_BASES) for base in cls.bases)


def handler_kind(
    func: cst.FunctionDef, ctx: FileContext, ancestors: Sequence[cst.CSTNode]
) -> Handler | None:
    """Whether ``func`` runs once per request (``route``/``view``) or per job (``task``).

    - ``route``: decorated as a route (Flask, Quart, FastAPI, Starlette, aiohttp, Sanic,
      Bottle, Litestar, Django Ninja), a DRF ``@api_view``/``@action``, or a Django view
      decorator (``@require_POST``, ``@login_required``, ...).
    - ``view``: a method of a class-based view (Django, DRF, Flask ``MethodView``, aiohttp
      ``web.View``, Tornado), or a module-level function whose first parameter is ``request``
      in a file that imports a web framework (Django function views, aiohttp handlers).
    - ``task``: a Celery (``@app.task``, ``@shared_task``), Dramatiq, RQ or Huey task, or
      ``run`` of a ``celery.Task`` subclass.

    ``ancestors`` are those of ``func`` or of any node inside it.
    """
    for decorator in func.decorators:
        if _is_route_decorator(decorator, ctx):
            return "route"
        if _is_task_decorator(decorator, ctx):
            return "task"
    cls = enclosing_class(func, ancestors)
    if cls is not None:
        if is_view_class(cls, ctx):
            return "view"
        if func.name.value == "run" and _is_task_class(cls, ctx):
            return "task"
        return None
    if _is_module_level(func, ancestors) and imports_web_framework(ctx):
        params = positional_params(func, skip_self=False)
        if params and params[0].name.value in _REQUEST_PARAM_NAMES:
            return "view"
    return None


def _is_module_level(func: cst.FunctionDef, ancestors: Sequence[cst.CSTNode]) -> bool:
    for index, node in enumerate(ancestors):
        if node is func:
            return all(
                isinstance(a, cst.Module | cst.If | cst.IndentedBlock) for a in ancestors[:index]
            )
    return False


def is_request_handler(
    func: cst.FunctionDef, ctx: FileContext, ancestors: Sequence[cst.CSTNode]
) -> bool:
    kind = handler_kind(func, ctx, ancestors)
    return kind == "route" or kind == "view"


def is_celery_task(
    func: cst.FunctionDef, ctx: FileContext, ancestors: Sequence[cst.CSTNode]
) -> bool:
    return handler_kind(func, ctx, ancestors) == "task"


def per_request_function(
    ctx: FileContext, ancestors: Sequence[cst.CSTNode], *, tasks: bool = True
) -> tuple[cst.FunctionDef, Handler] | None:
    """The enclosing handler (or task) the current node runs in, once per request or job.

    Functions nested in a handler count too (they are created and run per call). Only the
    handler itself and what it lexically contains are known: helpers it calls elsewhere are
    not followed.
    """
    for func in reversed(enclosing_functions(ancestors)):
        kind = handler_kind(func, ctx, ancestors)
        if kind is not None and (tasks or kind != "task"):
            return func, kind
    return None


# -- what a name was constructed from --------------------------------------------------------


def called_names(expr: cst.BaseExpression, ctx: FileContext) -> frozenset[str]:
    """Qualified names of the callee when ``expr`` is a call (``await`` looked through).

    A method called on something the file shows being constructed is named after the
    constructor: ``redis.Redis(...).pipeline()`` (or ``r.pipeline()`` after ``r =
    redis.Redis()``) gives ``redis.Redis.pipeline``, and calling an instance (``SessionLocal()``
    after ``SessionLocal = sessionmaker()``) gives ``sqlalchemy.orm.sessionmaker()``.
    """
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if not isinstance(expr, cst.Call):
        return frozenset()
    func = expr.func
    names = ctx.qualified_names(func)
    if names:
        return names
    if isinstance(func, cst.Attribute):
        owners = constructed_from(func.value, ctx)
        return frozenset(f"{owner}.{func.attr.value}" for owner in owners)
    if isinstance(func, cst.Name):
        owners = constructed_from(func, ctx)
        return frozenset(f"{owner}()" for owner in owners)
    return frozenset()


def constructed_from(expr: cst.BaseExpression, ctx: FileContext) -> frozenset[str]:
    """Qualified names of what ``expr`` was created by, as far as the file shows.

    ``redis.Redis()`` directly; a name assigned from a call (``r = redis.Redis(...)``, ``with
    Session() as s``) in the enclosing functions or at module level; ``self.x`` assigned in
    any method of the enclosing class; a parameter annotated with a class (``db: Session``);
    otherwise the imported name itself (``from django.core.cache import cache``).
    """
    direct = called_names(expr, ctx)
    if direct:
        return direct
    dotted = dotted_name(expr)
    if dotted is None:
        return frozenset()
    ancestors = ctx.ancestors
    if dotted.startswith(("self.", "cls.")) and dotted.count(".") == 1:
        for node in reversed(ancestors):
            if isinstance(node, cst.ClassDef):
                found = _assignments(node, ctx).get(dotted)
                if found:
                    return found
                break
        return frozenset()
    for node in reversed(ancestors):
        if isinstance(node, cst.FunctionDef | cst.Lambda):
            found = _assignments(node, ctx).get(dotted)
            if found is not None:
                return found
    found = _module_assignments(ctx).get(dotted)
    if found is not None:
        return found
    return ctx.qualified_names(expr)


def _module_assignments(ctx: FileContext) -> dict[str, frozenset[str]]:
    facts = _facts(ctx)
    if facts.module_assignments is None:
        module = ctx.module
        # Empty while collecting, so a lookup made during collection cannot recurse.
        facts.module_assignments = {}
        if module is not None:
            facts.module_assignments = _collect(module.body, ctx, into_functions=False)
    return facts.module_assignments


def _assignments(scope: cst.CSTNode, ctx: FileContext) -> dict[str, frozenset[str]]:
    facts = _facts(ctx)
    key = id(scope)
    found = facts.scopes.get(key)
    if found is None:
        facts.scopes[key] = {}  # a lookup made while collecting this scope sees it empty
        if isinstance(scope, cst.ClassDef):
            # ``self.x = ...`` in any method of the class.
            found = _collect(suite_statements(scope.body), ctx, into_functions=True, only_self=True)
        elif isinstance(scope, cst.FunctionDef):
            found = _collect(suite_statements(scope.body), ctx, into_functions=False)
            for param in (
                *scope.params.posonly_params,
                *scope.params.params,
                *scope.params.kwonly_params,
            ):
                if param.annotation is not None:
                    names = _annotation_names(param.annotation.annotation, ctx)
                    if names:
                        found.setdefault(param.name.value, names)
        else:
            found = {}
        facts.scopes[key] = found
    return found


def _annotation_names(annotation: cst.BaseExpression, ctx: FileContext) -> frozenset[str]:
    # ``Session``, ``Optional[Session]``, ``Session | None``, ``Annotated[Session, Depends()]``
    if isinstance(annotation, cst.Subscript):
        out: set[str] = set()
        for element in annotation.slice:
            if isinstance(element.slice, cst.Index):
                out |= _annotation_names(element.slice.value, ctx)
                if ctx.matches(
                    annotation.value, {"typing.Annotated", "typing_extensions.Annotated"}
                ):
                    break
        return frozenset(out)
    if isinstance(annotation, cst.BinaryOperation):
        return _annotation_names(annotation.left, ctx) | _annotation_names(annotation.right, ctx)
    return ctx.qualified_names(annotation)


def _collect(
    statements: Iterable[cst.CSTNode],
    ctx: FileContext,
    *,
    into_functions: bool,
    only_self: bool = False,
) -> dict[str, frozenset[str]]:
    """``dotted target -> callee names`` for assignments from calls in these statements.

    Descends into compound statements but not into nested classes, nor into functions unless
    ``into_functions`` (used for ``self.x`` in a class's methods).
    """
    out: dict[str, set[str]] = {}

    def bind(target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        dotted = dotted_name(target)
        if dotted is None or only_self != dotted.startswith("self."):
            return
        names = called_names(value, ctx)
        if names:
            out.setdefault(dotted, set()).update(names)

    for node in _statements(statements, into_functions):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                bind(target.target, node.value)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            bind(node.target, node.value)
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None and isinstance(item.asname.name, cst.BaseExpression):
                    bind(item.asname.name, item.item)
    return {key: frozenset(value) for key, value in out.items()}


def _statements(statements: Iterable[cst.CSTNode], into_functions: bool) -> Iterator[cst.CSTNode]:
    """Small statements and ``with`` statements, depth first, in source order."""
    stack = list(statements)[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            yield from node.body
        elif isinstance(node, cst.ClassDef):
            continue
        elif isinstance(node, cst.FunctionDef):
            if into_functions:
                stack.extend(reversed(suite_statements(node.body)))
        elif isinstance(node, cst.BaseCompoundStatement):
            if isinstance(node, cst.With):
                yield node
            stack.extend(reversed(list(block_statements(node))))


# -- logging ---------------------------------------------------------------------------------

LogLibrary = Literal["logging", "structlog", "loguru"]

_LOG_METHODS = frozenset(
    {
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "fatal",
        "log",
        "msg",
        "trace",
        "success",
    }
)
_LOGGER_FACTORIES: dict[str, LogLibrary] = {
    "logging.getLogger": "logging",
    "logging.LoggerAdapter": "logging",
    "logging.Logger": "logging",
    "structlog.get_logger": "structlog",
    "structlog.getLogger": "structlog",
    "structlog.stdlib.get_logger": "structlog",
    "structlog.wrap_logger": "structlog",
    "loguru.logger.bind": "loguru",
    "loguru.logger.opt": "loguru",
    "loguru.logger.patch": "loguru",
    "loguru.logger.contextualize": "loguru",
}
_LOGGER_NAME = re.compile(r"^_*(?:[a-z0-9_]*_)?(?:log|logger)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LogCall:
    """A call to a logger method: which library, which level, where the message is."""

    library: LogLibrary
    method: str
    #: The format string argument (``None`` when the call passes none positionally).
    message: cst.Arg | None
    #: The positional arguments after the message (``%s`` values for stdlib logging).
    args: tuple[cst.Arg, ...]
    #: True when the library was inferred from the receiver's name and the file's imports
    #: (a logger imported from elsewhere), not seen being created.
    guessed: bool = False


def logging_call(node: cst.Call, ctx: FileContext) -> LogCall | None:
    """``node`` as a logging call (stdlib ``logging``, ``structlog``, ``loguru``), or None.

    Recognised: the ``logging`` module functions; ``loguru.logger``; names and attributes
    created by ``logging.getLogger``/``structlog.get_logger``/... in this file; and, since
    loggers are often created elsewhere, receivers named like a logger (``log``, ``logger``,
    ``self.logger``, ``app.logger``, ``_LOG``, ``audit_logger``).
    """
    func = node.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    if method not in _LOG_METHODS:
        return None
    receiver = func.value
    library: LogLibrary | None = None
    guessed = False
    names = ctx.qualified_names(receiver)
    if "logging" in names:
        library = "logging"
    elif "loguru.logger" in names:
        library = "loguru"
    elif "structlog" in names:
        return None  # the ``structlog`` module has no log methods
    else:
        origin = constructed_from(receiver, ctx)
        for name in origin:
            found = _LOGGER_FACTORIES.get(name)
            if found is not None:
                library = found
                break
            if name.startswith("loguru.logger"):
                library = "loguru"
                break
        if library is None:
            written = dotted_name(receiver)
            if written is None or not _LOGGER_NAME.match(written.rsplit(".", 1)[-1]):
                return None
            library = _guess_library(ctx)
            guessed = True
    positional = [a for a in node.args if a.keyword is None and not a.star]
    skip = 1 if method == "log" else 0
    message = positional[skip] if len(positional) > skip else None
    return LogCall(library, method, message, tuple(positional[skip + 1 :]), guessed)


def _guess_library(ctx: FileContext) -> LogLibrary:
    imports = ctx.imports
    if imports is None:
        return "logging"
    if imports.imports_module("loguru") and not imports.imports_module("logging"):
        return "loguru"
    if imports.imports_module("structlog") and not imports.imports_module("logging"):
        return "structlog"
    return "logging"


# -- traversal helpers -----------------------------------------------------------------------


def descendants(node: cst.CSTNode, *, into_scopes: bool = False) -> Iterator[cst.CSTNode]:
    """Every syntax node below ``node``, in source order.

    Nested ``def``, ``lambda`` and ``class`` bodies are skipped unless ``into_scopes``: code in
    them runs at another time than the code around them.
    """
    stack = list(reversed(children(node)))
    while stack:
        current = stack.pop()
        yield current
        if not into_scopes and isinstance(current, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            continue
        stack.extend(reversed(children(current)))


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    """The argument passed as ``name=`` to ``call``, if any."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional_args(call: cst.Call) -> list[cst.Arg]:
    """Arguments passed by position (``*args`` excluded)."""
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def spreads_kwargs(call: cst.Call) -> bool:
    """True when ``call`` passes ``**kwargs``, which may hold any keyword."""
    return any(arg.star == "**" for arg in call.args)


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"
