"""BE313 int-primary-key: 32-bit primary keys that run out."""

from __future__ import annotations

from be_lint.migrations import ColumnSpec, Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

_SMALL = frozenset({"smallint", "integer", "serial", "smallserial"})

RATIONALE = """\
An `integer` key stops at 2,147,483,647 (`smallint` at 32,767). Sequences also skip values on
rolled-back inserts and upserts, so busy tables reach the limit sooner than their row count
suggests. When it happens every insert fails, and widening the key then means rewriting the
table and every foreign key that points at it, under exclusive locks -- the most expensive
migration there is. `bigint` costs four more bytes per row.

`serial` columns also own a sequence with its own permissions and ownership; an identity column
(`GENERATED ... AS IDENTITY`) is the standard replacement.

Checked: primary key columns declared `integer`/`int`/`smallint`/`serial`/`smallserial` in SQL,
`sa.Integer`/`sa.SmallInteger` primary key columns in Alembic, and Django `AutoField`,
`SmallAutoField` and `IntegerField(primary_key=True)` in `CreateModel` (set
`DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"`).

Not checked for SQLite, whose `INTEGER PRIMARY KEY` is already 64 bits.
"""

HOW_TO_FIX = """\
Raw SQL:

```sql
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
```

Alembic:

```python
sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True)
```

Django (settings, or per app in `AppConfig.default_auto_field`):

```python
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
```
"""


class IntPrimaryKey(MigrationRule):
    meta = RuleMeta(
        code="BE313",
        name="int-primary-key",
        summary="32-bit integer primary key will overflow; use bigint",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=(
            "https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_serial",
            "https://docs.djangoproject.com/en/stable/ref/settings/#default-auto-field",
        ),
    )
    dialects = frozenset({"postgres", "mysql", "tsql", "oracle"})
    sql_words = ("PRIMARY",)
    python_words = ("primary_key",)

    bad = (
        Example(
            """\
CREATE TABLE orders (
    id serial PRIMARY KEY,  -- expect: BE313
    total numeric
);
CREATE TABLE order_lines (
    id integer,  -- expect: BE313
    PRIMARY KEY (id)
);
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "n14"
down_revision = "m13"


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),  # expect: BE313
    )


def downgrade():
    op.drop_table("orders")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                (
                    "id",
                    models.AutoField(  # expect: BE313
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
        ),
    ]
"""
        ),
    )
    good = (
        Example(
            """\
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    line_count integer NOT NULL
);
CREATE TABLE order_lines (id bigserial PRIMARY KEY, order_id bigint, qty int);
CREATE TABLE tags (id uuid PRIMARY KEY);
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "n14"
down_revision = "m13"


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
    )


def downgrade():
    op.drop_table("orders")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("lines", models.IntegerField()),
            ],
        ),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind not in (OpKind.CREATE_TABLE, OpKind.ADD_COLUMN):
            return
        for column in op.columns:
            primary = column.primary_key or (
                op.kind is OpKind.ADD_COLUMN and "primary-key" in op.inline
            )
            if primary:
                self._column(op, column)

    def _column(self, op: Op, column: ColumnSpec) -> None:
        ctype = column.type
        if ctype is None or ctype.family not in _SMALL:
            return
        name = f"`{column.name}` " if column.name else ""
        self.report_op(
            op,
            f"primary key {name}is `{ctype.written or ctype.family}` (32 bits or less): it "
            "overflows on a busy table, and widening it later rewrites the table",
            help=pick(
                op,
                "use bigint GENERATED ALWAYS AS IDENTITY",
                "use sa.BigInteger() with sa.Identity()",
                'use BigAutoField (DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField")',
            ),
            at=column.loc,
        )
