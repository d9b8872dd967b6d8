"""Configuration: finding the file, validating every key, and layering CLI overrides."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from be_lint.config import (
    DEFAULT_EXCLUDE,
    Config,
    ConfigError,
    find_config_file,
    load_config,
    sql_dialect_names,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, overrides: dict[str, object] | None = None, **kwargs: object) -> Config:
    """Load the configuration seen from ``tmp_path`` (no explicit file unless given)."""
    config_file = kwargs.get("config_file")
    assert config_file is None or isinstance(config_file, Path)
    return load_config(config_file=config_file, paths=[], cwd=tmp_path, overrides=overrides or {})


def pyproject(tmp_path: Path, body: str) -> Path:
    return write(tmp_path / "pyproject.toml", "[tool.be-lint]\n" + textwrap.dedent(body))


def error_of(tmp_path: Path, body: str) -> str:
    pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- defaults


def test_defaults_without_any_file(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config == Config(project_root=tmp_path)
    assert config.select is None
    assert config.exclude == DEFAULT_EXCLUDE
    assert config.sql_dialect == "postgres"
    assert config.fail_on == "warning"
    assert config.max_file_size == 2_000_000
    assert config.respect_gitignore is True
    assert config.config_path is None
    hash(config)  # the cache keys on it


def test_every_key_parsed(tmp_path: Path) -> None:
    (tmp_path / "packs" / "mine").mkdir(parents=True)
    pyproject(
        tmp_path,
        """
        select = ["BE1", "request-without-timeout"]
        ignore = ["BE101"]
        extend-select = ["BE9"]
        exclude = ["legacy"]
        extend-exclude = ["tests/fixtures"]
        sql-dialect = "MySQL"
        rule-paths = ["packs/mine"]
        fail-on = "error"
        max-file-size = 1000
        respect-gitignore = false
        force-exclude = true

        [tool.be-lint.per-file-ignores]
        "tests/*" = ["BE5", "BE101"]
        "migrations/**" = []

        [tool.be-lint.severity]
        be701 = "error"
        sql-injection = "Info"

        [tool.be-lint.rules.BE701]
        default-timeout = 5
        hosts = ["a", "b"]
        limits = { connect = 1, read = 2 }
        """,
    )
    config = load(tmp_path)
    assert config.select == ("BE1", "request-without-timeout")
    assert config.ignore == ("BE101",)
    assert config.extend_select == ("BE9",)
    assert config.exclude == ("legacy",)
    assert config.extend_exclude == ("tests/fixtures",)
    assert config.all_excludes == ("legacy", "tests/fixtures")
    assert config.sql_dialect == "mysql"
    assert config.rule_paths == (tmp_path / "packs" / "mine",)
    assert config.fail_on == "error"
    assert config.max_file_size == 1000
    assert config.respect_gitignore is False
    assert config.force_exclude is True
    assert config.per_file_ignores == (("tests/*", ("BE5", "BE101")), ("migrations/**", ()))
    assert config.severity == (("BE701", "error"), ("sql-injection", "info"))
    assert config.project_root == tmp_path
    assert config.config_path == tmp_path / "pyproject.toml"
    assert config.options_for("BE701", "request-without-timeout") == {
        "default-timeout": 5,
        "hosts": ("a", "b"),
        "limits": {"connect": 1, "read": 2},
    }
    hash(config)


def test_rule_options_by_code_and_name_merge_in_file_order(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        """
        [tool.be-lint.rules.request-without-timeout]
        a = 1
        b = 1
        [tool.be-lint.rules.be701]
        b = 2
        [tool.be-lint.rules.BE702]
        c = 3
        """,
    )
    config = load(tmp_path)
    assert config.options_for("BE701", "request-without-timeout") == {"a": 1, "b": 2}
    assert config.options_for("BE999", "nothing") == {}


def test_empty_tool_table_is_fine(tmp_path: Path) -> None:
    pyproject(tmp_path, "")
    assert load(tmp_path).config_path == tmp_path / "pyproject.toml"


# --------------------------------------------------------------------------- bad values


def test_unknown_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'selct = ["BE1"]\n')
    assert message.startswith("pyproject.toml: [tool.be-lint] unknown key 'selct'")
    assert "did you mean 'select'?" in message


def test_snake_case_key_suggests_kebab(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'extend_select = ["BE1"]\n')
    assert "unknown key 'extend_select' (did you mean 'extend-select'?)" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('select = "BE1"\n', "[tool.be-lint] select: expected an array of strings, got string"),
        ("ignore = [1]\n", "ignore: expected an array of strings, got an array containing integer"),
        ('extend-select = [""]\n', "extend-select: empty string in array"),
        ('exclude = {a = "b"}\n', "exclude: expected an array of strings, got table"),
        ('extend-exclude = ["!"]\n', "extend-exclude: invalid pattern '!'"),
        ("respect-gitignore = 1\n", "respect-gitignore: expected true or false, got integer 1"),
        ("max-file-size = 0\n", "max-file-size: expected a positive integer, got 0"),
        ("max-file-size = true\n", "max-file-size: expected a positive integer, got boolean"),
        ('max-file-size = "1MB"\n', "max-file-size: expected a positive integer, got string"),
        (
            'fail-on = "fatal"\n',
            "[tool.be-lint] fail-on: expected one of error, warning, info, got 'fatal'",
        ),
        ("sql-dialect = 5\n", "sql-dialect: expected a string, got integer"),
        ('per-file-ignores = ["x"]\n', "per-file-ignores: expected a table, got array"),
        (
            '[tool.be-lint.per-file-ignores]\n"tests/*" = "BE5"\n',
            'per-file-ignores."tests/*": expected an array of strings, got string',
        ),
        (
            '[tool.be-lint.severity]\nBE701 = "fatal"\n',
            "severity.BE701: expected one of error, warning, info, got 'fatal'",
        ),
        ("rules = 3\n", "rules: expected a table, got integer"),
        ("[tool.be-lint.rules]\nBE701 = 5\n", "rules.BE701: expected a table, got integer"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, body: str, expected: str) -> None:
    message = error_of(tmp_path, body)
    assert message.startswith("pyproject.toml: ")
    assert expected in message


def test_bad_sql_dialect_suggests_and_lists(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'sql-dialect = "postgresql"\n')
    assert "sql-dialect: unknown SQL dialect 'postgresql'" in message
    assert message.endswith("did you mean 'postgres'?")


def test_bad_sql_dialect_without_close_match_lists_all(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'sql-dialect = "zzzz"\n')
    assert "sql-dialect: unknown SQL dialect 'zzzz'; known: athena, bigquery," in message
    assert "postgres" in message and "sqlite" in message


def test_sql_dialect_names_come_from_sqlglot() -> None:
    names = sql_dialect_names()
    assert {"postgres", "mysql", "sqlite", "bigquery", "tsql"} <= set(names)
    assert "" not in names
    assert list(names) == sorted(names)


def test_toml_syntax_error_is_one_line_with_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.be-lint]\nselect = ["BE1"\nignore = []\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert message.startswith("pyproject.toml: invalid TOML: ")
    assert "line" in message
    assert "\n" not in message


def test_tool_be_lint_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool]\nbe-lint = "yes"\n')
    with pytest.raises(ConfigError, match=r"\[tool\.be-lint\] expected a table, got string"):
        load(tmp_path)


def test_missing_rule_path(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'rule-paths = ["nope"]\n')
    assert "rule-paths: path not found: 'nope'" in message
    assert str(tmp_path / "nope") in message


def test_rule_paths_relative_to_config_file_not_cwd(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "extra.py").write_text("", encoding="utf-8")
    pyproject(tmp_path, 'rule-paths = ["packs/extra.py", "packs"]\n')
    sub = tmp_path / "src" / "app"
    sub.mkdir(parents=True)
    config = load_config(config_file=None, paths=[], cwd=sub, overrides={})
    assert config.rule_paths == (tmp_path / "packs" / "extra.py", tmp_path / "packs")
    assert config.project_root == tmp_path


def test_invalid_utf8_config(tmp_path: Path) -> None:
    (tmp_path / "be-lint.toml").write_bytes(b'select = ["\xff"]\n')
    with pytest.raises(ConfigError, match=r"^be-lint\.toml: not valid UTF-8"):
        load(tmp_path)


# --------------------------------------------------------------------------- which file


def test_be_lint_toml_keys_at_top_level(tmp_path: Path) -> None:
    write(tmp_path / "be-lint.toml", 'select = ["BE7"]\n')
    config = load(tmp_path)
    assert config.select == ("BE7",)
    assert config.config_path == tmp_path / "be-lint.toml"


def test_be_lint_toml_unknown_key_message(tmp_path: Path) -> None:
    write(tmp_path / "be-lint.toml", "[tool.be-lint]\n")
    with pytest.raises(ConfigError, match=r"^be-lint\.toml: unknown key 'tool'$"):
        load(tmp_path)


def test_dotted_be_lint_toml(tmp_path: Path) -> None:
    write(tmp_path / ".be-lint.toml", 'fail-on = "info"\n')
    assert load(tmp_path).fail_on == "info"


def test_dedicated_file_wins_over_pyproject_in_same_directory(tmp_path: Path) -> None:
    pyproject(tmp_path, 'fail-on = "error"\n')
    write(tmp_path / "be-lint.toml", 'fail-on = "info"\n')
    assert find_config_file([tmp_path]) == tmp_path / "be-lint.toml"


def test_walks_up_past_pyproject_without_tool_table(tmp_path: Path) -> None:
    root = pyproject(tmp_path, 'fail-on = "error"\n')
    pkg = tmp_path / "packages" / "one"
    write(pkg / "pyproject.toml", '[project]\nname = "one"\n[tool.ruff]\nline-length = 99\n')
    (pkg / "src").mkdir()
    assert find_config_file([pkg / "src"]) == root
    config = load_config(
        config_file=None, paths=[Path("packages/one/src")], cwd=tmp_path, overrides={}
    )
    assert config.fail_on == "error"
    assert config.project_root == tmp_path


def test_walk_stops_at_nearest_pyproject_with_table(tmp_path: Path) -> None:
    pyproject(tmp_path, 'fail-on = "error"\n')
    inner = pyproject(tmp_path / "svc", 'fail-on = "info"\n')
    assert find_config_file([tmp_path / "svc" / "app.py"]) == inner


def test_walk_starts_from_first_path_then_cwd(tmp_path: Path) -> None:
    a = pyproject(tmp_path / "a", "")
    b = pyproject(tmp_path / "b", "")
    config = load_config(
        config_file=None, paths=[Path("b/x.py"), Path("a")], cwd=tmp_path, overrides={}
    )
    assert config.config_path == b
    assert find_config_file([tmp_path / "a"]) == a


def test_unrelated_broken_pyproject_above_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "this is [ not toml\n")
    (tmp_path / "proj").mkdir()
    assert find_config_file([tmp_path / "proj"]) is None


def test_broken_pyproject_mentioning_us_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.be-lint\nselect = []\n")
    assert find_config_file([tmp_path]) == path
    with pytest.raises(ConfigError, match=r"^pyproject\.toml: invalid TOML: "):
        load(tmp_path)


def test_no_config_anywhere(tmp_path: Path) -> None:
    # tmp_path's ancestors are the system's; a pyproject.toml with our table there would be
    # very surprising, so treat "nothing found" as the expected answer.
    assert find_config_file([tmp_path / "x.py"]) is None


def test_explicit_config_file(tmp_path: Path) -> None:
    pyproject(tmp_path, 'fail-on = "error"\n')
    other = write(tmp_path / "ci" / "strict.toml", 'fail-on = "info"\nselect = ["BE"]\n')
    config = load(tmp_path, config_file=Path("ci/strict.toml"))
    assert config.fail_on == "info"
    assert config.config_path == other
    assert config.project_root == tmp_path / "ci"


def test_explicit_pyproject_uses_tool_table(tmp_path: Path) -> None:
    path = pyproject(tmp_path / "elsewhere", 'select = ["BE5"]\n')
    assert load(tmp_path, config_file=path).select == ("BE5",)


def test_explicit_config_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^config file not found: nope\.toml$"):
        load(tmp_path, config_file=Path("nope.toml"))


# --------------------------------------------------------------------------- overrides


def test_overrides_replace_fields(tmp_path: Path) -> None:
    pyproject(tmp_path, 'fail-on = "error"\nsql-dialect = "mysql"\n')
    config = load(
        tmp_path,
        {
            "fail_on": "info",
            "sql_dialect": "sqlite",
            "force_exclude": True,
            "max_file_size": 10,
            "respect_gitignore": None,  # not given
        },
    )
    assert config.fail_on == "info"
    assert config.sql_dialect == "sqlite"
    assert config.force_exclude is True
    assert config.max_file_size == 10
    assert config.respect_gitignore is True


def test_override_none_means_not_given(tmp_path: Path) -> None:
    pyproject(tmp_path, 'select = ["BE1"]\n')
    assert load(tmp_path, {"select": None, "ignore": None}).select == ("BE1",)


def test_cli_select_starts_afresh(tmp_path: Path) -> None:
    pyproject(tmp_path, 'select = ["BE1"]\nextend-select = ["BE9"]\nignore = ["BE7"]\n')
    config = load(tmp_path, {"select": ("BE701",)})
    assert config.select == ("BE701",)
    assert config.extend_select == ()
    assert config.ignore == ()


def test_cli_extend_select_and_ignore_add_to_file(tmp_path: Path) -> None:
    pyproject(tmp_path, 'extend-select = ["BE9", "BE8"]\nignore = ["BE7", "BE701"]\n')
    config = load(tmp_path, {"extend_select": ("BE701",), "ignore": ("BE8", "BE102")})
    # The command line wins exact ties: BE701 is no longer ignored, BE8 no longer selected.
    assert config.extend_select == ("BE9", "BE701")
    assert config.ignore == ("BE7", "BE8", "BE102")


def test_cli_extend_exclude_adds_and_exclude_replaces(tmp_path: Path) -> None:
    pyproject(tmp_path, 'extend-exclude = ["a"]\n')
    config = load(tmp_path, {"extend_exclude": ("b",), "exclude": ("c",)})
    assert config.extend_exclude == ("a", "b")
    assert config.exclude == ("c",)


def test_cli_rule_paths_relative_to_cwd(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    config = load(tmp_path, {"rule_paths": (Path("packs"),)})
    assert config.rule_paths == (tmp_path / "packs",)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"fail_on": "fatal"}, "--fail-on: expected one of error, warning, info, got 'fatal'"),
        ({"sql_dialect": "nosql"}, "--sql-dialect: unknown SQL dialect 'nosql'"),
        ({"select": "BE1"}, "--select: expected an array of strings, got string"),
        ({"rule_paths": ("missing",)}, "--rule-paths: path not found: 'missing'"),
    ],
)
def test_bad_overrides(tmp_path: Path, overrides: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, overrides)
    assert str(info.value).startswith(expected)


def test_unknown_override_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown configuration override 'colour'"):
        load(tmp_path, {"colour": True})
    with pytest.raises(ValueError, match="project_root"):
        load(tmp_path, {"project_root": tmp_path})


def test_config_error_is_always_one_line() -> None:
    assert str(ConfigError("a\nb")) == "a b"
