"""BE201 update-or-delete-without-where: an UPDATE or DELETE that touches every row."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule
from be_lint.sql.calls import may_reach_sql
from be_lint.sql.model import SqlStatement
from be_lint.sql.parse import hole_may_hide_clause

if TYPE_CHECKING:
    import sqlglot.expressions as exp
else:
    from be_lint.sql.lazy import exp

_KEYWORDS = re.compile(r"\b(?:update|delete)\b", re.IGNORECASE)

RATIONALE = """\
An `UPDATE` or `DELETE` without a `WHERE` clause changes every row of the table. Written on
purpose this is rare (and `TRUNCATE` says it better for deletes); far more often the condition
was lost -- a clause built in a branch that did not run, a line dropped in a refactor, a query
typed into the wrong file. The damage is immediate and needs a restore from backup to undo.

The rule checks SQL passed to database calls in Python and statements in `.sql` files,
including `UPDATE`/`DELETE` statements inside `WITH` queries. It is quiet when the statement has
a `WHERE` (also `WHERE CURRENT OF cursor`), when a MySQL-style join or `LIMIT` restricts the
rows, and when part of the statement is built at run time in a place where a `WHERE` clause
could be hiding.
"""

HOW_TO_FIX = """\
Add the condition that selects the rows to change. If every row really must change, say so
explicitly: `WHERE true` documents the intent (and `TRUNCATE` empties a table faster than
`DELETE`).
"""


class UpdateOrDeleteWithoutWhere(SqlRule):
    meta = RuleMeta(
        code="BE201",
        name="update-or-delete-without-where",
        summary="UPDATE or DELETE without WHERE changes every row",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        references=(
            "https://www.postgresql.org/docs/current/sql-update.html",
            "https://www.postgresql.org/docs/current/sql-delete.html",
        ),
    )
    triggers = ("UPDATE", "DELETE")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        # SQL keywords in any case; in Python the SQL must also reach a known DB call.
        return may_reach_sql(text, kind) and _KEYWORDS.search(text) is not None

    bad = (
        Example(
            """\
def deactivate_all(cursor):
    cursor.execute("UPDATE users SET active = false")  # expect: BE201
"""
        ),
        Example(
            """\
from sqlalchemy import text


def purge(session, table):
    session.execute(text("DELETE FROM sessions"))  # expect: BE201
    session.execute(text(f"DELETE FROM {table}"))  # expect: BE201
"""
        ),
        Example(
            """\
def archive(conn):
    conn.execute(
        "WITH moved AS (DELETE FROM events RETURNING *) "  # expect: BE201
        "INSERT INTO events_archive SELECT * FROM moved"
    )
"""
        ),
        Example(
            """\
UPDATE accounts SET balance = 0;  -- expect: BE201
DELETE FROM audit_log;  -- expect: BE201
""",
            filename="example.sql",
        ),
        Example(
            """\
WITH stale AS (SELECT id FROM sessions WHERE expires_at < now())
DELETE FROM sessions;  -- expect: BE201
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def deactivate(cursor, user_id):
    cursor.execute("UPDATE users SET active = false WHERE id = %s", (user_id,))
    cursor.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))
    cursor.execute("DELETE FROM sessions USING users WHERE sessions.user_id = users.id")
    cursor.execute("TRUNCATE sessions")
"""
        ),
        Example(
            """\
def clear(cursor, where_clause, params):
    cursor.execute("DELETE FROM sessions " + where_clause, params)
    cursor.execute(f"UPDATE users SET active = false {where_clause}", params)
"""
        ),
        Example(
            """\
UPDATE accounts SET balance = 0 WHERE id = :'account_id';
DELETE FROM audit_log WHERE created_at < now() - interval '90 days';
UPDATE jobs SET state = 'done' WHERE CURRENT OF job_cursor;
WITH stale AS (SELECT id FROM sessions WHERE expires_at < now())
DELETE FROM sessions WHERE id IN (SELECT id FROM stale);
TRUNCATE audit_log;
-- UPDATE users SET active = false;
SELECT 'DELETE FROM users';
""",
            filename="example.sql",
        ),
        Example(
            """\
def log_update(logger, name):
    logger.info("UPDATE users SET active = false")
    return "DELETE FROM users"
"""
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        tree = stmt.tree
        if tree is None:
            return
        for target in _modifications(tree):
            if target.args.get("where") is not None or _restricted(target):
                continue
            if hole_may_hide_clause(stmt, target):
                continue
            verb = "UPDATE" if isinstance(target, exp.Update) else "DELETE"
            table = _table_name(stmt, target)
            on = f" on `{table}`" if table else ""
            self.report_sql(
                stmt,
                f"`{verb}`{on} has no `WHERE` clause: it changes every row",
                node=target,
                help="add a WHERE clause (or `WHERE true` if every row really must change)",
            )


def _modifications(tree: exp.Expression) -> Iterator[exp.Expression]:
    """The statement itself if it modifies rows, and data-modifying queries in its WITH."""
    if isinstance(tree, exp.Update | exp.Delete):
        yield tree
    with_ = tree.args.get("with_") or tree.args.get("with")
    if isinstance(with_, exp.With):
        for cte in with_.expressions:
            if isinstance(cte.this, exp.Update | exp.Delete):
                yield cte.this


def _restricted(target: exp.Expression) -> bool:
    """MySQL's ``UPDATE a JOIN b ON ...`` and ``... LIMIT n`` do not touch every row."""
    if target.args.get("limit") is not None:
        return True
    return any(
        join.args.get("on") is not None or join.args.get("using")
        for join in target.find_all(exp.Join)
    )


def _table_name(stmt: SqlStatement, target: exp.Expression) -> str | None:
    table = target.this
    if not isinstance(table, exp.Table) or not table.name:
        return None
    if any(stmt.source.text[h.start : h.end] in table.name for h in stmt.holes):
        return None  # a name built at run time reads badly as a hole identifier
    return table.name
