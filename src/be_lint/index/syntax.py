"""Small helpers over stdlib ``ast`` trees, shared by the index's fact collectors (models,
routes, tasks), which import each other and so cannot hold them themselves."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of Names and Attributes; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def flat_statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a block, including those inside ``if``/``try``/``with`` blocks (not
    inside ``def`` or ``class``)."""
    stack = list(body)[::-1]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If | ast.With | ast.AsyncWith):
            stack.extend(reversed([*node.body, *getattr(node, "orelse", [])]))
        elif isinstance(node, ast.Try):
            blocks = [*node.body, *node.orelse, *node.finalbody]
            for handler in node.handlers:
                blocks.extend(handler.body)
            stack.extend(reversed(blocks))
