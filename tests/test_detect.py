"""Framework detection and per-project rule gating (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint.cli import main
from be_lint.detect import FRAMEWORKS, detect, imported_frameworks
from be_lint.engine import applies_to
from be_lint.loader import builtin_rules

RULES = builtin_rules()

# BE708 (django-orm-in-async) keys on `Model.objects...` inside `async def`, a shape other
# libraries share (mongoengine documents have `objects` managers too).
ASYNC_ORM = """\
async def handler(request):
    return Order.objects.get(pk=request.id)
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / ".git").mkdir(exist_ok=True)  # stop the metadata walk at the fixture's root
    return root


def _detect(root: Path) -> tuple[str, ...]:
    files = sorted((p, p.relative_to(root).as_posix()) for p in root.rglob("*.py"))
    return detect(files, [root], cwd=root).frameworks


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _codes(root: Path, *args: str) -> list[tuple[str, str, int]]:
    result = CliRunner().invoke(main, ["--format", "json", *args, str(root)])
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import django\n", {"django"}),
        ("from django.db import models\n", {"django"}),
        ("import os, flask.json as fj\n", {"flask"}),
        ("def f():\n    from celery import shared_task\n", {"celery"}),
        ("from rest_framework import serializers\n", {"drf"}),
        ("import jwt\n", {"pyjwt"}),
        ("from flask_sqlalchemy import SQLAlchemy\n", {"sqlalchemy", "flask"}),
        ("INSTALLED_APPS = ['myapp']\n", {"django"}),
        ("ALLOWED_HOSTS = ['*']\nREST_FRAMEWORK = {}\n", {"django", "drf"}),
        ("CELERY_BROKER_URL = 'redis://'\n", {"celery"}),
        ("import confluent_kafka\nimport pika\nimport aiohttp\n", {"kafka", "pika", "aiohttp"}),
        # Mentions that are not imports.
        ("# we used to use django\nx = 'flask'\nimport djangoish\n", set()),
        ("from .django import helpers\n", set()),
    ],
)
def test_imported_frameworks(source: str, expected: set[str]) -> None:
    assert imported_frameworks(source.encode()) == expected


def test_implied_frameworks(tmp_path: Path) -> None:
    _write(tmp_path, {"api.py": "from rest_framework.views import APIView\n"})
    assert _detect(tmp_path) == ("django", "drf")
    other = _write(tmp_path / "fa", {"main.py": "from fastapi import FastAPI\n"})
    assert _detect(other) == ("fastapi", "starlette")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "requirements.txt",
            "Django>=4.2  # web\n-r base.txt\ncelery[redis]==5.3\n",
            ("celery", "django"),
        ),
        ("requirements/prod.txt", "SQLAlchemy~=2.0\nalembic\n", ("alembic", "sqlalchemy")),
        ("dev-requirements.txt", "PyJWT\n", ("pyjwt",)),
        (
            "pyproject.toml",
            '[project]\nname = "svc"\ndependencies = ["fastapi>=0.100", "uvicorn"]\n'
            '[project.optional-dependencies]\nqueue = ["pika"]\n',
            ("fastapi", "pika", "starlette"),
        ),
        (
            "pyproject.toml",
            '[tool.poetry.dependencies]\npython = "^3.11"\nFlask = "^3"\n'
            '[tool.poetry.group.dev.dependencies]\nflask-sqlalchemy = "*"\n',
            ("flask", "sqlalchemy"),
        ),
        (
            "setup.cfg",
            "[options]\ninstall_requires =\n    djangorestframework>=3\n    requests\n",
            ("django", "drf"),
        ),
        (
            "setup.py",
            "setup(name='x', install_requires=['aiohttp>=3', 'kafka-python'])\n",
            ("aiohttp", "kafka"),
        ),
        ("Pipfile", '[packages]\ncelery = "*"\n', ("celery",)),
    ],
)
def test_metadata(tmp_path: Path, name: str, text: str, expected: tuple[str, ...]) -> None:
    _write(tmp_path, {name: text, "app/main.py": "x = 1\n"})
    assert _detect(tmp_path) == expected
    # A file deep in the tree, checked on its own, finds the metadata by walking up.
    detection = detect([], [tmp_path / "app" / "main.py"], cwd=tmp_path)
    assert detection.frameworks == expected
    assert detection.informed


def test_metadata_walk_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("django\n")
    repo = _write(tmp_path / "repo", {"requirements.txt": "flask\n", "app.py": "x = 1\n"})
    assert _detect(repo) == ("flask",)


def test_metadata_walk_stops_at_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("django\n")
    project = tmp_path / "outer" / "svc"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "svc"\ndependencies = ["flask"]\n')
    (project / "api").mkdir()
    (project / "api" / "requirements.txt").write_text("celery\n")
    detection = detect([], [project / "api"], cwd=tmp_path)
    assert detection.frameworks == ("celery", "flask")


def test_nothing_known_means_no_gating(tmp_path: Path) -> None:
    _write(tmp_path, {"app.py": "x = 1\n", "pyproject.toml": "[tool.black]\nline-length = 99\n"})
    files = [(tmp_path / "app.py", "app.py")]
    detection = detect(files, [tmp_path], cwd=tmp_path)
    assert detection.frameworks == () and not detection.informed
    assert detection.gate() is None


def test_declared_dependencies_without_frameworks_gate_everything_off(tmp_path: Path) -> None:
    _write(tmp_path, {"app.py": "x = 1\n", "requirements.txt": "requests\n"})
    detection = detect([(tmp_path / "app.py", "app.py")], [tmp_path], cwd=tmp_path)
    assert detection.informed and detection.gate() == ()


# -- gating in real runs ---------------------------------------------------------------------


def test_django_rule_is_skipped_in_a_flask_project(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {"requirements.txt": "flask\nmongoengine\n", "app/views.py": "import flask\n" + ASYNC_ORM},
    )
    assert _codes(root, "--select", "BE708") == []


def test_django_rule_runs_in_a_django_project(tmp_path: Path) -> None:
    root = _write(tmp_path, {"requirements.txt": "Django>=5\n", "app/views.py": ASYNC_ORM})
    assert _codes(root, "--select", "BE708") == [("BE708", "app/views.py", 2)]


def test_an_import_anywhere_in_the_project_is_enough(tmp_path: Path) -> None:
    # No metadata lists Django, but one file imports it: detection must never drop a finding
    # of a project that visibly uses the framework.
    root = _write(
        tmp_path,
        {
            "requirements.txt": "requests\n",
            "app/models.py": "from django.db import models\n",
            "app/views.py": ASYNC_ORM,
        },
    )
    assert _codes(root, "--select", "BE708") == [("BE708", "app/views.py", 2)]


def test_unknown_project_runs_every_rule(tmp_path: Path) -> None:
    root = _write(tmp_path, {"views.py": ASYNC_ORM})
    assert _codes(root, "--select", "BE708") == [("BE708", "views.py", 2)]


def test_stdin_detection_uses_the_text_and_the_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, {"requirements.txt": "flask\n"})
    monkeypatch.chdir(tmp_path)
    args = ["--format", "json", "--select", "BE708", "--stdin-filename", "app/views.py", "-"]
    flask_only = CliRunner().invoke(main, args, input=ASYNC_ORM)
    assert json.loads(flask_only.stdout)["findings"] == []
    with_import = CliRunner().invoke(main, args, input="import django\n" + ASYNC_ORM)
    assert [f["code"] for f in json.loads(with_import.stdout)["findings"]] == ["BE708"]


def test_verbose_reports_detection(tmp_path: Path) -> None:
    root = _write(
        tmp_path, {"requirements.txt": "flask\n", "app.py": "import celery\n" + ASYNC_ORM}
    )
    result = CliRunner().invoke(main, ["-v", "--select", "BE708,BE401", str(root)])
    assert "be-lint: framework Celery: imported in" in result.stderr
    assert "be-lint: framework Flask:" in result.stderr and "requirements.txt" in result.stderr
    assert "skipped: BE401 (django/sqlalchemy), BE708 (django)" in result.stderr


def test_rule_frameworks_are_known_keys() -> None:
    for rule in RULES:
        unknown = set(rule.meta.frameworks) - set(FRAMEWORKS)
        assert not unknown, f"{rule.meta.code} names unknown frameworks {unknown}"


def test_applies_to() -> None:
    (be708,) = [r for r in RULES if r.meta.code == "BE708"]
    (be701,) = [r for r in RULES if r.meta.code == "BE701"]
    assert applies_to(be708, None) and applies_to(be708, ("django",))
    assert not applies_to(be708, ("flask",)) and not applies_to(be708, ())
    assert applies_to(be701, ())


def test_scan_stops_once_the_wanted_frameworks_are_known(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "Django\n", "app.py": "import flask\n"})
    files = [(tmp_path / "app.py", "app.py")]
    # Declared in metadata: no source file needs reading for the rules that care about Django.
    assert detect(files, [tmp_path], cwd=tmp_path, wanted={"django"}).frameworks == ("django",)
    assert detect(files, [tmp_path], cwd=tmp_path).frameworks == ("django", "flask")


YAML_RULE = """\
rules:
  - code: BE998
    name: celery-only-example
    summary: s
    rationale: r
    how-to-fix: h
    message: "`{call}` without x"
    frameworks: [{frameworks}]
    match:
      kind: call-missing-keyword
      calls: [celery.Celery]
      keyword: x
    bad:
      - code: "import celery\\ncelery.Celery()  # expect: BE998\\n"
    good:
      - code: "import celery\\ncelery.Celery(x=1)\\n"
"""


def test_yaml_rules_declare_frameworks(tmp_path: Path) -> None:
    from be_lint.declarative import RuleFileError, load_yaml_rules
    from be_lint.rule import Rule

    before = len(Rule.registry)
    try:
        path = tmp_path / "pack.yml"
        path.write_text(YAML_RULE.replace("{frameworks}", "celery"))
        (rule,) = load_yaml_rules(path)
        assert rule.meta.frameworks == ("celery",)
        assert not applies_to(rule, ("django",)) and applies_to(rule, ("celery",))
        path.write_text(YAML_RULE.replace("{frameworks}", "celary"))
        with pytest.raises(RuleFileError, match="unknown framework 'celary'"):
            load_yaml_rules(path)
    finally:
        del Rule.registry[before:]


def test_setup_cfg_without_dependencies_does_not_end_the_metadata_walk(tmp_path: Path) -> None:
    # pretix's layout: the dependencies are in the top pyproject.toml, and src/ holds a
    # setup.cfg with tool settings only. A file under src/ must still see them.
    root = _write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "p"\ndependencies = ["django", "celery"]\n',
            "src/setup.cfg": "[flake8]\nmax-line-length = 99\n",
            "src/app/views.py": "import django\n",
        },
    )
    detection = detect([], [root / "src" / "app" / "views.py"], cwd=root)
    assert detection.frameworks == ("celery", "django")


def test_one_file_without_metadata_does_not_gate(tmp_path: Path) -> None:
    # The file imports Django; tasks.py elsewhere imports Celery. Linting the one file (the
    # pre-commit case) must not conclude that Celery is unused.
    root = _write(
        tmp_path,
        {"app/views.py": "import django\n", "app/tasks.py": "from celery import shared_task\n"},
    )
    views = root / "app" / "views.py"
    detection = detect([(views, "app/views.py")], [views], cwd=root)
    assert detection.frameworks == ("django",)
    assert detection.gate() is None


def test_whole_project_without_metadata_gates_by_imports(tmp_path: Path) -> None:
    root = _write(tmp_path, {"app/views.py": "import django\n"})
    files = [(root / "app" / "views.py", "app/views.py")]
    assert detect(files, [root], cwd=root).gate() == ("django",)
    assert detect(files, [root / "app"], cwd=root).gate() is None


def test_cached_results_follow_a_change_of_frameworks(tmp_path: Path) -> None:
    # Declaring Django in requirements.txt changes no Python file, but it switches Django
    # rules on: a warm run must not serve the results of the run that skipped them.
    root = _write(tmp_path, {"requirements.txt": "flask\n", "app/views.py": ASYNC_ORM})
    assert _codes(root, "--select", "BE708") == []
    (root / "requirements.txt").write_text("flask\ndjango\n")
    assert _codes(root, "--select", "BE708") == [("BE708", "app/views.py", 2)]
