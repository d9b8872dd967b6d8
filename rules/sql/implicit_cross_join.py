"""BE206 implicit-cross-join: comma-joined tables with no condition between them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import lowered, statement_tokens

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

RATIONALE = """\
`FROM a, b` pairs every row of `a` with every row of `b` unless the `WHERE` clause relates them.
When that condition is missing -- forgotten, or lost when a filter was edited -- a query over two
10,000-row tables returns 100 million rows: the database grinds, the application runs out of
memory, and any aggregate over the result is silently wrong.

Reported: a table listed after a comma in `FROM` that no condition in `WHERE` (or in another
join's `ON`) connects to the rest of the query. Tables compared through columns that are not
qualified with a table name are assumed connected; subqueries, `LATERAL` items and set-returning
functions (`unnest`, `generate_series`) are not checked, and an explicit `CROSS JOIN` says the
product is intended.
"""

HOW_TO_FIX = """\
Write the join explicitly, so the condition sits next to the table:

```sql
SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id;
```

If every combination really is wanted, say so with `CROSS JOIN`.
"""


class ImplicitCrossJoin(SqlRule):
    meta = RuleMeta(
        code="BE206",
        name="implicit-cross-join",
        summary="Comma-joined tables with no join condition multiply their rows",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
    )

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        if "from" not in low or "," not in text or "select" not in low:
            return False
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def report(cursor):
    cursor.execute(
        "SELECT o.id, c.name FROM orders o, customers c WHERE o.total > 100"  # expect: BE206
    )
"""
        ),
        Example(
            """\
SELECT count(*) FROM orders, order_lines, products  -- expect: BE206
WHERE order_lines.order_id = orders.id;
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def report(cursor):
    cursor.execute(
        "SELECT o.id, c.name FROM orders o, customers c WHERE c.id = o.customer_id"
    )
    cursor.execute("SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id")
    cursor.execute("SELECT s.size, c.color FROM sizes s CROSS JOIN colors c")
    cursor.execute("SELECT o.id, x FROM orders o, unnest(o.tags) AS x")
    cursor.execute("SELECT id FROM orders, (SELECT max(total) AS m FROM orders) s WHERE total = m")
    cursor.execute("SELECT name FROM users, accounts WHERE user_id = id")
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        commas: list[int] | None = None
        for select in tree.find_all(exp.Select):
            joins = select.args.get("joins") or []
            if not joins:
                continue
            if commas is None:
                commas = _comma_positions(stmt)
            self._check(stmt, select, joins, commas)

    def _check(
        self, stmt: SqlStatement, select: exp.Select, joins: list[exp.Join], commas: list[int]
    ) -> None:
        from_ = select.args.get("from_") or select.args.get("from")
        if not isinstance(from_, exp.From):
            return
        names: list[str] = []
        first = _name(from_.this)
        if first is None:
            return
        names.append(first)
        comma_joined: list[tuple[str, exp.Expression]] = []
        conditions: list[exp.Expression] = []
        for join in joins:
            name = _name(join.this)
            on = join.args.get("on")
            if on is not None:
                conditions.append(on)
            if name is None:
                # A subquery, LATERAL or function: assume it relates to the others.
                return
            names.append(name)
            plain = not (
                on or join.args.get("using") or join.args.get("kind") or join.args.get("method")
            )
            if plain and _after_comma(join.this, stmt, commas):
                comma_joined.append((name, join.this))
        if not comma_joined:
            return
        where = select.args.get("where")
        if isinstance(where, exp.Where):
            conditions.append(where.this)
        groups = _Groups(names)
        for condition in conditions:
            for conjunct in _conjuncts(condition):
                groups.connect(_qualifiers(conjunct, names))
        for name, table in comma_joined:
            if not groups.same(name, first):
                self.report_sql(
                    stmt,
                    f"`{table.sql(dialect=stmt.dialect)}` is joined with a comma but no "
                    "condition relates it to the other tables: every row pairs with every row",
                    node=table,
                    help="join it with JOIN ... ON, or write CROSS JOIN if the product is intended",
                )


def _name(source: exp.Expression) -> str | None:
    """The alias (or name) a plain table is referred to by; None for anything else."""
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        return source.alias_or_name.lower()
    return None


def _comma_positions(stmt: SqlStatement) -> list[int]:
    return [t.start for t in statement_tokens(stmt) if t.token_type.name == "COMMA"]


def _after_comma(table: exp.Expression, stmt: SqlStatement, commas: list[int]) -> bool:
    """True when the token before the table is a comma (``FROM a, b``, not ``JOIN b``)."""
    ident = table.this
    meta = ident.meta if isinstance(ident, exp.Expr) else {}
    start = meta.get("start")
    if not isinstance(start, int):
        return False
    text = stmt.text
    i = start - 1
    # Skip a schema qualifier and whitespace backwards: ``, public.b``.
    db = table.args.get("db")
    if isinstance(db, exp.Identifier) and isinstance(db.meta.get("start"), int):
        i = int(db.meta["start"]) - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i >= 0 and text[i] == "," and i in commas


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]


def _qualifiers(conjunct: exp.Expression, names: list[str]) -> set[str]:
    """The tables a condition mentions; all of them when a column is unqualified and the
    condition compares more than one column (it may be the join condition)."""
    columns = list(conjunct.find_all(exp.Column))
    found = {c.table.lower() for c in columns if c.table}
    if len(columns) > 1 and any(not c.table for c in columns):
        return set(names)
    return found


class _Groups:
    def __init__(self, names: list[str]) -> None:
        self.parent = {n: n for n in names}

    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def connect(self, names: set[str]) -> None:
        known = [n for n in names if n in self.parent]
        for other in known[1:]:
            self.parent[self.find(other)] = self.find(known[0])

    def same(self, a: str, b: str) -> bool:
        return self.find(a) == self.find(b)
