"""``be-lint suppressions PATH...``: every suppression comment, for review.

Lists each ``# be-lint: ignore``, ``# noqa: BE…``/``S…``, ``# nosec`` and ``# nosemgrep`` comment
with its codes, reason and ``until=`` date, and whether it suppressed anything in this run (the
files are checked with the configured rules to find out). Only files that contain a
suppression marker are checked, so the command is cheap on a large tree. Output is sorted and
carries no timestamps or absolute paths.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from be_lint.suppress import Suppression, is_expired, may_have_suppressions


@dataclass(frozen=True, slots=True)
class Row:
    path: str
    line: int
    column: int
    tool: str
    codes: tuple[str, ...]
    whole_file: bool
    reason: str
    until: str | None
    expired: bool
    used: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "tool": self.tool,
            "codes": list(self.codes),
            "whole_file": self.whole_file,
            "reason": self.reason,
            "until": self.until,
            "expired": self.expired,
            "used": self.used,
        }


def rows_of(log: Sequence[tuple[str, list[Suppression]]], today: datetime.date) -> list[Row]:
    rows = [
        Row(
            path=path,
            line=s.line,
            column=s.column,
            tool=s.tool,
            # A bare ``# nosec`` / ``# nosemgrep`` is held as one code named after the tool.
            codes=tuple(code.text for code in s.codes or () if code.text != s.tool),
            whole_file=s.whole_file,
            reason=s.reason,
            until=s.until,
            expired=is_expired(s, today),
            used=s.used,
        )
        for path, suppressions in log
        for s in suppressions
    ]
    return sorted(rows, key=lambda r: (r.path, r.line, r.column))


def render_text(rows: Sequence[Row], files: int) -> str:
    lines = []
    for row in rows:
        if row.codes:
            codes = ", ".join(row.codes)
        else:
            codes = "everything" if row.tool == "be-lint" else "rules with a peer equivalent"
        kind = "file-ignore" if row.whole_file else row.tool
        parts = [f"{row.path}:{row.line}:{row.column}: {kind} [{codes}]"]
        parts.append("used" if row.used else "UNUSED")
        if row.until is not None:
            parts.append(f"until {row.until}{' (EXPIRED)' if row.expired else ''}")
        parts.append(f"reason: {row.reason}" if row.reason else "no reason given")
        lines.append("  ".join(parts))
    unused = sum(1 for r in rows if not r.used)
    expired = sum(1 for r in rows if r.expired)
    with_files = len({r.path for r in rows})
    noun = "suppression" if len(rows) == 1 else "suppressions"
    lines.append(
        f"{len(rows)} {noun} ({unused} unused, {expired} expired) in {with_files} of "
        f"{files} file{'s' if files != 1 else ''}."
    )
    return "\n".join(lines) + "\n"


def render_json(rows: Sequence[Row], files: int) -> str:
    document = {
        "suppressions": [row.as_dict() for row in rows],
        "summary": {
            "files": files,
            "suppressions": len(rows),
            "unused": sum(1 for r in rows if not r.used),
            "expired": sum(1 for r in rows if r.expired),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def _fail(message: str) -> NoReturn:
    click.echo(f"be-lint: error: {' '.join(message.split())}", err=True)
    sys.exit(2)


@click.command("suppressions")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="A TOML config.")
def suppressions_command(
    paths: tuple[Path, ...], output_format: str, config_file: Path | None
) -> None:
    """List every suppression comment with its reason, expiry and whether it is used."""
    from be_lint.config import ConfigError, load_config
    from be_lint.discover import PathError, discover, display_path
    from be_lint.engine import Checker, SelectionError, package_of, select_rules
    from be_lint.index import index_paths
    from be_lint.loader import RuleFileError, all_rules
    from be_lint.rule import OptionsError

    cwd = Path.cwd()
    try:
        config = load_config(config_file=config_file, paths=list(paths), cwd=cwd, overrides={})
        rules = all_rules(config.rule_paths)
        selected = select_rules(
            rules, select=config.select, extend_select=config.extend_select, ignore=config.ignore
        )
        found = discover(list(paths) or [Path(".")], config, cwd)
    except (ConfigError, RuleFileError, SelectionError, PathError) as error:
        _fail(str(error))
    from be_lint.cli import settings_for

    try:
        settings = settings_for(config, rules, selected, cwd)
    except ValueError as error:
        _fail(str(error))
    try:
        checker = Checker(settings, rules, suppression_log=[])
    except OptionsError as error:
        _fail(str(error))
    candidates = []
    for path in found.files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if may_have_suppressions(data.decode("utf-8", "replace")):
            candidates.append(path)
    if candidates:
        checker.use_project(index_paths(found.files, cwd, limit=config.max_file_size))
        # The same rules as `be-lint check` runs: none for frameworks the project does not use.
        wanted = {name for r in selected for name in r.meta.frameworks}
        if wanted:
            from be_lint.detect import detect

            named = [(path, display_path(path, cwd)) for path in found.files]
            roots = list(paths) or [Path(".")]
            checker.use_frameworks(detect(named, roots, cwd=cwd, wanted=wanted).gate())
    packages: dict[Path, str | None] = {}
    for path in candidates:
        checker.check_path(path, display_path(path, cwd), package_of(path, packages))
    assert checker.suppression_log is not None
    rows = rows_of(checker.suppression_log, datetime.date.today())
    files = len(found.files)
    click.echo(
        render_json(rows, files) if output_format == "json" else render_text(rows, files), nl=False
    )
