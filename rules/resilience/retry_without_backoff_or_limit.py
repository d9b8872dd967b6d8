"""BE713 retry-without-backoff-or-limit: retry loops and decorators that hammer or never stop."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from be_lint.frameworks import descendants, keyword_arg, spreads_kwargs
from be_lint.names import callee_last
from be_lint.queues import assigned_names, http_write, names_in
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
Retrying is how a client survives a blip; retrying badly is how it turns a blip into an outage.
A loop that retries at once, with no pause, sends a struggling database or API a new request
the moment the last one failed -- multiplied by every worker, this is the traffic that keeps a
recovering service down. A loop that never gives up holds its worker (and whatever request or
job is waiting on it) forever when the failure is not transient: a revoked key, a deleted
bucket, a bug.

The rule looks for loops that retry a call on failure: a `while` loop (or `for ... in
range(...)`) around a `try` whose success path leaves the loop (`break`/`return`) and whose
handler for `Exception` or a transient error (connection, timeout, HTTP, "operational" errors)
goes round again. It reports such a loop when nothing in it waits (`sleep`, `wait`, a backoff
helper) or, for `while True`, when nothing stops it (no attempt counter or deadline checked in
an `if` that raises, breaks or returns). A retry of an expected, input-related error (say
`IntegrityError` while picking a fresh random code) is not reported.

Outbound deliveries (webhooks, HTTP callbacks) are often retried on the response instead of an
exception: `resp = requests.post(...)` followed by `if resp.ok: break` (or `if
resp.status_code >= 500: continue`). Such loops are checked the same way, and a loop that
retries a POST/PUT/PATCH after a constant `sleep(5)` is reported too: every sender that failed
during an outage comes back at the same moment, so delivery retries need a growing delay with
jitter.

Retry decorators are checked too: `tenacity.retry` without `stop=` and `retrying.retry` without
a `stop_*` argument retry forever, as does `backoff.on_exception`/`on_predicate` without
`max_tries` or `max_time`.
"""

HOW_TO_FIX = """\
Bound the attempts and wait longer after each failure, with jitter so that many clients do not
retry in lock-step:

```python
for attempt in range(5):
    try:
        return client.fetch()
    except TransientError:
        if attempt == 4:
            raise
        time.sleep(min(30, 0.5 * 2 ** attempt) + random.random())
```

or let a library do it: `@tenacity.retry(stop=stop_after_attempt(5),
wait=wait_random_exponential(max=30))`, `@backoff.on_exception(backoff.expo, TransientError,
max_tries=5)`.
"""

#: Exceptions worth retrying: a handler for one of these (or for ``Exception``) makes a loop a
#: retry loop. Anything else (``ValueError``, ``IntegrityError``, ...) is an expected outcome.
_TRANSIENT = re.compile(
    r"^(?:Exception|BaseException)$|Timeout|Connect|Unavailable|Throttl|RateLimit|TooMany|"
    r"Transient|Temporary|Retry|Operational|HTTPError|RequestException|"
    r"RequestError|TransportError|NetworkError|ServerError|APIError|ClientError|"
    r"^(?:OSError|IOError|EnvironmentError)$|socket|BrokenPipe|Reset|Refused|Interface",
)
_DELAY = re.compile(r"sleep|wait|backoff|delay|pause", re.IGNORECASE)
_BOUND_NAME = re.compile(
    r"attempt|retr|tries|tried|deadline|timeout|elapsed|count|max|limit|budget|until|expire",
    re.IGNORECASE,
)

_HTTP_WRITES = ("post", "put", "patch")

_TENACITY_RETRY = frozenset({"tenacity.retry"})
_TENACITY_OBJECTS = frozenset(
    {"tenacity.Retrying", "tenacity.AsyncRetrying", "tenacity.asyncio.AsyncRetrying"}
)
_BACKOFF = frozenset({"backoff.on_exception", "backoff.on_predicate"})
_RETRYING = frozenset({"retrying.retry"})
_RETRYING_STOPS = ("stop", "stop_func", "stop_max_attempt_number", "stop_max_delay")


class RetryWithoutBackoffOrLimit(PythonRule):
    meta = RuleMeta(
        code="BE713",
        name="retry-without-backoff-or-limit",
        summary="Retry without a delay between attempts or without a limit",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=400,
        references=(
            "https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/",
            "https://tenacity.readthedocs.io/en/latest/#stopping",
            "https://github.com/litl/backoff#usage",
        ),
    )
    triggers = ("retry", "backoff", "Retrying", "while", "range", "count")
    #: 2: retries of HTTP writes decided on the response status, and fixed delays between them.
    version = 2

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        # A retry loop needs an ``except``; the decorators need their library's name.
        return ("except" in text and super().may_match(text, kind)) or any(
            lib in text for lib in ("tenacity", "backoff", "retrying")
        )

    bad = (
        Example(
            """\
import requests


def fetch_rates():
    while True:  # expect: BE713
        try:
            return requests.get("https://rates.example.com", timeout=5).json()
        except requests.ConnectionError:
            continue
"""
        ),
        Example(
            """\
import time


def publish(channel, message):
    while True:  # expect: BE713
        try:
            channel.publish(message)
            break
        except Exception as error:
            log.warning("publish failed: %s", error)
            time.sleep(5)


def connect(dsn):
    for attempt in range(5):  # expect: BE713
        try:
            return psycopg.connect(dsn)
        except psycopg.OperationalError:
            if attempt == 4:
                raise
"""
        ),
        Example(
            """\
import backoff
from tenacity import retry, wait_exponential


@retry(wait=wait_exponential(max=30))  # expect: BE713
def charge(card):
    return gateway.charge(card)


@backoff.on_exception(backoff.expo, TimeoutError)  # expect: BE713
def ship(order):
    return carrier.ship(order)
"""
        ),
        Example(
            """\
import time

import requests


def deliver_webhook(url, payload):
    # retried on the response status, with no pause between attempts
    for attempt in range(5):  # expect: BE713
        response = requests.post(url, json=payload, timeout=10)
        if response.status_code < 500:
            return response


def deliver_forever(session, url, payload):
    while True:  # expect: BE713
        response = session.post(url, json=payload, timeout=10)
        if response.ok:
            break
        time.sleep(2)


def deliver_fixed(url, payload):
    for attempt in range(5):  # expect: BE713
        try:
            return requests.post(url, json=payload, timeout=10)
        except requests.ConnectionError:
            time.sleep(5)
"""
        ),
    )
    good = (
        Example(
            """\
import random
import time

import requests


def deliver_webhook(url, payload):
    for attempt in range(5):
        response = requests.post(url, json=payload, timeout=10)
        if response.ok:
            return response
        time.sleep(min(60, 2 ** attempt) + random.random())


def export_pages(session, url, pages):
    # a paging loop: every request is a different one
    for page in range(pages):
        response = session.post(url, json={"page": page}, timeout=10)
        if response.status_code != 200:
            break
        store(response.json())


def poll_status(client, job_id):
    # GET polling with a fixed interval is not a delivery retry
    for _ in range(30):
        status = client.get(f"/jobs/{job_id}")
        if status.json()["done"]:
            return status
        time.sleep(2)


def fetch(client):
    attempt = 0
    while True:
        try:
            return client.fetch()
        except ConnectionError:
            attempt += 1
            if attempt >= 5:
                raise
            time.sleep(min(30, 2 ** attempt) + random.random())


def connect(dsn):
    for attempt in range(5):
        try:
            return psycopg.connect(dsn)
        except psycopg.OperationalError:
            time.sleep(2 ** attempt)
    raise RuntimeError("database unreachable")
"""
        ),
        Example(
            """\
import backoff
from tenacity import retry, stop_after_attempt, wait_exponential


@retry(stop=stop_after_attempt(5), wait=wait_exponential(max=30))
def charge(card):
    return gateway.charge(card)


@backoff.on_exception(backoff.expo, TimeoutError, max_time=60)
def ship(order):
    return carrier.ship(order)
"""
        ),
        Example(
            """\
def unique_code(model):
    # retrying an expected conflict with a new random value needs no delay
    while True:
        try:
            return model.objects.create(code=random_code())
        except IntegrityError:
            continue


def consume(queue):
    # a worker loop, not a retry: nothing leaves the loop on success
    while True:
        try:
            handle(queue.get())
        except Exception:
            log.exception("message failed")
"""
        ),
    )

    # -- loops -----------------------------------------------------------------------------

    def visit_While(self, node: cst.While) -> None:
        self._loop(node, bounded=not _always_true(node.test), where=node.test)

    def visit_For(self, node: cst.For) -> None:
        iterator = node.iter
        if not isinstance(iterator, cst.Call):
            return
        func = iterator.func
        last = callee_last(func)
        if last not in ("range", "count"):
            return
        names = self.ctx.qualified_names(func)
        if "builtins.range" in names:
            self._loop(node, bounded=True, where=iterator)
        elif "itertools.count" in names:
            self._loop(node, bounded=False, where=iterator)

    def _loop(self, node: cst.While | cst.For, *, bounded: bool, where: cst.CSTNode) -> None:
        body = node.body
        if not isinstance(body, cst.IndentedBlock):
            return
        tries = [s for s in body.body if isinstance(s, cst.Try)]
        handlers: list[cst.ExceptHandler] = []
        for attempt in tries:
            if not _success_leaves(attempt, body):
                continue
            handlers.extend(h for h in attempt.handlers if self._retries(h))
        check: cst.If | None = None
        if not handlers:
            # Outbound delivery retried on the response status, without any ``try``.
            check = self._status_retry(node, body)
            if check is None:
                return
        delays = [n for n in _loop_nodes(body) if _is_delay(n)]
        delayed = bool(delays)
        if check is not None:
            limited = bounded or _has_limit_besides(body)
        else:
            limited = bounded or _has_limit(body, tries, handlers)
        fixed = (
            delayed
            and all(_constant_delay(d) for d in delays)
            and any(self._http_write(n) for n in _loop_nodes(body))
        )
        if delayed and limited and not fixed:
            return
        if fixed and limited:
            message = (
                "this loop retries an HTTP write after a fixed delay: clients that failed "
                "together retry together, with no backoff or jitter"
            )
        elif not delayed and not limited:
            message = (
                "this loop retries at once and forever: a persistent failure spins at full "
                "speed and never gives up"
            )
        elif not delayed:
            message = (
                "this loop retries at once: every failed attempt is repeated immediately, "
                "with no delay between them"
            )
        else:
            message = "this loop retries forever: no attempt limit or deadline stops it"
        self.report(
            where,
            message,
            help="limit the attempts and sleep with exponential backoff and jitter between "
            "them (or use tenacity/backoff with a stop condition)",
        )

    def _status_retry(self, loop: cst.While | cst.For, body: cst.IndentedBlock) -> cst.If | None:
        """The ``if`` on an HTTP write's response that ends a retry loop on success.

        ``resp = requests.post(...)`` then ``if resp.ok: break`` (or ``return``), or ``if
        resp.status_code >= 500: continue`` followed by ``return resp``. A retry sends the same
        request again: a request built from the loop variable or from names the loop changes
        (pages, batches) is not a retry.
        """
        statements = list(body.body)
        changing = assigned_names(body)
        if isinstance(loop, cst.For):
            changing |= names_in(loop.target)
        for index, statement in enumerate(statements):
            name = self._write_target(statement)
            if name is None:
                continue
            assert isinstance(statement, cst.SimpleStatementLine)
            request = statement.body[0]
            assert isinstance(request, cst.Assign)
            if (names_in(request.value) - {name}) & changing:
                continue
            later = statements[index + 1 :]
            for position, candidate in enumerate(later):
                if not isinstance(candidate, cst.If) or name not in names_in(candidate.test):
                    continue
                if _exits(candidate.body):
                    return candidate
                if _continues(candidate.body) and any(
                    isinstance(s, cst.SimpleStatementLine)
                    and any(isinstance(x, cst.Break | cst.Return) for x in s.body)
                    for s in later[position + 1 :]
                ):
                    return candidate
        return None

    def _write_target(self, statement: cst.CSTNode) -> str | None:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        small = statement.body[0]
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            return None
        target = small.targets[0].target
        value = small.value.expression if isinstance(small.value, cst.Await) else small.value
        if isinstance(target, cst.Name) and self._http_write(value):
            return target.value
        return None

    def _http_write(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Call) and http_write(node, self.ctx, _HTTP_WRITES)

    def _retries(self, handler: cst.ExceptHandler) -> bool:
        """A handler for a transient error that goes round the loop again."""
        if not self._transient(handler.type):
            return False
        body = handler.body
        statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
        for statement in statements:
            smalls = (
                statement.body
                if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite)
                else ()
            )
            if any(isinstance(s, cst.Raise | cst.Return | cst.Break) for s in smalls):
                return False
        return True

    def _transient(self, expr: cst.BaseExpression | None) -> bool:
        if expr is None:
            return True
        if isinstance(expr, cst.Tuple):
            return any(self._transient(e.value) for e in expr.elements)
        written = self.ctx.dotted_name(expr)
        if written is None:
            return False
        return bool(_TRANSIENT.search(written.rsplit(".", 1)[-1]))

    # -- decorators and retry objects ------------------------------------------------------

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator
        if isinstance(expr, cst.Call):
            return  # checked as a call
        names = self.ctx.qualified_names(expr)
        if names & (_TENACITY_RETRY | _RETRYING):
            self.report(
                expr,
                "a bare `@retry` retries forever, without waiting between attempts",
                help="pass stop= (e.g. stop_after_attempt(5)) and wait= "
                "(e.g. wait_random_exponential(max=30))",
            )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = callee_last(func)
        if last not in ("retry", "Retrying", "AsyncRetrying", "on_exception", "on_predicate"):
            return
        if spreads_kwargs(node):
            return
        names = self.ctx.qualified_names(func)
        if names & (_TENACITY_RETRY | _TENACITY_OBJECTS):
            if keyword_arg(node, "stop") is None:
                self._unbounded(node, "tenacity retries forever without `stop=`", "stop=")
        elif names & _BACKOFF:
            if keyword_arg(node, "max_tries") is None and keyword_arg(node, "max_time") is None:
                self._unbounded(
                    node,
                    "backoff retries forever without `max_tries` or `max_time`",
                    "max_tries= or max_time=",
                )
        elif names & _RETRYING and not any(keyword_arg(node, k) for k in _RETRYING_STOPS):
            self._unbounded(
                node,
                "retrying retries forever without a stop condition",
                "stop_max_attempt_number= or stop_max_delay=",
            )

    def _unbounded(self, node: cst.Call, message: str, what: str) -> None:
        self.report(node, message, help=f"pass {what} so a persistent failure gives up")


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    if isinstance(test, cst.Integer):
        return test.value not in ("0", "0x0", "0o0", "0b0")
    return False


def _loop_nodes(body: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Nodes of a loop body, not entering nested functions or classes."""
    return descendants(body)


def _exits(node: cst.CSTNode, *, raising: bool = False) -> bool:
    """``break`` or ``return`` (or ``raise``) in ``node`` that leaves the current loop."""
    kinds: tuple[type[cst.CSTNode], ...] = (
        (cst.Break, cst.Return, cst.Raise) if raising else (cst.Break, cst.Return)
    )
    if isinstance(node, kinds):
        return True
    stack = [node]
    while stack:
        current = stack.pop()
        for child in _children_in_loop(current):
            if isinstance(child, kinds):
                return True
            stack.append(child)
    return False


def _children_in_loop(node: cst.CSTNode) -> list[cst.CSTNode]:
    from be_lint.walker import children

    return [
        child
        for child in children(node)
        if not isinstance(child, cst.For | cst.While | cst.FunctionDef | cst.Lambda | cst.ClassDef)
    ]


def _success_leaves(attempt: cst.Try, loop_body: cst.IndentedBlock) -> bool:
    """True when the ``try`` block (or its ``else``, or what follows it) leaves the loop."""
    if _exits(attempt.body) or (attempt.orelse is not None and _exits(attempt.orelse)):
        return True
    after = False
    for statement in loop_body.body:
        if statement is attempt:
            after = True
            continue
        if (
            after
            and isinstance(statement, cst.SimpleStatementLine)
            and any(isinstance(s, cst.Break | cst.Return) for s in statement.body)
        ):
            return True
    return False


def _is_delay(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    if isinstance(func, cst.Attribute):
        return bool(_DELAY.search(func.attr.value))
    return isinstance(func, cst.Name) and bool(_DELAY.search(func.value))


def _has_limit(
    body: cst.IndentedBlock, tries: list[cst.Try], handlers: list[cst.ExceptHandler]
) -> bool:
    """An ``if`` that raises, breaks or returns, checking an attempt count or a deadline.

    Inside a retrying handler, or outside the ``try`` blocks, any such ``if`` counts; inside
    the ``try`` block (the success path) only one whose test names a counter or deadline.
    """
    counters = _counters(body)
    handler_ids = {id(h) for h in handlers}
    try_ids = {id(t) for t in tries}

    def visit(node: cst.CSTNode, trusted: bool) -> bool:
        if (
            isinstance(node, cst.If)
            and _exits(node.body, raising=True)
            and (trusted or _names_bound(node.test, counters))
        ):
            return True
        for child in _children_in_loop(node):
            child_trusted = trusted
            if id(child) in handler_ids:
                child_trusted = True
            elif isinstance(node, cst.Try) and id(node) in try_ids and child is node.body:
                child_trusted = False
            if visit(child, child_trusted):
                return True
        return False

    return any(visit(statement, id(statement) not in try_ids) for statement in body.body)


def _counters(body: cst.IndentedBlock) -> set[str]:
    """Names the loop body counts with ``+=`` (or ``-=``): attempts, tries left."""
    return {
        node.target.value
        for node in _loop_nodes(body)
        if isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name)
    }


def _names_bound(test: cst.BaseExpression, counters: set[str]) -> bool:
    for node in descendants(test):
        if isinstance(node, cst.Name) and (
            node.value in counters or _BOUND_NAME.search(node.value)
        ):
            return True
        if isinstance(node, cst.Attribute) and _BOUND_NAME.search(node.attr.value):
            return True
    if isinstance(test, cst.Name):
        return test.value in counters or bool(_BOUND_NAME.search(test.value))
    return False


def _continues(node: cst.CSTNode) -> bool:
    """``continue`` in ``node`` that goes round the current loop."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Continue):
            return True
        stack.extend(_children_in_loop(current))
    return False


def _constant_delay(call: cst.CSTNode) -> bool:
    """``time.sleep(5)``: a delay whose arguments are all number literals (no backoff)."""
    return isinstance(call, cst.Call) and all(
        isinstance(a.value, cst.Integer | cst.Float) for a in call.args
    )


def _has_limit_besides(body: cst.IndentedBlock) -> bool:
    """An ``if`` that stops a status-retry loop on a counter or deadline (the success check
    counts only when it also tests one: ``if resp.ok or attempt > 5: break``)."""
    counters = _counters(body)
    for node in _loop_nodes(body):
        if (
            isinstance(node, cst.If)
            and _exits(node.body, raising=True)
            and _names_bound(node.test, counters)
        ):
            return True
    return False
