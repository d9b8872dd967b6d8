"""One traversal of a libcst tree that calls every selected rule.

libcst's visitor calls ``on_visit``/``on_leave`` through its generic machinery for every node,
punctuation and whitespace included, and a walk costs about as much as the parse (DESIGN.md).
This walker instead keeps a table ``node type -> handlers`` built from the rules' ``visit_*`` /
``leave_*`` methods, descends only through fields that hold syntax (not commas, parentheses or
whitespace), and uses an explicit stack so deep trees cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

import libcst as cst

Handler = Callable[[Any], object]


class _Stop:
    def __repr__(self) -> str:
        return "STOP_VISITING"


#: A visit or leave method that returns this gets no more calls for the rest of the file, e.g.
#: ``visit_Module`` of a rule that sees at once that the file is not for it.
STOP_VISITING: Any = _Stop()

#: Fields that only hold punctuation, whitespace or operators. Rules read operators from their
#: parent (``node.operator``); they never need a visit of their own.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "colon",
        "dot",
        "equal",
        "header",
        "footer",
        "leading_lines",
        "lines_after_decorators",
        "trailing_whitespace",
        "operator",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "asynchronous",
        "star",
        "star_tok",
        "whitespace_after_star",
        "whitespace_after_param",
        "whitespace_after_at",
        "first_line",
        "empty_lines",
        "newline",
        "indent",
    }
)

#: Source order where dataclass field order differs (decorators come first in the file).
_FIELD_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
}

_fields_cache: dict[type[cst.CSTNode], tuple[str, ...]] = {}

#: Field types that never hold a node (``Name.value``, ``SimpleString.value``, ...).
_PLAIN = (str, int, float, bool, type(None), cst.MaybeSentinel)


def _child_fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    cached = _fields_cache.get(kind)
    if cached is None:
        order = _FIELD_ORDER.get(kind)
        names = order if order is not None else tuple(f.name for f in dataclasses.fields(kind))
        plain = _plain_fields(kind)
        cached = tuple(
            n
            for n in names
            if n not in _SKIPPED_FIELDS and not n.startswith("whitespace") and n not in plain
        )
        _fields_cache[kind] = cached
    return cached


def _plain_fields(kind: type[cst.CSTNode]) -> frozenset[str]:
    """Fields whose declared type holds no node: leaving them out makes names, strings and
    numbers leaves of the walk (no children to look for, no ancestor to push)."""
    try:
        hints = typing.get_type_hints(kind)
    except Exception:  # an annotation that does not resolve: keep every field
        return frozenset()
    plain = set()
    for name, hint in hints.items():
        members = typing.get_args(hint) if typing.get_origin(hint) is typing.Union else (hint,)
        if all(member in _PLAIN for member in members):
            plain.add(name)
    return frozenset(plain)


_node_types: dict[type, bool] = {}


def _is_node(value: object) -> bool:
    # ``isinstance(x, cst.CSTNode)`` goes through ABC machinery; a walk asks it millions of
    # times, so the answer is cached per type.
    kind = type(value)
    known = _node_types.get(kind)
    if known is None:
        known = _node_types[kind] = isinstance(value, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The syntax children of ``node`` in source order (no punctuation or whitespace)."""
    fields = _fields_cache.get(type(node))
    if fields is None:
        fields = _child_fields(type(node))
    return _children(node, fields)


def _children(node: cst.CSTNode, fields: tuple[str, ...]) -> list[cst.CSTNode]:
    # The hottest loop of a run (the walk and every helper that looks below a node): the
    # per-type answers of ``_is_node`` are read from their cache directly.
    out: list[cst.CSTNode] = []
    known = _node_types
    for name in fields:
        value = getattr(node, name, None)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:  # type: ignore[union-attr]
                is_node = known.get(type(item))
                if is_node is None:
                    is_node = _is_node(item)
                if is_node:
                    out.append(item)
        elif value is not None:
            is_node = known.get(kind)
            if is_node is None:
                is_node = _is_node(value)
            if is_node:
                out.append(value)
    return out


_methods_cache: dict[type, tuple[tuple[str, type[cst.CSTNode], bool], ...]] = {}


def handler_methods(rule_class: type) -> tuple[tuple[str, type[cst.CSTNode], bool], ...]:
    """``(method name, node type, is_leave)`` for each handler a rule class defines."""
    cached = _methods_cache.get(rule_class)
    if cached is None:
        found = []
        for attr in sorted(dir(rule_class)):
            leave = attr.startswith("leave_")
            if not (leave or attr.startswith("visit_")):
                continue
            kind = getattr(cst, attr.split("_", 1)[1], None)
            if isinstance(kind, type) and issubclass(kind, cst.CSTNode):
                found.append((attr, kind, leave))
        cached = _methods_cache[rule_class] = tuple(found)
    return cached


class Dispatch:
    """``node type -> handlers`` for visits and leaves, rebuilt when a rule is dropped."""

    def __init__(self) -> None:
        self.visit: dict[type[cst.CSTNode], list[tuple[object, Handler]]] = {}
        self.leave: dict[type[cst.CSTNode], list[tuple[object, Handler]]] = {}

    def add(self, owner: object, kind: type[cst.CSTNode], handler: Handler, leave: bool) -> None:
        table = self.leave if leave else self.visit
        table.setdefault(kind, []).append((owner, handler))

    def add_rule(self, rule: object) -> None:
        """Register every ``visit_<Node>``/``leave_<Node>`` method of ``rule``."""
        for attr, kind, leave in handler_methods(type(rule)):
            self.add(rule, kind, getattr(rule, attr), leave)

    def drop(self, owner: object) -> None:
        for table in (self.visit, self.leave):
            for kind in list(table):
                table[kind] = [(o, h) for o, h in table[kind] if o is not owner]

    def __bool__(self) -> bool:
        return bool(self.visit or self.leave)


def walk(
    module: cst.Module,
    dispatch: Dispatch,
    ancestors: list[cst.CSTNode],
    on_error: Callable[[object, BaseException], None],
) -> None:
    """Walk ``module`` once, calling handlers; a handler that raises is reported and dropped."""
    # ``None`` on the stack marks "leave the innermost ancestor". Leaves (names, strings,
    # numbers: about half of all nodes) are visited without touching the ancestor stack.
    stack: list[cst.CSTNode | None] = [module]
    visit, leave = dispatch.visit, dispatch.leave
    fields_of = _fields_cache
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        if node is None:
            node = ancestors.pop()
            handlers = leave.get(type(node))
            if handlers:
                _call(handlers, node, dispatch, on_error)
            continue
        kind = type(node)
        handlers = visit.get(kind)
        if handlers:
            _call(handlers, node, dispatch, on_error)
        fields = fields_of.get(kind)
        if fields is None:
            fields = _child_fields(kind)
        if fields or kind in leave:
            push(None)
            ancestors.append(node)
            found = _children(node, fields)
            found.reverse()
            extend(found)


def _call(
    handlers: list[tuple[object, Handler]],
    node: cst.CSTNode,
    dispatch: Dispatch,
    on_error: Callable[[object, BaseException], None],
) -> None:
    # ``Dispatch.drop`` puts new lists in the tables, so this one may be iterated as it is.
    for owner, handler in handlers:
        try:
            if handler(node) is STOP_VISITING:
                dispatch.drop(owner)
        except Exception as error:  # a rule bug must not stop the run
            on_error(owner, error)
            dispatch.drop(owner)
