"""Value tracking inside one function: what a name may hold, and where its value comes from.

Rules ask two questions about an expression at the point where it is used:

- *what may this name hold?* (``values_of``): the expressions assigned to it that reach this
  point -- ``q = "SELECT ..."`` then ``q += " WHERE a = %s"`` in a branch gives both the plain
  query and the extended one, ``parts.append(x)`` after ``parts = []`` gives ``[x]``;
- *where does this value come from?* (``origin``): a constant, a number by construction, the
  HTTP request, a parameter of the function, or something unknown.

The analysis is a small reaching-definitions pass over the structured statements of one function
(branches join, loops iterate to a fixed point, ``return``/``raise``/``break``/``continue`` end a
path), computed lazily the first time a rule asks about that function and kept for the file. It
needs no libcst metadata: each ``Name`` read inside the function is indexed with the definitions
that reach its statement. Module-level assignments form a scope of their own, used for names a
function does not bind. Names imported in ``UPPER_CASE`` from a module of the same project
(relative imports, or the file's own top-level package) count as constants without reading the
other file: the engine never reads other files from a rule.

Guards narrow a value where they hold: after ``if x not in ALLOWED: raise`` (or ``x = "a"``),
``x`` is one of ``ALLOWED``; inside ``if x.isdigit():`` it is a number; where ``if x:`` fails it is
empty. Comprehension variables are definitions of their own, bound to their iterable.

Rules add their own knowledge through a ``Classifier`` consulted at every expression before the
analysis looks inside it (BE101 makes ``connection.ops.quote_name(x)`` a constant; a taint rule
would add its own sanitizers); answers are memoised per classifier.

Precision is deliberately modest: attributes and containers are not tracked beyond a few shapes
(``d[k] = v`` and ``parts.append(v)`` taint ``d`` and ``parts``), and calls into other functions
are unknown.

Use it through ``FileContext``: ``ctx.dataflow`` (with the scope of the node being visited
computed), ``ctx.value_of(name)``; then ``values_of``, ``value_of``, ``definitions``, ``origin``,
``trace`` and ``items_origin`` on the returned ``Dataflow``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from be_lint.names import ImportMap, dotted_name, suite_statements
from be_lint.walker import children


class Origin(enum.IntEnum):
    """Where a value comes from, ordered from harmless to dangerous (``max`` joins them)."""

    CONSTANT = 0
    #: A number by construction: ``int(x)``, ``len(x)``, arithmetic, a ``range`` item.
    NUMERIC = 1
    #: Anything not known to be harmless: attributes, results of calls, ``with`` targets.
    UNKNOWN = 2
    #: A parameter of the enclosing function: whoever calls it chooses the value.
    PARAMETER = 3
    #: Data from an HTTP request: Flask/Django/DRF/Starlette request objects, route parameters.
    REQUEST = 4

    @property
    def is_safe(self) -> bool:
        return self <= Origin.NUMERIC


#: A rule's own knowledge, consulted first at every expression: return an ``Origin`` to decide,
#: or None to let the analysis look inside (e.g. a quoting function makes its result CONSTANT).
Classifier = Callable[[cst.BaseExpression], "Origin | None"]


class Kind(enum.Enum):
    ASSIGN = "assign"  # x = value
    AUGMENT = "augment"  # x += value
    APPEND = "append"  # x.append(value), x.extend(items), x.add(value) ...
    MUTATE = "mutate"  # x[k] = value, x.update(value)
    LOOP = "loop"  # for x in value
    UNPACK = "unpack"  # a, b = value
    PARAMETER = "parameter"
    IMPORT = "import"
    OTHER = "other"  # with/except targets, del, nested def/class, match captures
    #: Where a guard holds: ``if x not in ALLOWED: raise`` (after it), ``if x.isdigit():``
    #: (inside it). ``value`` is the container of a membership test; ``role`` says which.
    CHECKED = "checked"


@dataclass(eq=False, slots=True)
class Definition:
    """One place that binds (or changes) ``name`` inside a scope."""

    index: int
    name: str
    kind: Kind
    scope: Scope
    #: The binding node: a target ``Name``, a ``Param``, an import alias or the statement.
    node: cst.CSTNode
    value: cst.BaseExpression | None = None
    operator: cst.CSTNode | None = None
    #: Definitions of the same name reaching this one (for ``+=`` and mutations).
    previous: frozenset[int] = frozenset()
    #: For LOOP and UNPACK targets: the position inside a tuple target (``for i, x in ...``).
    position: int | None = None
    #: For PARAMETER: "self" (self/cls), "request" (the request object), "route" (a value
    #: a web framework fills from the request), "injected" (a framework dependency such as
    #: FastAPI's ``Depends()``), "typed" (a route value the framework converts: ``id: int``,
    #: ``<int:id>``, an enum), or "" for an ordinary parameter.
    role: str = ""
    #: For IMPORT: the imported name is a constant of this project.
    constant: bool = False


State = dict[str, frozenset[int]]

#: Candidate values kept per name (branches multiply them); the richest come first.
MAX_VALUES = 8
_MAX_DEPTH = 60
_LOOP_ROUNDS = 6
_VISIT_BUDGET = 50_000
_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_GLOBAL = re.compile(r"^[ \t]*global[ \t]+([\w \t,]+)", re.MULTILINE)

_NUMERIC_BUILTINS = frozenset(
    [
        *(
            f"builtins.{n}"
            for n in ("int", "float", "len", "round", "bool", "abs", "ord", "hash", "sum")
        ),
        *(f"random.{n}" for n in ("randint", "randrange", "random", "uniform", "getrandbits")),
        *(f"time.{n}" for n in ("time", "monotonic", "perf_counter", "time_ns")),
        *(f"math.{n}" for n in ("ceil", "floor", "trunc", "sqrt", "log", "pow")),
        "decimal.Decimal",
    ]
)
_ITEM_PRESERVING = frozenset(
    f"builtins.{n}" for n in ("list", "tuple", "set", "frozenset", "sorted", "reversed", "iter")
)
#: ``str`` methods whose result is made of the receiver and the arguments.
_STRING_METHODS = frozenset(
    {
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "replace",
        "format",
        "format_map",
        "join",
        "encode",
        "decode",
        "zfill",
        "ljust",
        "rjust",
        "center",
        "removeprefix",
        "removesuffix",
        "expandtabs",
        "split",
        "rsplit",
        "splitlines",
        "partition",
        "rpartition",
        "get",
        "pop",
        "copy",
        "getlist",
        "items",
        "keys",
        "values",
    }
)
_EMPTY_CONSTRUCTORS = frozenset(
    f"builtins.{n}" for n in ("list", "tuple", "set", "frozenset", "dict", "str")
)
_APPENDS = frozenset({"append", "add", "appendleft", "insert"})
_EXTENDS = frozenset({"extend", "extendleft", "update"})

# -- HTTP request data -------------------------------------------------------------------------

#: Attributes of a request object that hold client input (Flask/Werkzeug, Django, DRF,
#: Starlette/FastAPI, aiohttp, Bottle, Falcon).
_REQUEST_INPUT = frozenset(
    {
        "args",
        "form",
        "values",
        "json",
        "data",
        "files",
        "cookies",
        "headers",
        "view_args",
        "query_string",
        "get_json",
        "get_data",
        "GET",
        "POST",
        "body",
        "COOKIES",
        "META",
        "FILES",
        "query_params",
        "path_params",
        "match_info",
        "query",
        "params",
        "media",
        "text",
        "post",
        "path",
        "full_path",
        "path_info",
        "url",
        "get_full_path",
        "stream",
    }
)
_REQUEST_OBJECTS = frozenset(
    {"flask.request", "quart.request", "bottle.request", "werkzeug.local.request"}
)
_REQUEST_NAMES = frozenset({"request", "req"})
_ROUTE_DECORATORS = frozenset(
    {
        "route",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "api_route",
        "websocket",
        "view",
    }
)
#: FastAPI parameter declarations: a parameter with such a default is filled from the request.
_FASTAPI_INPUTS = frozenset({"Query", "Path", "Body", "Form", "Header", "Cookie", "File"})
#: FastAPI defaults that are not client input.
_FASTAPI_INJECTED = frozenset({"Depends", "Security", "BackgroundTasks"})


def _is_route(function: cst.FunctionDef) -> bool:
    """``@app.get("/users/{id}")``, ``@bp.route("/x")``, ``@router.post(path="/")``."""
    for decorator in function.decorators:
        call = decorator.decorator
        if not isinstance(call, cst.Call):
            continue
        func = call.func
        name = (
            func.attr.value
            if isinstance(func, cst.Attribute)
            else func.value
            if isinstance(func, cst.Name)
            else None
        )
        if name not in _ROUTE_DECORATORS:
            continue
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value not in ("path", "rule"):
                continue
            value = arg.value
            if isinstance(value, cst.SimpleString):
                text = value.evaluated_value
                if isinstance(text, str) and text.startswith("/"):
                    return True
            break
    return False


# -- constant folding --------------------------------------------------------------------------


class _NotConstant(Exception):
    """Raised inside ``fold`` when an expression has no value known before running."""


#: A name's constant value, or raises ``_NotConstant``.
Lookup = Callable[[cst.Name], object]
_FOLD_DEPTH = 12
_FOLD_LIMIT = 10_000


def fold(expr: cst.BaseExpression, lookup: Lookup | None = None, depth: int = 0) -> object:
    """The value of a constant expression (``7 * 42 - 10 > 200``, ``"ABC"[1]``, ``{"k": 1}["k"]``).

    ``lookup`` gives the constant values of names (a local ``num = 86``); without it names are
    not constant. Raises ``_NotConstant`` for anything that needs the program to run. Results are
    plain Python values; large ones (``"a" * 10**9``) are refused rather than built.
    """
    if depth > _FOLD_DEPTH:
        raise _NotConstant
    if isinstance(expr, cst.Integer | cst.Float | cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        if value is None:
            raise _NotConstant
        return value
    if isinstance(expr, cst.Name):
        if expr.value == "True":
            return True
        if expr.value == "False":
            return False
        if expr.value == "None":
            return None
        if lookup is None:
            raise _NotConstant
        return lookup(expr)
    if isinstance(expr, cst.UnaryOperation):
        inner = fold(expr.expression, lookup, depth + 1)
        operator = expr.operator
        if isinstance(operator, cst.Not):
            return not inner
        if isinstance(inner, bool) or not isinstance(inner, int | float):
            raise _NotConstant
        if isinstance(operator, cst.Minus):
            return -inner
        if isinstance(operator, cst.Plus):
            return +inner
        if isinstance(operator, cst.BitInvert) and isinstance(inner, int):
            return ~inner
        raise _NotConstant
    if isinstance(expr, cst.BooleanOperation):
        left = fold(expr.left, lookup, depth + 1)
        if isinstance(expr.operator, cst.And):
            return fold(expr.right, lookup, depth + 1) if left else left
        return left if left else fold(expr.right, lookup, depth + 1)
    if isinstance(expr, cst.BinaryOperation):
        return _fold_binary(
            expr.operator, fold(expr.left, lookup, depth + 1), fold(expr.right, lookup, depth + 1)
        )
    if isinstance(expr, cst.Comparison):
        left = fold(expr.left, lookup, depth + 1)
        for target in expr.comparisons:
            right = fold(target.comparator, lookup, depth + 1)
            if not _fold_compare(target.operator, left, right):
                return False
            left = right
        return True
    if isinstance(expr, cst.Tuple | cst.List):
        items = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                raise _NotConstant
            items.append(fold(element.value, lookup, depth + 1))
        return tuple(items) if isinstance(expr, cst.Tuple) else items
    if isinstance(expr, cst.Dict):
        mapping: dict[object, object] = {}
        for entry in expr.elements:
            if not isinstance(entry, cst.DictElement):
                raise _NotConstant
            key = fold(entry.key, lookup, depth + 1)
            if not isinstance(key, str | int | float | bool | tuple | None):
                raise _NotConstant
            try:
                mapping[key] = fold(entry.value, lookup, depth + 1)
            except TypeError:  # a tuple key holding a list
                raise _NotConstant from None
        return mapping
    if isinstance(expr, cst.Subscript):
        container = fold(expr.value, lookup, depth + 1)
        key = constant_key(expr, lookup)
        try:
            return container[key]  # type: ignore[index]
        except (LookupError, TypeError, ValueError):
            raise _NotConstant from None
    if isinstance(expr, cst.IfExp):
        test = fold(expr.test, lookup, depth + 1)
        return fold(expr.body if test else expr.orelse, lookup, depth + 1)
    raise _NotConstant


def constant_key(expr: cst.Subscript, lookup: Lookup | None = None) -> object:
    """The constant index of ``x[k]`` (one plain index, no slice), or raises ``_NotConstant``."""
    if len(expr.slice) != 1:
        raise _NotConstant
    index = expr.slice[0].slice
    if not isinstance(index, cst.Index) or index.star is not None:
        raise _NotConstant
    key = fold(index.value, lookup)
    if isinstance(key, list | dict):
        raise _NotConstant
    return key


def _fold_binary(operator: cst.BaseBinaryOp, left: object, right: object) -> object:
    numbers = (
        isinstance(left, int | float)
        and isinstance(right, int | float)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    )
    try:
        if isinstance(operator, cst.Add):
            if numbers or (isinstance(left, str) and isinstance(right, str)):
                return left + right  # type: ignore[operator]
        elif isinstance(operator, cst.Multiply):
            if numbers:
                return left * right  # type: ignore[operator]
            if (
                isinstance(left, str)
                and isinstance(right, int)
                and 0 <= right * len(left) <= _FOLD_LIMIT
            ):
                return left * right
        elif numbers:
            assert isinstance(left, int | float) and isinstance(right, int | float)
            if isinstance(operator, cst.Subtract):
                return left - right
            if isinstance(operator, cst.Divide):
                return left / right
            if isinstance(operator, cst.FloorDivide):
                return left // right
            if isinstance(operator, cst.Modulo):
                return left % right
            if isinstance(operator, cst.Power) and abs(right) <= 64:
                return left**right
            if isinstance(left, int) and isinstance(right, int):
                if isinstance(operator, cst.BitAnd):
                    return left & right
                if isinstance(operator, cst.BitOr):
                    return left | right
                if isinstance(operator, cst.BitXor):
                    return left ^ right
                if isinstance(operator, cst.LeftShift) and 0 <= right <= 64:
                    return left << right
                if isinstance(operator, cst.RightShift) and right >= 0:
                    return left >> right
    except (ArithmeticError, ValueError):
        pass
    raise _NotConstant


def _fold_compare(operator: cst.BaseCompOp, left: object, right: object) -> bool:
    try:
        if isinstance(operator, cst.Equal):
            return bool(left == right)
        if isinstance(operator, cst.NotEqual):
            return bool(left != right)
        if isinstance(operator, cst.Is):
            return left is None and right is None if None in (left, right) else _raise()
        if isinstance(operator, cst.IsNot):
            return not (left is None and right is None) if None in (left, right) else _raise()
        if isinstance(operator, cst.In):
            return left in right  # type: ignore[operator]
        if isinstance(operator, cst.NotIn):
            return left not in right  # type: ignore[operator]
        if isinstance(operator, cst.LessThan):
            return bool(left < right)  # type: ignore[operator]
        if isinstance(operator, cst.LessThanEqual):
            return bool(left <= right)  # type: ignore[operator]
        if isinstance(operator, cst.GreaterThan):
            return bool(left > right)  # type: ignore[operator]
        if isinstance(operator, cst.GreaterThanEqual):
            return bool(left >= right)  # type: ignore[operator]
    except TypeError:
        pass
    raise _NotConstant


def _raise() -> bool:
    raise _NotConstant


def truth(expr: cst.BaseExpression, lookup: Lookup | None = None) -> bool | None:
    """True/False for a condition whose value is known before running, else None."""
    try:
        return bool(fold(expr, lookup))
    except (_NotConstant, RecursionError):
        return None


# -- scopes ------------------------------------------------------------------------------------


@dataclass(eq=False)
class Scope:
    """One function (or the module): its definitions and the state at each name it reads."""

    node: cst.FunctionDef | cst.Module
    parent: Scope | None
    flow: Dataflow
    definitions: list[Definition] = field(default_factory=list)
    #: Every name bound somewhere in the scope (a read of another name is a free variable).
    bound: set[str] = field(default_factory=set)
    #: Names declared ``global``/``nonlocal``: never resolved locally.
    declared: set[str] = field(default_factory=set)
    #: Every ``Name`` node in the scope's code, by name (reads, and targets too).
    reads: dict[str, dict[int, cst.Name]] = field(default_factory=dict)
    _by_node: dict[tuple[int, str], Definition] = field(default_factory=dict)
    _by_name: dict[str, list[Definition]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.node.name.value if isinstance(self.node, cst.FunctionDef) else "<module>"

    def define(self, name: str, kind: Kind, node: cst.CSTNode, **values: object) -> Definition:
        key = (id(node), name)
        found = self._by_node.get(key)
        if found is None:
            found = Definition(len(self.definitions), name, kind, self, node)
            for attr, value in values.items():
                setattr(found, attr, value)
            self.definitions.append(found)
            self._by_node[key] = found
            self._by_name.setdefault(name, []).append(found)
            self.bound.add(name)
        return found

    def all_of(self, name: str) -> list[Definition]:
        """Every definition of ``name`` in the scope, in order."""
        return self._by_name.get(name, [])


class _Loop:
    def __init__(self) -> None:
        self.breaks: State | None = None
        self.continues: State | None = None


def _join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b
    if b is None or a is b:
        return a
    out = dict(a)
    for name, defs in b.items():
        current = out.get(name)
        if current is None:
            out[name] = defs
        elif current is not defs and not defs <= current:
            out[name] = current | defs
    return out


def _same(a: State | None, b: State | None) -> bool:
    return a == b


class _ScopeBuilder:
    """Walks one scope's statements once, recording definitions and the state at every read."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.flow = scope.flow
        self.loops: list[_Loop] = []
        #: Statement visits left. Nested loops repeat their bodies until nothing changes; in
        #: pathological code that could multiply, so once spent, loops take no more rounds.
        self.budget = _VISIT_BUDGET

    # -- entry points --------------------------------------------------------------------------

    def function(self, node: cst.FunctionDef) -> None:
        state: State = {}
        route = _is_route(node)
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        for position, param in enumerate(ordered):
            role = self._param_role(param, position, route)
            state[param.name.value] = frozenset(
                {self.scope.define(param.name.value, Kind.PARAMETER, param, role=role).index}
            )
        rest = [params.star_arg, *params.kwonly_params, params.star_kwarg]
        for extra in rest:
            if isinstance(extra, cst.Param):
                role = self._param_role(extra, 99, route)
                state[extra.name.value] = frozenset(
                    {self.scope.define(extra.name.value, Kind.PARAMETER, extra, role=role).index}
                )
        self.block(suite_statements(node.body), state)

    def module(self, node: cst.Module) -> None:
        self.block(node.body, {})

    def _param_role(self, param: cst.Param, position: int, route: bool) -> str:
        name = param.name.value
        if position == 0 and name in ("self", "cls", "mcs", "metacls"):
            return "self"
        if name in _REQUEST_NAMES:
            return "request"
        default = param.default
        if isinstance(default, cst.Call):
            callee = default.func
            last = (
                callee.attr.value
                if isinstance(callee, cst.Attribute)
                else callee.value
                if isinstance(callee, cst.Name)
                else ""
            )
            if last in _FASTAPI_INJECTED:
                return "injected"
            if last in _FASTAPI_INPUTS:
                return "route"
        if route and not _annotated_as_injected(param):
            if self._typed_by_framework(param):
                return "typed"
            return "route"
        return ""

    def _typed_by_framework(self, param: cst.Param) -> bool:
        """A route parameter the framework converts or rejects: ``item_id: int``,
        ``uid: UUID``, ``kind: Literal["a", "b"]``, a module enum, Flask ``<int:uid>``."""
        node = self.scope.node
        if isinstance(node, cst.FunctionDef):
            converter = _route_converters(node).get(param.name.value)
            if converter in ("int", "float", "uuid"):
                return True
        annotation = param.annotation
        if annotation is None:
            return False
        return _scalar_annotation(annotation.annotation, self.flow.enum_names())

    # -- statements ------------------------------------------------------------------------------

    def block(self, statements: Iterable[cst.CSTNode], state: State | None) -> State | None:
        for statement in statements:
            if state is None:
                # Unreachable code still gets analysed (with no definitions reaching it).
                self.statement(statement, {})
                continue
            state = self.statement(statement, state)
        return state

    def statement(self, node: cst.CSTNode, state: State) -> State | None:
        self.budget -= 1
        if isinstance(node, cst.SimpleStatementLine):
            current: State | None = state
            for small in node.body:
                if current is None:
                    self.index(small, {})
                    continue
                current = self.small(small, current)
            return current
        if isinstance(node, cst.If):
            return self._if(node, state)
        if isinstance(node, cst.For):
            return self._for(node, state)
        if isinstance(node, cst.While):
            return self._while(node, state)
        if isinstance(node, cst.Try | cst.TryStar):
            return self._try(node, state)
        if isinstance(node, cst.With):
            for item in node.items:
                self.index(item.item, state)
            state = dict(state)
            for item in node.items:
                if item.asname is not None:
                    self.bind_target(item.asname.name, Kind.OTHER, item.item, state)
            return self.block(suite_statements(node.body), state)
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            for decorator in node.decorators:
                self.index(decorator.decorator, state)
            if isinstance(node, cst.FunctionDef):
                for param in _all_params(node.params):
                    if param.default is not None:
                        self.index(param.default, state)
            else:
                for arg in node.bases:
                    self.index(arg.value, state)
            state = dict(state)
            definition = self.scope.define(node.name.value, Kind.OTHER, node)
            state[node.name.value] = frozenset({definition.index})
            return state
        if isinstance(node, cst.Match):
            return self._match(node, state)
        return state

    def small(self, node: cst.BaseSmallStatement, state: State) -> State | None:
        self.index(node, state)
        if isinstance(node, cst.Return | cst.Raise):
            return None
        if isinstance(node, cst.Break | cst.Continue):
            if self.loops:
                loop = self.loops[-1]
                if isinstance(node, cst.Break):
                    loop.breaks = _join(loop.breaks, state)
                else:
                    loop.continues = _join(loop.continues, state)
            return None
        out = state
        if isinstance(node, cst.Assign):
            out = dict(state)
            for target in node.targets:
                self.assign(target.target, node.value, node, out)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            out = dict(state)
            self.assign(node.target, node.value, node, out)
        elif isinstance(node, cst.AugAssign):
            out = dict(state)
            augmented = node.target
            if isinstance(augmented, cst.Name):
                self._chain(augmented.value, Kind.AUGMENT, node, node.value, out, node.operator)
            else:
                self._mutation(augmented, node.value, node, out)
        elif isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            if self._never_returns(node.value):
                return None
            out = self._call_statement(node.value, node, state)
        elif isinstance(node, cst.Del):
            out = dict(state)
            for name in _names_in_target(node.target):
                out[name.value] = frozenset({self.scope.define(name.value, Kind.OTHER, node).index})
        elif isinstance(node, cst.Global | cst.Nonlocal):
            for item in node.names:
                self.scope.declared.add(item.name.value)
        elif isinstance(node, cst.Import | cst.ImportFrom):
            out = dict(state)
            self._import(node, out)
        if out is not None:
            out = self._walrus(node, out)
        return out

    def _never_returns(self, call: cst.Call) -> bool:
        """``abort(400)``, ``sys.exit(1)``: the path ends here, like a ``raise``."""
        imports = self.flow.imports
        qualified = imports.resolve(call.func) if imports is not None else frozenset()
        if qualified & _NEVER_RETURN:
            return True
        return isinstance(call.func, cst.Name) and call.func.value == "abort" and not qualified

    def _walrus(self, node: cst.CSTNode, state: State) -> State:
        """``(x := value)`` inside ``node`` binds ``x`` in the function from then on."""
        if not self.flow.walrus_possible:
            return state
        targets = _walrus_targets(node)
        if not targets:
            return state
        out = dict(state)
        for name, value in targets:
            definition = self.scope.define(name.value, Kind.ASSIGN, name, value=value)
            out[name.value] = frozenset({definition.index})
        return out

    def _if(self, node: cst.If, state: State) -> State | None:
        # ``elif`` chains nest in ``orelse``: walk them iteratively (long chains exist).
        ends: list[State | None] = []
        current: cst.If | None = node
        while current is not None:
            self.index(current.test, state)
            state = self._walrus(current.test, state)
            # A condition known before running (``if 7 * 42 - num > 200:``) has one live side;
            # the dead one is still analysed, with no definitions reaching it.
            known = truth(current.test, self.flow.constant)
            inside, outside = self._guard(current, state)
            if known is False:
                self.block(suite_statements(current.body), {})
            else:
                ends.append(self.block(suite_statements(current.body), inside))
            if known is True:
                rest = current.orelse
                while rest is not None:
                    if isinstance(rest, cst.If):
                        self.index(rest.test, {})
                        self.block(suite_statements(rest.body), {})
                        rest = rest.orelse
                    else:
                        self.block(suite_statements(rest.body), {})
                        rest = None
                break
            state = outside
            orelse = current.orelse
            if isinstance(orelse, cst.If):
                current = orelse
                continue
            if isinstance(orelse, cst.Else):
                ends.append(self.block(suite_statements(orelse.body), state))
            else:
                ends.append(state)
            current = None
        out: State | None = None
        for end in ends:
            out = _join(out, end)
        return out

    def _guard(self, node: cst.If, state: State) -> tuple[State, State]:
        """The states where ``node.test`` is true and false, with what its guards establish.

        ``if a and b:`` narrows by both inside; ``if not x or not check(x):`` narrows by both
        where the test fails (after an ``if ...: raise``).
        """
        when_true, when_false = _guards(node.test, 0)
        inside = self._narrow(state, when_true)
        outside = self._narrow(state, when_false)
        return inside, outside

    def _narrow(self, state: State, guards: list[_Guard]) -> State:
        out = state
        for name, role, container in guards:
            if name.value not in out:
                continue
            if out is state:
                out = dict(state)
            # The guarded ``Name`` inside the test identifies the definition: it belongs to
            # exactly one side of one guard.
            definition = self.scope.define(
                name.value, Kind.CHECKED, name, value=container, role=role
            )
            definition.previous = definition.previous | out[name.value]
            out[name.value] = frozenset({definition.index})
        return out

    def _for(self, node: cst.For, state: State) -> State | None:
        self.index(node.iter, state)

        def enter(head: State, loop: _Loop) -> State:
            inside = dict(head)
            self.bind_target(node.target, Kind.LOOP, node.iter, inside, loop_node=node)
            return inside

        return self._loop(state, enter, node.body, node.orelse)

    def _while(self, node: cst.While, state: State) -> State | None:
        def enter(head: State, loop: _Loop) -> State:
            self.index(node.test, head)
            return self._walrus(node.test, head)

        return self._loop(state, enter, node.body, node.orelse)

    def _loop(
        self,
        state: State,
        enter: Callable[[State, _Loop], State],
        body: cst.BaseSuite,
        orelse: cst.Else | None,
    ) -> State | None:
        """Run a loop body to a fixed point (bounded by ``_LOOP_ROUNDS`` and the budget)."""
        head: State = state
        loop = _Loop()
        for _ in range(_LOOP_ROUNDS):
            inside = enter(head, loop)
            self.loops.append(loop)
            loop.continues = None
            end = self.block(suite_statements(body), inside)
            self.loops.pop()
            joined = _join(_join(head, end), loop.continues)
            assert joined is not None
            if _same(joined, head) or self.budget < 0:
                head = joined
                break
            head = joined
        after = self.block(suite_statements(orelse.body), head) if orelse else head
        return _join(after, loop.breaks)

    def _try(self, node: cst.Try | cst.TryStar, state: State) -> State | None:
        # A handler may run after any statement of the body: it sees every state of the body.
        seen: State | None = state
        current: State | None = state
        for statement in suite_statements(node.body):
            if current is None:
                self.statement(statement, {})
                continue
            current = self.statement(statement, current)
            seen = _join(seen, current)
        ends: list[State | None] = []
        body_end = current
        if node.orelse is not None and body_end is not None:
            body_end = self.block(suite_statements(node.orelse.body), body_end)
        ends.append(body_end)
        for handler in node.handlers:
            if handler.type is not None:
                self.index(handler.type, seen or {})
            start = dict(seen or {})
            if handler.name is not None:
                self.bind_target(handler.name.name, Kind.OTHER, handler, start)
            ends.append(self.block(suite_statements(handler.body), start))
        out: State | None = None
        for end in ends:
            out = _join(out, end)
        if node.finalbody is not None:
            start = _join(out, seen) or {}
            finished = self.block(suite_statements(node.finalbody.body), start)
            return None if out is None else finished
        return out

    def _match(self, node: cst.Match, state: State) -> State | None:
        self.index(node.subject, state)
        out: State | None = state
        for case in node.cases:
            inside = dict(state)
            for name in _pattern_names(case.pattern):
                definition = self.scope.define(name.value, Kind.OTHER, name)
                inside[name.value] = frozenset({definition.index})
            if case.guard is not None:
                self.index(case.guard, inside)
            out = _join(out, self.block(suite_statements(case.body), inside))
        return out

    # -- bindings --------------------------------------------------------------------------------

    def assign(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression,
        statement: cst.CSTNode,
        state: State,
    ) -> None:
        if isinstance(target, cst.Name):
            definition = self.scope.define(target.value, Kind.ASSIGN, target, value=value)
            state[target.value] = frozenset({definition.index})
        elif isinstance(target, cst.Tuple | cst.List):
            elements = target.elements
            if (
                isinstance(value, cst.Tuple | cst.List)
                and len(value.elements) == len(elements)
                and not any(isinstance(e, cst.StarredElement) for e in elements)
                and not any(isinstance(e, cst.StarredElement) for e in value.elements)
            ):
                for element, item in zip(elements, value.elements, strict=True):
                    self.assign(element.value, item.value, statement, state)
            else:
                self.bind_target(target, Kind.UNPACK, value, state)
        elif isinstance(target, cst.Subscript | cst.Attribute):
            self._mutation(target, value, statement, state)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, Kind.UNPACK, value, state)

    def bind_target(
        self,
        target: cst.BaseExpression,
        kind: Kind,
        value: cst.BaseExpression | cst.CSTNode | None,
        state: State,
        *,
        loop_node: cst.CSTNode | None = None,
    ) -> None:
        """Bind every name in ``target`` (a Name, or a tuple of them) to ``value`` as ``kind``."""
        expr = value if isinstance(value, cst.BaseExpression) else None
        if isinstance(target, cst.Name):
            definition = self.scope.define(target.value, kind, target, value=expr)
            state[target.value] = frozenset({definition.index})
            return
        if isinstance(target, cst.Tuple | cst.List):
            for position, element in enumerate(target.elements):
                inner = element.value
                if isinstance(inner, cst.Name):
                    definition = self.scope.define(
                        inner.value, kind, inner, value=expr, position=position
                    )
                    state[inner.value] = frozenset({definition.index})
                else:
                    self.bind_target(inner, kind, value, state)
            return
        if isinstance(target, cst.StarredElement):
            self.bind_target(target.value, kind, value, state)
            return
        if isinstance(target, cst.Subscript | cst.Attribute) and expr is not None:
            self._mutation(target, expr, target, state)

    def _chain(
        self,
        name: str,
        kind: Kind,
        node: cst.CSTNode,
        value: cst.BaseExpression | None,
        state: State,
        operator: cst.CSTNode | None = None,
    ) -> None:
        """A definition built on the previous value of ``name`` (``+=``, ``append``, ``d[k]=v``)."""
        previous = state.get(name, frozenset())
        definition = self.scope.define(name, kind, node, value=value, operator=operator)
        definition.previous = definition.previous | previous
        state[name] = frozenset({definition.index})

    def _mutation(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression,
        node: cst.CSTNode,
        state: State,
    ) -> None:
        # ``d[k] = v`` or ``obj.attr = v``: the container now holds ``v`` too.
        root = target
        while isinstance(root, cst.Subscript | cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and root.value in state and root.value not in ("self", "cls"):
            self._chain(root.value, Kind.MUTATE, node, value, state)

    def _call_statement(self, call: cst.Call, node: cst.CSTNode, state: State) -> State:
        func = call.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return state
        name = func.value.value
        method = func.attr.value
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if not positional:
            return state
        out = dict(state)
        if method in _APPENDS:
            item = positional[-1]
            self._chain(name, Kind.APPEND, node, cst.List([cst.Element(item)]), out)
        elif method in _EXTENDS:
            self._chain(name, Kind.APPEND, node, positional[0], out, operator=func.attr)
        else:
            return state
        return out

    def _import(self, node: cst.Import | cst.ImportFrom, state: State) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                local = alias.evaluated_alias or alias.evaluated_name.split(".", 1)[0]
                definition = self.scope.define(local, Kind.IMPORT, alias)
                state[local] = frozenset({definition.index})
            return
        if isinstance(node.names, cst.ImportStar):
            return
        project = self.flow.is_project_module(node)
        for alias in node.names:
            local = alias.evaluated_alias or alias.evaluated_name
            constant = project and bool(_CONSTANT_NAME.match(alias.evaluated_name))
            definition = self.scope.define(local, Kind.IMPORT, alias, constant=constant)
            state[local] = frozenset({definition.index})

    # -- reads -----------------------------------------------------------------------------------

    def index(self, node: cst.CSTNode, state: State) -> None:
        """Record ``state`` for every name read inside ``node`` (not inside nested scopes)."""
        names = self.flow.names
        parents = self.flow.parents
        reads = self.scope.reads
        entry = (self.scope, state)
        stack = [node]
        if type(node) is cst.Name:
            stack = []
            names[id(node)] = entry
            reads.setdefault(node.value, {})[id(node)] = node
        while stack:
            current = stack.pop()
            for child in children(current):
                parents[id(child)] = current
                kind = type(child)
                if kind is cst.Name:
                    assert isinstance(child, cst.Name)
                    names[id(child)] = entry
                    reads.setdefault(child.value, {})[id(child)] = child
                elif kind in _COMPREHENSIONS:
                    self._comprehension(child, current, state)
                elif not isinstance(child, cst.FunctionDef | cst.ClassDef):
                    stack.append(child)

    def _comprehension(self, node: cst.CSTNode, parent: cst.CSTNode, state: State) -> None:
        """``[f(x) for x in xs if g(x)]``: ``x`` is a definition of its own, read inside."""
        assert isinstance(node, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp)
        self.flow.parents[id(node)] = parent
        inner = dict(state)
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            self.index(clause.iter, inner)
            inner = dict(inner)
            self.bind_target(clause.target, Kind.LOOP, clause.iter, inner)
            for condition in clause.ifs:
                self.index(condition.test, inner)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self.index(node.key, inner)
            self.index(node.value, inner)
        else:
            self.index(node.elt, inner)


#: Calls that never return normally.
_NEVER_RETURN = frozenset(
    {
        "flask.abort",
        "quart.abort",
        "werkzeug.exceptions.abort",
        "bottle.abort",
        "sys.exit",
        "os._exit",
        "builtins.exit",
        "builtins.quit",
        "pytest.fail",
        "pytest.skip",
    }
)
#: Redirect-target checks: a URL that passes them stays on an allowed host.
_URL_CHECKS = frozenset(
    {
        "url_has_allowed_host_and_scheme",
        "is_safe_url",
        "is_safe_redirect_url",
        "is_safe_redirect",
        "is_safe_next_url",
        "safe_url",
    }
)
_NUMERIC_CHECKS = frozenset({"isdigit", "isdecimal", "isnumeric"})
_PATTERN_CHECKS = frozenset({"re.match", "re.fullmatch"})
#: A regular expression that only admits word characters (and a few separators).
_SAFE_PATTERN = re.compile(r"^\^?(?:\[[\w\\-]*\]|\\w|\\d|[\w-])+[+*]?(?:\{[0-9,]+\})?\$?$")


_Guard = tuple[cst.Name, str, "cst.BaseExpression | None"]


def _guards(test: cst.BaseExpression, depth: int) -> tuple[list[_Guard], list[_Guard]]:
    """The guards that hold where ``test`` is true, and those that hold where it is false."""
    if depth > 20:
        return [], []
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        when_true, when_false = _guards(test.expression, depth + 1)
        return when_false, when_true
    if isinstance(test, cst.BooleanOperation):
        left_true, left_false = _guards(test.left, depth + 1)
        right_true, right_false = _guards(test.right, depth + 1)
        if isinstance(test.operator, cst.And):
            return left_true + right_true, []
        return [], left_false + right_false
    guard = _guard_of(test)
    if guard is None:
        return [], []
    name, role, container, holds_when_true = guard
    entry: _Guard = (name, role, container)
    return ([entry], []) if holds_when_true else ([], [entry])


def _guard_of(
    test: cst.BaseExpression,
) -> tuple[cst.Name, str, cst.BaseExpression | None, bool] | None:
    """(name, role, container, holds when the test is true) for a guard ``test``.

    ``x in ALLOWED`` / ``x not in ALLOWED`` (role "member"), ``x.isdigit()`` (role "numeric"),
    ``re.fullmatch(r"[a-z_]+", x)`` (role "pattern"), each possibly under ``not``; and plain
    ``x`` (role "falsy": where the test fails, ``x`` is empty).
    """
    positive = True
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        positive = not positive
        test = test.expression
    if isinstance(test, cst.Name):
        # ``if sort:``: where it does not hold, the value is empty (None, "", 0).
        return test, "falsy", None, not positive
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(test.left, cst.Name) and isinstance(target.operator, cst.In | cst.NotIn):
            holds = positive if isinstance(target.operator, cst.In) else not positive
            return test.left, "member", target.comparator, holds
        return None
    if not isinstance(test, cst.Call):
        return None
    func = test.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in _NUMERIC_CHECKS
        and isinstance(func.value, cst.Name)
    ):
        return func.value, "numeric", None, positive
    callee = dotted_name(func) or ""
    if callee.rsplit(".", 1)[-1] in _URL_CHECKS and test.args:
        subject = test.args[0].value
        for arg in test.args:
            if arg.keyword is not None and arg.keyword.value in ("url", "target"):
                subject = arg.value
        if isinstance(subject, cst.Name):
            return subject, "url", None, positive
    if dotted_name(func) in _PATTERN_CHECKS and len(test.args) >= 2:
        pattern, subject = test.args[0].value, test.args[1].value
        if isinstance(pattern, cst.SimpleString) and isinstance(subject, cst.Name):
            text = pattern.evaluated_value
            anchored = isinstance(text, str) and (
                dotted_name(func) == "re.fullmatch" or text.endswith("$")
            )
            if anchored and isinstance(text, str) and _SAFE_PATTERN.match(text):
                return subject, "pattern", None, positive
    return None


_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp})


#: Annotations whose values FastAPI/Starlette/Django Ninja convert (or reject) before the call.
_SCALAR_TYPES = frozenset(
    {
        "int",
        "float",
        "bool",
        "UUID",
        "UUID1",
        "UUID4",
        "date",
        "datetime",
        "time",
        "timedelta",
        "Decimal",
        "PositiveInt",
        "NegativeInt",
        "NonNegativeInt",
        "NonPositiveInt",
        "PositiveFloat",
        "StrictInt",
        "StrictFloat",
        "StrictBool",
        "conint",
        "confloat",
        "condecimal",
        "IPvAnyAddress",
        "IPv4Address",
        "IPv6Address",
    }
)
_ROUTE_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)>]*\))?:)?(\w+)>")


def _route_converters(function: cst.FunctionDef) -> dict[str, str]:
    """Flask/Werkzeug path variables and their converters: ``<int:uid>`` gives ``uid: int``."""
    found: dict[str, str] = {}
    for decorator in function.decorators:
        call = decorator.decorator
        if not isinstance(call, cst.Call):
            continue
        for arg in call.args:
            value = arg.value
            if isinstance(value, cst.SimpleString):
                text = value.evaluated_value
                if isinstance(text, str) and "<" in text:
                    for match in _ROUTE_VARIABLE.finditer(text):
                        found[match.group(2)] = match.group(1) or "string"
    return found


def _scalar_annotation(annotation: cst.BaseExpression, enums: frozenset[str]) -> bool:
    """``int``, ``Optional[UUID]``, ``Annotated[int, Path()]``, ``date | None``, an enum."""
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        sides = [annotation.left, annotation.right]
        typed = [
            side for side in sides if not (isinstance(side, cst.Name) and side.value == "None")
        ]
        return bool(typed) and all(_scalar_annotation(side, enums) for side in typed)
    if isinstance(annotation, cst.Subscript):
        outer = (dotted_name(annotation.value) or "").rsplit(".", 1)[-1]
        inner = [
            element.slice.value
            for element in annotation.slice
            if isinstance(element.slice, cst.Index)
        ]
        if outer == "Literal":
            return True
        if outer == "Optional" and len(inner) == 1:
            return _scalar_annotation(inner[0], enums)
        if outer == "Annotated" and inner:
            return _scalar_annotation(inner[0], enums)
        if outer == "Union" and inner:
            typed = [i for i in inner if not (isinstance(i, cst.Name) and i.value == "None")]
            return bool(typed) and all(_scalar_annotation(i, enums) for i in typed)
        return False
    if isinstance(annotation, cst.Call):
        annotation = annotation.func  # ``conint(gt=0)``
    name = (dotted_name(annotation) or "").rsplit(".", 1)[-1]
    return name in _SCALAR_TYPES or name in enums


def _annotated_as_injected(param: cst.Param) -> bool:
    """``request: Request``, ``db: Session``, ``background: BackgroundTasks``: not client data."""
    annotation = param.annotation
    if annotation is None:
        return False
    name = dotted_name(annotation.annotation) or ""
    last = name.rsplit(".", 1)[-1]
    return last in ("Request", "WebSocket", "Session", "AsyncSession", "BackgroundTasks")


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            out.append(extra)
    return out


def _names_in_target(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _names_in_target(e.value)]
    if isinstance(target, cst.StarredElement):
        return _names_in_target(target.value)
    return []


def _walrus_targets(node: cst.CSTNode) -> list[tuple[cst.Name, cst.BaseExpression]]:
    found: list[tuple[cst.Name, cst.BaseExpression]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.NamedExpr) and isinstance(current.target, cst.Name):
            found.append((current.target, current.value))
        if isinstance(current, cst.Lambda | cst.FunctionDef | cst.ClassDef):
            continue
        stack.extend(children(current))
    return found


def _pattern_names(pattern: cst.MatchPattern) -> list[cst.Name]:
    found: list[cst.Name] = []
    stack: list[cst.CSTNode] = [pattern]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.MatchAs | cst.MatchStar) and current.name is not None:
            found.append(current.name)
        elif isinstance(current, cst.MatchMapping) and current.rest is not None:
            found.append(current.rest)
        stack.extend(children(current))
    return found


#: Methods that change a container in ways ``select`` cannot follow.
_UNTRACKED_CHANGES = frozenset(
    {"pop", "popitem", "remove", "insert", "clear", "reverse", "sort", "setdefault", "update"}
    | {"appendleft", "extendleft", "rotate", "discard"}
)


def _literal_element(container: cst.BaseExpression, key: object) -> cst.BaseExpression | None:
    """``{"a": x}`` with key ``"a"`` gives ``x``; ``[a, b]`` with ``-1`` gives ``b``."""
    if isinstance(container, cst.Dict):
        found: cst.BaseExpression | None = None
        for entry in container.elements:
            if not isinstance(entry, cst.DictElement):
                return None
            try:
                stored = fold(entry.key)
            except (_NotConstant, RecursionError):
                return None
            if stored == key and type(stored) is type(key):
                found = entry.value  # the last duplicate key wins, as at run time
        return found
    if isinstance(container, cst.List | cst.Tuple):
        if not isinstance(key, int) or isinstance(key, bool):
            return None
        elements = container.elements
        if any(isinstance(e, cst.StarredElement) for e in elements):
            return None
        if -len(elements) <= key < len(elements):
            return elements[key].value
    return None


# -- the per-file facility -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trace:
    """The origin of a value and the expression that decided it (for messages)."""

    origin: Origin
    #: The leaf responsible: a parameter's name, a request expression, an unknown call.
    witness: cst.CSTNode | None = None
    #: For PARAMETER/REQUEST witnesses that are parameters: the function's name.
    function: str | None = None


_CONSTANT = Trace(Origin.CONSTANT)
_NUMERIC = Trace(Origin.NUMERIC)


def _worst(a: Trace, b: Trace) -> Trace:
    return b if b.origin > a.origin else a


class Dataflow:
    """Value tracking for one file, computed per function on first use (see the module doc)."""

    def __init__(
        self,
        module: cst.Module,
        imports: ImportMap | None,
        package: str | None = None,
        text: str = "",
    ) -> None:
        self.module = module
        self.imports = imports
        self.package = package
        self.text = text
        #: No ``:=`` in the source (when it is known), no assignment expression to look for.
        self.walrus_possible = not text or ":=" in text
        #: id(Name read) -> (scope, definitions reaching it)
        self.names: dict[int, tuple[Scope, State]] = {}
        #: id(node) -> parent, for expressions inside analysed scopes
        self.parents: dict[int, cst.CSTNode] = {}
        self._scopes: dict[int, Scope] = {}
        self._module_scope: Scope | None = None
        self._values: dict[int, list[cst.BaseExpression]] = {}
        self._synthetic: list[cst.BaseExpression] = []
        self._memo: dict[tuple[object, int, bool], Trace] = {}
        self._active: dict[tuple[object, int, bool], int] = {}
        self._globals: set[str] | None = None
        self._folding: set[int] = set()
        self._enums: frozenset[str] | None = None

    def release(self) -> None:
        """Forget everything once the file is done: scopes and memoised traces refer back to
        this object, and without these cycles the syntax tree is freed at once rather than by
        the cyclic garbage collector walking all of it (``FileContext.release``)."""
        scopes = list(self._scopes.values())
        if self._module_scope is not None:
            scopes.append(self._module_scope)
        for scope in scopes:  # definitions point back at their scope
            scope.definitions.clear()
            scope._by_node.clear()
            scope._by_name.clear()
            scope.reads.clear()
        self.names.clear()
        self.parents.clear()
        self._scopes.clear()
        self._module_scope = None
        self._values.clear()
        self._synthetic.clear()
        self._memo.clear()
        self._active.clear()

    # -- scopes ----------------------------------------------------------------------------------

    def enter(self, ancestors: Sequence[cst.CSTNode]) -> Scope:
        """The scope of the innermost function among ``ancestors`` (computing it if needed)."""
        scope = self.module_scope()
        for node in ancestors:
            if isinstance(node, cst.FunctionDef):
                scope = self._function_scope(node, scope)
        return scope

    def module_scope(self) -> Scope:
        if self._module_scope is None:
            scope = Scope(self.module, None, self)
            self._module_scope = scope
            _ScopeBuilder(scope).module(self.module)
        return self._module_scope

    def _function_scope(self, node: cst.FunctionDef, parent: Scope) -> Scope:
        scope = self._scopes.get(id(node))
        if scope is None:
            scope = Scope(node, parent, self)
            self._scopes[id(node)] = scope
            _ScopeBuilder(scope).function(node)
        return scope

    def enum_names(self) -> frozenset[str]:
        """Classes of this file that subclass an enum (``class Color(str, Enum)``)."""
        if self._enums is None:
            found = set()
            for statement in self.module.body:
                if isinstance(statement, cst.ClassDef):
                    for base in statement.bases:
                        last = (dotted_name(base.value) or "").rsplit(".", 1)[-1]
                        if last.endswith(("Enum", "Flag")) or last == "TextChoices":
                            found.add(statement.name.value)
            self._enums = frozenset(found)
        return self._enums

    def is_project_module(self, node: cst.ImportFrom) -> bool:
        """``from .x import Y``, or ``from pkg.x import Y`` inside package ``pkg``."""
        if node.relative:
            return True
        if node.module is None or not self.package:
            return False
        module = dotted_name(node.module) or ""
        return module.split(".", 1)[0] == self.package.split(".", 1)[0]

    # -- definitions -----------------------------------------------------------------------------

    def definitions(self, name: cst.Name) -> list[Definition]:
        """The definitions that may have given ``name`` its value where it is read.

        Empty when unknown (a builtin, a name bound nowhere visible, a ``global``).
        """
        entry = self.names.get(id(name))
        if entry is not None:
            scope, state = entry
            if name.value in scope.bound and name.value not in scope.declared:
                found = state.get(name.value)
                if found is None:
                    return []  # read before assignment on every path (or a walrus in a guard)
                defs = scope.definitions
                return [defs[i] for i in sorted(found, reverse=True)]
            return self._free(name.value, scope.parent)
        return self._free(name.value, self.module_scope())

    def _free(self, name: str, scope: Scope | None) -> list[Definition]:
        """A name a function does not bind: the enclosing functions', then the module's."""
        while scope is not None:
            if name in scope.declared:
                return []
            if name in scope.bound:
                if scope.parent is None and name in self._global_names():
                    return []  # some function rebinds it with ``global``
                return list(reversed(scope.all_of(name)))
            scope = scope.parent
        return []

    def _global_names(self) -> set[str]:
        if self._globals is None:
            # A text search is cheaper than walking every function for ``global`` statements.
            names: set[str] = set()
            for m in _GLOBAL.finditer(self.text):
                names.update(n.strip() for n in m.group(1).split(",") if n.strip())
            self._globals = names
        return self._globals

    # -- constants -------------------------------------------------------------------------------

    def constant(self, name: cst.Name) -> object:
        """The value ``name`` holds where it is read when every definition reaching it is the
        same constant (``num = 86``, ``guess = "ABC"[1]``); raises ``_NotConstant`` otherwise."""
        key = id(name)
        if key in self._folding:
            raise _NotConstant
        definitions = self.definitions(name)
        if not definitions:
            raise _NotConstant
        self._folding.add(key)
        try:
            values = []
            for definition in definitions:
                if definition.kind is not Kind.ASSIGN or definition.value is None:
                    raise _NotConstant
                values.append(fold(definition.value, self.constant))
        finally:
            self._folding.discard(key)
        first = values[0]
        if any(type(v) is not type(first) or v != first for v in values[1:]):
            raise _NotConstant
        return first

    def select(self, expr: cst.Subscript) -> cst.BaseExpression | None:
        """The element ``container[key]`` picks when both are known (``d["k"]``, ``lst[0]``).

        The container is a literal, or a name holding one literal (a dict possibly filled by
        ``d["k"] = v`` statements, a list possibly grown by ``append``). None when unknown --
        also when the name is changed in ways not tracked (``pop``, ``del``, ``insert``).
        """
        try:
            key = constant_key(expr, self.constant)
        except (_NotConstant, RecursionError):
            return None
        return self.element(expr.value, key)

    def element(self, container: cst.BaseExpression, key: object) -> cst.BaseExpression | None:
        """The expression stored under constant ``key`` in ``container`` (see ``select``)."""
        if isinstance(container, cst.Name):
            return self._named_element(container, key, 0)
        return _literal_element(container, key)

    def _named_element(self, name: cst.Name, key: object, depth: int) -> cst.BaseExpression | None:
        definitions = self.definitions(name)
        if len(definitions) != 1 or depth > 20 or self._changed_untracked(name):
            return None
        definition = definitions[0]
        while depth <= 20:
            depth += 1
            if definition.kind is Kind.ASSIGN and definition.value is not None:
                value = definition.value
                if isinstance(value, cst.Name):
                    return self._named_element(value, key, depth)
                return _literal_element(value, key)
            if definition.kind is Kind.MUTATE and isinstance(definition.node, cst.Assign):
                targets = definition.node.targets
                target = targets[0].target if len(targets) == 1 else None
                if not isinstance(target, cst.Subscript) or not isinstance(target.value, cst.Name):
                    return None
                try:
                    stored = constant_key(target, self.constant)
                except (_NotConstant, RecursionError):
                    return None
                if stored == key and type(stored) is type(key):
                    return definition.node.value
            elif definition.kind is Kind.APPEND:
                values = self._definition_values(definition, 0)
                if len(values) != 1:
                    return None
                return _literal_element(values[0], key)
            else:
                return None
            previous = [i for i in definition.previous if i != definition.index]
            if len(previous) != 1:
                return None
            definition = definition.scope.definitions[previous[0]]
        return None

    def _changed_untracked(self, name: cst.Name) -> bool:
        """``name`` is changed somewhere by a method or statement the analysis does not model."""
        entry = self.names.get(id(name))
        if entry is None:
            return True
        scope = entry[0]
        for read in scope.reads.get(name.value, {}).values():
            parent = self.parents.get(id(read))
            if isinstance(parent, cst.Attribute) and parent.value is read:
                if parent.attr.value in _UNTRACKED_CHANGES:
                    return True
            elif isinstance(parent, cst.Subscript) and parent.value is read:
                grand = self.parents.get(id(parent))
                if isinstance(grand, cst.Del | cst.AugAssign):
                    return True
        return False

    # -- values ----------------------------------------------------------------------------------

    def values_of(self, name: cst.Name) -> list[cst.BaseExpression]:
        """Expressions ``name`` may hold where it is read, richest first (at most ``MAX_VALUES``).

        ``q += x`` gives ``<previous> + x``; ``parts.append(x)`` gives the previous list with
        ``x`` added. Definitions without an expression (parameters, imports) give nothing: the
        list is empty when nothing is known.
        """
        out: list[cst.BaseExpression] = []
        seen: set[int] = set()
        definitions = self.definitions(name)
        for earlier in _chain_prefix(definitions):
            self._definition_values(earlier, 0)  # long ``+=`` chains: shallow, in order
        for definition in definitions:
            for value in self._definition_values(definition, 0):
                if id(value) not in seen:
                    seen.add(id(value))
                    out.append(value)
            if len(out) >= MAX_VALUES:
                break
        return out[:MAX_VALUES]

    def value_of(self, name: cst.Name) -> cst.BaseExpression | None:
        """The one expression ``name`` holds, or None when there are several or none.

        A list built by appends in branches gives a list of every item that may be in it.
        """
        definitions = self.definitions(name)
        if not definitions or any(not self._has_value(d) for d in definitions):
            return None
        values = self.values_of(name)
        if len(values) == 1:
            return values[0]
        if values and all(isinstance(v, cst.List | cst.Tuple) for v in values):
            items: list[cst.BaseElement] = []
            seen: set[int] = set()
            for value in values:
                assert isinstance(value, cst.List | cst.Tuple)
                for element in value.elements:
                    if id(element.value) not in seen:
                        seen.add(id(element.value))
                        items.append(element)
            return self._keep(cst.List(items))
        return None

    def _has_value(self, definition: Definition) -> bool:
        if definition.kind is Kind.CHECKED:
            defs = definition.scope.definitions
            return all(
                self._has_value(defs[i]) for i in definition.previous if i != definition.index
            )
        return definition.kind in (Kind.ASSIGN, Kind.AUGMENT, Kind.APPEND, Kind.MUTATE)

    def _keep(self, node: cst.BaseExpression) -> cst.BaseExpression:
        # Synthetic nodes are kept alive for the file: callers cache results by ``id``.
        self._synthetic.append(node)
        return node

    def _definition_values(self, definition: Definition, depth: int) -> list[cst.BaseExpression]:
        key = id(definition)
        cached = self._values.get(key)
        if cached is not None:
            return cached
        if depth > _MAX_DEPTH:
            return []
        self._values[key] = []  # a loop reaching itself adds no new shape
        out: list[cst.BaseExpression] = []
        value = definition.value
        if definition.kind is Kind.ASSIGN and value is not None:
            out = [value]
        elif definition.kind is Kind.CHECKED:
            out = self._previous_values(definition, depth)[:MAX_VALUES]
        elif definition.kind in (Kind.AUGMENT, Kind.APPEND, Kind.MUTATE) and value is not None:
            previous = self._previous_values(definition, depth)
            for before in previous:
                combined = self._combine(definition, before, value)
                if combined is not None:
                    out.append(combined)
                if len(out) >= MAX_VALUES:
                    break
        self._values[key] = out
        return out

    def _previous_values(self, definition: Definition, depth: int) -> list[cst.BaseExpression]:
        defs = definition.scope.definitions
        out: list[cst.BaseExpression] = []
        for index in sorted(definition.previous, reverse=True):
            if index == definition.index:
                continue
            out.extend(self._definition_values(defs[index], depth + 1))
        return out

    def _combine(
        self, definition: Definition, before: cst.BaseExpression, value: cst.BaseExpression
    ) -> cst.BaseExpression | None:
        kind = definition.kind
        if kind is Kind.MUTATE:
            return before
        if kind is Kind.APPEND:
            if not isinstance(before, cst.List | cst.Tuple):
                return None
            added: list[cst.BaseElement]
            if isinstance(value, cst.List | cst.Tuple):
                added = [cst.Element(e.value) for e in value.elements]
            else:
                added = [cst.StarredElement(value)]  # ``extend(items)``: unknown items
            return self._keep(cst.List([*before.elements, *added]))
        operator = definition.operator
        if isinstance(operator, cst.AddAssign):
            if isinstance(before, cst.List) and isinstance(value, cst.List | cst.Tuple):
                return self._keep(cst.List([*before.elements, *value.elements]))
            return self._keep(cst.BinaryOperation(before, cst.Add(), value))
        if isinstance(operator, cst.ModuloAssign):
            return self._keep(cst.BinaryOperation(before, cst.Modulo(), value))
        return None

    # -- origins ---------------------------------------------------------------------------------

    def origin(self, expr: cst.BaseExpression, classify: Classifier | None = None) -> Origin:
        """Where the value of ``expr`` comes from (the worst of its possible sources)."""
        return self.trace(expr, classify).origin

    def trace(self, expr: cst.BaseExpression, classify: Classifier | None = None) -> Trace:
        """Like ``origin``, with the sub-expression responsible for the answer."""
        return _Tracer(self, classify).value(expr, 0, {})

    def items_origin(self, expr: cst.BaseExpression, classify: Classifier | None = None) -> Origin:
        """Where the items of the iterable ``expr`` come from."""
        return _Tracer(self, classify).items(expr, 0, {}).origin

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of an expression inside an analysed scope (None when not recorded)."""
        return self.parents.get(id(node))

    def is_request(self, expr: cst.BaseExpression) -> bool:
        """``request.args[...]``, ``request.GET.get(...)``, ``await request.json()`` ..."""
        return _Tracer(self, None).request_input(expr)


Env = dict[str, Trace]
_NONE_OPEN = 1 << 30


class _Tracer:
    """One origin query; results per definition are memoised on the ``Dataflow``."""

    def __init__(self, flow: Dataflow, classify: Classifier | None) -> None:
        self.flow = flow
        self.classify = classify
        self.key: object = classify if classify is not None else "plain"
        #: The outermost open definition a result depended on (see ``definition``).
        self._lowest = _NONE_OPEN

    # -- expressions -----------------------------------------------------------------------------

    def value(self, expr: cst.BaseExpression, depth: int, env: Env) -> Trace:
        if depth > _MAX_DEPTH:
            return Trace(Origin.UNKNOWN, expr)
        if self.classify is not None:
            decided = self.classify(expr)
            if decided is not None:
                return Trace(decided, expr)
        if isinstance(expr, cst.SimpleString | cst.Integer | cst.Float | cst.Imaginary):
            return _CONSTANT
        if isinstance(expr, cst.ConcatenatedString):
            return self._all([expr.left, expr.right], depth, env)
        if isinstance(expr, cst.FormattedString):
            out = _CONSTANT
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    if _numeric_spec(part):
                        out = _worst(out, _NUMERIC)
                    else:
                        out = _worst(out, self.value(part.expression, depth + 1, env))
            return out
        if isinstance(expr, cst.Name):
            return self._name(expr, depth, env, items=False)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, depth, env)
        if isinstance(expr, cst.Subscript):
            if self.request_input(expr):
                return Trace(Origin.REQUEST, expr)
            if not env:
                # ``d["k"]`` of a known container: only that element (``{"k": "safe", ...}``).
                chosen = self.flow.select(expr)
                if chosen is not None:
                    return self.value(chosen, depth + 1, env)
            container = self.value(expr.value, depth + 1, env)
            return container
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, depth, env)
        if isinstance(expr, cst.UnaryOperation):
            if isinstance(expr.operator, cst.Not):
                return _CONSTANT
            return _NUMERIC
        if isinstance(expr, cst.Comparison):
            return _CONSTANT
        if isinstance(expr, cst.BooleanOperation):
            return self._all([expr.left, expr.right], depth, env)
        if isinstance(expr, cst.IfExp):
            known = truth(expr.test, self.flow.constant) if not env else None
            if known is not None:
                return self.value(expr.body if known else expr.orelse, depth + 1, env)
            # ``x if x in ALLOWED else "a"``: each side sees what the test establishes.
            when_true, when_false = _guards(expr.test, 0)
            body = self.value(expr.body, depth + 1, self._guarded(when_true, depth, env))
            orelse = self.value(expr.orelse, depth + 1, self._guarded(when_false, depth, env))
            return _worst(body, orelse)
        if isinstance(expr, cst.Call):
            return self._call(expr, depth, env)
        if isinstance(expr, cst.Await):
            return self.value(expr.expression, depth + 1, env)
        if isinstance(expr, cst.NamedExpr):
            return self.value(expr.value, depth + 1, env)
        if isinstance(expr, cst.List | cst.Tuple | cst.Set):
            return self.items(expr, depth, env)
        if isinstance(expr, cst.Dict):
            out = _CONSTANT
            for element in expr.elements:
                if isinstance(element, cst.DictElement):
                    out = _worst(out, self.value(element.key, depth + 1, env))
                out = _worst(out, self.value(element.value, depth + 1, env))
            return out
        if isinstance(expr, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp):
            inner = self._comprehension_env(expr.for_in, depth, env)
            if isinstance(expr, cst.DictComp):
                return _worst(
                    self.value(expr.key, depth + 1, inner), self.value(expr.value, depth + 1, inner)
                )
            return self.value(expr.elt, depth + 1, inner)
        if isinstance(expr, cst.Ellipsis):
            return _CONSTANT
        return Trace(Origin.UNKNOWN, expr)

    def _guarded(self, guards: list[_Guard], depth: int, env: Env) -> Env:
        """``env`` with the names of ``guards`` narrowed to what the guards admit."""
        if not guards:
            return env
        out = dict(env)
        for name, role, container in guards:
            before = self._name(name, depth + 1, env, items=False)
            if role == "numeric":
                admitted = _NUMERIC
            elif role in ("pattern", "falsy", "url"):
                admitted = _CONSTANT
            elif container is not None:
                admitted = self.items(container, depth + 1, env)
            else:
                continue
            out[name.value] = admitted if admitted.origin < before.origin else before
        return out

    def _all(self, exprs: Iterable[cst.BaseExpression], depth: int, env: Env) -> Trace:
        out = _CONSTANT
        for item in exprs:
            out = _worst(out, self.value(item, depth + 1, env))
        return out

    def _name(self, name: cst.Name, depth: int, env: Env, *, items: bool) -> Trace:
        bound = env.get(name.value)
        if bound is not None:
            return bound
        if name.value in ("True", "False", "None"):
            return _CONSTANT
        definitions = self.flow.definitions(name)
        if not definitions:
            return self._unbound(name)
        for earlier in _chain_prefix(definitions):
            self.definition(earlier, 0, items=items)  # long ``+=`` chains: shallow, in order
        out = _CONSTANT
        for definition in definitions:
            out = _worst(out, self.definition(definition, depth + 1, items=items))
            if out.origin is Origin.REQUEST:
                break
        return out

    def _unbound(self, name: cst.Name) -> Trace:
        # A builtin, a star import, a name bound in a class body: nothing is known.
        return Trace(Origin.UNKNOWN, name)

    def _attribute(self, expr: cst.Attribute, depth: int, env: Env) -> Trace:
        if self.request_input(expr):
            return Trace(Origin.REQUEST, expr)
        attr = expr.attr.value
        root: cst.BaseExpression = expr.value
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return Trace(Origin.UNKNOWN, expr)
        imports = self.flow.imports
        qualified = imports.resolve(expr.value) if imports is not None else frozenset()
        if _CONSTANT_NAME.match(attr) and (
            "django.conf.settings" in qualified or self._project_import(root)
        ):
            return _CONSTANT  # configuration and project constants, not user input
        if root.value in env:
            return env[root.value]
        definitions = self.flow.definitions(root)
        if not definitions:
            return Trace(Origin.UNKNOWN, expr)
        out = _CONSTANT
        for definition in definitions:
            if definition.kind is Kind.PARAMETER:
                if definition.role in ("self", "request", "injected"):
                    return Trace(Origin.UNKNOWN, expr)
                # A field of an argument: the caller chose the object.
                out = _worst(out, self.definition(definition, depth + 1, items=False))
            else:
                return Trace(Origin.UNKNOWN, expr)
        return out

    def _project_import(self, root: cst.Name) -> bool:
        """``constants.TABLE`` where ``constants`` is a module of this project."""
        definitions = self.flow.definitions(root)
        if not definitions or any(d.kind is not Kind.IMPORT for d in definitions):
            return False
        imports = self.flow.imports
        if imports is None:
            return False
        package = self.flow.package
        top = package.split(".", 1)[0] if package else None
        for qualified in imports.resolve_dotted(root.value):
            # A relative import resolves inside the file's package; without a package it
            # resolves to a bare module name that cannot be told apart, so it is not trusted.
            if top is None or qualified.split(".", 1)[0] != top:
                return False
        return True

    def _binary(self, expr: cst.BinaryOperation, depth: int, env: Env) -> Trace:
        operator = expr.operator
        left = self.value(expr.left, depth + 1, env)
        right = self.value(expr.right, depth + 1, env)
        numeric_left = left.origin is Origin.NUMERIC or isinstance(expr.left, cst.Integer)
        numeric_right = right.origin is Origin.NUMERIC or isinstance(expr.right, cst.Integer)
        if isinstance(
            operator,
            cst.Subtract
            | cst.Divide
            | cst.FloorDivide
            | cst.Power
            | cst.MatrixMultiply
            | cst.LeftShift
            | cst.RightShift
            | cst.BitAnd
            | cst.BitOr
            | cst.BitXor,
        ):
            # None of these builds a string.
            return _NUMERIC
        if isinstance(operator, cst.Add):
            if numeric_left or numeric_right or isinstance(expr.left, cst.Float):
                return _NUMERIC  # ``str + int`` raises: this is arithmetic
            return _worst(left, right)
        if isinstance(operator, cst.Multiply):
            if numeric_left and numeric_right:
                return _NUMERIC
            return _worst(left, right)
        if isinstance(operator, cst.Modulo):
            if numeric_left:
                return _NUMERIC
            return _worst(left, right)
        return _worst(left, right)

    def _call(self, call: cst.Call, depth: int, env: Env) -> Trace:
        if self.request_input(call):
            return Trace(Origin.REQUEST, call)
        imports = self.flow.imports
        qualified = imports.resolve(call.func) if imports is not None else frozenset()
        if qualified & _NUMERIC_BUILTINS:
            return _NUMERIC
        args = [a.value for a in call.args]
        if not args and qualified & _EMPTY_CONSTRUCTORS:
            return _CONSTANT  # ``set()``, ``[]`` spelled as a call
        if qualified & _ITEM_PRESERVING and args:
            return self.items(args[0], depth + 1, env)
        if "builtins.str" in qualified or "builtins.repr" in qualified:
            return self._all(args, depth, env) if args else _CONSTANT
        if "builtins.format" in qualified and args:
            return self.value(args[0], depth + 1, env)
        if "builtins.range" in qualified:
            return _NUMERIC
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _STRING_METHODS:
            receiver = self.value(func.value, depth + 1, env)
            if func.attr.value == "join" and args:
                return _worst(receiver, self.items(args[0], depth + 1, env))
            if func.attr.value == "get" and args and not env:
                chosen = self._known_get(func.value, args)
                if chosen is not None:
                    return self.value(chosen, depth + 1, env)
            if func.attr.value in ("get", "pop") and len(args) > 1:
                # ``d.get(k, default)``: the value or the default, not the key.
                return _worst(receiver, self.value(args[1], depth + 1, env))
            if func.attr.value in ("get", "pop", "getlist", "items", "keys", "values", "copy"):
                return receiver
            return _worst(receiver, self._all(args, depth, env))
        return Trace(Origin.UNKNOWN, call)

    def _known_get(
        self, container: cst.BaseExpression, args: list[cst.BaseExpression]
    ) -> cst.BaseExpression | None:
        """``d.get("k")`` of a known dict: the stored element (None when not known)."""
        if isinstance(container, cst.Name | cst.Dict):
            try:
                key = fold(args[0], self.flow.constant)
            except (_NotConstant, RecursionError):
                return None
            if isinstance(key, str | int):
                return self.flow.element(container, key)
        return None

    def items(self, expr: cst.BaseExpression, depth: int, env: Env) -> Trace:
        """The origin of the items of the iterable ``expr``."""
        if depth > _MAX_DEPTH:
            return Trace(Origin.UNKNOWN, expr)
        if self.classify is not None:
            decided = self.classify(expr)
            if decided is not None:
                return Trace(decided, expr)
        if isinstance(expr, cst.List | cst.Tuple | cst.Set):
            out = _CONSTANT
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    out = _worst(out, self.items(element.value, depth + 1, env))
                else:
                    out = _worst(out, self.value(element.value, depth + 1, env))
            return out
        if isinstance(expr, cst.Dict):
            out = _CONSTANT
            for entry in expr.elements:
                if isinstance(entry, cst.DictElement):
                    out = _worst(out, self.value(entry.key, depth + 1, env))
                else:
                    out = _worst(out, self.items(entry.value, depth + 1, env))
            return out
        if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
            return _CONSTANT
        if isinstance(expr, cst.Name):
            bound = env.get(expr.value)
            if bound is not None:
                return bound
            definitions = self.flow.definitions(expr)
            if not definitions:
                return self.value(expr, depth + 1, env)
            out = _CONSTANT
            for definition in definitions:
                out = _worst(out, self.definition(definition, depth + 1, items=True))
            return out
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Multiply):
                # ``["%s"] * n``: the items of the sequence side.
                left, right = expr.left, expr.right
                sequence = left if not isinstance(left, cst.Integer) else right
                if isinstance(right, cst.List | cst.Tuple | cst.SimpleString):
                    sequence = right
                if isinstance(left, cst.List | cst.Tuple | cst.SimpleString):
                    sequence = left
                return self.items(sequence, depth + 1, env)
            if isinstance(expr.operator, cst.Add):
                return _worst(
                    self.items(expr.left, depth + 1, env), self.items(expr.right, depth + 1, env)
                )
        if isinstance(expr, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            inner = self._comprehension_env(expr.for_in, depth, env)
            return self.value(expr.elt, depth + 1, inner)
        if isinstance(expr, cst.DictComp):
            inner = self._comprehension_env(expr.for_in, depth, env)
            return self.value(expr.key, depth + 1, inner)
        if isinstance(expr, cst.Call):
            imports = self.flow.imports
            qualified = imports.resolve(expr.func) if imports is not None else frozenset()
            args = [a.value for a in expr.args if not a.star]
            if "builtins.range" in qualified:
                return _NUMERIC
            if "builtins.enumerate" in qualified and args:
                return _worst(_NUMERIC, self.items(args[0], depth + 1, env))
            if qualified & (_ITEM_PRESERVING | {"builtins.zip", "builtins.filter"}) and args:
                return self._all_items(args, depth, env)
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in (
                "items",
                "keys",
                "values",
                "split",
                "splitlines",
                "getlist",
                "copy",
            ):
                mapping = self._dict_literal(func.value)
                if mapping is not None and func.attr.value in ("items", "keys", "values"):
                    return self._dict_items(mapping, func.attr.value, depth, env)
                return self.value(func.value, depth + 1, env)
        return self.value(expr, depth + 1, env)

    def _all_items(self, exprs: Iterable[cst.BaseExpression], depth: int, env: Env) -> Trace:
        out = _CONSTANT
        for item in exprs:
            out = _worst(out, self.items(item, depth + 1, env))
        return out

    def _dict_items(self, node: cst.Dict, method: str, depth: int, env: Env) -> Trace:
        out = _CONSTANT
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                out = _worst(out, self.value(element.value, depth + 1, env))
                continue
            if method in ("items", "keys"):
                out = _worst(out, self.value(element.key, depth + 1, env))
            if method in ("items", "values"):
                out = _worst(out, self.value(element.value, depth + 1, env))
        return out

    def _comprehension_env(self, comp: cst.CompFor, depth: int, env: Env) -> Env:
        inner = dict(env)
        current: cst.CompFor | None = comp
        while current is not None:
            target = current.target
            if isinstance(target, cst.Tuple | cst.List):
                for position, element in enumerate(target.elements):
                    trace = self._element_of(current.iter, position, depth, inner)
                    for name in _names_in_target(element.value):
                        inner[name.value] = trace
            else:
                trace = self.items(current.iter, depth + 1, inner)
                for name in _names_in_target(target):
                    inner[name.value] = trace
            current = current.inner_for_in
        return inner

    # -- definitions -----------------------------------------------------------------------------

    def definition(self, definition: Definition, depth: int, *, items: bool) -> Trace:
        """The origin of what ``definition`` binds (of its items when ``items``), memoised.

        A loop can make a definition depend on itself; the query then answers from what is
        known so far (the least fixed point is reached because ``max`` only grows), and results
        computed while a definition further up was still open are not memoised.
        """
        key = (self.key, id(definition), items)
        memo = self.flow._memo
        cached = memo.get(key)
        if cached is not None:
            return cached
        active = self.flow._active
        if key in active:
            self._lowest = min(self._lowest, active[key])
            return _CONSTANT
        level = len(active)
        active[key] = level
        previous_lowest = self._lowest
        self._lowest = _NONE_OPEN
        try:
            result = self._definition(definition, depth, items)
        finally:
            del active[key]
        lowest = self._lowest
        self._lowest = min(previous_lowest, lowest)
        if lowest >= level:
            memo[key] = result
        return result

    def _definition(self, definition: Definition, depth: int, items: bool) -> Trace:
        kind = definition.kind
        value = definition.value
        if kind is Kind.PARAMETER:
            node = definition.node
            witness = node.name if isinstance(node, cst.Param) else node
            function = definition.scope.label
            if definition.role == "route":
                return Trace(Origin.REQUEST, witness, function)
            if definition.role in ("self", "request", "injected"):
                return Trace(Origin.UNKNOWN, witness, function)
            if definition.role == "typed":
                return _NUMERIC  # converted by the framework: a number, a UUID, an enum member
            return Trace(Origin.PARAMETER, witness, function)
        if kind is Kind.IMPORT:
            return _CONSTANT if definition.constant else Trace(Origin.UNKNOWN, definition.node)
        if kind is Kind.CHECKED:
            # The value passed a guard: it is no worse than what the guard admits.
            before = _CONSTANT
            defs = definition.scope.definitions
            for index in sorted(definition.previous, reverse=True):
                if index != definition.index:
                    before = _worst(before, self.definition(defs[index], depth + 1, items=items))
            if definition.role == "numeric":
                admitted = _NUMERIC
            elif definition.role in ("pattern", "falsy", "url"):
                admitted = _CONSTANT
            elif value is not None:
                admitted = self.items(value, depth + 1, {})
            else:
                admitted = Trace(Origin.UNKNOWN, definition.node)
            return admitted if admitted.origin < before.origin else before
        if value is None:
            return Trace(Origin.UNKNOWN, definition.node)
        if kind is Kind.ASSIGN:
            if items:
                return self.items(value, depth + 1, {})
            return self.value(value, depth + 1, {})
        if kind in (Kind.LOOP, Kind.UNPACK):
            return self._element(definition, value, depth)
        # AUGMENT, APPEND, MUTATE: the previous value combined with the new part.
        out = _CONSTANT
        defs = definition.scope.definitions
        for index in sorted(definition.previous, reverse=True):
            out = _worst(out, self.definition(defs[index], depth + 1, items=items))
        if kind is Kind.APPEND:
            # ``append(x)`` is recorded as ``[x]``, ``extend(xs)`` as ``xs``: items either way.
            return _worst(out, self.items(value, depth + 1, {}))
        if kind is Kind.AUGMENT:
            if items:
                return _worst(out, self.items(value, depth + 1, {}))
            part = self.value(value, depth + 1, {})
            if isinstance(definition.operator, cst.AddAssign):
                if isinstance(value, cst.Integer | cst.Float) or part.origin is Origin.NUMERIC:
                    return _NUMERIC  # ``x += 1``: ``str += int`` raises
                return _worst(out, part)
            if isinstance(definition.operator, cst.ModuloAssign | cst.MultiplyAssign):
                return _worst(out, part)
            return _NUMERIC
        return _worst(out, self.value(value, depth + 1, {}))

    def _element(self, definition: Definition, source: cst.BaseExpression, depth: int) -> Trace:
        """The origin of a loop or unpacking target bound from the iterable ``source``."""
        if definition.kind is Kind.LOOP and definition.position is not None:
            return self._element_of(source, definition.position, depth, {})
        return self.items(source, depth + 1, {})

    def _element_of(self, source: cst.BaseExpression, position: int, depth: int, env: Env) -> Trace:
        """The origin of part ``position`` of the items of ``source`` (``for i, x in ...``)."""
        if isinstance(source, cst.Call):
            imports = self.flow.imports
            qualified = imports.resolve(source.func) if imports is not None else frozenset()
            args = [a.value for a in source.args if not a.star]
            if "builtins.enumerate" in qualified and args:
                return _NUMERIC if position == 0 else self.items(args[0], depth + 1, env)
            func = source.func
            if isinstance(func, cst.Attribute) and func.attr.value == "items":
                mapping = self._dict_literal(func.value)
                if mapping is not None:
                    method = "keys" if position == 0 else "values"
                    return self._dict_items(mapping, method, depth, env)
        return self.items(source, depth + 1, env)

    def _dict_literal(self, expr: cst.BaseExpression) -> cst.Dict | None:
        """``{...}`` itself, or the one dict literal a name holds (``TABLES = {...}``)."""
        if isinstance(expr, cst.Dict):
            return expr
        if isinstance(expr, cst.Name):
            held = self.flow.value_of(expr)
            if isinstance(held, cst.Dict):
                return held
        return None

    # -- HTTP requests -----------------------------------------------------------------------------

    def request_input(self, expr: cst.BaseExpression) -> bool:
        """True for client data read from a request object, at any depth of access."""
        current: cst.BaseExpression = expr
        while True:
            if isinstance(current, cst.Await):
                current = current.expression
            elif isinstance(current, cst.Call):
                current = current.func
            elif isinstance(current, cst.Subscript):
                current = current.value
            elif isinstance(current, cst.Attribute):
                if current.attr.value in _REQUEST_INPUT and self._is_request_object(current.value):
                    return True
                current = current.value
            else:
                return False

    def _is_request_object(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Attribute):
            # ``self.request`` in class-based views.
            return (
                expr.attr.value == "request"
                and isinstance(expr.value, cst.Name)
                and expr.value.value == "self"
            )
        if not isinstance(expr, cst.Name):
            return False
        imports = self.flow.imports
        if imports is not None and imports.resolve(expr) & _REQUEST_OBJECTS:
            return True
        if expr.value not in _REQUEST_NAMES:
            return False
        definitions = self.flow.definitions(expr)
        return any(d.kind is Kind.PARAMETER for d in definitions) or not definitions


#: Past this many earlier definitions of a name, they are resolved first, oldest first, so a
#: long chain of ``q += ...`` never recurses deeper than one step at a time.
_CHAIN_WARMUP = 16


def _chain_prefix(definitions: Sequence[Definition]) -> list[Definition]:
    """The earlier definitions of the same name, oldest first, when there are many."""
    if not definitions:
        return []
    same = definitions[0].scope.all_of(definitions[0].name)
    if len(same) <= _CHAIN_WARMUP:
        return []
    latest = max(d.index for d in definitions)
    return [d for d in same if d.index < latest]


def _numeric_spec(part: cst.FormattedStringExpression) -> bool:
    """``{x:d}``, ``{x:.2f}``: formatting that fails unless the value is a number."""
    if part.conversion or part.format_spec is None:
        return False
    spec = "".join(p.value for p in part.format_spec if isinstance(p, cst.FormattedStringText))
    return bool(spec) and spec[-1] in "bdoxXneEfFgG%"
