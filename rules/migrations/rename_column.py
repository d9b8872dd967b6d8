"""BE306 rename-column: renaming a column that running code still reads."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, on, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
During a deployment the old release keeps running while (or after) the migration runs. A
renamed column makes every query of the old code that names it fail (`column ... does not
exist`) until the new release is everywhere -- and a rollback of the code then fails the other
way. The rename itself is fast, but it also needs an `ACCESS EXCLUSIVE` lock.

Checked: `RENAME COLUMN` in SQL, Alembic `op.alter_column(..., new_column_name=...)` and Django
`RenameField`. Tables created in the same migration are skipped.
"""

HOW_TO_FIX = """\
Keep the database name and rename only in code, or migrate in steps: add the new column, write
to both, backfill, switch reads, and drop the old column in a later release.

Raw SQL:

```sql
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
-- deploy code writing both, backfill, switch reads, then later:
ALTER TABLE orders DROP COLUMN sent_at;
```

Alembic: keep the column and rename the attribute: `sent_at = Column("sent_at", ...)` mapped
as `shipped_at = mapped_column("sent_at", ...)`.

Django: keep the column name with `db_column`:

```python
shipped_at = models.DateTimeField(db_column="sent_at")
```
"""


class RenameColumn(MigrationRule):
    meta = RuleMeta(
        code="BE306",
        name="rename-column",
        summary="Renaming a column breaks code that still uses the old name",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=("https://www.postgresql.org/docs/current/sql-altertable.html",),
    )
    dialects = None
    sql_words = ("RENAME",)
    python_words = ("new_column_name", "RenameField")

    bad = (
        Example(
            """\
ALTER TABLE orders RENAME COLUMN sent_at TO shipped_at;  -- expect: BE306
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "g7"
down_revision = "f6"


def upgrade():
    op.alter_column("orders", "sent_at", new_column_name="shipped_at")  # expect: BE306


def downgrade():
    op.alter_column("orders", "shipped_at", new_column_name="sent_at")
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.RenameField(  # expect: BE306
            model_name="order", old_name="sent_at", new_name="shipped_at"
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
ALTER INDEX orders_sent_idx RENAME TO orders_shipped_idx;
CREATE TABLE invoices (id bigint PRIMARY KEY, num text);
ALTER TABLE invoices RENAME COLUMN num TO number;
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "g7"
down_revision = "f6"


def upgrade():
    op.alter_column("orders", "sent_at", comment="when the parcel left")


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AlterField(
            "order", "shipped_at", models.DateTimeField(db_column="sent_at", null=True)
        ),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.RENAME_COLUMN or op.created_here:
            return
        column = f" `{op.column}`" if op.column else ""
        self.report_op(
            op,
            f"renaming column{column}{on(op.table)} breaks the running code that still uses "
            "the old name",
            help=pick(
                op,
                "add the new column, write to both, backfill, switch reads, drop the old one later",
                "keep the database column and rename only the mapped attribute",
                "keep the database name with db_column= and rename only the field",
            ),
            at=op.detail,
        )
