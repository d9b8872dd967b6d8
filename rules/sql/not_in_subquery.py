"""BE207 not-in-subquery: NOT IN (SELECT ...) and its NULL trap."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import lowered

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

_SHAPE = re.compile(r"in\s*\(\s*select")

RATIONALE = """\
`x NOT IN (SELECT y FROM t)` returns no rows at all as soon as one `y` is `NULL`: `x <> NULL` is
unknown, so no row passes. The query works in tests and silently returns nothing in production
the day a `NULL` appears. Postgres also cannot turn `NOT IN (subquery)` into an anti-join: unless
the whole subquery result fits in memory it re-scans it for every outer row.

`NOT EXISTS` has neither problem. Not reported: subqueries that filter out `NULL`s of the
selected column (`WHERE y IS NOT NULL`) or select something that cannot be `NULL` (`count(*)`,
a literal, `coalesce(...)`).
"""

HOW_TO_FIX = """\
```sql
SELECT id FROM users u
WHERE NOT EXISTS (SELECT 1 FROM banned b WHERE b.user_id = u.id);
```
"""


class NotInSubquery(SqlRule):
    meta = RuleMeta(
        code="BE207",
        name="not-in-subquery",
        summary="NOT IN (subquery) returns nothing when the subquery yields a NULL",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=("https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_NOT_IN",),
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        if "not" not in low or "select" not in low or not _SHAPE.search(low):
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def active(cursor):
    cursor.execute(
        "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM banned)"  # expect: BE207
    )
"""
        ),
        Example(
            """\
DELETE FROM carts WHERE NOT owner_id IN (SELECT id FROM users WHERE active);  -- expect: BE207
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def active(cursor):
    cursor.execute(
        "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM banned b WHERE b.user_id = u.id)"
    )
    cursor.execute(
        "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM banned WHERE user_id IS NOT NULL)"
    )
    cursor.execute("SELECT id FROM users WHERE id NOT IN (1, 2, 3)")
    cursor.execute("SELECT id FROM users WHERE id IN (SELECT user_id FROM banned)")
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        for node in tree.find_all(exp.Not):
            inner = node.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
            if not isinstance(inner, exp.In):
                continue
            query = inner.args.get("query")
            select = query.this if isinstance(query, exp.Subquery) else query
            if not isinstance(select, exp.Select) or _null_free(select):
                continue
            self.report_sql(
                stmt,
                "`NOT IN (SELECT ...)` matches nothing if the subquery returns a NULL, and "
                "cannot run as an anti-join",
                node=inner,
                help="use NOT EXISTS (SELECT 1 FROM ... WHERE ...)",
            )


def _null_free(select: exp.Select) -> bool:
    if len(select.expressions) != 1:
        return False
    selected = select.expressions[0]
    if isinstance(selected, exp.Alias):
        selected = selected.this
    if isinstance(selected, exp.Literal | exp.Count | exp.Coalesce):
        return True
    if not isinstance(selected, exp.Column):
        return False
    where = select.args.get("where")
    if not isinstance(where, exp.Where):
        return False
    for test in where.find_all(exp.Not, exp.Is):
        target = test.this
        if isinstance(test, exp.Not) and isinstance(target, exp.Is):
            target = target.this
        elif isinstance(test, exp.Is) and not test.args.get("negate"):
            continue
        if isinstance(target, exp.Column) and target.name.lower() == selected.name.lower():
            return True
    return False
