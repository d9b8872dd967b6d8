"""BE205 order-by-random: picking random rows by sorting the whole table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import lowered

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

RATIONALE = """\
`ORDER BY random()` (`RAND()` in MySQL, `NEWID()` in SQL Server) gives every matching row a
random number and sorts them all, just to keep a few. The cost grows with the table, not with
the `LIMIT`: on a large table "pick 5 random rows" reads and sorts millions.

Reported: an `ORDER BY` on a random function in a query that reads a table. Random order over a
`VALUES` list or a small set function is not reported.
"""

HOW_TO_FIX = """\
Sample instead of sorting, when approximate randomness is enough:

```sql
SELECT id FROM products TABLESAMPLE SYSTEM (1) LIMIT 5;        -- Postgres
SELECT id FROM products TABLESAMPLE BERNOULLI (0.1) LIMIT 5;
```

or pick random keys (`WHERE id >= (SELECT floor(random() * max(id)) FROM products) ORDER BY id
LIMIT 1`), or choose in the application from a cached list of ids.
"""


class OrderByRandom(SqlRule):
    meta = RuleMeta(
        code="BE205",
        name="order-by-random",
        summary="ORDER BY random() sorts every matching row to pick a few",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=("https://www.postgresql.org/docs/current/sql-select.html#SQL-FROM",),
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        if "rand" not in low and "newid" not in low:
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def featured(cursor):
    cursor.execute("SELECT id FROM products ORDER BY random() LIMIT 5")  # expect: BE205
"""
        ),
        Example(
            """\
SELECT id, name FROM products WHERE active ORDER BY RAND() LIMIT 3;  -- expect: BE205
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def featured(cursor):
    cursor.execute("SELECT id FROM products TABLESAMPLE SYSTEM (1) LIMIT 5")
    cursor.execute("SELECT random() AS roll FROM products WHERE id = %s", (1,))
    cursor.execute("SELECT x FROM (VALUES (1), (2), (3)) AS v(x) ORDER BY random()")
"""
        ),
        Example(
            """\
SELECT id FROM products ORDER BY created_at DESC LIMIT 5;
""",
            filename="example.sql",
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        for select in tree.find_all(exp.Select):
            order = select.args.get("order")
            if not isinstance(order, exp.Order) or not _reads_table(select):
                continue
            for ordered in order.expressions:
                if _random(ordered.this if isinstance(ordered, exp.Ordered) else ordered):
                    self.report_sql(
                        stmt,
                        "`ORDER BY` a random value sorts every matching row to pick a few",
                        node=order,
                        help="sample with TABLESAMPLE, pick random keys, or choose in the "
                        "application",
                    )
                    break


def _random(node: exp.Expression) -> bool:
    if isinstance(node, exp.Rand):
        return True
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("newid", "random", "rand"):
        return True
    return isinstance(node, exp.Uuid) and node.sql().upper().startswith("NEWID")


def _reads_table(select: exp.Select) -> bool:
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if isinstance(from_, exp.From) else []
    sources.extend(j.this for j in select.args.get("joins") or ())
    return any(isinstance(s, exp.Table) and isinstance(s.this, exp.Identifier) for s in sources)
