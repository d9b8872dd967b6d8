"""Our lean position computation agrees with libcst's PositionProvider on every node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from be_lint.positions import node_spans
from be_lint.walker import children

SYNTAX_TOUR = '''\
# -*- coding: utf-8 -*-
"""Docstring."""
from __future__ import annotations
import os, sys as system
from .pkg import (a, b as c)

@decorator(arg)
@other
class Thing(Base, metaclass=Meta):
    attr: int = 1

    @property
    async def method(self, x, /, y=2, *args, z: "str" = 'q', **kwargs) -> list[int]:
        async with ctx() as (p, q):
            async for item in aiter():
                yield item
        result = [i * 2 for i in range(10) if i % 2]
        mapping = {k: v for k, v in zip("ab", "cd")}
        return await other(*result, **mapping)

def f(a):
    global g
    match a:
        case {"k": [1, *rest]} | Point(x=0) if rest:
            pass
        case _:
            return (lambda q: q + 1)(a)
    try:
        x = a[1:2, ::3]
    except (ValueError, TypeError) as error:
        raise RuntimeError("x") from error
    else:
        del x
    finally:
        print(f"{a!r:>10} {a + 1=} {'nested' f'{a}'}")
    while (n := len(a)) > 3: a = a[1:]
    assert a, "msg"
    return not a if a else ~a ** -2

type Alias[T] = list[T]
def generic[T: int, *Ts, **P](x: T) -> T: return x
x = (  # comment
    1
    + 2
)
s = ("implicit"
     'concatenation')
'''


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children(node))
    return out


def _sources() -> list[tuple[str, str]]:
    here = Path(__file__).resolve().parents[1]
    files = sorted((here / "src" / "be_lint").rglob("*.py"))[:12]
    return [("tour", SYNTAX_TOUR), ("crlf", SYNTAX_TOUR.replace("\n", "\r\n"))] + [
        (path.name, path.read_text(encoding="utf-8")) for path in files
    ]


@pytest.mark.parametrize(("name", "text"), _sources(), ids=[n for n, _ in _sources()])
def test_spans_match_position_provider(name: str, text: str) -> None:
    module = cst.parse_module(text)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = _all_nodes(module)
    spans = node_spans(module, nodes, text)
    mismatches = []
    for node in nodes:
        want = expected[node]
        got = spans[node]
        pair = (got.line, got.column, got.end_line, got.end_column)
        if pair != (want.start.line, want.start.column, want.end.line, want.end.column):
            mismatches.append((type(node).__name__, pair, want))
    assert not mismatches, mismatches[:5]


def test_only_requested_nodes_are_returned() -> None:
    module = cst.parse_module("x = 1\ny = call(2)\n")
    call = module.body[1].body[0].value  # type: ignore[attr-defined]
    spans = node_spans(module, [call], module.code)
    assert list(spans) == [call]
    assert (spans[call].line, spans[call].column, spans[call].end_column) == (2, 4, 11)
