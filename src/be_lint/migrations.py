"""Migration files: which files are migrations, what they do, and in which transaction.

A migration reaches the database in one of three forms: raw SQL (a ``.sql`` file, Alembic's
``op.execute``, Django's ``RunSQL``), Alembic operations (``op.add_column(...)``) and Django
operations (``migrations.AddField(...)``). The migration-safety rules (BE3xx) ask the same
questions of all three -- "does this build an index on an existing table without
CONCURRENTLY?" -- so this module turns each file into one ordered list of ``Op`` records in a
shared vocabulary, and the rules are predicates over ``Op``s. Each ``Op`` knows:

- what it does (``OpKind``) and to which table and column;
- whether it runs inside a transaction (Alembic runs migrations in one unless an
  ``autocommit_block()`` is open; Django unless the migration says ``atomic = False``;
  ``.sql`` files only after an explicit ``BEGIN``), following explicit ``BEGIN``/``COMMIT``;
- whether its table was created earlier in the same migration (then nobody else can be
  using it, and locks or CONCURRENTLY do not matter);
- where to report it (a libcst node, or a span of a SQL statement).

Only the forward direction counts: Alembic ``downgrade()`` functions, Django ``reverse_sql``
and the "down" part of ``.sql`` migrations (``-- migrate:down``, ``*.down.sql``) are skipped,
because dropping what the upgrade added is what a downgrade is for.

``MigrationRule`` is the base of the BE3xx rules: it feeds every ``Op`` of a migration file
to ``check_op`` exactly once, from the walk over Python files (so suppressions on the
statement work) and from the statements of ``.sql`` files.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from be_lint.context import FileContext
from be_lint.names import dotted_last, dotted_name
from be_lint.rule import FileKind, PythonRule, Severity, SqlRule
from be_lint.sql.extract import extract_sql, source_from_sql_file
from be_lint.sql.lexer import looks_like_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import Token, statement_tokens
from be_lint.walker import STOP_VISITING, children

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

__all__ = [
    "ColumnSpec",
    "ColumnType",
    "Loc",
    "Migration",
    "MigrationKind",
    "MigrationRule",
    "Op",
    "OpKind",
    "Source",
    "analyze",
    "detect_kind",
    "is_down_sql_path",
    "looks_like_migration",
]

# -- detection -----------------------------------------------------------------------------------


class MigrationKind(str, enum.Enum):
    ALEMBIC = "alembic"
    DJANGO = "django"
    SQL = "sql"


_DJANGO_CLASS = re.compile(r"^class\s+Migration\s*\([^)]*Migration[^)]*\)\s*:", re.MULTILINE)
_ALEMBIC_IMPORT = re.compile(
    r"^[ \t]*(?:from\s+alembic\s+import\s+[^\n]*\bop\b|import\s+alembic\b|from\s+alembic\.op\b)",
    re.MULTILINE,
)
_UPGRADE = re.compile(r"^(?:async\s+)?def\s+upgrade\w*\s*\(", re.MULTILINE)
_DOWN_PATH = re.compile(
    r"(?:^|[/_.\-])(?:down|downgrade|rollback|undo|revert)(?:[/_.\-]|$)|(?:^|/)U[0-9][^/]*__",
    re.IGNORECASE,
)
#: Markers that start the reverse half of a one-file migration (dbmate, goose, sql-migrate).
_DOWN_MARKER = re.compile(
    r"^[ \t]*--[ \t]*(?:migrate:down|\+goose[ \t]+down|\+migrate[ \t]+down)\b",
    re.IGNORECASE | re.MULTILINE,
)


_last_looked: tuple[str, bool] = ("", False)


#: ``pg_dump``/``mysqldump`` output: a snapshot of a schema, not a change to one.
_DUMP = re.compile(r"^-- (?:PostgreSQL database dump|MySQL dump)", re.MULTILINE)


def looks_like_migration(text: str) -> bool:
    """Cheap test on a Python file's text: is it an Alembic revision or a Django migration?

    Every migration rule asks about the same file in turn: the last answer is remembered.
    """
    global _last_looked
    if _last_looked[0] is not text:
        found = ("Migration" in text and bool(_DJANGO_CLASS.search(text))) or (
            "alembic" in text and bool(_ALEMBIC_IMPORT.search(text)) and bool(_UPGRADE.search(text))
        )
        _last_looked = (text, found)
    return _last_looked[1]


def detect_kind(path: str, text: str, kind: FileKind) -> MigrationKind | None:
    """The kind of migration ``text`` is, or None when it is not a migration.

    Every ``.sql`` file counts (as with Squawk: DDL rules only react to DDL, so query files
    stay quiet), except the reverse scripts of tools that keep them in their own files and
    database dumps.
    Python files are recognised by content: an Alembic revision imports ``alembic.op`` and
    defines ``upgrade()``; a Django migration defines ``class Migration(...Migration)``.
    """
    if kind is FileKind.SQL:
        if is_down_sql_path(path) or _DUMP.search(text[:2000]):
            return None
        return MigrationKind.SQL
    if "Migration" in text and _DJANGO_CLASS.search(text):
        return MigrationKind.DJANGO
    if "alembic" in text and _ALEMBIC_IMPORT.search(text) and _UPGRADE.search(text):
        return MigrationKind.ALEMBIC
    return None


def is_down_sql_path(path: str) -> bool:
    """``0003_x.down.sql``, ``rollback/…``, Flyway ``U3__undo.sql``: a reverse script."""
    return bool(_DOWN_PATH.search(path.replace("\\", "/")))


# -- the shared vocabulary -----------------------------------------------------------------------


class OpKind(str, enum.Enum):
    CREATE_TABLE = "create-table"
    DROP_TABLE = "drop-table"
    RENAME_TABLE = "rename-table"
    ADD_COLUMN = "add-column"
    DROP_COLUMN = "drop-column"
    RENAME_COLUMN = "rename-column"
    ALTER_TYPE = "alter-type"
    SET_NOT_NULL = "set-not-null"
    ADD_CONSTRAINT = "add-constraint"
    VALIDATE_CONSTRAINT = "validate-constraint"
    CREATE_INDEX = "create-index"
    DROP_INDEX = "drop-index"
    REINDEX = "reindex"
    #: Any other ``ALTER TABLE`` action (defaults, storage, dropping constraints ...).
    ALTER_OTHER = "alter-other"
    SETTING = "setting"
    BEGIN = "begin"
    COMMIT = "commit"
    UPDATE = "update"
    RUN_PYTHON = "run-python"
    RUN_SQL = "run-sql"


class Source(str, enum.Enum):
    """Where an operation was written: decides the wording of messages and remedies."""

    SQL = "sql"
    ALEMBIC = "alembic"
    DJANGO = "django"


#: Kinds that change the schema of a table (a backfill next to them holds their locks).
SCHEMA_KINDS = frozenset(
    {
        OpKind.DROP_TABLE,
        OpKind.RENAME_TABLE,
        OpKind.ADD_COLUMN,
        OpKind.DROP_COLUMN,
        OpKind.RENAME_COLUMN,
        OpKind.ALTER_TYPE,
        OpKind.SET_NOT_NULL,
        OpKind.ADD_CONSTRAINT,
        OpKind.CREATE_INDEX,
        OpKind.DROP_INDEX,
        OpKind.ALTER_OTHER,
    }
)


@dataclass(frozen=True, slots=True)
class Loc:
    """Where to report: a libcst node, or offsets in a SQL statement's source text."""

    node: cst.CSTNode | None = None
    stmt: SqlStatement | None = None
    span: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class ColumnType:
    """A column type reduced to what the rules ask about.

    ``family`` is one of ``varchar``, ``char``, ``text``, ``timestamp`` (without time zone),
    ``timestamptz``, ``smallint``, ``integer``, ``bigint``, ``smallserial``, ``serial``,
    ``bigserial`` or ``other``.
    """

    family: str
    length: int | None = None
    #: How the type was written, for messages (``varchar(255)``, ``sa.String(50)``).
    written: str = ""


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str | None
    type: ColumnType | None
    primary_key: bool = False
    #: Where the type is written.
    loc: Loc = field(default_factory=Loc)


@dataclass(slots=True, eq=False)
class Op:
    """One thing a migration does to the database, in the forward direction."""

    kind: OpKind
    source: Source
    #: How to name the operation in messages: ``CREATE INDEX``, ``op.create_index``,
    #: ``AddIndex``.
    api: str
    loc: Loc
    table: str | None = None
    column: str | None = None
    #: Index or constraint name, or the setting name of a ``SETTING``.
    name: str | None = None
    concurrently: bool = False
    #: ``IF [NOT] EXISTS`` (or the Alembic ``if_exists``/``if_not_exists`` flags) given.
    guarded: bool = False
    unique: bool = False
    #: For ``ADD_CONSTRAINT``: ``foreign-key``, ``check``, ``unique``, ``primary-key``,
    #: ``exclude``.
    constraint: str | None = None
    not_valid: bool = False
    using_index: bool = False
    #: For ``ADD_CONSTRAINT`` checks: the column a ``CHECK (col IS NOT NULL)`` guards.
    not_null_check: str | None = None
    #: For ``ADD_COLUMN``: NOT NULL, a default, and what fills existing rows.
    not_null: bool = False
    has_default: bool = False
    #: The text of a default that differs per row (the table is rewritten to fill it).
    volatile_default: str | None = None
    generated_stored: bool = False
    #: Constraints declared with an added column: ``foreign-key``, ``check``, ``unique``,
    #: ``primary-key``.
    inline: frozenset[str] = frozenset()
    #: Columns whose types matter (``CREATE TABLE``, ``ADD COLUMN``, ``ALTER TYPE``).
    columns: tuple[ColumnSpec, ...] = ()
    #: ``ALTER_TYPE`` known to need no rewrite (Alembic ``existing_type`` says so).
    safe_type_change: bool = False
    #: ``UPDATE`` touching every row (no WHERE, or ``WHERE true``).
    full_table: bool = False
    #: ``UPDATE ... WHERE col IS NULL``: the columns tested (every row, if they are new).
    null_backfill: frozenset[str] = frozenset()
    #: ``RUN_PYTHON``/``RUN_SQL``: a reverse was given.
    has_reverse: bool = True
    #: A Django field that is a foreign key (``ADD_COLUMN``).
    foreign_key: bool = False
    #: Extra node to report at (a keyword argument, a field call) when narrower than ``loc``.
    detail: Loc | None = None
    #: Filled by ``analyze``: True inside a transaction, False outside, None when the file
    #: does not say (a ``.sql`` file without ``BEGIN``).
    in_transaction: bool | None = None
    #: Filled by ``analyze``: the table was created earlier in this migration.
    created_here: bool = False
    #: Inside an Alembic ``autocommit_block()``.
    autocommit: bool = False
    #: The Python call this op belongs to (the rules see it when the walk reaches the call).
    call: cst.Call | None = None
    index: int = 0

    @property
    def is_sql(self) -> bool:
        return self.source is Source.SQL


@dataclass(slots=True)
class Migration:
    kind: MigrationKind
    ops: list[Op]
    by_call: dict[int, list[Op]]
    #: Django ``atomic`` (True unless ``atomic = False``); Alembic and SQL: True.
    atomic: bool = True
    created: frozenset[str] = frozenset()
    #: Top-level ``upgrade*``/``downgrade*`` functions of an Alembic revision.
    upgrades: tuple[cst.FunctionDef, ...] = ()
    downgrades: tuple[cst.FunctionDef, ...] = ()

    def changes_existing_schema(self, in_transaction_only: bool = False) -> bool:
        """True when some op changes a table that existed before this migration."""
        return any(
            op.kind in SCHEMA_KINDS
            and not op.created_here
            and not op.concurrently
            and (not in_transaction_only or op.in_transaction is not False)
            for op in self.ops
        )


# -- analysis ------------------------------------------------------------------------------------

_MEMO_KEY = "be_lint.migrations"


def analyze(ctx: FileContext) -> Migration | None:
    """The migration ``ctx``'s file is, with every forward operation; None if not one.

    Computed once per file and shared by all rules.
    """
    memo = ctx.memo
    if _MEMO_KEY in memo:
        cached = memo[_MEMO_KEY]
        return cached if isinstance(cached, Migration) else None
    kind = detect_kind(ctx.path, ctx.text, ctx.kind)
    result: Migration | None = None
    if kind is MigrationKind.SQL:
        result = _analyze_sql_file(ctx)
    elif kind is MigrationKind.ALEMBIC and ctx.module is not None:
        result = _AlembicScanner(ctx).scan()
    elif kind is MigrationKind.DJANGO and ctx.module is not None:
        result = _DjangoScanner(ctx).scan()
    if result is not None:
        _finish(result)
    memo[_MEMO_KEY] = result
    return result


def _finish(migration: Migration) -> None:
    """Number the ops, follow the transaction state, and mark ops on tables created here."""
    created: set[str] = set(migration.created)
    created_indexes: set[str] = set()
    base = migration.atomic if migration.kind is not MigrationKind.SQL else None
    explicit: bool | None = None
    by_call: dict[int, list[Op]] = {}
    for index, op in enumerate(migration.ops):
        op.index = index
        if op.in_transaction is False:
            pass  # an autocommit block says so itself
        elif explicit is not None:
            op.in_transaction = explicit
        else:
            op.in_transaction = base
        if op.kind is OpKind.BEGIN:
            explicit = True
        elif op.kind is OpKind.COMMIT:
            explicit = False
        table = _norm(op.table)
        if op.kind is OpKind.CREATE_TABLE:
            if table:
                created.add(table)
        elif op.kind is OpKind.CREATE_INDEX:
            op.created_here = table in created
            if op.name:
                created_indexes.add(_norm(op.name) or "")
        elif op.kind is OpKind.DROP_INDEX:
            op.created_here = (_norm(op.name) or "") in created_indexes or table in created
        elif table:
            op.created_here = table in created
        if op.kind is OpKind.RENAME_TABLE and op.created_here and op.name:
            created.add(_norm(op.name) or "")
        if op.call is not None:
            by_call.setdefault(id(op.call), []).append(op)
    migration.created = frozenset(created)
    migration.by_call = by_call


def _norm(name: str | None) -> str | None:
    """A table name as compared across sources: unquoted, unqualified, lower case."""
    if not name:
        return None
    return name.strip().strip('"`[]').rsplit(".", 1)[-1].strip('"`[]').lower() or None


# -- SQL -----------------------------------------------------------------------------------------


def _analyze_sql_file(ctx: FileContext) -> Migration:
    source = source_from_sql_file(ctx.text)
    marker = _DOWN_MARKER.search(ctx.text)
    down_from = marker.start() if marker else None
    ops: list[Op] = []
    for stmt in ctx.sql_statements(source):
        if down_from is not None and stmt.start >= down_from:
            break
        ops.extend(sql_ops(stmt))
    return Migration(MigrationKind.SQL, ops, {})


_STOP_TYPE_WORDS = frozenset(
    {
        "NOT",
        "NULL",
        "DEFAULT",
        "PRIMARY",
        "REFERENCES",
        "CONSTRAINT",
        "CHECK",
        "UNIQUE",
        "GENERATED",
        "COLLATE",
        "USING",
        "IDENTITY",
        "AS",
    }
)
_ACTION_WORDS = frozenset(
    {
        "ADD",
        "DROP",
        "ALTER",
        "RENAME",
        "VALIDATE",
        "SET",
        "RESET",
        "ATTACH",
        "DETACH",
        "ENABLE",
        "DISABLE",
        "OWNER",
        "CLUSTER",
        "INHERIT",
        "NO",
        "REPLICA",
        "OF",
        "FORCE",
    }
)
_VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
    }
)


def sql_ops(stmt: SqlStatement) -> list[Op]:
    """The operations of one SQL statement."""
    return _SqlReader(stmt).ops()


@dataclass(slots=True)
class _Segment:
    start: int  # offsets in the statement text
    end: int
    tokens: Sequence[Token]


class _SqlReader:
    def __init__(self, stmt: SqlStatement) -> None:
        self.stmt = stmt
        self.tokens = statement_tokens(stmt)
        # Quoted names and strings never read as keywords or punctuation.
        self.words = [_word_of(t) for t in self.tokens]

    # -- helpers -----------------------------------------------------------------------------

    def loc(self, start: int, end: int) -> Loc:
        """A span given in offsets of the statement's text."""
        return Loc(stmt=self.stmt, span=(self.stmt.start + start, self.stmt.start + end))

    def whole(self) -> Loc:
        return Loc(stmt=self.stmt, span=(self.stmt.start, self.stmt.end))

    def op(self, kind: OpKind, api: str, loc: Loc | None = None, **values: Any) -> Op:
        return Op(kind, Source.SQL, api, loc or self.whole(), **values)

    def _word(self, index: int) -> str:
        return self.words[index] if 0 <= index < len(self.words) else ""

    # -- entry -------------------------------------------------------------------------------

    def ops(self) -> list[Op]:
        words = self.words
        if not words:
            return []
        first, second = words[0], self._word(1)
        if first in ("BEGIN", "START") and (first == "BEGIN" or second == "TRANSACTION"):
            if first == "BEGIN" and second in ("ATOMIC",):
                return []
            return [self.op(OpKind.BEGIN, first)]
        if first in ("COMMIT", "END", "ROLLBACK", "ABORT"):
            if second == "PREPARED":
                return []
            return [self.op(OpKind.COMMIT, first)]
        if first == "SET":
            return self._set()
        if first == "CREATE":
            index = 1
            if self._word(index) == "UNIQUE":
                index += 1
            if self._word(index) == "INDEX":
                return self._create_index()
        if first == "DROP" and second == "INDEX":
            return self._drop_index()
        if first == "REINDEX":
            # sqlglot keeps the rest of a REINDEX as one opaque token: read the text.
            concurrently = bool(re.search(r"\bconcurrently\b", self.stmt.text, re.IGNORECASE))
            return [self.op(OpKind.REINDEX, "REINDEX", concurrently=concurrently)]
        tree = self.stmt.tree
        if first == "ALTER" and second == "TABLE":
            return self._alter_table(tree)
        if tree is None:
            return []
        if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "TABLE":
            return self._create_table(tree)
        if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() == "TABLE":
            return [
                self.op(
                    OpKind.DROP_TABLE,
                    "DROP TABLE",
                    table=t.name,
                    guarded=bool(tree.args.get("exists")),
                )
                for t in tree.args.get("tables") or ()
                if isinstance(t, exp.Table)
            ]
        if isinstance(tree, exp.Update):
            return [self._update(tree)]
        if isinstance(tree, exp.Select):
            return self._set_config(tree)
        return []

    # -- SET / set_config ----------------------------------------------------------------------

    def _set(self) -> list[Op]:
        index = 1
        if self._word(index) in ("LOCAL", "SESSION"):
            index += 1
        if index >= len(self.tokens):
            return []
        name = self.tokens[index].text.lower()
        return [self.op(OpKind.SETTING, "SET", name=name)]

    def _set_config(self, tree: exp.Select) -> list[Op]:
        found = []
        for call in tree.find_all(exp.Anonymous):
            if str(call.this).lower() != "set_config" or not call.expressions:
                continue
            first = call.expressions[0]
            if isinstance(first, exp.Literal) and first.is_string:
                found.append(self.op(OpKind.SETTING, "set_config", name=first.this.lower()))
        return found

    # -- indexes -------------------------------------------------------------------------------

    def _create_index(self) -> list[Op]:
        words = self.words
        unique = self._word(1) == "UNIQUE"
        index = 3 if unique else 2
        concurrently = self._word(index) == "CONCURRENTLY"
        if concurrently:
            index += 1
        guarded = False
        if words[index : index + 3] == ["IF", "NOT", "EXISTS"]:
            guarded = True
            index += 3
        name = None
        if self._word(index) != "ON" and index < len(self.tokens):
            name = self.tokens[index].text
            index += 1
        table = None
        if self._word(index) == "ON":
            index += 1
            if self._word(index) == "ONLY":
                index += 1
            table = self._dotted(index)
        return [
            self.op(
                OpKind.CREATE_INDEX,
                "CREATE UNIQUE INDEX" if unique else "CREATE INDEX",
                table=table,
                name=name,
                unique=unique,
                concurrently=concurrently,
                guarded=guarded,
            )
        ]

    def _drop_index(self) -> list[Op]:
        index = 2
        concurrently = self._word(index) == "CONCURRENTLY"
        if concurrently:
            index += 1
        guarded = self.words[index : index + 2] == ["IF", "EXISTS"]
        if guarded:
            index += 2
        name = self._dotted(index)
        return [
            self.op(
                OpKind.DROP_INDEX,
                "DROP INDEX",
                name=name,
                concurrently=concurrently,
                guarded=guarded,
            )
        ]

    def _dotted(self, index: int) -> str | None:
        """The (possibly schema-qualified) name starting at token ``index``."""
        if index >= len(self.tokens):
            return None
        parts = [self.tokens[index].text]
        while self._word(index + 1) == "." and index + 2 < len(self.tokens):
            parts.append(self.tokens[index + 2].text)
            index += 2
        return ".".join(parts)

    # -- CREATE TABLE --------------------------------------------------------------------------

    def _create_table(self, tree: exp.Create) -> list[Op]:
        schema = tree.this
        table = schema.this if isinstance(schema, exp.Schema) else schema
        name = table.name if isinstance(table, exp.Table) else None
        columns: list[ColumnSpec] = []
        if isinstance(schema, exp.Schema):
            pk_names = {
                ident.name.lower()
                for pk in schema.expressions
                if isinstance(pk, exp.PrimaryKey)
                for ident in pk.expressions
                if isinstance(ident, exp.Identifier | exp.Column | exp.Ordered)
            }
            for column in schema.expressions:
                if isinstance(column, exp.ColumnDef):
                    columns.append(self._column_spec(column, pk_names))
        return [
            self.op(
                OpKind.CREATE_TABLE,
                "CREATE TABLE",
                table=name,
                guarded=bool(tree.args.get("exists")),
                columns=tuple(columns),
            )
        ]

    def _column_spec(self, column: exp.ColumnDef, pk_names: set[str] | None = None) -> ColumnSpec:
        kind = column.args.get("kind")
        ctype = _sql_type(kind) if isinstance(kind, exp.DataType) else None
        primary = any(
            isinstance(c, exp.ColumnConstraint)
            and isinstance(c.kind, exp.PrimaryKeyColumnConstraint)
            for c in column.args.get("constraints") or ()
        ) or (column.name.lower() in (pk_names or set()))
        loc = self.whole()
        ident = column.this
        meta = ident.meta if isinstance(ident, exp.Expr) else None
        if meta and isinstance(meta.get("start"), int):
            span = self._type_span(int(meta["start"]))
            if span is not None:
                loc = self.loc(*span)
                if ctype is not None:
                    written = self.stmt.text[span[0] : span[1]]
                    ctype = replace(ctype, written=" ".join(written.split()))
        return ColumnSpec(column.name or None, ctype, primary, loc)

    def _type_span(self, ident_start: int) -> tuple[int, int] | None:
        """The type written after the column name starting at ``ident_start``."""
        tokens = self.tokens
        at = next((i for i, t in enumerate(tokens) if t.start == ident_start), None)
        if at is None:
            return None
        first = at + 1
        last = None
        depth = 0
        for i in range(first, len(tokens)):
            word = self.words[i]
            # sqlglot keeps some keyword pairs in one token (``PRIMARY KEY``, ``NOT NULL``).
            head = word.split(" ", 1)[0]
            if depth == 0 and (word in (",", ")") or (head in _STOP_TYPE_WORDS and i > first)):
                break
            if word == "(":
                depth += 1
            elif word == ")":
                depth -= 1
            last = i
        if last is None:
            return None
        return (tokens[first].start, tokens[last].end + 1)

    # -- ALTER TABLE ---------------------------------------------------------------------------

    def _segments(self, start: int) -> list[_Segment]:
        """Each ``ALTER TABLE`` action: the tokens between top-level commas."""
        tokens, words = self.tokens, self.words
        if self._word(start) == "*":
            start += 1
        if start >= len(tokens):
            return []
        segments: list[_Segment] = []
        depth = 0
        first = start
        for i in range(start, len(tokens)):
            word = words[i]
            if word == "(":
                depth += 1
            elif word == ")":
                depth -= 1
            elif word == "," and depth == 0:
                if i > first:
                    segments.append(
                        _Segment(tokens[first].start, tokens[i - 1].end + 1, tokens[first:i])
                    )
                first = i + 1
        if first < len(tokens):
            segments.append(_Segment(tokens[first].start, tokens[-1].end + 1, tokens[first:]))
        return segments

    def _table_name(self) -> tuple[str | None, int]:
        """The table of an ``ALTER TABLE`` and the index of the token after its name."""
        index = 2
        if self.words[index : index + 2] == ["IF", "EXISTS"]:
            index += 2
        if self._word(index) == "ONLY":
            index += 1
        name = self._dotted(index)
        if name is None:
            return None, index
        return name, index + 2 * name.count(".") + 1

    def _alter_table(self, tree: exp.Expression | None) -> list[Op]:
        table, after = self._table_name()
        segments = self._segments(after)
        if isinstance(tree, exp.Alter):
            actions = list(tree.args.get("actions") or ())
            not_valid = bool(tree.args.get("not_valid"))
            if len(actions) != len(segments):
                segments = [_Segment(0, len(self.stmt.text), self.tokens)] * len(actions)
            return [
                op
                for action, segment in zip(actions, segments, strict=True)
                for op in self._action(action, segment, table, not_valid)
            ]
        # sqlglot gave up on the statement: read each action from its tokens.
        ops: list[Op] = []
        for segment in segments:
            ops.extend(self._action_from_tokens(segment, table))
        return ops

    def _action_from_tokens(self, segment: _Segment, table: str | None) -> list[Op]:
        words = [_word_of(t) for t in segment.tokens]
        loc = self.loc(segment.start, segment.end)
        if words[:2] == ["VALIDATE", "CONSTRAINT"]:
            name = segment.tokens[2].text if len(segment.tokens) > 2 else None
            return [
                self.op(
                    OpKind.VALIDATE_CONSTRAINT, "VALIDATE CONSTRAINT", loc, table=table, name=name
                )
            ]
        if words[:1] == ["ADD"] and "USING" in words and "INDEX" in words:
            kind = "primary-key" if "PRIMARY" in words else "unique"
            return [
                self.op(
                    OpKind.ADD_CONSTRAINT,
                    "ADD CONSTRAINT",
                    loc,
                    table=table,
                    constraint=kind,
                    using_index=True,
                )
            ]
        if words[:2] == ["DETACH", "PARTITION"]:
            return [
                self.op(
                    OpKind.ALTER_OTHER,
                    "DETACH PARTITION",
                    loc,
                    table=table,
                    concurrently="CONCURRENTLY" in words,
                )
            ]
        return [self.op(OpKind.ALTER_OTHER, "ALTER TABLE", loc, table=table)]

    def _action(
        self, action: exp.Expression, segment: _Segment, table: str | None, not_valid: bool
    ) -> list[Op]:
        loc = self.loc(segment.start, segment.end)
        if isinstance(action, exp.ColumnDef):
            return [self._add_column(action, loc, table)]
        if isinstance(action, exp.AddConstraint):
            return [self._add_constraint(c, loc, table, not_valid) for c in action.expressions] or [
                self.op(OpKind.ALTER_OTHER, "ADD CONSTRAINT", loc, table=table)
            ]
        if isinstance(action, exp.AlterColumn):
            column = action.name or None
            dtype = action.args.get("dtype")
            if isinstance(dtype, exp.DataType):
                ctype = _sql_type(dtype)
                spec = ColumnSpec(column, ctype, False, loc)
                span = self._after_word(segment, "TYPE")
                if span is not None:
                    spec = ColumnSpec(column, ctype, False, self.loc(*span))
                    if ctype is not None:
                        written = " ".join(self.stmt.text[span[0] : span[1]].split())
                        spec = replace(spec, type=replace(ctype, written=written))
                return [
                    self.op(
                        OpKind.ALTER_TYPE,
                        "ALTER COLUMN TYPE",
                        loc,
                        table=table,
                        column=column,
                        columns=(spec,),
                    )
                ]
            if action.args.get("allow_null") is False and not action.args.get("drop"):
                return [
                    self.op(OpKind.SET_NOT_NULL, "SET NOT NULL", loc, table=table, column=column)
                ]
            return [self.op(OpKind.ALTER_OTHER, "ALTER COLUMN", loc, table=table, column=column)]
        if isinstance(action, exp.Drop):
            kind = str(action.args.get("kind") or "").upper()
            if kind == "COLUMN":
                names = [t.name for t in action.args.get("tables") or () if isinstance(t, exp.Expr)]
                return [
                    self.op(
                        OpKind.DROP_COLUMN,
                        "DROP COLUMN",
                        loc,
                        table=table,
                        column=names[0] if names else None,
                        guarded=bool(action.args.get("exists")),
                    )
                ]
            return [self.op(OpKind.ALTER_OTHER, f"DROP {kind}".strip(), loc, table=table)]
        if isinstance(action, exp.RenameColumn):
            old = action.this
            return [
                self.op(
                    OpKind.RENAME_COLUMN,
                    "RENAME COLUMN",
                    loc,
                    table=table,
                    column=old.name if isinstance(old, exp.Expr) else None,
                )
            ]
        if isinstance(action, exp.AlterRename):
            new = action.this
            return [
                self.op(
                    OpKind.RENAME_TABLE,
                    "RENAME TO",
                    loc,
                    table=table,
                    name=new.name if isinstance(new, exp.Expr) else None,
                )
            ]
        return self._action_from_tokens(segment, table)

    def _after_word(self, segment: _Segment, word: str) -> tuple[int, int] | None:
        tokens = list(segment.tokens)
        for i, token in enumerate(tokens):
            if _word_of(token) == word and i + 1 < len(tokens):
                rest = tokens[i + 1 :]
                end = len(rest)
                for j, t in enumerate(rest):
                    if _word_of(t) in ("USING", "COLLATE"):
                        end = j
                        break
                if end == 0:
                    return None
                return (rest[0].start, rest[end - 1].end + 1)
        return None

    def _add_column(self, column: exp.ColumnDef, loc: Loc, table: str | None) -> Op:
        spec = self._column_spec(column)
        not_null = False
        has_default = False
        volatile: str | None = None
        generated = False
        inline: set[str] = set()
        for constraint in column.args.get("constraints") or ():
            kind = constraint.kind if isinstance(constraint, exp.ColumnConstraint) else None
            if isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
                not_null = True
            elif isinstance(kind, exp.DefaultColumnConstraint):
                has_default = True
                default = kind.this
                if isinstance(default, exp.Expression) and _volatile(default):
                    volatile = default.sql(dialect=self.stmt.dialect)
            elif isinstance(kind, exp.ComputedColumnConstraint):
                generated = True
                has_default = True
            elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
                has_default = True
                volatile = "an identity sequence"
            elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                inline.add("primary-key")
                not_null = True
            elif isinstance(kind, exp.UniqueColumnConstraint):
                inline.add("unique")
            elif isinstance(kind, exp.Reference):
                inline.add("foreign-key")
            elif isinstance(kind, exp.CheckColumnConstraint):
                inline.add("check")
        ctype = spec.type
        if ctype is not None and ctype.family.endswith("serial"):
            has_default = True
            volatile = f"the sequence of `{ctype.written or ctype.family}`"
        return self.op(
            OpKind.ADD_COLUMN,
            "ADD COLUMN",
            loc,
            table=table,
            column=column.name or None,
            guarded=bool(column.args.get("exists")),
            not_null=not_null,
            has_default=has_default,
            volatile_default=volatile,
            generated_stored=generated,
            inline=frozenset(inline),
            columns=(spec,),
        )

    def _add_constraint(
        self, constraint: exp.Expression, loc: Loc, table: str | None, not_valid: bool
    ) -> Op:
        name = None
        body: exp.Expression = constraint
        if isinstance(constraint, exp.Constraint):
            name = constraint.name or None
            inner = constraint.expressions
            body = inner[0] if inner else constraint
        kind = "other"
        check_column = None
        if isinstance(body, exp.ForeignKey):
            kind = "foreign-key"
        elif isinstance(body, exp.CheckColumnConstraint):
            kind = "check"
            check_column = _not_null_check(body.this)
        elif isinstance(body, exp.UniqueColumnConstraint):
            kind = "unique"
        elif isinstance(body, exp.PrimaryKey | exp.PrimaryKeyColumnConstraint):
            kind = "primary-key"
        elif isinstance(body, exp.ExcludeColumnConstraint):
            kind = "exclude"
        return self.op(
            OpKind.ADD_CONSTRAINT,
            "ADD CONSTRAINT",
            loc,
            table=table,
            name=name,
            constraint=kind,
            not_valid=not_valid,
            not_null_check=check_column,
        )

    # -- UPDATE --------------------------------------------------------------------------------

    def _update(self, tree: exp.Update) -> Op:
        table = tree.this
        name = table.name if isinstance(table, exp.Table) else None
        where = tree.args.get("where")
        full = where is None or _trivially_true(where.this)
        nulls: frozenset[str] = frozenset()
        if where is not None and not full and _only_null_tests(where.this):
            nulls = frozenset(c.name.lower() for c in where.this.find_all(exp.Column))
        if tree.args.get("from_") or tree.args.get("from") or tree.args.get("limit"):
            full = full and where is None
            nulls = frozenset()
        return self.op(OpKind.UPDATE, "UPDATE", table=name, full_table=full, null_backfill=nulls)


def _word_of(token: Token) -> str:
    kind = token.token_type.name
    if kind in ("STRING", "NATIONAL_STRING", "BYTE_STRING", "HEX_STRING", "BIT_STRING"):
        return "'"
    if kind == "IDENTIFIER":
        return '"' + token.text
    return token.text.upper()


def _sql_type(dtype: exp.DataType) -> ColumnType:
    name = dtype.this.name if isinstance(dtype.this, enum.Enum) else str(dtype.this)
    length = None
    params = dtype.expressions
    if params:
        first = params[0]
        literal = first.this if isinstance(first, exp.DataTypeParam) else first
        if isinstance(literal, exp.Literal) and not literal.is_string:
            try:
                length = int(literal.this)
            except ValueError:
                length = None
    family = {
        "VARCHAR": "varchar",
        "NVARCHAR": "varchar",
        "CHAR": "char",
        "NCHAR": "char",
        "BPCHAR": "char",
        "TEXT": "text",
        "TIMESTAMP": "timestamp",
        "TIMESTAMPNTZ": "timestamp",
        "TIMESTAMPTZ": "timestamptz",
        "TIMESTAMPLTZ": "timestamptz",
        "SMALLINT": "smallint",
        "TINYINT": "smallint",
        "INT": "integer",
        "MEDIUMINT": "integer",
        "BIGINT": "bigint",
        "SERIAL": "serial",
        "SMALLSERIAL": "smallserial",
        "BIGSERIAL": "bigserial",
    }.get(name, "other")
    return ColumnType(family, length, family)


def _volatile(node: exp.Expression) -> bool:
    for sub in node.walk():
        if isinstance(sub, exp.Uuid | exp.Rand):
            return True
        if isinstance(sub, exp.Anonymous) and str(sub.this).lower() in _VOLATILE_FUNCTIONS:
            return True
        if isinstance(sub, exp.Func) and sub.sql_name().lower() in _VOLATILE_FUNCTIONS:
            return True
    return False


def _trivially_true(node: exp.Expression | None) -> bool:
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.EQ):
        left, right = node.this, node.expression
        return isinstance(left, exp.Literal) and isinstance(right, exp.Literal) and left == right
    if isinstance(node, exp.Paren):
        return _trivially_true(node.this)
    return False


def _only_null_tests(node: exp.Expression | None) -> bool:
    """``WHERE col IS NULL [OR/AND ...]``: a backfill over (typically) every row."""
    if isinstance(node, exp.Paren):
        return _only_null_tests(node.this)
    if isinstance(node, exp.And | exp.Or):
        return _only_null_tests(node.this) and _only_null_tests(node.expression)
    if isinstance(node, exp.Not):
        return _only_null_tests(node.this)
    return (
        isinstance(node, exp.Is)
        and isinstance(node.this, exp.Column)
        and isinstance(node.expression, exp.Null)
    )


def _not_null_check(node: exp.Expression | None) -> str | None:
    """``col IS NOT NULL`` → ``col``."""
    if isinstance(node, exp.Paren):
        return _not_null_check(node.this)
    if isinstance(node, exp.Not) and isinstance(node.this, exp.Is):
        node = node.this.copy()
        node.set("negate", True)
    if (
        isinstance(node, exp.Is)
        and node.args.get("negate")
        and isinstance(node.this, exp.Column)
        and isinstance(node.expression, exp.Null)
    ):
        return node.this.name.lower()
    return None


# -- Python migrations: shared helpers -----------------------------------------------------------


def _kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _kwarg_node(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def _positional(call: cst.Call) -> list[cst.BaseExpression]:
    out = []
    for arg in call.args:
        if arg.keyword is not None or arg.star:
            break
        out.append(arg.value)
    return out


def _arg(call: cst.Call, index: int, name: str) -> cst.BaseExpression | None:
    value = _kwarg(call, name)
    if value is not None:
        return value
    positional = _positional(call)
    return positional[index] if index < len(positional) else None


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


class _Names:
    """Assignments ``name = value`` per function (and the module), to read SQL kept in a
    variable (``sql = "..."; op.execute(sql)``). A name assigned more than once (or with
    ``+=``) has no single value and resolves to nothing."""

    def __init__(self, module: cst.Module) -> None:
        self.scopes: dict[int, dict[str, list[cst.BaseExpression]]] = {}
        stack: list[tuple[cst.CSTNode, int]] = [(module, id(module))]
        while stack:
            node, owner = stack.pop()
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        self._add(owner, target.target.value, node.value, 1)
            elif isinstance(node, cst.AnnAssign | cst.AugAssign):
                if isinstance(node.target, cst.Name) and node.value is not None:
                    twice = 2 if isinstance(node, cst.AugAssign) else 1
                    self._add(owner, node.target.value, node.value, twice)
            elif isinstance(node, cst.FunctionDef):
                owner = id(node)
            elif isinstance(node, cst.ClassDef | cst.Lambda):
                continue
            stack.extend((child, owner) for child in children(node))

    def _add(self, owner: int, name: str, value: cst.BaseExpression, times: int) -> None:
        self.scopes.setdefault(owner, {}).setdefault(name, []).extend([value] * times)

    def resolver(
        self, function: cst.FunctionDef | None, module: cst.Module
    ) -> Callable[[cst.Name], cst.BaseExpression | None]:
        scopes = [self.scopes.get(id(function), {})] if function is not None else []
        scopes.append(self.scopes.get(id(module), {}))

        def resolve(name: cst.Name) -> cst.BaseExpression | None:
            for scope in scopes:
                values = scope.get(name.value)
                if values is not None:
                    return values[0] if len(values) == 1 else None
            return None

        return resolve


def _sql_in_call(
    ctx: FileContext,
    expr: cst.BaseExpression,
    resolver: Callable[[cst.Name], cst.BaseExpression | None],
) -> list[SqlStatement]:
    """The statements of SQL text ``expr`` (a string, a name holding one, or ``text(...)``)."""
    if isinstance(expr, cst.Call) and dotted_last(expr.func) in ("text", "TextClause", "DDL"):
        positional = _positional(expr)
        if not positional:
            return []
        expr = positional[0]
    source = extract_sql(expr, ctx, resolver=resolver)
    if source is None or not looks_like_sql(source.text):
        return []
    return list(ctx.sql_statements(source))


def _python_sql_ops(statements: Sequence[SqlStatement], call: cst.Call) -> list[Op]:
    ops: list[Op] = []
    for stmt in statements:
        for op in sql_ops(stmt):
            op.call = call
            ops.append(op)
    return ops


# -- Alembic -------------------------------------------------------------------------------------

_ALEMBIC_TYPES_VARCHAR = frozenset({"String", "VARCHAR", "Unicode", "NVARCHAR"})
_ALEMBIC_TYPES_CHAR = frozenset({"CHAR", "NCHAR"})
_ALEMBIC_TYPES_TIMESTAMP = frozenset({"DateTime", "DATETIME", "TIMESTAMP"})
_ALEMBIC_TYPES_INT = {
    "Integer": "integer",
    "INTEGER": "integer",
    "INT": "integer",
    "SmallInteger": "smallint",
    "SMALLINT": "smallint",
    "BigInteger": "bigint",
    "BIGINT": "bigint",
}


@dataclass(frozen=True, slots=True)
class _State:
    function: cst.FunctionDef | None = None
    top_function: str | None = None
    autocommit: bool = False
    batches: tuple[tuple[str, str | None], ...] = ()


class _AlembicScanner:
    def __init__(self, ctx: FileContext) -> None:
        assert ctx.module is not None
        self.ctx = ctx
        self.module = ctx.module
        self.names = _Names(ctx.module)
        self.ops: list[Op] = []

    def scan(self) -> Migration:
        upgrades: list[cst.FunctionDef] = []
        downgrades: list[cst.FunctionDef] = []
        for statement in self.module.body:
            if isinstance(statement, cst.FunctionDef):
                if statement.name.value.startswith("upgrade"):
                    upgrades.append(statement)
                elif statement.name.value.startswith("downgrade"):
                    downgrades.append(statement)
        stack: list[tuple[cst.CSTNode, _State]] = [(self.module, _State())]
        while stack:
            node, state = stack.pop()
            if isinstance(node, cst.FunctionDef):
                top = state.top_function or node.name.value
                if top.startswith("downgrade"):
                    continue
                state = replace(state, function=node, top_function=top)
            elif isinstance(node, cst.With):
                state = self._with(node, state)
            elif isinstance(node, cst.Call):
                self._call(node, state)
            stack.extend((child, state) for child in reversed(children(node)))
        return Migration(
            MigrationKind.ALEMBIC,
            self.ops,
            {},
            upgrades=tuple(upgrades),
            downgrades=tuple(downgrades),
        )

    def _with(self, node: cst.With, state: _State) -> _State:
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                continue
            method = call.func.attr.value
            if method == "autocommit_block":
                state = replace(state, autocommit=True)
            elif method == "batch_alter_table" and item.asname is not None:
                target = item.asname.name
                if isinstance(target, cst.Name):
                    table = _string(_arg(call, 0, "table_name"))
                    state = replace(state, batches=(*state.batches, (target.value, table)))
        return state

    def _is_op(self, func: cst.BaseExpression) -> str | None:
        """``op.add_column`` → ``add_column`` when ``op`` is Alembic's."""
        if not isinstance(func, cst.Attribute):
            return None
        names = self.ctx.qualified_names(func)
        for name in names:
            if name.startswith("alembic.op."):
                return name[len("alembic.op.") :]
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value == "op" and not names:
            return func.attr.value
        return None

    def _call(self, call: cst.Call, state: _State) -> None:
        method = self._is_op(call.func)
        table_of_batch: str | None = None
        batch = False
        if method is None and isinstance(call.func, cst.Attribute):
            receiver = call.func.value
            if isinstance(receiver, cst.Name):
                for name, table in state.batches:
                    if name == receiver.value:
                        method, table_of_batch, batch = call.func.attr.value, table, True
        if method is None:
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in (
                "execute",
                "exec_driver_sql",
            ):
                self._execute(call, state)
            return
        before = len(self.ops)
        if method == "execute":
            self._execute(call, state)
        else:
            self._operation(method, call, batch, table_of_batch)
        for op in self.ops[before:]:
            op.call = call
            if state.autocommit:
                op.in_transaction = False
                op.autocommit = True

    def _execute(self, call: cst.Call, state: _State) -> None:
        positional = _positional(call)
        argument = (
            positional[0] if positional else _kwarg(call, "sqltext") or _kwarg(call, "statement")
        )
        if argument is None:
            return
        update = _sqlalchemy_update(argument, self.ctx)
        if update is not None:
            table, full = update
            op = Op(
                OpKind.UPDATE,
                Source.ALEMBIC,
                "op.execute(update)",
                Loc(node=argument),
                table=table,
                full_table=full,
                call=call,
            )
            if state.autocommit:
                op.in_transaction = False
                op.autocommit = True
            self.ops.append(op)
            return
        resolver = self.names.resolver(state.function, self.module)
        found = _python_sql_ops(_sql_in_call(self.ctx, argument, resolver), call)
        for op in found:
            if state.autocommit:
                op.in_transaction = False
                op.autocommit = True
        self.ops.extend(found)

    def _operation(self, method: str, call: cst.Call, batch: bool, batch_table: str | None) -> None:
        # Batch operations omit the table argument: shift positions by one.
        shift = 1 if batch else 0
        api = f"{'batch_op' if batch else 'op'}.{method}"
        here = Loc(node=call)

        def table_at(index: int, keyword: str = "table_name") -> str | None:
            if batch:
                return batch_table
            return _string(_arg(call, index, keyword))

        def add(kind: OpKind, **values: Any) -> Op:
            op = Op(kind, Source.ALEMBIC, api, here, **values)
            self.ops.append(op)
            return op

        if method == "create_table":
            columns = [_alembic_column(c) for c in _positional(call)[1:] if isinstance(c, cst.Call)]
            add(
                OpKind.CREATE_TABLE,
                table=table_at(0),
                columns=tuple(c for c in columns if c is not None),
                guarded=_true(_kwarg(call, "if_not_exists")),
            )
        elif method == "drop_table":
            add(OpKind.DROP_TABLE, table=table_at(0), guarded=_true(_kwarg(call, "if_exists")))
        elif method == "rename_table":
            add(
                OpKind.RENAME_TABLE,
                table=table_at(0, "old_table_name"),
                name=_string(_arg(call, 1, "new_table_name")),
            )
        elif method == "add_column":
            column = _arg(call, 1 - shift, "column")
            if isinstance(column, cst.Call):
                self._add_column(add, call, column, table_at(0))
        elif method == "drop_column":
            add(
                OpKind.DROP_COLUMN,
                table=table_at(0),
                column=_string(_arg(call, 1 - shift, "column_name")),
                guarded=_true(_kwarg(call, "if_exists")),
            )
        elif method == "alter_column":
            self._alter_column(add, call, table_at(0), shift)
        elif method == "create_index":
            add(
                OpKind.CREATE_INDEX,
                table=table_at(1),
                name=_string(_arg(call, 0, "index_name")),
                unique=_true(_kwarg(call, "unique")),
                concurrently=_true(_kwarg(call, "postgresql_concurrently")),
                guarded=_true(_kwarg(call, "if_not_exists")),
                detail=_detail(call, "postgresql_concurrently"),
            )
        elif method == "drop_index":
            add(
                OpKind.DROP_INDEX,
                table=table_at(1),
                name=_string(_arg(call, 0, "index_name")),
                concurrently=_true(_kwarg(call, "postgresql_concurrently")),
                guarded=_true(_kwarg(call, "if_exists")),
            )
        elif method in ("create_foreign_key", "create_check_constraint"):
            kind = "foreign-key" if method == "create_foreign_key" else "check"
            condition = _arg(call, 2 - shift, "condition") if kind == "check" else None
            add(
                OpKind.ADD_CONSTRAINT,
                table=table_at(1, "source_table" if kind == "foreign-key" else "table_name"),
                name=_string(_arg(call, 0, "constraint_name")),
                constraint=kind,
                not_valid=_true(_kwarg(call, "postgresql_not_valid")),
                not_null_check=_python_not_null_check(condition),
            )
        elif method in ("create_unique_constraint", "create_primary_key"):
            add(
                OpKind.ADD_CONSTRAINT,
                table=table_at(1),
                name=_string(_arg(call, 0, "constraint_name")),
                constraint="unique" if method == "create_unique_constraint" else "primary-key",
            )
        elif method in ("drop_constraint", "create_exclude_constraint"):
            add(OpKind.ALTER_OTHER, table=table_at(1))

    def _add_column(
        self, add: Callable[..., Op], call: cst.Call, column: cst.Call, table: str | None
    ) -> None:
        spec = _alembic_column(column)
        nullable = _kwarg(column, "nullable")
        primary = _true(_kwarg(column, "primary_key"))
        not_null = _false(nullable) or (primary and nullable is None)
        server_default = _kwarg(column, "server_default")
        has_default = server_default is not None and not _none(server_default)
        volatile = None
        generated = False
        inline: set[str] = set()
        if has_default and server_default is not None:
            text = self.module.code_for_node(server_default)
            if any(f in text.lower() for f in _VOLATILE_FUNCTIONS):
                volatile = " ".join(text.split())
        for extra in _positional(column)[1:]:
            if isinstance(extra, cst.Call):
                name = dotted_last(extra.func)
                if name == "ForeignKey":
                    inline.add("foreign-key")
                elif name == "CheckConstraint":
                    inline.add("check")
                elif name == "Computed":
                    generated = True
                    has_default = True
                elif name == "Identity":
                    has_default = True
                    volatile = "an identity sequence"
        if _true(_kwarg(column, "unique")):
            inline.add("unique")
        if primary:
            inline.add("primary-key")
        not_valid = any(
            _true(_kwarg(extra, "postgresql_not_valid"))
            for extra in _positional(column)[1:]
            if isinstance(extra, cst.Call)
        )
        add(
            OpKind.ADD_COLUMN,
            table=table,
            column=spec.name if spec else _string(_arg(column, 0, "name")),
            not_null=not_null,
            has_default=has_default,
            volatile_default=volatile,
            generated_stored=generated,
            inline=frozenset(inline),
            not_valid=not_valid,
            columns=(spec,) if spec else (),
            detail=Loc(node=column),
        )

    def _alter_column(
        self, add: Callable[..., Op], call: cst.Call, table: str | None, shift: int
    ) -> None:
        column = _string(_arg(call, 1 - shift, "column_name"))
        new_name = _kwarg(call, "new_column_name")
        if new_name is not None and not _none(new_name):
            add(
                OpKind.RENAME_COLUMN,
                table=table,
                column=column,
                detail=_detail(call, "new_column_name"),
            )
        type_ = _kwarg(call, "type_")
        if type_ is not None and not _none(type_):
            ctype = _alembic_type(type_)
            existing = _kwarg(call, "existing_type")
            old = _alembic_type(existing) if existing is not None else None
            spec = ColumnSpec(column, ctype, False, Loc(node=type_))
            add(
                OpKind.ALTER_TYPE,
                table=table,
                column=column,
                columns=(spec,),
                safe_type_change=_safe_change(old, ctype),
                detail=_detail(call, "type_"),
            )
        nullable = _kwarg(call, "nullable")
        if _false(nullable) and not _false(_kwarg(call, "existing_nullable")):
            add(OpKind.SET_NOT_NULL, table=table, column=column, detail=_detail(call, "nullable"))


def _detail(call: cst.Call, keyword: str) -> Loc | None:
    arg = _kwarg_node(call, keyword)
    return Loc(node=arg) if arg is not None else None


def _alembic_column(column: cst.Call) -> ColumnSpec | None:
    if dotted_last(column.func) != "Column":
        return None
    positional = _positional(column)
    name = _string(positional[0]) if positional else _string(_kwarg(column, "name"))
    type_node: cst.BaseExpression | None = None
    for value in positional[:2]:
        if not isinstance(value, cst.SimpleString | cst.ConcatenatedString):
            type_node = value
            break
    if type_node is None:
        type_node = _kwarg(column, "type_")
    ctype = _alembic_type(type_node) if type_node is not None else None
    primary = _true(_kwarg(column, "primary_key"))
    return ColumnSpec(name, ctype, primary, Loc(node=type_node or column))


def _alembic_type(node: cst.BaseExpression | None) -> ColumnType | None:
    """A SQLAlchemy type expression (``sa.String(50)``, ``sa.Integer``) as a ``ColumnType``."""
    if node is None:
        return None
    call: cst.Call | None = None
    target = node
    while isinstance(target, cst.Call):
        func = target.func
        if isinstance(func, cst.Attribute) and func.attr.value in (
            "with_variant",
            "evaluates_none",
        ):
            target = func.value
            continue
        call = target
        target = func
        break
    name = dotted_last(target)
    if name is None:
        return None
    written = name
    if name in _ALEMBIC_TYPES_VARCHAR or name in _ALEMBIC_TYPES_CHAR:
        length = None
        if call is not None:
            value = _arg(call, 0, "length")
            if isinstance(value, cst.Integer):
                length = int(value.value)
        family = "varchar" if name in _ALEMBIC_TYPES_VARCHAR else "char"
        if family == "varchar" and length is None:
            return ColumnType("text", None, written)
        return ColumnType(family, length, f"{written}({length})" if length else written)
    if name in _ALEMBIC_TYPES_TIMESTAMP:
        timezone = _arg(call, 0, "timezone") if call is not None else None
        return ColumnType("timestamptz" if _true(timezone) else "timestamp", None, written)
    if name in _ALEMBIC_TYPES_INT:
        return ColumnType(_ALEMBIC_TYPES_INT[name], None, written)
    if name in ("Text", "TEXT", "UnicodeText"):
        return ColumnType("text", None, written)
    return ColumnType("other", None, written)


def _safe_change(old: ColumnType | None, new: ColumnType | None) -> bool:
    """Type changes Postgres makes without rewriting the table or its indexes."""
    if old is None or new is None:
        return False
    if old.family == "varchar" and new.family == "text":
        return True
    if old.family == new.family == "varchar":
        return new.length is None or (old.length is not None and new.length >= old.length)
    return old.family == "text" and new.family == "text"


def _python_not_null_check(condition: cst.BaseExpression | None) -> str | None:
    text = _string(condition)
    if text is None:
        return None
    m = re.fullmatch(r"\s*\(?\s*\"?(\w+)\"?\s+IS\s+NOT\s+NULL\s*\)?\s*", text, re.IGNORECASE)
    return m.group(1).lower() if m else None


def _sqlalchemy_update(
    node: cst.BaseExpression, ctx: FileContext
) -> tuple[str | None, bool] | None:
    """``table.update().values(...)`` / ``sa.update(table)...``: (table, has no ``where``)."""
    where = False
    current: cst.BaseExpression = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        method = current.func.attr.value
        if method in ("where", "filter", "filter_by"):
            where = True
        if method == "update":
            receiver = current.func.value
            name = dotted_name(receiver)
            return (name.rsplit(".", 1)[-1] if name else None, not where)
        if method not in (
            "values",
            "where",
            "filter",
            "filter_by",
            "execution_options",
            "returning",
            "ordered_values",
            "inline",
        ):
            return None
        current = current.func.value
    if isinstance(current, cst.Call) and dotted_last(current.func) == "update":
        names = ctx.qualified_names(current.func)
        if any(n.startswith("sqlalchemy") for n in names):
            positional = _positional(current)
            table = dotted_name(positional[0]) if positional else None
            return (table.rsplit(".", 1)[-1] if table else None, not where)
    return None


# -- Django --------------------------------------------------------------------------------------

_FK_FIELDS = ("ForeignKey", "OneToOneField", "ParentalKey")
#: Django fields that do not accept "" (``empty_strings_allowed = False``), so ``blank=True``
#: gives them no default.
_NO_EMPTY_STRING = re.compile(
    r"Integer|Float|Decimal|Boolean|Date|Time|Duration|UUID|JSON|Foreign|OneToOne|IPAddress"
    r"|Auto|ParentalKey|Binary"
)
_INT_PK_FIELDS = {
    "AutoField": "integer",
    "SmallAutoField": "smallint",
    "IntegerField": "integer",
    "SmallIntegerField": "smallint",
    "PositiveIntegerField": "integer",
    "PositiveSmallIntegerField": "smallint",
}


class _DjangoScanner:
    def __init__(self, ctx: FileContext) -> None:
        assert ctx.module is not None
        self.ctx = ctx
        self.module = ctx.module
        self.names = _Names(ctx.module)
        self.ops: list[Op] = []
        self.atomic = True
        self.created: set[str] = set()
        parts = ctx.path.replace("\\", "/").split("/")
        self.app = parts[-3].lower() if len(parts) >= 3 and parts[-2] == "migrations" else None

    def scan(self) -> Migration:
        for statement in self.module.body:
            if isinstance(statement, cst.ClassDef) and statement.name.value == "Migration":
                self._migration_class(statement)
        return Migration(
            MigrationKind.DJANGO, self.ops, {}, atomic=self.atomic, created=frozenset(self.created)
        )

    def _migration_class(self, node: cst.ClassDef) -> None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        operations: cst.BaseExpression | None = None
        for line in body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                if not isinstance(small, cst.Assign | cst.AnnAssign):
                    continue
                targets = (
                    [t.target for t in small.targets]
                    if isinstance(small, cst.Assign)
                    else [small.target]
                )
                for target in targets:
                    if not isinstance(target, cst.Name):
                        continue
                    if target.value == "atomic" and _false(small.value):
                        self.atomic = False
                    elif target.value == "operations":
                        operations = small.value
        if isinstance(operations, cst.List | cst.Tuple):
            self._operations(operations)

    def _operations(self, node: cst.List | cst.Tuple) -> None:
        for element in node.elements:
            value = element.value
            if isinstance(value, cst.Call):
                self._operation(value)

    def _operation(self, call: cst.Call) -> None:
        name = dotted_last(call.func)
        if name is None:
            return
        before = len(self.ops)
        here = Loc(node=call)

        def add(kind: OpKind, **values: Any) -> Op:
            op = Op(kind, Source.DJANGO, name or "", here, **values)
            self.ops.append(op)
            return op

        model = (_string(_arg(call, 0, "model_name")) or "").lower() or None
        if name == "CreateModel":
            table = (_string(_arg(call, 0, "name")) or "").lower() or None
            self._created(table, _kwarg(call, "options"))
            fields = _arg(call, 1, "fields")
            columns: list[ColumnSpec] = []
            if isinstance(fields, cst.List | cst.Tuple):
                for element in fields.elements:
                    pair = element.value
                    if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                        field_call = pair.elements[1].value
                        if isinstance(field_call, cst.Call):
                            columns.append(
                                _django_column(_string(pair.elements[0].value), field_call)
                            )
            add(OpKind.CREATE_TABLE, table=table, columns=tuple(columns))
        elif name == "DeleteModel":
            add(OpKind.DROP_TABLE, table=(_string(_arg(call, 0, "name")) or "").lower() or None)
        elif name in ("RenameModel", "AlterModelTable"):
            old = (
                _string(_arg(call, 0, "old_name" if name == "RenameModel" else "name")) or ""
            ).lower()
            add(OpKind.RENAME_TABLE, table=old or None)
        elif name == "AddField":
            added = _arg(call, 2, "field")
            if isinstance(added, cst.Call):
                self._add_field(add, model, _string(_arg(call, 1, "name")), added)
        elif name == "RemoveField":
            add(OpKind.DROP_COLUMN, table=model, column=_string(_arg(call, 1, "name")))
        elif name == "RenameField":
            add(OpKind.RENAME_COLUMN, table=model, column=_string(_arg(call, 1, "old_name")))
        elif name in ("AddIndex", "AddIndexConcurrently"):
            index = _arg(call, 1, "index")
            unique = False
            if isinstance(index, cst.Call):
                unique = dotted_last(index.func) == "UniqueConstraint"
            add(
                OpKind.CREATE_INDEX,
                table=model,
                unique=unique,
                concurrently=name == "AddIndexConcurrently",
            )
        elif name in ("RemoveIndex", "RemoveIndexConcurrently"):
            add(
                OpKind.DROP_INDEX,
                table=model,
                name=_string(_arg(call, 1, "name")),
                concurrently=name == "RemoveIndexConcurrently",
            )
        elif name in ("AddConstraint", "AddConstraintNotValid"):
            self._add_constraint(
                add, model, _arg(call, 1, "constraint"), name == "AddConstraintNotValid"
            )
        elif name == "ValidateConstraint":
            add(OpKind.VALIDATE_CONSTRAINT, table=model, name=_string(_arg(call, 1, "name")))
        elif name in ("AlterUniqueTogether", "AlterIndexTogether"):
            together = _arg(
                call, 1, "unique_together" if name == "AlterUniqueTogether" else "index_together"
            )
            if _nonempty(together):
                table = (_string(_arg(call, 0, "name")) or "").lower() or None
                if name == "AlterUniqueTogether":
                    add(OpKind.ADD_CONSTRAINT, table=table, constraint="unique")
                else:
                    add(OpKind.CREATE_INDEX, table=table)
        elif name == "RunSQL":
            self._run_sql(call, add)
        elif name == "RunPython":
            reverse = _arg(call, 1, "reverse_code")
            add(OpKind.RUN_PYTHON, has_reverse=reverse is not None and not _none(reverse))
        elif name == "SeparateDatabaseAndState":
            database = _arg(call, 0, "database_operations")
            if isinstance(database, cst.List | cst.Tuple):
                self._operations(database)
        for op in self.ops[before:]:
            if op.call is None:
                op.call = call

    def _created(self, model: str | None, options: cst.BaseExpression | None) -> None:
        if not model:
            return
        self.created.add(model)
        if self.app:
            self.created.add(f"{self.app}_{model}")
        if isinstance(options, cst.Dict):
            for element in options.elements:
                if isinstance(element, cst.DictElement) and _string(element.key) == "db_table":
                    table = _string(element.value)
                    if table:
                        self.created.add(table.lower())

    def _add_field(
        self, add: Callable[..., Op], model: str | None, column: str | None, field_call: cst.Call
    ) -> None:
        kind = dotted_last(field_call.func) or ""
        if kind.startswith("ManyToMany") or kind == "ParentalManyToManyField":
            return
        null = _true(_kwarg(field_call, "null"))
        default = _kwarg(field_call, "default")
        db_default = _kwarg(field_call, "db_default")
        has_default = (
            (default is not None and not _none(default))
            or db_default is not None
            or _true(_kwarg(field_call, "auto_now"))
            or _true(_kwarg(field_call, "auto_now_add"))
            # Django fills a blank-able text-like field with "" (Field.empty_strings_allowed).
            or (_true(_kwarg(field_call, "blank")) and not _NO_EMPTY_STRING.search(kind))
        )
        foreign = kind.endswith(_FK_FIELDS) and not _false(_kwarg(field_call, "db_constraint"))
        inline: set[str] = set()
        if foreign:
            inline.add("foreign-key")
        if _true(_kwarg(field_call, "unique")) or kind.endswith("OneToOneField"):
            inline.add("unique")
        if _true(_kwarg(field_call, "primary_key")):
            inline.add("primary-key")
        volatile = None
        generated = kind == "GeneratedField" and not _false(_kwarg(field_call, "db_persist"))
        if db_default is not None:
            text = self.module.code_for_node(db_default)
            if re.search(r"\b(?:RandomUUID|Random|uuid)\b", text):
                volatile = " ".join(text.split())
        if kind in ("AutoField", "BigAutoField", "SmallAutoField"):
            volatile = f"the sequence of `{kind}`"
        op = add(
            OpKind.ADD_COLUMN,
            table=model,
            column=column,
            not_null=not null and kind != "GeneratedField",
            has_default=has_default or generated or kind.endswith("AutoField"),
            volatile_default=volatile,
            generated_stored=generated,
            inline=frozenset(inline),
            foreign_key=foreign,
            detail=Loc(node=field_call),
        )
        if _true(_kwarg(field_call, "db_index")):
            self.ops.append(
                replace(
                    op,
                    kind=OpKind.CREATE_INDEX,
                    inline=frozenset(),
                    detail=_detail(field_call, "db_index"),
                )
            )

    def _add_constraint(
        self,
        add: Callable[..., Op],
        model: str | None,
        constraint: cst.BaseExpression | None,
        not_valid: bool,
    ) -> None:
        if not isinstance(constraint, cst.Call):
            add(OpKind.ALTER_OTHER, table=model)
            return
        kind = dotted_last(constraint.func) or ""
        name = _string(_kwarg(constraint, "name"))
        if kind == "CheckConstraint":
            add(
                OpKind.ADD_CONSTRAINT,
                table=model,
                name=name,
                constraint="check",
                not_valid=not_valid,
            )
        elif kind == "UniqueConstraint":
            if _kwarg(constraint, "condition") is not None or _positional(constraint):
                # A partial or expression unique constraint is a unique index in Postgres.
                add(OpKind.CREATE_INDEX, table=model, unique=True)
            else:
                add(OpKind.ADD_CONSTRAINT, table=model, constraint="unique")
        elif kind == "ExclusionConstraint":
            add(OpKind.ADD_CONSTRAINT, table=model, constraint="exclude")
        else:
            add(
                OpKind.ADD_CONSTRAINT,
                table=model,
                name=name,
                constraint="other",
                not_valid=not_valid,
            )

    def _run_sql(self, call: cst.Call, add: Callable[..., Op]) -> None:
        reverse = _arg(call, 1, "reverse_sql")
        add(OpKind.RUN_SQL, has_reverse=reverse is not None and not _none(reverse))
        forward = _arg(call, 0, "sql")
        if forward is None:
            return
        resolver = self.names.resolver(None, self.module)
        items: list[cst.BaseExpression] = []
        if isinstance(forward, cst.List | cst.Tuple):
            for element in forward.elements:
                item = element.value
                if isinstance(item, cst.Tuple | cst.List) and item.elements:
                    item = item.elements[0].value
                items.append(item)
        else:
            items.append(forward)
        for item in items:
            self.ops.extend(_python_sql_ops(_sql_in_call(self.ctx, item, resolver), call))


def _nonempty(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        return bool(node.elements)
    if isinstance(node, cst.Call):
        return bool(node.args)
    return node is not None and not _none(node)


def _django_column(name: str | None, field_call: cst.Call) -> ColumnSpec:
    kind = dotted_last(field_call.func) or ""
    primary = _true(_kwarg(field_call, "primary_key")) or kind.endswith("AutoField")
    family = _INT_PK_FIELDS.get(kind, "bigint" if kind == "BigAutoField" else "other")
    return ColumnSpec(name, ColumnType(family, None, kind), primary, Loc(node=field_call))


# -- the base class of migration rules -----------------------------------------------------------


class MigrationRule(SqlRule, PythonRule):
    """A BE3xx rule: ``check_op`` sees every forward operation of a migration file once.

    Subclasses set ``sql_words`` (a file without any of them, case-insensitive, cannot
    match in ``.sql`` form) and may set ``python_words`` (a Python migration must contain one).
    """

    file_kinds = frozenset({FileKind.PYTHON, FileKind.SQL})
    #: Keywords one of which a ``.sql`` file (or the SQL of a Python migration) must contain.
    sql_words: ClassVar[tuple[str, ...]] = ()
    #: Words one of which a Python migration must contain; empty means any migration.
    python_words: ClassVar[tuple[str, ...]] = ()
    _sql_pattern: ClassVar[re.Pattern[str] | None] = None
    #: The ``sql-dialect`` settings the rule applies to (None: every dialect). Most BE3xx
    #: rules describe Postgres locking and DDL; a MySQL or SQLite project gets no Postgres
    #: advice.
    dialects: ClassVar[frozenset[str] | None] = frozenset({"postgres"})

    def __init__(self, ctx: FileContext, options: Any) -> None:
        super().__init__(ctx, options)
        self._sql_done = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.sql_words:
            words = "|".join(re.escape(w) for w in cls.sql_words)
            cls._sql_pattern = re.compile(rf"\b(?:{words})\b", re.IGNORECASE)

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        if kind is FileKind.SQL:
            return cls._sql_pattern is None or bool(cls._sql_pattern.search(text))
        if not looks_like_migration(text):
            return False
        if not cls.python_words:
            return True
        if any(word in text for word in cls.python_words):
            return True
        return cls._sql_pattern is not None and bool(cls._sql_pattern.search(text))

    # -- feeding ops -----------------------------------------------------------------------------

    @property
    def migration(self) -> Migration | None:
        if self.dialects is not None and self.ctx.dialect not in self.dialects:
            return None
        return analyze(self.ctx)

    def visit_Call(self, node: cst.Call) -> object:
        migration = self.migration
        if migration is None:
            return STOP_VISITING  # not a migration (or not this rule's dialect)
        for op in migration.by_call.get(id(node), ()):
            self.check_op(op, migration)
        return None

    def check_statement(self, stmt: SqlStatement) -> None:
        if self.ctx.kind is not FileKind.SQL or self._sql_done:
            return
        self._sql_done = True
        migration = self.migration
        if migration is None:
            return
        for op in migration.ops:
            self.check_op(op, migration)

    def check_op(self, op: Op, migration: Migration) -> None:
        raise NotImplementedError

    # -- reporting -------------------------------------------------------------------------------

    def report_op(
        self,
        op: Op,
        message: str,
        *,
        help: str | None = None,
        at: Loc | None = None,
        severity: Severity | None = None,
    ) -> None:
        loc = at or op.loc
        if loc.node is not None:
            self.report(loc.node, message, help=help, severity=severity)
        elif loc.stmt is not None:
            self.report_sql(loc.stmt, message, node=loc.span, help=help, severity=severity)


def on(table: str | None) -> str:
    """`` on `orders` `` for messages, or nothing when the table is unknown."""
    return f" on `{table}`" if table else ""


def pick(op: Op, sql: str, alembic: str, django: str) -> str:
    """The wording for the op's source."""
    return {Source.SQL: sql, Source.ALEMBIC: alembic, Source.DJANGO: django}[op.source]


def outside_transaction(migration: Migration) -> str:
    """How to run a statement outside a transaction, in the migration's own terms."""
    if migration.kind is MigrationKind.ALEMBIC:
        return "inside `with op.get_context().autocommit_block():`"
    if migration.kind is MigrationKind.DJANGO:
        return "in a migration with `atomic = False`"
    return "outside a transaction"


_DDL = re.compile(r"\b(?:create|alter|drop)\s+(?:unique\s+)?(?:table|index)\b", re.IGNORECASE)


def in_migration(ctx: FileContext) -> bool:
    """True for a migration: a Python migration file, or a ``.sql`` file that changes schema.

    SQL quality rules use it to stay quiet about data-copying idioms (``INSERT ... SELECT *``,
    batched backfills) that belong in migrations.
    """
    key = "be_lint.migrations.in_migration"
    cached = ctx.memo.get(key)
    if isinstance(cached, bool):
        return cached
    if ctx.kind is FileKind.SQL:
        found = bool(_DDL.search(ctx.text))
    else:
        found = detect_kind(ctx.path, ctx.text, ctx.kind) is not None
    ctx.memo[key] = found
    return found


def same_transaction(migration: Migration, first: Op, second: Op) -> bool:
    """True when ``first`` and (the later) ``second`` certainly run in one transaction."""
    if first.in_transaction is not True or second.in_transaction is not True:
        return False
    if first.autocommit or second.autocommit:
        return False
    for between in migration.ops[first.index + 1 : second.index]:
        if between.kind in (OpKind.BEGIN, OpKind.COMMIT) or between.autocommit:
            return False
    return True
