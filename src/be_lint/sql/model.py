"""Data the SQL layer hands to rules: SQL text pulled out of Python or a ``.sql`` file.

SQL built in Python (``f"SELECT * FROM {table}"``, ``"..." % x``, ``"..." + y``) has holes where
runtime values go. The layer replaces each hole, and each driver placeholder (``%s``, ``?``,
``:name``, ``$1``), with an identifier that parses wherever a value or a name may stand, so
sqlglot sees a whole statement. ``segments`` remember where each run of SQL text came from, so
a position inside the SQL maps back to a line and column of the file.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    import sqlglot.expressions as exp


class HoleKind(str, enum.Enum):
    #: A Python value spliced into the SQL text (f-string hole, ``%``/``format`` argument, ``+``).
    DYNAMIC = "dynamic"
    #: A driver placeholder (``%s``, ``%(name)s``, ``?``, ``:name``, ``$1``): bound safely.
    PLACEHOLDER = "placeholder"


@dataclass(frozen=True, slots=True)
class Hole:
    """A part of the SQL text that is not literal SQL; ``start``/``end`` index ``SqlSource.text``."""

    start: int
    end: int
    kind: HoleKind
    #: The Python expression of a dynamic hole (None for placeholders).
    expr: cst.BaseExpression | None = None
    #: How Python formatted the value, when it did: a ``%`` conversion (``%s``, ``%05d``) or a
    #: ``str.format``/f-string field suffix (``!r``, ``:>10``, ``:d``). Lets rules tell a value
    #: that is a number by construction (``%d``) from arbitrary text.
    conversion: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """``SqlSource.text[start:end]`` came from the source at ``origin_offset``.

    For Python, ``node`` is the string-literal node (``SimpleString``, ``FormattedStringText``
    ...) and ``origin_offset`` indexes ``module.code_for_node(node)``; for ``.sql`` files ``node``
    is None and ``origin_offset`` indexes the file text. A hole is a segment of its own whose
    origin is the hole's expression (or the placeholder's literal).
    """

    start: int
    end: int
    node: cst.CSTNode | None
    origin_offset: int
    #: For a segment whose SQL text does not copy its origin character by character (a hole's
    #: synthetic name, ``?`` replaced by an identifier): how many source characters it stands
    #: for. Offsets inside it map to ``origin_offset + min(i, origin_length - 1)``, so a span
    #: over the whole hole maps to the whole placeholder or expression in the source.
    origin_length: int | None = None


@dataclass(frozen=True)
class SqlSource:
    text: str
    segments: tuple[Segment, ...]
    holes: tuple[Hole, ...] = ()
    #: The Python expression the SQL came from; None for ``.sql`` files.
    expr: cst.BaseExpression | None = None
    _starts: list[int] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._starts.extend(s.start for s in self.segments)

    @property
    def is_dynamic(self) -> bool:
        return any(h.kind is HoleKind.DYNAMIC for h in self.holes)

    def locate(self, offset: int) -> tuple[cst.CSTNode | None, int]:
        """Map an offset in ``text`` to (node, offset in the node's code) or (None, file offset)."""
        if not self.segments:
            return (self.expr, 0)
        index = max(0, bisect.bisect_right(self._starts, offset) - 1)
        segment = self.segments[index]
        within = min(max(0, offset - segment.start), max(0, segment.end - segment.start))
        if segment.origin_length is not None:
            within = min(max(0, offset - segment.start), max(0, segment.origin_length - 1))
        elif segment.node is not None and any(
            h.start == segment.start and h.expr is segment.node for h in self.holes
        ):
            within = 0  # a hole's text is synthetic: point at the start of its expression
        return (segment.node, segment.origin_offset + within)

    def hole_at(self, start: int, end: int) -> list[Hole]:
        """The holes overlapping ``text[start:end]``."""
        return [h for h in self.holes if h.start < end and h.end > start]


@dataclass(frozen=True)
class SqlStatement:
    """One statement of a ``SqlSource``, parsed or not."""

    source: SqlSource
    start: int
    end: int
    dialect: str
    tree: exp.Expression | None = None
    #: Why the statement did not parse (and where, as an offset in ``source.text``).
    error: str | None = None
    error_offset: int | None = None

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    @property
    def holes(self) -> list[Hole]:
        return self.source.hole_at(self.start, self.end)
