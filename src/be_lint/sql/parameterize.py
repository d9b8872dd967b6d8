"""The BE101 fix: move values spliced into SQL text into the driver's query parameters.

``cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")`` becomes
``cursor.execute("SELECT * FROM users WHERE name = %s", (name,))``. The fix is offered only when
it can be right:

- every unsafe hole sits in a *value* position of a statement that takes bind parameters
  (``SELECT``/``INSERT``/``UPDATE``/``DELETE``; no DDL, no identifiers, no pasted fragments);
- the call has no parameters yet and the placeholder style is known (``%s`` for psycopg,
  PyMySQL, MySQLdb, mysql.connector and Django; ``?`` for sqlite3, aiosqlite and pyodbc; ``:1``
  for oracledb; ``$1`` for asyncpg; ``:name`` for SQLAlchemy ``text()`` -- bound with
  ``.bindparams()`` -- and ``databases``);
- the SQL is built in the call, or in a variable assigned once just for it, with every
  spliced expression inside that one expression.

Safe holes (constants, numbers) stay interpolated in an f-string. A hole inside a quoted SQL
string (``'%{term}%'``) turns the whole quoted string into one parameter (``f"%{term}%"``).
The fix is unsafe: the driver now sends values typed (``'5'`` was text, ``5`` is a number), and
``%`` in the remaining SQL text is doubled for ``%s`` drivers.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

import libcst as cst

from be_lint.dataflow import Kind
from be_lint.sql import lexer
from be_lint.sql.calls import SqlCall, paramstyle
from be_lint.sql.extract import extract_sql, is_numeric_conversion
from be_lint.sql.injection import ArgumentReport, Position, SqlClassifier, is_dml, place_hole
from be_lint.sql.model import Hole, HoleKind, SqlSource

if TYPE_CHECKING:
    from be_lint.context import FileContext


_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)


@dataclass(frozen=True)
class Parameterized:
    """Replace ``target`` with ``replacement``."""

    target: cst.CSTNode
    replacement: cst.CSTNode
    description: str


class _NoFix(Exception):
    """The rewrite cannot be done faithfully."""


_PLAIN = (None, "%s", "!s", "%r", "!r")
_PERCENT_FLOAT = re.compile(r"^%(?:\([^)]*\))?(\.[0-9]+)?([feEgG])$")
_PERCENT_INT = re.compile(r"^%(?:\([^)]*\))?[diu]$")


def parameterize(ctx: FileContext, found: SqlCall, report: ArgumentReport) -> Parameterized | None:
    """The fix for ``report`` (one SQL argument of ``found``), or None when none is faithful."""
    try:
        return _parameterize(ctx, found, report)
    except _NoFix:
        return None


def _parameterize(ctx: FileContext, found: SqlCall, report: ArgumentReport) -> Parameterized:
    if report.whole is not None or report.template_values or len(report.sources) != 1:
        raise _NoFix
    if len(found.arguments) != 1 or not all(s.position is Position.VALUE for s in report.splices):
        raise _NoFix
    style = paramstyle(found, ctx)
    if style is None or not _no_parameters_yet(found):
        raise _NoFix
    resolved = report.sources[0]
    if resolved.expr is None or any(h.kind is HoleKind.PLACEHOLDER for h in resolved.holes):
        raise _NoFix
    if not is_dml(ctx.sql_statements(resolved)):
        raise _NoFix
    module = ctx.module
    assert module is not None
    built = resolved.expr
    inside = _descendants(built)
    if not all(h.expr is not None and id(h.expr) in inside for h in resolved.holes):
        raise _NoFix  # part of the text comes from elsewhere
    # The text as written at the call: names of constants stay names (``{TABLE}``).
    source = extract_sql(built, ctx)
    if source is None or any(h.kind is HoleKind.PLACEHOLDER for h in source.holes):
        raise _NoFix
    statements = ctx.sql_statements(source)
    classify = SqlClassifier(ctx, ctx.dataflow)
    unsafe: set[int] = set()
    for index, hole in enumerate(source.holes):
        if hole.expr is None:
            raise _NoFix
        if (
            is_numeric_conversion(hole.conversion)
            or ctx.dataflow.origin(hole.expr, classify).is_safe
        ):
            continue
        if place_hole(statements, source, index)[0] is not Position.VALUE:
            raise _NoFix
        unsafe.add(id(hole))
    if not unsafe:
        raise _NoFix
    sql_node, params = _render(source, unsafe, style, module)
    call = found.call
    names = ", ".join(f"`{_short(module.code_for_node(p))}`" for _, p in params)
    description = f"Pass {names} as query parameter{'s' if len(params) > 1 else ''}"
    if built is report.argument:
        new_call = _rewrite_call(call, report.argument, sql_node, params, style, found)
        return Parameterized(call, new_call, description)
    # ``sql = f"..."`` earlier in the function, read only by this call.
    spliced = [h.expr for h in source.holes if h.expr is not None]
    _check_single_assignment(ctx, report.argument, built, spliced)
    new_call = _rewrite_call(call, report.argument, report.argument, params, style, found)
    function = ctx.enclosing(cst.FunctionDef)
    if function is None:
        raise _NoFix
    replaced = function.visit(_Swap({id(built): sql_node, id(call): new_call}))
    if not isinstance(replaced, cst.FunctionDef):
        raise _NoFix
    return Parameterized(function, replaced, description)


def _no_parameters_yet(found: SqlCall) -> bool:
    params = found.params
    if params is None:
        return True
    # ``RawSQL(sql, [])``: an empty parameter list is no parameters.
    return isinstance(params, cst.List | cst.Tuple) and not params.elements


def _descendants(root: cst.CSTNode) -> set[int]:
    found: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        found.add(id(node))
        stack.extend(node.children)
    return found


def _check_single_assignment(
    ctx: FileContext,
    name: cst.BaseExpression,
    value: cst.BaseExpression,
    spliced: Sequence[cst.BaseExpression],
) -> None:
    """``name = value`` must be its only binding in the function and this call its only read,
    and the spliced values must mean the same at the call as at the assignment."""
    if not isinstance(name, cst.Name):
        raise _NoFix
    flow = ctx.dataflow
    definitions = flow.definitions(name)
    if len(definitions) != 1:
        raise _NoFix
    definition = definitions[0]
    scope = definition.scope
    if (
        definition.kind is not Kind.ASSIGN
        or definition.value is not value
        or not isinstance(scope.node, cst.FunctionDef)
        or len(scope.all_of(name.value)) != 1
    ):
        raise _NoFix
    reads = [n for n in scope.reads.get(name.value, {}).values() if n is not definition.node]
    if len(reads) != 1:
        raise _NoFix
    if not all(_movable(expr) for expr in spliced):
        raise _NoFix
    for expr in spliced:
        for read in _names_in(expr):
            bindings = scope.all_of(read.value)
            reaching = {d.index for d in flow.definitions(read)}
            if any(d.index not in reaching for d in bindings):
                raise _NoFix  # rebound after the assignment (or in a loop around it)


def _names_in(expr: cst.CSTNode) -> list[cst.Name]:
    found: list[cst.Name] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            found.append(node)
        stack.extend(node.children)
    return found


def _movable(expr: cst.BaseExpression) -> bool:
    """Evaluating ``expr`` later gives the same value: names, attributes, constant subscripts."""
    if isinstance(expr, cst.Name):
        return True
    if isinstance(expr, cst.Attribute):
        return _movable(expr.value)
    if isinstance(expr, cst.Subscript):
        return _movable(expr.value) and all(
            isinstance(s.slice, cst.Index)
            and isinstance(s.slice.value, cst.SimpleString | cst.Integer)
            for s in expr.slice
        )
    return False


class _Swap(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, cst.CSTNode]) -> None:
        self.replacements = replacements

    def on_leave(
        self, original_node: _NodeT, updated_node: _NodeT
    ) -> _NodeT | cst.RemovalSentinel | cst.FlattenSentinel[_NodeT]:
        replacement = self.replacements.get(id(original_node))
        return updated_node if replacement is None else cast(_NodeT, replacement)


# -- the new SQL text ----------------------------------------------------------------------------


def _render(
    source: SqlSource, unsafe: set[int], style: str, module: cst.Module
) -> tuple[cst.BaseExpression, list[tuple[str, cst.BaseExpression]]]:
    """(the new SQL string expression, [(parameter name, value expression)])."""
    text = source.text
    strings = [span for span in lexer.quoted_regions(text) if span.region is lexer.Region.STRING]
    holes = sorted(source.holes, key=lambda h: h.start)
    pieces: list[tuple[str, str]] = []  # ("text", sql) or ("field", "{code...}")
    params: list[tuple[str, cst.BaseExpression]] = []
    taken: set[str] = set()
    pos = 0
    i = 0
    while i < len(holes):
        hole = holes[i]
        if id(hole) not in unsafe:
            pieces.append(("text", text[pos : hole.start]))
            pieces.append(("field", _field(hole, module)))
            pos = hole.end
            i += 1
            continue
        region = next((s for s in strings if s.start < hole.start < s.end), None)
        if region is None:
            if hole.conversion not in _PLAIN:
                raise _NoFix
            assert hole.expr is not None
            pieces.append(("text", text[pos : hole.start]))
            name = _parameter_name(hole.expr, taken)
            params.append((name, hole.expr))
            pieces.append(("placeholder", name))
            pos = hole.end
            i += 1
            continue
        # A hole inside '...': the whole quoted string becomes one parameter.
        if region.start > 0 and text[region.start - 1] in "eEbBxXnNuU&":
            raise _NoFix  # escape-string and other prefixed literals
        inner = [h for h in holes if region.start < h.start < region.end]
        value = _quoted_value(text, region.start + 1, region.end - 1, inner, module)
        pieces.append(("text", text[pos : region.start]))
        lead = inner[0].expr
        assert lead is not None
        name = _parameter_name(lead, taken)
        params.append((name, value))
        pieces.append(("placeholder", name))
        pos = region.end
        i += len(inner)
    pieces.append(("text", text[pos:]))
    return _python_string(pieces, style, params), params


def _field(hole: Hole, module: cst.Module) -> str:
    """An f-string replacement field reproducing how Python formatted a safe hole."""
    if hole.expr is None:
        raise _NoFix
    code = module.code_for_node(hole.expr).strip()
    if "\n" in code or "\\" in code:
        raise _NoFix
    conversion = hole.conversion
    if conversion in (None, "%s", "!s"):
        return "{" + code + "}"
    if conversion in ("%r", "!r"):
        return "{" + code + "!r}"
    if conversion.startswith("%"):
        if _PERCENT_INT.match(conversion):
            return "{int(" + code + ")}"
        m = _PERCENT_FLOAT.match(conversion)
        if m:
            return "{" + code + ":" + (m.group(1) or ".6") + m.group(2) + "}"
        raise _NoFix
    if "{" in conversion or conversion.startswith("="):
        raise _NoFix
    return "{" + code + conversion + "}"


def _quoted_value(
    text: str, start: int, end: int, holes: Sequence[Hole], module: cst.Module
) -> cst.BaseExpression:
    """The Python value of the SQL string literal ``text[start:end]`` with its holes."""
    if len(holes) == 1 and holes[0].start == start and holes[0].end == end:
        hole = holes[0]
        if hole.conversion not in _PLAIN or hole.expr is None:
            raise _NoFix
        return hole.expr
    parts: list[tuple[str, str]] = []
    pos = start
    for hole in holes:
        parts.append(("text", text[pos : hole.start].replace("''", "'")))
        parts.append(("field", _field(hole, module)))
        pos = hole.end
    parts.append(("text", text[pos:end].replace("''", "'")))
    return _python_string(parts, None, [])


def _parameter_name(expr: cst.BaseExpression, taken: set[str]) -> str:
    base = ""
    if isinstance(expr, cst.Name):
        base = expr.value
    elif isinstance(expr, cst.Attribute):
        base = expr.attr.value
    elif isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            value = index.value.evaluated_value
            base = value if isinstance(value, str) else ""
    base = re.sub(r"\W", "_", base).strip("_").lower()
    if not base or not base.isidentifier() or keyword.iskeyword(base):
        base = "param"
    name = base
    counter = 2
    while name in taken:
        name = f"{base}_{counter}"
        counter += 1
    taken.add(name)
    return name


def _python_string(
    pieces: Sequence[tuple[str, str]],
    style: str | None,
    params: Sequence[tuple[str, cst.BaseExpression]],
) -> cst.BaseExpression:
    """A Python string (an f-string when it has fields) for ``pieces``."""
    fields = [p for kind, p in pieces if kind == "field"]
    fstring = bool(fields)
    numbers = {name: index for index, (name, _) in enumerate(params, start=1)}
    body: list[str] = []
    raw_text = "".join(p for kind, p in pieces if kind == "text")
    multiline = "\n" in raw_text
    quote = '"'
    if '"' in raw_text and "'" not in raw_text and not multiline:
        quote = "'"
    if multiline:
        quote = '"""'
    if any(quote[0] in f or "\\" in f for f in fields):
        raise _NoFix  # a field cannot hold the quote before Python 3.12
    for kind, piece in pieces:
        if kind == "field":
            body.append(piece)
        elif kind == "placeholder":
            body.append(_placeholder(style, piece, numbers[piece]))
        else:
            if style in ("format", "django"):
                piece = piece.replace("%", "%%")
            body.append(_escape(piece, quote, fstring))
    code = ("f" if fstring else "") + quote + "".join(body) + quote
    try:
        return cst.parse_expression(code)
    except cst.ParserSyntaxError as error:
        raise _NoFix from error


def _placeholder(style: str | None, name: str, number: int) -> str:
    if style in ("format", "django"):
        return "%s"
    if style == "qmark":
        return "?"
    if style == "numeric":
        return f":{number}"
    if style == "dollar":
        return f"${number}"
    if style == "named":
        return f":{name}"
    raise _NoFix


def _escape(text: str, quote: str, fstring: bool) -> str:
    out: list[str] = []
    triple = len(quote) == 3
    for index, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n" and triple:
            out.append("\n")
        elif ch == quote[0] and (
            not triple or text.startswith(quote[0] * 2, index + 1) or index == len(text) - 1
        ):
            out.append("\\" + ch)
        elif fstring and ch in "{}":
            out.append(ch * 2)
        elif not ch.isprintable():
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 30 else code[:29] + "…"


# -- the new call --------------------------------------------------------------------------------


def _rewrite_call(
    call: cst.Call,
    argument: cst.BaseExpression,
    sql: cst.BaseExpression,
    params: list[tuple[str, cst.BaseExpression]],
    style: str,
    found: SqlCall,
) -> cst.BaseExpression:
    if not any(a.value is argument for a in call.args):
        raise _NoFix
    callee = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
    if found.kind in ("dbapi", "asyncpg") and callee not in _FIXABLE_METHODS:
        raise _NoFix  # executemany/executescript/copy_expert take no (or other) parameters
    values = [value for _, value in params]
    new_args: list[cst.Arg] = []
    for arg in call.args:
        if arg.value is argument:
            if arg.keyword is not None or arg.star:
                raise _NoFix
            new_args.append(arg if sql is argument else arg.with_changes(value=sql))
        elif found.params is not None and arg.value is found.params:
            continue  # an empty parameter list, replaced below
        else:
            new_args.append(arg)
    position = next(i for i, a in enumerate(new_args) if a.value is sql or a.value is argument)
    if position != 0 or any(a.keyword is None for a in new_args[1:]):
        raise _NoFix  # other positional arguments: their meaning is unknown
    if style == "named" and found.kind == "sqlalchemy-text":
        bound = [
            cst.Arg(value=value, keyword=cst.Name(name), equal=_EQUAL) for name, value in params
        ]
        text_call = call.with_changes(args=_commas(new_args, call.args))
        return cst.Call(
            func=cst.Attribute(value=text_call, attr=cst.Name("bindparams")),
            args=_commas(bound, ()),
        )
    if style == "named":  # databases: values={"name": value}
        mapping = cst.Dict(
            [cst.DictElement(cst.SimpleString(f'"{name}"'), value) for name, value in params]
        )
        extra = [cst.Arg(value=mapping, keyword=cst.Name("values"), equal=_EQUAL)]
    elif style == "dollar":
        extra = [cst.Arg(value=value) for value in values]
    elif style == "django":
        extra = [cst.Arg(value=cst.List([cst.Element(v) for v in values]))]
    else:
        elements = [cst.Element(v) for v in values]
        if len(elements) == 1:
            elements = [cst.Element(values[0], comma=cst.Comma())]
        extra = [cst.Arg(value=cst.Tuple(elements))]
    merged = [new_args[0], *extra, *new_args[1:]]
    return call.with_changes(args=_commas(merged, call.args))


def _commas(args: Sequence[cst.Arg], original: Sequence[cst.Arg]) -> list[cst.Arg]:
    """Arguments separated by ``, ``; what followed the original last argument (a trailing
    comma, the newline before the closing parenthesis) now follows the new last one."""
    if not args:
        return []
    tail = original[-1] if original else None
    out: list[cst.Arg] = []
    for index, arg in enumerate(args):
        if index == len(args) - 1:
            if tail is not None:
                arg = arg.with_changes(
                    comma=tail.comma, whitespace_after_arg=tail.whitespace_after_arg
                )
            out.append(arg)
        else:
            out.append(
                arg.with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                    whitespace_after_arg=cst.SimpleWhitespace(""),
                )
            )
    return out


_FIXABLE_METHODS = frozenset(
    {"execute", "mogrify", "fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val"}
)
_EQUAL = cst.AssignEqual(
    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
)
