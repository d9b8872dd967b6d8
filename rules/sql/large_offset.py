"""BE208 large-offset: OFFSET pagination deep into a result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule, option
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import lowered

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

RATIONALE = """\
`OFFSET n` does not skip rows: the database produces the first `n` rows of the result and throws
them away. Page 1,000 of 50 rows reads 50,000 rows to return 50, and every page is slower than
the last; rows inserted or deleted between requests also shift the pages, so users see
duplicates or miss rows.

Reported: an `OFFSET` (or MySQL's `LIMIT offset, count`) written as a constant larger than the
`max-offset` option. Offsets passed as parameters are not visible to the rule.
"""

HOW_TO_FIX = """\
Paginate by key ("seek" or keyset pagination): remember the last key of the page and continue
after it, using the index that serves the `ORDER BY`.

```sql
SELECT id, title FROM posts
WHERE (created_at, id) < (%(last_created_at)s, %(last_id)s)
ORDER BY created_at DESC, id DESC
LIMIT 50;
```
"""


@dataclass(frozen=True)
class Options:
    max_offset: int = option(1000, "The largest constant OFFSET that is not reported.")


class LargeOffset(SqlRule):
    meta = RuleMeta(
        code="BE208",
        name="large-offset",
        summary="Large OFFSET reads and discards every skipped row",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=("https://www.postgresql.org/docs/current/queries-limit.html",),
    )
    options_class = Options

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        if "offset" not in low and "limit" not in low:
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def archive_page(cursor):
    cursor.execute("SELECT id FROM posts ORDER BY id LIMIT 50 OFFSET 100000")  # expect: BE208
"""
        ),
        Example(
            """\
SELECT id FROM posts ORDER BY id LIMIT 50 OFFSET 5000;  -- expect: BE208
""",
            filename="example.sql",
        ),
        Example(
            """\
SELECT id FROM posts ORDER BY id LIMIT 50 OFFSET 500;  -- expect: BE208
""",
            filename="example.sql",
            options={"max-offset": 100},
        ),
    )
    good = (
        Example(
            """\
def page(cursor, offset):
    cursor.execute("SELECT id FROM posts ORDER BY id LIMIT 50 OFFSET %s", (offset,))
    cursor.execute("SELECT id FROM posts ORDER BY id LIMIT 50 OFFSET 100")
    cursor.execute("SELECT id FROM posts WHERE id > %s ORDER BY id LIMIT 50", (offset,))
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        limit = int(self.options.max_offset)
        for offset in tree.find_all(exp.Offset):
            value = offset.expression
            if not (isinstance(value, exp.Literal) and not value.is_string):
                continue
            try:
                count = int(value.this)
            except ValueError:
                continue
            if count <= limit:
                continue
            self.report_sql(
                stmt,
                f"`OFFSET {count}` makes the database read and discard {count:,} rows for every "
                "page",
                node=value,
                help="paginate by key: WHERE key > last_seen ORDER BY key LIMIT n",
            )
