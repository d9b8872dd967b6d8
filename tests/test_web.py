"""BE6xx web-security rules: settings heuristics, options, and shapes beyond the examples."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind, Finding
from be_lint.taint import argument
from be_lint.websettings import (
    DEV_SETTINGS_GLOBS,
    config_key,
    env_lookup,
    is_dev_path,
    is_django_settings,
    literal,
    run_host,
)

RULES = builtin_rules()
KNOWN = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})


def check(
    code: str,
    select: str,
    path: str = "app/views.py",
    options: dict[str, object] | None = None,
) -> list[Finding]:
    settings = Settings(
        selected=(select,),
        known=KNOWN,
        options=((select, tuple(sorted((options or {}).items()))),),
    )
    findings = Checker(settings, RULES).check_text(
        textwrap.dedent(code), path, FileKind.PYTHON, "app"
    )
    return [f for f in findings if f.code == select]


# -- settings heuristics -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "dev"),
    [
        ("shop/settings/dev.py", True),
        ("shop/settings/local.py", True),
        ("shop/settings_test.py", True),
        ("shop/tests/settings.py", True),
        ("src/pretix/testutils/settings.py", True),
        ("shop/settings/production.py", False),
        ("shop/settings.py", False),
        ("shop/settings/base.py", False),
    ],
)
def test_dev_paths(path: str, dev: bool) -> None:
    assert is_dev_path(path, DEV_SETTINGS_GLOBS) is dev


def test_settings_module_detection() -> None:
    core = cst.parse_module("INSTALLED_APPS = []\nROOT_URLCONF = 'x.urls'\n")
    one = cst.parse_module("DEBUG = True\n")
    assert is_django_settings("proj/config.py", core)
    assert is_django_settings("proj/settings.py", one)
    assert is_django_settings("proj/settings/prod.py", one)
    assert not is_django_settings("proj/constants.py", one)


@pytest.mark.parametrize(
    ("expr", "variable", "default", "truth"),
    [
        ('env.bool("DEBUG", default=True)', "DEBUG", True, None),
        ('os.environ.get("DEBUG", "1") == "1"', "DEBUG", "1", True),
        ('os.environ.get("DEBUG", "0") == "1"', "DEBUG", "0", False),
        ('os.getenv("DEBUG", "True").lower() in ("1", "true")', "DEBUG", "True", True),
        ('config("DEBUG", default=False, cast=bool)', "DEBUG", False, None),
        ('get_bool_env("DEBUG", True)', "DEBUG", True, None),
        ('os.environ["DEBUG"]', "DEBUG", None, None),
    ],
)
def test_env_lookups(expr: str, variable: str, default: object, truth: bool | None) -> None:
    lookup = env_lookup(cst.parse_expression(expr))
    assert lookup is not None
    assert lookup.variable == variable
    value = literal(lookup.default) if lookup.default is not None else None
    assert value == default
    assert lookup.default_truth is truth


def test_non_env_calls_are_not_lookups() -> None:
    assert env_lookup(cst.parse_expression('compute("DEBUG", True)')) is None
    assert env_lookup(cst.parse_expression("os.environ.get(name, '1')")) is None


def _call(code: str) -> cst.Call:
    call = cst.parse_expression(code)
    assert isinstance(call, cst.Call)
    return call


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ("redirect(a, url=b)", "a"),
        ("redirect(location=a, url=b)", "b"),
        ("redirect(to=a)", "a"),
        ("redirect(*rest, url=b)", None),
    ],
)
def test_argument_takes_the_position_then_the_first_keyword_given(
    code: str, found: str | None
) -> None:
    value = argument(_call(code), 0, "url", "location", "to")
    assert (value.value if isinstance(value, cst.Name) else None) == found


def test_dev_server_host_and_config_keys() -> None:
    assert run_host(_call('app.run("0.0.0.0", debug=True)')) == "0.0.0.0"
    assert run_host(_call('app.run(port=80, host="::")')) == "::"
    assert run_host(_call("app.run(debug=True)")) is None
    assert config_key(cst.parse_expression('app.config["DEBUG"]')) == "DEBUG"
    assert config_key(cst.parse_expression('settings["DEBUG"]')) is None


def test_dev_settings_option_replaces_the_globs() -> None:
    code = "SECRET_KEY = 'x'\nINSTALLED_APPS = []\nDEBUG = True\n"
    assert check(code, "BE610", path="shop/settings/dev.py") == []
    found = check(code, "BE610", path="shop/settings/dev.py", options={"dev-settings": ["*/qa/*"]})
    assert [f.line for f in found] == [3]
    assert (
        check(code, "BE610", path="shop/qa/settings.py", options={"dev-settings": ["*/qa/*"]}) == []
    )


def test_debug_default_from_environment_is_info() -> None:
    found = check('DEBUG = env.bool("DEBUG", default=True)\n', "BE610", path="shop/settings.py")
    assert [(f.line, f.severity.value) for f in found] == [(1, "info")]
    found = check("DEBUG = True\n", "BE610", path="shop/settings.py")
    assert [(f.line, f.severity.value) for f in found] == [(1, "error")]


# -- taint rules -------------------------------------------------------------------------------


def test_ssrf_fixed_host_option() -> None:
    code = """
    import requests
    from flask import request

    def view():
        requests.get("https://api.example.com/u/" + request.args["id"], timeout=2)
    """
    assert check(code, "BE602") == []
    found = check(code, "BE602", options={"report-fixed-host": True})
    assert [(f.line, f.severity.value) for f in found] == [(6, "warning")]


def test_deserialization_severity_follows_taint() -> None:
    code = """
    import pickle
    from flask import request

    def view(blob):
        pickle.loads(blob)
        pickle.loads(request.data)
    """
    found = check(code, "BE607")
    assert [(f.line, f.severity.value) for f in found] == [(6, "warning"), (7, "error")]


def test_taint_rules_quiet_without_sources() -> None:
    code = """
    import os

    def run(cmd):
        os.system(cmd)
    """
    assert check(code, "BE601") == []


def test_messages_name_the_source() -> None:
    code = """
    import subprocess
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/x")
    def x(name: str):
        subprocess.run(f"echo {name}", shell=True)
    """
    (finding,) = check(code, "BE601")
    assert "route parameter `name` of `x`" in finding.message


def test_mass_assignment_through_local_copy() -> None:
    code = """
    from shop.models import Order

    def create(request):
        payload = dict(request.POST)
        extra = {**payload, "source": "web"}
        Order.objects.create(**extra)
    """
    assert [f.line for f in check(code, "BE609")] == [7]


# -- opt-in and options ------------------------------------------------------------------------


def test_unauthenticated_route_is_opt_in() -> None:
    from be_lint.rule import Rule

    rule: type[Rule] = next(r for r in RULES if r.meta.code == "BE621")
    assert rule.meta.enabled_by_default is False


def test_unauthenticated_route_auth_names_option() -> None:
    code = """
    from flask import Flask

    app = Flask(__name__)

    @app.post("/orders")
    @guarded
    def create():
        return ""
    """
    assert [f.line for f in check(code, "BE621")] == [8]
    assert check(code, "BE621", options={"auth-names": "guarded"}) == []


def test_cookie_sensitive_names_option() -> None:
    code = """
    def view(response):
        response.set_cookie("cart", "1")
    """
    assert check(code, "BE616") == []
    assert len(check(code, "BE616", options={"sensitive-names": "cart"})) == 1


def test_assert_rule_skips_test_files() -> None:
    code = "def f(user):\n    assert user.is_staff\n"
    assert len(check(code, "BE618", path="app/views.py")) == 1
    assert check(code, "BE618", path="app/tests/test_views.py") == []


def test_serializer_rule_uses_project_models_of_the_file() -> None:
    code = """
    from django.db import models
    from rest_framework import serializers

    class Account(models.Model):
        is_superuser = models.BooleanField(default=False)

    class AccountSerializer(serializers.ModelSerializer):
        class Meta:
            model = Account
            fields = "__all__"
    """
    (finding,) = check(code, "BE620", path="app/serializers.py")
    assert "is_superuser" in finding.message


def test_sql_injection_benefits_from_constant_folding() -> None:
    # The same dataflow decides BE101: a folded-away branch no longer taints the query.
    code = """
    import sqlite3
    from flask import request

    def safe():
        param = request.args["p"]
        num = 86
        bar = "fixed" if (7 * 42) - num > 200 else param
        sqlite3.connect("x").execute("SELECT * FROM t WHERE a = '" + bar + "'")

    def unsafe():
        param = request.args["p"]
        values = {"keyA": "fixed", "keyB": param}
        bar = values["keyB"]
        sqlite3.connect("x").execute("SELECT * FROM t WHERE a = '" + bar + "'")
    """
    assert [f.line for f in check(code, "BE101")] == [15]


def test_taint_follows_parameters_to_callers_in_the_file() -> None:
    code = """
    import os
    import subprocess
    from flask import Flask, request

    app = Flask(__name__)

    def ping(host, count=1):
        os.system(f"ping -c {count} {host}")

    def run(tool):
        return _run(tool)

    def _run(name):
        subprocess.run(name + " --version", shell=True)

    class Tools:
        def lookup(self, domain):
            os.system("whois " + domain)

        def handle(self):
            self.lookup(request.args["domain"])

    @app.route("/ping")
    def view():
        ping(request.args["host"])
        run(request.form["tool"])
        ping("localhost")
        return ""
    """
    found = check(code, "BE601")
    assert [f.line for f in found] == [9, 15, 19]
    assert "passed to `ping()`" in found[0].message


def test_helpers_called_only_with_safe_values_stay_quiet() -> None:
    code = """
    import os
    from flask import request

    def ping(host):
        os.system("ping " + host)

    def view():
        ping("localhost")
        ping(str(int(request.args["n"])))
    """
    assert check(code, "BE601") == []
