"""BE203 select-star: application queries that fetch every column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from be_lint.migrations import in_migration
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql, sql_call
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import lowered, statement_tokens

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

#: Calls where every column is the point: Django maps raw() rows onto model fields (its docs
#: use ``SELECT *``), and data-frame readers load tables whole.
_WHOLE_ROW_KINDS = frozenset({"django-raw", "pandas", "polars"})

RATIONALE = """\
`SELECT *` returns whatever columns the table has today. When a column is added the query
silently fetches it too -- a large `jsonb` or `bytea` column turns a cheap query into a slow one,
and a column added for another feature leaks into API responses built from the row. Code that
unpacks rows by position breaks when a column is added or reordered, and Postgres cannot answer
the query from an index alone (index-only scans need the columns named).

Reported: `SELECT *` and `SELECT t.*` in the result of a query sent by application code (and in
`.sql` query files). Not reported: `COUNT(*)`, `EXISTS (SELECT * ...)` and other subqueries,
selects from CTEs or subqueries (their columns are already named), `INSERT ... SELECT *`,
migrations (copying a table is what they do), Django's `Manager.raw()` and SQLAlchemy's
`from_statement(text(...))` (which map columns to fields by name) and pandas/polars readers.
"""

HOW_TO_FIX = """\
Name the columns the code uses:

```python
cursor.execute("SELECT id, email, created_at FROM users WHERE id = %s", (user_id,))
```
"""


class SelectStar(SqlRule):
    meta = RuleMeta(
        code="BE203",
        name="select-star",
        summary="SELECT * in an application query fetches columns it does not need",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        if "*" not in text or "select" not in lowered(text):
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def load_user(cursor, user_id):
    cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))  # expect: BE203
    cursor.execute(
        "SELECT u.*, count(o.id) FROM users u JOIN orders o ON o.user_id = u.id "  # expect: BE203
        "GROUP BY u.id"
    )
"""
        ),
        Example(
            """\
-- name: list_orders
SELECT * FROM orders WHERE customer_id = :customer_id;  -- expect: BE203
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def load_user(cursor, user_id, Person):
    cursor.execute("SELECT id, email FROM users WHERE id = %s", (user_id,))
    cursor.execute("SELECT count(*) FROM users")
    cursor.execute("SELECT EXISTS (SELECT * FROM users WHERE id = %s)", (user_id,))
    cursor.execute("WITH recent AS (SELECT id, total FROM orders) SELECT * FROM recent")
    cursor.execute("INSERT INTO users_archive SELECT * FROM users WHERE deleted")
    Person.objects.raw("SELECT * FROM myapp_person")
"""
        ),
        Example(
            """\
from sqlalchemy import text


def load_orm(session, User):
    return session.query(User).from_statement(text("SELECT * FROM users")).all()
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL(
            "CREATE TABLE orders_copy AS SELECT * FROM orders", "DROP TABLE orders_copy"
        ),
    ]
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None or in_migration(self.ctx):
            return
        call = self.ctx.sql_call
        if call is not None:
            found = sql_call(call, self.ctx)
            if found is not None and found.kind in _WHOLE_ROW_KINDS:
                return
            if any(_maps_rows(node) for node in self.ctx.ancestors[-3:]):
                return
        ctes = _cte_names(tree)
        for select in _result_selects(tree):
            if not _has_star(select) or not _reads_table(select, ctes):
                continue
            self.report_sql(
                stmt,
                "`SELECT *` fetches every column of the table, including ones added later",
                node=_star_span(stmt),
                help="name the columns the code needs",
            )
            return


def _maps_rows(node: object) -> bool:
    """``query.from_statement(text(...))``: SQLAlchemy maps the columns to the entity by name."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "from_statement"
    )


def _result_selects(tree: exp.Expression) -> list[exp.Select]:
    """The SELECTs whose rows are the statement's result (both sides of a UNION)."""
    if isinstance(tree, exp.Select):
        return [tree]
    if isinstance(tree, exp.SetOperation):
        return _result_selects(tree.this) + _result_selects(tree.expression)
    if isinstance(tree, exp.Subquery):
        return _result_selects(tree.this)
    return []


def _has_star(select: exp.Select) -> bool:
    return any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in select.expressions
    )


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _reads_table(select: exp.Select, ctes: set[str]) -> bool:
    sources: list[exp.Expression] = []
    from_ = select.args.get("from_") or select.args.get("from")
    if isinstance(from_, exp.From):
        sources.append(from_.this)
    sources.extend(j.this for j in select.args.get("joins") or ())
    return any(
        isinstance(s, exp.Table)
        and isinstance(s.this, exp.Identifier)
        and s.name.lower() not in ctes
        for s in sources
    )


def _star_span(stmt: SqlStatement) -> tuple[int, int] | None:
    """The ``*`` (or ``t.*``) of the outermost select list, from the tokens."""
    tokens = statement_tokens(stmt)
    depth = 0
    first: tuple[int, int] | None = None
    for i, token in enumerate(tokens):
        kind = token.token_type.name
        if kind == "L_PAREN":
            depth += 1
        elif kind == "R_PAREN":
            depth -= 1
        elif kind == "STAR":
            previous = tokens[i - 1].text.upper() if i else ""
            if previous not in ("SELECT", ",", "DISTINCT", ".", "ALL"):
                continue
            start = tokens[i - 2].start if previous == "." and i >= 2 else token.start
            span = (stmt.start + start, stmt.start + token.end + 1)
            if depth == 0:
                return span
            first = first or span
    return first
