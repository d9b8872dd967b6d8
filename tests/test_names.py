"""The light import resolver behind qualified names."""

from __future__ import annotations

import libcst as cst
import pytest

from be_lint.names import ImportMap


def _resolve(source: str, expression: str, package: str | None = None) -> frozenset[str]:
    module = cst.parse_module(source)
    return ImportMap(module, package).resolve(cst.parse_expression(expression))


@pytest.mark.parametrize(
    ("source", "expression", "expected"),
    [
        ("from requests import get as fetch", "fetch", {"requests.get"}),
        ("import sqlalchemy as sa", "sa.text", {"sqlalchemy.text"}),
        ("import os.path", "os.path.join", {"os.path.join"}),
        ("import urllib.request", "urllib.request.urlopen", {"urllib.request.urlopen"}),
        ("from urllib import request", "request.urlopen", {"urllib.request.urlopen"}),
        ("def f():\n    import requests\n    requests.get(u)\n", "requests.get", {"requests.get"}),
        (
            "try:\n    import simplejson as json\nexcept ImportError:\n    import json\n",
            "json.loads",
            {"simplejson.loads", "json.loads"},
        ),
        ("x = 1", "open", {"builtins.open"}),
        ("def open(p):\n    return p\n", "open", set()),
        ("x = 1", "requests.get", set()),
        ("from . import models", "models.User", {"app.models.User"}),
        ("from ..core import db", "db.session", {"core.db.session"}),
        ("from .models import User as U", "U", {"app.models.User"}),
    ],
)
def test_resolve(source: str, expression: str, expected: set[str]) -> None:
    package = "app" if "from ..core" not in source else "proj.app"
    result = _resolve(source, expression, package)
    if "from ..core" in source:
        expected = {"proj.core.db.session"}
    assert result == frozenset(expected)


def test_imports_inside_compound_statements_are_found() -> None:
    source = (
        "if TYPE_CHECKING:\n    from requests import Session\n"
        "with x:\n    import httpx as h\n"
        "class C:\n    def m(self):\n        from sqlalchemy import text\n"
    )
    module = cst.parse_module(source)
    imports = ImportMap(module)
    assert imports.resolve_dotted("Session") == {"requests.Session"}
    assert imports.resolve_dotted("h.get") == {"httpx.get"}
    assert imports.resolve_dotted("text") == {"sqlalchemy.text"}
