"""BE610 debug-mode-enabled: Django or Flask debug mode switched on in production code."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.taint import imports_any
from be_lint.websettings import (
    DEV_SETTINGS_GLOBS,
    FLASK_MODULES,
    MISSING,
    config_key,
    env_lookup,
    is_dev_path,
    literal,
    production_settings,
    run_host,
)

RATIONALE = """\
Debug mode is for a developer's machine. Django's `DEBUG = True` answers every error with a
page showing settings (secrets are masked only by name), local variables of every frame, SQL
queries and installed apps, and keeps every query in memory. Flask's debug mode (`app.run(
debug=True)`, `app.debug = True`, `app.config["DEBUG"] = True`) enables the Werkzeug debugger:
an interactive Python console in the browser, protected only by a PIN derived from guessable
machine facts -- remote code execution when reachable.

Reported:

- Django settings modules that set `DEBUG = True` (error);
- Flask: `app.run(debug=True)` (warning; an `app.run` that also binds a public address is
  BE617's), `app.debug = True`, `app.config["DEBUG"] = True`, `app.config.update(DEBUG=True)`
  (error).

How the environment is taken into account (configurable with `dev-settings`):

- files whose path matches a development glob -- by default `*dev*.py`, `*local*.py`,
  `*test*.py`, `*debug*.py`, `*example*.py`, `*sample*.py`, `settings/ci.py`, `conftest.py`
  and anything under `tests/`, `testutils/`, `docs/`, `examples/` -- are not checked;
- a Django settings module is a file named `settings.py`, `settings_*.py` or `*_settings.py`,
  a file in a `settings/`, `conf/` or `config/` folder, or a file that assigns two of
  `INSTALLED_APPS`, `MIDDLEWARE`, `ROOT_URLCONF`, `DATABASES`, `SECRET_KEY`, `ALLOWED_HOSTS`;
- a value read from the environment is judged by its default, which is what production gets
  when the variable is forgotten: `DEBUG = env.bool("DEBUG", default=True)`,
  `os.environ.get("DEBUG", "1") == "1"`, `config("DEBUG", default=True, cast=bool)` or a
  project helper such as `get_bool_env("DEBUG", True)` are reported as info; a default of
  `False` (or no default) is quiet.
"""

HOW_TO_FIX = """\
Keep `DEBUG = False` in production settings and switch it on only in a development settings
file or through an environment variable that defaults to off
(`DEBUG = env.bool("DJANGO_DEBUG", default=False)`). Start Flask's debug server with `flask
run --debug` on your machine instead of hard-coding `debug=True`.
"""


@dataclass(frozen=True)
class Options:
    dev_settings: tuple[str, ...] = option(
        DEV_SETTINGS_GLOBS,
        "Path globs of development/test files, where debug settings are not reported.",
    )


_PUBLIC_HOSTS = frozenset({"0.0.0.0", "::", ""})


class DebugModeEnabled(PythonRule):
    meta = RuleMeta(
        code="BE610",
        name="debug-mode-enabled",
        summary="Django or Flask debug mode is switched on outside development settings",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=489,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://docs.djangoproject.com/en/stable/ref/settings/#debug",
            "https://flask.palletsprojects.com/en/stable/debugging/",
            "https://cwe.mitre.org/data/definitions/489.html",
        ),
    )
    options_class = Options
    triggers = ("DEBUG", "debug")
    bad = (
        Example(
            """\
SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = True  # expect: BE610
ALLOWED_HOSTS = ["shop.example.com"]
""",
            filename="shop/settings/production.py",
        ),
        Example(
            """\
import os

DEBUG = os.environ.get("DJANGO_DEBUG", "true").lower() == "true"  # expect: BE610
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = True  # expect: BE610

if __name__ == "__main__":
    app.run(debug=True)  # expect: BE610
""",
            filename="app/main.py",
        ),
    )
    good = (
        Example(
            """\
DEBUG = True
""",
            filename="shop/settings/dev.py",
        ),
        Example(
            """\
import os

DEBUG = os.environ.get("DJANGO_DEBUG", "false") == "true"
TEMPLATE_DEBUG = DEBUG
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
import os

from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = os.environ.get("FLASK_DEBUG") == "1"
app.run(debug=False)
app.run(host="0.0.0.0", debug=True)
""",
            filename="app/main.py",
        ),
        Example(
            """\
class Logger:
    DEBUG = True
""",
            filename="app/logging_settings.py",
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        for name, value, target in production_settings(
            self.ctx.path, node, self.options.dev_settings
        ):
            if name == "DEBUG":
                self._judge(target, value, "`DEBUG`")

    def _judge(self, target: cst.CSTNode, value: cst.BaseExpression, what: str) -> None:
        constant = literal(value)
        if constant is True:
            self.report(target, f"{what} is switched on in production settings")
            return
        if constant is not MISSING:
            return
        lookup = env_lookup(value)
        if lookup is None:
            return
        truth = lookup.default_truth
        if truth is None and lookup.default is not None:
            default = literal(lookup.default)
            truth = default is True or (
                isinstance(default, str) and default.lower() in ("1", "true", "yes", "on")
            )
        if truth:
            self.report(
                target,
                f"{what} defaults to on when `{lookup.variable}` is not set",
                severity=Severity.INFO,
                help="make the default off so a forgotten variable is safe",
            )

    # -- Flask ---------------------------------------------------------------------------------

    def _flask_file(self) -> bool:
        return imports_any(self.ctx, FLASK_MODULES)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not self._flask_file():
            return
        if is_dev_path(self.ctx.path, self.options.dev_settings):
            return
        if func.attr.value == "run":
            debug = keyword_arg(node, "debug")
            if debug is None or literal(debug.value) is not True:
                return
            if run_host(node) in _PUBLIC_HOSTS:
                return  # BE617 reports the debugger on a public address
            self.report(
                debug,
                "the development server runs with the debugger on",
                severity=Severity.WARNING,
                help="use `flask run --debug` locally instead of `debug=True` in code",
            )
        elif func.attr.value == "update" and (dotted_name(func.value) or "").endswith(".config"):
            debug = keyword_arg(node, "DEBUG")
            if debug is not None:
                self._judge(debug, debug.value, "Flask `DEBUG`")

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._flask_file() or is_dev_path(self.ctx.path, self.options.dev_settings):
            return
        for target in node.targets:
            expr = target.target
            if isinstance(expr, cst.Attribute) and expr.attr.value == "debug":
                owner = dotted_name(expr.value) or ""
                if owner.rsplit(".", 1)[-1] in ("app", "application", "server"):
                    self._judge(expr, node.value, "Flask debug mode")
            elif config_key(expr) == "DEBUG":
                self._judge(expr, node.value, "Flask `DEBUG`")
