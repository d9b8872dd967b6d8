"""Reading and decoding source files: PEP 263, BOMs, binary files, size limits, errors."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from be_lint.source import SourceProblem, SourceText, decode_source, read_source

LIMIT = 1_000_000


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_plain_utf8(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.py", 'name = "café"\n'.encode())
    assert read_source(path, max_bytes=LIMIT) == SourceText('name = "café"\n', "utf-8")


def test_latin1_with_coding_cookie(tmp_path: Path) -> None:
    text = '# -*- coding: latin-1 -*-\nname = "café"\n'
    path = write_bytes(tmp_path, "a.py", text.encode("latin-1"))
    result = read_source(path, max_bytes=LIMIT)
    assert isinstance(result, SourceText)
    assert result.text == text
    assert "8859" in result.encoding  # Python's canonical name for latin-1


def test_cookie_on_second_line_after_shebang() -> None:
    text = '#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = "€"\n'
    result = decode_source(text.encode("cp1252"), ".py")
    assert result == SourceText(text, "cp1252")


def test_cookie_line_itself_in_the_declared_encoding() -> None:
    # tokenize.detect_encoding gives up here; Python runs the file, so must we.
    text = "# coding: latin-1  (é)\nx = 1\n"
    result = decode_source(text.encode("latin-1"), ".py")
    assert isinstance(result, SourceText)
    assert result.text == text


def test_utf8_bom_stripped_and_remembered() -> None:
    result = decode_source(b"\xef\xbb\xbfx = 1\r\n", ".py")
    # Line endings are kept as they are; the encoding says to write the BOM back.
    assert result == SourceText("x = 1\r\n", "utf-8-sig")


def test_utf8_bom_in_sql() -> None:
    assert decode_source(b"\xef\xbb\xbfselect 1;\n", ".sql") == SourceText(
        "select 1;\n", "utf-8-sig"
    )


def test_invalid_utf8_reports_line_and_column(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.py", b'x = 1\ny = "\xc3\xa9\xff"\n')
    result = read_source(path, max_bytes=LIMIT)
    assert isinstance(result, SourceProblem)
    assert result.kind == "undecodable"
    # `y = "é` is six characters, so the bad byte is in column 7 (columns count characters).
    assert (result.line, result.column) == (2, 7)
    assert result.message == "cannot decode as UTF-8: invalid start byte (byte 0xff)"


def test_invalid_utf8_on_first_line_without_cookie() -> None:
    result = decode_source(b"# caf\xe9\n", ".py")
    assert isinstance(result, SourceProblem)
    assert (result.kind, result.line, result.column) == ("undecodable", 1, 6)


def test_invalid_utf8_in_sql() -> None:
    result = decode_source(b"select 1;\nselect '\xff';\n", ".sql")
    assert isinstance(result, SourceProblem)
    assert (result.kind, result.line, result.column) == ("undecodable", 2, 9)


def test_bytes_not_in_declared_encoding() -> None:
    result = decode_source(b'# coding: ascii\nx = "\xc3\xa9"\n', ".py")
    assert isinstance(result, SourceProblem)
    assert result.kind == "undecodable"
    assert (result.line, result.column) == (2, 6)
    assert "ascii (declared in the file)" in result.message


@pytest.mark.parametrize(
    ("data", "line", "fragment"),
    [
        (b"# coding: klingon\nx = 1\n", 1, "unknown encoding: klingon"),
        (b"#!/usr/bin/env python\n# coding: klingon\n", 2, "unknown encoding: klingon"),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", 1, "UTF-8 BOM but declares 'latin-1'"),
    ],
)
def test_bad_coding_cookie(data: bytes, line: int, fragment: str) -> None:
    result = decode_source(data, ".py")
    assert isinstance(result, SourceProblem)
    assert result.kind == "undecodable"
    assert result.line == line
    assert result.message.startswith("bad encoding declaration: ")
    assert fragment in result.message


def test_binary_with_nul(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.py", b"\x89PNG\r\n\x1a\n\x00\x00")
    assert read_source(path, max_bytes=LIMIT) == SourceProblem(
        "binary", "file contains NUL bytes; not a text file"
    )


def test_utf16_is_binary() -> None:
    result = decode_source("x = 1\n".encode("utf-16"), ".py")
    assert isinstance(result, SourceProblem)
    assert result.kind == "binary"


@pytest.mark.parametrize("suffix", [".py", ".sql", ""])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = write_bytes(tmp_path, "empty" + suffix, b"")
    assert read_source(path, max_bytes=LIMIT) == SourceText("", "utf-8")


def test_too_large_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_bytes(tmp_path, "big.py", b"x = 1\n" * 100)

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file over the limit must not be opened")

    monkeypatch.setattr("builtins.open", fail)
    result = read_source(path, max_bytes=599)
    assert result == SourceProblem(
        "too-large", "file is 600 bytes, over the max-file-size limit of 599 bytes"
    )


def test_exactly_at_limit_is_read(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.py", b"x = 1\n")
    assert isinstance(read_source(path, max_bytes=6), SourceText)


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    result = read_source(tmp_path / "gone.py", max_bytes=LIMIT)
    assert result == SourceProblem("unreadable", "cannot read file: No such file or directory")


def test_directory_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "pkg.py").mkdir()
    result = read_source(tmp_path / "pkg.py", max_bytes=LIMIT)
    assert isinstance(result, SourceProblem)
    assert result.kind == "unreadable"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "a.py", b"x = 1\n")
    path.chmod(0)
    try:
        result = read_source(path, max_bytes=LIMIT)
    finally:
        path.chmod(0o644)
    assert result == SourceProblem("unreadable", "cannot read file: Permission denied")


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same path as above, reachable when the suite runs as root (as in CI).
    path = write_bytes(tmp_path, "a.py", b"x = 1\n")

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("builtins.open", deny)
    assert read_source(path, max_bytes=LIMIT) == SourceProblem(
        "unreadable", "cannot read file: Permission denied"
    )


def test_suffix_decides_convention() -> None:
    # A cookie means nothing in SQL: the bytes must be UTF-8.
    data = "-- coding: latin-1\nselect 'é';\n".encode("latin-1")
    assert isinstance(decode_source(data, ".sql"), SourceProblem)
    python = "# coding: latin-1\nx = 'é'\n".encode("latin-1")
    assert isinstance(decode_source(python, ""), SourceText)  # no suffix: Python rules
    assert isinstance(decode_source(b"select 1;", ".SQL"), SourceText)
