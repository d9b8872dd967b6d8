"""BE804 print-in-application-code: ``print()`` used for diagnostics in a service module."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

if TYPE_CHECKING:
    from be_lint.context import FileContext

RATIONALE = """\
In a service, `print()` writes to standard output with no level, no timestamp, no logger name
and no request context. It cannot be silenced or raised per module, it bypasses the log
formatting and shipping that the rest of the service uses (JSON logs, correlation ids), and
under gunicorn or uWSGI its buffering can make output appear late, interleaved or not at all.
Debugging prints left behind also tend to dump whole objects, secrets included.

The rule is opt-in and skips code where printing is the point: tests (`test_*.py`,
`*_test.py`, `conftest.py`, `tests/` folders), scripts and tools (`scripts/`, `bin/`, `tools/`,
`examples/`, `docs/`), code run from the command line (`__main__.py`, `manage.py`, `setup.py`,
`cli.py`, `management/` and `migrations/` folders), modules built on a command-line library
(`argparse`, `click`, `typer`, `fire`), `if __name__ == "__main__":` blocks, functions named
`main`, and `print(..., file=...)` to anything but standard output or error.
"""

HOW_TO_FIX = """\
Use a module logger: `logger = logging.getLogger(__name__)` once, then `logger.info("...",
value)` (or the structlog/loguru equivalent). Remove prints that were only for debugging.
"""

_SKIPPED_PATH = re.compile(
    r"(?:^|/)(?:tests?|testing|scripts?|bin|tools|examples?|docs|benchmarks?|management|migrations)/"
    r"|(?:^|/)(?:test_[^/]*|[^/]*_test|conftest|__main__|manage|setup|noxfile|fabfile|tasks|cli)\.py$"
)
_CLI_MODULES = ("argparse", "click", "typer", "fire", "docopt")
_STD_STREAMS = frozenset({"sys.stdout", "sys.stderr"})


class PrintInApplicationCode(PythonRule):
    meta = RuleMeta(
        code="BE804",
        name="print-in-application-code",
        summary="`print()` in application code instead of logging",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        enabled_by_default=False,
        references=("https://docs.python.org/3/howto/logging.html#when-to-use-logging",),
    )
    triggers = ("print",)
    bad = (
        Example(
            """\
import sys


def charge(order):
    print("charging", order.id, order.total)  # expect: BE804
    result = gateway.charge(order)
    print(f"result: {result}", file=sys.stderr)  # expect: BE804
    return result
""",
            filename="app/payments.py",
        ),
    )
    good = (
        Example(
            """\
import logging

logger = logging.getLogger(__name__)


def charge(order):
    logger.info("charging order %s", order.id)


def main():
    print("done")


if __name__ == "__main__":
    print("starting")
""",
            filename="app/payments.py",
        ),
        Example(
            """\
def test_charge():
    print("debug output is fine in tests")
""",
            filename="tests/test_payments.py",
        ),
        Example(
            """\
import argparse


def run():
    parser = argparse.ArgumentParser()
    print(parser.parse_args())
""",
            filename="app/report.py",
        ),
        Example(
            """\
def export(rows, handle):
    for row in rows:
        print(*row, sep=",", file=handle)
""",
            filename="app/export.py",
        ),
    )

    def __init__(self, ctx: FileContext, options: Any) -> None:
        super().__init__(ctx, options)
        self._skip_file = bool(_SKIPPED_PATH.search(self.ctx.path.replace("\\", "/"))) or (
            self.ctx.imports is not None
            and any(self.ctx.imports.imports_module(m) for m in _CLI_MODULES)
        )

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip_file:
            return
        func = node.func
        if not isinstance(func, cst.Name) or func.value != "print":
            return
        if not self.ctx.matches(func, {"builtins.print"}):
            return
        target = keyword_arg(node, "file")
        if target is not None and not self.ctx.matches(target.value, _STD_STREAMS):
            return
        if self._in_entry_point():
            return
        self.report(
            node,
            "`print()` in application code bypasses logging: no level, no context, and no "
            "way to turn it off",
            help="use a module logger: logging.getLogger(__name__).info(...)",
        )

    def _in_entry_point(self) -> bool:
        for ancestor in self.ctx.ancestors:
            if isinstance(ancestor, cst.If) and _is_main_check(ancestor.test):
                return True
            if isinstance(ancestor, cst.FunctionDef) and ancestor.name.value in ("main", "cli"):
                return True
        return False


def _is_main_check(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left = test.left
    right = test.comparisons[0].comparator
    names = {getattr(left, "value", None), getattr(right, "value", None)}
    return "__name__" in names and any(
        isinstance(side, cst.SimpleString) and "__main__" in side.value for side in (left, right)
    )
