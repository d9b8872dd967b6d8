"""BE304 constraint-without-not-valid: a foreign key or check validated under lock."""

from __future__ import annotations

from be_lint.migrations import (
    Migration,
    MigrationRule,
    Op,
    OpKind,
    on,
    pick,
    same_transaction,
)
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
Adding a `FOREIGN KEY` or `CHECK` constraint to an existing table makes Postgres read every row
to prove the constraint holds, while it holds a lock that blocks writes: `SHARE ROW EXCLUSIVE` on
both tables for a foreign key, `ACCESS EXCLUSIVE` (reads too) for a check. On a large table that
is an outage for as long as the scan runs.

Split it: `ADD CONSTRAINT ... NOT VALID` is instant (new rows are checked from then on), and a
later `VALIDATE CONSTRAINT` scans the old rows under a lock that lets reads and writes continue --
provided it runs in a later transaction: validating in the transaction that added the constraint
keeps the strong lock of the `ADD` for the whole scan, which the rule reports too.

Checked: `ADD CONSTRAINT ... FOREIGN KEY`/`CHECK` and columns added with `REFERENCES` or `CHECK`
in SQL; Alembic `op.create_foreign_key`, `op.create_check_constraint` and `op.add_column` of a
column with a `ForeignKey`, unless `postgresql_not_valid=True`; Django `AddConstraint` of a
`CheckConstraint` and `AddField` of a `ForeignKey`/`OneToOneField` (which also builds the
foreign key's index without `CONCURRENTLY`). Tables created in the same migration are skipped.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Add the constraint `NOT VALID`, then validate it in a separate transaction (a later statement
after `COMMIT`, or the next migration).

Raw SQL:

```sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- next migration:
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
```

Alembic:

```python
op.create_foreign_key(
    "orders_customer_fk", "orders", "customers", ["customer_id"], ["id"],
    postgresql_not_valid=True,
)
# next revision:
op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk")
```

Django (`django.contrib.postgres.operations`):

```python
operations = [
    AddConstraintNotValid("order", models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0")),
]
# next migration:
operations = [ValidateConstraint("order", "order_total_gte_0")]
```

For a new `ForeignKey` field, add it with `db_constraint=False` (and `db_index=False`), then
create the constraint `NOT VALID`, validate it, and build the index concurrently with `RunSQL`
inside `SeparateDatabaseAndState`.
"""


class ConstraintWithoutNotValid(MigrationRule):
    meta = RuleMeta(
        code="BE304",
        name="constraint-without-not-valid",
        summary="Foreign key or check constraint added without NOT VALID scans the table under lock",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT",
            "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#adding-constraints-without-enforcing-validation",
        ),
    )
    sql_words = ("FOREIGN", "REFERENCES", "CHECK")
    python_words = (
        "create_foreign_key",
        "create_check_constraint",
        "ForeignKey",
        "CheckConstraint",
        "OneToOneField",
        "ParentalKey",
        "AddConstraint",
    )

    bad = (
        Example(
            """\
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);  -- expect: BE304
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);  -- expect: BE304
ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);  -- expect: BE304
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_region_fk FOREIGN KEY (region_id) REFERENCES regions (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_region_fk;  -- expect: BE304
COMMIT;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "e5"
down_revision = "d4"


def upgrade():
    op.create_foreign_key(  # expect: BE304
        "orders_customer_fk", "orders", "customers", ["customer_id"], ["id"]
    )
    op.create_check_constraint("orders_total_check", "orders", "total >= 0")  # expect: BE304
    op.add_column(
        "orders",
        sa.Column("coupon_id", sa.BigInteger(), sa.ForeignKey("coupons.id")),  # expect: BE304
    )


def downgrade():
    op.drop_constraint("orders_customer_fk", "orders")
"""
        ),
        Example(
            """\
import django.db.models.deletion
from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddConstraint(  # expect: BE304
            model_name="order",
            constraint=models.CheckConstraint(check=models.Q(total__gte=0), name="total_gte_0"),
        ),
        AddConstraintNotValid(
            model_name="order",
            constraint=models.CheckConstraint(check=models.Q(paid__gte=0), name="paid_gte_0"),
        ),
        ValidateConstraint(model_name="order", name="paid_gte_0"),  # expect: BE304
        migrations.AddField(
            model_name="order",
            name="coupon",
            field=models.ForeignKey(  # expect: BE304
                null=True, on_delete=django.db.models.deletion.SET_NULL, to="shop.coupon"
            ),
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
COMMIT;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;
CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint);
ALTER TABLE invoices ADD CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE USING INDEX orders_number_idx;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "e5"
down_revision = "d4"


def upgrade():
    op.create_foreign_key(
        "orders_customer_fk", "orders", "customers", ["customer_id"], ["id"],
        postgresql_not_valid=True,
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("order_id", sa.BigInteger(), sa.ForeignKey("orders.id")),
    )


def downgrade():
    op.drop_table("invoices")
"""
        ),
        Example(
            """\
import django.db.models.deletion
from django.contrib.postgres.operations import AddConstraintNotValid
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        AddConstraintNotValid(
            model_name="order",
            constraint=models.CheckConstraint(check=models.Q(total__gte=0), name="total_gte_0"),
        ),
        migrations.AddField(
            model_name="order",
            name="coupon",
            field=models.ForeignKey(
                null=True,
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.SET_NULL,
                to="shop.coupon",
            ),
        ),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is OpKind.VALIDATE_CONSTRAINT:
            self._validate(op, migration)
            return
        if op.created_here or op.not_valid:
            return
        if op.kind is OpKind.ADD_CONSTRAINT and op.constraint in ("foreign-key", "check"):
            kind = "foreign key" if op.constraint == "foreign-key" else "check constraint"
            self._report(op, kind)
        elif op.kind is OpKind.ADD_COLUMN and {"foreign-key", "check"} & op.inline:
            kind = "foreign key" if "foreign-key" in op.inline else "check constraint"
            self._report(op, kind)

    def _validate(self, op: Op, migration: Migration) -> None:
        """VALIDATE in the transaction that added the constraint NOT VALID gains nothing."""
        name = (op.name or "").lower()
        for earlier in migration.ops[: op.index]:
            if (
                earlier.kind is OpKind.ADD_CONSTRAINT
                and earlier.not_valid
                and (earlier.name or "").lower() == name
                and same_transaction(migration, earlier, op)
            ):
                self.report_op(
                    op,
                    f"`{op.api}` runs in the same transaction that added `{op.name}` NOT VALID: "
                    "the lock taken by ADD CONSTRAINT is still held during the scan",
                    help=pick(
                        op,
                        "validate after COMMIT, or in the next migration",
                        "validate in the next revision, or inside "
                        "`with op.get_context().autocommit_block():`",
                        "put ValidateConstraint in the next migration",
                    ),
                )
                return

    def _report(self, op: Op, kind: str) -> None:
        if op.foreign_key:
            message = (
                f"`{op.api}` adds a foreign key{on(op.table)} that is validated by scanning the "
                "table while writes to both tables wait (and builds its index without "
                "CONCURRENTLY)"
            )
        else:
            message = (
                f"`{op.api}` adds a {kind}{on(op.table)} without NOT VALID: the whole table is "
                "scanned while writes wait"
            )
        self.report_op(
            op,
            message,
            help=pick(
                op,
                "add it NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
                "pass postgresql_not_valid=True, then run VALIDATE CONSTRAINT in a later revision",
                "use AddConstraintNotValid then ValidateConstraint; for a ForeignKey field add "
                "it with db_constraint=False and create the constraint NOT VALID with RunSQL",
            ),
            at=op.detail,
        )
