"""The migration model (``be_lint.migrations``): detection, operations, transactions, positions.

Rule behaviour is covered by each rule's own examples; these tests pin down the shared layer
the BE3xx rules stand on, and the regressions found on real projects.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from be_lint.context import FileContext
from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.migrations import (
    Migration,
    MigrationKind,
    Op,
    OpKind,
    analyze,
    detect_kind,
    in_migration,
    is_down_sql_path,
    looks_like_migration,
    same_transaction,
)
from be_lint.rule import FileKind, Finding

RULES = builtin_rules()
ALL_BE3 = tuple(sorted(r.meta.code for r in RULES if r.meta.code.startswith("BE3")))


def _ctx(text: str, path: str = "app/migrations/0002_change.py") -> FileContext:
    text = textwrap.dedent(text)
    kind = FileKind.SQL if path.endswith(".sql") else FileKind.PYTHON
    module = cst.parse_module(text) if kind is FileKind.PYTHON else None
    return FileContext(path=path, kind=kind, text=text, module=module, dialect="postgres")


def _migration(text: str, path: str = "app/migrations/0002_change.py") -> Migration:
    found = analyze(_ctx(text, path))
    assert found is not None
    return found


def _sql(text: str) -> Migration:
    return _migration(text, "migrations/0002_change.sql")


def _kinds(migration: Migration) -> list[OpKind]:
    return [op.kind for op in migration.ops]


def _check(text: str, path: str, codes: tuple[str, ...] = ALL_BE3) -> list[Finding]:
    text = textwrap.dedent(text)
    checker = Checker(Settings(selected=codes), RULES)
    kind = FileKind.SQL if path.endswith(".sql") else FileKind.PYTHON
    return checker.check_text(text, path, kind)


def _span_text(op: Op) -> str:
    assert op.loc.stmt is not None and op.loc.span is not None
    start, end = op.loc.span
    return op.loc.stmt.source.text[start:end]


ALEMBIC_HEAD = """\
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"

"""

DJANGO_HEAD = """\
from django.db import migrations, models

"""

# -- detection ---------------------------------------------------------------------------------


def test_detects_alembic_django_and_sql() -> None:
    alembic = ALEMBIC_HEAD + "def upgrade():\n    pass\n"
    django = DJANGO_HEAD + "class Migration(migrations.Migration):\n    operations = []\n"
    assert detect_kind("versions/x.py", alembic, FileKind.PYTHON) is MigrationKind.ALEMBIC
    assert detect_kind("app/migrations/0001.py", django, FileKind.PYTHON) is MigrationKind.DJANGO
    assert detect_kind("db/001.sql", "ALTER TABLE t ADD x int;", FileKind.SQL) is MigrationKind.SQL
    assert looks_like_migration(alembic) and looks_like_migration(django)


@pytest.mark.parametrize(
    "text",
    [
        "from alembic import op\n",  # no upgrade()
        "def upgrade():\n    pass\n",  # no alembic import
        "class Migration:\n    pass\n",  # not a Django migration base
        "from alembic.config import Config\n\ndef upgrade():\n    pass\n",
    ],
)
def test_python_files_that_are_not_migrations(text: str) -> None:
    assert detect_kind("x.py", text, FileKind.PYTHON) is None
    assert not looks_like_migration(text)


@pytest.mark.parametrize(
    "path",
    ["db/0003_x.down.sql", "migrations/rollback/0003.sql", "sql/U3__undo_orders.sql", "down.sql"],
)
def test_reverse_sql_files_are_skipped(path: str) -> None:
    assert is_down_sql_path(path)
    assert detect_kind(path, "DROP TABLE orders;", FileKind.SQL) is None


@pytest.mark.parametrize(
    "path", ["db/0003_x.up.sql", "markdown/notes.sql", "migrations/V3__orders.sql"]
)
def test_forward_sql_files_are_checked(path: str) -> None:
    assert not is_down_sql_path(path)


def test_statements_after_a_down_marker_are_skipped() -> None:
    migration = _sql(
        """\
        -- migrate:up
        ALTER TABLE orders ADD COLUMN note text;
        -- migrate:down
        ALTER TABLE orders DROP COLUMN note;
        """
    )
    assert _kinds(migration) == [OpKind.ADD_COLUMN]


def test_in_migration() -> None:
    assert in_migration(_ctx("CREATE INDEX i ON t (a);", "q/x.sql"))
    assert not in_migration(_ctx("SELECT * FROM t;", "q/x.sql"))
    assert not in_migration(_ctx("x = 1\n", "app/views.py"))


# -- SQL operations ----------------------------------------------------------------------------


def test_alter_table_actions_each_get_their_own_span() -> None:
    migration = _sql(
        """\
        ALTER TABLE IF EXISTS ONLY "Orders" ADD COLUMN a int NOT NULL,
            ADD COLUMN b varchar(20) DEFAULT 'x', ALTER COLUMN c TYPE bigint USING c::bigint,
            ALTER COLUMN d SET NOT NULL, DROP COLUMN IF EXISTS e, RENAME COLUMN f TO g;
        """
    )
    ops = migration.ops
    assert [op.kind for op in ops] == [
        OpKind.ADD_COLUMN,
        OpKind.ADD_COLUMN,
        OpKind.ALTER_TYPE,
        OpKind.SET_NOT_NULL,
        OpKind.DROP_COLUMN,
        OpKind.RENAME_COLUMN,
    ]
    assert {op.table for op in ops} == {"Orders"}
    assert [_span_text(op) for op in ops] == [
        "ADD COLUMN a int NOT NULL",
        "ADD COLUMN b varchar(20) DEFAULT 'x'",
        "ALTER COLUMN c TYPE bigint USING c::bigint",
        "ALTER COLUMN d SET NOT NULL",
        "DROP COLUMN IF EXISTS e",
        "RENAME COLUMN f TO g",
    ]
    assert ops[0].not_null and not ops[0].has_default
    assert ops[1].has_default and ops[1].columns[0].type is not None
    assert ops[1].columns[0].type.family == "varchar" and ops[1].columns[0].type.length == 20
    assert ops[4].guarded
    assert _span_text_of_type(ops[2]) == "bigint"


def _span_text_of_type(op: Op) -> str:
    loc = op.columns[0].loc
    assert loc.stmt is not None and loc.span is not None
    return loc.stmt.source.text[loc.span[0] : loc.span[1]]


def test_statements_sqlglot_reads_as_commands() -> None:
    migration = _sql(
        """\
        ALTER TABLE orders VALIDATE CONSTRAINT orders_fk;
        ALTER TABLE orders ADD CONSTRAINT orders_key UNIQUE USING INDEX orders_idx;
        ALTER TABLE orders DETACH PARTITION orders_2020 CONCURRENTLY;
        REINDEX INDEX CONCURRENTLY orders_idx;
        START TRANSACTION;
        END;
        SELECT set_config('lock_timeout', '2s', false);
        """
    )
    ops = migration.ops
    assert _kinds(migration) == [
        OpKind.VALIDATE_CONSTRAINT,
        OpKind.ADD_CONSTRAINT,
        OpKind.ALTER_OTHER,
        OpKind.REINDEX,
        OpKind.BEGIN,
        OpKind.COMMIT,
        OpKind.SETTING,
    ]
    assert ops[0].name == "orders_fk"
    assert ops[1].using_index and ops[1].constraint == "unique"
    assert ops[2].concurrently and ops[3].concurrently
    assert ops[6].name == "lock_timeout"


def test_create_index_variants() -> None:
    migration = _sql(
        """\
        CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON ONLY public.orders USING btree (lower(a));
        CREATE INDEX ON orders (b);
        DROP INDEX CONCURRENTLY IF EXISTS public.a_idx;
        """
    )
    first, second, third = migration.ops
    assert (first.unique, first.concurrently, first.guarded) == (True, True, True)
    assert first.table == "public.orders" and first.name == "a_idx"
    assert second.table == "orders" and second.name is None
    assert third.kind is OpKind.DROP_INDEX and third.concurrently and third.guarded


def test_quoted_names_and_strings_never_read_as_keywords() -> None:
    migration = _sql(
        """\
        ALTER TABLE "set" ADD COLUMN "drop" text DEFAULT ',', ADD COLUMN n int;
        """
    )
    assert _kinds(migration) == [OpKind.ADD_COLUMN, OpKind.ADD_COLUMN]
    assert migration.ops[0].table == "set"


def test_update_shapes() -> None:
    migration = _sql(
        """\
        UPDATE t SET a = 1;
        UPDATE t SET a = 1 WHERE true;
        UPDATE t SET a = 1 WHERE a IS NULL OR b IS NULL;
        UPDATE t SET a = 1 WHERE id = 5;
        UPDATE t SET a = 1 WHERE id IN (SELECT id FROM t WHERE a IS NULL LIMIT 100);
        UPDATE t SET a = u.b FROM u WHERE u.id = t.id;
        """
    )
    assert [op.full_table for op in migration.ops] == [True, True, False, False, False, False]
    assert migration.ops[2].null_backfill == {"a", "b"}


def test_volatile_defaults_and_generated_columns() -> None:
    migration = _sql(
        """\
        ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid();
        ALTER TABLE t ADD COLUMN b timestamptz DEFAULT now();
        ALTER TABLE t ADD COLUMN c bigserial;
        ALTER TABLE t ADD COLUMN d int GENERATED ALWAYS AS (x * 2) STORED;
        ALTER TABLE t ADD COLUMN e float DEFAULT random();
        """
    )
    assert [bool(op.volatile_default) for op in migration.ops] == [True, False, True, False, True]
    assert migration.ops[3].generated_stored


def test_broken_sql_never_raises() -> None:
    migration = _sql(
        """\
        ALTER TABLE;
        ALTER TABLE orders;
        CREATE INDEX;
        DROP INDEX;
        SET;
        ALTER TABLE orders ADD COLUMN (;
        """
    )
    assert isinstance(migration.ops, list)


# -- transactions and tables created here ---------------------------------------------------------


def test_sql_file_transactions_follow_begin_and_commit() -> None:
    migration = _sql(
        """\
        ALTER TABLE a ADD COLUMN x int;
        BEGIN;
        ALTER TABLE b ADD COLUMN x int;
        COMMIT;
        ALTER TABLE c ADD COLUMN x int;
        """
    )
    states = {op.table: op.in_transaction for op in migration.ops if op.table}
    assert states == {"a": None, "b": True, "c": False}


def test_alembic_autocommit_block_and_commit() -> None:
    migration = _migration(
        ALEMBIC_HEAD
        + textwrap.dedent(
            """\
            def upgrade():
                op.add_column("a", sa.Column("x", sa.Text()))
                with op.get_context().autocommit_block():
                    op.create_index("i", "b", ["x"], postgresql_concurrently=True)
                op.execute("COMMIT")
                op.create_index("j", "c", ["x"], postgresql_concurrently=True)


            def downgrade():
                op.drop_column("a", "x")
            """
        )
    )
    states = [(op.kind, op.table, op.in_transaction) for op in migration.ops]
    assert states == [
        (OpKind.ADD_COLUMN, "a", True),
        (OpKind.CREATE_INDEX, "b", False),
        (OpKind.COMMIT, None, True),
        (OpKind.CREATE_INDEX, "c", False),
    ]
    assert migration.ops[1].autocommit


def test_django_atomic_false() -> None:
    migration = _migration(
        DJANGO_HEAD
        + textwrap.dedent(
            """\
            class Migration(migrations.Migration):
                atomic = False
                operations = [migrations.RunSQL("ALTER TABLE t ADD COLUMN x int", migrations.RunSQL.noop)]
            """
        )
    )
    assert not migration.atomic
    assert [op.in_transaction for op in migration.ops] == [False, False]


def test_same_transaction() -> None:
    migration = _sql(
        """\
        BEGIN;
        ALTER TABLE a ADD COLUMN x int;
        ALTER TABLE a ADD COLUMN y int;
        COMMIT;
        BEGIN;
        ALTER TABLE a ADD COLUMN z int;
        COMMIT;
        """
    )
    x, y, z = (op for op in migration.ops if op.kind is OpKind.ADD_COLUMN)
    assert same_transaction(migration, x, y)
    assert not same_transaction(migration, y, z)


def test_tables_created_here_in_each_source() -> None:
    sql = _sql(
        "CREATE TABLE IF NOT EXISTS public.Invoices (id bigint);\nCREATE INDEX i ON invoices (id);"
    )
    assert sql.ops[1].created_here
    alembic = _migration(
        ALEMBIC_HEAD
        + 'def upgrade():\n    op.create_table("inv", sa.Column("id", sa.BigInteger()))\n'
        + '    op.create_index("i", "inv", ["id"])\n    op.create_index("j", "other", ["id"])\n'
    )
    assert [op.created_here for op in alembic.ops] == [False, True, False]
    django = _migration(
        DJANGO_HEAD
        + textwrap.dedent(
            """\
            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel("Invoice", [("id", models.BigAutoField(primary_key=True))]),
                    migrations.AddIndex("invoice", models.Index(fields=["id"], name="i")),
                    migrations.RunSQL("CREATE INDEX j ON shop_invoice (id)", migrations.RunSQL.noop),
                ]
            """
        ),
        path="shop/migrations/0001_initial.py",
    )
    assert [op.created_here for op in django.ops if op.kind is OpKind.CREATE_INDEX] == [True, True]


# -- the forward direction only ------------------------------------------------------------------


def test_downgrade_and_reverse_sql_are_not_operations() -> None:
    alembic = _migration(
        ALEMBIC_HEAD
        + "def upgrade():\n    op.add_column('t', sa.Column('x', sa.Text()))\n\n\n"
        + "def downgrade():\n    op.drop_column('t', 'x')\n    op.drop_table('u')\n"
    )
    assert _kinds(alembic) == [OpKind.ADD_COLUMN]
    django = _migration(
        DJANGO_HEAD
        + textwrap.dedent(
            """\
            class Migration(migrations.Migration):
                operations = [
                    migrations.RunSQL("ALTER TABLE t ADD COLUMN x int", "ALTER TABLE t DROP COLUMN x"),
                    migrations.SeparateDatabaseAndState(
                        state_operations=[migrations.RemoveField("t", "y")],
                        database_operations=[migrations.RemoveField("t", "z")],
                    ),
                ]
            """
        )
    )
    assert _kinds(django) == [OpKind.RUN_SQL, OpKind.ADD_COLUMN, OpKind.DROP_COLUMN]
    assert django.ops[-1].column == "z"


def test_alembic_sql_in_variables_and_text() -> None:
    migration = _migration(
        ALEMBIC_HEAD
        + textwrap.dedent(
            """\
            INDEX = "CREATE INDEX CONCURRENTLY i ON t (a)"


            def upgrade():
                sql = "ALTER TABLE t ADD COLUMN b int"
                op.execute(sql)
                op.execute(sa.text(INDEX))
                op.get_bind().execute(sa.text("DROP TABLE legacy"))
                op.execute("GRANT SELECT ON t TO reader")
            """
        )
    )
    assert _kinds(migration) == [OpKind.ADD_COLUMN, OpKind.CREATE_INDEX, OpKind.DROP_TABLE]


def test_alembic_batch_operations_use_the_batch_table() -> None:
    migration = _migration(
        ALEMBIC_HEAD
        + textwrap.dedent(
            """\
            def upgrade():
                with op.batch_alter_table("orders") as batch_op:
                    batch_op.add_column(sa.Column("note", sa.String(20), nullable=False))
                    batch_op.drop_index("orders_old_idx")
                    batch_op.create_foreign_key("fk", "customers", ["customer_id"], ["id"])
            """
        )
    )
    assert [(op.kind, op.table) for op in migration.ops] == [
        (OpKind.ADD_COLUMN, "orders"),
        (OpKind.DROP_INDEX, "orders"),
        (OpKind.ADD_CONSTRAINT, "orders"),
    ]
    assert migration.ops[0].not_null
    assert migration.ops[2].constraint == "foreign-key"


def test_django_field_defaults() -> None:
    migration = _migration(
        DJANGO_HEAD
        + textwrap.dedent(
            """\
            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField("o", "a", models.CharField(max_length=9, blank=True)),
                    migrations.AddField("o", "b", models.IntegerField(blank=True)),
                    migrations.AddField("o", "c", models.BooleanField(default=False)),
                    migrations.AddField("o", "d", models.DateTimeField(auto_now_add=True)),
                    migrations.AddField("o", "e", models.TextField(db_default="x")),
                    migrations.AddField("o", "f", models.ForeignKey("p", models.CASCADE)),
                ]
            """
        )
    )
    assert [op.has_default for op in migration.ops] == [True, False, True, True, True, False]
    assert migration.ops[-1].foreign_key


# -- findings in context ----------------------------------------------------------------------


def test_sql_inside_a_python_string_is_reported_at_its_position() -> None:
    findings = _check(
        ALEMBIC_HEAD
        + textwrap.dedent(
            """\
            def upgrade():
                op.execute(
                    "ALTER TABLE orders "
                    "ADD COLUMN code varchar(20)"
                )
            """
        ),
        "versions/b2.py",
        ("BE312",),
    )
    assert [(f.code, f.line, f.column, f.end_column) for f in findings] == [("BE312", 10, 26, 37)]


def test_sql_file_findings_point_at_the_action() -> None:
    findings = _check(
        "BEGIN;\nALTER TABLE orders ADD COLUMN a text, ADD COLUMN b int NOT NULL;\nCOMMIT;\n",
        "db/001.sql",
        ("BE303",),
    )
    assert [(f.line, f.column, f.end_column) for f in findings] == [(2, 39, 64)]


def test_suppression_on_the_operation_line() -> None:
    findings = _check(
        DJANGO_HEAD
        + textwrap.dedent(
            """\
            class Migration(migrations.Migration):
                operations = [
                    migrations.RemoveField("order", "legacy"),  # be-lint: ignore[BE308] unused since 2.3
                ]
            """
        ),
        "shop/migrations/0009_x.py",
        ("BE308",),
    )
    assert findings == []


def test_non_migration_python_is_never_analysed() -> None:
    ctx = _ctx("def f(cursor):\n    cursor.execute('ALTER TABLE t DROP COLUMN x')\n", "app/db.py")
    assert analyze(ctx) is None
    assert _check(ctx.text, "app/db.py") == []


def test_regression_prefect_batched_backfill_in_autocommit_is_quiet() -> None:
    """Batched updates in an autocommit block, LIMIT in a CTE: the recommended shape."""
    findings = _check(
        ALEMBIC_HEAD
        + textwrap.dedent(
            '''\
            def upgrade():
                batch = """
                    WITH todo AS (SELECT id FROM flow_run WHERE state_name IS NULL LIMIT 500)
                    UPDATE flow_run SET state_name = s.name FROM flow_run_state s, todo
                    WHERE flow_run.state_id = s.id AND flow_run.id = todo.id;
                """
                with op.get_context().autocommit_block():
                    conn = op.get_bind()
                    while conn.execute(sa.text(batch)).rowcount:
                        pass


            def downgrade():
                """Data only migration: nothing to undo."""
            '''
        ),
        "versions/14dc68cc5853_backfill.py",
        (*ALL_BE3, "BE209"),
    )
    assert findings == []
