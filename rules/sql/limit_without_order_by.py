"""BE209 limit-without-order-by: which rows come back is up to the planner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from be_lint.migrations import in_migration
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import hole_may_hide_clause, lowered

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

RATIONALE = """\
Without `ORDER BY`, SQL returns rows in no defined order: whatever the plan produces today. The
same `LIMIT 20` query can return different rows after a `VACUUM`, an index change, a parallel
plan or an upgrade; pages of `LIMIT ... OFFSET ...` overlap and skip rows; "the latest 10" is not
the latest.

Reported: the result query of a statement with `LIMIT`/`FETCH` (other than `LIMIT 0` or
`LIMIT 1`) or with `OFFSET`, and no `ORDER BY`. Not reported: subqueries and CTEs (batching
idioms such as `DELETE ... WHERE id IN (SELECT id ... LIMIT 1000)` do not care which rows come
first), queue polling with `FOR UPDATE SKIP LOCKED`, single-row aggregates, migrations, and
queries where a runtime value may carry the `ORDER BY`.
"""

HOW_TO_FIX = """\
Order by a unique key (add the primary key as a tie-breaker):

```sql
SELECT id, title FROM posts ORDER BY created_at DESC, id DESC LIMIT 20;
```
"""


class LimitWithoutOrderBy(SqlRule):
    meta = RuleMeta(
        code="BE209",
        name="limit-without-order-by",
        summary="LIMIT/OFFSET without ORDER BY returns arbitrary rows",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=("https://www.postgresql.org/docs/current/queries-limit.html",),
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        if "limit" not in low and "offset" not in low and "fetch" not in low:
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def latest(cursor, page):
    cursor.execute("SELECT id, title FROM posts LIMIT 20")  # expect: BE209
    cursor.execute("SELECT id FROM posts LIMIT %s OFFSET %s", (20, page * 20))  # expect: BE209
"""
        ),
        Example(
            """\
SELECT id FROM posts WHERE author_id = :author LIMIT 10;  -- expect: BE209
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def latest(cursor, order_clause):
    cursor.execute("SELECT id, title FROM posts ORDER BY created_at DESC, id DESC LIMIT 20")
    cursor.execute("SELECT 1 FROM posts WHERE slug = %s LIMIT 1", ("x",))
    cursor.execute("SELECT id FROM jobs WHERE state = 'ready' LIMIT 10 FOR UPDATE SKIP LOCKED")
    cursor.execute("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE old LIMIT 1000)")
    cursor.execute("SELECT count(*) FROM posts LIMIT 5")
    cursor.execute(f"SELECT id FROM posts {order_clause} LIMIT 20")
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None or in_migration(self.ctx):
            return
        for select in _result_selects(tree):
            if select.args.get("order") is not None:
                continue
            limit = select.args.get("limit")
            offset = select.args.get("offset")
            if offset is None and (limit is None or _at_most_one(limit)):
                continue
            if (
                select.args.get("locks")
                or _single_row(select)
                or hole_may_hide_clause(stmt, select)
            ):
                continue
            clause = "OFFSET" if offset is not None else "LIMIT"
            self.report_sql(
                stmt,
                f"`{clause}` without `ORDER BY`: which rows come back is up to the query plan",
                node=offset if offset is not None else limit,
                help="add ORDER BY on a unique key (or a tie-breaker such as the primary key)",
            )


def _result_selects(tree: exp.Expression) -> list[exp.Select]:
    if isinstance(tree, exp.Select):
        return [tree]
    if isinstance(tree, exp.Subquery):
        return _result_selects(tree.this)
    return []


def _at_most_one(limit: exp.Expression) -> bool:
    value = limit.args.get("expression") if isinstance(limit, exp.Limit | exp.Fetch) else None
    if isinstance(limit, exp.Fetch) and value is None:
        value = limit.args.get("count")
    if isinstance(value, exp.Literal) and not value.is_string:
        try:
            return int(value.this) <= 1
        except ValueError:
            return False
    return False


def _single_row(select: exp.Select) -> bool:
    """An aggregate without GROUP BY returns one row whatever the order."""
    if select.args.get("group"):
        return False
    expressions = [e.this if isinstance(e, exp.Alias) else e for e in select.expressions]
    return bool(expressions) and all(isinstance(e, exp.AggFunc) for e in expressions)
