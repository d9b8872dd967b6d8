"""BE802 eager-log-formatting: a log message formatted before the logger sees it."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import logging_call
from be_lint.rule import Confidence, Example, FixSafety, PythonRule, RuleMeta, Severity

RATIONALE = """\
The `logging` module formats lazily: `logger.info("user %s logged in", user_id)` keeps the
template and the arguments apart until a handler actually emits the record. A message built
beforehand -- an f-string, `"..." % args`, `"...".format(...)` or `+` concatenation -- loses
that:

- every call becomes a distinct message, so error trackers (Sentry groups by the template) and
  log aggregators can no longer group "the same error" and count it; one failure with a
  thousand different user ids becomes a thousand issues;
- the formatting work (and every `__str__`/`__repr__` it calls) is paid even when the level is
  disabled, which matters for `debug` calls in hot paths;
- a formatting error raises in the calling code instead of being reported by logging.

Only stdlib `logging` calls (and loggers named like them) are checked; structlog and loguru
have their own conventions.
"""

HOW_TO_FIX = """\
Pass a constant template and the values as arguments: `logger.info("user %s logged in from
%s", user_id, ip)`. The fix does this for f-strings without format specifications, for `%`
with a tuple (or a single plain value), and for `.format()` with only `{}` fields. It is marked
unsafe for f-strings and `.format()`, whose `{}` calls `format()` where `%s` calls `str()`: the
two differ for a few types (some enums before Python 3.12, objects with a custom
`__format__`). It is unsafe as well when the logger is only recognised by its name (imported
from another module): if that is a structlog logger without `PositionalArgumentsFormatter`,
the arguments would not be interpolated.
"""

_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|[0-9]+)?(?:\.(?:\*|[0-9]+))?[a-zA-Z%]")
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


class EagerLogFormatting(PythonRule):
    meta = RuleMeta(
        code="BE802",
        name="eager-log-formatting",
        summary="Log message formatted eagerly instead of with logging arguments",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.python.org/3/howto/logging.html#optimization",
            "https://docs.python.org/3/howto/logging.html#logging-variable-data",
            "https://docs.sentry.io/platforms/python/integrations/logging/",
        ),
    )
    triggers = ("log", "LOG", "Log")
    bad = (
        Example(
            """\
import logging

logger = logging.getLogger(__name__)


def charge(order, amount):
    logger.info(f"charging order {order.id} for {amount!r}")  # expect: BE802
    logger.warning("retry %d for %s" % (order.attempts, order.id))  # expect: BE802
    logger.error("payment failed for {}".format(order.id), exc_info=True)  # expect: BE802
""",
            fixed="""\
import logging

logger = logging.getLogger(__name__)


def charge(order, amount):
    logger.info("charging order %s for %r", order.id, amount)
    logger.warning("retry %d for %s", order.attempts, order.id)
    logger.error("payment failed for %s", order.id, exc_info=True)
""",
        ),
        Example(
            """\
import logging

log = logging.getLogger(__name__)


def refund(order):
    log.warning(  # expect: BE802
        f"refund of {order.id} failed"
    )
""",
            fixed="""\
import logging

log = logging.getLogger(__name__)


def refund(order):
    log.warning(
        "refund of %s failed", order.id
    )
""",
        ),
        Example(
            """\
import logging


def sync(batch):
    logging.debug(f"synced {len(batch):,} rows at 100%")  # expect: BE802
    logging.log(logging.INFO, "batch " + batch.name)  # expect: BE802
"""
        ),
    )
    good = (
        Example(
            """\
import logging

logger = logging.getLogger(__name__)


def charge(order, amount):
    logger.info("charging order %s for %r", order.id, amount)
    logger.info(f"static message without fields")
    logger.info("%(order)s", {"order": order.id})
"""
        ),
        Example(
            """\
from loguru import logger


def charge(order):
    # loguru formats with {} itself; f-strings there are a different trade-off
    logger.info(f"charging order {order.id}")
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        message = _first_positional_message(node, func.attr.value)
        if message is None or isinstance(message.value, cst.SimpleString):
            return
        call = logging_call(node, self.ctx)
        if call is None or call.library != "logging" or call.message is None:
            return
        value = call.message.value
        kind: str | None = None
        rewrite: tuple[str, list[cst.BaseExpression]] | None = None
        safety = FixSafety.SAFE
        if isinstance(value, cst.FormattedString):
            if not any(isinstance(p, cst.FormattedStringExpression) for p in value.parts):
                return
            kind = "an f-string"
            rewrite = _from_fstring(value)
            safety = FixSafety.UNSAFE
        elif isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Modulo):
            if _is_text(value.left):
                kind = "`%` formatting"
                rewrite = _from_percent(value)
        elif isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
            if _is_text(value.left) or _is_text(value.right):
                kind = "string concatenation"
        elif (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "format"
            and _is_text(value.func.value)
        ):
            kind = "`.format()`"
            rewrite = _from_format(value)
            safety = FixSafety.UNSAFE
        if kind is None:
            return
        if call.guessed:
            # A logger imported from elsewhere may be a structlog logger, which does not
            # %-format positional arguments unless configured to.
            safety = FixSafety.UNSAFE
        replacement = None
        if rewrite is not None and not call.args:
            replacement = _rewritten(node, call.message, rewrite[0], rewrite[1])
        # The whole call is reported: the fix rewrites its argument list.
        self.report(
            node,
            f"log message built with {kind}: it is formatted even when the level is off, "
            "and every call logs a different message",
            help='pass a constant template and the values as arguments: logger.info("x=%s", x)',
            replacement=replacement,
            fix_safety=safety,
            fix_description="pass the values as logging arguments",
        )


def _first_positional_message(node: cst.Call, method: str) -> cst.Arg | None:
    positional = [a for a in node.args if a.keyword is None and not a.star]
    index = 1 if method == "log" else 0
    return positional[index] if len(positional) > index else None


def _is_text(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString) and (
        not isinstance(expr, cst.SimpleString) or "b" not in expr.prefix.lower()
    )


def _string_parts(expr: cst.SimpleString) -> tuple[str, str, str]:
    """(prefix, quote, body) of a simple string literal."""
    quote = expr.quote
    prefix = expr.prefix
    body = expr.value[len(prefix) + len(quote) : len(expr.value) - len(quote)]
    return prefix, quote, body


def _from_fstring(value: cst.FormattedString) -> tuple[str, list[cst.BaseExpression]] | None:
    prefix = value.prefix.replace("f", "").replace("F", "")
    text: list[str] = []
    args: list[cst.BaseExpression] = []
    for part in value.parts:
        if isinstance(part, cst.FormattedStringText):
            text.append(part.value.replace("{{", "{").replace("}}", "}").replace("%", "%%"))
            continue
        if not isinstance(part, cst.FormattedStringExpression):
            return None
        if part.format_spec or part.equal is not None:
            return None
        conversion = part.conversion or "s"
        if conversion not in ("s", "r", "a"):
            return None
        text.append(f"%{conversion}")
        args.append(part.expression)
    quote = value.start[len(value.prefix) :]
    return f"{prefix}{quote}{''.join(text)}{quote}", args


def _from_percent(value: cst.BinaryOperation) -> tuple[str, list[cst.BaseExpression]] | None:
    left = value.left
    if not isinstance(left, cst.SimpleString):
        return None
    _prefix, _quote, body = _string_parts(left)
    right = value.right
    if isinstance(right, cst.Tuple):
        if any(isinstance(element, cst.StarredElement) for element in right.elements):
            return None
        return left.value, [element.value for element in right.elements]
    if isinstance(right, cst.Dict):
        return left.value, [right]
    # A single value other than a literal may be a tuple or a mapping at run time.
    placeholders = [m for m in _PLACEHOLDER.findall(body) if m != "%%"]
    if len(placeholders) == 1 and isinstance(
        right, cst.SimpleString | cst.Integer | cst.Float | cst.FormattedString
    ):
        return left.value, [right]
    return None


def _from_format(value: cst.Call) -> tuple[str, list[cst.BaseExpression]] | None:
    func = value.func
    assert isinstance(func, cst.Attribute)
    template = func.value
    if not isinstance(template, cst.SimpleString) or "%" in template.value:
        return None
    if any(a.keyword is not None or a.star for a in value.args):
        return None
    prefix, quote, body = _string_parts(template)
    fields = [m for m in _FORMAT_FIELD.findall(body) if m not in ("{{", "}}")]
    if any(field != "{}" for field in fields) or len(fields) != len(value.args):
        return None
    new_body = _FORMAT_FIELD.sub(lambda m: {"{{": "{", "}}": "}"}.get(m.group(), "%s"), body)
    return f"{prefix}{quote}{new_body}{quote}", [a.value for a in value.args]


def _rewritten(
    node: cst.Call, message: cst.Arg, template: str, values: list[cst.BaseExpression]
) -> cst.Call:
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    new_args: list[cst.Arg] = []
    for arg in node.args:
        if arg is not message:
            new_args.append(arg)
            continue
        items = [cst.parse_expression(template), *values]
        for index, item in enumerate(items):
            if index == len(items) - 1:
                # The last piece keeps what followed the message (a comma, a line break).
                new_args.append(
                    cst.Arg(
                        value=item, comma=arg.comma, whitespace_after_arg=arg.whitespace_after_arg
                    )
                )
            else:
                new_args.append(cst.Arg(value=item, comma=space))
    return node.with_changes(args=new_args)
