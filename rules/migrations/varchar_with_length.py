"""BE312 varchar-with-length: length-limited text columns that cost a migration to change."""

from __future__ import annotations

from be_lint.migrations import ColumnSpec, Migration, MigrationRule, Op, OpKind, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
In Postgres `varchar(n)` is `text` with a length check, stored the same way and no faster. The
limit is a business rule hidden in the type: raising it is a migration, lowering it rewrites the
table under an `ACCESS EXCLUSIVE` lock, and changing the type of a column also breaks views and
functions that depend on it. `char(n)` is worse: it pads values with spaces, which then take part
in comparisons and lengths in surprising ways.

Checked: column types in `CREATE TABLE`, `ADD COLUMN` and `ALTER COLUMN TYPE` in SQL, and in
Alembic `op.create_table`/`op.add_column`/`op.alter_column` (`sa.String(n)`, `sa.VARCHAR(n)`,
`sa.Unicode(n)`, `sa.CHAR`). Django's `CharField` is not reported: it requires a `max_length`
on most versions (Django 4.2+ accepts `max_length=None` on Postgres, or use `TextField`).

Postgres only (`sql-dialect = "postgres"`, the default): in MySQL a `varchar` length is what lets the column be indexed.
"""

HOW_TO_FIX = """\
Use `text`, with a `CHECK` constraint when the limit really is a rule -- a check can be replaced
without touching the column.

Raw SQL:

```sql
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL CHECK (char_length(email) <= 320)
);
```

Alembic:

```python
sa.Column("email", sa.Text(), sa.CheckConstraint("char_length(email) <= 320"), nullable=False)
```

Django:

```python
email = models.TextField(validators=[MaxLengthValidator(320)])
```
"""


class VarcharWithLength(MigrationRule):
    meta = RuleMeta(
        code="BE312",
        name="varchar-with-length",
        summary="varchar(n)/char(n) column: prefer text with a check constraint",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=(
            "https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_varchar.28n.29_by_default",
        ),
    )
    sql_words = ("VARCHAR", "VARYING", "CHAR", "CHARACTER", "NCHAR", "NVARCHAR", "BPCHAR")
    python_words = ("String(", "VARCHAR(", "Unicode(", "NVARCHAR(", "CHAR")

    bad = (
        Example(
            """\
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    email varchar(255) NOT NULL,  -- expect: BE312
    country char(2)  -- expect: BE312
);
ALTER TABLE orders ADD COLUMN coupon character varying(20);  -- expect: BE312
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "m13"
down_revision = "l12"


def upgrade():
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),  # expect: BE312
    )
    op.add_column("orders", sa.Column("coupon", sa.String(length=20)))  # expect: BE312


def downgrade():
    op.drop_table("customers")
"""
        ),
    )
    good = (
        Example(
            """\
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    email text NOT NULL CHECK (char_length(email) <= 320),
    nickname varchar
);
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "m13"
down_revision = "l12"


def upgrade():
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("nickname", sa.String()),
    )


def downgrade():
    op.drop_table("customers")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("customer", "country", models.CharField(max_length=2, null=True)),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind not in (OpKind.CREATE_TABLE, OpKind.ADD_COLUMN, OpKind.ALTER_TYPE):
            return
        for column in op.columns:
            self._column(op, column)

    def _column(self, op: Op, column: ColumnSpec) -> None:
        ctype = column.type
        if ctype is None:
            return
        name = f"`{column.name}` " if column.name else ""
        written = ctype.written or ctype.family
        if ctype.family == "varchar" and ctype.length is not None:
            message = (
                f"column {name}is `{written}`: the length limit costs a migration to change; "
                "prefer text with a CHECK constraint"
            )
        elif ctype.family == "char":
            message = (
                f"column {name}is `{written}`: char(n) pads values with spaces; prefer text "
                "(with a CHECK constraint if the length matters)"
            )
        else:
            return
        self.report_op(
            op,
            message,
            help=pick(
                op,
                "use text, plus CHECK (char_length(col) <= n) if the limit is a rule",
                "use sa.Text(), plus sa.CheckConstraint if the limit is a rule",
                "use TextField",
            ),
            at=column.loc,
        )
