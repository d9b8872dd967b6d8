"""BE210 non-sargable-predicate: a date function wrapped around a filtered column."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.extract import HOLE_NAME
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import lowered

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

#: Every function the rule knows contains one of these (a cheap prefilter).
_WORDS = ("date", "year", "month", "day", "extract", "trunc", "cast", "char")


@functools.cache
def _comparisons() -> tuple[type[exp.Expr], ...]:
    return (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


@functools.cache
def _date_functions() -> tuple[type[exp.Expr], ...]:
    return (
        exp.Date,
        exp.Year,
        exp.Month,
        exp.Day,
        exp.Extract,
        exp.TimestampTrunc,
        exp.DateTrunc,
    )


RATIONALE = """\
An index on `created_at` is ordered by `created_at`, not by `date(created_at)` or
`EXTRACT(YEAR FROM created_at)`. Wrap the column in a function in `WHERE` and the planner can no
longer use the index to find the matching range: it reads every row and computes the function
for each one.

Date and time functions are the common case and always have an equivalent range condition, so
the rule reports those: `date(col)`, `col::date`, `CAST(col AS DATE)`, `EXTRACT(... FROM col)`,
`YEAR(col)`/`MONTH(col)`/`DAY(col)` and `date_trunc('...', col)` compared with a value. Other
functions (`lower(email) = ...`) are left alone: they are usually served by an expression index.
"""

HOW_TO_FIX = """\
Compare the bare column with a range:

```sql
-- instead of WHERE date(created_at) = %(day)s
WHERE created_at >= %(day)s AND created_at < %(day)s + interval '1 day'
-- instead of WHERE EXTRACT(YEAR FROM created_at) = 2024
WHERE created_at >= '2024-01-01' AND created_at < '2025-01-01'
```

Or, when the expression really is the lookup key, create an index on it
(`CREATE INDEX ... ON orders ((created_at::date))`) and suppress the finding with a reason.
"""


class NonSargablePredicate(SqlRule):
    meta = RuleMeta(
        code="BE210",
        name="non-sargable-predicate",
        summary="Date function around a column in WHERE prevents index use",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=("https://use-the-index-luke.com/sql/where-clause/obfuscation/dates",),
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        if "where" not in low or not any(word in low for word in _WORDS):
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def orders_on(cursor, day):
    cursor.execute("SELECT id FROM orders WHERE date(created_at) = %s", (day,))  # expect: BE210
    cursor.execute("SELECT id FROM orders WHERE created_at::date >= CURRENT_DATE")  # expect: BE210
"""
        ),
        Example(
            """\
SELECT count(*) FROM orders WHERE EXTRACT(YEAR FROM placed_at) = 2024;  -- expect: BE210
SELECT id FROM orders WHERE date_trunc('month', placed_at) = :month;  -- expect: BE210
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def orders_on(cursor, day):
    cursor.execute(
        "SELECT id FROM orders WHERE created_at >= %s AND created_at < %s + interval '1 day'",
        (day, day),
    )
    cursor.execute("SELECT date(created_at), count(*) FROM orders GROUP BY 1")
    cursor.execute("SELECT id FROM users WHERE lower(email) = lower(%s)", ("a@b.c",))
    cursor.execute("SELECT id FROM orders WHERE date(created_at) = date(shipped_at)")
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        for where in tree.find_all(exp.Where):
            for comparison in where.find_all(*_comparisons(), exp.Between, exp.In):
                if comparison.find_ancestor(exp.Where) is not where:
                    continue
                for side, other in _sides(comparison):
                    if _wrapped_column(side) and not list(_columns(other)):
                        self.report_sql(
                            stmt,
                            f"`{side.sql(dialect=stmt.dialect)}` wraps the column in a "
                            "function: an index on the column cannot serve this filter",
                            node=side,
                            help="compare the bare column with a range (col >= start AND "
                            "col < end)",
                        )


def _sides(node: exp.Expr) -> list[tuple[exp.Expr, list[exp.Expr]]]:
    if isinstance(node, exp.Between):
        low, high = node.args.get("low"), node.args.get("high")
        return [(node.this, [e for e in (low, high) if isinstance(e, exp.Expr)])]
    if isinstance(node, exp.In):
        if node.args.get("query") is not None:
            return []
        return [(node.this, list(node.expressions))]
    return [(node.this, [node.expression]), (node.expression, [node.this])]


def _columns(nodes: list[exp.Expr]) -> list[exp.Column]:
    """Real columns (placeholders and runtime values parse as columns named like holes)."""
    return [c for n in nodes for c in n.find_all(exp.Column) if not HOLE_NAME.fullmatch(c.name)]


def _wrapped_column(node: exp.Expr) -> bool:
    if isinstance(node, exp.Cast):
        to = node.args.get("to")
        dated = isinstance(to, exp.DataType) and to.this in (exp.DataType.Type.DATE,)
        return dated and isinstance(node.this, exp.Column)
    if isinstance(node, exp.Extract):
        return isinstance(node.expression, exp.Column)
    if isinstance(node, _date_functions()):
        return isinstance(node.this, exp.Column)
    return False
