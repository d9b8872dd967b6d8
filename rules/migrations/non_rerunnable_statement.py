"""BE316 non-rerunnable-statement: DDL outside a transaction that fails when run again."""

from __future__ import annotations

from dataclasses import dataclass

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, Source
from be_lint.rule import Confidence, Example, RuleMeta, Severity, option

_GUARDS = {
    OpKind.CREATE_TABLE: "IF NOT EXISTS",
    OpKind.CREATE_INDEX: "IF NOT EXISTS",
    OpKind.ADD_COLUMN: "IF NOT EXISTS",
    OpKind.DROP_TABLE: "IF EXISTS",
    OpKind.DROP_INDEX: "IF EXISTS",
    OpKind.DROP_COLUMN: "IF EXISTS",
}

RATIONALE = """\
A migration that runs outside a transaction -- a `.sql` file without `BEGIN`, an Alembic
`autocommit_block()`, a Django migration with `atomic = False`, and always for
`CREATE INDEX CONCURRENTLY` -- keeps whatever it did before a failure. Running it again after
fixing the cause then stops at the first statement that already happened (`relation ... already
exists`), and someone has to finish it by hand in production.

`IF NOT EXISTS`/`IF EXISTS` make those statements safe to repeat. (A failed `CREATE INDEX
CONCURRENTLY` leaves an `INVALID` index behind: drop it before re-running, or the `IF NOT
EXISTS` will keep the broken one.)

Checked: `CREATE TABLE`, `CREATE INDEX`, `ADD COLUMN`, `DROP TABLE`, `DROP INDEX` and
`DROP COLUMN` in SQL that runs outside a transaction, and Alembic `op.create_index`/
`op.drop_index` in an `autocommit_block()` without `if_not_exists=True`/`if_exists=True`. Inside
a transaction a failure rolls everything back, so those are not reported. The
`assume-in-transaction` option treats `.sql` files as wrapped in a transaction by their tool.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Raw SQL:

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
```

Alembic (1.12+ for indexes):

```python
with op.get_context().autocommit_block():
    op.create_index("orders_status_idx", "orders", ["status"],
                    postgresql_concurrently=True, if_not_exists=True)
```

Django (`atomic = False`): use `RunSQL` with `IF NOT EXISTS` for the statements that need it.
"""


@dataclass(frozen=True)
class Options:
    assume_in_transaction: bool = option(
        False,
        "Treat `.sql` files as running inside a transaction even without `BEGIN` (set it when "
        "your migration tool wraps each file in one).",
    )


class NonRerunnableStatement(MigrationRule):
    meta = RuleMeta(
        code="BE316",
        name="non-rerunnable-statement",
        summary="DDL outside a transaction without IF [NOT] EXISTS cannot be re-run after a failure",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=(
            "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
        ),
    )
    options_class = Options
    sql_words = ("CREATE", "DROP", "ADD")
    python_words = ("autocommit_block", "atomic")

    bad = (
        Example(
            """\
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);  -- expect: BE316
ALTER TABLE orders ADD COLUMN note text;  -- expect: BE316
DROP TABLE legacy_orders;  -- expect: BE316
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "q17"
down_revision = "p16"


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(  # expect: BE316
            "orders_status_idx", "orders", ["status"], postgresql_concurrently=True
        )
        op.execute("CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed_at)")  # expect: BE316


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY order_status_idx ON shop_order (status)",  # expect: BE316
            "DROP INDEX CONCURRENTLY IF EXISTS order_status_idx",
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
DROP TABLE IF EXISTS legacy_orders;
BEGIN;
CREATE TABLE invoices (id bigint PRIMARY KEY);
COMMIT;
""",
            filename="example.sql",
        ),
        Example(
            """\
CREATE TABLE invoices (id bigint PRIMARY KEY);
""",
            filename="example.sql",
            options={"assume-in-transaction": True},
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "q17"
down_revision = "p16"


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_status_idx", "orders", ["status"],
            postgresql_concurrently=True, if_not_exists=True,
        )


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("CREATE TABLE audit (id bigint PRIMARY KEY)", "DROP TABLE audit"),
        migrations.AddField("order", "note", models.TextField(null=True)),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        guard = _GUARDS.get(op.kind)
        if guard is None or op.guarded:
            return
        inside = op.in_transaction
        if inside is None:
            inside = bool(self.options.assume_in_transaction)
        if inside:
            return
        if op.source is Source.DJANGO:
            return  # Django operations have no IF [NOT] EXISTS form
        if op.source is Source.ALEMBIC:
            if op.kind not in (OpKind.CREATE_INDEX, OpKind.DROP_INDEX):
                return
            keyword = "if_not_exists=True" if op.kind is OpKind.CREATE_INDEX else "if_exists=True"
            self.report_op(
                op,
                f"`{op.api}` runs outside a transaction without {keyword}: after a failure the "
                "migration cannot simply be run again",
                help=f"pass {keyword}",
            )
            return
        self.report_op(
            op,
            f"`{op.api}` runs outside a transaction without {guard}: after a failure the "
            "migration cannot simply be run again",
            help=f"write {op.api.split(' ', 1)[0]} ... {guard}",
        )
