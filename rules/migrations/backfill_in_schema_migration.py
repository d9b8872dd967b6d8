"""BE318 backfill-in-schema-migration: rewriting every row in the same transaction as DDL."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationKind, MigrationRule, Op, OpKind, on
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
A schema migration takes strong locks (an `ALTER TABLE` holds `ACCESS EXCLUSIVE` until the
transaction ends). An `UPDATE` of every row in the same migration keeps those locks -- and a row
lock on every row it touches -- for as long as it runs, which on a large table is minutes of
outage; it also writes a new version of every row at once (bloat, replication lag) and, if it
fails at the end, throws all the work away.

Reported: an `UPDATE` with no `WHERE`, with `WHERE true`, or whose `WHERE` only tests columns
added by this migration for `NULL` (all rows, then), in a migration that also changes an
existing table -- raw SQL and Alembic's `op.execute(table.update()...)` -- and Django
`RunPython` in an atomic migration that also changes an existing table (its Python runs inside
the same transaction). Pure data migrations, and updates of tables created in the same
migration, are quiet. (BE201 separately asks for
`WHERE true` on purposeful full-table updates.)
"""

HOW_TO_FIX = """\
Change the schema in one migration, backfill in batches in another (outside the schema
migration's transaction), then add constraints in a third.

Raw SQL (each batch in its own transaction, repeated until no rows change):

```sql
UPDATE orders SET status = 'new'
WHERE id IN (SELECT id FROM orders WHERE status IS NULL LIMIT 5000);
```

Alembic:

```python
def upgrade():
    with op.get_context().autocommit_block():
        while op.get_bind().execute(sa.text(BATCH)).rowcount:
            pass
```

Django: a separate migration with `atomic = False` whose `RunPython` updates in batches.
"""


class BackfillInSchemaMigration(MigrationRule):
    meta = RuleMeta(
        code="BE318",
        name="backfill-in-schema-migration",
        summary="Full-table backfill in the same migration as schema changes holds their locks",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://docs.djangoproject.com/en/stable/howto/writing-migrations/#migrations-that-add-unique-fields",
        ),
    )
    dialects = None
    sql_words = ("UPDATE",)
    python_words = ("RunPython", "update")

    bad = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN status text;
UPDATE orders SET status = 'new';  -- expect: BE318
ALTER TABLE orders ADD COLUMN region text;
UPDATE orders SET region = 'eu' WHERE region IS NULL;  -- expect: BE318
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "s19"
down_revision = "r18"

orders = sa.table("orders", sa.column("status", sa.Text()))


def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text()))
    op.execute(orders.update().values(status="new"))  # expect: BE318
    op.execute("UPDATE orders SET status = 'new' WHERE true")  # expect: BE318


def downgrade():
    op.drop_column("orders", "status")
"""
        ),
        Example(
            """\
from django.db import migrations, models


def fill_status(apps, schema_editor):
    apps.get_model("shop", "Order").objects.update(status="new")


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("order", "status", models.TextField(null=True)),
        migrations.RunPython(fill_status, migrations.RunPython.noop),  # expect: BE318
    ]
"""
        ),
    )
    good = (
        Example(
            """\
UPDATE orders SET status = 'new' WHERE status IS NULL;
UPDATE orders SET status = 'new' WHERE id IN (SELECT id FROM orders WHERE status IS NULL LIMIT 5000);
""",
            filename="example.sql",
        ),
        Example(
            """\
ALTER TABLE orders ADD COLUMN status text;
UPDATE orders SET status = 'new' WHERE id = 1;
UPDATE orders SET region = 'eu' WHERE region IS NULL;
CREATE TABLE invoices (id bigint PRIMARY KEY, state text);
UPDATE invoices SET state = 'open';
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "s19"
down_revision = "r18"

orders = sa.table("orders", sa.column("status", sa.Text()))


def upgrade():
    op.execute(orders.update().values(status="new"))


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations, models


def fill_status(apps, schema_editor):
    apps.get_model("shop", "Order").objects.filter(status=None).update(status="new")


class Migration(migrations.Migration):
    atomic = False

    operations = [
        migrations.RunPython(fill_status, migrations.RunPython.noop),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is OpKind.UPDATE:
            if op.created_here or op.in_transaction is False:
                return
            if not op.full_table and not _new_columns_only(op, migration):
                return
            if not migration.changes_existing_schema(in_transaction_only=True):
                return
            self.report_op(
                op,
                f"`{op.api}` rewrites every row{on(op.table)} in the same transaction as schema "
                "changes: its row locks and their table locks are held until the migration "
                "commits",
                help="move the backfill to its own migration and update in batches",
            )
        elif op.kind is OpKind.RUN_PYTHON and migration.kind is MigrationKind.DJANGO:
            if not migration.atomic or not migration.changes_existing_schema():
                return
            self.report_op(
                op,
                "`RunPython` runs in the same transaction as this migration's schema changes: "
                "their locks are held until the Python code finishes",
                help="move the data migration to its own migration (atomic = False, updating "
                "in batches)",
            )


def _new_columns_only(op: Op, migration: Migration) -> bool:
    """``WHERE col IS NULL`` on columns this migration added: every row matches."""
    if not op.null_backfill:
        return False
    table = (op.table or "").lower()
    added = {
        (earlier.column or "").lower()
        for earlier in migration.ops[: op.index]
        if earlier.kind is OpKind.ADD_COLUMN and (earlier.table or "").lower() == table
    }
    return op.null_backfill <= added
