"""What a rule sees of the file it checks: the tree, names, ancestors, SQL, and ``report``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from be_lint.names import ImportMap, dotted_name
from be_lint.rule import FileKind, FixSafety, Rule, Severity

if TYPE_CHECKING:
    from be_lint.dataflow import Dataflow
    from be_lint.index import ProjectIndex
    from be_lint.sql.model import SqlSource, SqlStatement


@dataclass(slots=True)
class PendingFinding:
    """A report before positions are known (positions are computed only for files with findings).

    Exactly one of ``node`` (Python) or ``offset`` (a ``.sql`` file's text) locates it; for SQL
    found in Python, ``node`` is the string part and ``node_offset`` indexes its code.
    """

    rule: type[Rule]
    message: str
    help: str | None
    severity: Severity | None
    node: cst.CSTNode | None = None
    node_offset: int = 0
    end_node_offset: int | None = None
    statement: cst.CSTNode | None = None
    offset: int | None = None
    end_offset: int | None = None
    replacement: cst.CSTNode | None = None
    #: The node ``replacement`` replaces, when it is not ``node``.
    fix_node: cst.CSTNode | None = None
    fix_safety: FixSafety = FixSafety.SAFE
    fix_description: str = ""


class FileContext:
    """Per-file state shared by every rule during one traversal."""

    def __init__(
        self,
        *,
        path: str,
        kind: FileKind,
        text: str,
        module: cst.Module | None,
        dialect: str,
        package: str | None = None,
        project: ProjectIndex | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.text = text
        self.module = module
        self.dialect = dialect
        self.package = package
        self.imports = ImportMap(module, package) if module is not None else None
        #: Nodes enclosing the node being visited, outermost first (maintained by the walker).
        self.ancestors: list[cst.CSTNode] = []
        self.pending: list[PendingFinding] = []
        #: The database call whose SQL the SQL rules are being given (None in ``.sql`` files).
        self.sql_call: cst.Call | None = None
        self._sql_sources: dict[int, SqlSource | None] = {}
        self._statements: dict[int, list[SqlStatement]] = {}
        self._dataflow: Dataflow | None = None
        self._names: dict[int, tuple[cst.BaseExpression, frozenset[str]]] = {}
        #: Per-file results of shared helpers (keys namespaced by the helper), so rules that
        #: ask the same question about a node compute the answer once.
        self.memo: dict[object, object] = {}
        self._project = project
        #: Whether a rule read the project index (results that did depend on the whole
        #: project, so the cache keys them by the index too).
        self.project_used = False

    def release(self) -> None:
        """Drop the per-file caches once the file is done. Analyses kept in them refer back
        to this context; breaking those cycles lets the syntax tree be freed at once instead
        of waiting for the cyclic garbage collector to walk all of it."""
        self.memo.clear()
        self._names.clear()
        if self._dataflow is not None:
            self._dataflow.release()
            self._dataflow = None
        self._sql_sources.clear()
        self._statements.clear()

    @property
    def project(self) -> ProjectIndex | None:
        """Facts that cross files (ORM models). A run without an index (stdin, a single text
        checked through the API) gets the index of this file alone, built on first use."""
        self.project_used = True
        if self._project is None and self.kind is FileKind.PYTHON:
            from be_lint.index import index_text

            package = self.imports.package if self.imports is not None else None
            self._project = index_text(self.text, self.path, package)
        return self._project

    # -- names -----------------------------------------------------------------------------

    def qualified_names(self, node: cst.BaseExpression) -> frozenset[str]:
        """Every fully qualified name ``node`` may stand for (empty when unknown)."""
        if self.imports is None:
            return frozenset()
        # Many rules ask about the same callee. The node is kept with its answer, so its id
        # cannot be reused by another node (say, one a rule builds on the fly) meanwhile.
        cached = self._names.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        names = self.imports.resolve(node)
        self._names[id(node)] = (node, names)
        return names

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The single qualified name of ``node``, or None when unknown or ambiguous."""
        names = self.qualified_names(node)
        return next(iter(names)) if len(names) == 1 else None

    def matches(self, node: cst.BaseExpression, names: frozenset[str] | set[str]) -> bool:
        return not self.qualified_names(node).isdisjoint(names)

    @staticmethod
    def dotted_name(node: cst.BaseExpression) -> str | None:
        return dotted_name(node)

    # -- tree ------------------------------------------------------------------------------

    @property
    def parent(self) -> cst.CSTNode | None:
        """The parent of the node being visited."""
        return self.ancestors[-1] if self.ancestors else None

    def enclosing(self, *types: type[cst.CSTNode]) -> cst.CSTNode | None:
        """The innermost ancestor of one of ``types``."""
        for node in reversed(self.ancestors):
            if isinstance(node, types):
                return node
        return None

    def _statement(self) -> cst.CSTNode | None:
        for node in reversed(self.ancestors):
            if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                return node
        return None

    # -- values ----------------------------------------------------------------------------

    @property
    def dataflow(self) -> Dataflow:
        """Value tracking (``be_lint.dataflow``), ready for the function being visited.

        Computed per function on first use; only valid on Python files.
        """
        if self._dataflow is None:
            from be_lint.dataflow import Dataflow

            assert self.module is not None, "dataflow is only available for Python files"
            self._dataflow = Dataflow(self.module, self.imports, self.package, self.text)
        self._dataflow.enter(self.ancestors)
        return self._dataflow

    def value_of(self, name: cst.Name) -> cst.BaseExpression | None:
        """The one expression ``name`` holds where it is read, or None (see ``Dataflow``)."""
        if self.module is None:
            return None
        return self.dataflow.value_of(name)

    # -- SQL -------------------------------------------------------------------------------

    def sql_source(self, expr: cst.BaseExpression) -> SqlSource | None:
        """The SQL text ``expr`` builds, with holes for runtime values (None if not a string).

        Names are followed to the one value they hold (``sql = "..."; cursor.execute(sql)``).
        """
        key = id(expr)
        if key not in self._sql_sources:
            from be_lint.sql.extract import extract_sql

            self._sql_sources[key] = extract_sql(expr, self, resolver=self.value_of)
        return self._sql_sources[key]

    def sql_statements(self, source: SqlSource) -> Sequence[SqlStatement]:
        key = id(source)
        if key not in self._statements:
            from be_lint.sql.parse import parse_statements

            self._statements[key] = parse_statements(source, self.dialect)
        return self._statements[key]

    # -- reporting -------------------------------------------------------------------------

    def report_node(
        self,
        rule: Rule,
        node: cst.CSTNode,
        message: str,
        *,
        help: str | None = None,
        replacement: cst.CSTNode | cst.RemovalSentinel | None = None,
        fix_safety: FixSafety = FixSafety.SAFE,
        fix_description: str = "",
        severity: Severity | None = None,
        fix_node: cst.CSTNode | None = None,
    ) -> None:
        self.pending.append(
            PendingFinding(
                rule=type(rule),
                message=message,
                help=help,
                severity=severity,
                node=node,
                statement=self._statement(),
                replacement=replacement if isinstance(replacement, cst.CSTNode) else None,
                fix_node=fix_node,
                fix_safety=fix_safety,
                fix_description=fix_description,
            )
        )

    def report_sql(
        self,
        rule: Rule,
        stmt: SqlStatement,
        message: str,
        *,
        node: object | None = None,
        help: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        from be_lint.sql.parse import node_span

        start, end = node_span(stmt, node)
        target, within = stmt.source.locate(start)
        end_target, end_within = stmt.source.locate(max(start, end - 1))
        pending = PendingFinding(rule=type(rule), message=message, help=help, severity=severity)
        if target is None:
            pending.offset = within
            pending.end_offset = end_within + 1 if end_target is None else within + 1
        else:
            pending.node = target
            pending.node_offset = within
            if end_target is target:
                pending.end_node_offset = end_within + 1
            pending.statement = self._statement()
        self.pending.append(pending)
