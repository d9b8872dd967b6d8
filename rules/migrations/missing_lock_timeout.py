"""BE315 missing-lock-timeout: DDL that can queue every query behind it while it waits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from be_lint.context import FileContext
from be_lint.migrations import (
    SCHEMA_KINDS,
    Migration,
    MigrationKind,
    MigrationRule,
    Op,
    OpKind,
    on,
)
from be_lint.rule import Confidence, Example, RuleMeta, Severity, option

RATIONALE = """\
Most `ALTER TABLE` forms, `DROP TABLE`, `DROP INDEX` and `CREATE INDEX` need a strong lock,
and they must wait for every transaction already using the table. While they wait, every new
query on the table queues *behind* them. One long-running report or an idle-in-transaction
session is then enough to turn a one-millisecond `ALTER TABLE` into a full outage of the table.

`SET lock_timeout` makes the statement give up after a short wait instead (the migration fails
and can be retried) -- the queue never builds up.

The rule reports the first such statement of a migration that has no `SET lock_timeout` (or
`set_config('lock_timeout', ...)`) before it; tables created in the same migration and
`CONCURRENTLY` operations do not count. It checks `.sql` files. Alembic and Django usually set
timeouts once per connection (`env.py`, `DATABASES[...]["OPTIONS"]`), where a per-file check
cannot see them, so their migrations are checked only with the `python-migrations` option.

Postgres only (`sql-dialect = "postgres"`, the default).
"""

HOW_TO_FIX = """\
Set a short lock timeout at the top of the migration (and retry the deployment if it fires).

Raw SQL:

```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
```

Alembic (per revision, or once in `env.py` for every revision):

```python
def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.add_column("orders", sa.Column("note", sa.Text()))
```

Django (per migration, or for every connection with
`"OPTIONS": {"options": "-c lock_timeout=2000"}`):

```python
operations = [
    migrations.RunSQL("SET lock_timeout = '2s'", migrations.RunSQL.noop),
    migrations.AddField("order", "note", models.TextField(null=True)),
]
```
"""


@dataclass(frozen=True)
class Options:
    python_migrations: bool = option(
        False,
        "Also check Alembic and Django migrations (enable when your project does not set "
        "lock_timeout in env.py or the database OPTIONS).",
    )


class MissingLockTimeout(MigrationRule):
    meta = RuleMeta(
        code="BE315",
        name="missing-lock-timeout",
        summary="DDL without a lock_timeout can stall every query on the table",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT",
        ),
    )
    options_class = Options
    sql_words = ("ALTER", "DROP", "INDEX", "TRUNCATE")

    bad = (
        Example(
            """\
ALTER TABLE orders ADD COLUMN note text;  -- expect: BE315
ALTER TABLE orders DROP COLUMN legacy;
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "p16"
down_revision = "o15"


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))  # expect: BE315


def downgrade():
    op.drop_column("orders", "note")
""",
            options={"python-migrations": True},
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("order", "note", models.TextField(null=True)),  # expect: BE315
    ]
""",
            options={"python-migrations": True},
        ),
    )
    good = (
        Example(
            """\
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
""",
            filename="example.sql",
        ),
        Example(
            """\
CREATE TABLE invoices (id bigint PRIMARY KEY);
ALTER TABLE invoices ADD COLUMN number text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
""",
            filename="example.sql",
        ),
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "p16"
down_revision = "o15"


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))


def downgrade():
    op.drop_column("orders", "note")
"""
        ),
        Example(
            """\
from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("SET lock_timeout = '2s'", migrations.RunSQL.noop),
        migrations.AddField("order", "note", models.TextField(null=True)),
    ]
""",
            options={"python-migrations": True},
        ),
    )

    def __init__(self, ctx: FileContext, options: Any) -> None:
        super().__init__(ctx, options)
        self._reported = False

    def check_op(self, op: Op, migration: Migration) -> None:
        if self._reported or not _heavy(op):
            return
        if migration.kind is not MigrationKind.SQL and not self.options.python_migrations:
            return
        if any(
            earlier.kind is OpKind.SETTING and earlier.name == "lock_timeout"
            for earlier in migration.ops[: op.index]
        ):
            return
        self._reported = True
        self.report_op(
            op,
            f"`{op.api}`{on(op.table)} waits for a strong lock with no lock_timeout set: "
            "while it waits, every query on the table queues behind it",
            help="set a short lock_timeout first (SET lock_timeout = '2s') and retry the "
            "migration if it fires",
        )


def _heavy(op: Op) -> bool:
    return op.kind in SCHEMA_KINDS and not op.created_here and not op.concurrently
