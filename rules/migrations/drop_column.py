"""BE308 drop-column: dropping a column the running release still reads."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind, on, pick
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
The release still running during the deployment selects, inserts and updates the column: once
it is gone those queries fail -- ORMs name every mapped column, so even code that never touches
the field breaks. A dropped column also cannot be brought back with its data by a rollback.

Checked: `DROP COLUMN` in SQL, Alembic `op.drop_column`, and Django `RemoveField` (also inside
`SeparateDatabaseAndState(database_operations=...)`). The downgrade direction is not checked.
"""

HOW_TO_FIX = """\
Remove the column from the code first, release, and drop it in a later migration.

Raw SQL (in the migration after the code stopped using it):

```sql
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_code;
```

Alembic: remove the attribute from the model in one release; `op.drop_column` in the next.

Django: remove the field from the model state only, then drop the column later:

```python
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.RemoveField("order", "legacy_code")],
)
# a later migration:
migrations.RunSQL("ALTER TABLE shop_order DROP COLUMN legacy_code", migrations.RunSQL.noop)
```
"""


class DropColumn(MigrationRule):
    meta = RuleMeta(
        code="BE308",
        name="drop-column",
        summary="Dropping a column breaks code that still uses it",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=("https://www.postgresql.org/docs/current/sql-altertable.html",),
    )
    dialects = None
    sql_words = ("DROP",)
    python_words = ("drop_column", "RemoveField")

    bad = (
        Example(
            """\
ALTER TABLE orders DROP COLUMN legacy_code;  -- expect: BE308
""",
            filename="example.sql",
        ),
        Example(
            """\
from alembic import op

revision = "i9"
down_revision = "h8"


def upgrade():
    op.drop_column("orders", "legacy_code")  # expect: BE308


def downgrade():
    pass
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.RemoveField(model_name="order", name="legacy_code"),  # expect: BE308
    ]
"""
        ),
    )
    good = (
        Example(
            """\
ALTER TABLE orders DROP CONSTRAINT orders_legacy_check;
ALTER TABLE orders ALTER COLUMN legacy_code DROP NOT NULL;
CREATE TABLE staging (id bigint, tmp text);
ALTER TABLE staging DROP COLUMN tmp;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "i9"
down_revision = "h8"


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))


def downgrade():
    op.drop_column("orders", "note")
"""
        ),
        Example(
            """\
from django.db import migrations


class Migration(migrations.Migration):
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("order", "legacy_code")],
        ),
    ]
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind is not OpKind.DROP_COLUMN or op.created_here:
            return
        column = f" `{op.column}`" if op.column else ""
        self.report_op(
            op,
            f"dropping column{column}{on(op.table)} breaks the running code that still reads "
            "or writes it",
            help=pick(
                op,
                "stop using the column in a release first, then drop it in a later migration",
                "remove the attribute from the model in one release, drop the column in the next",
                "remove the field from the state first (SeparateDatabaseAndState), drop the "
                "column in a later migration",
            ),
        )
