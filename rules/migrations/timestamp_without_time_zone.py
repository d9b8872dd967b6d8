"""BE314 timestamp-without-time-zone: columns that store a wall-clock time without its zone."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
`timestamp` (`timestamp without time zone`) stores a date and a clock reading with no zone:
`2024-03-31 02:30` written by a server in Berlin and one in New York look the same, values
written with a session `TimeZone` are silently shifted by others, and daylight-saving changes
create duplicate or missing hours. `timestamptz` stores an absolute instant (in UTC) and converts
on the way in and out; it takes the same eight bytes.

Checked: column types in `CREATE TABLE`, `ADD COLUMN` and `ALTER COLUMN TYPE` in SQL, and
`sa.DateTime()`/`sa.TIMESTAMP()` without `timezone=True` in Alembic. Django's `DateTimeField`
is always `timestamp with time zone` on Postgres, so Django migrations are not affected.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Raw SQL:

```sql
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
```

Alembic:

```python
sa.Column("shipped_at", sa.DateTime(timezone=True))
```

Django: `models.DateTimeField()` already maps to `timestamptz`.
"""


class TimestampWithoutTimeZone(MigrationRule):
    meta = RuleMeta(
        code="BE314",
        name="timestamp-without-time-zone",
        summary="timestamp column without time zone; use timestamptz",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=(
            "https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29",
        ),
    )
    sql_words = ("TIMESTAMP",)
    python_words = ("DateTime", "TIMESTAMP", "DATETIME")

    bad = (
        Example(
            """\
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    placed_at timestamp NOT NULL,  -- expect: BE314
    paid_at timestamp(3) without time zone  -- expect: BE314
);
ALTER TABLE orders ADD COLUMN shipped_at timestamp;  -- expect: BE314
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "o15"
down_revision = "n14"


def upgrade():
    op.add_column("orders", sa.Column("shipped_at", sa.DateTime()))  # expect: BE314
    op.add_column("orders", sa.Column("paid_at", sa.TIMESTAMP(timezone=False)))  # expect: BE314


def downgrade():
    op.drop_column("orders", "shipped_at")
"""
        ),
    )
    good = (
        Example(
            """\
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    placed_at timestamptz NOT NULL,
    paid_at timestamp with time zone,
    ships_on date
);
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "o15"
down_revision = "n14"


def upgrade():
    op.add_column("orders", sa.Column("shipped_at", sa.DateTime(timezone=True)))
    op.add_column("orders", sa.Column("paid_at", sa.TIMESTAMP(True)))


def downgrade():
    op.drop_column("orders", "shipped_at")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("order", "shipped_at", models.DateTimeField(null=True)),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind not in (OpKind.CREATE_TABLE, OpKind.ADD_COLUMN, OpKind.ALTER_TYPE):
            return
        for column in op.columns:
            ctype = column.type
            if ctype is None or ctype.family != "timestamp":
                continue
            name = f"`{column.name}` " if column.name else ""
            self.report_op(
                op,
                f"column {name}is `{ctype.written or 'timestamp'}` without a time zone: "
                "values are ambiguous across zones and daylight-saving changes",
                help=pick(
                    op,
                    "use timestamptz",
                    "use sa.DateTime(timezone=True)",
                    "use DateTimeField",
                ),
                at=column.loc,
            )
