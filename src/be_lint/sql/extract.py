"""Turn a Python string expression, or a ``.sql`` file, into a ``SqlSource``.

The SQL text of ``f"SELECT * FROM t WHERE id = {user_id}"`` is ``SELECT * FROM t WHERE id =
__be_hole_1__``: literal parts are copied, every value Python splices in (f-string fields, ``%``
and ``str.format`` arguments, non-literal ``+`` operands) becomes a DYNAMIC hole, and every
driver placeholder (``%s``, ``%(name)s``, ``?``, ``:name``, ``$1``, ``psycopg.sql`` fields
``{name}``) a PLACEHOLDER hole. Holes are written as identifiers so that sqlglot parses them
wherever a value or a name may stand.

Building works on a list of *atoms*: one per character of literal text, remembering the node it
came from and its offset in that node's code, or one per hole. Each formatting step (``%``,
``.format``, driver placeholders) rewrites the atom list, so positions survive any chain of
them; the final step merges runs of adjacent characters into ``Segment``s.

Literal operands count as text: ``"... LIMIT %d" % 10`` is ``... LIMIT 10``. Names are followed
through a ``ValueResolver`` (given the ``Name``, the one expression it holds, or None; the
engine's comes from ``be_lint.dataflow``), consulted wherever a name appears as a template, a
spliced value or the list of a ``sep.join(parts)``. A name whose value has no literal text stays
a hole on the name itself, so findings and fixes point at the code that splices it in.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from be_lint.sql import lexer
from be_lint.sql.model import Hole, HoleKind, Segment, SqlSource
from be_lint.sql.pystrings import (
    Decoded,
    decode_body,
    decode_simple_string,
    literal_text,
    paren_length,
)

if TYPE_CHECKING:
    from be_lint.context import FileContext

#: Given a name, the expression bound to it at that point, or None when unknown.
ValueResolver = Callable[[cst.Name], cst.BaseExpression | None]

HOLE_NAME = re.compile(r"__be_hole_([0-9]+)__")
#: Nesting (f-string in ``+`` in ``%`` ... and resolved names) deeper than this is a hole.
_MAX_DEPTH = 40

_NUMBERS = (cst.Integer, cst.Float, cst.Imaginary)


def hole_name(index: int) -> str:
    """The identifier standing for the ``index``-th hole (1-based) in ``SqlSource.text``."""
    return f"__be_hole_{index}__"


def holes_named(source: SqlSource, sql: str) -> list[Hole]:
    """The holes whose identifiers occur in ``sql`` (a name or literal from a parsed tree)."""
    found: list[Hole] = []
    for m in HOLE_NAME.finditer(sql):
        index = int(m.group(1)) - 1
        if 0 <= index < len(source.holes):
            found.append(source.holes[index])
    return found


_NUMERIC_PERCENT = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(?:\*|[0-9]+)?(?:\.(?:\*|[0-9]+))?[hlL]?[diouxXeEfFgG]$"
)
_NUMERIC_SPEC = re.compile(r"^:.*[bdoxXneEfFgG%]$", re.DOTALL)


def is_numeric_conversion(conversion: str | None) -> bool:
    """True when Python's formatting makes the value a number or fails (``%d``, ``{:.2f}``)."""
    if not conversion:
        return False
    if conversion.startswith("%"):
        return _NUMERIC_PERCENT.match(conversion) is not None
    # ``!r``/``!s`` turn the value into a string first, so a numeric spec says nothing then.
    return _NUMERIC_SPEC.match(conversion) is not None


# -- atoms -------------------------------------------------------------------------------------

#: One literal character: (character, node it came from, offset in that node's code).
_Char = tuple[str, cst.CSTNode | None, int]


@dataclass(slots=True)
class _HoleAtom:
    kind: HoleKind
    expr: cst.BaseExpression | None
    conversion: str | None
    #: Where the hole is in the source (the expression itself, or a placeholder's characters).
    node: cst.CSTNode | None
    offset: int
    length: int


_Atom = _Char | _HoleAtom


def _chars(decoded: Decoded, node: cst.CSTNode | None) -> list[_Atom]:
    text, offsets = decoded
    return [(ch, node, off) for ch, off in zip(text, offsets, strict=True)]


def _is_join(expr: cst.BaseExpression) -> bool:
    """``sep.join(items)`` with one plain argument."""
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "join"
        and len(expr.args) == 1
        and not expr.args[0].star
        and expr.args[0].keyword is None
    )


def _is_stringish(expr: cst.BaseExpression) -> bool:
    """Syntactically a ``str`` literal of some kind (bytes are rejected later)."""
    return isinstance(expr, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)


class _Builder:
    def __init__(self, module: cst.Module, resolver: ValueResolver | None) -> None:
        self.module = module
        self.resolver = resolver

    # -- strings -------------------------------------------------------------------------------

    def build(self, expr: cst.BaseExpression, depth: int = 0) -> list[_Atom] | None:
        """Atoms of the string ``expr`` evaluates to; None when it is not a known string."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.SimpleString):
            decoded = decode_simple_string(expr, self.module)
            return None if decoded is None else _chars(decoded, expr)
        if isinstance(expr, cst.ConcatenatedString):
            atoms: list[_Atom] = []
            part: cst.BaseExpression = expr
            while isinstance(part, cst.ConcatenatedString):
                left = self.build(part.left, depth + 1)
                if left is None:
                    return None
                atoms.extend(left)
                part = part.right
            right = self.build(part, depth + 1)
            return None if right is None else atoms + right
        if isinstance(expr, cst.FormattedString):
            return self._fstring(expr, depth)
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                return self._concat(expr, depth)
            if isinstance(expr.operator, cst.Modulo):
                template = self.build(expr.left, depth + 1)
                if template is None:
                    return None
                operand = expr.right
                if isinstance(operand, cst.Name):
                    # ``sql % params`` with ``params = {"table": ..., "id": ...}`` earlier.
                    held = self._resolve(operand)
                    if isinstance(held, cst.Tuple | cst.Dict):
                        operand = held
                return self._percent(template, operand, depth)
        if (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ("format", "format_map")
        ):
            template = self.build(expr.func.value, depth + 1)
            if template is None:
                return None
            return self._format(template, expr, depth)
        if _is_join(expr):
            assert isinstance(expr, cst.Call)
            return self._join(expr, depth)
        resolved = self._resolve(expr)
        if resolved is not None:
            return self.build(resolved, depth + 1)
        return None

    def _resolve(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        if self.resolver is None or not isinstance(expr, cst.Name):
            return None
        return self.resolver(expr)

    def _join(self, call: cst.Call, depth: int) -> list[_Atom] | None:
        """``sep.join([...])`` (or a list the resolver knows): items with separators between."""
        assert isinstance(call.func, cst.Attribute)
        separator = self.build(call.func.value, depth + 1)
        if separator is None:
            return None
        items: cst.BaseExpression | None = call.args[0].value
        if isinstance(items, cst.Name):
            items = self._resolve(items)
        if isinstance(items, cst.GeneratorExp | cst.ListComp) and not isinstance(
            items.elt, cst.SimpleString
        ):
            # One item stands for all: ``" AND ".join(f"{c} = %s" for c in cols)`` reads as
            # ``__hole__ = %s``, with the loop variable as the hole.
            return self.value(items.elt, None, depth + 1)
        if not isinstance(items, cst.List | cst.Tuple):
            return None
        atoms: list[_Atom] = []
        for index, element in enumerate(items.elements):
            if isinstance(element, cst.StarredElement):
                return None
            if index:
                atoms.extend(separator)
            atoms.extend(self.value(element.value, None, depth + 1))
        return atoms

    def _fstring(self, node: cst.FormattedString, depth: int) -> list[_Atom] | None:
        prefix = node.prefix.lower()
        if "b" in prefix or "t" in prefix:
            return None
        raw = "r" in prefix
        atoms: list[_Atom] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                atoms.extend(_chars(decode_body(part.value, 0, raw=raw, fstring=True), part))
            elif isinstance(part, cst.FormattedStringExpression):
                if part.equal is not None:
                    # ``{x=}`` prints the expression's source then its repr: a value either way.
                    atoms.append(self._hole(part.expression, "=!r"))
                    continue
                atoms.extend(self.value(part.expression, self._field_suffix(part), depth + 1))
        return atoms

    def _field_suffix(self, part: cst.FormattedStringExpression) -> str | None:
        suffix = f"!{part.conversion}" if part.conversion else ""
        if part.format_spec is not None:
            spec = "".join(
                p.value if isinstance(p, cst.FormattedStringText) else self.module.code_for_node(p)
                for p in part.format_spec
            )
            suffix += ":" + spec
        return suffix or None

    def _concat(self, expr: cst.BinaryOperation, depth: int) -> list[_Atom] | None:
        # ``a + b + c`` nests to the left; unfold it without recursion.
        operands: list[cst.BaseExpression] = []
        current: cst.BaseExpression = expr
        while isinstance(current, cst.BinaryOperation) and isinstance(current.operator, cst.Add):
            operands.append(current.right)
            current = current.left
        operands.append(current)
        operands.reverse()
        if any(isinstance(op, _NUMBERS) for op in operands):
            return None  # ``x + 1`` is arithmetic, not text
        atoms: list[_Atom] = []
        for op in operands:
            built = self.build(op, depth + 1) if self._maybe_string(op) else None
            atoms.extend(built if built is not None else [self._hole(op, None)])
        return atoms

    def _maybe_string(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.BinaryOperation | cst.Call | cst.Name):
            return True  # nested ``+``/``%``, ``.format``, or a name the resolver may know
        return _is_stringish(expr)

    # -- values spliced into a string ------------------------------------------------------------

    def value(
        self, expr: cst.BaseExpression | None, conversion: str | None, depth: int
    ) -> list[_Atom]:
        """Atoms for ``expr`` formatted with ``conversion``: its text when it is a literal."""
        if expr is None:
            return [self._hole(None, conversion)]
        if depth <= _MAX_DEPTH:
            resolved = self._resolve(expr)
            if resolved is not None:
                atoms = self.value(resolved, conversion, depth + 1)
                if any(isinstance(a, tuple) for a in atoms):
                    return atoms
                # No literal text: the hole stays on the name, where it is spliced in.
                return [self._hole(expr, conversion)]
            plain = conversion in (None, "%s", "!s")
            if plain and (_is_stringish(expr) or _is_join(expr)):
                built = self.build(expr, depth + 1)
                if built is not None:
                    return built
            literal = self._literal(expr, conversion)
            if literal is not None:
                return literal
        return [self._hole(expr, conversion)]

    def _literal(self, expr: cst.BaseExpression, conversion: str | None) -> list[_Atom] | None:
        """A number or plain string literal rendered as Python would; None otherwise."""
        if isinstance(expr, _NUMBERS):
            exact = (
                (None, "%s", "!s", "%d", "%i")
                if isinstance(expr, cst.Integer)
                else (None, "%s", "!s")
            )
            if conversion in exact:
                return _chars(literal_text(expr, self.module), expr)
        elif not isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
            return None
        try:
            value = ast.literal_eval(self.module.code_for_node(expr).strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        if not isinstance(value, str | int | float | complex):
            return None
        rendered = _render(value, conversion)
        if rendered is None:
            return None
        # The rendering (``%05d``, ``!r``) is not a copy of the source: map it to its start.
        origin = paren_length(expr, self.module)
        return [(ch, expr, origin) for ch in rendered]

    def _hole(self, expr: cst.BaseExpression | None, conversion: str | None) -> _HoleAtom:
        length = len(self.module.code_for_node(expr)) if expr is not None else 1
        return _HoleAtom(HoleKind.DYNAMIC, expr, conversion, expr, 0, max(1, length))

    def _unknown(self, at: _Char, length: int, conversion: str | None) -> _HoleAtom:
        """A hole whose value cannot be identified: it points at its conversion in the text."""
        return _HoleAtom(HoleKind.DYNAMIC, None, conversion, at[1], at[2], max(1, length))

    # -- ``%`` ---------------------------------------------------------------------------------

    def _percent(
        self, template: list[_Atom], operand: cst.BaseExpression, depth: int
    ) -> list[_Atom]:
        positional, mapping, fallback = _operands(operand)
        out: list[_Atom] = []
        index = 0
        i = 0
        while i < len(template):
            atom = template[i]
            if isinstance(atom, _HoleAtom) or atom[0] != "%":
                out.append(atom)
                i += 1
                continue
            window = _literal_run(template, i, 64)
            m = _PERCENT.match(window)
            if m is None:
                out.append(atom)  # Python would raise; keep the character
                i += 1
                continue
            spec = m.group()
            if spec == "%%":
                out.append(atom)
                i += 2
                continue
            key = m.group("key")
            item: cst.BaseExpression | None
            if key is not None:
                item = mapping.get(key, fallback) if mapping is not None else operand
            else:
                # ``*`` widths take a positional value each before the value itself.
                index += spec.count("*")
                item = positional[index] if index < len(positional) else fallback
                index += 1
            if item is None:
                out.append(self._unknown(atom, _span_length(template, i, len(spec)), spec))
            else:
                out.extend(self.value(item, spec, depth + 1))
            i += len(spec)
        return out

    # -- ``str.format`` ------------------------------------------------------------------------

    def _format(self, template: list[_Atom], call: cst.Call, depth: int) -> list[_Atom]:
        positional: list[cst.BaseExpression] = []
        keywords: dict[str, cst.BaseExpression] = {}
        star: cst.BaseExpression | None = None
        double_star: cst.BaseExpression | None = None
        assert isinstance(call.func, cst.Attribute)
        if call.func.attr.value == "format_map":
            if call.args:
                _, mapping, double_star = _operands(call.args[0].value)
                keywords = dict(mapping or {})
        else:
            for arg in call.args:
                if arg.star == "*":
                    star = star or arg.value
                elif arg.star == "**":
                    double_star = double_star or arg.value
                elif arg.keyword is not None:
                    keywords[arg.keyword.value] = arg.value
                elif star is None:
                    positional.append(arg.value)
        out: list[_Atom] = []
        auto = 0
        i = 0
        while i < len(template):
            atom = template[i]
            if isinstance(atom, _HoleAtom) or atom[0] not in "{}":
                out.append(atom)
                i += 1
                continue
            following = template[i + 1] if i + 1 < len(template) else None
            if isinstance(following, tuple) and following[0] == atom[0]:
                out.append(atom)  # ``{{`` and ``}}`` are literal braces
                i += 2
                continue
            end = _field_end(template, i) if atom[0] == "{" else None
            if end is None:
                out.append(atom)  # a stray brace; Python would raise
                i += 1
                continue
            field = "".join(str(a[0]) for a in template[i + 1 : end] if isinstance(a, tuple))
            m = _FIELD.match(field)
            assert m is not None  # the pattern accepts any text
            name, rest = m.group("arg"), m.group("rest")
            suffix = (f"!{m.group('conv')}" if m.group("conv") else "") + (
                f":{m.group('spec')}" if m.group("spec") is not None else ""
            )
            item: cst.BaseExpression | None
            if name == "" or name.isdigit():
                position = auto if name == "" else int(name)
                auto += 1
                item = positional[position] if position < len(positional) else star
            else:
                item = keywords.get(name, double_star)
            if item is None:
                out.append(self._unknown(atom, _span_length(template, i, end + 1 - i), suffix))
            elif rest:
                # ``{user.name}``/``{row[0]}``: some value reached through the argument.
                out.append(self._hole(item, suffix or None))
            else:
                out.extend(self.value(item, suffix or None, depth + 1))
            i = end + 1
        return out


_PERCENT = re.compile(
    r"%%|%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?:\*|[0-9]+)?(?:\.(?:\*|[0-9]+))?[hlL]?[diouxXeEfFgGcrsa]"
)
_FIELD = re.compile(
    r"(?P<arg>[^.\[!:]*)(?P<rest>[^!:]*)(?:!(?P<conv>[rsa]))?(?::(?P<spec>.*))?", re.DOTALL
)


def _render(value: str | int | float | complex, conversion: str | None) -> str | None:
    """``value`` formatted as Python formats it, or None if that fails or needs more values."""
    try:
        if conversion is None:
            return str(value)
        if conversion.startswith("%"):
            if "*" in conversion:
                return None
            spec = re.sub(r"^%\([^)]*\)", "%", conversion)
            return spec % (value,)
        if conversion.startswith("="):
            return None
        if "{" in conversion:
            return None
        m = re.fullmatch(r"(?:!([rsa]))?(?::(.*))?", conversion, re.DOTALL)
        if m is None:
            return None
        converted: object = value
        if m.group(1) == "r":
            converted = repr(value)
        elif m.group(1) == "a":
            converted = ascii(value)
        elif m.group(1) == "s":
            converted = str(value)
        return format(converted, m.group(2) or "")
    except (TypeError, ValueError, OverflowError):
        return None


def _operands(
    operand: cst.BaseExpression,
) -> tuple[
    list[cst.BaseExpression], dict[str, cst.BaseExpression] | None, cst.BaseExpression | None
]:
    """(positional values, keyed values, the value standing for anything else) of ``x % operand``."""
    if isinstance(operand, cst.Tuple):
        positional: list[cst.BaseExpression] = []
        for element in operand.elements:
            if isinstance(element, cst.StarredElement):
                return positional, None, element.value
            positional.append(element.value)
        return positional, None, None
    if isinstance(operand, cst.Dict):
        mapping: dict[str, cst.BaseExpression] = {}
        rest: cst.BaseExpression | None = None
        for entry in operand.elements:
            if isinstance(entry, cst.StarredDictElement):
                rest = entry.value
            elif isinstance(entry, cst.DictElement) and isinstance(entry.key, cst.SimpleString):
                key = entry.key.evaluated_value
                if isinstance(key, str):
                    mapping[key] = entry.value
        return [operand], mapping, rest
    # A single value: the operand itself (it may be a tuple or mapping at run time).
    return [operand], None, operand


def _literal_run(atoms: Sequence[_Atom], start: int, limit: int) -> str:
    chars: list[str] = []
    for atom in atoms[start : start + limit]:
        if isinstance(atom, _HoleAtom):
            break
        chars.append(atom[0])
    return "".join(chars)


def _span_length(atoms: Sequence[_Atom], start: int, count: int) -> int:
    """Source characters covered by ``atoms[start:start+count]`` when they share one node."""
    first, last = atoms[start], atoms[start + count - 1]
    if isinstance(first, tuple) and isinstance(last, tuple) and first[1] is last[1]:
        return last[2] - first[2] + 1
    return 1


def _field_end(atoms: Sequence[_Atom], start: int) -> int | None:
    """Index of the ``}`` closing the replacement field opened at ``start`` (nested specs)."""
    depth = 0
    for i in range(start, len(atoms)):
        atom = atoms[i]
        if isinstance(atom, _HoleAtom):
            return None
        if atom[0] == "{":
            depth += 1
        elif atom[0] == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


# -- driver placeholders and assembly -----------------------------------------------------------


def _mark_placeholders(atoms: list[_Atom], *, python: bool) -> list[_Atom]:
    # Holes read as a letter: they never form a placeholder, and a placeholder that would
    # cover one (``:{name}``) is dropped below.
    view = "".join(a[0] if isinstance(a, tuple) else "x" for a in atoms)
    found = lexer.find_placeholders(view, python=python)
    if not found:
        return atoms
    out: list[_Atom] = []
    pos = 0
    for p in found:
        covered = atoms[p.start : p.end]
        if any(isinstance(a, _HoleAtom) for a in covered):
            continue
        out.extend(atoms[pos : p.start])
        first = covered[0]
        assert isinstance(first, tuple)
        if p.style is lexer.Style.PERCENT_ESCAPE:
            out.append(first)
        else:
            length = _span_length(atoms, p.start, p.end - p.start)
            out.append(_HoleAtom(HoleKind.PLACEHOLDER, None, None, first[1], first[2], length))
        pos = p.end
    out.extend(atoms[pos:])
    return out


def _assemble(atoms: Sequence[_Atom], expr: cst.BaseExpression | None) -> SqlSource:
    text: list[str] = []
    segments: list[Segment] = []
    holes: list[Hole] = []
    length = 0
    run_start = 0
    run: _Char | None = None  # first character of the current run
    previous: _Char | None = None

    def close_run() -> None:
        if run is not None and length > run_start:
            segments.append(Segment(run_start, length, run[1], run[2]))

    for atom in atoms:
        if isinstance(atom, _HoleAtom):
            close_run()
            run = previous = None
            name = hole_name(len(holes) + 1)
            start = length
            text.append(name)
            length += len(name)
            holes.append(Hole(start, length, atom.kind, atom.expr, atom.conversion))
            segments.append(Segment(start, length, atom.node, atom.offset, atom.length))
            continue
        contiguous = previous is not None and previous[1] is atom[1] and previous[2] + 1 == atom[2]
        if not contiguous:
            close_run()
            run = atom
            run_start = length
        text.append(atom[0])
        length += 1
        previous = atom
    close_run()
    return SqlSource("".join(text), tuple(segments), tuple(holes), expr)


def extract_sql(
    expr: cst.BaseExpression, ctx: FileContext, *, resolver: ValueResolver | None = None
) -> SqlSource | None:
    """The SQL text ``expr`` builds, or None when it is not a string with any literal text.

    A bare name, attribute or call gives None: nothing of the SQL is known (until a
    ``resolver`` says what the name holds).
    """
    if ctx.module is None:
        return None
    atoms = _Builder(ctx.module, resolver).build(expr)
    if atoms is None or not any(isinstance(a, tuple) for a in atoms):
        return None
    return _assemble(_mark_placeholders(atoms, python=True), expr)


def source_from_sql_file(text: str) -> SqlSource:
    """A ``.sql`` file as a ``SqlSource``: placeholders and psql variables become holes.

    psql meta-commands (lines starting with a backslash) are blanked with spaces, so offsets
    stay those of the file.
    """
    spans = lexer.quoted_regions(text, psql_meta=True)
    meta = [s for s in spans if s.region is lexer.Region.META]
    if meta:
        chars = list(text)
        for span in meta:
            chars[span.start : span.end] = " " * (span.end - span.start)
        text_for_sql = "".join(chars)
    else:
        text_for_sql = text
    found = lexer.find_placeholders(text_for_sql, python=False, regions=lexer.Regions(spans))
    pieces: list[str] = []
    segments: list[Segment] = []
    holes: list[Hole] = []
    length = 0
    pos = 0

    def copy(start: int, end: int) -> None:
        nonlocal length
        if end > start:
            pieces.append(text_for_sql[start:end])
            segments.append(Segment(length, length + end - start, None, start))
            length += end - start

    for p in found:
        copy(pos, p.start)
        if p.style is lexer.Style.PERCENT_ESCAPE:
            copy(p.start, p.start + 1)
        else:
            name = hole_name(len(holes) + 1)
            holes.append(Hole(length, length + len(name), HoleKind.PLACEHOLDER))
            segments.append(Segment(length, length + len(name), None, p.start, p.end - p.start))
            pieces.append(name)
            length += len(name)
        pos = p.end
    copy(pos, len(text_for_sql))
    return SqlSource("".join(pieces), tuple(segments), tuple(holes), None)
