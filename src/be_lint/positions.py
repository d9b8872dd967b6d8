"""Positions of a few nodes, without libcst's position metadata for every node.

libcst knows positions only by generating the module's code and recording a ``CodeRange`` for
each of its nodes; on a large file that costs twice the parse (measured: 0.8 s against 0.4 s for
a 5,700-line test module). A finding needs the positions of two or three nodes. This module
generates the code once with hooks that only react to those nodes and reads character offsets
off the token list, then turns offsets into lines and columns with the source text.

The result matches ``PositionProvider`` (syntactic positions: a node's own parentheses and
leading whitespace are not part of it); tests/test_positions.py checks that on every node of
real files.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


class _AllFound(Exception):
    """Raised once every wanted node has its span: the rest of the module need not be
    generated (findings cluster early in a file as often as late)."""


@dataclass
class _State(CodegenState):
    targets: set[int] = field(default_factory=set)
    #: The nodes asked about (``targets`` also gets the children a syntactic range needs).
    wanted: set[int] = field(default_factory=set)
    starts: dict[int, int] = field(default_factory=dict)
    ends: dict[int, int] = field(default_factory=dict)
    syntactic: set[int] = field(default_factory=set)
    _counted: int = 0
    _offset: int = 0
    _stack: list[int] = field(default_factory=list)

    def offset(self) -> int:
        tokens = self.tokens
        if self._counted < len(tokens):
            self._offset += sum(len(t) for t in tokens[self._counted :])
            self._counted = len(tokens)
        return self._offset

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self.starts.setdefault(id(node), self.offset())

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            if key not in self.syntactic:
                self.ends[key] = self.offset()
            # A node's span is final once its own code is generated.
            if key in self.wanted:
                self.wanted.discard(key)
                if not self.wanted:
                    raise _AllFound

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        key = id(node)
        if key not in self.targets:
            yield
            return
        # The syntactic range may be hoisted from children: make sure they are recorded.
        for child in (start_node, end_node):
            if child is not None:
                self.targets.add(id(child))
        start = self.offset()
        try:
            yield
        finally:
            end = self.offset()
            if start_node is not None and id(start_node) in self.starts:
                start = self.starts[id(start_node)]
            if end_node is not None and id(end_node) in self.ends:
                end = self.ends[id(end_node)]
            self.starts[key] = start
            self.ends[key] = end
            self.syntactic.add(key)


@dataclass(frozen=True, slots=True)
class Span:
    """1-based line, 0-based column, as libcst's ``CodeRange`` has them."""

    line: int
    column: int
    end_line: int
    end_column: int


def node_spans(
    module: cst.Module, nodes: Iterable[cst.CSTNode], text: str
) -> dict[cst.CSTNode, Span]:
    """Spans of ``nodes`` (which must belong to ``module``) in ``text`` (the module's code)."""
    wanted = list(nodes)
    state = _State(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        targets={id(n) for n in wanted},
        wanted={id(n) for n in wanted},
    )
    with suppress(_AllFound):
        module._codegen(state)
    line_starts = [0]
    line_starts.extend(match.end() for match in _NEWLINE.finditer(text))

    def position(offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(line_starts, offset) - 1
        return index + 1, offset - line_starts[index]

    out = {}
    for node in wanted:
        start = state.starts.get(id(node))
        end = state.ends.get(id(node))
        if start is None or end is None:
            continue
        line, column = position(start)
        end_line, end_column = position(end)
        out[node] = Span(line, column, end_line, end_column)
    return out
