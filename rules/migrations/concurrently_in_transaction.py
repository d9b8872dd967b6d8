"""BE302 concurrently-in-transaction: a CONCURRENTLY operation that a transaction will reject."""

from __future__ import annotations

from dataclasses import dataclass

from be_lint.migrations import Migration, MigrationKind, MigrationRule, Op, OpKind, on
from be_lint.rule import Confidence, Example, RuleMeta, Severity, option

RATIONALE = """\
`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and
`DETACH PARTITION ... CONCURRENTLY` cannot run inside a transaction block: Postgres refuses
them with `cannot run inside a transaction block`, and the deployment stops half way.

Migration tools open that transaction for you. Alembic runs each revision in one on Postgres
unless the statement sits inside `op.get_context().autocommit_block()`; Django runs each
migration in one unless the `Migration` class says `atomic = False` (its
`AddIndexConcurrently` raises otherwise); a `.sql` file is inside one after an explicit `BEGIN`
(and, with the `assume-in-transaction` option, always -- for tools such as Flyway that wrap each
file). An explicit `COMMIT` ends the transaction for the statements that follow it.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Run the statement outside the migration's transaction, and keep such a migration to the
concurrent statements alone (if it fails half way, nothing rolls back).

Raw SQL: put it after the `COMMIT`, or in a file of its own without `BEGIN`:

```sql
COMMIT;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
```

Alembic:

```python
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("orders_status_idx", "orders", ["status"], postgresql_concurrently=True)
```

Django:

```python
class Migration(migrations.Migration):
    atomic = False
    operations = [AddIndexConcurrently("order", models.Index(fields=["status"], name="order_status_idx"))]
```
"""


@dataclass(frozen=True)
class Options:
    assume_in_transaction: bool = option(
        False,
        "Treat `.sql` files as running inside a transaction even without `BEGIN` (set it when "
        "your migration tool wraps each file in one).",
    )


class ConcurrentlyInTransaction(MigrationRule):
    meta = RuleMeta(
        code="BE302",
        name="concurrently-in-transaction",
        summary="CONCURRENTLY operation inside a transaction fails",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
            "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
            "https://docs.djangoproject.com/en/stable/howto/writing-migrations/#non-atomic-migrations",
        ),
    )
    options_class = Options
    sql_words = ("CONCURRENTLY",)
    python_words = ("concurrently", "Concurrently", "CONCURRENTLY")

    bad = (
        Example(
            """\
BEGIN;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);  -- expect: BE302
COMMIT;
""",
            filename="example.sql",
        ),
        Example(
            """\
DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx;  -- expect: BE302
""",
            filename="example.sql",
            options={"assume-in-transaction": True},
        ),
        Example(
            """\
from alembic import op

revision = "c3"
down_revision = "b2"


def upgrade():
    op.create_index(  # expect: BE302
        "orders_status_idx", "orders", ["status"], postgresql_concurrently=True
    )
    op.execute("CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed_at)")  # expect: BE302


def downgrade():
    op.drop_index("orders_status_idx", table_name="orders")
"""
        ),
        Example(
            """\
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        AddIndexConcurrently(  # expect: BE302
            model_name="order", index=models.Index(fields=["status"], name="order_status_idx")
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY order_placed_idx ON shop_order (placed_at)",  # expect: BE302
            reverse_sql="DROP INDEX CONCURRENTLY order_placed_idx",
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx;
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "c3"
down_revision = "b2"


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_status_idx", "orders", ["status"], postgresql_concurrently=True
        )
        op.execute("CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed_at)")


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("orders_status_idx", table_name="orders", postgresql_concurrently=True)
"""
        ),
        Example(
            """\
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    operations = [
        AddIndexConcurrently(
            model_name="order", index=models.Index(fields=["status"], name="order_status_idx")
        ),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if not op.concurrently:
            return
        inside = op.in_transaction
        if inside is None:
            inside = bool(self.options.assume_in_transaction)
        if not inside:
            return
        if op.kind is OpKind.REINDEX:
            what = "REINDEX ... CONCURRENTLY"
        elif op.is_sql:
            what = f"{op.api} CONCURRENTLY"
        elif op.api.startswith(("op.", "batch_op.")):
            what = f"{op.api}(postgresql_concurrently=True)"
        else:
            what = op.api
        if migration.kind is MigrationKind.ALEMBIC:
            where = "Alembic runs this revision in a transaction"
            help = "move it into `with op.get_context().autocommit_block():`"
        elif migration.kind is MigrationKind.DJANGO:
            where = "this migration is atomic"
            help = "set `atomic = False` on the Migration class"
        else:
            where = "it runs inside a transaction here"
            help = "run it outside BEGIN ... COMMIT"
        self.report_op(
            op,
            f"`{what}`{on(op.table)} cannot run inside a transaction block, and {where}",
            help=help,
        )
