"""BE801 secret-in-log: a password, token, key or whole request written to the logs."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import LogCall, logging_call, string_value
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import NOT_SECRET_CONTEXT, SecretNames, words

RATIONALE = """\
Logs are copied everywhere: to files on every host, to the log shipper, the aggregation
service, its backups, the laptop of whoever debugs an incident, and the third parties some of
those forward to. They are kept for months and readable by far more people than the
production database. A password, an API key, a session token or a bearer header that reaches
a log line is a leaked credential, and rotating it is the only fix.

The rule looks at the arguments of logging calls (stdlib `logging`, `structlog`, `loguru`,
and objects named like loggers) -- positional arguments, f-string pieces, `%`/`.format()`
values, keyword arguments and `extra=` -- and reports:

- values whose name says they are secret: `password`, `passwd`, `secret`, `token`
  (`access_token`, `refresh_token`, ...), `api_key`, `secret_key`, `private_key`,
  `authorization`, `credentials`, `cookie`; as a variable, an attribute (`user.password`,
  `settings.SECRET_KEY`), a key (`data["password"]`, `headers.get("Authorization")`,
  `os.environ["API_KEY"]`) or a getter (`get_token()`);
- whole request headers and bodies (`request.headers`, `request.body`, `request.data`,
  `request.POST`, `request.json`, `request.get_json()`, `await request.json()`, ...), which
  carry authorization headers, cookies and submitted passwords.

Metadata about a secret is fine and not reported: `token_type`, `len(token)`, `token[:6]`,
`password is None`, `mask(api_key)`, `max_tokens`, `next_page_token`.
"""

HOW_TO_FIX = """\
Log that the secret exists or which one it is, never its value: a user or key id, the last four
characters, a hash prefix, `bool(token)`. Log the request method, path and selected headers
instead of all of them. For structured logging, add a redaction processor (structlog) or a
`logging.Filter` that masks known keys as defence in depth -- not as the only safeguard.
"""

#: Names of values that must not reach a log: passwords, tokens and keys, and the request
#: headers and cookies that carry them. Only whether a name is secret matters here, so every
#: kind is "secret".
_SECRET_NAMES = SecretNames(
    last=dict.fromkeys(
        (
            "password",
            "passwd",
            "passphrase",
            "secret",
            "token",
            "apikey",
            "authorization",
            "credential",
            "credentials",
            "cookie",
            "cookies",
            "jwt",
        ),
        "secret",
    ),
    pairs=dict.fromkeys(
        (
            ("api", "key"),
            ("secret", "key"),
            ("private", "key"),
            ("access", "key"),
            ("signing", "key"),
            ("encryption", "key"),
            ("master", "key"),
            ("auth", "key"),
            ("auth", "header"),
            ("authorization", "header"),
            ("bearer", "header"),
        ),
        "secret",
    ),
    # and names *of* a secret rather than the secret: FORWARD_HEADER_JWT, TOKEN_ENV_VAR
    not_before=NOT_SECRET_CONTEXT
    | {"header", "name", "env", "var", "field", "param", "label", "url", "path", "file", "type"},
)
_GETTER_VERBS = frozenset({"get", "create", "generate", "issue", "make", "fetch", "refresh", "new"})
_LOOK_THROUGH = frozenset(
    {"str", "repr", "dict", "list", "format", "dumps", "vars", "jsonable_encoder"}
)
_KEY_GETTERS = frozenset({"get", "pop", "getenv", "getlist", "__getitem__"})
_REQUEST_NAMES = frozenset({"request", "req"})
_REQUEST_PARTS = frozenset(
    {"headers", "body", "data", "POST", "json", "form", "META", "COOKIES", "cookies", "values"}
)
_REQUEST_BODY_CALLS = frozenset({"get_json", "json", "body", "form", "get_data", "text"})
_REQUEST_OBJECTS = frozenset({"flask.request", "quart.request"})
#: stdlib keyword arguments that are not part of the message.
_CONTROL_KEYWORDS = frozenset({"exc_info", "stack_info", "stacklevel"})
_MAX_DEPTH = 6


def secret_name(identifier: str) -> bool:
    """True when an identifier or key names a secret value (``api_key``, ``userPassword``)."""
    return _SECRET_NAMES.kind(identifier) is not None


class SecretInLog(PythonRule):
    meta = RuleMeta(
        code="BE801",
        name="secret-in-log",
        summary="Secret or whole request written to the log",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        cwe=532,
        owasp="A09:2021-Security Logging and Monitoring Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/532.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html#data-to-exclude",
        ),
    )
    triggers = ("log", "LOG", "Log")
    bad = (
        Example(
            """\
import logging

logger = logging.getLogger(__name__)


def login(username, password):
    logger.info("login attempt user=%s password=%s", username, password)  # expect: BE801
    logger.debug(f"token issued: {create_access_token(username)}")  # expect: BE801
"""
        ),
        Example(
            """\
import structlog
from flask import request

log = structlog.get_logger()


def webhook():
    log.info("webhook received", headers=dict(request.headers))  # expect: BE801
    log.info("calling upstream", api_key=settings.PAYMENTS_API_KEY)  # expect: BE801
"""
        ),
        Example(
            """\
from loguru import logger


async def handler(request):
    logger.debug("payload: {}", await request.json())  # expect: BE801
    auth = request.headers.get("Authorization")
    logger.info("auth header {}", request.headers.get("Authorization"))  # expect: BE801
"""
        ),
    )
    good = (
        Example(
            """\
import logging

logger = logging.getLogger(__name__)


def login(user, password, token):
    logger.info("login attempt for %s", user.username)
    logger.info("password changed for user %s", user.id)
    logger.debug("token %s... (%d chars)", token[:6], len(token))
    logger.debug("has password: %s", password is not None)
    logger.info("token type %s, max_tokens %s", token.token_type, settings.max_tokens)
    logger.info("request id %s", request.headers.get("X-Request-ID"))
    logger.info("reading the key from %s", settings.API_KEY_FILE_PATH)
    logger.info("forwarding as %s", FORWARD_USER_HEADER_JWT)
"""
        ),
        Example(
            """\
def hash_password(password):
    # not a logging call
    catalog.add("password", password)
    return pbkdf2(password)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        call = logging_call(node, self.ctx)
        if call is None:
            return
        for expr, label in self._values(node, call):
            found = self._secret(expr, _MAX_DEPTH)
            if found is not None:
                target, what = found
                self.report(
                    target,
                    f"{what} is written to the log{label}",
                    help="log an identifier, a masked prefix or whether the value is set, "
                    "never the value itself",
                )
                return

    def _values(self, node: cst.Call, call: LogCall) -> list[tuple[cst.BaseExpression, str]]:
        out: list[tuple[cst.BaseExpression, str]] = []
        if call.message is not None:
            out.append((call.message.value, ""))
        out.extend((arg.value, "") for arg in call.args)
        for arg in node.args:
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key in _CONTROL_KEYWORDS:
                continue
            if key != "extra" and secret_name(key) and not _literal(arg.value):
                out.insert(0, (arg.value, f" (as `{key}`)"))
            else:
                out.append((arg.value, ""))
        return out

    def _secret(
        self, expr: cst.BaseExpression, depth: int
    ) -> tuple[cst.BaseExpression, str] | None:
        """The secret-carrying part of ``expr`` and how to name it, or None."""
        if depth <= 0:
            return None
        if isinstance(expr, cst.Await):
            return self._secret(expr.expression, depth)
        if isinstance(expr, cst.Name):
            return (expr, f"`{expr.value}`") if secret_name(expr.value) else None
        if isinstance(expr, cst.Attribute):
            if self._request_part(expr):
                return expr, f"the whole request `{expr.attr.value}`"
            if secret_name(expr.attr.value):
                return expr, f"`{self._written(expr)}`"
            return None
        if isinstance(expr, cst.Subscript):
            if any(isinstance(e.slice, cst.Slice) for e in expr.slice):
                return None  # a prefix or suffix, not the value
            if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
                key = string_value(expr.slice[0].slice.value)
                if key is not None and secret_name(key):
                    return expr, f"`{self._written(expr)}`"
            return None
        if isinstance(expr, cst.Call):
            return self._secret_call(expr, depth)
        if isinstance(expr, cst.FormattedString):
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    found = self._secret(part.expression, depth - 1)
                    if found is not None:
                        return found
            return None
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, cst.Modulo | cst.Add
        ):
            return self._secret(expr.left, depth - 1) or self._secret(expr.right, depth - 1)
        if isinstance(expr, cst.BooleanOperation):
            return self._secret(expr.left, depth - 1) or self._secret(expr.right, depth - 1)
        if isinstance(expr, cst.IfExp):
            return self._secret(expr.body, depth - 1) or self._secret(expr.orelse, depth - 1)
        if isinstance(expr, cst.Tuple | cst.List):
            for element in expr.elements:
                found = self._secret(element.value, depth - 1)
                if found is not None:
                    return found
            return None
        if isinstance(expr, cst.Dict):
            for item in expr.elements:
                if not isinstance(item, cst.DictElement):
                    continue
                key = string_value(item.key)
                if key is not None and secret_name(key) and not _literal(item.value):
                    return item.value, f"the value of `{key}`"
                found = self._secret(item.value, depth - 1)
                if found is not None:
                    return found
            return None
        return None

    def _secret_call(self, call: cst.Call, depth: int) -> tuple[cst.BaseExpression, str] | None:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if not isinstance(name, str):
            return None
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if name in _LOOK_THROUGH:
            if isinstance(func, cst.Attribute) and name == "format":
                # "...".format(...): every argument, and keyword names
                for arg in call.args:
                    keyword = arg.keyword
                    if keyword and secret_name(keyword.value) and not _literal(arg.value):
                        return arg.value, f"`{keyword.value}`"
                    found = self._secret(arg.value, depth - 1)
                    if found is not None:
                        return found
                return None
            if len(positional) == 1:
                return self._secret(positional[0].value, depth - 1)
            return None
        if name in _KEY_GETTERS and positional:
            key = string_value(positional[0].value)
            if key is not None and secret_name(key):
                return call, f"`{self._written(call)}`"
            return None
        if isinstance(func, cst.Attribute) and name in _REQUEST_BODY_CALLS and not call.args:
            if self._request_like(func.value):
                return call, "the whole request body"
            return None
        parts = words(name)
        if len(parts) >= 2 and parts[0] in _GETTER_VERBS and secret_name("_".join(parts[1:])):
            return call, f"the result of `{name}()`"
        return None

    def _request_part(self, expr: cst.Attribute) -> bool:
        return expr.attr.value in _REQUEST_PARTS and self._request_like(expr.value)

    def _request_like(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name) and expr.value in _REQUEST_NAMES:
            return True
        if isinstance(expr, cst.Attribute) and expr.attr.value in _REQUEST_NAMES:
            return True
        return self.ctx.matches(expr, _REQUEST_OBJECTS)

    def _written(self, expr: cst.CSTNode) -> str:
        module = self.ctx.module
        text = module.code_for_node(expr) if module is not None else ""
        text = " ".join(text.split())
        return text if len(text) <= 60 else text[:57] + "..."


def _literal(expr: cst.BaseExpression) -> bool:
    return isinstance(
        expr, cst.SimpleString | cst.ConcatenatedString | cst.Integer | cst.Float
    ) or (isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"))
