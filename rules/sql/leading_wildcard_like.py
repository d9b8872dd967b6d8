"""BE204 leading-wildcard-like: LIKE/ILIKE patterns that start with a wildcard."""

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
A B-tree index can find `name LIKE 'abc%'` by its prefix, but a pattern that starts with `%` or
`_` (`'%abc'`, `'%' || :term || '%'`) has no prefix to look up: Postgres reads every row of the
table and tests each one. That is fine on a small table and a slow sequential scan on a large
one, growing with the table.

Reported: `LIKE`/`ILIKE` (and `NOT LIKE`) whose pattern is a string literal, or a concatenation
starting with one, that begins with a wildcard, compared against a column. Patterns passed as
parameters are not visible and not reported.
"""

HOW_TO_FIX = """\
Match on a prefix when that is what the feature needs (`LIKE 'abc%'`), or index for substring
search: a trigram index serves `LIKE`/`ILIKE '%abc%'` in Postgres --

```sql
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX CONCURRENTLY users_name_trgm ON users USING gin (name gin_trgm_ops);
```

-- or use full-text search (`to_tsvector(...) @@ plainto_tsquery(...)`). With such an index in
place, suppress the finding with a reason.
"""


class LeadingWildcardLike(SqlRule):
    meta = RuleMeta(
        code="BE204",
        name="leading-wildcard-like",
        summary="LIKE pattern starting with a wildcard cannot use a B-tree index",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=("https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX",),
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        if "like" not in lowered(text):
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def search(cursor, term):
    cursor.execute("SELECT id FROM users WHERE name ILIKE '%' || %s || '%'", (term,))  # expect: BE204
    cursor.execute("SELECT id FROM users WHERE email LIKE '%@example.com'")  # expect: BE204
"""
        ),
        Example(
            """\
SELECT id FROM products WHERE sku NOT LIKE '_X%';  -- expect: BE204
SELECT id FROM products WHERE title LIKE concat('%', :term, '%');  -- expect: BE204
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def search(cursor, term):
    cursor.execute("SELECT id FROM users WHERE name LIKE %s || '%%'", (term,))
    cursor.execute("SELECT id FROM users WHERE name ILIKE 'abc%'")
    cursor.execute("SELECT id FROM users WHERE name LIKE %s", (f"%{term}%",))
    cursor.execute("SELECT '%abc' LIKE '%c'")
"""
        ),
        Example(
            """\
SELECT id FROM products WHERE sku LIKE 'X%';
""",
            filename="example.sql",
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        for node in tree.find_all(exp.Like, exp.ILike):
            target = node.this
            while isinstance(target, exp.Lower | exp.Upper):
                target = target.this
            if not isinstance(target, exp.Column):
                continue
            if not _leading_wildcard(node.expression):
                continue
            word = "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
            self.report_sql(
                stmt,
                f"`{word}` pattern starts with a wildcard: no B-tree index can serve it, so "
                "every row is scanned",
                node=node,
                help="match a prefix, or add a trigram (pg_trgm) or full-text index",
            )


def _leading_wildcard(pattern: exp.Expression | None) -> bool:
    while isinstance(pattern, exp.DPipe | exp.Paren):
        pattern = pattern.this
    if isinstance(pattern, exp.Concat | exp.ConcatWs) and pattern.expressions:
        first = pattern.expressions[1 if isinstance(pattern, exp.ConcatWs) else 0]
        return _leading_wildcard(first)
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return str(pattern.this).startswith(("%", "_"))
    return False
