"""Which runtime values are spliced into the SQL of a database call, where, and from what source.

Shared by BE101 (values and fragments) and BE102 (identifiers), so the two never disagree about
a hole and never report the same one twice. For each SQL argument of a call recognised by
``sql.calls``:

1. the argument is followed through value tracking (``be_lint.dataflow``): a name built over
   several statements (``+=`` in loops and branches, ``"".join(parts)``) gives each shape it may
   have, and each is turned into SQL text with holes (``sql.extract``);
2. every dynamic hole is judged by where its value comes from (``Origin``), with SQL-specific
   knowledge on top: quoting functions, ``psycopg.sql`` composition, Django model metadata,
   class constants and allow-list lookups count as safe;
3. each unsafe hole is placed with the parsed statement (sqlglot): a *value* (compared to a
   column, in ``VALUES``, ``LIMIT``, a function argument, inside quotes), an *identifier* (a
   table, a selected/sorted/grouped column, a sort direction, a quoted name) or a *fragment*
   (a whole condition or clause, or SQL that does not parse).

Results are kept per call in ``FileContext.memo``.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from be_lint.dataflow import Dataflow, Kind, Origin, Trace
from be_lint.sql.calls import SqlCall, sql_call
from be_lint.sql.extract import HOLE_NAME, hole_name, is_numeric_conversion
from be_lint.sql.lexer import looks_like_sql
from be_lint.sql.model import Hole, HoleKind, SqlSource, SqlStatement
from be_lint.walker import children

if TYPE_CHECKING:
    import sqlglot
    import sqlglot.errors as errors
    import sqlglot.expressions as exp

    from be_lint.context import FileContext
else:
    from be_lint.sql.lazy import errors, exp, sqlglot


class Position(str, enum.Enum):
    VALUE = "value"
    IDENTIFIER = "identifier"
    FRAGMENT = "fragment"


@dataclass(frozen=True, slots=True)
class Splice:
    """One unsafe hole of one possible SQL text."""

    hole: Hole
    source: SqlSource
    position: Position
    #: For identifiers: "table name", "column name", "sort direction", "name".
    role: str
    trace: Trace
    #: True when the hole sits inside a quoted SQL string ('...{x}...').
    quoted: bool = False


@dataclass(frozen=True)
class ArgumentReport:
    """What is wrong with one SQL argument of a call."""

    argument: cst.BaseExpression
    #: How the text was built: "an f-string", "`%` formatting", "string concatenation" ...
    how: str
    splices: tuple[Splice, ...] = ()
    #: Unsafe values formatted into a template whose text is unknown here (``query % x``).
    template_values: tuple[tuple[cst.BaseExpression, Trace], ...] = ()
    #: The whole SQL text comes from the HTTP request.
    whole: Trace | None = None
    #: Every possible SQL text of the argument (one per shape), for fixes.
    sources: tuple[SqlSource, ...] = ()

    def of(self, *positions: Position) -> list[Splice]:
        return [s for s in self.splices if s.position in positions]


@dataclass
class CallReport:
    found: SqlCall
    arguments: list[ArgumentReport] = field(default_factory=list)


_PSYCOPG_QUOTED = frozenset(
    f"{package}.sql.{name}"
    for package in ("psycopg", "psycopg2")
    for name in ("Identifier", "Literal", "Placeholder")
)
_PSYCOPG_SQL = frozenset({"psycopg.sql.SQL", "psycopg2.sql.SQL"})
_SQLALCHEMY_SAFE = frozenset(
    f"sqlalchemy.{name}" for name in ("bindparam", "sql.bindparam", "sql.expression.bindparam")
)
#: Functions (by last name, on any receiver) that quote an identifier or literal for SQL:
#: Django's ``connection.ops.quote_name``, psycopg2's ``quote_ident``, asyncpg's and
#: SQLAlchemy's identifier preparers.
_QUOTING_NAME = re.compile(
    r"^(?:quote_name|quote_name_unless_alias|quote_ident|quote_identifier|quote_schema"
    r"|format_table|format_column|escape_identifier|quote_literal|escape_literal|quote_value"
    r"|quote_\w*name|\w*_quote_name|qn|qn2|escape_sqlite|escape_string|escape_name"
    r"|quote_table|quote_column|quote_id|sql_quote|quote_sql\w*)$",
    re.IGNORECASE,
)
_SQLISH_NAME = re.compile(r"sql|query|stmt|statement", re.IGNORECASE)


#: Statements that accept bind parameters for values (DDL and ``SET`` do not, in Postgres).
@functools.cache
def _dml() -> tuple[type[exp.Expr], ...]:
    return (exp.Select, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.SetOperation)


def analyze_call(call: cst.Call, ctx: FileContext) -> CallReport | None:
    """Every SQL argument of ``call`` that splices unsafe values, or None if it is no DB call."""
    found = sql_call(call, ctx)  # remembered per call: most calls stop here
    if found is None:
        return None
    key = ("sql-injection", id(call))
    if key in ctx.memo:
        cached = ctx.memo[key]
        assert isinstance(cached, CallReport)
        return cached
    report = CallReport(found)
    analyzer = _Analyzer(ctx, found)
    for argument in found.arguments:
        result = analyzer.argument(argument)
        if result is not None:
            report.arguments.append(result)
    ctx.memo[key] = report
    return report


class SqlClassifier:
    """SQL-specific knowledge of safe values, consulted by the dataflow at every expression."""

    def __init__(self, ctx: FileContext, flow: Dataflow) -> None:
        self.ctx = ctx
        self.flow = flow
        self.classdef = ctx.enclosing(cst.ClassDef)
        self._class_constants: frozenset[str] | None = None

    @property
    def class_constants(self) -> frozenset[str]:
        if self._class_constants is None:
            self._class_constants = frozenset()  # a class attribute defined by itself
            self._class_constants = _class_constants_of(self.ctx, self.classdef, self._safe)
        return self._class_constants

    def _safe(self, expr: cst.BaseExpression) -> bool:
        return self.flow.origin(expr, self).is_safe

    # Answers depend on the enclosing class only: classifiers of one class share memoised
    # results in the dataflow.
    def __hash__(self) -> int:
        return hash(("sql", id(self.flow), id(self.classdef)))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SqlClassifier)
            and other.flow is self.flow
            and other.classdef is self.classdef
        )

    def __call__(self, expr: cst.BaseExpression) -> Origin | None:
        if isinstance(expr, cst.Call):
            return self._call(expr)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr)
        return None

    def _call(self, call: cst.Call) -> Origin | None:
        names = self.ctx.qualified_names(call.func)
        if names & (_PSYCOPG_QUOTED | _SQLALCHEMY_SAFE):
            return Origin.CONSTANT  # quoted or bound by the library
        if names & _PSYCOPG_SQL:
            if len(call.args) == 1:
                return self.flow.origin(call.args[0].value, self)
            return None
        if self._quoting(call.func):
            return Origin.CONSTANT
        if _backend_api(call.func):
            # ``connection.ops.for_update_sql(nowait=True)``: SQL the database backend writes,
            # from the arguments it is given.
            out = Origin.CONSTANT
            for arg in call.args:
                out = max(out, self.flow.origin(arg.value, self))
            return out
        return None

    def _quoting(self, func: cst.BaseExpression, depth: int = 0) -> bool:
        """``connection.ops.quote_name``, or a name bound to such a function (``qn = ...``)."""
        if isinstance(func, cst.Attribute):
            if func.attr.value in ("quote", "format_table", "format_column"):
                # SQLAlchemy's ``dialect.identifier_preparer.quote(name)``.
                receiver = func.value
                label = receiver.attr.value if isinstance(receiver, cst.Attribute) else ""
                label = receiver.value if isinstance(receiver, cst.Name) else label
                if "preparer" in label.lower():
                    return True
            return bool(_QUOTING_NAME.match(func.attr.value))
        if isinstance(func, cst.Name):
            if _QUOTING_NAME.match(func.value):
                return True
            if depth > 3:
                return False
            values = self.flow.values_of(func)
            return bool(values) and all(self._quoting(v, depth + 1) for v in values)
        return False

    def _attribute(self, expr: cst.Attribute) -> Origin | None:
        name = expr.attr.value
        # Django model metadata and SQLAlchemy table names are written in code:
        # ``Model._meta.db_table``, ``opts.db_table``, ``field.column``.
        if name in ("db_table", "db_tablespace"):
            return Origin.CONSTANT
        if name in ("column", "model_name", "app_label", "attname") and _model_metadata(expr.value):
            return Origin.CONSTANT
        if name in ("__tablename__", "__table__"):
            return Origin.CONSTANT
        if _backend_api(expr):
            return Origin.CONSTANT  # ``connection.features.bare_select_suffix``
        # ``self.TABLE`` where the enclosing class binds ``TABLE`` to a literal.
        if (
            isinstance(expr.value, cst.Name)
            and expr.value.value in ("self", "cls")
            and name in self.class_constants
        ):
            return Origin.CONSTANT
        return None


def _model_metadata(receiver: cst.BaseExpression) -> bool:
    """``Model._meta``, ``opts``, ``field``, ``self.model._meta.pk``, ``get_field("x")``."""
    current = receiver
    while True:
        if isinstance(current, cst.Call):
            current = current.func
            continue
        if isinstance(current, cst.Attribute):
            word = current.attr.value.lower()
        elif isinstance(current, cst.Name):
            word = current.value.lower()
        else:
            return False
        if word in ("_meta", "opts", "meta", "pk", "get_field") or "field" in word:
            return True
        if not isinstance(current, cst.Attribute):
            return False
        current = current.value


#: Django's database backend API: SQL fragments and feature flags written by the backend.
_BACKEND_PARTS = frozenset({"ops", "features", "introspection"})


def _backend_api(expr: cst.BaseExpression) -> bool:
    """``connection.ops.x``, ``self.connection.features.y``, ``connections[alias].ops.z``."""
    parts: list[str] = []
    current: cst.BaseExpression = expr
    while True:
        if isinstance(current, cst.Attribute):
            parts.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Subscript | cst.Call):
            current = current.value if isinstance(current, cst.Subscript) else current.func
        else:
            break
    if isinstance(current, cst.Name):
        parts.append(current.value)
    parts.reverse()
    for index, part in enumerate(parts[1:], start=1):
        if part in _BACKEND_PARTS and "connection" in parts[index - 1].lower():
            return True
    return False


class _Analyzer:
    def __init__(self, ctx: FileContext, found: SqlCall) -> None:
        self.ctx = ctx
        self.found = found
        self._flow: Dataflow | None = None
        self._classify: SqlClassifier | None = None

    # Most SQL is a plain literal: value tracking is only computed when a name or a hole
    # needs it.
    @property
    def flow(self) -> Dataflow:
        if self._flow is None:
            self._flow = self.ctx.dataflow
        return self._flow

    @property
    def classify(self) -> SqlClassifier:
        if self._classify is None:
            self._classify = SqlClassifier(self.ctx, self.flow)
        return self._classify

    def argument(self, argument: cst.BaseExpression) -> ArgumentReport | None:
        shapes = self._shapes(argument)
        sources: list[SqlSource] = []
        for shape in shapes:
            source = self.ctx.sql_source(shape)
            if source is not None:
                sources.append(source)
        if not sources:
            return self._without_text(argument)
        if not self.found.strong and not any(looks_like_sql(s.text) for s in sources):
            return None
        splices: list[Splice] = []
        seen: set[tuple[int, Position]] = set()
        for source in sources:
            for splice in self._splices(source):
                key = (
                    id(splice.hole.expr) if splice.hole.expr is not None else id(splice.hole),
                    splice.position,
                )
                if key not in seen:
                    seen.add(key)
                    splices.append(splice)
        if not splices:
            return None
        how = describe_how(splices[0].hole, argument, self.flow)
        return ArgumentReport(argument, how, tuple(splices), sources=tuple(sources))

    def _shapes(self, argument: cst.BaseExpression) -> list[cst.BaseExpression]:
        """The expressions the argument may evaluate to (a name built in several ways)."""
        inner = argument
        if isinstance(inner, cst.Name):
            values = self.flow.values_of(inner)
            if values and all(
                d.kind in (Kind.ASSIGN, Kind.AUGMENT, Kind.APPEND, Kind.MUTATE)
                for d in self.flow.definitions(inner)
            ):
                return values
        return [argument]

    def _splices(self, source: SqlSource) -> Iterable[Splice]:
        unsafe: list[tuple[int, Hole, Trace]] = []
        for index, hole in enumerate(source.holes):
            if hole.kind is not HoleKind.DYNAMIC or is_numeric_conversion(hole.conversion):
                continue
            if hole.expr is None:
                unsafe.append((index, hole, Trace(Origin.UNKNOWN)))
                continue
            trace = self.flow.trace(hole.expr, self.classify)
            if not trace.origin.is_safe:
                unsafe.append((index, hole, trace))
        if not unsafe:
            return
        statements = self.ctx.sql_statements(source)
        for index, hole, trace in unsafe:
            position, role, quoted = place_hole(statements, source, index)
            yield Splice(hole, source, position, role, trace, quoted)

    def _without_text(self, argument: cst.BaseExpression) -> ArgumentReport | None:
        """No literal SQL text: a formatted template of unknown text, or request data."""
        templated = self._formatted_template(argument)
        if templated is not None:
            return templated
        trace = self.flow.trace(argument, self.classify)
        if trace.origin is Origin.REQUEST:
            return ArgumentReport(argument, "text", whole=trace)
        return None

    def _formatted_template(self, argument: cst.BaseExpression) -> ArgumentReport | None:
        """``sql % values`` or ``sql.format(...)`` where the text of ``sql`` is unknown here."""
        template: cst.BaseExpression
        values: list[cst.BaseExpression]
        if isinstance(argument, cst.BinaryOperation) and isinstance(argument.operator, cst.Modulo):
            template = argument.left
            right = argument.right
            values = (
                [e.value for e in right.elements]
                if isinstance(right, cst.Tuple)
                else [e.value for e in right.elements if isinstance(e, cst.DictElement)]
                if isinstance(right, cst.Dict)
                else [right]
            )
            how = "`%` formatting"
        elif (
            isinstance(argument, cst.Call)
            and isinstance(argument.func, cst.Attribute)
            and argument.func.attr.value in ("format", "format_map")
        ):
            template = argument.func.value
            values = [a.value for a in argument.args]
            how = f"`str.{argument.func.attr.value}`"
        else:
            return None
        # A call as template is some other object's method (``sql.SQL(...).format``), and a
        # number template means arithmetic.
        if not isinstance(template, cst.Name | cst.Attribute):
            return None
        if self.flow.origin(template, self.classify) is Origin.NUMERIC:
            return None
        if not self.found.strong and not _SQLISH_NAME.search(self.ctx.dotted_name(template) or ""):
            return None
        unsafe: list[tuple[cst.BaseExpression, Trace]] = []
        for value in values:
            trace = self.flow.trace(value, self.classify)
            if not trace.origin.is_safe:
                unsafe.append((value, trace))
        if not unsafe:
            return None
        return ArgumentReport(argument, how, template_values=tuple(unsafe))


# -- where a hole sits in the statement -------------------------------------------------------


def place_hole(
    statements: Sequence[SqlStatement], source: SqlSource, index: int
) -> tuple[Position, str, bool]:
    """(position, role, inside quotes) of ``source.holes[index]`` in its parsed statement."""
    hole = source.holes[index]
    name = hole_name(index + 1)
    for stmt in statements:
        if stmt.start <= hole.start < stmt.end:
            quoted = _by_quotes(stmt, name)
            if quoted[0] is Position.IDENTIFIER:
                return quoted  # ``"{x}"``, ``[{x}]``: a quoted name in any dialect
            placed = _place_in(stmt, name)
            # Statements sqlglot cannot read (or keeps opaque): the quotes around the hole.
            return quoted if placed[0] is Position.FRAGMENT else placed
    return (Position.FRAGMENT, "", False)


def _place_in(stmt: SqlStatement, name: str) -> tuple[Position, str, bool]:
    if stmt.tree is None:
        # MySQL's backquoted and SQLite's bracketed names, in a project set to another
        # dialect.
        for quote, dialect in (("`", "mysql"), ("[", "sqlite")):
            if quote in stmt.text and stmt.dialect != dialect:
                tree = _parse_probe(stmt.text, dialect)
                if tree is not None:
                    return _place(tree, name)
        return _probe(stmt, name)
    if isinstance(stmt.tree, exp.Command):
        return (Position.FRAGMENT, "", False)
    return _place(stmt.tree, name)


def _by_quotes(stmt: SqlStatement, name: str) -> tuple[Position, str, bool]:
    """Statements sqlglot keeps opaque (``PRAGMA``, some DDL): a hole alone between name quotes
    (``"{x}"``, ``[{x}]``, backquotes) is a name, between single quotes a value."""
    text = stmt.text
    at = text.find(name)
    if at < 0:
        return (Position.FRAGMENT, "", False)
    before = text[at - 1] if at > 0 else ""
    after = text[at + len(name) : at + len(name) + 1]
    if (before, after) in (('"', '"'), ("`", "`")):
        return (Position.IDENTIFIER, "name", False)
    if (before, after) == ("[", "]"):
        # Not ``ARRAY[{x}]`` nor a subscript ``a[{i}]``.
        lead = text[: at - 1].rstrip()
        if not (lead.upper().endswith("ARRAY") or lead[-1:].isalnum() or lead[-1:] in "_])"):
            return (Position.IDENTIFIER, "name", False)
    if (before, after) == ("'", "'"):
        return (Position.VALUE, "", True)
    return (Position.FRAGMENT, "", False)


def _place(tree: exp.Expr, name: str) -> tuple[Position, str, bool]:
    for node in tree.walk():
        if isinstance(node, exp.Literal) and node.is_string and name in node.name:
            return (Position.VALUE, "", True)
        if isinstance(node, exp.Var) and name in node.name:
            return (Position.VALUE, "", False)
        if isinstance(node, exp.Placeholder) and name in str(node.this or ""):
            # ``:{name}``: the name of a bind parameter is spliced in, not a value.
            return (Position.IDENTIFIER, "bind parameter name", False)
        if isinstance(node, exp.Identifier) and name in node.name:
            return _place_identifier(node, name)
        if isinstance(node, exp.Anonymous) and isinstance(node.this, str) and name in node.this:
            return (Position.IDENTIFIER, "function name", False)  # ``SELECT {func}(...)``
    return (Position.FRAGMENT, "", False)


def _place_identifier(node: exp.Identifier, name: str) -> tuple[Position, str, bool]:
    parent = node.parent
    if isinstance(parent, exp.TableAlias) or (
        isinstance(parent, exp.Alias) and node.arg_key == "alias"
    ):
        return (Position.FRAGMENT, "", False)  # ``FROM t {where_clause}`` reads as an alias
    # ``audit_{year}`` is part of a name; ``{a}{b}`` (holes only) stands where one hole would.
    partial = node.quoted or bool(HOLE_NAME.sub("", node.name))
    if isinstance(parent, exp.Table):
        return (Position.IDENTIFIER, "table name", False)
    if isinstance(parent, exp.Column):
        if node.arg_key != "this" or parent.args.get("table") is not None:
            return (Position.IDENTIFIER, "column name" if node.arg_key == "this" else "name", False)
        if partial:
            return (Position.IDENTIFIER, "column name", False)
        return _place_column(parent)
    return (Position.IDENTIFIER, "name", False)


def _up(node: exp.Expr) -> tuple[exp.Expr | None, str | None]:
    """The parent and the child's key, skipping parentheses."""
    current = node
    parent = current.parent
    while isinstance(parent, exp.Paren):
        current = parent
        parent = current.parent
    return parent, current.arg_key


def _place_column(column: exp.Column) -> tuple[Position, str, bool]:
    parent, key = _up(column)
    if isinstance(parent, exp.Ordered | exp.Group | exp.Distinct | exp.Schema):
        return (Position.IDENTIFIER, "column name", False)
    if isinstance(parent, exp.Select) and key == "expressions":
        return (Position.IDENTIFIER, "column name", False)
    if isinstance(parent, exp.Alias) and isinstance(parent.parent, exp.Select):
        return (Position.IDENTIFIER, "column name", False)
    if isinstance(parent, exp.Where | exp.Having | exp.Connector | exp.Not | exp.Join):
        return (Position.FRAGMENT, "", False)  # a whole condition pasted in
    if isinstance(parent, exp.Update) and key == "expressions":
        return (Position.FRAGMENT, "", False)
    if isinstance(parent, exp.EQ) and isinstance(parent.parent, exp.Update):
        if key == "this":
            return (Position.IDENTIFIER, "column name", False)
        return (Position.VALUE, "", False)
    if isinstance(parent, exp.Predicate) and isinstance(parent, exp.Binary | exp.In | exp.Between):
        if key != "this":
            return (Position.VALUE, "", False)
        others = [v for k, v in parent.args.items() if k != "this" and v is not None]
        flat: list[object] = []
        for other in others:
            flat.extend(other if isinstance(other, list) else [other])
        if any(isinstance(o, exp.Column) and _is_real_column(o) for o in flat):
            return (Position.VALUE, "", False)  # ``{value} = t.col``
        return (Position.IDENTIFIER, "column name", False)
    return (Position.VALUE, "", False)


def _is_real_column(node: exp.Column) -> bool:
    return "__be_hole_" not in node.name


#: A hole right after a sort key: ``ORDER BY name {direction}`` (before ``,``, ``LIMIT``, ...).
_DIRECTION = re.compile(
    r"(?<=[\w)\]\"`])[ \t\r\n]+(__be_hole_[0-9]+__)(?=[ \t\r\n]*(?:,|\)|$|;|LIMIT\b|OFFSET\b"
    r"|NULLS\b|FETCH\b|FOR\b))",
    re.IGNORECASE,
)


def _probe(stmt: SqlStatement, name: str) -> tuple[Position, str, bool]:
    """A statement that does not parse: holes standing for sort directions (``ORDER BY x {d}``)
    are read as ``ASC`` and the statement parsed again to place the other holes."""
    text = stmt.text
    order = re.search(r"\bORDER\s+BY\b", text, re.IGNORECASE)
    if order is None:
        return (Position.FRAGMENT, "", False)
    directions = {m.group(1) for m in _DIRECTION.finditer(text, order.end())}
    if not directions:
        return (Position.FRAGMENT, "", False)
    probe = text
    for direction in directions:
        probe = re.sub(rf"\b{direction}\b", "ASC", probe)
    tree = _parse_probe(probe, stmt.dialect)
    if tree is None:
        return (Position.FRAGMENT, "", False)
    if name in directions:
        return (Position.IDENTIFIER, "sort direction", False)
    return _place(tree, name)


@functools.lru_cache(maxsize=1024)
def _parse_probe(text: str, dialect: str) -> exp.Expr | None:
    try:
        trees = sqlglot.parse(text, read=dialect, error_level=errors.ErrorLevel.RAISE)
    except Exception:  # any sqlglot failure means "does not parse"
        return None
    tree = next((t for t in trees if t is not None), None)
    if tree is None or isinstance(tree, exp.Command):
        return None
    return tree


def is_dml(statements: Sequence[SqlStatement]) -> bool:
    """Every statement parsed and takes bind parameters for values (no DDL, ``SET`` ...)."""
    return bool(statements) and all(isinstance(s.tree, _dml()) for s in statements)


# -- messages --------------------------------------------------------------------------------


def describe_how(hole: Hole, argument: cst.BaseExpression, flow: Dataflow) -> str:
    """How the hole's value got into the text, from the construct that holds it."""
    local = _parents(argument)
    node: cst.CSTNode | None = hole.expr
    steps = 0
    while node is not None and steps < 200:
        steps += 1
        parent = local.get(id(node)) or flow.parent(node)
        if isinstance(parent, cst.FormattedStringExpression):
            return "an f-string"
        if isinstance(parent, cst.BinaryOperation):
            if isinstance(parent.operator, cst.Modulo):
                return "`%` formatting"
            if isinstance(parent.operator, cst.Add):
                return "string concatenation"
        if isinstance(parent, cst.AugAssign):
            return "string concatenation"
        if isinstance(parent, cst.Call) and isinstance(parent.func, cst.Attribute):
            if parent.func.attr.value in ("format", "format_map"):
                return f"`str.{parent.func.attr.value}`"
            if parent.func.attr.value == "join":
                return "`str.join`"
        if isinstance(parent, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            break
        node = parent
    return "string formatting"


def _parents(root: cst.CSTNode) -> dict[int, cst.CSTNode]:
    parents: dict[int, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[id(child)] = node
            stack.append(child)
    return parents


def code_of(ctx: FileContext, node: cst.CSTNode, limit: int = 40) -> str:
    module = ctx.module
    text = module.code_for_node(node) if module is not None else ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def worst(traces: Iterable[Trace]) -> Trace:
    out = Trace(Origin.CONSTANT)
    for trace in traces:
        if trace.origin > out.origin:
            out = trace
    return out


def subject(ctx: FileContext, trace: Trace, expr: cst.BaseExpression | None) -> str:
    """How a message names a spliced value and its source.

    ``parameter `name` of `f```, ```value` from parameter `filters` of `f```, ```q` from the
    HTTP request (`request.args.get("q")`)``, or just ```obj.attr```.
    """
    shown = f"`{code_of(ctx, expr)}`" if expr is not None else "a runtime value"
    witness = trace.witness
    if trace.origin is Origin.REQUEST:
        if witness is None or witness is expr:
            return f"{shown} from the HTTP request"
        if isinstance(witness, cst.Name) and trace.function:
            if isinstance(expr, cst.Name) and expr.value == witness.value:
                return f"route parameter {shown} of `{trace.function}` (from the HTTP request)"
            return f"{shown} from the HTTP request (route parameter `{witness.value}`)"
        return f"{shown} from the HTTP request (`{code_of(ctx, witness)}`)"
    if trace.origin is Origin.PARAMETER and isinstance(witness, cst.Name):
        if isinstance(expr, cst.Name) and expr.value == witness.value:
            return f"parameter {shown} of `{trace.function}`"
        return f"{shown} from parameter `{witness.value}` of `{trace.function}`"
    return shown


def more(count: int, noun: str) -> str:
    return f" (and {count} more {noun}{'s' if count > 1 else ''})" if count else ""


def _class_constants_of(
    ctx: FileContext, classdef: cst.CSTNode | None, safe: Callable[[cst.BaseExpression], bool]
) -> frozenset[str]:
    if not isinstance(classdef, cst.ClassDef):
        return frozenset()
    key = ("class-constants", id(classdef))
    cached = ctx.memo.get(key)
    if isinstance(cached, frozenset):
        return cached
    found = _class_constants(classdef, safe)
    ctx.memo[key] = found
    return found


def _class_constants(
    classdef: cst.ClassDef, safe: Callable[[cst.BaseExpression], bool]
) -> frozenset[str]:
    """Class attributes bound only to constants in the class body and never set on ``self``."""
    bound: dict[str, list[cst.BaseExpression]] = {}
    body = classdef.body.body if isinstance(classdef.body, cst.IndentedBlock) else ()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        bound.setdefault(target.target.value, []).append(small.value)
            elif (
                isinstance(small, cst.AnnAssign)
                and small.value is not None
                and isinstance(small.target, cst.Name)
            ):
                bound.setdefault(small.target.value, []).append(small.value)
    if not bound:
        return frozenset()
    reassigned = _self_assignments(classdef)
    return frozenset(
        name
        for name, values in bound.items()
        if name not in reassigned and all(is_literal(v) or safe(v) for v in values)
    )


def _self_assignments(classdef: cst.ClassDef) -> set[str]:
    """Attributes assigned through ``self.x``/``cls.x`` anywhere in the class."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [classdef.body]
    while stack:
        node = stack.pop()
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
        elif isinstance(node, cst.AugAssign | cst.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value in ("self", "cls")
            ):
                names.add(target.attr.value)
        if isinstance(node, cst.BaseExpression):
            continue  # assignments are statements: expressions hold none worth the walk
        stack.extend(children(node))
    return names


def is_literal(expr: cst.BaseExpression) -> bool:
    """A literal string or number, or a tuple/list/set/dict of them (a constant table)."""
    if isinstance(expr, cst.SimpleString | cst.Integer | cst.Float):
        return True
    if isinstance(expr, cst.ConcatenatedString):
        part: cst.BaseExpression = expr
        while isinstance(part, cst.ConcatenatedString):
            if not is_literal(part.left):
                return False
            part = part.right
        return is_literal(part)
    if isinstance(expr, cst.Tuple | cst.List | cst.Set):
        return all(
            not isinstance(e, cst.StarredElement) and is_literal(e.value) for e in expr.elements
        )
    if isinstance(expr, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and is_literal(e.key) and is_literal(e.value)
            for e in expr.elements
        )
    return False
