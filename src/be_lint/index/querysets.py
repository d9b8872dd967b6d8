"""What the BE4xx rules know about queries inside one file: light value tracking of Django
query sets and SQLAlchemy queries, loops over their results, and the events the rules report.

One pass per file (shared by every ORM rule through a per-file cache) walks each scope -- the
module body and every function -- in source order. It keeps:

- the assignments of each local name, so ``qs = Order.objects.all()`` followed later by
  ``qs = qs.select_related("customer")`` and ``for order in qs`` is understood (flow-insensitive:
  eager loading added by any assignment counts, an assignment from something unknown makes the
  name unknown, which keeps the rules quiet);
- the loops being inside, and what each loop variable holds (a row of which query, with which
  relations loaded, reached through which relations);

and turns what it sees into events: a lazy relation touched once per row (BE401), a query run
per loop iteration (BE402), a write per iteration (BE403), a query set loaded only to be
counted or tested (BE404), a query set counted and then loaded (BE405).

Nothing here imports the checked code; models come from the project index (``ctx.project``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import libcst as cst

from be_lint.index.model import Eager, Model, Orm, ProjectIndex, Relation
from be_lint.prefilter import per_text
from be_lint.walker import children

if TYPE_CHECKING:
    from be_lint.context import FileContext

# -- vocabulary ----------------------------------------------------------------------------------

#: Django query set methods that return another query set of the same rows.
DJANGO_CHAIN = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "distinct",
        "reverse",
        "annotate",
        "alias",
        "using",
        "only",
        "defer",
        "select_for_update",
        "extra",
        "complex_filter",
        "none",
        "union",
        "intersection",
        "difference",
        "prefetch_related",
        "select_related",
    }
)
#: Django methods that run a query and return something other than rows.
DJANGO_READS = frozenset(
    {
        "get",
        "first",
        "last",
        "earliest",
        "latest",
        "count",
        "exists",
        "aggregate",
        "in_bulk",
        "contains",
        "explain",
    }
)
DJANGO_INSTANCE = frozenset({"get", "first", "last", "earliest", "latest"})
DJANGO_WRITES = frozenset({"create", "get_or_create", "update_or_create", "update", "delete"})
#: Methods of many-to-many and reverse foreign key managers that write.
DJANGO_MANAGER_WRITES = frozenset({"add", "remove", "set", "clear"})
#: Related-manager methods served from a ``prefetch_related`` cache.
PREFETCH_SERVED = frozenset({"all", "count", "exists"})

SA_QUERY_CHAIN = frozenset(
    {
        "filter",
        "filter_by",
        "where",
        "order_by",
        "join",
        "outerjoin",
        "join_from",
        "select_from",
        "limit",
        "offset",
        "distinct",
        "group_by",
        "having",
        "execution_options",
        "params",
        "yield_per",
        "enable_assertions",
        "populate_existing",
        "autoflush",
        "correlate",
        "with_for_update",
        "options",
        "unique",
        "slice",
    }
)
SA_QUERY_READS = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "count",
        "get",
        "exists",
        "first_or_404",
        "get_or_404",
        "one_or_404",
        "paginate",
    }
)
SA_QUERY_WRITES = frozenset({"delete", "update"})
SA_INSTANCE = frozenset(
    {
        "first",
        "one",
        "one_or_none",
        "scalar",
        "get",
        "first_or_404",
        "get_or_404",
        "one_or_404",
        "scalar_one",
        "scalar_one_or_none",
    }
)
SA_EAGER = frozenset(
    {
        "joinedload",
        "selectinload",
        "subqueryload",
        "immediateload",
        "contains_eager",
        "noload",
        "raiseload",
        "selectin_polymorphic",
    }
)
SA_LOADERS = SA_EAGER | {"defaultload", "lazyload", "Load"}
#: Relationship strategies that issue a query on first access.
SA_LAZY = frozenset({"select"})
SESSION_READS = frozenset({"execute", "scalars", "scalar", "get"})
CURSOR_READS = frozenset({"execute", "fetch", "fetchrow", "fetchval", "callproc"})

_SESSION_NAME = re.compile(r"session", re.IGNORECASE)
_QUERY_MARKERS = re.compile(r"\.objects\b|_manager\b|session|cursor|execute|fetch|\bconn")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9_]*")
_CURSOR_NAME = re.compile(r"^(?:.*cursor.*|cur|cr|curs|c|conn|con|connection|db_conn|db)$", re.I)
_BATCH_NAME = re.compile(r"chunk|batch|page|slice|partition|grouper|split", re.IGNORECASE)
_RETRY_NAME = re.compile(r"attempt|retr|tries|try_", re.IGNORECASE)
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|testing)/|(?:^|/)(?:test_[^/]*|[^/]*_tests?|conftest)\.py$"
)
_MIGRATION_PATH = re.compile(r"(?:^|/)(?:migrations|alembic|versions)/[^/]*\.py$")

#: Text any file must contain for the ORM rules to have something to look at.
ORM_TRIGGERS = (
    ".objects",
    "_manager",
    "query",
    "scalars",
    "execute",
    "select(",
    "session",
    ".all(",
    ".filter(",
    ".exclude(",
    ".order_by(",
    ".select_related(",
    ".prefetch_related(",
    ".annotate(",
    ".only(",
    ".defer(",
    ".using(",
    ".distinct(",
    "get_object_or_404",
    "get_list_or_404",
    "self.",
    "fetch",
)


def is_test_path(path: str) -> bool:
    """Test code (``tests/``, ``test_*.py``, ``conftest.py``): loops there build fixtures."""
    return _TEST_PATH.search(path.replace("\\", "/")) is not None


def is_migration_path(path: str) -> bool:
    """Django and Alembic migrations: run once, so their loops are not a performance risk."""
    return _MIGRATION_PATH.search(path.replace("\\", "/")) is not None


# -- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hop:
    """One relation followed from a query's rows: ``Order.items``."""

    model: str
    name: str
    many: bool


@dataclass(frozen=True, slots=True)
class Loading:
    """The relation paths a query loads up front (relative to the rows of its origin)."""

    paths: frozenset[tuple[str, ...]] = frozenset()
    select_all: bool = False
    unknown: bool = False
    #: ``Prefetch(..., to_attr=name)``: (path of the owner, attribute, path of the relation).
    aliases: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = ()

    def covers(self, path: tuple[str, ...], hops: Sequence[Hop]) -> bool:
        if self.unknown or path in self.paths:
            return True
        return self.select_all and all(not h.many for h in hops)

    def union(self, other: Loading) -> Loading:
        return Loading(
            self.paths | other.paths,
            self.select_all or other.select_all,
            self.unknown or other.unknown,
            self.aliases + tuple(a for a in other.aliases if a not in self.aliases),
        )

    def under(self, prefix: tuple[str, ...]) -> Loading:
        """The loading of a query whose rows sit at ``prefix`` (``Prefetch(queryset=...)``)."""
        return Loading(
            frozenset(prefix + p for p in self.paths),
            False,
            self.unknown,
            tuple((prefix + a, n, prefix + p) for a, n, p in self.aliases),
        )

    def sub(self, prefix: tuple[str, ...]) -> Loading:
        """The loading below ``prefix``, re-rooted there."""
        size = len(prefix)
        return Loading(
            frozenset(p[size:] for p in self.paths if p[:size] == prefix and len(p) > size),
            False,
            self.unknown,
        )


def _prefixes(parts: Sequence[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(parts[: i + 1]) for i in range(len(parts)))


@dataclass(eq=False)
class LoopRow:
    """A loop over rows of a query: the loop node and what it iterates."""

    loop: cst.CSTNode
    rows: Rows
    reported: set[tuple[str, ...]] = field(default_factory=set)


Stage = Literal["manager", "queryset", "select", "executed", "result", "pagination"]


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows of one model: a query not run yet, a result, or a related collection.

    ``origin`` is where eager loading would be added; ``hops`` lead from the origin's rows to
    these. ``per_row`` is set for a relation of a loop row (one query per row unless loaded).
    """

    orm: Orm
    model: Model
    loading: Loading
    origin: cst.CSTNode
    stage: Stage = "queryset"
    hops: tuple[Hop, ...] = ()
    cached: bool = False
    per_row: LoopRow | None = None
    qs_class: str = ""
    values: bool = False


@dataclass(frozen=True, slots=True)
class Instance:
    """One model object; ``row`` is set when it is (reached from) a row of a loop."""

    orm: Orm
    model: Model
    loading: Loading
    origin: cst.CSTNode
    hops: tuple[Hop, ...] = ()
    row: LoopRow | None = None
    new: bool = False


@dataclass(frozen=True, slots=True)
class ModelClass:
    model: Model


@dataclass(frozen=True, slots=True)
class Enumerated:
    rows: Rows


Value = Rows | Instance | ModelClass | Enumerated


# -- events --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    code: str
    node: cst.CSTNode
    message: str
    help: str


@dataclass
class _Frame:
    loop: cst.CSTNode
    kind: Literal["for", "while", "comp"]
    per_item: bool
    names: frozenset[str] = frozenset()


# -- the analysis ----------------------------------------------------------------------------------


_ANALYSIS = ("be_lint.index.querysets", "analysis")


def analysis(ctx: FileContext) -> FileAnalysis:
    """The ORM analysis of the file ``ctx`` checks (computed once, shared by the rules).

    Kept in the file's memo: a weak-keyed module cache would never drop it, because the
    analysis refers to its context (it kept every analysed file's tree alive).
    """
    found = ctx.memo.get(_ANALYSIS)
    if not isinstance(found, FileAnalysis):
        found = FileAnalysis(ctx)
        ctx.memo[_ANALYSIS] = found
    return found


class FileAnalysis:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.events: dict[str, dict[int, Event]] = {}
        module = ctx.module
        project = ctx.project
        if module is None:
            return
        self.project = project or ProjectIndex()
        package = ctx.imports.package if ctx.imports is not None else None
        from be_lint.index.facts import module_name

        self.module_name = module_name(ctx.path, package)
        self.uses_django = ctx.imports is not None and ctx.imports.imports_module("django")
        if not self._relevant(ctx.text):
            return
        for scope, self_model in _scopes(module, self):
            try:
                _Scope(self, scope, self_model).run()
            except RecursionError:
                continue  # pathologically nested code: no findings rather than a crash

    def _relevant(self, text: str) -> bool:
        """Whether the file can hold a query at all: it names a model of the index, or uses a
        manager, a session, a cursor or a connection. Most files of a project do neither."""
        if _QUERY_MARKERS.search(text):
            return True
        known = self.project.model_names
        return any(word in known for word in set(_CAPITALISED.findall(text)))

    def add(self, code: str, node: cst.CSTNode, message: str, help: str) -> None:
        self.events.setdefault(code, {}).setdefault(id(node), Event(code, node, message, help))

    def for_code(self, code: str) -> dict[int, Event]:
        return self.events.get(code, {})

    # -- names -----------------------------------------------------------------------------

    def model_of(self, node: cst.BaseExpression) -> Model | None:
        """The model class ``node`` names (imported, defined in this file, or loaded by name at
        module level: ``Product = get_model("catalogue", "Product")``)."""
        if type(node) is cst.Name:
            alias = self._aliases().get(node.value)
            if alias is not None:
                return alias
        if not isinstance(node, cst.Name | cst.Attribute):
            return None
        names = set(self.ctx.qualified_names(node))
        dotted = self.ctx.dotted_name(node)
        if dotted is not None and not names:
            names.add(f"{self.module_name}.{dotted}")
        if not names:
            return None
        return self.project.find(sorted(names))

    def _aliases(self) -> dict[str, Model]:
        aliases = self.__dict__.get("_alias_table")
        if aliases is None:
            aliases = {}
            module = self.ctx.module
            for statement in _module_statements(module) if module is not None else ():
                for small in statement.body:
                    if type(small) is not cst.Assign or len(small.targets) != 1:
                        continue
                    target = small.targets[0].target
                    value = small.value
                    if type(target) is cst.Name and type(value) is cst.Call:
                        model = self.model_call(value)
                        if model is not None:
                            aliases[target.value] = model
            self.__dict__["_alias_table"] = aliases
        return aliases

    def model_call(self, node: cst.Call) -> Model | None:
        """``get_model("app", "Model")``, ``apps.get_model("app.Model")``, ``get_user_model()``."""
        dotted = self.ctx.dotted_name(node.func) or ""
        last = dotted.rpartition(".")[2]
        if last == "get_user_model" and not node.args:
            if self.project.auth_user is not None:
                return self.project.models.get(self.project.auth_user)
            return Model(
                "django",
                "django.contrib.auth.models.User",
                "User",
                "",
                {},
                managers={"objects": ""},
            )
        if last != "get_model":
            return None
        texts = [_string(a.value) for a in node.args if a.keyword is None]
        if len(texts) == 1 and texts[0] and "." in texts[0]:
            label, _, name = texts[0].rpartition(".")
        elif len(texts) >= 2 and texts[0] and texts[1]:
            label, name = texts[0], texts[1]
        else:
            return None
        return self.project.by_label(label, name)

    def opaque_django_model(self, node: cst.BaseExpression) -> Model | None:
        """A model the index does not know, recognised by its name (for query-in-loop rules)."""
        dotted = self.ctx.dotted_name(node)
        if dotted is None or not dotted.rpartition(".")[2][:1].isupper():
            return None
        names = self.ctx.qualified_names(node)
        plausible = any(".models" in n or n.startswith("django.contrib.") for n in names)
        if not plausible and not (self.uses_django and not names):
            return None
        qualname = next(iter(sorted(names)), dotted)
        return Model(
            "django", qualname, dotted.rpartition(".")[2], "", {}, managers={"objects": ""}
        )

    def text(self, node: cst.CSTNode, limit: int = 60) -> str:
        return short(node, self.ctx.module, limit)


def short(node: cst.CSTNode, module: cst.Module | None, limit: int = 60) -> str:
    """``node``'s code on one line; long calls lose their arguments (``filter(...)``)."""
    code = module.code_for_node(node) if module is not None else ""
    flat = " ".join(code.split())
    if len(flat) <= limit:
        return flat
    return _outline(node)


def _outline(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_outline(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_outline(node.func)}({'...' if node.args else ''})"
    if isinstance(node, cst.Subscript):
        return f"{_outline(node.value)}[...]"
    if isinstance(node, cst.Await):
        return f"await {_outline(node.expression)}"
    return "..."


def _module_statements(module: cst.Module) -> Iterator[cst.SimpleStatementLine]:
    """Simple statements at module level, also inside ``if``/``try`` blocks."""
    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.SimpleStatementLine:
            yield node  # type: ignore[misc]
        elif kind in _STATEMENT_CONTAINERS and kind not in _LOOP_TYPES:
            stack.extend(reversed(children(node)))


def _scopes(
    module: cst.Module, owner: FileAnalysis
) -> Iterator[tuple[cst.Module | cst.FunctionDef, Model | None]]:
    """The module and every function, with the model ``self`` stands for in model methods."""
    yield module, None
    # Definitions are statements: walking statements (not expressions) finds them all.
    stack: list[tuple[cst.CSTNode, Model | None]] = [(module, None)]
    while stack:
        node, class_model = stack.pop()
        for child in reversed(children(node)):
            kind = type(child)
            if kind is cst.FunctionDef:
                yield child, class_model  # type: ignore[misc]
                stack.append((child, None))
            elif kind is cst.ClassDef:
                name = child.name.value  # type: ignore[attr-defined]
                model = owner.project.models.get(f"{owner.module_name}.{name}")
                stack.append((child, model))
            elif kind in _STATEMENT_CONTAINERS:
                stack.append((child, class_model if type(node) in _CLASS_BODY else None))


_SCOPE_BREAKS = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_STATEMENT_CONTAINERS = frozenset(
    {
        cst.If,
        cst.For,
        cst.While,
        cst.Try,
        cst.TryStar,
        cst.With,
        cst.Match,
        cst.IndentedBlock,
        cst.Else,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.Finally,
        cst.MatchCase,
    }
)
_CLASS_BODY = frozenset({cst.ClassDef, cst.IndentedBlock})
_SCOPE_BREAK_TYPES = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
_SKIP_TYPES = frozenset(
    {
        cst.Import,
        cst.ImportFrom,
        cst.Del,
        cst.Global,
        cst.Nonlocal,
        cst.AsName,
        cst.Decorator,
        cst.SimpleString,
        cst.Integer,
        cst.Float,
        cst.Annotation,
    }
)
_COMPREHENSION_TYPES = frozenset({cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp})
_LOOP_TYPES = frozenset({cst.For, cst.While, cst.CompFor})
_TEST_TYPES = frozenset({cst.If, cst.While, cst.IfExp, cst.CompIf})


class _Scope:
    """One function (or the module body): assignments, loops, and the events they give."""

    def __init__(
        self,
        owner: FileAnalysis,
        node: cst.Module | cst.FunctionDef,
        self_model: Model | None,
    ) -> None:
        self.owner = owner
        self.ctx = owner.ctx
        self.node = node
        self.assigned: dict[str, list[cst.BaseExpression]] = {}
        self.literal_names: set[str] = set()
        self.bindings: dict[str, Value] = {}
        self.frames: list[_Frame] = []
        self.done: set[int] = set()
        #: Loops not inside another loop of this scope: the only places events can happen.
        self.loops: list[cst.CSTNode] = []
        #: Reads of local names in source order: (name, how it is used, node to report).
        self.loads: list[tuple[str, str, cst.CSTNode]] = []
        self._uses: dict[int, tuple[str, cst.CSTNode]] = {}
        #: Truth tests and ``len()``/``bool()`` of expressions: (report node, expression, how).
        self.tests: list[tuple[cst.CSTNode, cst.BaseExpression, str]] = []
        #: ``qs.count()`` calls compared with a limit (``if qs.count() > 100``).
        self.guards: set[int] = set()
        self._loop_names: dict[int, set[str]] = {}
        self._busy: dict[int, bool] = {}
        self.self_name = ""
        self.self_value: Value | None = None
        if type(node) is cst.FunctionDef and self_model is not None:
            params = node.params.params
            if params and not _is_static(node):
                self.self_name = params[0].name.value
                self.self_value = Instance(self_model.orm, self_model, Loading(), params[0].name)
        self._collect()

    # -- the scope's facts ---------------------------------------------------------------------

    def _body(self) -> Sequence[cst.CSTNode]:
        if isinstance(self.node, cst.Module):
            return [s for s in self.node.body if type(s) not in _SCOPE_BREAK_TYPES]
        return [self.node.body]

    def _collect(self) -> None:
        """One pass over the scope in source order: assignments, loops, tests and name reads.

        Node types are compared with ``type(...) is``: libcst's classes are ABCs, whose
        ``isinstance`` costs more than the rest of this pass.
        """
        stack: list[tuple[cst.CSTNode, bool]] = [(n, False) for n in reversed(self._body())]
        uses = self._uses
        while stack:
            node, in_loop = stack.pop()
            kind = type(node)
            if kind is cst.Name:
                use, report = uses.get(id(node), ("other", node))
                self.loads.append((node.value, use, report))  # type: ignore[attr-defined]
                continue
            if kind in _SCOPE_BREAK_TYPES or kind in _SKIP_TYPES:
                continue
            kids: list[cst.CSTNode]
            if kind is cst.Attribute or kind is cst.Arg:
                kids = [node.value]  # type: ignore[attr-defined]
            elif kind is cst.Assign:
                assert isinstance(node, cst.Assign)
                kids = []
                for target in node.targets:
                    self._assign(target.target, node.value)
                    kids.extend(_load_parts(target.target))
                kids.append(node.value)
            elif kind is cst.AnnAssign:
                assert isinstance(node, cst.AnnAssign)
                kids = _load_parts(node.target)
                if node.value is not None:
                    self._assign(node.target, node.value)
                    kids.append(node.value)
            elif kind is cst.NamedExpr:
                assert isinstance(node, cst.NamedExpr)
                self._assign(node.target, node.value)
                kids = [node.value]
            elif kind is cst.AugAssign:
                assert isinstance(node, cst.AugAssign)
                if type(node.target) is cst.Name:
                    # ``qs |= other``: the name now holds something this pass does not follow.
                    self.assigned.setdefault(node.target.value, []).append(node.target)
                kids = [node.target, node.value]
            else:
                kids = children(node)
                if (kind in _LOOP_TYPES or kind in _COMPREHENSION_TYPES) and not in_loop:
                    self.loops.append(node)
                if kind in _LOOP_TYPES:
                    kids = [k for k in kids if k is not getattr(node, "target", None)]
                    for kid in kids:
                        if kid is getattr(node, "iter", None) and type(kid) is cst.Name:
                            uses[id(kid)] = ("iterated", kid)
                if kind in _TEST_TYPES:
                    self._test(getattr(node, "test"))  # noqa: B009
                elif kind is cst.Call:
                    self._call_uses(node)  # type: ignore[arg-type]
                elif kind is cst.Comparison:
                    self._comparison(node)  # type: ignore[arg-type]
            inner = in_loop or kind in _LOOP_TYPES or kind in _COMPREHENSION_TYPES
            stack.extend((kid, inner) for kid in reversed(kids))

    def _test(self, test: cst.BaseExpression) -> None:
        negated = test
        while type(negated) is cst.UnaryOperation and type(negated.operator) is cst.Not:
            negated = negated.expression
        if type(negated) is cst.Name:
            self._uses[id(negated)] = ("if", negated)
        elif type(negated) is cst.BooleanOperation:
            self._test(negated.left)
            self._test(negated.right)
        else:
            self.tests.append((negated, negated, "if"))

    def _call_uses(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is cst.Name:
            name = func.value
            if len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star:
                arg = node.args[0].value
                if name in ("len", "bool"):
                    if type(arg) is cst.Name:
                        self._uses[id(arg)] = ("len" if name == "len" else "if", node)
                    else:
                        self.tests.append((node, arg, "len" if name == "len" else "if"))
                elif name in ("list", "tuple", "sorted", "set") and type(arg) is cst.Name:
                    self._uses[id(arg)] = ("iterated", arg)
        elif type(func) is cst.Attribute and type(func.value) is cst.Name:
            method = func.attr.value
            if method in ("count", "exists"):
                use = method
            elif method in DJANGO_CHAIN or method in SA_QUERY_CHAIN:
                use = "chained"
            else:
                use = "other"
            self._uses[id(func.value)] = (use, node)

    def _comparison(self, node: cst.Comparison) -> None:
        """``qs.count() > LIMIT`` guards against loading too much (``== 0`` does not)."""
        left = node.left
        if type(left) is not cst.Call:
            return
        func = left.func
        if type(func) is cst.Attribute and func.attr.value == "count":
            for target in node.comparisons:
                comparator = target.comparator
                if not (type(comparator) is cst.Integer and comparator.value == "0"):
                    self.guards.add(id(left))

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.assigned.setdefault(target.value, []).append(value)
            if _constant_collection(value):
                self.literal_names.add(target.value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                if isinstance(element.value, cst.Name):
                    # Unpacking: the element's value is unknown.
                    self.assigned.setdefault(element.value.value, []).append(element.value)

    # -- evaluation ----------------------------------------------------------------------------

    def value(self, node: cst.BaseExpression, guard: frozenset[str] = frozenset()) -> Value | None:
        if isinstance(node, cst.Name):
            return self._name(node, guard)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, guard)
        if isinstance(node, cst.Call):
            return self._call(node, guard)
        if isinstance(node, cst.Await):
            return self.value(node.expression, guard)
        if isinstance(node, cst.Subscript):
            base = self.value(node.value, guard)
            if isinstance(base, Rows) and len(node.slice) == 1:
                element = node.slice[0].slice
                if isinstance(element, cst.Slice):
                    return base
                if isinstance(element, cst.Index) and base.stage != "manager" and not base.values:
                    return Instance(base.orm, base.model, base.loading, base.origin, base.hops)
            return None
        return None

    def _name(self, node: cst.Name, guard: frozenset[str]) -> Value | None:
        name = node.value
        bound = self.bindings.get(name)
        if bound is not None:
            return None if bound is _UNKNOWN else bound
        if self.self_value is not None and name == self.self_name:
            return self.self_value
        if name in self.assigned:
            if name in guard:
                return None
            return self._variable(name, guard | {name})
        model = self.owner.model_of(node)
        return ModelClass(model) if model is not None else None

    def _variable(self, name: str, guard: frozenset[str]) -> Value | None:
        """All assignments of ``name`` taken together (see the module docstring)."""
        values: list[Value] = []
        extra = Loading()
        for expr in self.assigned[name]:
            if _chain_root(expr) == name:
                extra = extra.union(_chain_loading(expr, self))
                if _chain_has(expr, ("values", "values_list", "iterator")):
                    return None
                continue
            found = self.value(expr, guard)
            if found is None:
                return None
            values.append(found)
        if not values:
            return None
        first = values[0]
        for other in values[1:]:
            if type(other) is not type(first) or _model(other) != _model(first):
                return None
            if isinstance(first, Rows | Instance) and isinstance(other, Rows | Instance):
                extra = extra.union(other.loading)
        if isinstance(first, Rows | Instance):
            loading = first.loading.union(extra)
            return replace(first, loading=loading)
        return first

    def _attribute(self, node: cst.Attribute, guard: frozenset[str]) -> Value | None:
        base = self.value(node.value, guard)
        name = node.attr.value
        if base is None:
            model = self.owner.model_of(node)  # ``models.Order``
            if model is not None:
                return ModelClass(model)
        if isinstance(base, ModelClass):
            model = base.model
            if model.orm == "django" and name in model.managers:
                loading, qs_class = self._manager_loading(model, name)
                return Rows("django", model, loading, node, qs_class=qs_class)
            if model.orm == "sqlalchemy" and name == "query":
                return Rows("sqlalchemy", model, Loading(), node)
            return None
        if isinstance(base, Rows):
            if base.stage == "pagination" and name == "items":
                return replace(base, stage="result")
            return None
        if not isinstance(base, Instance):
            if isinstance(node.value, cst.Name | cst.Attribute) and name == "objects":
                opaque = self.owner.opaque_django_model(node.value)
                if (
                    opaque is not None
                    and self.owner.project.find(self.ctx.qualified_names(node.value)) is None
                ):
                    return Rows("django", opaque, Loading(), node)
            return None
        relation = base.model.relation(name)
        if relation is None:
            return self._alias(base, name)
        target = self.owner.project.models.get(relation.target) if relation.target else None
        hops = (*base.hops, Hop(base.model.name, name, relation.many))
        if not relation.many:
            if target is None:
                return None
            return Instance(base.orm, target, base.loading, base.origin, hops, base.row)
        if target is None:
            return None
        path = tuple(h.name for h in hops)
        cached = base.loading.covers(path, hops) or relation.lazy not in SA_LAZY
        stage: Stage = "manager" if base.orm == "django" else "result"
        return Rows(
            base.orm,
            target,
            base.loading,
            base.origin,
            stage,
            hops,
            cached=cached,
            per_row=base.row,
        )

    def _alias(self, base: Instance, name: str) -> Value | None:
        """``order.item_list`` filled by ``Prefetch("items", to_attr="item_list")``."""
        here = tuple(h.name for h in base.hops)
        for owner_path, attr, path in base.loading.aliases:
            if owner_path != here or attr != name:
                continue
            model: Model | None = base.model
            hops = list(base.hops)
            for part in path[len(here) :]:
                relation = model.relation(part) if model is not None else None
                if relation is None or relation.target is None or model is None:
                    return None
                hops.append(Hop(model.name, part, relation.many))
                model = self.owner.project.models.get(relation.target)
            if model is None:
                return None
            return Rows(
                base.orm,
                model,
                base.loading,
                base.origin,
                "result",
                tuple(hops),
                cached=True,
                per_row=base.row,
            )
        return None

    def _manager_loading(self, model: Model, manager: str) -> tuple[Loading, str]:
        qs_class = model.managers.get(manager, "")
        found = self.owner.project.queryset_class(qs_class) if qs_class else None
        if found is None:
            return Loading(), qs_class
        eager = found.methods.get("get_queryset")
        return (_eager_loading(eager) if eager is not None else Loading()), qs_class

    def _call(self, node: cst.Call, guard: frozenset[str]) -> Value | None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self.value(func.value, guard)
            if isinstance(receiver, Rows):
                if receiver.orm == "django":
                    return self._django_method(receiver, method, node, guard)
                return self._sa_method(receiver, method, node, guard)
            if receiver is not None:
                return None
            model = self.value(func, guard)
            if isinstance(model, ModelClass):
                return Instance(model.model.orm, model.model, Loading(), node, new=True)
            return self._session_call(method, node, guard)
        if isinstance(func, cst.Name):
            model = self.value(func, guard)
            if isinstance(model, ModelClass):
                return Instance(model.model.orm, model.model, Loading(), node, new=True)
        loaded = self.owner.model_call(node)
        if loaded is not None:
            return ModelClass(loaded)
        dotted = self.ctx.dotted_name(func) or ""
        last = dotted.rpartition(".")[2]
        args = [a for a in node.args if a.keyword is None and not a.star]
        if last in ("list", "tuple", "sorted", "reversed", "iter", "set") and args:
            if last != "set" and dotted == last:
                inner = self.value(args[0].value, guard)
                if isinstance(inner, Rows) and inner.stage not in ("select", "executed"):
                    return replace(inner, stage="result")
            return None
        if dotted == "enumerate" and args:
            inner = self.value(args[0].value, guard)
            return Enumerated(inner) if isinstance(inner, Rows) else None
        if last in ("get_object_or_404", "get_list_or_404") and args:
            first = self.value(args[0].value, guard)
            rows: Rows | None = None
            if isinstance(first, ModelClass) and first.model.orm == "django":
                rows = Rows("django", first.model, Loading(), node)
            elif isinstance(first, Rows) and first.orm == "django":
                rows = first
            if rows is None:
                return None
            if last == "get_list_or_404":
                return replace(rows, stage="result", origin=node)
            return Instance("django", rows.model, rows.loading, rows.origin)
        if last == "select" and len(args) == 1 and len(node.args) == 1:
            first = self.value(args[0].value, guard)
            if isinstance(first, ModelClass) and first.model.orm == "sqlalchemy":
                return Rows("sqlalchemy", first.model, Loading(), node, "select")
        return None

    def _django_method(
        self, rows: Rows, method: str, node: cst.Call, guard: frozenset[str]
    ) -> Value | None:
        if rows.values:
            return None
        if rows.stage == "manager":
            if method == "all":
                if rows.cached or rows.per_row is not None:
                    return replace(rows, stage="queryset")
                # One relation of one object: a query of its own, where loading can be added.
                return Rows("django", rows.model, rows.loading.sub(_path(rows)), node)
            # Any other method is a new query (even when the relation was prefetched).
            rows = Rows("django", rows.model, Loading(), node)
        elif (rows.per_row is not None or rows.hops) and method != "all":
            rows = Rows("django", rows.model, Loading(), node)
        if method in DJANGO_CHAIN:
            loading = rows.loading
            if method == "select_related":
                loading = loading.union(_django_lookups(node, select=True, scope=self))
            elif method == "prefetch_related":
                loading = loading.union(_django_lookups(node, select=False, scope=self))
            cached = rows.cached and method == "all"
            return replace(rows, loading=loading, origin=node, cached=cached)
        if method in ("values", "values_list"):
            return replace(rows, values=True, origin=node)
        if method == "iterator":
            return replace(rows, stage="result", origin=node)
        if method in DJANGO_INSTANCE:
            return Instance("django", rows.model, rows.loading, rows.origin, rows.hops)
        if method in DJANGO_READS or method in DJANGO_WRITES or method in DJANGO_MANAGER_WRITES:
            return None
        # A method of a custom manager or query set.
        found = self.owner.project.queryset_class(rows.qs_class) if rows.qs_class else None
        eager = found.methods.get(method) if found is not None else None
        if eager is None:
            return None
        if eager.rows:
            return replace(rows, values=True, origin=node)
        return replace(rows, loading=rows.loading.union(_eager_loading(eager)), origin=node)

    def _sa_method(
        self, rows: Rows, method: str, node: cst.Call, guard: frozenset[str]
    ) -> Value | None:
        if rows.stage in ("queryset", "select"):
            if method in SA_QUERY_CHAIN:
                loading = rows.loading
                if method == "options":
                    loading = loading.union(_sa_options(node.args, self))
                return replace(rows, loading=loading, origin=node)
            if rows.stage == "select":
                return None
            if method == "all":
                return replace(rows, stage="result", origin=node)
            if method == "paginate":
                return replace(rows, stage="pagination", origin=node)
            if method in SA_INSTANCE:
                return Instance("sqlalchemy", rows.model, rows.loading, rows.origin, rows.hops)
            return None
        if rows.stage == "executed":
            if method == "scalars":
                return replace(rows, stage="result")
            if method in SA_INSTANCE:
                return Instance("sqlalchemy", rows.model, rows.loading, rows.origin)
            return None
        if rows.stage == "result" and rows.per_row is None and not rows.hops:
            if method in ("all", "unique", "fetchall"):
                return rows
            if method in SA_INSTANCE:
                return Instance("sqlalchemy", rows.model, rows.loading, rows.origin)
        return None

    def _session_call(self, method: str, node: cst.Call, guard: frozenset[str]) -> Value | None:
        args = [a for a in node.args if a.keyword is None and not a.star]
        if method == "query":
            if len(args) != 1 or len(node.args) != 1:
                return None
            entity = self.value(args[0].value, guard)
            if isinstance(entity, ModelClass) and entity.model.orm == "sqlalchemy":
                return Rows("sqlalchemy", entity.model, Loading(), node)
            return None
        if method not in ("scalars", "execute", "scalar", "get") or not args:
            return None
        first = self.value(args[0].value, guard)
        if method == "get":
            if isinstance(first, ModelClass) and first.model.orm == "sqlalchemy":
                loading = Loading()
                for arg in node.args:
                    if arg.keyword is not None and arg.keyword.value == "options":
                        if isinstance(arg.value, cst.List | cst.Tuple):
                            loading = _sa_options(
                                [cst.Arg(e.value) for e in arg.value.elements], self
                            )
                        else:
                            loading = Loading(unknown=True)
                return Instance("sqlalchemy", first.model, loading, node)
            return None
        if not isinstance(first, Rows) or first.stage != "select":
            return None
        # The statement stays the origin: loader options belong on it.
        if method == "scalars":
            return replace(first, stage="result")
        if method == "execute":
            return replace(first, stage="executed")
        return Instance("sqlalchemy", first.model, first.loading, first.origin)

    # -- the walk ------------------------------------------------------------------------------

    def run(self) -> None:
        for loop in self.loops:
            self.scan(loop)
        self._counting()

    def scan(self, node: cst.CSTNode) -> None:
        kind = type(node)
        if kind is cst.Name or kind in _SCOPE_BREAK_TYPES or kind in _SKIP_TYPES:
            return
        if kind is cst.For:
            self._for(node)  # type: ignore[arg-type]
            return
        if kind is cst.While:
            assert isinstance(node, cst.While)
            self.scan(node.test)
            self.frames.append(_Frame(node, "while", False))
            self.scan(node.body)
            self.frames.pop()
            if node.orelse is not None:
                self.scan(node.orelse)
            return
        if kind in _COMPREHENSION_TYPES:
            self._comprehension(node)  # type: ignore[arg-type]
            return
        if kind is cst.Assign:
            assert isinstance(node, cst.Assign)
            self.scan(node.value)
            for target in node.targets:
                self._store(target.target)
            return
        if kind is cst.AnnAssign:
            assert isinstance(node, cst.AnnAssign)
            if node.value is not None:
                self.scan(node.value)
            self._store(node.target)
            return
        if kind is cst.Attribute:
            assert isinstance(node, cst.Attribute)
            self._relation_access(node)
            self.scan(node.value)  # not ``attr``: a name that is no variable
            return
        if kind is cst.Arg:
            self.scan(node.value)  # type: ignore[attr-defined]
            return
        if kind is cst.Call:
            self._query_call(node)  # type: ignore[arg-type]
        for child in children(node):
            self.scan(child)

    def _store(self, target: cst.BaseExpression) -> None:
        """Targets of an assignment: ``a.b = x`` loads ``a`` but not ``a.b``."""
        if isinstance(target, cst.Attribute):
            self.scan(target.value)
        elif isinstance(target, cst.Subscript):
            self.scan(target.value)
            for part in target.slice:
                self.scan(part)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._store(element.value)
        elif isinstance(target, cst.StarredElement):
            self._store(target.value)

    def _bind(
        self, target: cst.BaseExpression, value: Value | None, loop: cst.CSTNode
    ) -> dict[str, Value | None]:
        """Names a loop binds, each with the row it holds (None: not a model row)."""
        out: dict[str, Value | None] = {}
        element: Value | None = None
        if isinstance(value, Rows) and _iterable(value):
            element = Instance(
                value.orm,
                value.model,
                value.loading,
                value.origin,
                value.hops,
                LoopRow(loop, value),
            )
        if isinstance(target, cst.Name):
            out[target.value] = element
        elif isinstance(target, cst.Tuple | cst.List):
            names = [e.value for e in target.elements]
            if isinstance(value, Enumerated) and len(names) == 2 and _iterable(value.rows):
                rows = value.rows
                row = Instance(
                    rows.orm, rows.model, rows.loading, rows.origin, rows.hops, LoopRow(loop, rows)
                )
                for index, name in enumerate(names):
                    if isinstance(name, cst.Name):
                        out[name.value] = row if index == 1 else None
            else:
                for name in names:
                    for inner in _names(name):
                        out[inner] = None
        return out

    def _push(self, bound: dict[str, Value | None]) -> dict[str, Value | None]:
        saved: dict[str, Value | None] = {}
        for name, value in bound.items():
            saved[name] = self.bindings.get(name)
            if value is None:
                self.bindings.pop(name, None)
                # Shadow any tracked assignment of the same name while the loop runs.
                self.bindings[name] = _UNKNOWN
            else:
                self.bindings[name] = value
        return saved

    def _pop(self, saved: dict[str, Value | None]) -> None:
        for name, value in saved.items():
            if value is None:
                self.bindings.pop(name, None)
            else:
                self.bindings[name] = value

    def _for(self, node: cst.For) -> None:
        self.scan(node.iter)
        value = self.value(node.iter)
        self._iterated(node.iter, value)
        self._store(node.target)
        saved = self._push(self._bind(node.target, value, node))
        per_item = self._per_item(node.iter, node.target, node.body)
        self.frames.append(_Frame(node, "for", per_item, frozenset(_names(node.target))))
        self.scan(node.body)
        self.frames.pop()
        self._pop(saved)
        if node.orelse is not None:
            self.scan(node.orelse)

    def _comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> None:
        saved_all: list[dict[str, Value | None]] = []
        pushed = 0
        comp: cst.CompFor | None = node.for_in
        first = True
        while comp is not None:
            self.scan(comp.iter)
            value = self.value(comp.iter)
            if not first or self.frames:
                self._iterated(comp.iter, value)
            first = False
            saved_all.append(self._push(self._bind(comp.target, value, comp)))
            per_item = self._per_item(comp.iter, comp.target, None)
            self.frames.append(_Frame(comp, "comp", per_item, frozenset(_names(comp.target))))
            pushed += 1
            for condition in comp.ifs:
                self.scan(condition.test)
            comp = comp.inner_for_in
        if isinstance(node, cst.DictComp):
            self.scan(node.key)
            self.scan(node.value)
        else:
            self.scan(node.elt)
        for _ in range(pushed):
            self.frames.pop()
        for saved in reversed(saved_all):
            self._pop(saved)

    def _per_item(
        self, iterable: cst.BaseExpression, target: cst.BaseExpression, body: cst.CSTNode | None
    ) -> bool:
        """False for loops that are not "once per data item": retries, batches, fixed lists."""
        if isinstance(iterable, cst.List | cst.Tuple | cst.Set) and _constant_collection(iterable):
            return False
        base = iterable
        if (
            type(base) is cst.Call
            and type(base.func) is cst.Attribute
            and base.func.attr.value in ("items", "keys", "values")
        ):
            base = base.func.value
        if type(base) is cst.Name and (base.value in self.literal_names or base.value.isupper()):
            return False  # a fixed set of cases (``for kind, column in COLUMNS.items()``)
        names = " ".join([*_names(target), self.owner.text(iterable, 200)])
        if _BATCH_NAME.search(names):
            return False
        dotted = (
            self.ctx.dotted_name(iterable.func) if isinstance(iterable, cst.Call) else None
        ) or ""
        return not (
            dotted in ("range", "itertools.count", "count")
            and (_RETRY_NAME.search(names) or (body is not None and _has_retry_shape(body)))
        )

    # -- events: relations -----------------------------------------------------------------------

    def _relation_access(self, node: cst.Attribute) -> None:
        """``order.customer`` (and longer chains) on a loop row without eager loading."""
        if id(node) in self.done:
            return
        chain: list[cst.Attribute] = []
        current: cst.BaseExpression = node
        while isinstance(current, cst.Attribute):
            chain.append(current)
            self.done.add(id(current))
            current = current.value
        chain.reverse()  # innermost first: order.customer, order.customer.address, ...
        base = self.value(current)
        if isinstance(base, Instance) and base.row is not None:
            self._relation_chain(base, chain)

    def _relation_chain(self, base: Instance, chain: list[cst.Attribute]) -> None:
        instance = base
        start: tuple[cst.Attribute, Instance, Relation] | None = None
        end_hops: tuple[Hop, ...] = ()
        after: cst.Attribute | None = None
        for attribute in chain:
            name = attribute.attr.value
            relation = instance.model.relation(name)
            if relation is None:
                if start is not None and len(end_hops) == len(start[1].hops) + 1:
                    after = attribute  # ``order.customer.id``
                break
            hops = (*instance.hops, Hop(instance.model.name, name, relation.many))
            lazy = relation.lazy in SA_LAZY
            uncovered = lazy and not instance.loading.covers(tuple(h.name for h in hops), hops)
            if relation.many:
                # Django managers are reported where they are used (``.all()``); an SQLAlchemy
                # collection loads on access.
                if base.orm == "sqlalchemy" and start is None and uncovered:
                    start, end_hops = (attribute, instance, relation), hops
                break
            if start is None and uncovered:
                start, end_hops = (attribute, instance, relation), hops
            elif start is not None:
                end_hops = hops  # not loaded either, since the hop before it is not
            target = self.owner.project.models.get(relation.target) if relation.target else None
            if target is None:
                break
            instance = Instance(base.orm, target, base.loading, base.origin, hops, base.row)
        if start is None or base.row is None:
            return
        path = tuple(h.name for h in end_hops)
        if path in base.row.reported:
            return
        base.row.reported.add(path)
        self._report_relation(start, base.row, end_hops, after)

    def _report_relation(
        self,
        start: tuple[cst.Attribute, Instance, Relation],
        row: LoopRow,
        hops: tuple[Hop, ...],
        after: cst.Attribute | None,
    ) -> None:
        node, instance, declared = start
        text = self.owner.text(node)
        source, where = self._where(row)
        fix = _fix(instance.orm, hops)
        to = f" to `{where}`" if where != source else ""
        relation = hops[-1]
        if instance.orm == "django":
            message = f"`{text}` runs a query for every row of `{source}`: add `{fix}`{to}"
            help = f"Load the relation with the rows: `{where}.{fix}`."
            if (
                after is not None
                and after.attr.value in ("id", "pk")
                and declared.declared in ("ForeignKey", "OneToOneField")
            ):
                column = f"{self.owner.text(node.value)}.{node.attr.value}_id"
                message = (
                    f"`{text}.{after.attr.value}` runs a query for every row of `{source}`: "
                    f"use `{column}`"
                )
                help = f"`{column}` holds the key on the row itself; reading it needs no query."
        else:
            kind = "collection" if relation.many else "object"
            message = (
                f"`{text}` lazily loads the {kind} `{relation.model}.{relation.name}` once per "
                f"row of `{source}`: add `{fix}`{to}"
            )
            help = (
                f"Load it with the rows: `{fix}` on the query, or set an eager `lazy=` "
                "strategy on the relationship."
            )
        self.owner.add("BE401", node, message, help)

    def _where(self, row: LoopRow) -> tuple[str, str]:
        """The loop's iterable, and the query where eager loading belongs.

        A Django query set is amended where the outermost loop iterates it (often a variable);
        SQLAlchemy options go on the statement or query itself.
        """
        iterable = getattr(row.loop, "iter", row.loop)
        source = self.owner.text(iterable)
        if row.rows.orm == "sqlalchemy":
            return source, self.owner.text(row.rows.origin)
        root = row
        while root.rows.hops and root.rows.per_row is not None:
            root = root.rows.per_row
        if root.rows.hops:
            return source, self.owner.text(root.rows.origin)
        return source, self.owner.text(getattr(root.loop, "iter", root.loop))

    # -- events: queries -------------------------------------------------------------------------

    def _loop(self) -> _Frame | None:
        return self.frames[-1] if self.frames else None

    def _in_per_item_loop(self) -> bool:
        frame = self._loop()
        return frame is not None and frame.kind != "while" and frame.per_item

    def _iterated(self, node: cst.BaseExpression, value: Value | None) -> None:
        """An inner loop iterating a query runs it once per outer iteration."""
        if not isinstance(value, Rows | Enumerated) or not self._in_per_item_loop():
            return
        rows = value.rows if isinstance(value, Enumerated) else value
        if rows.cached or rows.stage in ("select", "executed", "manager"):
            return
        if rows.per_row is not None:
            return  # a relation of a loop row: BE401 reports it (at `.all()`)
        if rows.orm == "sqlalchemy" and rows.stage == "result" and rows.hops:
            return
        text = self.owner.text(node)
        self.owner.add(
            "BE402",
            node,
            f"`{text}` runs a query on every iteration of the enclosing loop",
            _query_help(rows.orm, "read"),
        )

    def _query_call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in ("len", "bool") and node.args:
            return
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        receiver = self.value(func.value)
        if isinstance(receiver, Rows):
            self._rows_call(node, receiver, method)
            return
        if isinstance(receiver, Instance):
            self._instance_call(node, receiver, method)
            return
        if receiver is not None or not self._in_per_item_loop():
            return
        dotted = self.ctx.dotted_name(func.value)
        last = (dotted or "").rpartition(".")[2]
        if isinstance(func.value, cst.Call):
            inner = func.value.func
            if isinstance(inner, cst.Attribute) and inner.attr.value == "cursor":
                last = "cursor"
        if method in SESSION_READS and _SESSION_NAME.search(last or ""):
            if method == "get" and not self._looks_like_entity(node):
                return
            self._query_in_loop(node, "sqlalchemy", "read")
        elif method == "query" and _SESSION_NAME.search(last or ""):
            return  # building a query runs nothing; its terminal method does
        elif method in CURSOR_READS and last and _CURSOR_NAME.match(last):
            if not node.args or self._sql_from_loop(node.args[0].value):
                return
            self._query_in_loop(node, "dbapi", _sql_verb(node))

    def _sql_from_loop(self, sql: cst.BaseExpression) -> bool:
        """SQL text taken from the loop (``for statement in statements: execute(statement)``,
        ``"PRAGMA index_info(%s)" % name``): different statements, not one query per item."""
        bound: set[str] = set()
        for frame in self.frames:
            bound |= frame.names | self._assigned_in(frame.loop)
        if not bound:
            return False
        stack: list[cst.CSTNode] = [sql]
        seen: set[str] = set()
        while stack:
            node = stack.pop()
            if type(node) is cst.Name:
                name = node.value
                if name in bound:
                    return True
                if name in self.assigned and name not in seen:
                    seen.add(name)  # ``stmt = template % params`` before the loop
                    stack.extend(self.assigned[name])
                continue
            stack.extend(children(node))
        return False

    def _assigned_in(self, loop: cst.CSTNode) -> set[str]:
        """Names assigned inside a loop's body (their values change per iteration)."""
        cached = self._loop_names.get(id(loop))
        if cached is None:
            cached = set()
            stack: list[cst.CSTNode] = [loop]
            while stack:
                node = stack.pop()
                kind = type(node)
                if kind in _SCOPE_BREAK_TYPES:
                    continue
                if (
                    kind is cst.AssignTarget
                    or kind is cst.For
                    or kind is cst.CompFor
                    or kind is cst.AnnAssign
                    or kind is cst.NamedExpr
                    or kind is cst.AugAssign
                ):
                    cached.update(_names(node.target))  # type: ignore[attr-defined]
                stack.extend(children(node))
            self._loop_names[id(loop)] = cached
        return cached

    def _does_other_work(self, loop: cst.CSTNode) -> bool:
        """Whether a loop body calls something for its side effects besides ORM writes,
        logging, printing and collecting into local lists (``ticket.send(...)``)."""
        cached = self._busy.get(id(loop))
        if cached is None:
            cached = False
            stack: list[cst.CSTNode] = list(children(loop))
            while stack and not cached:
                node = stack.pop()
                kind = type(node)
                if kind in _SCOPE_BREAK_TYPES:
                    continue
                if kind is cst.Expr:
                    value = node.value  # type: ignore[attr-defined]
                    if type(value) is cst.Await:
                        value = value.expression
                    if type(value) is cst.Call and not _incidental_call(value):
                        cached = True
                    continue
                stack.extend(children(node))
            self._busy[id(loop)] = cached
        return cached

    def _looks_like_entity(self, node: cst.Call) -> bool:
        args = [a for a in node.args if a.keyword is None]
        if len(args) < 2:
            return False
        first = args[0].value
        if isinstance(self.value(first), ModelClass):
            return True
        dotted = self.ctx.dotted_name(first) or ""
        return dotted.rpartition(".")[2][:1].isupper()

    def _rows_call(self, node: cst.Call, rows: Rows, method: str) -> None:
        element_relation = rows.per_row is not None and rows.stage == "manager"
        if rows.orm == "django":
            if element_relation and method in PREFETCH_SERVED:
                if not rows.cached:
                    self._report_manager(node, rows, method)
                return
            if rows.cached and method in PREFETCH_SERVED:
                return
            if not self._in_per_item_loop():
                return
            if method in DJANGO_READS:
                self._query_in_loop(node, "django", "read")
            elif method in DJANGO_WRITES or (
                rows.stage == "manager" and method in DJANGO_MANAGER_WRITES
            ):
                self._write_in_loop(node, "django", method, rows)
            return
        if not self._in_per_item_loop():
            return
        if rows.stage == "queryset" and (method in SA_QUERY_READS):
            self._query_in_loop(node, "sqlalchemy", "read")
        elif rows.stage == "queryset" and method in SA_QUERY_WRITES:
            self._query_in_loop(node, "sqlalchemy", "write")

    def _instance_call(self, node: cst.Call, instance: Instance, method: str) -> None:
        if instance.orm != "django" or method not in ("save", "delete"):
            return
        if not self._in_per_item_loop():
            return
        self._write_in_loop(node, "django", method, instance)

    def _report_manager(self, node: cst.Call, rows: Rows, method: str) -> None:
        assert rows.per_row is not None
        path = tuple(h.name for h in rows.hops)
        row = rows.per_row
        key = (*path, "()")
        if key in row.reported:
            return
        row.reported.add(key)
        source, where = self._where(row)
        fix = _fix("django", rows.hops)
        to = f" to `{where}`" if where != source else ""
        text = self.owner.text(node)
        extra = ""
        if method == "count":
            lookup = "__".join(path[len(row.rows.hops) :])
            extra = f' (or annotate the count: `.annotate(n=Count("{lookup}"))`)'
        self.owner.add(
            "BE401",
            node,
            f"`{text}` runs a query for every row of `{source}`: add `{fix}`{to}",
            f"Load the related rows for all rows at once: `{where}.{fix}`{extra}.",
        )

    def _query_in_loop(self, node: cst.Call, orm: str, verb: str) -> None:
        text = self.owner.text(node)
        self.owner.add(
            "BE402",
            node,
            f"`{text}` runs a query on every iteration of the enclosing loop",
            _query_help(orm, verb),
        )

    def _write_in_loop(
        self, node: cst.Call, orm: str, method: str, subject: Rows | Instance
    ) -> None:
        frame = self._loop()
        if frame is not None and self._does_other_work(frame.loop):
            return  # a per-item workflow (mail, files, services): the write is incidental
        text = self.owner.text(node)
        model = subject.model.name
        if method == "save":
            if isinstance(subject, Instance) and subject.new:
                help = f"Build the objects in the loop and save them at once with `{model}.objects.bulk_create(objects)`."
            else:
                help = (
                    f"Collect the changed objects and write them at once with "
                    f"`{model}.objects.bulk_update(objects, [fields])`, or use one "
                    "`queryset.update(...)` when every row gets the same change."
                )
        elif method in ("create",):
            help = f"Build `{model}(...)` objects in the loop and insert them at once with `{model}.objects.bulk_create(objects)`."
        elif method in ("get_or_create", "update_or_create"):
            help = (
                f"Fetch the existing rows once (`{model}.objects.filter(key__in=keys)`), then "
                f"`bulk_create` the missing ones and `bulk_update` the changed ones."
            )
        elif method == "update":
            help = "Update all rows with one query (a filter that covers them, or `bulk_update`)."
        elif method == "delete":
            help = "Delete all rows with one query: `Model.objects.filter(pk__in=ids).delete()`."
        else:
            help = "Write the rows of the through table at once with `bulk_create`."
        self.owner.add(
            "BE403", node, f"`{text}` writes to the database on every iteration of the loop", help
        )

    # -- events: counting ------------------------------------------------------------------------

    def _counting(self) -> None:
        """len(qs), ``if qs:`` (BE404) and ``qs.count()`` followed by iterating ``qs`` (BE405)."""
        for node, expr, how in self.tests:
            self._loaded_for(node, expr, how)
        uses: dict[str, list[tuple[int, str, cst.CSTNode]]] = {}
        for index, (name, use, node) in enumerate(self.loads):
            if name in self.assigned:
                uses.setdefault(name, []).append((index, use, node))
        for name, entries in uses.items():
            if not any(use in ("len", "if", "count", "exists") for _i, use, _n in entries):
                continue
            value = self.value(cst.Name(name))
            if not isinstance(value, Rows) or value.cached or value.values:
                continue
            if value.stage != "queryset" or value.per_row is not None:
                continue
            self._name_counting(name, entries, value)

    def _loaded_for(self, node: cst.CSTNode, expr: cst.BaseExpression, how: str) -> None:
        value = self.value(expr)
        if not isinstance(value, Rows) or value.cached or value.values:
            return
        if value.per_row is not None or value.stage not in ("queryset", "result"):
            return
        if value.stage == "result" and not (how == "len" and _ends_with_all(expr)):
            return
        if value.stage == "queryset" and value.orm == "sqlalchemy":
            return  # a Query object is always true; len() of it does not exist
        self._report_loaded(node, self.owner.text(expr), how, value.orm, expr)

    def _report_loaded(
        self, node: cst.CSTNode, text: str, how: str, orm: str, expr: cst.BaseExpression | None
    ) -> None:
        if how == "len":
            base = _strip_all(expr) if orm == "sqlalchemy" and expr is not None else None
            count = f"{self.owner.text(base) if base is not None else text}.count()"
            self.owner.add(
                "BE404",
                node,
                f"`len({text})` loads every row only to count them: use `{count}`",
                "`count()` asks the database for the number (SELECT COUNT(*)); `len()` fetches "
                "and builds every row first. Keep `len()` only when the rows are used afterwards.",
            )
        else:
            self.owner.add(
                "BE404",
                node,
                f"testing `{text}` for truth loads every row: use `{text}.exists()`",
                "`exists()` asks the database for one row at most. Testing the query set itself "
                "fetches and caches all of it, which only pays off when the rows are used next.",
            )

    def _name_counting(
        self, name: str, entries: list[tuple[int, str, cst.CSTNode]], value: Rows
    ) -> None:
        tested = [(i, n, u) for i, u, n in entries if u in ("len", "if")]
        counted = [(i, n, u) for i, u, n in entries if u in ("count", "exists")]
        iterated = [i for i, u, _n in entries if u == "iterated"]
        other = any(u == "other" for _i, u, _n in entries)
        if not iterated and not other and value.orm == "django":
            for _index, node, use in tested:
                self._report_loaded(node, name, use, "django", None)
        if not iterated:
            return
        for index, call, use in counted:
            if not any(i > index for i in iterated) or id(call) in self.guards:
                continue
            text = self.owner.text(call)
            if use == "count":
                message = (
                    f"`{text}` runs a COUNT query and `{name}` is loaded afterwards: "
                    "count the loaded rows instead"
                )
                help = (
                    f"Load once and count the list: `rows = list({name})`, then `len(rows)`; "
                    "the COUNT is a second query over the same rows."
                )
            else:
                message = (
                    f"`{text}` runs a query and `{name}` is loaded afterwards: test `{name}` itself"
                )
                help = (
                    f"`if {name}:` loads the rows once and caches them for the loop; "
                    "`exists()` followed by iterating runs two queries."
                )
            self.owner.add("BE405", call, message, help)


_UNKNOWN = Enumerated(
    Rows(
        "django",
        Model("django", "", "", "", {}),
        Loading(),
        cst.Name("_"),
        stage="select",
    )
)


# -- helpers ---------------------------------------------------------------------------------------


def _model(value: Value) -> str:
    if isinstance(value, Rows | Instance | ModelClass):
        return value.model.qualname
    return value.rows.model.qualname


def _path(rows: Rows) -> tuple[str, ...]:
    return tuple(h.name for h in rows.hops)


def _iterable(rows: Rows) -> bool:
    return rows.stage in ("queryset", "result") and not rows.values and bool(rows.model.qualname)


_INCIDENTAL_METHODS = frozenset(
    {
        # ORM writes themselves
        "save",
        "delete",
        "create",
        "get_or_create",
        "update_or_create",
        "update",
        "add",
        "remove",
        "set",
        "clear",
        "bulk_create",
        "bulk_update",
        # collecting into local containers
        "append",
        "extend",
        "insert",
        "setdefault",
        "pop",
        "discard",
        # output
        "write",
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "log",
    }
)


def _incidental_call(call: cst.Call) -> bool:
    func = call.func
    if type(func) is cst.Name:
        return func.value in ("print", "setattr")
    if type(func) is cst.Attribute:
        return func.attr.value in _INCIDENTAL_METHODS
    return False


def _load_parts(target: cst.BaseExpression) -> list[cst.CSTNode]:
    """What an assignment target reads: ``a`` of ``a.b = x``, ``a`` and ``i`` of ``a[i] = x``."""
    kind = type(target)
    if kind is cst.Attribute:
        return [target.value]  # type: ignore[attr-defined]
    if kind is cst.Subscript:
        return [target.value, *target.slice]  # type: ignore[attr-defined]
    if kind is cst.Tuple or kind is cst.List:
        return [p for e in target.elements for p in _load_parts(e.value)]  # type: ignore[attr-defined]
    if kind is cst.StarredElement:
        return _load_parts(target.value)  # type: ignore[attr-defined]
    return []


def _names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _names(target.value)
    return []


def _is_static(node: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
        for d in node.decorators
    )


def _constant_collection(node: cst.BaseExpression) -> bool:
    if not isinstance(node, cst.List | cst.Tuple | cst.Set):
        return False
    return all(
        isinstance(e.value, cst.SimpleString | cst.Integer | cst.Float | cst.ConcatenatedString)
        or (isinstance(e.value, cst.Tuple) and _constant_collection(e.value))
        for e in node.elements
    )


def _has_retry_shape(body: cst.CSTNode) -> bool:
    """A loop body with ``try`` and ``break``/``return``: a retry, not a loop over data."""
    has_try = has_exit = False
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, (*_SCOPE_BREAKS, cst.For, cst.While)):
            continue
        if isinstance(node, cst.Try | cst.TryStar):
            has_try = True
        elif isinstance(node, cst.Break | cst.Return):
            has_exit = True
        stack.extend(children(node))
    return has_try and has_exit


def _chain_root(expr: cst.BaseExpression) -> str | None:
    current = expr
    while True:
        if isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, (cst.Attribute, cst.Subscript)):
            current = current.value
        elif isinstance(current, cst.Await):
            current = current.expression
        else:
            break
    if isinstance(current, cst.Name) and current is not expr:
        return current.value
    return None


def _chain_calls(expr: cst.BaseExpression) -> Iterator[tuple[str, cst.Call]]:
    current = expr
    while True:
        if isinstance(current, cst.Call):
            if isinstance(current.func, cst.Attribute):
                yield current.func.attr.value, current
            current = current.func
        elif isinstance(current, (cst.Attribute, cst.Subscript)):
            current = current.value
        elif isinstance(current, cst.Await):
            current = current.expression
        else:
            return


def _chain_has(expr: cst.BaseExpression, methods: Sequence[str]) -> bool:
    return any(method in methods for method, _call in _chain_calls(expr))


def _chain_loading(expr: cst.BaseExpression, scope: _Scope) -> Loading:
    """Eager loading that ``qs = qs.select_related(...)``-style reassignments add."""
    loading = Loading()
    for method, call in _chain_calls(expr):
        if method == "select_related":
            loading = loading.union(_django_lookups(call, select=True, scope=scope))
        elif method == "prefetch_related":
            loading = loading.union(_django_lookups(call, select=False, scope=scope))
        elif method == "options":
            loading = loading.union(_sa_options(call.args, scope))
        elif method not in DJANGO_CHAIN and method not in SA_QUERY_CHAIN:
            # A custom method may load anything.
            loading = loading.union(Loading(unknown=True))
    return loading


def _eager_loading(eager: Eager) -> Loading:
    paths: frozenset[tuple[str, ...]] = frozenset()
    for lookup in eager.lookups:
        paths |= _prefixes(lookup.split("__"))
    return Loading(paths, eager.select_all, eager.unknown)


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _django_lookups(call: cst.Call, *, select: bool, scope: _Scope) -> Loading:
    if select and not call.args:
        return Loading(select_all=True)
    paths: set[tuple[str, ...]] = set()
    aliases: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = []
    nested = Loading()
    for arg in call.args:
        if arg.star or arg.keyword is not None:
            return Loading(unknown=True)
        text = _string(arg.value)
        if text is not None:
            paths |= _prefixes(text.split("__"))
            continue
        if text is None and isinstance(arg.value, cst.Name) and arg.value.value == "None":
            continue
        prefetch = _prefetch(arg.value, scope)
        if prefetch is None:
            return Loading(unknown=True)
        lookup, to_attr, inner = prefetch
        parts = tuple(lookup.split("__"))
        if to_attr is None:
            paths |= _prefixes(parts)
            nested = nested.union(inner.under(parts))
        else:
            paths |= _prefixes(parts[:-1])
            aliases.append((parts[:-1], to_attr, parts))
            nested = nested.union(inner.under(parts))
    return Loading(frozenset(paths), aliases=tuple(aliases)).union(nested)


def _prefetch(node: cst.BaseExpression, scope: _Scope) -> tuple[str, str | None, Loading] | None:
    """``Prefetch("items", queryset=..., to_attr=...)``: lookup, to_attr, nested loading."""
    if not isinstance(node, cst.Call):
        return None
    dotted = scope.ctx.dotted_name(node.func) or ""
    if dotted.rpartition(".")[2] != "Prefetch":
        return None
    lookup: str | None = None
    to_attr: str | None = None
    inner = Loading()
    for index, arg in enumerate(node.args):
        key = (
            arg.keyword.value
            if arg.keyword is not None
            else ("lookup", "queryset", "to_attr")[min(index, 2)]
        )
        if key == "lookup":
            lookup = _string(arg.value)
        elif key == "to_attr":
            to_attr = _string(arg.value)
            if to_attr is None:
                return None
        elif key == "queryset":
            value = scope.value(arg.value)
            if isinstance(value, Rows):
                inner = value.loading
            elif not (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                inner = Loading(unknown=True)
    if lookup is None:
        return None
    return lookup, to_attr, inner


def _sa_options(args: Sequence[cst.Arg], scope: _Scope) -> Loading:
    paths: set[tuple[str, ...]] = set()
    for arg in args:
        if arg.star or arg.keyword is not None:
            return Loading(unknown=True)
        found = _sa_option(arg.value, scope)
        if found is None:
            return Loading(unknown=True)
        paths |= found
    return Loading(frozenset(paths))


def _sa_option(node: cst.BaseExpression, scope: _Scope) -> set[tuple[str, ...]] | None:
    """The paths one loader option loads eagerly (None: not understood)."""
    steps: list[tuple[str, list[cst.Arg]]] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Call):
        func = current.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            steps.append((func.attr.value, list(current.args)))
            current = func.value
            continue
        name = (scope.ctx.dotted_name(func) or "").rpartition(".")[2]
        steps.append((name, list(current.args)))
        break
    else:
        return None
    steps.reverse()
    if not steps or steps[0][0] == "Load":
        steps = steps[1:]
    if not steps:
        return None
    paths: set[tuple[str, ...]] = set()
    path: tuple[str, ...] = ()
    for loader, args in steps:
        if loader not in SA_LOADERS:
            if loader in ("defer", "undefer", "load_only", "with_expression", "undefer_group"):
                continue
            return None
        attrs: list[str] = []
        for arg in args:
            if arg.keyword is not None:
                continue
            text = _string(arg.value)
            if text is not None:
                if text == "*":
                    return None if loader in SA_EAGER else set()
                attrs.extend(text.split("."))
                continue
            value = arg.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
                value = value.func.value  # ``User.addresses.of_type(Admin)``
            if isinstance(value, cst.Attribute):
                attrs.append(value.attr.value)
            else:
                return None
        for index, attr in enumerate(attrs):
            path = (*path, attr)
            last = index == len(attrs) - 1
            if loader in SA_EAGER and (last or loader != "defaultload"):
                paths.add(path)
    return paths


def _fix(orm: Orm, hops: Sequence[Hop]) -> str:
    path = [h.name for h in hops]
    if orm == "django":
        lookup = "__".join(path)
        if all(not h.many for h in hops):
            return f'select_related("{lookup}")'
        return f'prefetch_related("{lookup}")'
    parts = []
    for index, hop in enumerate(hops):
        loader = "selectinload" if hop.many else "joinedload"
        call = f"{loader}({hop.model}.{hop.name})"
        parts.append(call if index == 0 else f".{call}")
    return f"options({''.join(parts)})"


def _query_help(orm: str, verb: str) -> str:
    if orm == "django":
        return (
            "Query once before the loop -- `filter(pk__in=ids)`, `in_bulk(ids)`, an annotation "
            "or `prefetch_related` -- and look the results up in the loop."
        )
    if orm == "sqlalchemy":
        if verb == "write":
            return "Run one statement for all rows (`update(...).where(Model.id.in_(ids))`)."
        return (
            "Query once before the loop (`select(...).where(Model.id.in_(ids))`, or eager-load "
            "the relationship) and look the results up in the loop."
        )
    if verb == "write":
        return "Send all rows in one call with `executemany(sql, rows)`."
    return (
        "Fetch all rows in one query (`WHERE id = ANY(%s)` / `IN (...)`) before the loop, or use "
        "`executemany` for writes."
    )


def _sql_verb(node: cst.Call) -> str:
    if not node.args:
        return "read"
    text = _string(node.args[0].value) or ""
    word = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
    return "write" if word in ("INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT") else "read"


def _ends_with_all(expr: cst.BaseExpression) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "all"
    )


def _strip_all(expr: cst.BaseExpression) -> cst.BaseExpression:
    if _ends_with_all(expr):
        assert isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)
        return expr.func.value
    return expr


# -- the rules' shared base --------------------------------------------------------------------

#: Every BE4xx event happens in or around a loop, a test or a count ...
_LOOP_TEXT = re.compile(r"\bfor\b|\bwhile\b")
_TEST_TEXT = re.compile(r"\bif\b|\bwhile\b|\blen\(|\bbool\(|\.count\(|\.exists\(")
#: ... and needs a query: a model class's attribute (``Order.objects``, ``User.query``), a
#: related manager or query set method, a session, cursor or connection call, a model method.
_QUERY_TEXT = re.compile(
    r"\b[A-Z]\w*\s*\.\s*[a-z_]\w*|\.(?:all|filter|exclude|order_by|select_related|"
    r"prefetch_related|annotate|only|defer|using|distinct|values|iterator|save|delete|create|"
    r"get_or_create|update_or_create|update|add|remove|set|clear|get|first|last|count|exists|"
    r"execute|fetch\w*|scalars?|query)\s*\(|session|cursor|get_object_or_404|get_list_or_404|"
    r"\bself\b"
)


@per_text
def _may_query(text: str) -> bool:
    return _QUERY_TEXT.search(text) is not None


@per_text
def may_have_loop_queries(text: str) -> bool:
    return _LOOP_TEXT.search(text) is not None and _may_query(text)


@per_text
def may_have_counting(text: str) -> bool:
    return _TEST_TEXT.search(text) is not None and _may_query(text)
