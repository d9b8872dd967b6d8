"""BE317 add-column-rewrites-table: an added column whose values force a table rewrite."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, on, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
Since Postgres 11, `ADD COLUMN ... DEFAULT <constant>` is instant: the value is stored once in
the catalog. A default that differs per row cannot be stored that way, so Postgres rewrites the
whole table -- and every index -- under an `ACCESS EXCLUSIVE` lock: `DEFAULT gen_random_uuid()`,
`DEFAULT random()`, `clock_timestamp()`, `nextval(...)`, a `serial` or identity column, and a
stored generated column (`GENERATED ALWAYS AS (...) STORED`). (`now()` and `CURRENT_TIMESTAMP`
are fixed for the statement, so they stay instant.)

Checked: `ADD COLUMN` in SQL, Alembic `op.add_column` (`server_default`, `sa.Identity`,
`sa.Computed`), and Django `AddField` of an `AutoField`, a stored `GeneratedField`, or a
`db_default` such as `RandomUUID()`. Tables created in the same migration are skipped.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Add the column without the volatile default (or nullable), set the default for new rows
separately, and fill existing rows in batches.

Raw SQL:

```sql
ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();  -- new rows only
-- backfill in batches:
UPDATE orders SET public_id = gen_random_uuid()
WHERE id IN (SELECT id FROM orders WHERE public_id IS NULL LIMIT 10000);
```

Alembic:

```python
op.add_column("orders", sa.Column("public_id", postgresql.UUID()))
op.alter_column("orders", "public_id", server_default=sa.text("gen_random_uuid()"))
```

Django: add the field with `null=True`, backfill with `RunPython` in batches (in its own
migration), then add the `db_default`.
"""


class AddColumnRewritesTable(MigrationRule):
    meta = RuleMeta(
        code="BE317",
        name="add-column-rewrites-table",
        summary="Column added with a per-row default rewrites the whole table under lock",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES",
        ),
    )
    sql_words = ("DEFAULT", "SERIAL", "BIGSERIAL", "SMALLSERIAL", "GENERATED")
    python_words = (
        "server_default",
        "Identity",
        "Computed",
        "AutoField",
        "GeneratedField",
        "db_default",
    )

    bad = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();  -- expect: BE317
ALTER TABLE orders ADD COLUMN seq bigserial;  -- expect: BE317
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;  -- expect: BE317
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r18"
down_revision = "q17"


def upgrade():
    op.add_column(
        "orders",
        sa.Column(  # expect: BE317
            "public_id", postgresql.UUID(), server_default=sa.text("gen_random_uuid()")
        ),
    )


def downgrade():
    op.drop_column("orders", "public_id")
"""
        ),
        Example(
            """\
import django.contrib.postgres.functions
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField(
            "order",
            "public_id",
            models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID()),  # expect: BE317
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE TABLE invoices (id bigint PRIMARY KEY);
ALTER TABLE invoices ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "r18"
down_revision = "q17"


def upgrade():
    op.add_column(
        "orders", sa.Column("status", sa.Text(), nullable=False, server_default="new")
    )
    op.add_column("orders", sa.Column("seen", sa.DateTime(timezone=True), server_default=sa.func.now()))


def downgrade():
    op.drop_column("orders", "status")
"""
        ),
        Example(
            """\
import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("order", "public_id", models.UUIDField(null=True)),
        migrations.AddField("order", "token", models.UUIDField(default=uuid.uuid4)),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.ADD_COLUMN or op.created_here:
            return
        if op.generated_stored:
            why = "a stored generated column"
        elif op.volatile_default:
            why = f"a default that differs per row ({op.volatile_default})"
        else:
            return
        column = f" `{op.column}`" if op.column else ""
        self.report_op(
            op,
            f"adding column{column}{on(op.table)} with {why} rewrites the whole table while "
            "reads and writes wait",
            help=pick(
                op,
                "add the column without it, SET DEFAULT for new rows, backfill in batches",
                "add the column without the default, then alter_column(server_default=...) "
                "and backfill in batches",
                "add the field with null=True, backfill in batches, then set the default",
            ),
            at=op.detail,
        )
