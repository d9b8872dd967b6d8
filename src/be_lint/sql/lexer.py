"""A light SQL lexer: where the quoted strings and comments are, and where the placeholders are.

sqlglot's tokenizer is the authority on SQL, but placeholders must be found before the text
reaches it: ``?``, ``:name`` and ``%s`` are not SQL in most dialects, and the tokenizer rejects
some of them. So this module answers two questions on raw text: "is this character inside a
string literal, a quoted identifier or a comment?" and "which spans are driver placeholders?".
It never fails: an unterminated quote or comment runs to the end of the text.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass


class Region(str, enum.Enum):
    STRING = "string"  # '...', E'...', $tag$...$tag$
    IDENTIFIER = "identifier"  # "...", `...`
    COMMENT = "comment"  # -- ..., /* ... */
    META = "meta"  # a psql meta-command line (\\set, \\connect ...) in a .sql file


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    region: Region


_STARTS = re.compile(r"--|/\*|['\"`$]")
_STARTS_PSQL = re.compile(r"--|/\*|['\"`$\\]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$")
_BLOCK_COMMENT = re.compile(r"/\*|\*/")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def quoted_regions(text: str, *, psql_meta: bool = False) -> list[Span]:
    """The string, quoted-identifier and comment spans of ``text``, in order, not overlapping.

    With ``psql_meta``, a line whose first non-blank character is a backslash (outside quotes)
    is a psql meta-command and forms a ``META`` span up to the end of the line.
    """
    spans: list[Span] = []
    pos = 0
    n = len(text)
    starts = _STARTS_PSQL if psql_meta else _STARTS
    while True:
        m = starts.search(text, pos)
        if m is None:
            return spans
        start = m.start()
        token = m.group()
        if token == "\\":
            line_start = text.rfind("\n", 0, start) + 1
            if text[line_start:start].strip():
                pos = start + 1
                continue
            newline = text.find("\n", start)
            end = n if newline < 0 else newline
            spans.append(Span(start, end, Region.META))
        elif token == "--":
            newline = text.find("\n", start)
            end = n if newline < 0 else newline
            spans.append(Span(start, end, Region.COMMENT))
        elif token == "/*":
            end = _block_comment_end(text, start)
            spans.append(Span(start, end, Region.COMMENT))
        elif token == "$":
            tag = _DOLLAR_TAG.match(text, start)
            # ``a$1$`` is an identifier containing dollars, not a quote; ``$1`` is a parameter.
            if tag is None or (start > 0 and _is_word_char(text[start - 1])):
                pos = start + 1
                continue
            close = text.find(tag.group(), tag.end())
            end = n if close < 0 else close + len(tag.group())
            spans.append(Span(start, end, Region.STRING))
        elif token == "'":
            escapes = start > 0 and text[start - 1] in "eE" and not _word_before(text, start - 1)
            end = _quote_end(text, start, "'", backslash=escapes)
            spans.append(Span(start, end, Region.STRING))
        else:
            end = _quote_end(text, start, token, backslash=False)
            spans.append(Span(start, end, Region.IDENTIFIER))
        pos = end
        if pos >= n:
            return spans


def _word_before(text: str, index: int) -> bool:
    return index > 0 and _is_word_char(text[index - 1])


def _quote_end(text: str, start: int, quote: str, *, backslash: bool) -> int:
    """End (exclusive) of the quoted run opening at ``start``; doubled quotes stay inside."""
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _block_comment_end(text: str, start: int) -> int:
    # Postgres block comments nest; other dialects' comments rarely contain ``/*``.
    depth = 0
    for m in _BLOCK_COMMENT.finditer(text, start):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    return len(text)


class Regions:
    """Fast "which region is offset i in" over the spans of one text."""

    def __init__(self, spans: Sequence[Span]) -> None:
        self.spans = spans
        self._starts = [s.start for s in spans]

    def at(self, offset: int) -> Region | None:
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and offset < self.spans[index].end:
            return self.spans[index].region
        return None

    def is_code(self, start: int, end: int) -> bool:
        """True when none of ``[start, end)`` is quoted or commented."""
        index = bisect.bisect_right(self._starts, start) - 1
        if index >= 0 and start < self.spans[index].end:
            return False
        following = index + 1
        return following >= len(self.spans) or self.spans[following].start >= end


class Style(str, enum.Enum):
    """Driver paramstyles (PEP 249) plus psql variables and ``psycopg.sql`` fields."""

    PYFORMAT = "pyformat"  # %s, %(name)s (psycopg, MySQLdb, Django)
    NUMERIC_DOLLAR = "dollar"  # $1 (asyncpg)
    NAMED = "named"  # :name (sqlite3, SQLAlchemy text, oracledb)
    QMARK = "qmark"  # ? (sqlite3, pyodbc)
    PSQL = "psql"  # :'name', :"name" (psql variables in .sql files)
    FIELD = "field"  # {name} (psycopg.sql.SQL composition)
    PERCENT_ESCAPE = "percent"  # %% under pyformat: a literal percent sign


@dataclass(frozen=True, slots=True)
class Placeholder:
    start: int
    end: int
    style: Style


_PYFORMAT = re.compile(r"%%|%\([^()%]*\)[sbt]|%[sbt]")
_DOLLAR_PARAM = re.compile(r"\$[0-9]+")
_NAMED = re.compile(r":(?:[A-Za-z_][A-Za-z_0-9]*|[0-9]+)")  # :name, and :1 (oracledb)
_PSQL = re.compile(r":(?:'[A-Za-z_][A-Za-z_0-9]*'|\"[A-Za-z_][A-Za-z_0-9]*\")")
_FIELD = re.compile(r"\{[A-Za-z_0-9]*\}")


def find_placeholders(
    text: str, *, python: bool, regions: Regions | None = None
) -> list[Placeholder]:
    """Driver placeholders in ``text`` (SQL written in Python when ``python``, else a .sql file).

    In Python one paramstyle wins per text, because their characters mean other things in
    other styles: under ``%s`` the ``?`` is Postgres's JSON operator and ``%%`` is an escaped
    percent, while with ``?`` placeholders ``%%`` is two percent signs. Placeholders inside
    quotes count only for pyformat, the one style whose drivers substitute there too. A .sql
    file has no driver: psql variables (``:name``, ``:'name'``) and ``$1`` may all appear.
    """
    if regions is None:
        regions = Regions(quoted_regions(text))

    def code(start: int, end: int) -> bool:
        return regions.is_code(start, end)

    found: list[Placeholder] = []
    pyformat = [
        m
        for m in _PYFORMAT.finditer(text)
        if regions.at(m.start()) not in (Region.COMMENT, Region.META)
    ]
    is_pyformat = any(m.group() != "%%" and code(m.start(), m.end()) for m in pyformat)
    if is_pyformat:
        found.extend(
            Placeholder(
                m.start(), m.end(), Style.PERCENT_ESCAPE if m.group() == "%%" else Style.PYFORMAT
            )
            for m in pyformat
        )
    dollar = [
        Placeholder(m.start(), m.end(), Style.NUMERIC_DOLLAR)
        for m in _DOLLAR_PARAM.finditer(text)
        if code(m.start(), m.end()) and not _word_before(text, m.start())
    ]
    if not python:
        # A .sql file may mix psql variables with ``$1`` (a prepared statement) freely.
        found.extend(dollar)
        found.extend(_named(text, regions, psql=True))
    elif not is_pyformat:
        found.extend(dollar)
        if not dollar:
            found.extend(_named(text, regions, psql=False) or _qmarks(text, regions))
    if python:
        # ``psycopg.sql.SQL("SELECT {} FROM t")``: composition fields, filled with safe objects.
        found.extend(
            Placeholder(m.start(), m.end(), Style.FIELD)
            for m in _FIELD.finditer(text)
            if code(m.start(), m.end())
        )
    found.sort(key=lambda p: p.start)
    return _drop_overlaps(found)


def _named(text: str, regions: Regions, *, psql: bool) -> list[Placeholder]:
    found: list[Placeholder] = []
    for m in _NAMED.finditer(text):
        start = m.start()
        # ``::int`` is a cast, ``arr[1:n]`` a slice, ``a:b`` something else again: a named
        # parameter follows an operator, a comma, a bracket or a space.
        if start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] in ":[]"):
            continue
        if regions.is_code(start, m.end()):
            found.append(Placeholder(start, m.end(), Style.NAMED))
    if psql:
        for m in _PSQL.finditer(text):
            start = m.start()
            if start > 0 and text[start - 1] == ":":
                continue
            # The quote after the colon opens a region of its own; the colon must be code.
            if regions.is_code(start, start + 1):
                found.append(Placeholder(start, m.end(), Style.PSQL))
    return found


def _qmarks(text: str, regions: Regions) -> list[Placeholder]:
    found: list[Placeholder] = []
    for i, ch in enumerate(text):
        if ch != "?" or not regions.is_code(i, i + 1):
            continue
        following = text[i + 1 : i + 2]
        if following in ("|", "&"):  # Postgres JSON operators ?| and ?&
            continue
        found.append(Placeholder(i, i + 1, Style.QMARK))
    return found


def _drop_overlaps(found: list[Placeholder]) -> list[Placeholder]:
    kept: list[Placeholder] = []
    for p in found:
        if kept and p.start < kept[-1].end:
            continue
        kept.append(p)
    return kept


_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.DOTALL)
_SQL_SHAPE = re.compile(
    r"""
      select\s[\s\S]*?\bfrom\b
    | select\s+(?:[0-9*(]|distinct\b|count\b|exists\b|__be_hole_)
    | insert\s+(?:or\s+\w+\s+|ignore\s+)?into\b
    | (?:replace|merge|upsert)\s+into\b
    | update\s[\s\S]*?\bset\b
    | delete\s+from\b
    | with\s+(?:recursive\s+)?\w+[\s\S]*?\bas\s*(?:not\s+)?(?:materialized\s+)?\(
    | (?:create|drop|alter)\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|unique|unlogged|global|local|materialized)\s+)*
      (?:table|index|view|schema|database|sequence|function|procedure|trigger|type|extension|role|user|policy|domain)\b
    | truncate\s+(?:table\s+)?\w
    | explain\s+(?:analyze\s+)?(?:select|insert|update|delete|with)\b
    | (?:pragma|vacuum)\b
    | reindex\s+(?:\(.*?\)\s*)?(?:table|index|database|schema|system)\b
    | copy\s+[\w.]+\s+(?:from|to)\b
    | comment\s+on\b
    | refresh\s+materialized\b
    | lock\s+table\b
    | call\s+[\w.]+\s*\(
    | set\s+(?:local\s+|session\s+)?[\w.]+\s*(?:=|\bto\b)
    | (?:begin|commit|rollback|start\s+transaction)\s*(?:;|$|\btransaction\b|\bwork\b)
    | values\s*\(
    """,
    re.IGNORECASE | re.VERBOSE,
)


def looks_like_sql(text: str) -> bool:
    """True when ``text`` starts like a SQL statement (keywords in a plausible order).

    Used to keep method names shared with non-database APIs (``executor.execute(...)``) from
    being read as SQL unless what they are given reads as SQL.
    """
    start = _LEADING_NOISE.match(text)
    pos = start.end() if start else 0
    return _SQL_SHAPE.match(text, pos) is not None
