"""The ORM rules (BE4xx) on multi-file fixture apps, through the real command line.

Rule examples hold one file each; these apps split models, managers and code across modules
and packages (imported absolutely and relatively), which only the project index connects.
Every line marked ``# expect: BE4xx`` must be reported, and nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import fixture_apps
import pytest
from click.testing import CliRunner

from be_lint.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "orm"
APPS = ("django_app", "sqlalchemy_app")


def _expected(app: Path) -> set[tuple[str, int, str]]:
    return fixture_apps.expected(app, "BE4")


def _lint(app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    return fixture_apps.lint(app, tmp_path, monkeypatch, "BE4", *args)


@pytest.mark.parametrize("name", APPS)
def test_fixture_app_findings_match_annotations(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FIXTURES / name
    report = json.loads(_lint(app, tmp_path, monkeypatch, "-j1"))
    got = {(f["path"], f["line"], f["code"]) for f in report["findings"]}
    assert got == _expected(app)


@pytest.mark.parametrize("name", APPS)
def test_fixture_app_output_is_the_same_for_any_number_of_jobs(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = FIXTURES / name
    assert _lint(app, tmp_path, monkeypatch, "-j1") == _lint(app, tmp_path, monkeypatch, "-j2")


def test_messages_name_the_relation_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = json.loads(_lint(FIXTURES / "django_app", tmp_path, monkeypatch, "-j1"))
    messages = {(f["path"], f["line"]): f["message"] for f in report["findings"]}
    assert messages[("shop/app/views.py", 11)] == (
        "`order.customer` runs a query for every row of `Order.objects.paid()`: "
        'add `select_related("customer")`'
    )
    assert 'add `select_related("referrer__referrer")`' in messages[("shop/app/views.py", 25)]
    assert 'add `prefetch_related("orders")`' in messages[("shop/app/views.py", 31)]
    report = json.loads(_lint(FIXTURES / "sqlalchemy_app", tmp_path, monkeypatch, "-j1"))
    messages = {(f["path"], f["line"]): f["message"] for f in report["findings"]}
    assert "add `options(selectinload(User.addresses))`" in messages[("store/service.py", 11)]
    assert "add `options(joinedload(Address.user))`" in messages[("store/service.py", 27)]


def test_a_single_file_run_indexes_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file checked alone (or from stdin) still sees the models it defines itself."""
    source = (
        "from django.db import models\n\n\n"
        "class A(models.Model):\n    pass\n\n\n"
        "class B(models.Model):\n    a = models.ForeignKey(A, on_delete=models.CASCADE)\n\n\n"
        "def names():\n    return [b.a.pk for b in B.objects.all()]\n"
    )
    (tmp_path / "single.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--select", "BE401", "-q", "single.py"])
    assert "single.py:13:13: BE401" in result.stdout
    result = CliRunner().invoke(
        main,
        ["check", "--select", "BE401", "-q", "--stdin-filename", "single.py", "-"],
        input=source,
    )
    assert "single.py:13:13: BE401" in result.stdout
