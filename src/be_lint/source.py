"""Read a file's bytes and decode them the way Python itself would.

Python source is decoded per PEP 263 (a UTF-8 BOM or a ``coding:`` cookie in the first two
lines, UTF-8 otherwise) through ``tokenize.detect_encoding``, so be-lint reads exactly the
text the interpreter runs: guessing (say, falling back to latin-1) could make a rule see code
that Python would refuse, or miss code that it would run. SQL files have no such convention
and are read as UTF-8.

Nothing here raises for a bad file: every failure is a ``SourceProblem`` that the engine turns
into a BE0xx finding, so one unreadable file never stops a run. Decoding is strict and the text
is otherwise untouched (line endings included) so positions and fixes map back to the bytes.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ProblemKind = Literal["unreadable", "undecodable", "binary", "too-large"]

_BOM = "\ufeff"
# PEP 263's cookie, as the tokenizer matches it.
_COOKIE_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT_RE = re.compile(rb"^[ \t\f]*(?:[#\r]|$)")


@dataclass(frozen=True, slots=True)
class SourceText:
    """Decoded text and the codec that decoded it.

    ``encoding`` is the name to write the file back with: ``utf-8-sig`` when the file starts
    with a BOM (the BOM is not part of ``text`` but a fix must keep it).
    """

    text: str
    encoding: str


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """Why a file cannot be linted, and where (1-based) when the problem has a position."""

    kind: ProblemKind
    message: str
    line: int = 1
    column: int = 1


def read_source(path: Path, *, max_bytes: int) -> SourceText | SourceProblem:
    """Read and decode ``path``; files over ``max_bytes`` are refused without being read."""
    data = read_bytes(path, max_bytes=max_bytes)
    if isinstance(data, SourceProblem):
        return data
    return decode_source(data, path.suffix)


def read_bytes(path: Path, *, max_bytes: int) -> bytes | SourceProblem:
    """The bytes of ``path``; files over ``max_bytes`` are refused without being read."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return SourceProblem("unreadable", f"cannot read file: {exc.strerror or exc}")
    if size > max_bytes:
        return _too_large(size, max_bytes)
    try:
        with open(path, "rb") as handle:
            # One byte more than allowed, in case the file grew since `stat`.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        return SourceProblem("unreadable", f"cannot read file: {exc.strerror or exc}")
    if len(data) > max_bytes:
        return _too_large(len(data), max_bytes)
    return data


def decode_source(data: bytes, path_suffix: str) -> SourceText | SourceProblem:
    """Decode a file's bytes (from disk or stdin); ``path_suffix`` picks the convention.

    ``.sql`` means UTF-8 with an optional BOM; anything else is treated as Python, as files
    named explicitly (scripts without an extension, stdin) are linted as Python.
    """
    if b"\x00" in data:
        # No text encoding Python accepts for source puts NUL bytes in text, and the
        # tokenizer rejects them; this is an image, a .pyc, or UTF-16.
        return SourceProblem("binary", "file contains NUL bytes; not a text file")
    if path_suffix.lower() == ".sql":
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        return _decode(data, encoding, source="")
    return _decode_python(data)


def _decode_python(data: bytes) -> SourceText | SourceProblem:
    cookie = _cookie(data)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        message = str(exc.msg or exc)
        if not message.startswith("invalid or missing encoding declaration"):
            # An unknown codec in the cookie, or a cookie contradicting the BOM.
            line = cookie[0] if cookie else 1
            if cookie and data.startswith(codecs.BOM_UTF8):
                message = f"the file starts with a UTF-8 BOM but declares {cookie[1]!r}"
            return SourceProblem("undecodable", f"bad encoding declaration: {message}", line=line)
        # detect_encoding reads the cookie's own line as UTF-8, so it gives up on a line like
        # `# coding: latin-1` followed by a latin-1 comment; Python runs such files, so honour
        # the cookie. Without one, decoding as UTF-8 below reports the exact bad byte.
        encoding = _known_codec(cookie[1]) if cookie else "utf-8"
    declared = " (declared in the file)" if cookie and encoding != "utf-8-sig" else ""
    return _decode(data, encoding, source=declared)


def _known_codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _decode(data: bytes, encoding: str, *, source: str) -> SourceText | SourceProblem:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start, encoding)
        bad = data[exc.start : exc.end]
        return SourceProblem(
            "undecodable",
            f"cannot decode as {_codec_label(encoding)}{source}: {exc.reason} "
            f"(byte {' '.join(f'0x{b:02x}' for b in bad[:4])})",
            line=line,
            column=column,
        )
    except LookupError:  # pragma: no cover - detect_encoding only returns known codecs
        return SourceProblem("undecodable", f"unknown encoding {encoding!r}")
    # utf-8-sig already drops a BOM; this catches a BOM under a cookie that says utf-8 too.
    if text.startswith(_BOM):
        text = text[1:]
    return SourceText(text=text, encoding=encoding)


def _position(data: bytes, offset: int, encoding: str) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    # Everything before the first bad byte decoded fine, so count its characters (a BOM at
    # the start of the file is not a column).
    prefix = data[line_start:offset].decode(encoding, errors="replace")
    if line == 1:
        prefix = prefix.removeprefix(_BOM)
    return line, len(prefix) + 1


def _codec_label(encoding: str) -> str:
    return "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding


def _cookie(data: bytes) -> tuple[int, str] | None:
    """The coding cookie's line number and codec name, found the way PEP 263 says."""
    lines = data.removeprefix(codecs.BOM_UTF8).split(b"\n", 2)[:2]
    for number, line in enumerate(lines, start=1):
        match = _COOKIE_RE.match(line)
        if match:
            return number, match.group(1).decode("ascii", errors="replace")
        # The second line counts only when the first is blank or a comment.
        if not _BLANK_OR_COMMENT_RE.match(line):
            break
    return None


def _too_large(size: int, limit: int) -> SourceProblem:
    return SourceProblem(
        "too-large", f"file is {size:,} bytes, over the max-file-size limit of {limit:,} bytes"
    )
