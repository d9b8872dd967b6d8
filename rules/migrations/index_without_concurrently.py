"""BE301 index-without-concurrently: an index built or dropped on a live table with writes
blocked."""

from __future__ import annotations

from be_lint.migrations import (
    Migration,
    MigrationRule,
    Op,
    OpKind,
    on,
    outside_transaction,
    pick,
)
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
`CREATE INDEX` takes a `SHARE` lock on the table for as long as the build runs: reads go on,
but every `INSERT`, `UPDATE` and `DELETE` waits -- minutes to hours on a large table, which an
application sees as an outage. `DROP INDEX` takes an `ACCESS EXCLUSIVE` lock and, while it
waits for that lock, queues every other query behind it. `CREATE INDEX CONCURRENTLY` and
`DROP INDEX CONCURRENTLY` do the same work while writes continue.

The rule checks `.sql` files, raw SQL run by Alembic (`op.execute`) and Django (`RunSQL`),
Alembic's `op.create_index`/`op.drop_index`, and Django's `AddIndex`, `RemoveIndex`,
`AddField(..., db_index=True)`, partial or expression `UniqueConstraint`s (Postgres builds those
as unique indexes) and `AlterIndexTogether`. It is quiet for a table created earlier in the same
migration: nobody else can be writing to it yet, and `CONCURRENTLY` would only be slower.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Build the index concurrently, outside a transaction (`CONCURRENTLY` refuses to run inside one;
see BE302). If the build fails it leaves an `INVALID` index behind: drop it and run again.

Raw SQL:

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx;
```

Alembic:

```python
def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_status_idx", "orders", ["status"],
            postgresql_concurrently=True, if_not_exists=True,
        )
```

Django (`django.contrib.postgres.operations`), in a migration with `atomic = False`:

```python
class Migration(migrations.Migration):
    atomic = False
    operations = [
        AddIndexConcurrently("order", models.Index(fields=["status"], name="order_status_idx")),
    ]
```
"""


class IndexWithoutConcurrently(MigrationRule):
    meta = RuleMeta(
        code="BE301",
        name="index-without-concurrently",
        summary="Index created or dropped without CONCURRENTLY blocks writes to the table",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
            "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#concurrent-index-operations",
        ),
    )
    sql_words = ("INDEX",)
    python_words = ("index", "Index", "index_together", "UniqueConstraint")

    bad = (
        Example(
            """\
CREATE INDEX orders_status_idx ON orders (status);  -- expect: BE301
CREATE UNIQUE INDEX users_email_key ON users (lower(email));  -- expect: BE301
DROP INDEX orders_old_idx;  -- expect: BE301
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade():
    op.create_index("orders_status_idx", "orders", ["status"])  # expect: BE301
    op.drop_index("orders_old_idx", table_name="orders")  # expect: BE301
    op.execute("CREATE INDEX orders_placed_idx ON orders (placed_at)")  # expect: BE301


def downgrade():
    op.drop_index("orders_status_idx", table_name="orders")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0007_order_status")]

    operations = [
        migrations.AddIndex(  # expect: BE301
            model_name="order",
            index=models.Index(fields=["status"], name="order_status_idx"),
        ),
        migrations.AddField(
            model_name="order",
            name="code",
            field=models.CharField(max_length=20, null=True, db_index=True),  # expect: BE301
        ),
        migrations.RemoveIndex(model_name="order", name="order_old_idx"),  # expect: BE301
    ]
"""
        ),
    )
    good = (
        Example(
            """\
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx;
CREATE TABLE invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, number text);
CREATE INDEX invoices_number_idx ON invoices (number);
-- CREATE INDEX orders_total_idx ON orders (total);
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade():
    op.create_table("invoices", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.create_index("invoices_id_idx", "invoices", ["id"])
    with op.get_context().autocommit_block():
        op.create_index(
            "orders_status_idx", "orders", ["status"],
            postgresql_concurrently=True, if_not_exists=True,
        )


def downgrade():
    op.drop_index("orders_status_idx", table_name="orders")
"""
        ),
        Example(
            """\
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    operations = [
        migrations.CreateModel(
            name="Invoice",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False))],
        ),
        migrations.AddIndex(
            model_name="invoice", index=models.Index(fields=["id"], name="invoice_id_idx")
        ),
        AddIndexConcurrently(
            model_name="order", index=models.Index(fields=["status"], name="order_status_idx")
        ),
    ]
"""
        ),
        Example(
            """\
def build_index(cursor):
    # Not a migration file: application code that happens to run DDL is out of scope.
    cursor.execute("CREATE INDEX orders_status_idx ON orders (status)")
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind not in (OpKind.CREATE_INDEX, OpKind.DROP_INDEX):
            return
        if op.concurrently or op.created_here:
            return
        if op.kind is OpKind.CREATE_INDEX:
            what = "builds a unique index" if op.unique else "builds the index"
            if op.api == "AddField":
                what = "builds its index"
            message = (
                f"`{op.api}`{on(op.table)} {what} without `CONCURRENTLY`: writes to the "
                "table wait until the build finishes"
            )
            help = pick(
                op,
                f"use CREATE INDEX CONCURRENTLY, {outside_transaction(migration)}",
                "pass postgresql_concurrently=True inside "
                "`with op.get_context().autocommit_block():`",
                "use AddIndexConcurrently (django.contrib.postgres.operations) in a migration "
                "with atomic = False",
            )
        else:
            message = (
                f"`{op.api}`{on(op.table)} without `CONCURRENTLY` takes an ACCESS EXCLUSIVE "
                "lock: every query on the table waits behind it"
            )
            help = pick(
                op,
                f"use DROP INDEX CONCURRENTLY, {outside_transaction(migration)}",
                "pass postgresql_concurrently=True inside "
                "`with op.get_context().autocommit_block():`",
                "use RemoveIndexConcurrently (django.contrib.postgres.operations) in a "
                "migration with atomic = False",
            )
        at = op.detail if op.api == "AddField" else None
        self.report_op(op, message, help=help, at=at)
