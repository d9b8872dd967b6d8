"""Find the calls of a marker function (``probe(x)``, ``sink(x)``) that tests put in code to
name the expressions they ask about."""

from __future__ import annotations

import libcst as cst


class MarkerCalls(cst.CSTVisitor):
    """Every ``<name>(expr)`` call, with the functions around it (outermost first)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stack: list[cst.CSTNode] = []
        self.found: list[tuple[list[cst.CSTNode], cst.BaseExpression]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == self.name:
            self.found.append((list(self.stack), node.args[0].value))
