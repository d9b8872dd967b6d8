"""A light import resolver: which module a local name stands for.

libcst's ``QualifiedNameProvider`` computes full scopes for every file and costs ten times the
parse (see DESIGN.md). Rules mostly ask one question -- "is this call ``requests.get``?" -- and
imports answer it. So this pass only reads import statements (anywhere in the file, including
inside functions and ``try`` blocks) and builds ``local name -> qualified names``.

A name imported differently in two places (``try: import simplejson as json`` / ``except
ImportError: import json``) maps to both candidates; callers test membership.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence

import libcst as cst

_BUILTINS = frozenset(dir(builtins))


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of Names and Attributes; None for anything else."""
    parts: list[str] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Attribute):
        parts.append(current.attr.value)
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    parts.append(current.value)
    return ".".join(reversed(parts))


def dotted_last(node: cst.BaseExpression) -> str | None:
    """The last part of ``dotted_name(node)`` (``get`` for ``requests.get``); None when
    ``node`` is not a chain of Names and Attributes (``make().get``: see ``callee_last``)."""
    name = dotted_name(node)
    return name.rsplit(".", 1)[-1] if name else None


def callee_last(func: cst.BaseExpression) -> str | None:
    """The last name of a callee: ``get`` for ``requests.get`` and for ``make().get``, ``f``
    for ``f``; None for other callees (``handlers[0]``, ``f()``). The cheap test rules make
    before resolving qualified names."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _module_name(node: cst.Attribute | cst.Name) -> str:
    name = dotted_name(node)
    assert name is not None  # import targets are always dotted names
    return name


class ImportMap:
    """Maps local names bound by imports to fully qualified names."""

    def __init__(self, module: cst.Module, package: str | None = None) -> None:
        self.package = package
        self._bindings: dict[str, set[str]] = {}
        self._defined: set[str] = set()
        self._collect(module.body)

    def _bind(self, local: str, qualified: str) -> None:
        self._bindings.setdefault(local, set()).add(qualified)

    def _resolve_relative(self, level: int, module: str | None) -> str:
        if self.package is None:
            base = ""
        else:
            parts = self.package.split(".")
            base = ".".join(parts[: len(parts) - (level - 1)]) if level - 1 < len(parts) else ""
        if module:
            return f"{base}.{module}" if base else module
        return base

    def _collect(self, statements: Iterable[cst.CSTNode]) -> None:
        # An explicit work list instead of recursion: deeply nested code must not blow the stack.
        stack: list[cst.CSTNode] = list(statements)[::-1]
        top_level = {id(s) for s in stack}
        while stack:
            node = stack.pop()
            if isinstance(node, cst.SimpleStatementLine):
                for small in node.body:
                    if isinstance(small, cst.Import):
                        self._import(small)
                    elif isinstance(small, cst.ImportFrom):
                        self._import_from(small)
                    elif id(node) in top_level and isinstance(small, cst.Assign | cst.AnnAssign):
                        targets = (
                            [t.target for t in small.targets]
                            if isinstance(small, cst.Assign)
                            else [small.target]
                        )
                        for target in targets:
                            if isinstance(target, cst.Name):
                                self._defined.add(target.value)
            elif isinstance(node, cst.FunctionDef | cst.ClassDef):
                if id(node) in top_level:
                    self._defined.add(node.name.value)
                stack.extend(reversed(list(block_statements(node))))
            elif isinstance(node, cst.BaseCompoundStatement):
                stack.extend(reversed(list(block_statements(node))))

    def _import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = _module_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, full)
            else:
                # ``import a.b.c`` binds ``a``, which stands for the package ``a``.
                root = full.split(".", 1)[0]
                self._bind(root, root)

    def _import_from(self, node: cst.ImportFrom) -> None:
        module = _module_name(node.module) if node.module is not None else None
        level = len(node.relative)
        if level:
            module = self._resolve_relative(level, module)
        if isinstance(node.names, cst.ImportStar) or not module:
            return
        for alias in node.names:
            imported = _module_name(alias.name)
            local = imported
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._bind(local, f"{module}.{imported}")

    def resolve(self, node: cst.BaseExpression) -> frozenset[str]:
        """All qualified names ``node`` may stand for; empty if its root is not an import.

        Unshadowed builtins resolve to ``builtins.<name>``.
        """
        name = dotted_name(node)
        if name is None:
            return frozenset()
        return self.resolve_dotted(name)

    def resolve_dotted(self, name: str) -> frozenset[str]:
        root, _, rest = name.partition(".")
        targets = self._bindings.get(root)
        if targets is None:
            if root in _BUILTINS and root not in self._defined:
                return frozenset({f"builtins.{name}"})
            return frozenset()
        if not rest:
            return frozenset(targets)
        return frozenset(f"{target}.{rest}" for target in targets)

    def imports_module(self, prefix: str) -> bool:
        """True when any import binds ``prefix`` or something under it."""
        dotted = prefix + "."
        return any(
            t == prefix or t.startswith(dotted) for ts in self._bindings.values() for t in ts
        )


def block_statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The statements directly inside a compound statement (body, else, except, finally).

    An ``elif`` comes back as the nested ``If`` itself.
    """
    body = getattr(node, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield from suite_statements(body)
    for attr in ("handlers", "cases"):
        for handler in getattr(node, attr, ()) or ():
            yield from block_statements(handler)
    for attr in ("orelse", "finalbody"):
        other = getattr(node, attr, None)
        if isinstance(other, cst.If):
            yield other
        elif other is not None and isinstance(getattr(other, "body", None), cst.BaseSuite):
            yield from suite_statements(other.body)


def suite_statements(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of a block; ``if x: a; b`` on one line reads as one statement line."""
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    if isinstance(suite, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=suite.body)]
    return ()
