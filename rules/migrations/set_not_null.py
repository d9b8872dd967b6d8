"""BE310 set-not-null: SET NOT NULL scanning a live table under an exclusive lock."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
`ALTER COLUMN ... SET NOT NULL` reads the whole table to check that no row holds `NULL`, and it
does so under an `ACCESS EXCLUSIVE` lock: no reads, no writes until the scan ends.

Since Postgres 12 the scan is skipped when a valid `CHECK (column IS NOT NULL)` constraint
already proves it -- and such a check can be added `NOT VALID` and validated without blocking.
The rule is quiet when this migration adds that check earlier (validated, or followed by
`VALIDATE CONSTRAINT`).

Checked: `SET NOT NULL` in SQL and Alembic `op.alter_column(..., nullable=False)` (quiet with
`existing_nullable=False`). Django's `AlterField` is not checked: the migration does not say
whether the field was nullable before.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Prove the column has no `NULL`s with a check constraint first, then set `NOT NULL` and drop the
check.

Raw SQL (each statement in its own transaction, so the `VALIDATE` does not run under the lock
the `ADD CONSTRAINT` took):

```sql
ALTER TABLE orders ADD CONSTRAINT orders_status_not_null CHECK (status IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_status_not_null;
```

Alembic:

```python
op.create_check_constraint(
    "orders_status_not_null", "orders", "status IS NOT NULL", postgresql_not_valid=True
)
with op.get_context().autocommit_block():
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null")
op.alter_column("orders", "status", nullable=False)
op.drop_constraint("orders_status_not_null", "orders")
```

Django: the same statements with `RunSQL` inside `SeparateDatabaseAndState`, whose
`state_operations` hold the `AlterField`.
"""


class SetNotNull(MigrationRule):
    meta = RuleMeta(
        code="BE310",
        name="set-not-null",
        summary="SET NOT NULL scans the table while blocking reads and writes",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL",
        ),
    )
    sql_words = ("NOT NULL",)
    python_words = ("nullable",)

    bad = (
        Example(
            """\
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;  -- expect: BE310
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "k11"
down_revision = "j10"


def upgrade():
    op.alter_column("orders", "status", nullable=False)  # expect: BE310


def downgrade():
    op.alter_column("orders", "status", nullable=True)
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders ADD CONSTRAINT orders_status_not_null CHECK (status IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;
CREATE TABLE invoices (id bigint PRIMARY KEY, number text);
ALTER TABLE invoices ALTER COLUMN number SET NOT NULL;
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "k11"
down_revision = "j10"


def upgrade():
    op.create_check_constraint(
        "orders_status_not_null", "orders", "status IS NOT NULL", postgresql_not_valid=True
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null")
    op.alter_column("orders", "status", nullable=False)
    op.alter_column("orders", "note", nullable=False, existing_nullable=False, comment="x")


def downgrade():
    op.alter_column("orders", "status", nullable=True)
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.SET_NOT_NULL or op.created_here:
            return
        if _proven(op, migration):
            return
        column = f"`{op.table}.{op.column}`" if op.table and op.column else f"`{op.column}`"
        self.report_op(
            op,
            f"setting {column} NOT NULL scans the whole table while reads and writes wait",
            help=pick(
                op,
                "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL "
                "(Postgres 12+ skips the scan)",
                "create_check_constraint(..., postgresql_not_valid=True), VALIDATE it with "
                "op.execute, then alter_column(nullable=False)",
                "use RunSQL for the NOT VALID check, VALIDATE and SET NOT NULL inside "
                "SeparateDatabaseAndState",
            ),
            at=op.detail,
        )


def _proven(op: Op, migration: Migration) -> bool:
    """A validated ``CHECK (column IS NOT NULL)`` on the table precedes ``op`` here."""
    table = (op.table or "").lower()
    column = (op.column or "").lower()
    validated: set[str] = set()
    for earlier in reversed(migration.ops[: op.index]):
        if (earlier.table or "").lower() != table:
            continue
        if earlier.kind is OpKind.VALIDATE_CONSTRAINT and earlier.name:
            validated.add(earlier.name.lower())
        if (
            earlier.kind is OpKind.ADD_CONSTRAINT
            and earlier.constraint == "check"
            and earlier.not_null_check == column
            and (not earlier.not_valid or (earlier.name or "").lower() in validated)
        ):
            return True
    return False
