"""BE706 aiohttp-session-without-timeout: an aiohttp session left on the 5-minute default."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import (
    descendants,
    innermost_function,
    is_none,
    keyword_arg,
    spreads_kwargs,
)
from be_lint.names import callee_last
from be_lint.rule import Confidence, Example, FixSafety, PythonRule, RuleMeta, Severity

RATIONALE = """\
An `aiohttp.ClientSession` created without `timeout=` uses aiohttp's default: five minutes for
the whole request. For a service that calls another service while a user waits, five minutes is
as good as forever -- the user, the load balancer and the caller's own deadline gave up long
before, but the coroutine and its connection are still held. A `ClientTimeout()` with no limits
(or `total=None` and nothing else) is worse: it really never gives up.

`aiohttp.request(...)` creates a session of its own and has the same default. The rule is quiet
when every request made on the session in the same function passes its own `timeout=`, since
that overrides the session default.
"""

HOW_TO_FIX = """\
Pass a `ClientTimeout` sized for the call: `aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
total=30, sock_connect=5))`. For streaming or long-polling, bound the reads (`sock_read=`)
instead of the total. A single session created at start-up and reused is better still
(see BE712).
"""

_SESSIONS = frozenset({"aiohttp.ClientSession", "aiohttp.client.ClientSession"})
_REQUEST = frozenset({"aiohttp.request", "aiohttp.client.request"})
_TIMEOUTS = frozenset({"aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout"})
_LIMITS = ("total", "connect", "sock_read", "sock_connect")
_REQUEST_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "ws_connect"}
)


class AiohttpSessionWithoutTimeout(PythonRule):
    meta = RuleMeta(
        code="BE706",
        name="aiohttp-session-without-timeout",
        summary="aiohttp session or request without a timeout of its own",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=400,
        references=("https://docs.aiohttp.org/en/stable/client_quickstart.html#timeouts",),
    )
    triggers = ("aiohttp", "ClientSession")
    bad = (
        Example(
            """\
import aiohttp


async def fetch_profile(user_id):
    async with aiohttp.ClientSession() as session:  # expect: BE706
        async with session.get(f"https://profiles.internal/{user_id}") as response:
            return await response.json()
""",
            fixed="""\
import aiohttp


async def fetch_profile(user_id):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(f"https://profiles.internal/{user_id}") as response:
            return await response.json()
""",
        ),
        Example(
            """\
from aiohttp import ClientSession, ClientTimeout


class Upstream:
    def __init__(self):
        self.http = ClientSession(timeout=ClientTimeout(total=None))  # expect: BE706
""",
        ),
        Example(
            """\
import aiohttp


async def notify(url, payload):
    async with aiohttp.request("POST", url, json=payload) as response:  # expect: BE706
        response.raise_for_status()
""",
        ),
    )
    good = (
        Example(
            """\
import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10, sock_connect=3)


async def fetch(url):
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.get(url) as response:
            return await response.text()
"""
        ),
        Example(
            """\
import aiohttp


async def fetch(url):
    # every request on the session sets its own timeout
    async with aiohttp.ClientSession() as session:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
            return await response.text()
"""
        ),
        Example(
            """\
import aiohttp


def make_session(**options):
    return aiohttp.ClientSession(**options)


stream = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60))
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = callee_last(func)
        if last not in ("ClientSession", "request"):
            return
        names = self.ctx.qualified_names(func)
        if names & _REQUEST:
            if keyword_arg(node, "timeout") is None and not spreads_kwargs(node):
                self.report(
                    node,
                    "`aiohttp.request` without `timeout=` falls back to aiohttp's 5-minute default",
                    help="pass timeout=aiohttp.ClientTimeout(total=...) sized for this call",
                )
            return
        if not names & _SESSIONS or spreads_kwargs(node):
            return
        timeout = keyword_arg(node, "timeout")
        if timeout is not None and not is_none(timeout.value):
            if self._unlimited(timeout.value):
                self.report(
                    timeout,
                    "this `ClientTimeout` sets no limit: requests on the session never time out",
                    help="set total= (or sock_connect= and sock_read= for streaming)",
                )
            return
        if self._requests_set_timeouts(node):
            return
        self.report(
            node,
            "`aiohttp.ClientSession` without `timeout=` falls back to aiohttp's 5-minute default",
            help="pass timeout=aiohttp.ClientTimeout(total=...) sized for what callers can wait",
            replacement=self._fixed(node, timeout),
            fix_safety=FixSafety.UNSAFE,
            fix_description="add timeout=aiohttp.ClientTimeout(total=30)",
        )

    def _unlimited(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call) or not self.ctx.matches(value.func, _TIMEOUTS):
            return False
        if spreads_kwargs(value) or any(a.keyword is None for a in value.args):
            return False
        return all(
            (arg := keyword_arg(value, limit)) is None or is_none(arg.value) for limit in _LIMITS
        )

    def _requests_set_timeouts(self, node: cst.Call) -> bool:
        """True when the session is a local name and every request on it passes a timeout."""
        parent = self.ctx.parent
        target: cst.BaseExpression | None = None
        if isinstance(parent, cst.WithItem) and parent.asname is not None:
            name = parent.asname.name
            target = name if isinstance(name, cst.Name) else None
        elif isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            target = parent.targets[0].target
        if not isinstance(target, cst.Name):
            return False
        scope = innermost_function(self.ctx.ancestors) or self.ctx.module
        if scope is None:
            return False
        seen = False
        for inner in descendants(scope):
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and isinstance(inner.func.value, cst.Name)
                and inner.func.value.value == target.value
                and inner.func.attr.value in _REQUEST_METHODS
            ):
                given = keyword_arg(inner, "timeout")
                if given is None and spreads_kwargs(inner):
                    seen = True  # the timeout may be among the spread options
                    continue
                if given is None or is_none(given.value):
                    return False
                seen = True
        return seen

    def _fixed(self, node: cst.Call, timeout: cst.Arg | None) -> cst.Call | None:
        if self.ctx.qualified_names(cst.Name("aiohttp")) != {"aiohttp"}:
            return None
        value = cst.parse_expression("aiohttp.ClientTimeout(total=30)")
        if timeout is not None:
            return node.with_deep_changes(timeout, value=value)
        new = cst.Arg(
            keyword=cst.Name("timeout"),
            value=value,
            equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(""),
            ),
        )
        args = list(node.args)
        if args:
            last = args[-1]
            if isinstance(last.comma, cst.Comma):
                new = new.with_changes(comma=last.comma)
            args[-1] = last.with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
        return node.with_changes(args=[*args, new])
