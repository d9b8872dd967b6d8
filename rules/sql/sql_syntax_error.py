"""BE202 sql-syntax-error: SQL that the database will reject, found before it ships."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity, SqlRule, option
from be_lint.sql.calls import may_reach_sql, sql_call
from be_lint.sql.extract import HOLE_NAME
from be_lint.sql.model import HoleKind, SqlStatement
from be_lint.sql.parse import Token, statement_tokens

if TYPE_CHECKING:
    import sqlglot.dialects.dialect as dialect
else:
    from be_lint.sql.lazy import dialect

#: Words that start a statement.
_STATEMENT_WORDS = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "WITH",
    "CREATE",
    "ALTER",
    "DROP",
    "TRUNCATE",
    "MERGE",
    "VALUES",
    "EXPLAIN",
    "GRANT",
    "REVOKE",
    "REFRESH",
    "REINDEX",
    "VACUUM",
    "ANALYZE",
    "COMMENT",
)
#: Clause keywords of four letters or more (shorter ones are too close to ordinary names).
_CLAUSE_WORDS = (
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "OUTER",
    "VALUES",
    "INTO",
    "RETURNING",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "BETWEEN",
    "DISTINCT",
    "UPDATE",
    "DELETE",
    "INSERT",
)
#: A statement cannot end with these.
_DANGLING = frozenset(
    {"WHERE", "AND", "OR", "FROM", "SET", "JOIN", "BY", "ORDER BY", "GROUP BY"}
    | {",", "=", "NOT", "IN", "LIKE", "ILIKE", "HAVING", "INTO", "UNION"}
)
#: Doubling one of these is never valid.
_NO_DOUBLE = frozenset({"AND", "OR", "WHERE", "FROM", "SELECT", "SET", "ON", "JOIN", ","})
#: What may follow a comma in these dialects' select lists and value lists: not a clause.
_AFTER_COMMA = frozenset({"FROM", "WHERE", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", ")"})
#: Calls whose SQL is a piece of a statement, to be composed with others.
_FRAGMENT_KINDS = frozenset({"psycopg-sql", "sqlalchemy-fragment", "django-extra", "django-rawsql"})
_STRICT_COMMA_DIALECTS = frozenset({"postgres", "mysql", "sqlite", "tsql", "oracle", "redshift"})
_KEYWORD_DIALECTS = ("postgres", "mysql", "sqlite", "tsql", "oracle", "bigquery", "snowflake")

RATIONALE = """\
SQL inside a Python string is invisible to the Python parser, the type checker and most tests:
a typo such as `SELEC`, `FORM` or a dropped parenthesis ships, and fails the first time that code
path runs in production.

The rule parses the SQL that reaches a database call (and every statement of a `.sql` file) with
the configured dialect. Parsers disagree at the edges -- sqlglot rejects a few valid Postgres
operators and DDL forms -- so by default it reports only mistakes that are wrong in every
dialect: a misspelt keyword where the parser stopped (`SELEC`, `FORM`, `WHRE`, `LIMT`), a
doubled keyword (`AND AND`), a comma before `FROM`/`WHERE` or a closing parenthesis,
unbalanced parentheses, and a statement that ends in the middle (`... WHERE`, `... AND`).
Statements built partly at run time are only checked where the known text decides, and pieces
of SQL meant to be composed into a statement (`psycopg.sql.SQL`, `literal_column`,
`QuerySet.extra`, `RawSQL`, a `text()` that is not a statement) only for misspellings. Set the
`all-parse-errors` option to report every statement the parser rejects.
"""

HOW_TO_FIX = """\
Fix the statement; the message names the token. Run the query once in a test, or through
`EXPLAIN`, to catch the rest.
"""


@dataclass(frozen=True)
class Options:
    all_parse_errors: bool = option(
        False,
        "Report every statement the SQL parser rejects, not only clear mistakes (noisier: the "
        "parser does not know every dialect feature).",
    )


class SqlSyntaxError(SqlRule):
    meta = RuleMeta(
        code="BE202",
        name="sql-syntax-error",
        summary="SQL statement that does not parse",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
    )
    options_class = Options

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_reach_sql(text, kind)

    bad = (
        Example(
            """\
def load(cursor, user_id):
    cursor.execute("SELECT id, email FORM users WHERE id = %s", (user_id,))  # expect: BE202
    cursor.execute("SELEC id FROM users")  # expect: BE202
    cursor.execute("SELECT id FROM users WHERE active AND AND id = %s", (user_id,))  # expect: BE202
    cursor.execute("SELECT id, email, FROM users")  # expect: BE202
    cursor.execute("SELECT id FROM users WHERE (id = %s", (user_id,))  # expect: BE202
    cursor.execute("UPDATE users SET active = false WHERE")  # expect: BE202
"""
        ),
        Example(
            """\
SELECT id FROM orders WHRE total > 100;  -- expect: BE202
""",
            filename="example.sql",
        ),
    )
    good = (
        Example(
            """\
def load(cursor, user_id, where, order):
    cursor.execute("SELECT id, email FROM users WHERE id = %s", (user_id,))
    cursor.execute("SELECT id FROM users WHERE " + where)
    cursor.execute(f"SELECT id FROM users ORDER BY created {order}")
    cursor.execute("SELECT id FROM ranges WHERE span <<= %s", (user_id,))
    cursor.execute("SELECT form FROM orders WHERE span <<= %s", (user_id,))
    cursor.execute("SELECT id FROM orders WHERE total > 100")
    cursor.execute('INSERT INTO quota (id, "limit") VALUES (%s, %s)', (1, 2))
    cursor.execute("SELECT id FROM t WHERE note IN (')', '(')")
    cursor.execute("PRAGMA foreign_keys = ON")
"""
        ),
        Example(
            """\
CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
SELECT id FROM orders WHERE total > 100;
""",
            filename="example.sql",
        ),
    )

    def check_statement(self, stmt: SqlStatement) -> None:
        text = stmt.text
        if "{{" in text or "{%" in text:
            return  # a template (Jinja, dbt), not SQL yet
        tokens = statement_tokens(stmt)
        if not tokens or self._fragment(tokens):
            return
        static = not any(h.kind is HoleKind.DYNAMIC for h in stmt.holes)
        found = self._structural(stmt, tokens, static)
        if found is None and stmt.tree is None:
            found = self._misspelt(stmt, tokens)
            if found is None and self.options.all_parse_errors and stmt.error:
                span = (stmt.error_offset, stmt.error_offset + 1) if stmt.error_offset else None
                found = (f"SQL does not parse: {stmt.error}", span)
        if found is None:
            return
        message, span = found
        self.report_sql(stmt, message, node=span, help="fix the statement before it ships")

    def _fragment(self, tokens: Sequence[Token]) -> bool:
        """SQL that is a piece of a statement (``sql.SQL("SELECT * FROM ")``,
        ``literal_column(...)``, ``.extra(where=[...])``, ``text("x > 1")``)."""
        call = self.ctx.sql_call
        if call is None:
            return False
        found = sql_call(call, self.ctx)
        if found is None:
            return False
        if found.kind in _FRAGMENT_KINDS:
            return True
        if found.kind == "sqlalchemy-text":
            return tokens[0].text.upper() not in _STATEMENT_WORDS
        return False

    def _structural(
        self, stmt: SqlStatement, tokens: Sequence[Token], static: bool
    ) -> tuple[str, tuple[int, int] | None] | None:
        # Quoted names and strings never count as keywords or punctuation (``"limit"``).
        words = [
            ""
            if t.token_type.name in ("IDENTIFIER", "STRING", "NATIONAL_STRING")
            else t.text.upper()
            for t in tokens
        ]
        for i in range(1, len(tokens)):
            if words[i] == words[i - 1] and words[i] in _NO_DOUBLE:
                return (f"`{tokens[i].text}` twice in a row", self._span(stmt, tokens[i]))
            if (
                words[i - 1] == ","
                and words[i] in _AFTER_COMMA
                and stmt.dialect in _STRICT_COMMA_DIALECTS
            ):
                return (
                    f"a comma before `{tokens[i].text}`: the list ends with an empty item",
                    self._span(stmt, tokens[i - 1]),
                )
        if not static:
            return None
        depth = 0
        for token in tokens:
            if token.token_type.name == "L_PAREN":
                depth += 1
            elif token.token_type.name == "R_PAREN":
                depth -= 1
                if depth < 0:
                    return (
                        "a `)` closes a parenthesis that was never opened",
                        self._span(stmt, token),
                    )
        if depth > 0:
            return (f"{depth} unclosed parenthes{'is' if depth == 1 else 'es'}", None)
        if words[-1] in _DANGLING and len(tokens) > 1:
            return (
                f"the statement ends after `{tokens[-1].text}`: something is missing",
                self._span(stmt, tokens[-1]),
            )
        return None

    def _misspelt(
        self, stmt: SqlStatement, tokens: Sequence[Token]
    ) -> tuple[str, tuple[int, int] | None] | None:
        first = tokens[0]
        if _candidate(first):
            intended = _closest(first.text.upper(), _STATEMENT_WORDS)
            if intended is not None:
                return (
                    f"`{first.text}` is not a SQL statement: did you mean `{intended}`?",
                    self._span(stmt, first),
                )
        if stmt.error_offset is None:
            return None
        error_at = stmt.error_offset - stmt.start
        index = next((i for i, t in enumerate(tokens) if t.end >= error_at), len(tokens) - 1)
        for i in range(max(1, index - 2), min(len(tokens), index + 1)):
            token = tokens[i]
            if not _candidate(token) or _in_name_position(tokens, i):
                continue
            if sum(1 for t in tokens if t.text.lower() == token.text.lower()) > 1:
                continue  # the same word elsewhere: a name, not a typo
            intended = _closest(token.text.upper(), _CLAUSE_WORDS)
            if intended is not None:
                return (
                    f"`{token.text}` looks like a misspelt `{intended}`",
                    self._span(stmt, token),
                )
        return None

    @staticmethod
    def _span(stmt: SqlStatement, token: Token) -> tuple[int, int]:
        return (stmt.start + token.start, stmt.start + token.end + 1)


def _candidate(token: Token) -> bool:
    """An unquoted word the tokenizer did not know, and no placeholder."""
    if token.token_type.name != "VAR" or HOLE_NAME.fullmatch(token.text):
        return False
    return token.text.upper() not in _known_keywords() and token.text.isalpha()


def _in_name_position(tokens: Sequence[Token], index: int) -> bool:
    """After FROM/JOIN/INTO/AS/``.``, or before ``.``/``(``: a table, alias or function."""
    previous = tokens[index - 1].text.upper() if index else ""
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    return previous in ("FROM", "JOIN", "INTO", "UPDATE", "TABLE", "AS", ".") or following in (
        ".",
        "(",
    )


def _closest(word: str, keywords: Sequence[str]) -> str | None:
    for keyword in keywords:
        if word != keyword and _one_edit(word, keyword):
            return keyword
    return None


def _one_edit(word: str, keyword: str) -> bool:
    """One substitution, deletion, insertion (not a plural ``S``) or adjacent swap apart."""
    if abs(len(word) - len(keyword)) > 1:
        return False
    if len(word) == len(keyword):
        diffs = [i for i in range(len(word)) if word[i] != keyword[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and word[diffs[0]] == keyword[diffs[1]]
            and word[diffs[1]] == keyword[diffs[0]]
        )
    if len(word) < len(keyword):
        return any(keyword[:i] + keyword[i + 1 :] == word for i in range(len(keyword)))
    if word == keyword + "S":
        return False  # ORDERS, VALUESS: more likely a name than a typo
    return any(word[:i] + word[i + 1 :] == keyword for i in range(len(word)))


@functools.lru_cache(maxsize=1)
def _known_keywords() -> frozenset[str]:
    found: set[str] = set()
    for name in _KEYWORD_DIALECTS:
        try:
            found.update(
                k.upper() for k in dialect.Dialect.get_or_raise(name).tokenizer_class.KEYWORDS
            )
        except Exception:  # a dialect missing from this sqlglot version
            continue
    return frozenset(found)
