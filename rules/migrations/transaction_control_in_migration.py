"""BE321 transaction-control-in-migration: BEGIN/COMMIT that fight the migration's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from be_lint.migrations import Migration, MigrationKind, MigrationRule, Op, OpKind
from be_lint.rule import Confidence, Example, RuleMeta, Severity, option

RATIONALE = """\
Alembic and Django run a migration inside a transaction they manage. A `COMMIT` in the middle of
it (the old trick to get `CREATE INDEX CONCURRENTLY` through Alembic) ends that transaction
early: what came before can no longer roll back if a later step fails, what follows runs
outside any transaction, and the tool's own bookkeeping (the version row) is committed
separately from the schema change. A `BEGIN` inside it only gets a warning from Postgres and
then commits the outer transaction at the matching `COMMIT`.

In `.sql` files the rule reports a `BEGIN` while a transaction is already open, a `BEGIN` that is
never committed (the rest of the file, and whatever the tool does after it, stays in an open
transaction), and -- with the `assume-in-transaction` option, for tools that wrap each file --
any explicit `BEGIN`/`COMMIT`.
"""

HOW_TO_FIX = """\
Let the tool manage the transaction, and step outside it the supported way.

Raw SQL: one `BEGIN` ... `COMMIT` pair per file, or none.

Alembic:

```python
with op.get_context().autocommit_block():
    op.execute("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status)")
```

Django:

```python
class Migration(migrations.Migration):
    atomic = False
```
"""


@dataclass(frozen=True)
class Options:
    assume_in_transaction: bool = option(
        False,
        "Treat `.sql` files as running inside a transaction opened by the migration tool, so any "
        "explicit BEGIN or COMMIT in them is reported.",
    )


class TransactionControlInMigration(MigrationRule):
    meta = RuleMeta(
        code="BE321",
        name="transaction-control-in-migration",
        summary="BEGIN/COMMIT inside a migration breaks the transaction the tool manages",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
            "https://www.postgresql.org/docs/current/sql-begin.html",
        ),
    )
    options_class = Options
    dialects = None
    sql_words = ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT")

    bad = (
        Example(
            """\
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
BEGIN;  -- expect: BE321
ALTER TABLE orders ADD COLUMN status text;
COMMIT;
""",
            filename="example.sql",
        ),
        Example(
            """\
BEGIN;  -- expect: BE321
ALTER TABLE orders ADD COLUMN note text;
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "v22"
down_revision = "u21"


def upgrade():
    op.execute("COMMIT")  # expect: BE321
    op.execute("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status)")


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("COMMIT", migrations.RunSQL.noop),  # expect: BE321
    ]
"""
        ),
    )
    good = (
        Example(
            """\
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "v22"
down_revision = "u21"


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status)")
        op.execute("BEGIN")
        op.execute("UPDATE orders SET note = '' WHERE id < 1000")
        op.execute("COMMIT")


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
        migrations.RunSQL("BEGIN; UPDATE shop_order SET note = ''; COMMIT", migrations.RunSQL.noop),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind not in (OpKind.BEGIN, OpKind.COMMIT):
            return
        if migration.kind is MigrationKind.ALEMBIC:
            if not op.autocommit:
                self._managed(op, "Alembic runs this revision in a transaction")
            return
        if migration.kind is MigrationKind.DJANGO:
            if migration.atomic:
                self._managed(op, "this Django migration is atomic")
            return
        if self.options.assume_in_transaction:
            self._managed(op, "the migration tool runs this file in a transaction")
            return
        open_before = _open_before(op, migration)
        if op.kind is OpKind.BEGIN and open_before:
            self.report_op(
                op,
                f"`{op.api}` while a transaction is already open: Postgres ignores it, and the "
                "next COMMIT ends the outer transaction",
                help="remove the inner BEGIN",
            )
        elif op.kind is OpKind.BEGIN and not _committed_after(op, migration):
            self.report_op(
                op,
                f"`{op.api}` is never committed: the rest of the file runs in a transaction "
                "that stays open",
                help="end the transaction with COMMIT",
            )

    def _managed(self, op: Op, why: str) -> None:
        if op.kind is OpKind.COMMIT:
            message = f"`{op.api}` inside a migration: {why}, and this ends it early"
        else:
            message = f"`{op.api}` inside a migration: {why} already"
        self.report_op(
            op,
            message,
            help="use `with op.get_context().autocommit_block():` (Alembic) or "
            "`atomic = False` (Django) to run statements outside the transaction",
        )


def _open_before(op: Op, migration: Migration) -> bool:
    state = False
    for earlier in migration.ops[: op.index]:
        if earlier.kind is OpKind.BEGIN:
            state = True
        elif earlier.kind is OpKind.COMMIT:
            state = False
    return state


def _committed_after(op: Op, migration: Migration) -> bool:
    return any(later.kind is OpKind.COMMIT for later in migration.ops[op.index + 1 :])
