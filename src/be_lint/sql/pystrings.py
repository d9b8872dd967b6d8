"""Decode Python string literals while remembering where every character came from.

``"a\\nb"`` is four source characters between the quotes but three characters of value; a
position sqlglot reports in the value must land on the right source column. So decoding yields,
for each character of the value, its offset in the literal's code (as ``code_for_node`` prints
it, parentheses and prefix included).
"""

from __future__ import annotations

import ast
import re
import unicodedata

import libcst as cst

#: (decoded characters, offset in the node's code of each character)
Decoded = tuple[str, list[int]]

_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_ESCAPE = re.compile(
    r"""\\(?:
        (?P<newline>\r\n|\n|\r)
      | (?P<simple>[\\'"abfnrtv])
      | (?P<octal>[0-7]{1,3})
      | x(?P<hex>[0-9a-fA-F]{2})
      | N\{(?P<name>[^}]*)\}
      | u(?P<u4>[0-9a-fA-F]{4})
      | U(?P<u8>[0-9a-fA-F]{8})
    )""",
    re.VERBOSE,
)


def paren_length(node: cst.CSTNode, module: cst.Module) -> int:
    """Characters of ``node``'s code before the node itself: its opening parentheses."""
    lpar = getattr(node, "lpar", ())
    return sum(len(module.code_for_node(p)) for p in lpar)


def decode_body(body: str, base: int, *, raw: bool, fstring: bool = False) -> Decoded:
    """Decode the text between the quotes; ``base`` is the code offset of ``body[0]``.

    ``fstring`` also turns ``{{``/``}}`` into single braces (f-string text parts keep them
    doubled). Newlines in the source (``\\r\\n`` or ``\\r``) read as ``\\n``, as Python reads them.
    """
    chars: list[str] = []
    offsets: list[int] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == "\\" and not raw:
            m = _ESCAPE.match(body, i)
            if m is None:
                # Unknown escapes (``\d``) keep their backslash, as Python does.
                chars.append("\\")
                offsets.append(base + i)
                i += 1
                continue
            value = _escape_value(m)
            if value is None:  # \N{unknown name}: keep the text as it stands
                chars.extend(m.group())
                offsets.extend(range(base + i, base + m.end()))
            else:
                chars.extend(value)
                offsets.extend([base + i] * len(value))
            i = m.end()
            continue
        if ch == "\r":
            chars.append("\n")
            offsets.append(base + i)
            i += 2 if body.startswith("\r\n", i) else 1
            continue
        if fstring and ch in "{}" and body.startswith(ch * 2, i):
            chars.append(ch)
            offsets.append(base + i)
            i += 2
            continue
        chars.append(ch)
        offsets.append(base + i)
        i += 1
    return ("".join(chars), offsets)


def _escape_value(m: re.Match[str]) -> str | None:
    if m.group("newline") is not None:
        return ""  # a backslash at the end of a line continues the string
    if (simple := m.group("simple")) is not None:
        return _SIMPLE_ESCAPES[simple]
    if (octal := m.group("octal")) is not None:
        return chr(int(octal, 8))
    for group in ("hex", "u4", "u8"):
        if (digits := m.group(group)) is not None:
            code = int(digits, 16)
            return chr(code) if code <= 0x10FFFF else None
    try:
        return unicodedata.lookup(m.group("name"))
    except KeyError:
        return None


def decode_simple_string(node: cst.SimpleString, module: cst.Module) -> Decoded | None:
    """The value of a ``str`` literal with per-character code offsets; None for bytes."""
    prefix = node.prefix.lower()
    if "b" in prefix:
        return None
    quote = node.quote
    base = paren_length(node, module) + len(node.prefix) + len(quote)
    body = node.value[len(node.prefix) + len(quote) : len(node.value) - len(quote)]
    return decode_body(body, base, raw="r" in prefix)


def literal_text(node: cst.Integer | cst.Float | cst.Imaginary, module: cst.Module) -> Decoded:
    """A number literal as ``str()`` prints it, mapped onto its code.

    ``10`` prints as written; ``0x10``, ``1_000`` or ``1.50`` do not, and then every printed
    character maps to the start of the literal.
    """
    base = paren_length(node, module)
    printed = str(ast.literal_eval(node.value))
    if printed == node.value:
        return (printed, list(range(base, base + len(printed))))
    return (printed, [base] * len(printed))
