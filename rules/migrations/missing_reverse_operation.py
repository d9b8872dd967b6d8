"""BE319 missing-reverse-operation: RunPython/RunSQL that make a Django migration irreversible."""

from __future__ import annotations

from be_lint.migrations import Migration, MigrationRule, Op, OpKind
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
Django can only unapply a migration when every operation in it knows how to undo itself.
`RunPython` without `reverse_code` and `RunSQL` without `reverse_sql` cannot, so
`migrate app 0042` to roll back a bad release stops with `IrreversibleError` at this migration --
usually in the middle of an incident, and blocking the rollback of everything after it too.

Often nothing needs undoing (a backfill of a column that the reverse migration drops anyway): say
so with `migrations.RunPython.noop` / `migrations.RunSQL.noop`.
"""

HOW_TO_FIX = """\
```python
migrations.RunPython(fill_status, reverse_code=migrations.RunPython.noop)
migrations.RunSQL(
    "CREATE INDEX CONCURRENTLY order_status_idx ON shop_order (status)",
    reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS order_status_idx",
)
```

In raw SQL and Alembic the equivalent is a down migration or a `downgrade()` (see BE320).
"""


class MissingReverseOperation(MigrationRule):
    meta = RuleMeta(
        code="BE319",
        name="missing-reverse-operation",
        summary="RunPython/RunSQL without a reverse makes the migration irreversible",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.djangoproject.com/en/stable/ref/migration-operations/#runpython",
        ),
    )
    dialects = None
    file_kinds = frozenset({FileKind.PYTHON})
    python_words = ("RunPython", "RunSQL")

    bad = (
        Example(
            """\
from django.db import migrations


def fill_status(apps, schema_editor):
    apps.get_model("shop", "Order").objects.filter(status=None).update(status="new")


class Migration(migrations.Migration):
    operations = [
        migrations.RunPython(fill_status),  # expect: BE319
        migrations.RunSQL("UPDATE shop_order SET note = '' WHERE note IS NULL"),  # expect: BE319
    ]
"""
        ),
    )
    good = (
        Example(
            """\
from django.db import migrations


def fill_status(apps, schema_editor):
    apps.get_model("shop", "Order").objects.filter(status=None).update(status="new")


class Migration(migrations.Migration):
    operations = [
        migrations.RunPython(fill_status, migrations.RunPython.noop),
        migrations.RunPython(code=fill_status, reverse_code=fill_status),
        migrations.RunSQL(
            "CREATE VIEW order_totals AS SELECT 1", reverse_sql="DROP VIEW order_totals"
        ),
        migrations.RunSQL("SELECT 1", migrations.RunSQL.noop),
    ]
"""
        ),
        Example(
            """\
from alembic import op

revision = "t20"
down_revision = "s19"


def upgrade():
    op.execute("UPDATE orders SET note = '' WHERE note IS NULL")


def downgrade():
    pass
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        if op.kind not in (OpKind.RUN_PYTHON, OpKind.RUN_SQL) or op.has_reverse:
            return
        if op.kind is OpKind.RUN_PYTHON:
            message = "`RunPython` has no reverse_code: this migration cannot be unapplied"
            help = "pass reverse_code= (migrations.RunPython.noop when nothing needs undoing)"
        else:
            message = "`RunSQL` has no reverse_sql: this migration cannot be unapplied"
            help = "pass reverse_sql= (migrations.RunSQL.noop when nothing needs undoing)"
        self.report_op(op, message, help=help)
