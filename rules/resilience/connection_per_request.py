"""BE712 connection-per-request: a client or connection built inside a handler or task."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import per_request_function
from be_lint.names import callee_last
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
Database connections, Redis clients, SQLAlchemy engines and HTTP sessions are built to be
created once and reused: each holds a pool of open connections. Creating one inside a request
handler or a task throws that pool away on every call. Each request then pays a TCP (and often
TLS and authentication) handshake -- for PostgreSQL easily several milliseconds, plus a server
process fork -- and under load the number of connections grows with the number of concurrent
requests until the database's `max_connections` is hit and everything fails at once.
`create_engine` per call is worse still: every engine starts its own pool, which is rarely
closed.

The rule reports these constructors written inside a request handler (a function decorated as
a route in Flask, FastAPI, Starlette, aiohttp, Sanic, ...; a Django or DRF view function or
class-based view method; an `@api_view`/`@action`) or a task (`@app.task`, `@shared_task`,
Dramatiq, RQ, Huey), or in a function nested in one. Assigning the new client to a global, an
attribute or a container (a lazily created shared client) is not reported.
"""

HOW_TO_FIX = """\
Create the client once, at module level or at application start-up, and reuse it: a
`psycopg_pool.ConnectionPool`/`asyncpg.create_pool()`, one `create_engine()` with a
`sessionmaker`, one `redis.Redis` (it pools connections itself), one `requests.Session`/
`httpx.Client`/`aiohttp.ClientSession` per process (FastAPI: create it in the `lifespan` and
keep it on `app.state`). In Django, use the ORM's connection handling (`CONN_MAX_AGE`,
connection pooling) rather than connecting by hand.
"""

_CONSTRUCTORS: dict[str, str] = {
    **{
        name: "database connection"
        for name in (
            "psycopg2.connect",
            "psycopg.connect",
            "psycopg.Connection.connect",
            "psycopg.AsyncConnection.connect",
            "pymysql.connect",
            "MySQLdb.connect",
            "mysql.connector.connect",
            "asyncpg.connect",
            "aiomysql.connect",
            "pyodbc.connect",
            "pymssql.connect",
            "oracledb.connect",
            "cx_Oracle.connect",
        )
    },
    **{
        name: "SQLAlchemy engine (and its connection pool)"
        for name in (
            "sqlalchemy.create_engine",
            "sqlalchemy.engine.create_engine",
            "sqlalchemy.ext.asyncio.create_async_engine",
        )
    },
    **{
        name: "Redis client (and its connection pool)"
        for name in (
            "redis.Redis",
            "redis.StrictRedis",
            "redis.client.Redis",
            "redis.from_url",
            "redis.Redis.from_url",
            "redis.StrictRedis.from_url",
            "redis.asyncio.Redis",
            "redis.asyncio.from_url",
            "redis.asyncio.Redis.from_url",
            "aioredis.Redis",
            "aioredis.from_url",
        )
    },
    **{
        name: "MongoDB client (and its connection pool)"
        for name in ("pymongo.MongoClient", "motor.motor_asyncio.AsyncIOMotorClient")
    },
    **{
        name: "HTTP session (and its connection pool)"
        for name in (
            "requests.Session",
            "requests.session",
            "requests.sessions.Session",
            "httpx.Client",
            "httpx.AsyncClient",
            "aiohttp.ClientSession",
            "aiohttp.client.ClientSession",
        )
    },
}
_LAST_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _CONSTRUCTORS)


class ConnectionPerRequest(PythonRule):
    meta = RuleMeta(
        code="BE712",
        name="connection-per-request",
        summary="Connection or client created on every request or task run",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=400,
        references=(
            "https://www.psycopg.org/psycopg3/docs/advanced/pool.html",
            "https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage",
            "https://www.python-httpx.org/advanced/clients/#why-use-a-client",
            "https://docs.aiohttp.org/en/stable/client_quickstart.html#make-a-request",
        ),
    )
    triggers = tuple(sorted({name.split(".", 1)[0] for name in _CONSTRUCTORS}))
    bad = (
        Example(
            """\
import psycopg2
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/orders/<int:order_id>")
def order(order_id):
    conn = psycopg2.connect(DSN)  # expect: BE712
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
        return jsonify(cur.fetchone())
"""
        ),
        Example(
            """\
import aiohttp
import redis.asyncio as redis
from fastapi import APIRouter

router = APIRouter()


@router.get("/rates")
async def rates():
    cache = redis.from_url("redis://cache")  # expect: BE712
    async with aiohttp.ClientSession() as session:  # expect: BE712
        async with session.get("https://rates.example.com") as response:
            return await response.json()
"""
        ),
        Example(
            """\
import requests
import sqlalchemy
from celery import shared_task
from rest_framework.views import APIView


@shared_task
def deliver_webhook(url, payload):
    with requests.Session() as http:  # expect: BE712
        http.post(url, json=payload, timeout=10)


class ReportView(APIView):
    def get(self, request):
        engine = sqlalchemy.create_engine(settings.WAREHOUSE_URL)  # expect: BE712
        return Response(run_report(engine))
"""
        ),
    )
    good = (
        Example(
            """\
import httpx
import redis
from fastapi import FastAPI

app = FastAPI()
cache = redis.Redis(host="cache", socket_timeout=2)
http = httpx.Client(timeout=5)


@app.get("/rates")
def rates():
    if (cached := cache.get("rates")) is not None:
        return cached
    return http.get("https://rates.example.com").json()
"""
        ),
        Example(
            """\
import psycopg2
from django.http import JsonResponse

_conn = None


def get_connection():
    # a helper outside any handler, e.g. a lazily created shared connection
    return psycopg2.connect(DSN)


def report_view(request):
    global _conn
    if _conn is None:
        _conn = psycopg2.connect(DSN)
    return JsonResponse(fetch_report(_conn))


def main():
    conn = psycopg2.connect(DSN)
    run_migrations(conn)
"""
        ),
        Example(
            """\
import aiohttp
from fastapi import FastAPI

app = FastAPI()


@app.on_event("startup")
async def startup():
    app.state.http = aiohttp.ClientSession()
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = callee_last(func)
        if last is None or last not in _LAST_NAMES:
            return
        names = self.ctx.qualified_names(func)
        name = next((n for n in sorted(names) if n in _CONSTRUCTORS), None)
        if name is None or self._kept(node):
            return
        found = per_request_function(self.ctx, self.ctx.ancestors)
        if found is None:
            return
        handler, kind = found
        when = "on every run of the task" if kind == "task" else "on every request"
        self.report(
            node,
            f"`{name}` creates a new {_CONSTRUCTORS[name]} {when} (in `{handler.name.value}`)",
            help="create it once (module level or application start-up) and reuse it, "
            "or use a connection pool",
        )

    def _kept(self, node: cst.Call) -> bool:
        """True when the new client is stored somewhere that outlives the call."""
        parent = self.ctx.parent
        if isinstance(parent, cst.Await):
            parent = self.ctx.ancestors[-2] if len(self.ctx.ancestors) > 1 else None
        if isinstance(parent, cst.Assign):
            targets = [t.target for t in parent.targets]
        elif isinstance(parent, cst.AnnAssign):
            targets = [parent.target]
        else:
            return False
        for target in targets:
            if isinstance(target, cst.Attribute | cst.Subscript):
                return True
            if isinstance(target, cst.Name) and self._declared_global(target.value):
                return True
        return False

    def _declared_global(self, name: str) -> bool:
        for ancestor in reversed(self.ctx.ancestors):
            if isinstance(ancestor, cst.FunctionDef):
                body = ancestor.body
                if not isinstance(body, cst.IndentedBlock):
                    return False
                for statement in body.body:
                    if isinstance(statement, cst.SimpleStatementLine):
                        for small in statement.body:
                            if isinstance(small, cst.Global | cst.Nonlocal) and any(
                                n.name.value == name for n in small.names
                            ):
                                return True
                return False
        return False
