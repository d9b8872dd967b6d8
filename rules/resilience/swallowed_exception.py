"""BE711 swallowed-exception: a broad ``except`` that hides the failure completely."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import descendants, innermost_function
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity, option

RATIONALE = """\
`except Exception: pass` (or a bare `except:`, or a handler that only `continue`s or returns
a default) turns every failure in the `try` block into silence: a database that is down, a bug
that raises `TypeError`, an expired credential and a full disk all look like "nothing
happened". The service keeps running in a degraded state, nothing reaches the logs or the error
tracker, and the first sign of trouble is a user report days later. Broad handlers also catch
what nobody meant to handle (`KeyboardInterrupt` and `SystemExit` too, for a bare `except:`).

The rule reports a handler for `Exception`, `BaseException` or everything (`except:`) whose
body only passes, continues, breaks or returns a constant or a variable, without logging or
re-raising. It is quiet when:

- the handler carries a comment (a deliberate, explained decision; see the `allow-commented`
  option);
- the `try` block only imports modules (optional dependencies), only releases resources
  (`close()`, `unlink()`, `shutdown()`, `cancel()`, ...), or raises an exception itself (the
  handler exists to catch that one);
- it is inside a method that cleans up or renders (`__del__`, `__exit__`, `close`,
  `__repr__`, ...), where raising would do more harm than the lost error.
"""

HOW_TO_FIX = """\
Catch the exceptions you expect (`except (ConnectionError, TimeoutError):`) and let the rest
propagate. When swallowing is deliberate, leave a trace: `logger.exception("could not refresh
cache")` (or `logger.warning(..., exc_info=True)`), count it in a metric, and say why in a
comment.
"""


@dataclass(frozen=True)
class Options:
    allow_commented: bool = option(
        True,
        "A handler with a comment explaining why the error is ignored is not reported.",
    )


_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
_CLEANUP = frozenset(
    {
        "close",
        "aclose",
        "shutdown",
        "unlink",
        "remove",
        "rmdir",
        "rmtree",
        "kill",
        "terminate",
        "cancel",
        "disconnect",
        "release",
        "stop",
        "cleanup",
        "join",
        "flush",
        "unregister",
        "removeHandler",
        "quit",
        "logout",
        "dispose",
        "unlock",
        "__exit__",
        "__aexit__",
    }
)
_CLEANUP_FUNCTIONS = frozenset(
    {
        "__del__",
        "__exit__",
        "__aexit__",
        "__repr__",
        "__str__",
        "close",
        "aclose",
        "shutdown",
        "cleanup",
        "teardown",
        "tearDown",
        "dispose",
    }
)
#: Comments that are only be-lint suppressions (or markers in be-lint's rule examples) do not
#: explain anything.
#: ``except:``, also with the colon on a continuation line.
_BARE_EXCEPT = re.compile(r"\bexcept[\s\\]*:")
_OWN_SUPPRESSION = re.compile(r"be-lint:|noqa:[^#]*\bBE[0-9]|^#\s*(?:todo-)?expect:", re.IGNORECASE)


class SwallowedException(PythonRule):
    meta = RuleMeta(
        code="BE711",
        name="swallowed-exception",
        summary="Broad `except` silently discards the error",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=390,
        references=(
            "https://docs.python.org/3/tutorial/errors.html#handling-exceptions",
            "https://cwe.mitre.org/data/definitions/390.html",
        ),
    )
    options_class = Options
    triggers = ("except",)

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        # A broad handler names `Exception`/`BaseException` (however it is imported or
        # qualified, the name is spelled out) or names nothing (`except:`).
        if "except" not in text:
            return False
        return "Exception" in text or _BARE_EXCEPT.search(text) is not None

    bad = (
        Example(
            """\
def sync_inventory(client, items):
    for item in items:
        try:
            client.push(item)
        except Exception:  # expect: BE711
            continue
"""
        ),
        Example(
            """\
def load_profile(user_id):
    try:
        return fetch_profile(user_id)
    except:  # expect: BE711
        return None
"""
        ),
        Example(
            """\
def refresh(cache):
    try:
        cache.refresh()
    except (ValueError, Exception):  # expect: BE711
        pass
"""
        ),
    )
    good = (
        Example(
            """\
import logging

logger = logging.getLogger(__name__)


def sync_inventory(client, items):
    for item in items:
        try:
            client.push(item)
        except Exception:
            logger.exception("could not push item %s", item.id)
            continue
"""
        ),
        Example(
            """\
def parse_port(value):
    try:
        return int(value)
    except ValueError:
        # a narrow, expected failure
        return None


def load(user_id):
    try:
        return fetch(user_id)
    except Exception:
        metrics.increment("profile.fetch_failed")
        raise
"""
        ),
        Example(
            """\
def best_effort_cleanup(conn, path):
    try:
        conn.close()
    except Exception:
        pass
    try:
        import ujson as json
    except Exception:
        pass
    try:
        warm_cache()
    except Exception:
        # the cache is optional; the next request fills it
        pass
"""
        ),
        Example(
            """\
class Connection:
    def __del__(self):
        try:
            self.socket.send(b"bye")
        except Exception:
            pass
"""
        ),
        Example(
            """\
def render(value):
    try:
        return format_value(value)
    # a template filter must never raise: an empty string is the documented fallback
    except Exception:
        return ""


def test_rollback(session):
    try:
        with session.begin():
            session.add(Order())
            raise RuntimeError("force rollback")
    except Exception:
        pass
"""
        ),
    )

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if not self._broad(node.type):
            return
        action = _trivial_body(node.body)
        if action is None:
            return
        if self.options.allow_commented and _has_comment(node):
            return
        parent = self.ctx.parent
        if isinstance(parent, cst.Try) and (_harmless_try(parent.body) or _raises(parent.body)):
            return
        func = innermost_function(self.ctx.ancestors)
        if isinstance(func, cst.FunctionDef) and func.name.value in _CLEANUP_FUNCTIONS:
            return
        caught = "everything" if node.type is None else "`Exception`"
        self.report(
            node.type if node.type is not None else node,
            f"this handler catches {caught} and {action}: the failure is neither logged "
            "nor re-raised",
            help="catch the specific exceptions you expect, or log with logger.exception(...) "
            "before carrying on",
        )

    def _broad(self, expr: cst.BaseExpression | None) -> bool:
        if expr is None:
            return True
        if isinstance(expr, cst.Tuple):
            return any(self._broad(element.value) for element in expr.elements)
        return self.ctx.matches(expr, _BROAD)


def _trivial_body(body: cst.BaseSuite) -> str | None:
    """What the handler does when it only passes, continues, breaks or returns a default."""
    if isinstance(body, cst.SimpleStatementSuite):
        smalls: list[cst.BaseSmallStatement] = list(body.body)
    elif isinstance(body, cst.IndentedBlock):
        smalls = []
        for statement in body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                return None
            smalls.extend(statement.body)
    else:
        return None
    action = "does nothing"
    for small in smalls:
        if isinstance(small, cst.Pass):
            continue
        if isinstance(small, cst.Expr) and isinstance(
            small.value, cst.Ellipsis | cst.SimpleString | cst.ConcatenatedString
        ):
            continue
        if isinstance(small, cst.Continue):
            action = "continues"
        elif isinstance(small, cst.Break):
            action = "breaks out of the loop"
        elif isinstance(small, cst.Return) and _is_default(small.value):
            action = "returns a default"
        else:
            return None
    return action


def _is_default(value: cst.BaseExpression | None) -> bool:
    if value is None:
        return True
    if isinstance(
        value,
        cst.Name
        | cst.Attribute
        | cst.Integer
        | cst.Float
        | cst.SimpleString
        | cst.ConcatenatedString,
    ):
        return True
    if isinstance(value, cst.UnaryOperation):
        return isinstance(value.expression, cst.Integer | cst.Float)
    if isinstance(value, cst.List | cst.Tuple | cst.Set | cst.Dict):
        return not value.elements
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
        return value.func.value in ("list", "dict", "set", "tuple") and not value.args
    return False


def _has_comment(node: cst.ExceptHandler) -> bool:
    # Comments on the lines just above ``except`` belong to the handler too.
    comments: list[cst.Comment] = [line.comment for line in node.leading_lines if line.comment]
    body = node.body
    if isinstance(body, cst.IndentedBlock):
        if body.header.comment is not None:
            comments.append(body.header.comment)
        for statement in body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            comments.extend(line.comment for line in statement.leading_lines if line.comment)
            trailing = statement.trailing_whitespace.comment
            if trailing is not None:
                comments.append(trailing)
        comments.extend(line.comment for line in body.footer if line.comment)
    elif (
        isinstance(body, cst.SimpleStatementSuite) and body.trailing_whitespace.comment is not None
    ):
        comments.append(body.trailing_whitespace.comment)
    return any(not _OWN_SUPPRESSION.search(comment.value) for comment in comments)


def _harmless_try(body: cst.BaseSuite) -> bool:
    """A ``try`` block that only imports, or only releases resources."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    smalls: list[cst.CSTNode] = []
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            smalls.extend(statement.body)
        else:
            return False
    if not smalls:
        return False
    if all(isinstance(s, cst.Import | cst.ImportFrom) for s in smalls):
        return True
    return all(_is_cleanup_call(s) for s in smalls)


def _raises(body: cst.BaseSuite) -> bool:
    """The ``try`` block raises an exception itself: the handler is there to catch it."""
    return any(isinstance(node, cst.Raise) and node.exc is not None for node in descendants(body))


def _is_cleanup_call(small: cst.CSTNode) -> bool:
    if not isinstance(small, cst.Expr):
        return False
    value = small.value
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Attribute):
        return func.attr.value in _CLEANUP
    return isinstance(func, cst.Name) and func.value in _CLEANUP
