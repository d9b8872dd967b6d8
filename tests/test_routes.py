"""``be-lint routes`` and the routes of the project index, on one fixture app per framework."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main
from be_lint.index import index_paths, index_text
from be_lint.index.routes import may_define_routes

FIXTURES = Path(__file__).parent / "fixtures" / "routes"

EXPECTED = {
    "fastapi": """\
METHOD  PATH                 HANDLER                          FRAMEWORK  LOCATION
GET     /health              shop.main.health                 fastapi    shop/main.py:11
GET     /legacy              shop.main.legacy                 fastapi    shop/main.py:15
POST    /legacy              shop.main.legacy                 fastapi    shop/main.py:15
DELETE  /v1/items/{item_id}  shop.routers.items.delete_item   fastapi    shop/routers/items.py:7
GET     /v1/users/           shop.routers.users.list_users    fastapi    shop/routers/users.py:7
POST    /v1/users/           shop.routers.users.create_user   fastapi    shop/routers/users.py:12
WS      /v1/users/ws         shop.routers.users.stream        fastapi    shop/routers/users.py:22
PUT     /v1/users/{user_id}  shop.routers.users.replace_user  fastapi    shop/routers/users.py:17
PATCH   /v1/users/{user_id}  shop.routers.users.replace_user  fastapi    shop/routers/users.py:17

9 routes (fastapi 9)
""",
    "flask": """\
METHOD  PATH                        HANDLER                    FRAMEWORK  LOCATION
GET     /                           store.create_app.index     flask      store/__init__.py:13
GET     /api/orders/                store.orders.orders        flask      store/orders.py:7
POST    /api/orders/                store.orders.orders        flask      store/orders.py:7
GET     /api/orders/<int:order_id>  store.orders.order         flask      store/orders.py:12
DELETE  /api/orders/<int:order_id>  store.orders.delete_order  flask      store/orders.py:17
GET     /items/<int:item_id>        store.views.ItemAPI.get    flask      store/views.py:5
PUT     /items/<int:item_id>        store.views.ItemAPI.put    flask      store/views.py:8

7 routes (flask 7)
""",
    "django": """\
METHOD  PATH                          HANDLER                                     FRAMEWORK  LOCATION
ANY     /                             site.views.home                             django     site/views.py:5
GET     /about/                       site.views.AboutView.get                    django     site/views.py:9
GET     /api/legacy/                  site.api.views.LegacyViewSet.list           drf        site/api/views.py:24
POST    /api/legacy/                  site.api.views.LegacyViewSet.create         drf        site/api/views.py:27
GET     /api/me/                      site.api.views.MeView.get                   drf        site/api/views.py:32
GET     /api/orders/                  site.api.views.OrderViewSet.list            drf        site/api/views.py:7
POST    /api/orders/                  site.api.views.OrderViewSet.create          drf        site/api/views.py:7
GET     /api/orders/<number>/         site.api.views.OrderViewSet.retrieve        drf        site/api/views.py:7
PUT     /api/orders/<number>/         site.api.views.OrderViewSet.update          drf        site/api/views.py:7
PATCH   /api/orders/<number>/         site.api.views.OrderViewSet.partial_update  drf        site/api/views.py:7
DELETE  /api/orders/<number>/         site.api.views.OrderViewSet.destroy         drf        site/api/views.py:7
POST    /api/orders/<number>/cancel/  site.api.views.OrderViewSet.cancel          drf        site/api/views.py:11
GET     /api/orders/recent-orders/    site.api.views.OrderViewSet.recent          drf        site/api/views.py:15
GET     /api/stats/                   site.api.views.stats                        drf        site/api/views.py:41
POST    /api/stats/                   site.api.views.stats                        drf        site/api/views.py:41
GET     /api/tags/                    site.api.views.TagViewSet.list              drf        site/api/views.py:19
POST    /api/tags/                    site.api.views.TagViewSet.create            drf        site/api/views.py:19
GET     /orders/                      site.orders.views.OrderList.get             django     site/orders/views.py:7
GET     /orders/<int:pk>/             site.orders.views.BaseDetail.get            django     site/orders/views.py:12
DELETE  /orders/<int:pk>/             site.orders.views.OrderDetail.delete        django     site/orders/views.py:17
POST    /orders/subscribe/            site.views.subscribe                        django     site/views.py:14

21 routes (django 6, drf 15)
""",
    "aiohttp": """\
METHOD  PATH         HANDLER           FRAMEWORK  LOCATION
GET     /            app.index         aiohttp    app.py:7
GET     /health      app.health        aiohttp    app.py:25
POST    /items       app.create_item   aiohttp    app.py:12
GET     /items/{id}  app.ItemView.get  aiohttp    app.py:17
DELETE  /items/{id}  app.delete_item   aiohttp    app.py:21

5 routes (aiohttp 5)
""",
    "starlette": """\
METHOD  PATH              HANDLER                  FRAMEWORK  LOCATION
GET     /                 app.homepage             starlette  app.py:6
POST    /users/           app.create_user          starlette  app.py:10
GET     /users/{user_id}  app.UserEndpoint.get     starlette  app.py:15
DELETE  /users/{user_id}  app.UserEndpoint.delete  starlette  app.py:18

4 routes (starlette 4)
""",
}


def _run(app: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(FIXTURES / app)
    result = CliRunner().invoke(main, ["routes", ".", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_routes_text_per_framework(app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(app, monkeypatch=monkeypatch) == EXPECTED[app]


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_routes_json_matches_text_and_is_deterministic(
    app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(app, "--format", "json", monkeypatch=monkeypatch)
    again = _run(app, "--format", "json", "-j", "2", monkeypatch=monkeypatch)
    assert first == again
    data = json.loads(first)
    rows = [
        line.split()[:4]
        for line in EXPECTED[app].splitlines()[1:]
        if line and not line[0].isdigit()
    ]
    assert [[r["method"], r["path"], r["handler"], r["framework"]] for r in data["routes"]] == rows
    assert data["summary"]["routes"] == len(rows)
    assert all(
        set(r) == {"method", "path", "handler", "framework", "file", "line"} for r in data["routes"]
    )


def test_routes_of_a_handler_and_pickling() -> None:
    root = FIXTURES / "django"
    index = index_paths(sorted(root.rglob("*.py")), root)
    routes = index.routes_of("site/api/views.py", "OrderViewSet.cancel")
    assert [(r.method, r.path) for r in routes] == [("POST", "/api/orders/<number>/cancel/")]
    assert index.routes_of("site/api/views.py", "stats")[0].framework == "drf"
    restored = pickle.loads(pickle.dumps(index))
    assert restored.routes == index.routes
    assert restored.routes_of("site/api/views.py", "stats") == index.routes_of(
        "site/api/views.py", "stats"
    )


def test_index_of_one_text_has_its_routes() -> None:
    text = 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.post("/orders")\ndef create():\n    pass\n'
    index = index_text(text, "api.py", None)
    assert [(r.method, r.path, r.handler) for r in index.routes] == [
        ("POST", "/orders", "api.create")
    ]


def test_textual_test_skips_files_without_routes() -> None:
    assert not may_define_routes(b"import os\n\ndef main():\n    return os.getcwd()\n")
    assert not may_define_routes(b"settings = {'path': 1}\nvalue = data.get('x')\n")
    assert may_define_routes(b"urlpatterns = []\n")
    assert may_define_routes(b"@router.get('/x')\ndef f(): ...\n")
    assert may_define_routes(b"def view(request):\n    return None\n")


def test_unresolved_parts_are_shown_not_guessed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(
        "from flask import Flask\n"
        "from config import PREFIX\n"
        "app = Flask(__name__)\n"
        'app.add_url_rule(f"{PREFIX}/ping", view_func=imported_view)\n'
        "@app.route(prefixed('/health'))\n"
        "def health():\n"
        "    return 'ok'\n"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["routes", "."])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[1].split()[:3] == ["GET", "{PREFIX}/ping", "app.imported_view"]
    assert lines[2].split()[:3] == ["GET", "{prefixed('/health')}", "app.health"]


def test_no_routes_and_bad_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "util.py").write_text("def f():\n    return 1\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["routes", "."])
    assert (result.exit_code, result.output) == (0, "no routes found\n")
    result = CliRunner().invoke(main, ["routes", "missing-dir"])
    assert result.exit_code == 2


def test_aiohttp_any_method_and_route_with_method_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(
        "from aiohttp import web\n"
        "table = web.RouteTableDef()\n\n\n"
        '@table.route("PATCH", "/items/{id}")\n'
        "async def patch(request):\n"
        "    return web.Response()\n\n\n"
        "async def anything(request):\n"
        "    return web.Response()\n\n\n"
        'app = web.Application()\napp.add_routes([web.route("*", "/any", anything)])\n'
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["routes", "."])
    rows = [line.split()[:3] for line in result.output.splitlines()[1:3]]
    assert rows == [["ANY", "/any", "app.anything"], ["PATCH", "/items/{id}", "app.patch"]]
