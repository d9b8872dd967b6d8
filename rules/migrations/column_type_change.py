"""BE305 column-type-change: ALTER COLUMN ... TYPE on a live table."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
Changing a column's type takes an `ACCESS EXCLUSIVE` lock -- no reads, no writes -- and for
most changes rewrites the whole table and rebuilds every index on it while holding that lock.
Application code still running the old version may also break on the new type.

A few changes are done in place (widening a `varchar`, `varchar` to `text`), but from the
statement alone the old type is unknown, so SQL is always reported. Alembic's
`op.alter_column` is quiet when `existing_type=` shows one of those in-place changes.

Django's `AlterField` is not checked: the migration does not say what the field was before, and
most `AlterField`s change nothing in the database.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Add a new column of the new type, write to both, backfill the new one in batches, switch the
readers, then drop the old column in a later release.

Raw SQL:

```sql
ALTER TABLE orders ADD COLUMN quantity_big bigint;
-- backfill in batches, switch the application, then:
ALTER TABLE orders DROP COLUMN quantity;
```

Alembic (an in-place change, stated so):

```python
op.alter_column("orders", "note", type_=sa.Text(), existing_type=sa.String(200))
```

Django: add a new field, backfill it with `RunPython` in batches, move the code to it, then remove
the old field in a later migration.
"""


class ColumnTypeChange(MigrationRule):
    meta = RuleMeta(
        code="BE305",
        name="column-type-change",
        summary="Changing a column type locks the table and usually rewrites it",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES",
        ),
    )
    sql_words = ("TYPE",)
    python_words = ("type_",)

    bad = (
        Example(
            """\
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;  -- expect: BE305
ALTER TABLE orders ALTER COLUMN placed_at SET DATA TYPE timestamptz USING placed_at AT TIME ZONE 'UTC';  -- expect: BE305
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "f6"
down_revision = "e5"


def upgrade():
    op.alter_column("orders", "quantity", type_=sa.BigInteger())  # expect: BE305
    op.alter_column(
        "orders", "note", type_=sa.String(50), existing_type=sa.String(200)  # expect: BE305
    )


def downgrade():
    op.alter_column("orders", "quantity", type_=sa.Integer())
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN quantity_big bigint;
ALTER TABLE orders ALTER COLUMN quantity SET DEFAULT 1;
CREATE TABLE invoices (id bigint PRIMARY KEY, number int);
ALTER TABLE invoices ALTER COLUMN number TYPE bigint;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "f6"
down_revision = "e5"


def upgrade():
    op.alter_column("orders", "note", type_=sa.Text(), existing_type=sa.String(200))
    op.alter_column("orders", "code", type_=sa.String(100), existing_type=sa.String(20))
    op.alter_column("orders", "status", server_default="new")


def downgrade():
    op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.Text())
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AlterField("order", "note", models.TextField(blank=True)),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.ALTER_TYPE or op.created_here or op.safe_type_change:
            return
        column = f"`{op.table}.{op.column}`" if op.table and op.column else f"`{op.column}`"
        new = op.columns[0].type if op.columns else None
        to = f" to `{new.written}`" if new is not None and new.written else ""
        self.report_op(
            op,
            f"changing the type of {column}{to} locks the table against reads and writes and "
            "usually rewrites it and its indexes",
            help=pick(
                op,
                "add a new column, backfill it in batches, switch readers, then drop the old one",
                "add a new column and backfill it; if Postgres can change the type in place "
                "(varchar widening, varchar to text), say so with existing_type=",
                "add a new field, backfill it, then remove the old one",
            ),
            at=op.detail,
        )
