"""Read be-lint's configuration once and hand out a frozen ``Config``.

Sources, lowest precedence first: built-in defaults, one configuration file (``--config`` or
the first ``be-lint.toml`` / ``.be-lint.toml`` / ``pyproject.toml`` with a ``[tool.be-lint]``
table found by walking up from the first path), then command-line overrides. Everything is
validated here so that a typo fails the run up front with one line naming the key, instead of
being silently ignored (a misspelt ``ignore`` that does nothing is worse than an error).

Per-rule option *values* are the exception: only the rule knows its options class, so the
engine validates them later; this module checks only that each ``rules.<code-or-name>`` entry
is a table.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    # `unused-ignore` keeps mypy quiet both where tomli is installed and where it is not.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CONFIG_FILENAMES: tuple[str, ...] = ("be-lint.toml", ".be-lint.toml")
"""Dedicated configuration files, keys at the top level. Checked before ``pyproject.toml``."""

PYPROJECT = "pyproject.toml"
TOOL_KEY = "be-lint"

LEVELS: tuple[str, ...] = ("error", "warning", "info")

DEFAULT_SQL_DIALECT = "postgres"
DEFAULT_MAX_FILE_SIZE = 2_000_000

# Directories nobody wants linted: VCS metadata, tool caches, build output, vendored
# dependencies. Each entry is a gitignore pattern; the trailing slash makes it match
# directories only. A bare `env` is deliberately absent: it is a plausible package name
# (`settings/env/`), and real virtualenvs are caught anyway by their `pyvenv.cfg` marker
# (see discover.py), so excluding the name would silently hide source code from a security
# linter.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".venv/",
    "venv/",
    ".direnv/",
    "__pycache__/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".pytest_cache/",
    ".be-lint-cache/",
    "build/",
    "dist/",
    "node_modules/",
    "site-packages/",
    ".eggs/",
    "*.egg-info/",
    "__pypackages__/",
    "_build/",
    "buck-out/",
)

_CODE_RE = re.compile(r"^BE[0-9]{3}$", re.IGNORECASE)
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")

OptionValue = object
RuleOptions = tuple[tuple[str, tuple[tuple[str, OptionValue], ...]], ...]


class ConfigError(Exception):
    """The configuration is unreadable or invalid.

    ``str()`` is always a single line naming the file (when there is one), the key and the
    problem, so the CLI can print it as is and exit 2.
    """

    def __init__(self, message: str) -> None:
        # Parser messages and user values may contain newlines; the contract is one line.
        self.message = " ".join(message.split("\n"))
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class FrozenTable(tuple[tuple[str, OptionValue], ...]):
    """A TOML table nested inside a rule's options, frozen so ``Config`` stays hashable.

    A distinct type (rather than a plain tuple of pairs) lets ``Config.options_for`` turn it
    back into a dict without confusing it with an array of two-element arrays.
    """

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Config:
    """The resolved configuration of one run. Immutable and hashable (it keys the cache)."""

    select: tuple[str, ...] | None = None
    """Selectors (codes, code prefixes, names); ``None`` means the default rule set."""
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """``(glob, selectors)`` pairs in file order; globs are relative to ``project_root``."""
    severity: tuple[tuple[str, str], ...] = ()
    """``(code-or-name, level)`` pairs overriding a rule's default severity."""
    sql_dialect: str = DEFAULT_SQL_DIALECT
    rule_paths: tuple[Path, ...] = ()
    """Extra rule packs, absolute (resolved against the directory of the config file)."""
    fail_on: str = "warning"
    rule_options: RuleOptions = ()
    """``(code-or-name, options)`` pairs; read them through ``options_for``."""
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    force_exclude: bool = False
    project_root: Path = field(default_factory=Path.cwd)
    """Directory of the config file (or the working directory); exclude patterns and
    per-file-ignores globs are relative to it."""
    config_path: Path | None = None
    cache: bool = True
    """Keep per-file results in ``cache_dir`` (``--no-cache`` turns it off for one run)."""
    cache_dir: Path | None = None
    """Where the cache lives; None means ``.be-lint-cache`` in ``project_root``."""
    baseline: Path | None = None
    """A baseline file (``be-lint baseline``) whose findings are not reported."""

    @property
    def all_excludes(self) -> tuple[str, ...]:
        """``exclude`` followed by ``extend-exclude``, the patterns discovery applies."""
        return self.exclude + self.extend_exclude

    def options_for(self, code: str, name: str) -> dict[str, object]:
        """Options configured for one rule, whether keyed by its code or by its name.

        Entries are merged in file order, so when both ``rules.BE701`` and
        ``rules.request-without-timeout`` set the same option the later table wins. Arrays
        come back as tuples and nested tables as dicts.
        """
        merged: dict[str, object] = {}
        wanted = {code.upper(), name}
        for key, options in self.rule_options:
            if key in wanted:
                for option, value in options:
                    merged[option] = _thaw(value)
        return merged


# --------------------------------------------------------------------------- finding the file


def find_config_file(start: Sequence[Path]) -> Path | None:
    """Walk up from the first of ``start`` (or the working directory) to the nearest config.

    In each directory ``be-lint.toml`` and ``.be-lint.toml`` win over ``pyproject.toml``; a
    ``pyproject.toml`` only counts when it has a ``[tool.be-lint]`` table, so a plain
    packaging file in a sub-package does not hide the project's configuration (Ruff does the
    same). The walk stops at the filesystem root.
    """
    first = Path(os.path.abspath(start[0])) if start else Path(os.path.abspath(os.getcwd()))
    # A file (or a path that does not exist yet) is looked up from its directory.
    directory = first if first.is_dir() else first.parent
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_FILENAMES:
            candidate = candidate_dir / name
            if candidate.is_file():
                return candidate
        pyproject = candidate_dir / PYPROJECT
        if pyproject.is_file() and _pyproject_has_table(pyproject):
            return pyproject
    return None


def _pyproject_has_table(path: Path) -> bool:
    try:
        raw = path.read_bytes()
    except OSError:
        return False  # someone else's unreadable file somewhere up the tree
    # Most pyproject.toml files on the way up never mention us: skip parsing them, which also
    # means a broken pyproject.toml in some unrelated parent directory cannot fail the run.
    if TOOL_KEY.encode() not in raw:
        return False
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        # It mentions us but does not parse: most likely it is ours, with a typo. Claim it,
        # so that loading reports the error instead of silently using some other file.
        return True
    tool = data.get("tool")
    return isinstance(tool, dict) and TOOL_KEY in tool


# --------------------------------------------------------------------------- loading


def load_config(
    *,
    config_file: Path | None,
    paths: Sequence[Path],
    cwd: Path,
    overrides: Mapping[str, object],
) -> Config:
    """Build the run's ``Config`` from the config file and the command-line overrides.

    ``overrides`` is keyed by ``Config`` field name; ``None`` values mean "not given". Rule
    selection follows Ruff's layering: ``select`` on the command line starts afresh (the
    file's ``select``, ``extend-select`` and ``ignore`` are dropped), while command-line
    ``extend-select``, ``ignore`` and ``extend-exclude`` add to the file's lists.
    """
    cwd = Path(os.path.normpath(os.path.abspath(cwd)))
    path: Path | None
    if config_file is not None:
        path = Path(os.path.normpath(cwd / config_file.expanduser()))
        if not path.is_file():
            raise ConfigError(f"config file not found: {config_file}")
    else:
        path = find_config_file([cwd / p for p in paths] or [cwd])

    if path is None:
        config = Config(project_root=cwd)
    else:
        values = _read_config_file(path, cwd)
        config = Config(**values, project_root=path.parent, config_path=path)  # type: ignore[arg-type]
    return _apply_overrides(config, overrides, cwd)


def _read_config_file(path: Path, cwd: Path) -> dict[str, object]:
    """Parse and validate one file; returns keyword arguments for ``Config``."""
    shown = _display(path, cwd)
    data = _parse_toml(_read_text(path, shown), shown)
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        table = tool.get(TOOL_KEY, {}) if isinstance(tool, dict) else {}
        prefix = f"{shown}: [tool.{TOOL_KEY}] "
        if not isinstance(table, dict):
            raise ConfigError(f"{prefix}expected a table, got {_type_name(table)}")
    else:
        table = data
        prefix = f"{shown}: "
    return _parse_table(table, prefix, path.parent)


def _read_text(path: Path, shown: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        # TOML is UTF-8 by definition; tolerate the BOM some Windows editors write.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _parse_toml(text: str, shown: str) -> dict[str, object]:
    try:
        data: dict[str, object] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None
    return data


# --------------------------------------------------------------------------- validation

Parser = Callable[[object, str, Path], object]
"""``(value, label, base_dir) -> validated value``; ``label`` prefixes error messages."""


def _parse_table(table: Mapping[str, object], prefix: str, base_dir: Path) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, value in table.items():
        spec = _KEYS.get(key)
        if spec is None:
            raise ConfigError(f"{prefix}unknown key {key!r}{_did_you_mean(key, _KEYS)}")
        field_name, parser = spec
        values[field_name] = parser(value, f"{prefix}{key}", base_dir)
    return values


def _apply_overrides(config: Config, overrides: Mapping[str, object], cwd: Path) -> Config:
    parsers = {field_name: parser for field_name, parser in _KEYS.values()}
    given: dict[str, object] = {}
    for name, value in overrides.items():
        if name not in parsers:
            # A programming error in the CLI layer, not a user mistake.
            raise ValueError(f"unknown configuration override {name!r}")
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        given[name] = parsers[name](value, flag, cwd)

    changes = dict(given)
    if "select" in given:
        # A fresh selection on the command line means exactly what it says.
        changes["extend_select"] = given.get("extend_select", ())
        changes["ignore"] = given.get("ignore", ())
    else:
        extend = _tuple_of_str(given.get("extend_select", ()))
        ignore = _tuple_of_str(given.get("ignore", ()))
        # The command line is the later layer, so on an exact tie it wins: `--extend-select
        # BE701` re-enables a rule the file ignores, and `--ignore BE701` beats the file's
        # `extend-select`. (Prefix-versus-code ties are the engine's specificity rule.)
        if extend:
            changes["extend_select"] = _dedupe(config.extend_select + extend)
            changes["ignore"] = tuple(s for s in config.ignore if s not in extend)
        if ignore:
            base_extend = _tuple_of_str(changes.get("extend_select", config.extend_select))
            base_ignore = _tuple_of_str(changes.get("ignore", config.ignore))
            changes["ignore"] = _dedupe(base_ignore + ignore)
            changes["extend_select"] = tuple(s for s in base_extend if s not in ignore)
    if "extend_exclude" in given:
        changes["extend_exclude"] = config.extend_exclude + _tuple_of_str(given["extend_exclude"])
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def _tuple_of_str(value: object) -> tuple[str, ...]:
    assert isinstance(value, tuple)
    return tuple(str(v) for v in value)


def _dedupe(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _strings(value: object, label: str, base_dir: Path) -> tuple[str, ...]:
    del base_dir
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ConfigError(f"{label}: expected an array of strings, got {_type_name(value)}")
    items: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ConfigError(
                f"{label}: expected an array of strings, got an array containing "
                f"{_type_name(item)} {item!r}"
            )
        item = item.strip()
        if not item:
            raise ConfigError(f"{label}: empty string in array")
        items.append(item)
    return tuple(items)


def _patterns(value: object, label: str, base_dir: Path) -> tuple[str, ...]:
    patterns = _strings(value, label, base_dir)
    for pattern in patterns:
        try:
            GitIgnoreSpec.from_lines([pattern])
        except ValueError as exc:  # pathspec's pattern errors are ValueErrors
            raise ConfigError(f"{label}: invalid pattern {pattern!r}: {exc}") from None
    return patterns


def _level(value: object, label: str, base_dir: Path) -> str:
    del base_dir
    if isinstance(value, str) and value.strip().lower() in LEVELS:
        return value.strip().lower()
    raise ConfigError(f"{label}: expected one of {', '.join(LEVELS)}, got {value!r}")


def _bool(value: object, label: str, base_dir: Path) -> bool:
    del base_dir
    if not isinstance(value, bool):
        raise ConfigError(f"{label}: expected true or false, got {_type_name(value)} {value!r}")
    return value


def _positive_int(value: object, label: str, base_dir: Path) -> int:
    del base_dir
    # bool is an int subclass; `max-file-size = true` is a mistake, not 1 byte.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{label}: expected a positive integer, got {_type_name(value)}")
    if value <= 0:
        raise ConfigError(f"{label}: expected a positive integer, got {value}")
    return value


def _table(value: object, label: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{label}: expected a table, got {_type_name(value)}")
    return value


def _per_file_ignores(
    value: object, label: str, base_dir: Path
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if isinstance(value, tuple):  # already in Config's shape (a programmatic override)
        value = dict(value)
    table = _table(value, label)
    return tuple(
        (glob, _strings(codes, f"{label}.{_quote_key(glob)}", base_dir))
        for glob, codes in table.items()
    )


def _severity(value: object, label: str, base_dir: Path) -> tuple[tuple[str, str], ...]:
    if isinstance(value, tuple):
        value = dict(value)
    table = _table(value, label)
    return tuple(
        (_rule_key(key), _level(level, f"{label}.{_quote_key(key)}", base_dir))
        for key, level in table.items()
    )


def _rules(value: object, label: str, base_dir: Path) -> RuleOptions:
    del base_dir
    if isinstance(value, tuple):
        value = {key: dict(options) for key, options in value}
    table = _table(value, label)
    result: list[tuple[str, tuple[tuple[str, OptionValue], ...]]] = []
    for key, options in table.items():
        options_table = _table(options, f"{label}.{_quote_key(key)}")
        result.append(
            (_rule_key(key), tuple((opt, _freeze(val)) for opt, val in options_table.items()))
        )
    return tuple(result)


def _rule_key(key: str) -> str:
    # Codes are case-insensitive for users (`be701`), canonical upper case for the engine.
    return key.upper() if _CODE_RE.match(key) else key


def _sql_dialect(value: object, label: str, base_dir: Path) -> str:
    del base_dir
    if not isinstance(value, str):
        raise ConfigError(f"{label}: expected a string, got {_type_name(value)}")
    name = value.strip().lower()
    if name == DEFAULT_SQL_DIALECT:
        return name  # skip importing sqlglot just to confirm the default
    known = sql_dialect_names()
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=3)
    # A likely typo gets the suggestion alone; otherwise the whole (short) list helps more.
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(
        f"{label}: unknown SQL dialect {value!r}; {hint or 'known: ' + ', '.join(known)}"
    )


def sql_dialect_names() -> tuple[str, ...]:
    """The dialect names sqlglot accepts, sorted (its registry, minus the empty default)."""
    import sqlglot.dialects  # noqa: F401  # importing registers every dialect class
    from sqlglot.dialects.dialect import Dialect

    classes: Mapping[str, object] = Dialect.classes
    return tuple(sorted(name for name in classes if name))


def _path(value: object, label: str, base_dir: Path) -> Path:
    """A path relative to the configuration file's directory (or, on the command line, to
    the working directory); it need not exist yet."""
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{label}: expected a path (a non-empty string), got {value!r}")
    return Path(os.path.normpath(base_dir / Path(value.strip()).expanduser()))


def _rule_paths(value: object, label: str, base_dir: Path) -> tuple[Path, ...]:
    if isinstance(value, list | tuple):
        # Programmatic overrides may pass Path objects; TOML always gives strings.
        value = [str(v) if isinstance(v, Path) else v for v in value]
    paths: list[Path] = []
    for raw in _strings(value, label, base_dir):
        path = Path(os.path.normpath(base_dir / Path(raw).expanduser()))
        if not path.exists():
            raise ConfigError(f"{label}: path not found: {raw!r} (looked for {path})")
        paths.append(path)
    return tuple(paths)


_KEYS: dict[str, tuple[str, Parser]] = {
    "select": ("select", _strings),
    "ignore": ("ignore", _strings),
    "extend-select": ("extend_select", _strings),
    "exclude": ("exclude", _patterns),
    "extend-exclude": ("extend_exclude", _patterns),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "severity": ("severity", _severity),
    "sql-dialect": ("sql_dialect", _sql_dialect),
    "rule-paths": ("rule_paths", _rule_paths),
    "fail-on": ("fail_on", _level),
    "rules": ("rule_options", _rules),
    "max-file-size": ("max_file_size", _positive_int),
    "respect-gitignore": ("respect_gitignore", _bool),
    # Not in the brief's list but in Ruff's: pre-commit passes every staged file explicitly,
    # and this is how a project makes its excludes apply to those too.
    "force-exclude": ("force_exclude", _bool),
    "cache": ("cache", _bool),
    "cache-dir": ("cache_dir", _path),
    "baseline": ("baseline", _path),
}
"""TOML key -> (Config field, parser). Keys are kebab-case, like Ruff's."""

# --------------------------------------------------------------------------- helpers


def _freeze(value: object) -> OptionValue:
    if isinstance(value, dict):
        return FrozenTable((str(k), _freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: OptionValue) -> object:
    if isinstance(value, FrozenTable):
        return {k: _thaw(v) for k, v in value}
    if isinstance(value, tuple):
        return tuple(_thaw(v) for v in value)
    return value


def _type_name(value: object) -> str:
    # Name TOML's types, which is what the user wrote, not Python's.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "table"
    return type(value).__name__


def _quote_key(key: str) -> str:
    return key if _BARE_KEY_RE.match(key) else f'"{key}"'


def _did_you_mean(key: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(key.replace("_", "-"), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()
