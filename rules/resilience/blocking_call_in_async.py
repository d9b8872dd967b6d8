"""BE707 blocking-call-in-async: a synchronous, blocking call made on the event loop."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import constructed_from, in_async_function
from be_lint.names import callee_last
from be_lint.rule import (
    Confidence,
    Example,
    FixSafety,
    PythonRule,
    RuleMeta,
    Severity,
    option,
)

RATIONALE = """\
An `async def` shares one thread with every other coroutine of the process. While it runs a
blocking call -- an HTTP request through `requests`, `time.sleep`, a query through a sync
database driver, a subprocess -- nothing else runs: no other request is served, no timeout
fires, health checks go unanswered. One slow upstream turns into a stall of the whole service,
and the symptom (every endpoint slow at once) points everywhere but here.

The rule reports these calls when they are written directly in the body of an `async def`:

- HTTP: `requests` functions and `requests.Session` methods, `urllib.request.urlopen`,
  `urllib3` pool managers;
- sleeping: `time.sleep`;
- databases: `connect` of sync drivers (`psycopg2`, `psycopg`, `pymysql`, `MySQLdb`,
  `mysql.connector`, `sqlite3`, `pyodbc`, `oracledb`, ...), and queries on a sync SQLAlchemy
  `Session` or `Engine` (including a FastAPI parameter annotated `db: Session`);
- processes: `subprocess.run`/`call`/`check_call`/`check_output`, `os.system`, and waiting on a
  `Popen`;
- `smtplib.SMTP` (it connects in the constructor);
- `open()`, only with the `check-open` option (local files are usually fast).

Code in a nested `def` or a `lambda` is not reported: that is how blocking work is handed to
`run_in_executor`, `asyncio.to_thread`, `sync_to_async` or `run_in_threadpool`, and a blocking
function passed (not called) to them is not reported either.
"""

HOW_TO_FIX = """\
Use the async counterpart (`await asyncio.sleep()`, `httpx.AsyncClient` or `aiohttp`,
`asyncpg`/`psycopg.AsyncConnection`/`aiomysql`, SQLAlchemy's `AsyncSession`,
`asyncio.create_subprocess_exec`), or move the blocking call to a worker thread: `await
asyncio.to_thread(requests.get, url, timeout=10)`. In FastAPI, an endpoint that must use a sync
library can be declared with plain `def`: FastAPI then runs it in its thread pool.
"""


@dataclass(frozen=True)
class Options:
    check_open: bool = option(
        False, "Also report `open()` of files inside `async def` (use aiofiles or to_thread)."
    )


_HTTP_HELP = (
    "use an async client (httpx.AsyncClient, aiohttp) or "
    "`await asyncio.to_thread(...)` around the blocking call"
)
_DB_HELP = (
    "use an async driver (asyncpg, psycopg's AsyncConnection, aiomysql, aiosqlite) or "
    "run the query in a thread with `await asyncio.to_thread(...)`"
)
_SQLA_HELP = (
    "use SQLAlchemy's AsyncSession (create_async_engine), or declare the endpoint with plain "
    "`def` so the framework runs it in a thread pool"
)
_PROCESS_HELP = "use `await asyncio.create_subprocess_exec(...)` or run it in a thread"

#: Fully qualified blocking functions -> help.
_FUNCTIONS: dict[str, str] = {
    **{
        f"requests.{m}": _HTTP_HELP
        for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")
    },
    **{
        f"requests.api.{m}": _HTTP_HELP
        for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")
    },
    "urllib.request.urlopen": _HTTP_HELP,
    "urllib.request.urlretrieve": _HTTP_HELP,
    "urllib3.request": _HTTP_HELP,
    "time.sleep": "use `await asyncio.sleep(...)`",
    **{
        name: _DB_HELP
        for name in (
            "psycopg2.connect",
            "psycopg.connect",
            "psycopg.Connection.connect",
            "pymysql.connect",
            "MySQLdb.connect",
            "mysql.connector.connect",
            "sqlite3.connect",
            "pyodbc.connect",
            "pymssql.connect",
            "cx_Oracle.connect",
            "oracledb.connect",
        )
    },
    **{
        name: _PROCESS_HELP
        for name in (
            "subprocess.run",
            "subprocess.call",
            "subprocess.check_call",
            "subprocess.check_output",
            "subprocess.getoutput",
            "subprocess.getstatusoutput",
            "os.system",
        )
    },
    "smtplib.SMTP": "use an async mail client (aiosmtplib) or send from a thread or task queue",
    "smtplib.SMTP_SSL": "use an async mail client (aiosmtplib) or send from a thread or task queue",
}
_OPEN = frozenset({"builtins.open", "io.open"})

#: Classes (or factories) whose instances block in these methods -> help.
_INSTANCE_METHODS: tuple[tuple[frozenset[str], frozenset[str], str], ...] = (
    (
        frozenset({"requests.Session", "requests.session", "requests.sessions.Session"}),
        frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send"}),
        _HTTP_HELP,
    ),
    (
        frozenset(
            {"urllib3.PoolManager", "urllib3.HTTPConnectionPool", "urllib3.connection_from_url"}
        ),
        frozenset({"request", "urlopen", "request_encode_url", "request_encode_body"}),
        _HTTP_HELP,
    ),
    (
        frozenset(
            {
                "sqlalchemy.orm.Session",
                "sqlalchemy.orm.session.Session",
                "sqlalchemy.orm.sessionmaker()",
                "sqlalchemy.orm.session.sessionmaker()",
                "sqlalchemy.orm.scoped_session",
                "sqlalchemy.orm.scoping.scoped_session",
                "sqlalchemy.orm.scoped_session()",
            }
        ),
        frozenset(
            {
                "execute",
                "scalar",
                "scalars",
                "query",
                "get",
                "commit",
                "flush",
                "refresh",
                "merge",
                "delete",
                "rollback",
                "connection",
                "bulk_save_objects",
                "bulk_insert_mappings",
                "bulk_update_mappings",
            }
        ),
        _SQLA_HELP,
    ),
    (
        frozenset({"sqlalchemy.create_engine", "sqlalchemy.engine.create_engine"}),
        frozenset({"connect", "begin", "execute", "raw_connection"}),
        _SQLA_HELP,
    ),
    (
        frozenset({"subprocess.Popen"}),
        frozenset({"wait", "communicate"}),
        _PROCESS_HELP,
    ),
)
_METHOD_NAMES = frozenset(name for _, methods, _ in _INSTANCE_METHODS for name in methods)
_FUNCTION_LAST = frozenset(name.rsplit(".", 1)[-1] for name in _FUNCTIONS) | {"open"}


class BlockingCallInAsync(PythonRule):
    meta = RuleMeta(
        code="BE707",
        name="blocking-call-in-async",
        summary="Blocking call inside `async def` stalls the event loop",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",
            "https://fastapi.tiangolo.com/async/#path-operation-functions",
        ),
    )
    options_class = Options
    triggers = ("async def",)
    bad = (
        Example(
            """\
import requests
from fastapi import APIRouter

router = APIRouter()


@router.get("/weather/{city}")
async def weather(city: str):
    response = requests.get(f"https://weather.example.com/{city}", timeout=5)  # expect: BE707
    return response.json()
""",
        ),
        Example(
            """\
import asyncio
import time


async def poll(job):
    while not job.done():
        time.sleep(1)  # expect: BE707
""",
            fixed="""\
import asyncio
import time


async def poll(job):
    while not job.done():
        await asyncio.sleep(1)
""",
        ),
        Example(
            """\
import subprocess

import psycopg2


async def backup(dsn, path):
    conn = psycopg2.connect(dsn)  # expect: BE707
    subprocess.run(["pg_dump", "-f", path], check=True)  # expect: BE707
    conn.close()
""",
        ),
        Example(
            """\
from fastapi import Depends
from sqlalchemy.orm import Session

from .db import get_db
from .models import User


async def list_users(db: Session = Depends(get_db)):
    return db.query(User).all()  # expect: BE707
""",
        ),
        Example(
            """\
import requests

session = requests.Session()


async def handler(request):
    return session.post("https://hooks.example.com", json={}, timeout=3)  # expect: BE707
""",
        ),
        Example(
            """\
async def read_config(path):
    with open(path) as f:  # expect: BE707
        return f.read()
""",
            options={"check-open": True},
        ),
    )
    good = (
        Example(
            """\
import asyncio

import requests


async def weather(city):
    # handed to a worker thread: not called on the loop
    response = await asyncio.to_thread(requests.get, f"https://w.example.com/{city}", timeout=5)
    await asyncio.sleep(1)
    return response.json()
"""
        ),
        Example(
            """\
import asyncio
import time

import requests


async def fetch_all(urls):
    loop = asyncio.get_running_loop()

    def fetch(url):
        # a sync helper: runs in the executor below
        time.sleep(0.1)
        return requests.get(url, timeout=5)

    first = await loop.run_in_executor(None, lambda: requests.get(urls[0], timeout=5))
    rest = [await loop.run_in_executor(None, fetch, url) for url in urls[1:]]
    return [first, *rest]
"""
        ),
        Example(
            """\
import requests


def sync_view(request):
    return requests.get("https://example.com", timeout=5)


async def handler(request, session):
    # an unknown session object: maybe aiohttp's
    async with session.get("https://example.com") as response:
        return await response.text()
"""
        ),
        Example(
            """\
from sqlalchemy.ext.asyncio import AsyncSession


async def list_users(db: AsyncSession):
    return (await db.execute(query)).scalars().all()


async def read_config(path):
    # open() is reported only with the check-open option
    with open(path) as f:
        return f.read()
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = callee_last(func)
        if last is None or (last not in _FUNCTION_LAST and last not in _METHOD_NAMES):
            return
        found = self._blocking(node, func, last)
        if found is None:
            return
        name, help_text = found
        where = in_async_function(self.ctx.ancestors)
        if where is None:
            return
        self.report(
            node,
            f"`{name}` blocks the event loop inside `async def {where.name.value}`",
            help=help_text,
            replacement=self._sleep_fix(node, name),
            fix_safety=FixSafety.UNSAFE,
            fix_description="await asyncio.sleep instead",
        )

    def _blocking(
        self, node: cst.Call, func: cst.BaseExpression, last: str
    ) -> tuple[str, str] | None:
        names = self.ctx.qualified_names(func)
        for name in names:
            help_text = _FUNCTIONS.get(name)
            if help_text is not None:
                return name, help_text
        if names & _OPEN:
            if self.options.check_open:
                return "open", "use aiofiles, or read the file with `await asyncio.to_thread(...)`"
            return None
        if isinstance(func, cst.Attribute) and last in _METHOD_NAMES:
            origin = constructed_from(func.value, self.ctx)
            if not origin:
                return None
            for classes, methods, help_text in _INSTANCE_METHODS:
                if last in methods and origin & classes:
                    written = self.ctx.dotted_name(func) or last
                    return written, help_text
        return None

    def _sleep_fix(self, node: cst.Call, name: str) -> cst.Await | None:
        """``time.sleep(x)`` as a statement becomes ``await asyncio.sleep(x)``.

        Unsafe: other coroutines now run during the pause, which code relying on holding the
        loop (rare, but possible) would notice.
        """
        if name != "time.sleep" or not isinstance(self.ctx.parent, cst.Expr):
            return None
        if self.ctx.qualified_names(cst.Name("asyncio")) != {"asyncio"}:
            return None
        return cst.Await(expression=node.with_changes(func=cst.parse_expression("asyncio.sleep")))
