"""Framework knowledge shared by rules: handlers, tasks, async scopes, constructions, loggers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import libcst as cst
import pytest

from be_lint import frameworks
from be_lint.context import FileContext
from be_lint.rule import FileKind
from be_lint.walker import Dispatch, walk


def _ctx(source: str, path: str = "app/views.py") -> tuple[FileContext, cst.Module]:
    module = cst.parse_module(textwrap.dedent(source))
    ctx = FileContext(
        path=path,
        kind=FileKind.PYTHON,
        text=module.code,
        module=module,
        dialect="postgres",
        package="app",
    )
    return ctx, module


def _at_call(source: str, callee: str, check: Callable[[FileContext, cst.Call], object]) -> object:
    """Run ``check`` at the first call of ``callee`` (its dotted name), during a real walk."""
    ctx, module = _ctx(source)
    results: list[object] = []

    def visit(node: cst.Call) -> None:
        if not results and ctx.dotted_name(node.func) == callee:
            results.append(check(ctx, node))

    dispatch = Dispatch()
    dispatch.add(object(), cst.Call, visit, leave=False)

    def on_error(owner: object, error: BaseException) -> None:
        raise error

    walk(module, dispatch, ctx.ancestors, on_error)
    assert results, f"no call to {callee}"
    return results[0]


def _handler(source: str) -> str | None:
    """The handler kind of the function enclosing the call to ``marker()``."""

    def check(ctx: FileContext, node: cst.Call) -> object:
        found = frameworks.per_request_function(ctx, ctx.ancestors)
        return None if found is None else found[1]

    result = _at_call(source, "marker", check)
    assert result is None or isinstance(result, str)
    return result


# -- handlers and tasks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (
            """
            from flask import Flask
            app = Flask(__name__)

            @app.route("/x")
            def view():
                marker()
            """,
            "route",
        ),
        (
            """
            from fastapi import APIRouter
            from .routers import items_router

            @items_router.get("/items/{item_id}")
            async def read(item_id: int):
                marker()
            """,
            "route",
        ),
        (
            """
            from aiohttp import web
            routes = web.RouteTableDef()

            @routes.post("/hook")
            async def hook(request):
                marker()
            """,
            "route",
        ),
        (
            """
            from rest_framework.decorators import api_view

            @api_view(["GET"])
            def stats(request):
                marker()
            """,
            "route",
        ),
        (
            """
            from django.views.decorators.http import require_POST

            @require_POST
            def submit(req):
                marker()
            """,
            "route",
        ),
        (
            """
            from django.views.generic import DetailView

            class OrderDetail(DetailView):
                def get_context_data(self, **kwargs):
                    marker()
            """,
            "view",
        ),
        (
            """
            from django.shortcuts import render

            def index(request):
                def helper():
                    marker()
                return helper()
            """,
            "view",
        ),
        (
            """
            from rest_framework import viewsets
            from .base import TenantViewSetMixin

            class Orders(TenantViewSetMixin):
                def list(self, request):
                    marker()
            """,
            "view",
        ),
        (
            """
            from .celery import app

            @app.task(bind=True, max_retries=3)
            def send(self, order_id):
                marker()
            """,
            "task",
        ),
        (
            """
            from celery import shared_task

            @shared_task
            def cleanup():
                marker()
            """,
            "task",
        ),
        (
            """
            import celery

            class Export(celery.Task):
                def run(self, export_id):
                    marker()
            """,
            "task",
        ),
    ],
)
def test_handler_kind(source: str, kind: str) -> None:
    assert _handler(source) == kind


@pytest.mark.parametrize(
    "source",
    [
        # no web framework imported: a function taking ``request`` is just a function
        """
        def build(request):
            marker()
        """,
        # a cache's get method used as a decorator is not a route
        """
        from flask import Flask

        @cache.get("key")
        def loader():
            marker()
        """,
        # a plain class with a get method
        """
        from django.db import models

        class Registry:
            def get(self, request):
                marker()
        """,
        # module level code
        """
        from flask import Flask
        marker()
        """,
    ],
)
def test_not_a_handler(source: str) -> None:
    assert _handler(source) is None


def test_tasks_can_be_excluded() -> None:
    source = """
    from celery import shared_task

    @shared_task
    def cleanup():
        marker()
    """
    result = _at_call(
        source,
        "marker",
        lambda ctx, node: frameworks.per_request_function(ctx, ctx.ancestors, tasks=False),
    )
    assert result is None


# -- async scopes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("async def f():\n    marker()\n", "f"),
        ("async def f():\n    def g():\n        marker()\n", None),
        ("async def f():\n    return lambda: marker()\n", None),
        ("def f():\n    marker()\n", None),
        ("async def f(x=marker()):\n    pass\n", None),
        ("async def f():\n    async with s:\n        for x in y:\n            marker()\n", "f"),
    ],
)
def test_in_async_function(source: str, expected: str | None) -> None:
    def check(ctx: FileContext, node: cst.Call) -> object:
        found = frameworks.in_async_function(ctx.ancestors)
        return None if found is None else found.name.value

    assert _at_call(source, "marker", check) == expected


# -- what a name was constructed from -------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import redis\nr = redis.Redis()\ndef f():\n    r.set(k, v)\n", {"redis.Redis"}),
        (
            "import redis\ndef f():\n    r = redis.from_url(u)\n    r.set(k, v)\n",
            {"redis.from_url"},
        ),
        (
            "import redis\nr = redis.Redis()\ndef f():\n    p = r.pipeline()\n    p.set(k, v)\n",
            {"redis.Redis.pipeline"},
        ),
        (
            "import redis\nclass C:\n    def __init__(self):\n        self.r = redis.Redis()\n"
            "    def f(self):\n        self.r.set(k, v)\n",
            {"redis.Redis"},
        ),
        (
            "from sqlalchemy.orm import Session\nasync def f(db: Session):\n    db.set(k, v)\n",
            {"sqlalchemy.orm.Session"},
        ),
        (
            "from typing import Annotated\nfrom sqlalchemy.orm import Session\n"
            "async def f(db: Annotated[Session, Depends(get_db)]):\n    db.set(k, v)\n",
            {"sqlalchemy.orm.Session"},
        ),
        (
            "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n"
            "def f():\n    with SessionLocal() as s:\n        s.set(k, v)\n",
            {"sqlalchemy.orm.sessionmaker()"},
        ),
        ("from django.core.cache import cache\ncache.set(k, v)\n", {"django.core.cache.cache"}),
        ("def f(r):\n    r.set(k, v)\n", set()),
    ],
)
def test_constructed_from(source: str, expected: set[str]) -> None:
    ctx, module = _ctx(source)
    results: list[set[str]] = []

    def visit(node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "set":
            results.append(set(frameworks.constructed_from(node.func.value, ctx)))

    dispatch = Dispatch()
    dispatch.add(object(), cst.Call, visit, leave=False)
    walk(module, dispatch, ctx.ancestors, lambda owner, error: None)
    assert results == [expected]


# -- logging calls ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "callee", "library"),
    [
        ("import logging\nlogging.info('x')\n", "logging.info", "logging"),
        (
            "import logging\nlog = logging.getLogger(__name__)\nlog.warning('x')\n",
            "log.warning",
            "logging",
        ),
        ("from loguru import logger\nlogger.info('x')\n", "logger.info", "loguru"),
        ("import structlog\nlog = structlog.get_logger()\nlog.msg('x')\n", "log.msg", "structlog"),
        (
            "class A:\n    def f(self):\n        self.logger.error('x')\n",
            "self.logger.error",
            "logging",
        ),
        ("import structlog\naudit_log.info('x')\n", "audit_log.info", "structlog"),
    ],
)
def test_logging_call(source: str, callee: str, library: str) -> None:
    result = _at_call(source, callee, lambda ctx, node: frameworks.logging_call(node, ctx))
    assert isinstance(result, frameworks.LogCall)
    assert result.library == library


@pytest.mark.parametrize(
    ("source", "callee"),
    [
        ("dialog.info('x')\n", "dialog.info"),
        ("import structlog\nstructlog.info('x')\n", "structlog.info"),
        ("catalog.error('x')\n", "catalog.error"),
        ("logger.append('x')\n", "logger.append"),
    ],
)
def test_not_a_logging_call(source: str, callee: str) -> None:
    assert _at_call(source, callee, lambda ctx, node: frameworks.logging_call(node, ctx)) is None


def test_log_message_position() -> None:
    source = "import logging\nlogging.log(logging.INFO, 'user %s', name, extra={})\n"
    result = _at_call(source, "logging.log", lambda ctx, node: frameworks.logging_call(node, ctx))
    assert isinstance(result, frameworks.LogCall)
    assert result.message is not None
    assert isinstance(result.message.value, cst.SimpleString)
    assert [cst.Module([]).code_for_node(a.value) for a in result.args] == ["name"]
