"""BE309 drop-table: dropping a table the running release still queries."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
Dropping a table deletes its data for good and breaks the code that still queries it -- the
release running during the deployment, background workers, reports, other services sharing the
database. It also waits for an `ACCESS EXCLUSIVE` lock, queueing every query on the table behind
it.

Checked: `DROP TABLE` in SQL, Alembic `op.drop_table` and Django `DeleteModel`. A table created
earlier in the same migration (a scratch table) and the downgrade direction are not checked.
"""

HOW_TO_FIX = """\
Stop using the table in a release first; drop it in a later migration, after a backup or a
rename-and-wait period if the data may still be needed.

Raw SQL:

```sql
ALTER TABLE legacy_orders RENAME TO legacy_orders_unused;  -- watch for errors for a while
DROP TABLE IF EXISTS legacy_orders_unused;                 -- a later migration
```

Alembic: remove the model in one release, `op.drop_table` in the next.

Django: remove the model from the state first, drop the table later:

```python
migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("LegacyOrder")])
```
"""


class DropTable(MigrationRule):
    meta = RuleMeta(
        code="BE309",
        name="drop-table",
        summary="Dropping a table loses data and breaks code that still uses it",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=("https://www.postgresql.org/docs/current/sql-droptable.html",),
    )
    dialects = None
    sql_words = ("DROP",)
    python_words = ("drop_table", "DeleteModel")

    bad = (
        Example(
            """\
DROP TABLE legacy_orders;  -- expect: BE309
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "j10"
down_revision = "i9"


def upgrade():
    op.drop_table("legacy_orders")  # expect: BE309


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.DeleteModel(name="LegacyOrder"),  # expect: BE309
    ]
"""
        ),
    )
    good = (
        Example(
            """\
CREATE TABLE order_ids_to_fix (id bigint);
INSERT INTO order_ids_to_fix SELECT id FROM orders WHERE total < 0;
DROP TABLE order_ids_to_fix;
DROP VIEW IF EXISTS order_totals;
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "j10"
down_revision = "i9"


def upgrade():
    op.create_table("invoices", sa.Column("id", sa.BigInteger(), primary_key=True))


def downgrade():
    op.drop_table("invoices")
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="LegacyOrder")],
        ),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.DROP_TABLE or op.created_here:
            return
        table = f" `{op.table}`" if op.table else ""
        self.report_op(
            op,
            f"dropping table{table} deletes its data and breaks the code that still uses it",
            help=pick(
                op,
                "stop using the table in a release first, then drop it in a later migration",
                "remove the model in one release, drop the table in the next",
                "remove the model from the state first (SeparateDatabaseAndState), drop the "
                "table in a later migration",
            ),
        )
