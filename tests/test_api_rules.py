"""BE9xx rules that need the project index: methods, statuses, prefixes, serializers and
models declared in other files than the handler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "be-lint.toml").write_text("")
    return root


def _findings(
    root: Path, select: str, monkeypatch: pytest.MonkeyPatch
) -> set[tuple[str, int, str]]:
    monkeypatch.chdir(root)
    result = CliRunner().invoke(
        main,
        ["check", "--select", select, "--format", "json", "--config", "be-lint.toml", "-j1", "."],
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    return {(f["path"], f["line"], f["code"]) for f in report["findings"]}


FLASK_APP = """\
from flask import Flask

from views import confirm, unsubscribe

app = Flask(__name__)
app.add_url_rule("/confirm/<token>", view_func=confirm)
app.add_url_rule("/unsubscribe/<token>", view_func=unsubscribe, methods=["POST"])
"""
FLASK_VIEWS = """\
from flask import request


def confirm(token):
    Token.objects.filter(value=token).delete()
    return "ok"


def unsubscribe(token):
    Subscription.objects.filter(token=token).delete()
    return "bye"
"""


def test_write_in_get_handler_known_only_from_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, {"app.py": FLASK_APP, "views.py": FLASK_VIEWS})
    # ``confirm`` answers GET (add_url_rule without methods); ``unsubscribe`` answers POST.
    assert _findings(root, "BE901", monkeypatch) == {("views.py", 5, "BE901")}


DRF_URLS = """\
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop import api, other

router = DefaultRouter()
router.register("orders", api.OrderViewSet)

urlpatterns = [
    path("", include(router.urls)),
    path("tags/<int:pk>/", other.TagView.as_view()),
]
"""
DRF_API = """\
from rest_framework import viewsets


class OrderViewSet(viewsets.ModelViewSet):
    serializer_class = OrderSerializer
"""
DRF_OTHER = """\
from rest_framework.response import Response
from rest_framework.views import APIView


class TagView(APIView):
    def delete(self, request, pk):
        Tag.objects.filter(pk=pk).delete()
        return Response({"deleted": pk})
"""


def test_delete_status_compares_with_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/urls.py": DRF_URLS,
            "shop/api.py": DRF_API,
            "shop/other.py": DRF_OTHER,
        },
    )
    # DRF's own ``destroy`` of OrderViewSet answers 204; TagView.delete answers 200 + body.
    assert _findings(root, "BE904", monkeypatch) == {("shop/other.py", 8, "BE904")}


def test_delete_status_quiet_without_any_204(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = DRF_URLS.replace('router.register("orders", api.OrderViewSet)\n', "")
    root = _project(
        tmp_path, {"shop/__init__.py": "", "shop/urls.py": urls, "shop/other.py": DRF_OTHER}
    )
    assert _findings(root, "BE904", monkeypatch) == set()


MODELS = """\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tags = models.ManyToManyField("Tag")
    note = models.TextField()


class Tag(models.Model):
    label = models.CharField(max_length=20)
"""
SERIALIZERS = """\
from rest_framework import serializers

from shop.models import Order


class OrderSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    labels = serializers.SerializerMethodField()
    note_size = serializers.SerializerMethodField()

    def get_labels(self, order):
        return [t.label for t in order.tags.all()]

    def get_note_size(self, order):
        return order.note.count("x")

    class Meta:
        model = Order
        fields = ["customer_name", "labels", "note_size"]
"""
VIEWS = """\
from rest_framework import viewsets

from shop.models import Order
from shop.serializers import OrderSerializer


class OrderViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.select_related("customer")


class AllOrders(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.select_related("customer").prefetch_related("tags")
"""


def test_serializer_relations_across_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": MODELS,
            "shop/serializers.py": SERIALIZERS,
            "shop/views.py": VIEWS,
        },
    )
    # ``tags`` is read through ``order.tags.all()``; ``note`` is a column, never reported.
    assert _findings(root, "BE912", monkeypatch) == {("shop/views.py", 9, "BE912")}


GRAPHENE = """\
from graphene_django import DjangoObjectType

from shop.models import Order


class OrderType(DjangoObjectType):
    class Meta:
        model = Order

    def resolve_customer(self, info):
        return self.customer

    def resolve_note(self, info):
        return self.note.strip()
"""


def test_graphql_lazy_relation_uses_the_model_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(
        tmp_path, {"shop/__init__.py": "", "shop/models.py": MODELS, "shop/schema.py": GRAPHENE}
    )
    assert _findings(root, "BE910", monkeypatch) == {("shop/schema.py", 11, "BE910")}


FASTAPI_MAIN = """\
from fastapi import FastAPI

from api import items, users

app = FastAPI()
app.include_router(users.router, prefix="/v1")
app.include_router(items.router)


@app.get("/health")
def health():
    return {"ok": True}
"""
FASTAPI_USERS = """\
from fastapi import APIRouter

router = APIRouter(prefix="/users")


@router.get("/")
def users() -> list[str]:
    return []
"""
FASTAPI_ITEMS = """\
from fastapi import APIRouter

router = APIRouter(prefix="/items")


@router.get("/")
def items() -> list[str]:
    return []
"""


def test_unversioned_route_sees_prefixes_of_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "main.py": FASTAPI_MAIN,
        "api/__init__.py": "",
        "api/users.py": FASTAPI_USERS,
        "api/items.py": FASTAPI_ITEMS,
    }
    root = _project(tmp_path, files)
    assert _findings(root, "BE908", monkeypatch) == {("api/items.py", 7, "BE908")}
    # A pattern that does not compile is a configuration the rule cannot apply: no finding,
    # and no crash (BE005).
    (root / "be-lint.toml").write_text('[rules.BE908]\nversion-pattern = "("\n')
    assert _findings(root, "BE908,BE005", monkeypatch) == set()


def test_mixed_path_naming_is_project_wide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "a.py": "from fastapi import APIRouter\nrouter = APIRouter()\n\n\n"
        '@router.get("/user-profiles")\ndef a():\n    return []\n\n\n'
        '@router.get("/order-items")\ndef b():\n    return []\n',
        "b.py": "from fastapi import APIRouter\nrouter = APIRouter()\n\n\n"
        '@router.get("/shipping_addresses")\ndef c():\n    return []\n',
    }
    root = _project(tmp_path, files)
    assert _findings(root, "BE907", monkeypatch) == {("b.py", 6, "BE907")}
