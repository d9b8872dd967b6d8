"""BE307 rename-table: renaming a table that running code still queries."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
The release that is running while the migration runs still queries the table by its old name;
after the rename every such query fails until the new release is everywhere, and rolling the
code back fails the same way. The rename also needs an `ACCESS EXCLUSIVE` lock.

Checked: `ALTER TABLE ... RENAME TO` in SQL, Alembic `op.rename_table`, and Django `RenameModel`
and `AlterModelTable` (a `RenameModel` of a model with its own `db_table` does not rename the
table, but the migration alone cannot tell). Tables created in the same migration are skipped.
"""

HOW_TO_FIX = """\
Keep the old table name and rename only in code, or rename and leave a view with the old name
for the old release, dropping it once no code uses it.

Raw SQL:

```sql
BEGIN;
ALTER TABLE orders RENAME TO purchases;
CREATE VIEW orders AS SELECT * FROM purchases;  -- simple views stay writable
COMMIT;
```

Alembic: keep `__tablename__ = "orders"` on the renamed class.

Django: keep the table name on the renamed model:

```python
class Purchase(models.Model):
    class Meta:
        db_table = "shop_order"
```
"""


class RenameTable(MigrationRule):
    meta = RuleMeta(
        code="BE307",
        name="rename-table",
        summary="Renaming a table breaks code that still uses the old name",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=("https://www.postgresql.org/docs/current/sql-altertable.html",),
    )
    dialects = None
    sql_words = ("RENAME",)
    python_words = ("rename_table", "RenameModel", "AlterModelTable")

    bad = (
        Example(
            """\
ALTER TABLE orders RENAME TO purchases;  -- expect: BE307
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "h8"
down_revision = "g7"


def upgrade():
    op.rename_table("orders", "purchases")  # expect: BE307


def downgrade():
    op.rename_table("purchases", "orders")
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.RenameModel(old_name="Order", new_name="Purchase"),  # expect: BE307
        migrations.AlterModelTable(name="invoice", table="billing_invoice"),  # expect: BE307
    ]
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders RENAME COLUMN note TO notes;
ALTER INDEX orders_pkey RENAME TO purchases_pkey;
CREATE TABLE invoices_new (id bigint PRIMARY KEY);
ALTER TABLE invoices_new RENAME TO invoices_v2;
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "h8"
down_revision = "g7"


def upgrade():
    op.execute("CREATE VIEW purchases AS SELECT * FROM orders")


def downgrade():
    op.execute("DROP VIEW purchases")
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.AlterModelOptions(name="order", options={"verbose_name": "purchase"}),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.RENAME_TABLE or op.created_here:
            return
        table = f" `{op.table}`" if op.table else ""
        self.report_op(
            op,
            f"renaming table{table} breaks the running code that still uses the old name",
            help=pick(
                op,
                "keep the old name, or leave a view with the old name until no code uses it",
                "keep the table name and rename only the mapped class",
                "keep the table name with Meta.db_table and rename only the model",
            ),
        )
