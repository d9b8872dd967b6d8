"""BE320 empty-downgrade: an Alembic downgrade() that silently does nothing."""

from __future__ import annotations

import libcst as cst

from be_lint.migrations import Migration, MigrationKind, MigrationRule, Op
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
`alembic downgrade` runs each revision's `downgrade()`. When `upgrade()` changed the schema and
`downgrade()` is just `pass`, the downgrade "succeeds", records the older revision as current,
and leaves the database in the newer shape: the next `upgrade` then fails (`column ... already
exists`), or the older code runs against a schema it does not expect.

Say what should happen: undo the upgrade, or raise to make the revision explicitly
irreversible. A `downgrade()` with a docstring or a comment explaining why it does nothing (a
data-only migration) is taken as deliberate and not reported.
"""

HOW_TO_FIX = """\
```python
def downgrade():
    op.drop_column("orders", "note")
```

or, when it cannot be undone:

```python
def downgrade():
    raise NotImplementedError("orders.note cannot be restored once dropped")
```

The raw-SQL equivalent is a down migration; Django's is a reverse for `RunPython`/`RunSQL`
(BE319).
"""


class EmptyDowngrade(MigrationRule):
    meta = RuleMeta(
        code="BE320",
        name="empty-downgrade",
        summary="Alembic downgrade() does nothing while upgrade() changes the schema",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.HIGH,
        references=(
            "https://alembic.sqlalchemy.org/en/latest/tutorial.html#running-our-second-migration",
        ),
    )
    dialects = None
    file_kinds = frozenset({FileKind.PYTHON})
    python_words = ("downgrade",)

    bad = (
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "u21"
down_revision = "t20"


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))


def downgrade():  # expect: BE320
    pass
"""
        ),
    )
    good = (
        Example(
            """\
import sqlalchemy as sa
from alembic import op

revision = "u21"
down_revision = "t20"


def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text()))


def downgrade():
    op.drop_column("orders", "note")
"""
        ),
        Example(
            """\
from alembic import op

revision = "u21"
down_revision = "t20"


def upgrade():
    op.execute("UPDATE orders SET note = '' WHERE note IS NULL")


def downgrade():
    # Data-only migration: nothing to undo.
    pass
"""
        ),
        Example(
            """\
from alembic import op

revision = "u21"
down_revision = "t20"


def upgrade():
    op.drop_column("orders", "legacy")


def downgrade():
    raise NotImplementedError("legacy cannot be restored")
"""
        ),
        Example(
            """\
from alembic import op

revision = "merge1"
down_revision = ("t20", "t19")


def upgrade():
    pass


def downgrade():
    pass
"""
        ),
    )

    def check_op(self, op: Op, migration: Migration) -> None:
        return

    def visit_Call(self, node: cst.Call) -> object:
        return None  # this rule reads function bodies, not operations

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        migration = self.migration
        if migration is None or migration.kind is not MigrationKind.ALEMBIC:
            return
        if not any(node is d for d in migration.downgrades):
            return
        module = self.ctx.module
        if module is None or not _empty(node, module):
            return
        if all(_empty(upgrade, module) for upgrade in migration.upgrades):
            return
        self.report(
            node.name,
            f"`{node.name.value}()` does nothing while the upgrade changes the database: a "
            "downgrade will record the old revision but keep the new schema",
            help="undo the upgrade's changes, or raise NotImplementedError to make the "
            "revision explicitly irreversible",
        )


def _empty(function: cst.FunctionDef, module: cst.Module) -> bool:
    """Only ``pass``/``...``, with no docstring or comment saying why."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        return False
    # A comment in the body (not on the ``def`` line itself) explains the emptiness.
    inner = "".join(module.code_for_node(statement) for statement in body.body)
    footer = body.footer if isinstance(body, cst.IndentedBlock) else ()
    if "#" in inner or any(line.comment is not None for line in footer):
        return False
    for statement in body.body:
        smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
        for small in smalls:
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis):
                continue
            return False
    return True
