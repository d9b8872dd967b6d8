"""The base class of the BE4xx rules: each reports the events of its code that the shared
per-file analysis (``querysets.analysis``) found, at the node where the walk meets them."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.index.querysets import Event, analysis, is_migration_path, is_test_path
from be_lint.rule import FileKind, PythonRule, option
from be_lint.walker import STOP_VISITING


@dataclass(frozen=True)
class OrmOptions:
    include_tests: bool = option(
        False,
        "Also check test code (`tests/`, `test_*.py`, `*_tests.py`, `conftest.py`), where loops "
        "usually build fixtures rather than serve requests.",
    )
    include_migrations: bool = option(
        False,
        "Also check migrations (`migrations/*.py`, Alembic `versions/*.py`), which run once.",
    )


class OrmRule(PythonRule):
    """Shared plumbing of the ORM rules; subclasses only declare metadata and examples."""

    options_class = OrmOptions
    options: OrmOptions
    _events: dict[int, Event]

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        raise NotImplementedError

    @classmethod
    def skips_path(cls, path: str, options: OrmOptions) -> bool:
        return (not options.include_tests and is_test_path(path)) or (
            not options.include_migrations and is_migration_path(path)
        )

    def visit_Module(self, node: cst.Module) -> object:
        if self.skips_path(self.ctx.path, self.options):
            self._events = {}
        else:
            self._events = analysis(self.ctx).for_code(self.meta.code)
        # Most files have no event: skip the per-name callbacks of the walk altogether.
        return None if self._events else STOP_VISITING

    def _report_event(self, node: cst.CSTNode) -> None:
        if not self._events:
            return
        event = self._events.pop(id(node), None)
        if event is not None:
            self.report(node, event.message, help=event.help)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._report_event(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._report_event(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._report_event(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._report_event(node)
