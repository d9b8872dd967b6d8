"""BE303 not-null-column-without-default: a required column added to a table that has rows."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, on, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
Adding a column declared `NOT NULL` without a default asks Postgres to fill existing rows with
`NULL` and then reject them: on any table that has rows the migration fails (`column ... contains
null values`). It passes on an empty development database and breaks on the first real one.

With a default the same statement is safe and, since Postgres 11, instant for a constant
default (the value is stored once in the catalog; rows are not rewritten).

Checked: `ADD COLUMN ... NOT NULL` in SQL, Alembic `op.add_column` with `nullable=False` and no
`server_default`, and Django `AddField` of a field that is neither `null=True` nor given a
`default`/`db_default` (`auto_now`/`auto_now_add` count as defaults). A table created earlier in
the same migration is empty, so it is skipped.

Applies to Postgres and SQLite (MySQL fills such a column with an implicit default).
"""

HOW_TO_FIX = """\
Give the column a default, or add it nullable, backfill it, and make it `NOT NULL` afterwards
(see BE310 for doing that last step without a long lock).

Raw SQL:

```sql
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
```

Alembic:

```python
op.add_column("orders", sa.Column("status", sa.Text(), nullable=False, server_default="new"))
```

Django (the default is used for existing rows):

```python
migrations.AddField("order", "status", models.TextField(default="new"))
```
"""


class NotNullColumnWithoutDefault(MigrationRule):
    meta = RuleMeta(
        code="BE303",
        name="not-null-column-without-default",
        summary="NOT NULL column added without a default fails on a table with rows",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES",
        ),
    )
    dialects = frozenset({"postgres", "sqlite"})
    sql_words = ("NOT NULL", "PRIMARY KEY")
    python_words = ("add_column", "AddField")

    bad = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN status text NOT NULL;  -- expect: BE303
ALTER TABLE orders ADD COLUMN note text, ADD COLUMN shipped boolean NOT NULL;  -- expect: BE303
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "d4"
down_revision = "c3"


def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False))  # expect: BE303


def downgrade():
    op.drop_column("orders", "status")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField(
            model_name="order",
            name="shipped",
            field=models.BooleanField(),  # expect: BE303
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ADD COLUMN id2 bigint GENERATED ALWAYS AS IDENTITY NOT NULL;
CREATE TABLE invoices (id bigint PRIMARY KEY);
ALTER TABLE invoices ADD COLUMN number text NOT NULL;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "d4"
down_revision = "c3"


def upgrade():
    op.add_column(
        "orders", sa.Column("status", sa.Text(), nullable=False, server_default="new")
    )
    op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("orders", "status")
"""
        ),
        Example(
            """\
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("order", "shipped", models.BooleanField(default=False)),
        migrations.AddField("order", "note", models.TextField(null=True)),
        migrations.AddField(
            "order", "created", models.DateTimeField(default=django.utils.timezone.now)
        ),
        migrations.AddField("order", "updated", models.DateTimeField(auto_now=True)),
        migrations.AddField("order", "tags", models.ManyToManyField(to="shop.tag")),
        migrations.AddField("order", "code", models.CharField(max_length=20, blank=True)),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.ADD_COLUMN or not op.not_null or op.has_default:
            return
        if op.created_here:
            return
        column = f" `{op.column}`" if op.column else ""
        self.report_op(
            op,
            f"`{op.api}` adds NOT NULL column{column}{on(op.table)} without a default: it fails "
            "as soon as the table has rows",
            help=pick(
                op,
                "add a DEFAULT (instant for constants since Postgres 11), or add the column "
                "nullable, backfill it, then set NOT NULL",
                "pass server_default=..., or add it nullable=True, backfill, then make it NOT NULL",
                "give the field a default= (or db_default=), or null=True",
            ),
            at=op.detail,
        )
