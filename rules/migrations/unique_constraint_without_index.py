"""BE311 unique-constraint-without-index: a UNIQUE or PRIMARY KEY constraint that builds its
index under an exclusive lock."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, on, outside_transaction, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
`ADD CONSTRAINT ... UNIQUE` and `ADD PRIMARY KEY` build a unique index as part of the statement,
holding an `ACCESS EXCLUSIVE` lock for the whole build: the table can be neither read nor
written until it ends. Postgres can instead attach an index that already exists
(`... UNIQUE USING INDEX`), and that index can be built beforehand with `CREATE UNIQUE INDEX
CONCURRENTLY` while the table stays in use.

Checked: `ADD CONSTRAINT ... UNIQUE`/`PRIMARY KEY` without `USING INDEX` and columns added with
`UNIQUE`/`PRIMARY KEY` in SQL; Alembic `op.create_unique_constraint`, `op.create_primary_key`
and `op.add_column` of a `unique=True` column; Django `AddConstraint` of a `UniqueConstraint`,
`AlterUniqueTogether`, and `AddField` of a `unique=True` field or a `OneToOneField`. Tables
created in the same migration are skipped.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Build the unique index concurrently first, then turn it into the constraint (a quick catalog
change).

Raw SQL:

```sql
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_number_idx ON orders (number);
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_idx;
```

Alembic:

```python
with op.get_context().autocommit_block():
    op.create_index("orders_number_idx", "orders", ["number"], unique=True,
                    postgresql_concurrently=True)
op.execute("ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_idx")
```

Django (`atomic = False`): run the two statements with `RunSQL` inside
`SeparateDatabaseAndState`, whose `state_operations` hold the `AddConstraint`.
"""


class UniqueConstraintWithoutIndex(MigrationRule):
    meta = RuleMeta(
        code="BE311",
        name="unique-constraint-without-index",
        summary="UNIQUE or PRIMARY KEY constraint builds its index while the table is locked",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX",
        ),
    )
    sql_words = ("UNIQUE", "PRIMARY")
    python_words = ("unique", "UniqueConstraint", "create_primary_key", "OneToOneField")

    bad = (
        Example(
            """\
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number);  -- expect: BE311
ALTER TABLE order_lines ADD PRIMARY KEY (order_id, line);  -- expect: BE311
ALTER TABLE orders ADD COLUMN token text UNIQUE;  -- expect: BE311
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "l12"
down_revision = "k11"


def upgrade():
    op.create_unique_constraint("orders_number_key", "orders", ["number"])  # expect: BE311
    op.add_column("orders", sa.Column("token", sa.Text(), unique=True))  # expect: BE311


def downgrade():
    op.drop_constraint("orders_number_key", "orders")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddConstraint(  # expect: BE311
            model_name="order",
            constraint=models.UniqueConstraint(fields=["number"], name="order_number_key"),
        ),
        migrations.AddField(
            "order", "token", models.CharField(max_length=40, null=True, unique=True)  # expect: BE311
        ),
        migrations.AlterUniqueTogether(name="orderline", unique_together={("order", "line")}),  # expect: BE311
    ]
"""
        ),
    )
    good = (
        Example(
            """\
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_number_idx ON orders (number);
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_idx;
CREATE TABLE invoices (id bigint, number text);
ALTER TABLE invoices ADD PRIMARY KEY (id);
ALTER TABLE invoices ADD CONSTRAINT invoices_number_key UNIQUE (number);
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "l12"
down_revision = "k11"


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_number_idx", "orders", ["number"], unique=True, postgresql_concurrently=True
        )
    op.execute(
        "ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_idx"
    )


def downgrade():
    op.drop_constraint("orders_number_key", "orders")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel(
            name="Invoice",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("number", models.TextField(unique=True)),
            ],
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.UniqueConstraint(fields=["number"], name="invoice_number_key"),
        ),
        migrations.AlterUniqueTogether(name="order", unique_together=set()),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.created_here or op.using_index:
            return
        if op.kind is OpKind.ADD_CONSTRAINT and op.constraint in ("unique", "primary-key"):
            kind = "UNIQUE" if op.constraint == "unique" else "PRIMARY KEY"
        elif op.kind is OpKind.ADD_COLUMN and {"unique", "primary-key"} & op.inline:
            kind = "UNIQUE" if "unique" in op.inline else "PRIMARY KEY"
        else:
            return
        self.report_op(
            op,
            f"`{op.api}` adds a {kind} constraint{on(op.table)} whose index is built while "
            "the table is locked against reads and writes",
            help=pick(
                op,
                f"CREATE UNIQUE INDEX CONCURRENTLY ({outside_transaction(migration)}), then "
                "ADD CONSTRAINT ... UNIQUE USING INDEX",
                "create the unique index with postgresql_concurrently=True in an "
                "autocommit_block, then ADD CONSTRAINT ... USING INDEX with op.execute",
                "build the index concurrently and attach it with RunSQL, keeping the "
                "constraint in state_operations of SeparateDatabaseAndState",
            ),
            at=op.detail,
        )
