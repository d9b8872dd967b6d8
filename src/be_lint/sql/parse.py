"""Split a ``SqlSource`` into statements and parse each with sqlglot, never raising.

sqlglot is strict where real SQL is loose: it rejects some Postgres operators (``<<=``), reads
some DDL as opaque ``Command`` nodes, and can fail in unexpected ways on odd input. A statement
that does not parse becomes a ``SqlStatement`` with ``tree=None`` and a one-line ``error``; SQL
rules skip those (or report them, if that is their job), and the run goes on.

Parses are cached by (statement text, dialect): the same query text often appears many times in
a codebase. Trees in the cache are shared, so **rules must treat ``SqlStatement.tree`` as
read-only** (use ``tree.copy()`` or ``transform(copy=True)`` before changing anything).
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from be_lint.prefilter import lowered as lowered
from be_lint.sql import lexer
from be_lint.sql.model import HoleKind, SqlSource, SqlStatement

if TYPE_CHECKING:
    import sqlglot
    import sqlglot.dialects.dialect as _dialect
    import sqlglot.errors as errors
    import sqlglot.expressions as exp
    from sqlglot.errors import ParseError
else:
    from be_lint.sql.lazy import dialect as _dialect
    from be_lint.sql.lazy import errors, exp, sqlglot

# sqlglot logs a warning for every statement it falls back to a ``Command`` for. Without a
# handler those warnings would reach stderr through logging's last resort; a user who configures
# logging still sees them.
logging.getLogger("sqlglot").addHandler(logging.NullHandler())

_CACHE_SIZE = 4096


class Token(Protocol):
    """What this module reads of a sqlglot token (its class moved between sqlglot versions)."""

    @property
    def token_type(self) -> enum.Enum: ...
    @property
    def text(self) -> str: ...
    @property
    def start(self) -> int:
        """Offset of the first character."""
        ...

    @property
    def end(self) -> int:
        """Offset of the last character (inclusive)."""
        ...


@dataclass(frozen=True, slots=True)
class _Parsed:
    tree: exp.Expression | None
    error: str | None = None
    #: Offset of the error in the statement's text.
    error_offset: int | None = None


def parse_statements(source: SqlSource, dialect: str) -> list[SqlStatement]:
    """The statements of ``source.text``, each parsed with ``dialect`` (or carrying an error)."""
    text = source.text
    statements: list[SqlStatement] = []
    for start, end in split_statements(text, dialect):
        parsed = _parse(text[start:end], dialect)
        statements.append(
            SqlStatement(
                source=source,
                start=start,
                end=end,
                dialect=dialect,
                tree=parsed.tree,
                error=parsed.error,
                error_offset=None if parsed.error_offset is None else start + parsed.error_offset,
            )
        )
    return statements


def split_statements(text: str, dialect: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each statement, without the ``;`` and surrounding comments/space.

    The split follows sqlglot's tokens, so semicolons in strings, quoted names, comments and
    dollar quotes do not split. If the tokenizer fails (an unterminated quote), the light lexer
    splits instead.
    """
    tokens = _tokens(text, dialect)
    if tokens is None:
        return _split_with_lexer(text)
    spans: list[tuple[int, int]] = []
    first: Token | None = None
    last: Token | None = None
    for token in tokens:
        if token.token_type.name == "SEMICOLON":
            if first is not None and last is not None:
                spans.append((first.start, last.end + 1))
            first = last = None
            continue
        if first is None:
            first = token
        last = token
    if first is not None and last is not None:
        spans.append((first.start, last.end + 1))
    return spans


def _split_with_lexer(text: str) -> list[tuple[int, int]]:
    regions = lexer.Regions(lexer.quoted_regions(text))
    spans: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == ";" and regions.at(i) is None:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(text)))
    trimmed = (_trim(text, s, e, regions) for s, e in spans)
    return [span for span in trimmed if span is not None]


def _trim(text: str, start: int, end: int, regions: lexer.Regions) -> tuple[int, int] | None:
    """Shrink ``[start, end)`` to exclude surrounding whitespace and comments."""
    while start < end and (text[start].isspace() or regions.at(start) is lexer.Region.COMMENT):
        start += 1
    while end > start and (text[end - 1].isspace() or regions.at(end - 1) is lexer.Region.COMMENT):
        end -= 1
    return (start, end) if end > start else None


def statement_tokens(stmt: SqlStatement) -> Sequence[Token]:
    """sqlglot's tokens of ``stmt.text`` (offsets relative to the statement); empty on failure."""
    return _tokens(stmt.text, stmt.dialect) or ()


def _tokens(text: str, dialect: str) -> Sequence[Token] | None:
    try:
        return _dialect.Dialect.get_or_raise(dialect).tokenize(text)
    except Exception:  # sqlglot must never crash the run: fall back to the light lexer
        return None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse(text: str, dialect: str) -> _Parsed:
    try:
        trees = sqlglot.parse(text, read=dialect, error_level=errors.ErrorLevel.RAISE)
    except errors.ParseError as error:
        return _parse_error(text, error)
    except RecursionError:
        return _Parsed(None, "statement is nested too deeply to parse")
    except Exception as error:  # TokenError, dialect errors, and sqlglot's own bugs
        return _Parsed(None, _one_line(f"{type(error).__name__}: {error}"))
    tree = next((t for t in trees if t is not None), None)
    if not isinstance(tree, exp.Expression):
        return _Parsed(None, "empty statement")
    return _Parsed(tree)


def _parse_error(text: str, error: ParseError) -> _Parsed:
    details = error.errors[0] if error.errors else {}
    description = str(details.get("description") or error)
    highlight = details.get("highlight")
    message = f"{description} near {highlight!r}" if highlight else description
    offset: int | None = None
    line, col = details.get("line"), details.get("col")
    if isinstance(line, int) and isinstance(col, int):
        # sqlglot reports the line and column of the offending token's last character.
        line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        if 1 <= line <= len(line_starts):
            end = line_starts[line - 1] + col - 1
            width = len(highlight) if isinstance(highlight, str) and highlight else 1
            offset = max(0, min(len(text), end - width + 1))
    return _Parsed(None, _one_line(message), offset)


def _one_line(message: str) -> str:
    first = " ".join(message.split())
    return first if len(first) <= 300 else first[:297] + "..."


# -- positions -----------------------------------------------------------------------------------


#: Nodes that begin with their own keyword: their span starts at the keyword, not at the first
#: name inside them (sqlglot records positions on names and literals only).
@functools.cache
def _keyword_nodes() -> dict[type[exp.Expr], tuple[str, ...]]:
    return {
        exp.Select: ("SELECT",),
        exp.Update: ("UPDATE",),
        exp.Delete: ("DELETE",),
        exp.Insert: ("INSERT", "REPLACE"),
        exp.Merge: ("MERGE",),
        exp.Where: ("WHERE",),
        exp.Having: ("HAVING",),
        exp.Group: ("GROUP",),
        exp.Order: ("ORDER",),
        exp.Limit: ("LIMIT",),
        exp.Join: ("JOIN",),
        exp.From: ("FROM",),
        exp.Returning: ("RETURNING",),
    }


_LOOKBACK = 4


def node_span(stmt: SqlStatement, node: object | None) -> tuple[int, int]:
    """Offsets ``(start, end)`` in ``stmt.source.text`` of a sqlglot ``node`` of ``stmt.tree``.

    The whole statement when ``node`` is None or the tree itself -- except that a statement
    opening with ``WITH`` is placed at its own keyword (``DELETE``), after the CTEs. A node
    that cannot be placed gives the whole statement too. ``node`` may also be an ``(start,
    end)`` pair of offsets in ``stmt.source.text`` that a rule computed itself (from tokens,
    for parts of a statement sqlglot records no positions for, such as keywords and types).
    """
    whole = (stmt.start, stmt.end)
    if isinstance(node, tuple) and len(node) == 2 and all(isinstance(n, int) for n in node):
        first, last = node
        return (max(0, first), max(first, last))
    if node is None or not isinstance(node, exp.Expr):
        return whole
    own_with = node.args.get("with_") or node.args.get("with")
    if node is stmt.tree and not isinstance(own_with, exp.With):
        return whole
    start: int | None = None
    end: int | None = None
    stack: list[exp.Expr] = [node]
    while stack:
        child = stack.pop()
        if child is own_with:
            continue  # the CTEs come before the node's keyword
        meta = child._meta
        if meta:
            child_start, child_end = meta.get("start"), meta.get("end")
            if isinstance(child_start, int) and isinstance(child_end, int):
                start = child_start if start is None else min(start, child_start)
                end = child_end + 1 if end is None else max(end, child_end + 1)
        stack.extend(child.iter_expressions())
    if start is None or end is None:
        return _search(stmt, node) or whole
    keywords = _keyword_nodes().get(type(node))
    if keywords:
        start = _keyword_before(stmt, start, keywords)
    if node is stmt.tree:
        end = stmt.end - stmt.start
    return (stmt.start + start, stmt.start + end)


def _keyword_before(stmt: SqlStatement, start: int, keywords: tuple[str, ...]) -> int:
    tokens = _tokens(stmt.text, stmt.dialect)
    if not tokens:
        return start
    index = next((i for i, t in enumerate(tokens) if t.start >= start), None)
    if index is None:
        return start
    for token in reversed(tokens[max(0, index - _LOOKBACK) : index]):
        if token.text.upper() in keywords:
            return token.start
    return start


def _search(stmt: SqlStatement, node: exp.Expr) -> tuple[int, int] | None:
    """Place a node without positions by finding its first name in the statement's text."""
    try:
        rendered = node.sql(dialect=stmt.dialect)
    except Exception:  # rendering is best effort
        return None
    tokens = _tokens(rendered, stmt.dialect) or ()
    word = next((t.text for t in tokens if t.token_type.name in ("VAR", "IDENTIFIER")), None)
    if not word:
        return None
    at = stmt.text.lower().find(word.lower())
    if at < 0:
        return None
    return (stmt.start + at, stmt.start + at + len(word))


def hole_may_hide_clause(stmt: SqlStatement, scope: exp.Expression) -> bool:
    """True when a runtime value spliced into ``scope`` could carry a whole clause.

    ``"DELETE FROM t " + where`` or ``f"SELECT ... {order}"``: a value sqlglot read as a table
    name or as a value (``SET a = {x}``) cannot hold a clause; one it read as an alias, or could
    not place in ``scope`` at all, might.
    """
    for hole in stmt.holes:
        if hole.kind is not HoleKind.DYNAMIC:
            continue
        name = stmt.source.text[hole.start : hole.end]
        placed = False
        for node in scope.walk():
            if isinstance(node, exp.Identifier | exp.Literal) and name in str(node.this):
                if node.find_ancestor(exp.TableAlias, exp.Alias) is not None:
                    return True
                placed = True
        if not placed:
            return True
    return False
