"""Framework settings as the BE6xx settings rules see them: which file is a settings module,
which one is for development, and which values come from the environment.

Heuristics (documented in each rule's page):

- a *Django settings module* is a file named ``settings.py``/``settings_*.py``/``*_settings.py``,
  a file inside a ``settings/`` or ``conf/`` folder, or any file that assigns at least two of the
  core Django settings (``INSTALLED_APPS``, ``MIDDLEWARE``, ``ROOT_URLCONF``, ``DATABASES``,
  ``SECRET_KEY``, ``ALLOWED_HOSTS``) at module level;
- a *development* file matches one of the rule's ``dev-settings`` globs (by default
  ``*dev*.py``, ``*local*.py``, ``*test*.py``, ``*debug*.py``, ``*example*.py``, ``*sample*.py``,
  ``settings/ci.py``, ``conftest.py``, and anything in ``tests/``, ``testutils/``, ``docs/`` or
  ``examples/``), matched against the file's path;
- a value *read from the environment with a default* is a call whose first argument names a
  variable (``env.bool("DEBUG", default=True)``, ``os.environ.get("DEBUG", "1") == "1"``,
  ``config("DEBUG", default=True, cast=bool)``, ``get_bool_env("DEBUG", True)``); the rules judge
  the default, because it is what production gets when the variable is forgotten.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import keyword_arg, string_value
from be_lint.names import dotted_name
from be_lint.rule import STOP_VISITING, option

__all__ = [
    "DEV_SETTINGS_GLOBS",
    "FLASK_MODULES",
    "TEST_GLOBS",
    "DevSettingsOptions",
    "EnvLookup",
    "config_key",
    "env_lookup",
    "is_dev_path",
    "is_django_settings",
    "module_assignments",
    "production_settings",
    "run_host",
    "skip_file",
]

DEV_SETTINGS_GLOBS: tuple[str, ...] = (
    "*dev*.py",
    "*local*.py",
    "*test*.py",
    "*debug*.py",
    "*example*.py",
    "*sample*.py",
    "*/settings/ci.py",
    "*/settings/ci_*.py",
    "conftest.py",
    "*/tests/*",
    "*/test/*",
    "*/testing/*",
    "*/testutils/*",
    "*/docs/*",
    "*/examples/*",
    "*/example/*",
)

#: Test code: fixtures and deliberate misuse, not application behaviour.
TEST_GLOBS: tuple[str, ...] = (
    "test_*.py",
    "*_test.py",
    "tests.py",
    "conftest.py",
    "*/tests/*",
    "*/test/*",
    "*/testing/*",
    "*/testutils/*",
)

#: Modules whose apps have a ``run()`` development server and a Flask-style ``config``.
FLASK_MODULES: tuple[str, ...] = ("flask", "quart", "sanic", "werkzeug", "apiflask")


@dataclass(frozen=True)
class DevSettingsOptions:
    """Options of a settings rule that leaves development files alone."""

    dev_settings: tuple[str, ...] = option(
        DEV_SETTINGS_GLOBS, "Path globs of development/test files, which are not checked."
    )


_CORE_SETTINGS = frozenset(
    {"INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF", "DATABASES", "SECRET_KEY", "ALLOWED_HOSTS"}
)


def is_dev_path(path: str, globs: tuple[str, ...] | frozenset[str]) -> bool:
    """``path`` (with ``/`` separators) matches one of the development globs."""
    normalized = "/" + path.replace("\\", "/").lstrip("/")
    name = normalized.rsplit("/", 1)[-1]
    for pattern in globs:
        if "/" in pattern:
            if fnmatch.fnmatch(normalized, pattern) or fnmatch.fnmatch(normalized, "*/" + pattern):
                return True
        elif fnmatch.fnmatch(name, pattern):
            return True
    return False


def skip_file(path: str, globs: tuple[str, ...] | frozenset[str]) -> object:
    """For ``visit_Module``: ``STOP_VISITING`` when ``path`` matches one of ``globs`` (test or
    development files the rule does not check), else None."""
    return STOP_VISITING if is_dev_path(path, globs) else None


def module_assignments(module: cst.Module) -> Iterator[tuple[str, cst.BaseExpression, cst.CSTNode]]:
    """``NAME = value`` at module level (also inside top-level ``if``/``try``): name, value, target."""
    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            yield target.target.value, small.value, target.target
                elif (
                    isinstance(small, cst.AnnAssign)
                    and small.value is not None
                    and isinstance(small.target, cst.Name)
                ):
                    yield small.target.value, small.value, small.target
        elif isinstance(node, cst.If):
            blocks: list[cst.BaseSuite] = [node.body]
            orelse = node.orelse
            if orelse is not None:
                if isinstance(orelse, cst.If):
                    stack.append(orelse)
                else:
                    blocks.append(orelse.body)
            for block in reversed(blocks):
                if isinstance(block, cst.IndentedBlock):
                    stack.extend(reversed(block.body))
        elif isinstance(node, cst.Try):
            suites: list[cst.BaseSuite] = [node.body, *(h.body for h in node.handlers)]
            if node.orelse is not None:
                suites.append(node.orelse.body)
            for block in reversed(suites):
                if isinstance(block, cst.IndentedBlock):
                    stack.extend(reversed(block.body))


def is_django_settings(path: str, module: cst.Module) -> bool:
    """The file looks like a Django settings module (see the module doc)."""
    normalized = path.replace("\\", "/")
    name = normalized.rsplit("/", 1)[-1]
    folder = normalized.rsplit("/", 2)[-2] if normalized.count("/") >= 1 else ""
    if name == "settings.py" or name.startswith("settings_") or name.endswith("_settings.py"):
        return True
    if folder in ("settings", "conf", "config"):
        return True
    seen = {name for name, _, _ in module_assignments(module) if name in _CORE_SETTINGS}
    return len(seen) >= 2


def production_settings(
    path: str, module: cst.Module, dev_globs: tuple[str, ...] | frozenset[str]
) -> Iterator[tuple[str, cst.BaseExpression, cst.CSTNode]]:
    """``module_assignments`` of a Django settings module that is not a development file (none
    for other files)."""
    if is_dev_path(path, dev_globs) or not is_django_settings(path, module):
        return
    yield from module_assignments(module)


def config_key(target: cst.BaseExpression) -> str | None:
    """The key of ``app.config["KEY"]`` (any owner whose name ends in ``config``), else None."""
    if isinstance(target, cst.Subscript) and (dotted_name(target.value) or "").endswith("config"):
        index = target.slice[0].slice if len(target.slice) == 1 else None
        if isinstance(index, cst.Index):
            return string_value(index.value)
    return None


def run_host(call: cst.Call) -> str | None:
    """The address ``app.run(...)`` binds, as a string literal: ``host=`` or the first
    positional argument."""
    host = keyword_arg(call, "host")
    value = string_value(host.value) if host is not None else None
    positional = [a for a in call.args if a.keyword is None]
    if value is None and positional:
        value = string_value(positional[0].value)
    return value


@dataclass(frozen=True, slots=True)
class EnvLookup:
    """A value read from the environment: the variable and the default (None if there is none)."""

    variable: str
    default: cst.BaseExpression | None
    #: For ``os.environ.get("DEBUG", "1") == "1"``: the value is True when the default is used.
    default_truth: bool | None = None


_ENV_FUNCS = frozenset(
    {"getenv", "get", "env", "config", "bool", "str", "list", "int", "json", "get_env"}
)


def env_lookup(expr: cst.BaseExpression) -> EnvLookup | None:
    """``env.bool("DEBUG", default=True)``, ``os.environ.get("X", "1") == "1"``, ``config(...)``."""
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        inner = _strip_calls(expr.left)
        lookup = env_lookup(inner)
        if lookup is None:
            return None
        target = expr.comparisons[0]
        fallback = _literal(lookup.default)
        right = _literal(target.comparator)
        truth: bool | None = None
        if fallback is not _MISSING and right is not _MISSING:
            if isinstance(fallback, str):
                fallback = fallback.lower() if _lowered(expr.left) else fallback
            if isinstance(target.operator, cst.Equal):
                truth = fallback == right
            elif isinstance(target.operator, cst.NotEqual):
                truth = fallback != right
            elif isinstance(target.operator, cst.In) and isinstance(right, tuple | list | set):
                truth = fallback in right
            elif isinstance(target.operator, cst.NotIn) and isinstance(right, tuple | list | set):
                truth = fallback not in right
        return EnvLookup(lookup.variable, lookup.default, truth)
    expr = _strip_calls(expr)
    if isinstance(expr, cst.Subscript):
        # ``os.environ["DEBUG"]``: no default.
        if (dotted_name(expr.value) or "").endswith("environ") and len(expr.slice) == 1:
            index = expr.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                value = index.value.evaluated_value
                if isinstance(value, str):
                    return EnvLookup(value, None)
        return None
    if not isinstance(expr, cst.Call) or not expr.args:
        return None
    first = expr.args[0]
    if first.keyword is not None or not isinstance(first.value, cst.SimpleString):
        return None
    variable = first.value.evaluated_value
    if not isinstance(variable, str) or not variable or not variable.replace("_", "").isalnum():
        return None
    name = (dotted_name(expr.func) or "").lower()
    last = name.rsplit(".", 1)[-1]
    if not ("env" in name or "config" in name or last in _ENV_FUNCS or "setting" in name):
        return None
    default: cst.BaseExpression | None = None
    for arg in expr.args[1:]:
        positional = arg.keyword is None and default is None
        if positional or (arg.keyword is not None and arg.keyword.value in ("default", "fallback")):
            default = arg.value
    return EnvLookup(variable, default)


def _lowered(expr: cst.BaseExpression) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "lower"
    )


def _strip_calls(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``bool(int(x))``, ``x.lower()``, ``strtobool(x)``: look at ``x``."""
    for _ in range(6):
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("lower", "strip", "upper"):
                expr = func.value
                continue
            name = (dotted_name(func) or "").rsplit(".", 1)[-1]
            converters: tuple[str, ...] = (
                "strtobool",
                "parse_boolean_string",
                "str2bool",
                "as_bool",
            )
            if isinstance(func, cst.Name):
                converters = (*converters, "bool", "int")
            if name in converters and expr.args and expr.args[0].keyword is None:
                expr = expr.args[0].value
                continue
        break
    return expr


_MISSING = object()


def _literal(expr: cst.BaseExpression | None) -> object:
    if expr is None:
        return _MISSING
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value
    if isinstance(expr, cst.Integer):
        return int(expr.value)
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    if isinstance(expr, cst.Tuple | cst.List | cst.Set):
        items = [_literal(e.value) for e in expr.elements]
        return _MISSING if _MISSING in items else tuple(items)
    return _MISSING


def literal(expr: cst.BaseExpression | None) -> object:
    """A plain literal's value (strings, ints, booleans, None, tuples of them), else ``MISSING``."""
    return _literal(expr)


MISSING = _MISSING
