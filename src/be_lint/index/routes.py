"""HTTP routes in the project index: which method and path reach which handler.

Routes are declared in many shapes and often across files: a FastAPI router declared in one
module with ``APIRouter(prefix=...)`` and mounted in another with ``include_router``; Django
``urlpatterns`` that ``include()`` other modules' patterns and point at class-based views or DRF
view sets registered on a router; Flask blueprints registered with a ``url_prefix``. So each file
contributes raw facts (read with ``ast`` in the index's cheap first pass, only for files whose
text can declare routes), and ``collect_routes`` resolves them against each other once, in path
order, into a sorted tuple of ``Route``.

What is not known statically is shown, not guessed: a prefix held in a variable is written
``{name}``; a Django function view that does not restrict its methods accepts ``ANY``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from be_lint.index.model import Route
from be_lint.index.syntax import dotted, flat_statements
from be_lint.prefilter import per_text

if TYPE_CHECKING:
    from be_lint.index.facts import Imports

#: Qualified candidates of a name as the file spells it (see ``facts.Imports.resolve``).
Ref = tuple[str, ...]

#: Text that a file declaring routes or views almost surely contains.
ROUTE_TEXT = re.compile(
    rb"urlpatterns|\b(?:re_)?path\(\s*r?['\"]|\burl\(\s*r?['\"]|@[\w.]+\.(?:get|post|put|patch|delete|head|options|route|api_route|"
    rb"websocket|view)\(|include_router|register_blueprint|add_url_rule|add_api_route|"
    rb"add_route|add_resource|add_routes|\.register\(\s*r?['\"]|@api_view|@action|@expose|"
    rb"RouteTableDef|\bRoute\(|\bMount\(|\.add_(?:get|post|put|patch|delete|head|view)\(|"
    rb"def \w+\(\s*request\b|from (?:flask|quart|bottle) import[^\n]*\brequest\b|class \w+\([^)]*(?:View|ViewSet|Resource|Api|API|Endpoint|"
    rb"Serializer)\b"
)
#: ``ROUTE_TEXT`` one alternative at a time, each behind a substring none of its matches lacks:
#: a pattern that starts with literal text is searched for that text first, which a single
#: alternation cannot do (same answer, about four times faster on real trees).
_ROUTE_TESTS: tuple[tuple[bytes, re.Pattern[bytes] | None], ...] = (
    (b"urlpatterns", None),
    (b"include_router", None),
    (b"register_blueprint", None),
    (b"add_url_rule", None),
    (b"add_api_route", None),
    (b"add_route", None),
    (b"add_resource", None),
    (b"@api_view", None),
    (b"@action", None),
    (b"@expose", None),
    (b"RouteTableDef", None),
    (b"path(", re.compile(rb"\b(?:re_)?path\(\s*r?['\"]")),
    (b"url(", re.compile(rb"\burl\(\s*r?['\"]")),
    (b".register(", re.compile(rb"\.register\(\s*r?['\"]")),
    (b"Route(", re.compile(rb"\bRoute\(")),
    (b"Mount(", re.compile(rb"\bMount\(")),
    (b".add_", re.compile(rb"\.add_(?:get|post|put|patch|delete|head|view)\(")),
    (
        b"@",
        re.compile(
            rb"@[\w.]+\.(?:get|post|put|patch|delete|head|options|route|api_route|websocket|view)\("
        ),
    ),
    (b"request", re.compile(rb"def \w+\(\s*request\b")),
    (b"request", re.compile(rb"from (?:flask|quart|bottle) import[^\n]*\brequest\b")),
    (
        b"class ",
        re.compile(rb"class \w+\([^)]*(?:View|ViewSet|Resource|Api|API|Endpoint|Serializer)\b"),
    ),
)
_KEYS = (
    b"urlpatterns",
    b"path(",
    b"url(",
    b"@",
    b"route",
    b"Route",
    b"add_",
    b"register",
    b"Mount(",
    b"request",
    b"View",
    b"Resource",
    b"Api",
    b"API",
    b"Endpoint",
    b"include_router",
    b"Serializer",
)

HTTP = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
_LOWER_METHODS = frozenset(m.lower() for m in HTTP)

#: Constructors of objects that routes are declared on: last name -> framework.
_OWNERS = {
    "FastAPI": "fastapi",
    "APIRouter": "fastapi",
    "Flask": "flask",
    "Blueprint": "flask",
    "APIFlask": "flask",
    "APIBlueprint": "flask",
    "Quart": "flask",
    "Starlette": "starlette",
    "RouteTableDef": "aiohttp",
    "Application": "aiohttp",
}
_ROUTERS = frozenset(
    {"DefaultRouter", "SimpleRouter", "ExtendedSimpleRouter", "ExtendedDefaultRouter"}
)
_DECORATOR_METHODS = frozenset({*_LOWER_METHODS, "route", "api_route", "websocket", "view"})

#: DRF view set actions: name -> (HTTP method, on the detail URL).
_ACTIONS = {
    "list": ("GET", False),
    "create": ("POST", False),
    "retrieve": ("GET", True),
    "update": ("PUT", True),
    "partial_update": ("PATCH", True),
    "destroy": ("DELETE", True),
}
#: What framework base classes bring, by their last name: HTTP methods or view set actions.
_BASE_METHODS: Mapping[str, tuple[str, ...]] = {
    "TemplateView": ("get",),
    "DetailView": ("get",),
    "ListView": ("get",),
    "RedirectView": ("get",),
    "ArchiveIndexView": ("get",),
    "FormView": ("get", "post"),
    "CreateView": ("get", "post"),
    "UpdateView": ("get", "post"),
    "DeleteView": ("get", "post"),
    "LoginView": ("get", "post"),
    "LogoutView": ("post",),
    "ListAPIView": ("get",),
    "RetrieveAPIView": ("get",),
    "CreateAPIView": ("post",),
    "DestroyAPIView": ("delete",),
    "UpdateAPIView": ("put", "patch"),
    "ListCreateAPIView": ("get", "post"),
    "RetrieveUpdateAPIView": ("get", "put", "patch"),
    "RetrieveDestroyAPIView": ("get", "delete"),
    "RetrieveUpdateDestroyAPIView": ("get", "put", "patch", "delete"),
    "ModelViewSet": ("list", "create", "retrieve", "update", "partial_update", "destroy"),
    "ReadOnlyModelViewSet": ("list", "retrieve"),
    "ListModelMixin": ("list",),
    "CreateModelMixin": ("create",),
    "RetrieveModelMixin": ("retrieve",),
    "UpdateModelMixin": ("update", "partial_update"),
    "DestroyModelMixin": ("destroy",),
}
#: Last names of DRF classes as projects spell them (``generics.ListAPIView``).
_DRF_NAMES = re.compile(r"(?:APIView|ViewSet|ViewSetMixin|ModelMixin)$")


# -- per-file facts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FuncFacts:
    symbol: str
    line: int
    #: Methods a decorator restricts the view to (``@api_view``, ``@require_POST``); () if none.
    methods: tuple[str, ...] = ()
    drf: bool = False


@dataclass(frozen=True, slots=True)
class ActionFacts:
    name: str
    line: int
    detail: bool
    methods: tuple[str, ...]
    url_path: str


@dataclass(frozen=True, slots=True)
class ExposeFacts:
    """Flask-AppBuilder's ``@expose(path, methods=[...])`` on a view or API class method."""

    name: str
    line: int
    path: str
    methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ViewFacts:
    name: str
    line: int
    bases: tuple[Ref, ...]
    #: Last names of the bases as written (``ModelViewSet``), for framework classes.
    base_names: tuple[str, ...]
    methods: tuple[tuple[str, int], ...]
    actions: tuple[ActionFacts, ...] = ()
    exposes: tuple[ExposeFacts, ...] = ()
    #: String class attributes that shape URLs: lookup_field, route_base, resource_name, ...
    attrs: tuple[tuple[str, str], ...] = ()

    def attr(self, key: str) -> str | None:
        return next((v for k, v in self.attrs if k == key), None)


@dataclass(frozen=True, slots=True)
class DecoratedFacts:
    """``@owner.get("/path")`` on a function."""

    owner: Ref
    attr: str
    methods: tuple[str, ...]
    path: str
    literal: bool
    symbol: str
    line: int


@dataclass(frozen=True, slots=True)
class OwnerFacts:
    """An app, router or blueprint object assigned to a name."""

    qualname: str
    framework: str
    prefix: str


@dataclass(frozen=True, slots=True)
class IncludeFacts:
    """``parent.include_router(child, prefix=...)``, ``register_blueprint``, ``mount``."""

    parent: Ref
    child: Ref
    prefix: str | None
    #: Flask's ``url_prefix`` replaces the blueprint's own; FastAPI's ``prefix`` adds to it.
    replaces: bool


@dataclass(frozen=True, slots=True)
class UrlEntry:
    """One ``path()``/``re_path()``/``url()``/``Route()``/``Mount()`` of a pattern list."""

    path: str
    kind: str  # "view", "include", "router"
    target: Ref
    line: int
    framework: str = "django"
    as_view: bool = False
    #: ``ViewSet.as_view({"get": "list"})``.
    mapping: tuple[tuple[str, str], ...] = ()
    methods: tuple[str, ...] = ()
    name: str = ""
    children: tuple[UrlEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisterFacts:
    router: str
    prefix: str
    viewset: Ref
    line: int


@dataclass(frozen=True, slots=True)
class CallFacts:
    """A route registered by a call: ``add_url_rule``, ``add_api_route``, ``web.get``, ..."""

    framework: str
    owner: Ref
    methods: tuple[str, ...]
    path: str
    target: Ref
    line: int
    as_view: bool = False


@dataclass(frozen=True, slots=True)
class SerializerFacts:
    """A DRF serializer: its model and the relation paths it reads from each object.

    ``paths`` pairs a field with the attribute path it traverses: a nested serializer
    (``author = AuthorSerializer()`` -> ``author``), a dotted ``source=`` (``author.name``),
    a related field over many objects, and ``obj.<x>.<...>`` reads in the method of a
    ``SerializerMethodField``. Whether a path starts with a relation is decided against the
    model index by the rule.
    """

    qualname: str
    model: Ref
    paths: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RouteFacts:
    path: str
    module: str
    #: Web frameworks the file imports (top-level module names).
    frameworks: tuple[str, ...] = ()
    functions: tuple[FuncFacts, ...] = ()
    views: tuple[ViewFacts, ...] = ()
    decorated: tuple[DecoratedFacts, ...] = ()
    owners: tuple[OwnerFacts, ...] = ()
    includes: tuple[IncludeFacts, ...] = ()
    #: Module-level pattern lists: variable name -> entries.
    patterns: tuple[tuple[str, tuple[UrlEntry, ...]], ...] = ()
    registers: tuple[RegisterFacts, ...] = ()
    calls: tuple[CallFacts, ...] = ()
    #: Names the file imports: local name -> qualified candidates (to follow re-exports).
    aliases: tuple[tuple[str, Ref], ...] = ()
    #: Handlers (``func``, ``Class.method``) of DELETE-like names that declare a 204.
    no_content: tuple[str, ...] = ()
    serializers: tuple[SerializerFacts, ...] = ()


@per_text
def may_define_routes(data: bytes | str) -> bool:
    """The cheap textual test: False means the file declares no route and no view."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not any(key in raw for key in _KEYS):
        return False
    return any(
        key in raw and (pattern is None or pattern.search(raw) is not None)
        for key, pattern in _ROUTE_TESTS
    )


_WEB_MODULES = (
    "django",
    "rest_framework",
    "flask",
    "fastapi",
    "starlette",
    "aiohttp",
    "quart",
    "flask_appbuilder",
    "flask_restful",
    "flask_restx",
    "apiflask",
)


def route_facts(body: Sequence[ast.stmt], module: str, path: str, imports: Imports) -> RouteFacts:
    """The raw route facts of one parsed file."""
    reader = _Reader(module, imports)
    reader.read(body)
    frameworks = sorted(
        {t.split(".", 1)[0] for ts in imports.bindings.values() for t in ts} & set(_WEB_MODULES)
    )
    return RouteFacts(
        path=path,
        module=module,
        frameworks=tuple(frameworks),
        functions=tuple(reader.functions),
        views=tuple(reader.views),
        decorated=tuple(reader.decorated),
        owners=tuple(reader.owners.values()),
        includes=tuple(reader.includes),
        patterns=tuple((k, tuple(v)) for k, v in reader.patterns.items()),
        registers=tuple(reader.registers),
        calls=tuple(reader.calls),
        no_content=tuple(reader.no_content),
        serializers=tuple(reader.serializers),
        aliases=tuple(
            (local, tuple(sorted(targets)))
            for local, targets in sorted(imports.bindings.items())
            if targets != {local}
        ),
    )


def _last(node: ast.expr) -> str:
    name = dotted(node.func if isinstance(node, ast.Call) else node) or ""
    return name.rpartition(".")[2]


def _text(node: ast.expr | None) -> tuple[str, bool]:
    """A path expression as text, and whether it was a plain literal.

    Unknown parts show as ``{expr}``: ``f"{API}/users"`` gives ``{API}/users``.
    """
    if node is None:
        return "", True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, True
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append(part.value)
            elif isinstance(part, ast.FormattedValue):
                out.append("{" + (dotted(part.value) or "?") + "}")
        return "".join(out), False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, _ = _text(node.left)
        right, _ = _text(node.right)
        return left + right, False
    name = dotted(node)
    if name is None:
        try:
            name = ast.unparse(node)
        except (ValueError, RecursionError):  # pragma: no cover - unparse reads any tree
            name = "?"
        name = name if len(name) <= 60 else "?"
    return "{" + name + "}", False


def _strings(node: ast.expr | None) -> tuple[str, ...]:
    """Upper-case method names of a literal (``"*"``, aiohttp's any method, is ``ANY``)."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    elif isinstance(node, ast.Constant):
        values = [node.value]
    else:
        return ()
    return tuple(
        "ANY" if value == "*" else value.upper() for value in values if isinstance(value, str)
    )


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return _kw(call, name)


_REQUIRE = {
    "require_GET": ("GET",),
    "require_POST": ("POST",),
    "require_safe": ("GET", "HEAD"),
}


class _Reader:
    def __init__(self, module: str, imports: Imports) -> None:
        self.module = module
        self.imports = imports
        self.functions: list[FuncFacts] = []
        self.views: list[ViewFacts] = []
        self.decorated: list[DecoratedFacts] = []
        self.owners: dict[str, OwnerFacts] = {}
        self.includes: list[IncludeFacts] = []
        self.patterns: dict[str, list[UrlEntry]] = {}
        self.registers: list[RegisterFacts] = []
        self.calls: list[CallFacts] = []
        self._routers: set[str] = set()
        self.no_content: list[str] = []
        self.serializers: list[SerializerFacts] = []

    def note_status(self, node: ast.FunctionDef | ast.AsyncFunctionDef, symbol: str) -> None:
        """Remember handlers that may delete and declare ``204 No Content``."""
        name = node.name.lower()
        if not any(w in name for w in ("delete", "destroy", "remove")) and not any(
            isinstance(d, ast.Call) and _last(d) == "delete" for d in node.decorator_list
        ):
            return
        for inner in ast.walk(node):
            if (isinstance(inner, ast.Constant) and inner.value == 204) or (
                isinstance(inner, ast.Attribute | ast.Name)
                and (
                    "NO_CONTENT" in (inner.attr if isinstance(inner, ast.Attribute) else inner.id)
                    or "HTTP_204" in (inner.attr if isinstance(inner, ast.Attribute) else inner.id)
                )
            ):
                self.no_content.append(symbol)
                return

    def ref(self, node: ast.expr) -> Ref:
        name = dotted(node)
        if name is None:
            return ()
        if name.partition(".")[0] in self.imports.bindings:
            return self.imports.resolve(name)
        return (f"{self.module}.{name}",)

    # -- statements ---------------------------------------------------------------------

    def read(self, body: Sequence[ast.stmt]) -> None:
        for node in flat_statements(body):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(node, node.name)
            elif isinstance(node, ast.ClassDef):
                self.view(node)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                self.assign(node)
        # Registrations can sit anywhere (app factories, loops): every call of the file.
        for inner in ast.walk(ast.Module(body=list(body), type_ignores=[])):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                self.call(inner)

    def assign(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        if isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, ast.Name)]
        else:
            targets = [node.target] if isinstance(node.target, ast.Name) else []
        value = node.value
        if not targets or value is None:
            return
        name = targets[0].id
        if isinstance(value, ast.Call):
            last = _last(value)
            if last in _OWNERS:
                prefix_node = _kw(value, "url_prefix" if _OWNERS[last] == "flask" else "prefix")
                prefix, _ = _text(prefix_node) if prefix_node is not None else ("", True)
                qual = f"{self.module}.{name}"
                self.owners[qual] = OwnerFacts(qual, _OWNERS[last], prefix)
                return
            if last in _ROUTERS or (
                last.endswith("Router") and "rest" in str(self.ref(value.func))
            ):
                self._routers.add(name)
                return
        entries = self.entries(value, loose=name == "urlpatterns")
        if entries is not None:
            if isinstance(node, ast.AugAssign):
                self.patterns.setdefault(name, []).extend(entries)
            else:
                self.patterns[name] = list(entries)

    def entries(self, value: ast.expr, *, loose: bool = False) -> list[UrlEntry] | None:
        """The pattern entries of a list expression, or None when it is not a pattern list.

        With ``loose``, a name that is not a local pattern list stands for one imported from
        elsewhere (``urlpatterns = common_patterns + [...]``).
        """
        if isinstance(value, ast.List | ast.Tuple):
            out = [e for item in value.elts for e in self.entry(item)]
            return out if out or not value.elts else None
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
            left = self.entries(value.left, loose=True)
            right = self.entries(value.right, loose=True)
            if left is None and right is None:
                return None
            return (left or []) + (right or [])
        if isinstance(value, ast.Attribute) and value.attr == "urls":
            return [UrlEntry("", "router", self.ref(value.value), value.lineno)]
        if isinstance(value, ast.Name) and value.id in self.patterns:
            return list(self.patterns[value.id])
        if loose and isinstance(value, ast.Name | ast.Attribute):
            return [UrlEntry("", "include", self.ref(value), value.lineno)]
        return None

    def entry(self, item: ast.expr) -> list[UrlEntry]:
        if isinstance(item, ast.Starred):
            return self.entries(item.value) or []
        if not isinstance(item, ast.Call):
            return []
        last = _last(item)
        if last in ("path", "re_path", "url"):
            return self.django_entry(item, regex=last != "path")
        if last in ("Route", "WebSocketRoute", "Mount", "Host"):
            return self.starlette_entry(item, last)
        if last in _LOWER_METHODS | {"view", "route"} and dotted(item.func) in (
            f"web.{last}",
            f"aiohttp.web.{last}",
        ):
            return []  # aiohttp ``web.get`` is read as a call (``add_routes``)
        return []

    def django_entry(self, call: ast.Call, *, regex: bool) -> list[UrlEntry]:
        route, _ = _text(_arg(call, 0, "route"))
        if regex:
            route = route.removeprefix("^").removesuffix("$").removesuffix("\\Z")
        target = _arg(call, 1, "view")
        name_node = _kw(call, "name")
        name = name_node.value if isinstance(name_node, ast.Constant) else ""
        name = name if isinstance(name, str) else ""
        if target is None:
            return []
        if isinstance(target, ast.Call) and _last(target) == "include":
            inner = target.args[0] if target.args else None
            if isinstance(inner, ast.Tuple) and inner.elts:
                inner = inner.elts[0]
            if inner is None:
                return []
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                return [UrlEntry(route, "include", (inner.value,), call.lineno, name=name)]
            if isinstance(inner, ast.Attribute) and inner.attr == "urls":
                return [UrlEntry(route, "router", self.ref(inner.value), call.lineno, name=name)]
            nested = (
                self.entries(inner)
                if isinstance(inner, ast.List | ast.Tuple | ast.BinOp | ast.Name)
                else None
            )
            if nested is not None:
                return [UrlEntry(route, "include", (), call.lineno, children=tuple(nested))]
            return [UrlEntry(route, "include", self.ref(inner), call.lineno, name=name)]
        if isinstance(target, ast.Tuple) or (
            isinstance(target, ast.Attribute) and target.attr == "urls"
        ):  # ``path("admin/", admin.site.urls)``: an app's own URLs, not known here
            return []
        return [self.view_entry(route, target, call.lineno, name)]

    def view_entry(
        self, route: str, target: ast.expr, line: int, name: str, framework: str = "django"
    ) -> UrlEntry:
        as_view = False
        mapping: tuple[tuple[str, str], ...] = ()
        if isinstance(target, ast.Call) and _last(target) in ("as_view", "as_asgi"):
            as_view = True
            if target.args and isinstance(target.args[0], ast.Dict):
                mapping = tuple(
                    (k.value.upper(), v.value)
                    for k, v in zip(target.args[0].keys, target.args[0].values, strict=False)
                    if isinstance(k, ast.Constant)
                    and isinstance(k.value, str)
                    and isinstance(v, ast.Constant)
                    and isinstance(v.value, str)
                )
            target = target.func.value if isinstance(target.func, ast.Attribute) else target
        elif isinstance(target, ast.Call):
            target = target.func  # a decorator applied in place: ``login_required(view)``
            # the wrapped view is the first argument when the callee is a known wrapper
        return UrlEntry(
            route,
            "view",
            self.ref(target),
            line,
            framework=framework,
            as_view=as_view,
            mapping=mapping,
            name=name,
        )

    def starlette_entry(self, call: ast.Call, last: str) -> list[UrlEntry]:
        route, _ = _text(_arg(call, 0, "path"))
        if last in ("Mount", "Host"):
            routes = _kw(call, "routes")
            nested = self.entries(routes) if routes is not None else None
            if nested is not None:
                return [
                    UrlEntry(route, "include", (), call.lineno, "starlette", children=tuple(nested))
                ]
            app = _arg(call, 1, "app")
            if app is None:
                return []
            return [UrlEntry(route, "include", self.ref(app), call.lineno, "starlette")]
        endpoint = _arg(call, 1, "endpoint")
        if endpoint is None:
            return []
        methods = ("WS",) if last == "WebSocketRoute" else _strings(_kw(call, "methods"))
        entry = self.view_entry(route, endpoint, call.lineno, "", "starlette")
        return [
            UrlEntry(
                entry.path,
                "view",
                entry.target,
                entry.line,
                "starlette",
                methods=methods,
            )
        ]

    # -- functions and classes ------------------------------------------------------------

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, symbol: str) -> None:
        methods: tuple[str, ...] = ()
        drf = False
        for decorator in node.decorator_list:
            callee = decorator.func if isinstance(decorator, ast.Call) else decorator
            last = _last(callee)
            if last == "api_view":
                drf = True
                given = (
                    _strings(decorator.args[0])
                    if isinstance(decorator, ast.Call) and (decorator.args)
                    else ()
                )
                if isinstance(decorator, ast.Call) and not given:
                    given = _strings(_kw(decorator, "http_method_names"))
                methods = given or ("GET",)
            elif last in _REQUIRE:
                methods = _REQUIRE[last]
            elif last == "require_http_methods" and isinstance(decorator, ast.Call):
                methods = _strings(decorator.args[0]) if decorator.args else ()
            elif (
                isinstance(decorator, ast.Call)
                and isinstance(callee, ast.Attribute)
                and callee.attr in _DECORATOR_METHODS
            ):
                self.decorator(decorator, callee, symbol, node.lineno)
        self.functions.append(FuncFacts(symbol, node.lineno, methods, drf))
        self.note_status(node, symbol)
        # Routes declared inside an app factory: ``def create_app(): @app.get(...) def f()``.
        for inner in flat_statements(node.body):
            if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(inner, f"{symbol}.{inner.name}")

    def decorator(self, call: ast.Call, callee: ast.Attribute, symbol: str, line: int) -> None:
        attr = callee.attr
        path_node = _arg(call, 0, "path") or _kw(call, "rule")
        first = call.args[0] if call.args else None
        if (
            attr == "route"
            and len(call.args) >= 2
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and (first.value == "*" or first.value.upper() in HTTP)
        ):
            path_node = call.args[1]  # aiohttp ``routes.route("GET", "/x")``
        if path_node is None:
            return
        path, literal = _text(path_node)
        if attr in _LOWER_METHODS:
            methods: tuple[str, ...] = (attr.upper(),)
        elif attr == "websocket":
            methods = ("WS",)
        elif attr == "view":
            methods = ("ANY",)
        else:
            methods = _strings(_kw(call, "methods"))
            if not methods and attr == "route" and len(call.args) >= 2:
                methods = _strings(call.args[0])
            methods = methods or ("GET",)
        self.decorated.append(
            DecoratedFacts(self.ref(callee.value), attr, methods, path, literal, symbol, line)
        )

    def serializer(self, node: ast.ClassDef) -> None:
        model: Ref = ()
        paths: list[tuple[str, str]] = []
        method_fields: dict[str, str] = {}
        functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for statement in node.body:
            if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
                for item in statement.body:
                    if isinstance(item, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "model" for t in item.targets
                    ):
                        model = self.ref(item.value)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                functions[statement.name] = statement
            elif (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Call)
            ):
                name = statement.targets[0].id
                call = statement.value
                last = _last(call)
                source = _kw(call, "source")
                text = source.value if isinstance(source, ast.Constant) else None
                text = text if isinstance(text, str) else None
                many = _kw(call, "many")
                is_many = isinstance(many, ast.Constant) and many.value is True
                if last == "SerializerMethodField":
                    given = _kw(call, "method_name")
                    method = given.value if isinstance(given, ast.Constant) else f"get_{name}"
                    method_fields[name] = str(method)
                elif text is not None and text != "*":
                    if "." in text or last.endswith("Serializer"):
                        paths.append((name, text))
                elif last.endswith("Serializer") or (
                    last.endswith("RelatedField") and (is_many or last != "PrimaryKeyRelatedField")
                ):
                    paths.append((name, name))
        for field_name, method in method_fields.items():
            func = functions.get(method)
            if func is None or len(func.args.args) < 2:
                continue
            obj = func.args.args[1].arg
            for inner in ast.walk(func):
                if (
                    isinstance(inner, ast.Attribute)
                    and isinstance(inner.value, ast.Attribute)
                    and isinstance(inner.value.value, ast.Name)
                    and inner.value.value.id == obj
                ):
                    paths.append((field_name, f"{inner.value.attr}.{inner.attr}"))
        if paths:
            qual = f"{self.module}.{node.name}"
            self.serializers.append(SerializerFacts(qual, model, tuple(sorted(set(paths)))))

    def view(self, node: ast.ClassDef) -> None:
        if any(_last(b).endswith("Serializer") for b in node.bases):
            self.serializer(node)
            return
        methods: list[tuple[str, int]] = []
        actions: list[ActionFacts] = []
        exposes: list[ExposeFacts] = []
        attrs: list[tuple[str, str]] = []
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                methods.append((statement.name, statement.lineno))
                self.note_status(statement, f"{node.name}.{statement.name}")
                for decorator in statement.decorator_list:
                    if not isinstance(decorator, ast.Call):
                        continue
                    last = _last(decorator.func)
                    if last == "action":
                        detail = _kw(decorator, "detail")
                        url_path = _kw(decorator, "url_path")
                        actions.append(
                            ActionFacts(
                                statement.name,
                                statement.lineno,
                                isinstance(detail, ast.Constant) and detail.value is True,
                                _strings(_kw(decorator, "methods")) or ("GET",),
                                _text(url_path)[0] if url_path is not None else statement.name,
                            )
                        )
                    elif last == "expose":
                        path, _ = _text(_arg(decorator, 0, "url"))
                        exposes.append(
                            ExposeFacts(
                                statement.name,
                                statement.lineno,
                                path or "/",
                                _strings(_kw(decorator, "methods")) or ("GET",),
                            )
                        )
            elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                value = statement.value
                if (
                    isinstance(target, ast.Name)
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    attrs.append((target.id, value.value))
                elif isinstance(target, ast.Name) and target.id == "http_method_names":
                    attrs.append(("http_method_names", ",".join(_strings(value))))
        self.views.append(
            ViewFacts(
                name=node.name,
                line=node.lineno,
                bases=tuple(self.ref(b) for b in node.bases),
                base_names=tuple(_last(b) for b in node.bases),
                methods=tuple(methods),
                actions=tuple(actions),
                exposes=tuple(exposes),
                attrs=tuple(attrs),
            )
        )

    # -- calls ----------------------------------------------------------------------------

    def call(self, node: ast.Call) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        attr = func.attr
        if attr in ("include_router", "register_blueprint", "mount") and node.args:
            child = node.args[1] if attr == "mount" and len(node.args) > 1 else node.args[0]
            if attr == "mount":
                prefix_node: ast.expr | None = node.args[0] if len(node.args) > 1 else None
                if len(node.args) < 2:
                    return
            else:
                prefix_node = _kw(node, "url_prefix" if attr == "register_blueprint" else "prefix")
            prefix = _text(prefix_node)[0] if prefix_node is not None else None
            self.includes.append(
                IncludeFacts(
                    self.ref(func.value), self.ref(child), prefix, attr == "register_blueprint"
                )
            )
        elif attr == "register" and len(node.args) >= 2:
            router = dotted(func.value)
            first = node.args[0]
            # DRF routers: built here from a ``*Router`` class, or named like one (other
            # registries also take a string and a class).
            if (
                router is not None
                and (router in self._routers or "router" in router.rsplit(".", 1)[-1].lower())
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                qual = self.ref(func.value)
                self.registers.append(
                    RegisterFacts(
                        qual[0] if qual else router,
                        first.value,
                        self.ref(node.args[1]),
                        node.lineno,
                    )
                )
        elif attr == "add_url_rule":
            self.add_url_rule(node, func)
        elif attr in ("add_api_route", "add_route", "add_api_websocket_route"):
            path, _ = _text(_arg(node, 0, "path"))
            endpoint = _arg(node, 1, "endpoint") or _kw(node, "route")
            if endpoint is None:
                return
            methods = _strings(_kw(node, "methods"))
            framework = "fastapi" if attr != "add_route" else "starlette"
            if attr == "add_route" and _last(func.value) == "router" and len(node.args) >= 3:
                # aiohttp ``app.router.add_route("GET", "/x", handler)``
                framework = "aiohttp"
                methods = _strings(node.args[0])
                path, _ = _text(node.args[1])
                endpoint = node.args[2]
            if attr == "add_api_websocket_route":
                methods = ("WS",)
            self.add_call(framework, func.value, methods or ("GET",), path, endpoint, node)
        elif (
            attr.startswith("add_")
            and attr[4:] in _LOWER_METHODS | {"view"}
            and len(node.args) >= 2
            and (dotted(func.value) or "").endswith("router")
        ):  # aiohttp ``app.router.add_get("/x", handler)``
            path, _ = _text(node.args[0])
            methods = ("ANY",) if attr == "add_view" else (attr[4:].upper(),)
            self.add_call("aiohttp", func.value, methods, path, node.args[1], node)
        elif (
            attr in _LOWER_METHODS | {"view", "route"}
            and dotted(func) in (f"web.{attr}", f"aiohttp.web.{attr}")
            and len(node.args) >= 2
        ):
            if attr == "route":
                if len(node.args) < 3:
                    return
                methods = _strings(node.args[0])
                path, _ = _text(node.args[1])
                handler = node.args[2]
            else:
                methods = ("ANY",) if attr == "view" else (attr.upper(),)
                path, _ = _text(node.args[0])
                handler = node.args[1]
            self.add_call("aiohttp", func.value, methods, path, handler, node)
        elif attr == "add_resource" and len(node.args) >= 2:
            for arg in node.args[1:]:
                path, _ = _text(arg)
                self.add_call("flask", func.value, ("ANY",), path, node.args[0], node, as_view=True)
        elif attr in ("append", "extend", "insert") and isinstance(func.value, ast.Name):
            var = func.value.id
            if var in self.patterns or var == "urlpatterns":
                items = node.args[-1:] if node.args else []
                found: list[UrlEntry] = []
                for item in items:
                    found.extend(
                        (self.entries(item) or []) if attr == "extend" else self.entry(item)
                    )
                if found:
                    self.patterns.setdefault(var, []).extend(found)

    def add_url_rule(self, node: ast.Call, func: ast.Attribute) -> None:
        path, _ = _text(_arg(node, 0, "rule"))
        view = _kw(node, "view_func")
        if view is None and len(node.args) >= 3:
            view = node.args[2]
        if view is None:
            return
        methods = _strings(_kw(node, "methods"))
        as_view = isinstance(view, ast.Call) and _last(view) == "as_view"
        if as_view:
            assert isinstance(view, ast.Call)
            view = view.func.value if isinstance(view.func, ast.Attribute) else view.func
        self.add_call("flask", func.value, methods, path, view, node, as_view=as_view)

    def add_call(
        self,
        framework: str,
        owner: ast.expr,
        methods: tuple[str, ...],
        path: str,
        target: ast.expr,
        node: ast.Call,
        *,
        as_view: bool = False,
    ) -> None:
        if isinstance(target, ast.Call) and _last(target) == "as_view":
            as_view = True
            target = target.func.value if isinstance(target.func, ast.Attribute) else target
        self.calls.append(
            CallFacts(
                framework, self.ref(owner), methods, path, self.ref(target), node.lineno, as_view
            )
        )


# -- resolution ------------------------------------------------------------------------------


class _Table:
    """Qualified name -> value, looked up also through re-exports and other import roots."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[RouteFacts, object]] = {}
        self.by_name: dict[str, list[str]] = {}

    def find_through(self, ref: Ref, aliases: Mapping[str, Ref]) -> str | None:
        """``find``, also through names a module imports from another (re-exports)."""
        found = self.find(ref)
        for _ in range(3):
            if found is not None:
                return found
            ref = tuple(q for name in ref for q in aliases.get(name, ()))
            if not ref:
                return None
            found = self.find(ref)
        return found

    def add(self, qualname: str, file: RouteFacts, value: object) -> None:
        if qualname not in self.items:
            self.items[qualname] = (file, value)
            self.by_name.setdefault(qualname.rpartition(".")[2], []).append(qualname)

    def find(self, ref: Ref) -> str | None:
        found: set[str] = set()
        for qualname in ref:
            if qualname in self.items:
                found.add(qualname)
                continue
            module, _, name = qualname.rpartition(".")
            candidates = self.by_name.get(name, ())
            inside = [c for c in candidates if module and c.startswith(module + ".")]
            if len(inside) == 1:
                found.add(inside[0])
                continue
            suffix = [
                c for c in candidates if c.endswith("." + qualname) or qualname.endswith("." + c)
            ]
            if len(suffix) == 1:
                found.add(suffix[0])
        return next(iter(found)) if len(found) == 1 else None


@dataclass
class _Resolver:
    files: Sequence[RouteFacts]
    functions: _Table = field(default_factory=_Table)
    views: _Table = field(default_factory=_Table)
    owners: _Table = field(default_factory=_Table)
    modules: _Table = field(default_factory=_Table)
    lists: _Table = field(default_factory=_Table)
    registers: dict[str, list[tuple[RouteFacts, RegisterFacts]]] = field(default_factory=dict)
    out: set[Route] = field(default_factory=set)
    #: ``module.local`` -> what that imported name stands for.
    aliases: dict[str, Ref] = field(default_factory=dict)
    #: ``(file, symbol)`` of handlers that declare 204, and of every function and method.
    no_content: set[tuple[str, str]] = field(default_factory=set)
    defined: set[tuple[str, str]] = field(default_factory=set)
    used_routers: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for file in self.files:
            self.no_content.update((file.path, symbol) for symbol in file.no_content)
            self.defined.update((file.path, f.symbol) for f in file.functions)
            self.defined.update(
                (file.path, f"{v.name}.{m}") for v in file.views for m, _ in v.methods
            )
            for local, targets in file.aliases:
                self.aliases[f"{file.module}.{local}"] = targets
            for func in file.functions:
                self.functions.add(f"{file.module}.{func.symbol}", file, func)
            for view in file.views:
                self.views.add(f"{file.module}.{view.name}", file, view)
            for owner in file.owners:
                self.owners.add(owner.qualname, file, owner)
            for var, entries in file.patterns:
                self.lists.add(f"{file.module}.{var}", file, entries)
                if var == "urlpatterns":
                    self.modules.add(file.module, file, entries)
            for register in file.registers:
                self.registers.setdefault(register.router, []).append((file, register))

    # -- FastAPI, Flask, aiohttp: decorators and calls -------------------------------------

    def prefixes(self, owner: str, depth: int = 0) -> list[str]:
        """Every prefix the routes of ``owner`` are served under."""
        found = self.owners.items.get(owner)
        own = found[1].prefix if found is not None and isinstance(found[1], OwnerFacts) else ""
        if depth > 8:
            return [own]
        out: list[str] = []
        for file in self.files:
            for include in file.includes:
                if self.owners.find(include.child) != owner:
                    continue
                parent = self.owners.find(include.parent)
                parents = self.prefixes(parent, depth + 1) if parent and parent != owner else [""]
                middle = include.prefix or ""
                tail = "" if include.replaces and include.prefix is not None else own
                out.extend(_join(_join(p, middle), tail) for p in parents)
        return sorted(set(out)) or [own]

    def framework_of(self, owner: str | None, file: RouteFacts, default: str) -> str:
        if owner is not None:
            found = self.owners.items[owner][1]
            assert isinstance(found, OwnerFacts)
            return found.framework
        return default

    def decorated(self, file: RouteFacts) -> None:
        guess = _guess_framework(file)
        for item in file.decorated:
            owner = self.owners.find(item.owner)
            if owner is None and not (
                file.frameworks and item.literal and (item.path == "" or item.path.startswith("/"))
            ):
                continue
            framework = self.framework_of(owner, file, guess)
            prefixes = self.prefixes(owner) if owner is not None else [""]
            for prefix in prefixes:
                for method in item.methods:
                    self.add(
                        method, _join(prefix, item.path), file, item.symbol, item.line, framework
                    )

    def calls(self, file: RouteFacts) -> None:
        for item in file.calls:
            owner = self.owners.find(item.owner)
            framework = self.framework_of(owner, file, item.framework)
            if framework == "fastapi" and item.framework == "starlette":
                framework = "fastapi"
            prefixes = self.prefixes(owner) if owner is not None else [""]
            for prefix in prefixes:
                path = _join(prefix, item.path)
                if item.as_view or item.methods == ("ANY",):
                    view = self.views.find_through(item.target, self.aliases)
                    if view is not None:
                        self.class_view(view, path, framework, item.methods)
                        continue
                self.handler(
                    item.target, item.methods or ("GET",), path, framework, file, item.line
                )

    def handler(
        self,
        target: Ref,
        methods: tuple[str, ...],
        path: str,
        framework: str,
        file: RouteFacts,
        line: int,
    ) -> None:
        func = self.functions.find_through(target, self.aliases)
        if func is not None:
            where, facts = self.functions.items[func]
            assert isinstance(facts, FuncFacts)
            for method in methods:
                self.add(method, path, where, facts.symbol, facts.line, framework)
            return
        symbol = target[0] if target else "?"
        for method in methods:
            # Unresolved: the handler is named as written, at the line that registers it.
            self.add(method, path, file, symbol, line, framework, resolved=False)

    # -- class-based views ----------------------------------------------------------------

    def lineage(self, qualname: str) -> list[tuple[RouteFacts, ViewFacts]]:
        """The class and its project bases, nearest first (depth-first, no repeats)."""
        out: list[tuple[RouteFacts, ViewFacts]] = []
        seen: set[str] = set()
        stack = [qualname]
        while stack and len(out) < 30:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            file, view = self.views.items[current]
            assert isinstance(view, ViewFacts)
            out.append((file, view))
            for base in reversed(view.bases):
                found = self.views.find(base)
                if found is not None:
                    stack.append(found)
        return out

    def http_methods(self, qualname: str) -> list[tuple[str, RouteFacts, str, int]]:
        """``(METHOD, file, symbol, line)`` for each HTTP method a view class answers."""
        lineage = self.lineage(qualname)
        own_file, own = lineage[0]
        found: dict[str, tuple[RouteFacts, str, int]] = {}
        allowed: tuple[str, ...] | None = None
        for file, view in lineage:
            names = view.attr("http_method_names")
            if names is not None and allowed is None:
                allowed = tuple(n.upper() for n in names.split(",") if n)
            for name, line in view.methods:
                if name in _LOWER_METHODS and name.upper() not in found:
                    found[name.upper()] = (file, f"{view.name}.{name}", line)
            for base in view.base_names:
                for name in _BASE_METHODS.get(base, ()):
                    if name in _LOWER_METHODS and name.upper() not in found:
                        found[name.upper()] = (own_file, f"{own.name}.{name}", own.line)
        if "GET" in found and "HEAD" in found and found["HEAD"][1].endswith(".get"):
            del found["HEAD"]
        return [
            (m, f, s, line) for m, (f, s, line) in found.items() if allowed is None or m in allowed
        ]

    def viewset_actions(self, qualname: str) -> list[tuple[str, RouteFacts, str, int]]:
        """``(action, file, symbol, line)`` for the standard actions a view set provides."""
        lineage = self.lineage(qualname)
        own_file, own = lineage[0]
        found: dict[str, tuple[RouteFacts, str, int]] = {}
        for file, view in lineage:
            for name, line in view.methods:
                if name in _ACTIONS and name not in found:
                    found[name] = (file, f"{view.name}.{name}", line)
            for base in view.base_names:
                for name in _BASE_METHODS.get(base, ()):
                    if name in _ACTIONS and name not in found:
                        found[name] = (own_file, f"{own.name}.{name}", own.line)
        return [(a, f, s, line) for a, (f, s, line) in found.items()]

    def is_viewset(self, qualname: str) -> bool:
        return any(
            "ViewSet" in base or base == "ViewSetMixin"
            for _, view in self.lineage(qualname)
            for base in view.base_names
        )

    def is_drf(self, qualname: str) -> bool:
        return any(
            _DRF_NAMES.search(base) is not None or any(r.startswith("rest_framework.") for r in ref)
            for _, view in self.lineage(qualname)
            for base, ref in zip(view.base_names, view.bases, strict=False)
        )

    def class_view(
        self,
        qualname: str,
        path: str,
        framework: str,
        methods: tuple[str, ...] = (),
        mapping: tuple[tuple[str, str], ...] = (),
    ) -> None:
        if self.is_drf(qualname):
            framework = "drf"
        if mapping:
            lineage = self.lineage(qualname)
            defined = {
                name: (file, f"{view.name}.{name}", line)
                for file, view in reversed(lineage)
                for name, line in view.methods
            }
            own_file, own = lineage[0]
            for method, action in mapping:
                file, symbol, line = defined.get(
                    action, (own_file, f"{own.name}.{action}", own.line)
                )
                self.add(method, path, file, symbol, line, framework)
            return
        found = self.http_methods(qualname)
        if not found:
            file, view = self.views.items[qualname]
            assert isinstance(view, ViewFacts)
            self.add("ANY", path, file, view.name, view.line, framework)
        for method, file, symbol, line in found:
            if methods and methods not in (("ANY",), ("GET",)) and method not in methods:
                continue
            self.add(method, path, file, symbol, line, framework)

    def viewset(self, qualname: str, prefix: str) -> None:
        lookup = None
        for _, view in self.lineage(qualname):
            lookup = view.attr("lookup_url_kwarg") or view.attr("lookup_field")
            if lookup:
                break
        detail = _join(prefix, f"<{lookup or 'pk'}>/")
        for action, file, symbol, line in self.viewset_actions(qualname):
            method, on_detail = _ACTIONS[action]
            self.add(method, detail if on_detail else prefix, file, symbol, line, "drf")
        seen: set[str] = set()
        for file, view in self.lineage(qualname):
            for extra in view.actions:
                if extra.name in seen:
                    continue
                seen.add(extra.name)
                base = detail if extra.detail else prefix
                for method in extra.methods:
                    path = _join(base, extra.url_path.strip("^$").rstrip("/") + "/")
                    self.add(method, path, file, f"{view.name}.{extra.name}", extra.line, "drf")

    # -- Django and Starlette pattern lists --------------------------------------------------

    def patterns(
        self, entries: Sequence[UrlEntry], prefix: str, file: RouteFacts, depth: int = 0
    ) -> None:
        if depth > 10:
            return
        for entry in entries:
            path = _join(prefix, entry.path)
            if entry.kind == "include":
                if entry.children:
                    self.patterns(entry.children, path, file, depth + 1)
                    continue
                found = self.lists.find(entry.target) or self.lists.find(
                    tuple(f"{t}.urlpatterns" for t in entry.target)
                )
                if found is not None:
                    where, nested = self.lists.items[found]
                    assert isinstance(nested, tuple)
                    self.patterns(nested, path, where, depth + 1)
                    continue
            elif entry.kind == "router":
                self.router(self.routers(entry.target), path)
            else:
                self.view(entry, path, file)

    def router(self, registers: Sequence[tuple[RouteFacts, RegisterFacts]], path: str) -> None:
        for where, register in registers:
            self.used_routers.add(register.router)
            vs = self.views.find_through(register.viewset, self.aliases)
            route = _join(path, register.prefix.strip("^$").rstrip("/") + "/")
            if vs is not None:
                self.viewset(vs, route)
            else:
                symbol = register.viewset[0] if register.viewset else "?"
                self.add("ANY", route, where, symbol, register.line, "drf", resolved=False)

    def routers(self, target: Ref) -> list[tuple[RouteFacts, RegisterFacts]]:
        for name in target:
            if name in self.registers:
                return self.registers[name]
        found = [
            r
            for name in target
            for key, r in self.registers.items()
            if key.endswith("." + name.rpartition(".")[2]) and name.endswith(key.rpartition(".")[2])
        ]
        return found[0] if len(found) == 1 else []

    def view(self, entry: UrlEntry, path: str, file: RouteFacts) -> None:
        framework = entry.framework
        view = self.views.find_through(entry.target, self.aliases)
        if view is not None and (entry.as_view or framework == "starlette"):
            if entry.mapping or self.is_viewset(view):
                self.class_view(view, path, framework, mapping=entry.mapping)
            else:
                self.class_view(view, path, framework, entry.methods)
            return
        func = self.functions.find_through(entry.target, self.aliases)
        if func is not None:
            where, facts = self.functions.items[func]
            assert isinstance(facts, FuncFacts)
            methods = entry.methods or facts.methods
            if not methods:
                methods = ("GET",) if framework == "starlette" else ("ANY",)
            fw = "drf" if facts.drf else framework
            for method in methods:
                self.add(method, path, where, facts.symbol, facts.line, fw)
            return
        symbol = entry.target[0] if entry.target else "<lambda>"
        methods = entry.methods
        if not methods and entry.as_view:
            # A framework's generic view used directly: ``TemplateView.as_view(...)``.
            given = _BASE_METHODS.get(symbol.rpartition(".")[2], ())
            methods = tuple(m.upper() for m in given if m in _LOWER_METHODS)
        for method in methods or ("ANY",):
            self.add(method, path, file, symbol, entry.line, framework, resolved=False)

    # -- Flask-AppBuilder ---------------------------------------------------------------

    def appbuilder(self, file: RouteFacts) -> None:
        for view in file.views:
            if not view.exposes:
                continue
            base = view.attr("route_base")
            resource = view.attr("resource_name")
            api = resource is not None or any("Api" in b for b in view.base_names)
            if base is None:
                name = resource or view.name.lower()
                base = f"/api/{view.attr('version') or 'v1'}/{name}" if api else f"/{name}"
            # Model views and plain views serve HTML pages; ``*Api`` classes serve data.
            framework = "flask-appbuilder" if api else "flask-appbuilder-view"
            for expose in view.exposes:
                for method in expose.methods:
                    self.add(
                        method,
                        _join(base, expose.path),
                        file,
                        f"{view.name}.{expose.name}",
                        expose.line,
                        framework,
                    )

    # -- driver ---------------------------------------------------------------------------

    def run(self) -> tuple[Route, ...]:
        included: set[str] = set()
        for file in self.files:
            for _, entries in file.patterns:
                for entry in _walk(entries):
                    if entry.kind == "include" and entry.target:
                        found = self.lists.find(entry.target) or self.lists.find(
                            tuple(f"{t}.urlpatterns" for t in entry.target)
                        )
                        if found is not None:
                            included.add(found)
        for file in self.files:
            self.decorated(file)
            self.calls(file)
            self.appbuilder(file)
            for var, entries in file.patterns:
                qual = f"{file.module}.{var}"
                if qual in included or (var != "urlpatterns" and not _starlette(entries)):
                    continue
                self.patterns(entries, "", file)
        # A router no pattern list includes (``include(router.urls)`` elsewhere, unresolved):
        # its routes are listed from the root.
        for name, registers in sorted(self.registers.items()):
            if name not in self.used_routers:
                self.router(registers, "")
        return tuple(sorted(self.out, key=Route.sort_key))

    def add(
        self,
        method: str,
        path: str,
        file: RouteFacts,
        symbol: str,
        line: int,
        framework: str,
        *,
        resolved: bool = True,
    ) -> None:
        handler = f"{file.module}.{symbol}" if resolved else symbol
        key = (file.path, symbol)
        # DRF's own ``destroy`` (not overridden) answers 204.
        no_content = key in self.no_content or (
            method == "DELETE" and framework == "drf" and resolved and key not in self.defined
        )
        self.out.add(
            Route(
                method=method.upper(),
                path=_normal(path),
                handler=handler,
                symbol=symbol if resolved else "",
                file=file.path,
                line=line,
                framework=framework,
                no_content=no_content,
            )
        )


def _walk(entries: Iterable[UrlEntry]) -> Iterator[UrlEntry]:
    for entry in entries:
        yield entry
        yield from _walk(entry.children)


def _starlette(entries: Sequence[UrlEntry]) -> bool:
    return any(e.framework == "starlette" for e in entries)


_GUESS = (
    ("fastapi", "fastapi"),
    ("flask", "flask"),
    ("quart", "flask"),
    ("apiflask", "flask"),
    ("aiohttp", "aiohttp"),
    ("starlette", "starlette"),
)


def _guess_framework(file: RouteFacts) -> str:
    """The framework of routes on an object the index could not trace (imported from afar)."""
    for module, framework in _GUESS:
        if module in file.frameworks:
            return framework
    return "web"


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    if prefix.endswith("/") and path.startswith("/"):
        return prefix + path[1:]
    if not prefix.endswith("/") and not path.startswith("/") and not path.startswith("{"):
        # Django concatenates (``"api/" + "orders/"``); FastAPI and Flask paths start with "/".
        return prefix + "/" + path if "/" in prefix or prefix.startswith("{") else prefix + path
    return prefix + path


_MULTI_SLASH = re.compile(r"/{2,}")


def _normal(path: str) -> str:
    path = path.removeprefix("^")
    if not path.startswith(("/", "{")):
        path = "/" + path
    return _MULTI_SLASH.sub("/", path)


def collect_routes(files: Sequence[RouteFacts]) -> tuple[Route, ...]:
    """Every route of the project, resolved across files, sorted."""
    if not files:
        return ()
    return _Resolver(sorted(files, key=lambda f: f.path)).run()
