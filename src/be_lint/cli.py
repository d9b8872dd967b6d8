"""The command line: flags in, API calls, exit code out. No linting logic lives here."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from be_lint import __version__, baseline
from be_lint.cache import Cache, cache_directory, cached_index, open_cache
from be_lint.config import Config, ConfigError, load_config
from be_lint.discover import PathError, discover, display_path
from be_lint.engine import Checker, SelectionError, Settings, package_of, select_rules
from be_lint.fixing import FixRun, fix_files, fix_text
from be_lint.gitdiff import ChangedLines, GitError, changed_lines
from be_lint.index import index_paths
from be_lint.loader import RuleFileError, all_rules
from be_lint.outputs import OutputError, plan_outputs
from be_lint.outputs import render as render_output
from be_lint.progress import Progress
from be_lint.progress import wanted as progress_wanted
from be_lint.reporters import REPORTERS, Report
from be_lint.routes_cmd import routes_command
from be_lint.rule import Finding, FixSafety, OptionsError, Rule, Severity
from be_lint.runner import Job, default_jobs, run
from be_lint.source import SourceText, decode_source
from be_lint.suppressions_cmd import suppressions_command

if TYPE_CHECKING:
    from be_lint.detect import ScanMemo

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
_LEVELS = ("error", "warning", "info")


def _fail(message: str) -> NoReturn:
    """A usage or configuration problem: one line on stderr, exit 2, never a traceback."""
    click.echo(f"be-lint: error: {' '.join(message.split())}", err=True)
    sys.exit(EXIT_USAGE)


def _split(values: Sequence[str]) -> tuple[str, ...] | None:
    """``--select BE1,BE701 --select BE2`` -> ("BE1", "BE701", "BE2"); None when not given."""
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


class _DefaultCommandGroup(click.Group):
    """``be-lint PATH`` means ``be-lint check PATH``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultCommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="be-lint")
def main() -> None:
    """be-lint: catch in review what a senior backend engineer would catch.

    Run `be-lint PATH ...` (same as `be-lint check PATH ...`).
    """


def _load_rules(rule_paths: Sequence[Path]) -> list[type[Rule]]:
    try:
        return all_rules(rule_paths)
    except RuleFileError as error:
        _fail(str(error))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes (BE1) or names.")
@click.option("--extend-select", multiple=True, help="Rules to run in addition to the selection.")
@click.option("--ignore", multiple=True, help="Rules not to run.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(REPORTERS)),
    help="Report format [text; under GitHub Actions text plus github annotations].",
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--output-format",
    "output_specs",
    multiple=True,
    metavar="FMT[:FILE]",
    help="A report format, to FILE or stdout; repeat for several (sarif:out.sarif).",
)
@click.option(
    "--ignore-suppressions",
    is_flag=True,
    help="Audit: report every finding as if no suppression comment existed.",
)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="A TOML config.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes [CPU count].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fail-on", type=click.Choice(_LEVELS), help="Lowest severity that fails the run.")
@click.option("--stdin-filename", help="Read source from stdin and report it as this path.")
@click.option("--statistics", is_flag=True, help="Count findings per rule (text and json).")
@click.option("-q", "--quiet", is_flag=True, help="Only findings, no summary.")
@click.option("-v", "--verbose", is_flag=True, help="Print frameworks found, progress, timings.")
@click.option("--sql-dialect", help="sqlglot dialect of embedded SQL [postgres].")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to paths named explicitly.")
@click.option("--no-respect-gitignore", is_flag=True, help="Lint files that .gitignore ignores.")
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what is left.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: unsafe fixes too.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; change nothing.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path),
    help="Report only findings not recorded in this baseline file (`be-lint baseline`).",
)
@click.option("--update-baseline", is_flag=True, help="Drop baseline entries that no longer occur.")
@click.option(
    "--ratchet", is_flag=True, help="Fail only where a file's count for a rule grew (baseline)."
)
@click.option("--changed-since", metavar="REF", help="Report only lines changed since git REF.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--write-baseline", type=click.Path(path_type=Path), hidden=True)
def check(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str | None,
    output: Path | None,
    output_specs: tuple[str, ...],
    ignore_suppressions: bool,
    config_file: Path | None,
    jobs: int | None,
    exit_zero: bool,
    fail_on: str | None,
    stdin_filename: str | None,
    statistics: bool,
    quiet: bool,
    verbose: bool,
    sql_dialect: str | None,
    force_exclude: bool,
    no_respect_gitignore: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    baseline_file: Path | None = None,
    update_baseline: bool = False,
    ratchet: bool = False,
    changed_since: str | None = None,
    no_cache: bool = False,
    write_baseline: Path | None = None,
) -> None:
    """Lint PATHS (default: the current directory)."""
    started = time.perf_counter()
    cwd = Path.cwd()
    from_stdin = stdin_filename is not None or paths == (Path("-"),)
    if from_stdin and len(paths) > 1:
        _fail("'-' (stdin) cannot be combined with other paths")
    if unsafe_fixes and not (fix or diff):
        _fail("--unsafe-fixes only applies together with --fix or --diff")
    changed = None
    if changed_since is not None:
        # git runs in the repository of the first path (the working directory's otherwise).
        first = cwd / paths[0] if paths and not from_stdin else cwd
        changed = _changed_lines(changed_since, first if first.is_dir() else first.parent)
    try:
        outputs = plan_outputs(output_specs, output_format, output)
    except OutputError as error:
        _fail(str(error))
    overrides: dict[str, object] = {
        "select": _split(select),
        "extend_select": _split(extend_select),
        "ignore": _split(ignore),
        "fail_on": fail_on,
        "sql_dialect": sql_dialect,
        "force_exclude": True if force_exclude else None,
        "respect_gitignore": False if no_respect_gitignore else None,
        "cache": False if no_cache else None,
        "baseline": baseline_file,
    }
    search = [Path(stdin_filename).parent] if from_stdin and stdin_filename else list(paths)
    try:
        config = load_config(config_file=config_file, paths=search, cwd=cwd, overrides=overrides)
    except ConfigError as error:
        _fail(str(error))
    rules = _load_rules(config.rule_paths)
    try:
        selected = select_rules(
            rules,
            select=config.select,
            extend_select=config.extend_select,
            ignore=config.ignore,
        )
    except SelectionError as error:
        _fail(f"rule selection: {error}")
    try:
        settings = settings_for(
            config, rules, selected, cwd, ignore_suppressions=ignore_suppressions
        )
    except ValueError as error:
        _fail(str(error))
    try:
        checker = Checker(settings, rules)
    except OptionsError as error:
        _fail(str(error))

    findings: list[Finding]
    if from_stdin:
        display = stdin_filename or "-"
        data = sys.stdin.buffer.read()
        package = package_of(cwd / display) if stdin_filename else None
        _gate_frameworks(
            checker,
            selected,
            verbose,
            [],
            [Path(display).parent if stdin_filename else cwd],
            texts=[(data.decode("utf-8", "replace"), display)],
            cwd=cwd,
        )
        if fix or diff:
            _fix_stdin(checker, data, display, package, unsafe=unsafe_fixes, diff=diff)
        findings = checker.check_bytes(data, display, package)
        files_checked = 1
    else:
        try:
            found = discover(list(paths) or [Path(".")], config, cwd)
        except PathError as error:
            _fail(str(error))
        findings = []
        for problem_path, message in found.problems:
            findings += checker.engine_finding("BE006", display_path(problem_path, cwd), message)
        work = [Job(path, display_path(path, cwd)) for path in found.files]
        workers = jobs or default_jobs()
        # Every discovered file counts for detection, also when --changed-since narrows the
        # files that are checked: the project's imports decide which rules apply. The cache
        # keeps the scan's outcome, and its results are keyed by the frameworks in use.
        cache = None if (fix or diff) else _open_cache(config, settings)
        _gate_frameworks(
            checker,
            selected,
            verbose,
            [(job.path, job.display) for job in work],
            list(paths) or [Path(".")],
            cwd=cwd,
            memo=cache,
        )
        if cache is not None:
            cache.rekey(checker.settings)
            files = [(job.path, job.display) for job in work]
            project = cached_index(cache, files, jobs=workers, limit=config.max_file_size)
        else:
            project = index_paths(found.files, cwd, jobs=workers, limit=config.max_file_size)
        checker.use_project(project)
        if changed is not None:
            # Files without a changed line cannot have a finding to report.
            findings = changed.keep(findings, cwd)
            work = [job for job in work if changed.touches(job.path)]
        if verbose:
            click.echo(
                f"be-lint: {len(work)} files, {len(checker.rules)} rules, {workers} jobs",
                err=True,
            )
        with Progress(len(work), enabled=progress_wanted(sys.stderr, quiet=quiet)) as bar:
            findings += run(
                checker,
                work,
                workers=workers,
                rule_paths=config.rule_paths,
                progress=bar.advance,
                cache=cache,
            )
        if cache is not None:
            cache.finish()
        findings.sort(key=lambda f: f.sort_key)
        files_checked = len(work)
        if fix or diff:
            packages: dict[Path, str | None] = {}
            fixed = fix_files(
                checker,
                [(job.path, job.display, package_of(job.path, packages)) for job in work],
                findings,
                unsafe=unsafe_fixes,
                write=not diff,
            )
            if diff:
                _print_diff(fixed, findings, unsafe_fixes)
            findings = fixed.findings
            _report_fixes(fixed, findings, unsafe_fixes)

    if write_baseline is not None:
        _write_baseline(write_baseline, findings, cwd)
    findings, baseline_counts = _filter_findings(
        findings,
        config=config,
        cwd=cwd,
        changed=changed,
        covered=[display] if from_stdin else [job.display for job in work],
        update=update_baseline,
        ratchet=ratchet,
        summary=not quiet,
    )
    report = Report(
        findings=tuple(findings),
        rules=tuple(r for r in selected if r in checker.rules),
        files_checked=files_checked,
        statistics=statistics,
        baseline=baseline_counts,
    )
    color = _use_color()
    for destination in outputs:
        rendered = render_output(report, destination, color=color)
        if quiet and destination.format == "text":
            rendered = _strip_summary(rendered, findings)
        _write(rendered, destination.path)
    if verbose:
        click.echo(f"be-lint: done in {time.perf_counter() - started:.2f}s", err=True)
    threshold = Severity(config.fail_on).rank
    failed = any(f.severity.rank >= threshold for f in findings)
    sys.exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)


def settings_for(
    config: Config,
    rules: Sequence[type[Rule]],
    selected: Sequence[type[Rule]],
    cwd: Path,
    *,
    ignore_suppressions: bool = False,
) -> Settings:
    """The engine settings of a run: the configuration, the selected rules and their options.

    Raises ValueError when the configuration sets options of a rule that does not exist.
    """
    known = {r.meta.code for r in rules} | {r.meta.name for r in rules}
    for key, _options in config.rule_options:
        if key not in known and key.upper() not in known:
            raise ValueError(f"[tool.be-lint.rules.{key}]: no rule has this code or name")
    return Settings(
        dialect=config.sql_dialect,
        max_file_size=config.max_file_size,
        selected=tuple(r.meta.code for r in selected),
        options=tuple(
            (r.meta.code, tuple(sorted(config.options_for(r.meta.code, r.meta.name).items())))
            for r in selected
        ),
        severity=config.severity,
        per_file_ignores=config.per_file_ignores,
        project_root=str(config.project_root),
        cwd=str(cwd),
        known=frozenset(known),
        ignore_suppressions=ignore_suppressions,
    )


def _gate_frameworks(
    checker: Checker,
    selected: Sequence[type[Rule]],
    verbose: bool,
    files: Sequence[tuple[Path, str]],
    roots: Sequence[Path],
    *,
    texts: Sequence[tuple[str, str]] = (),
    cwd: Path,
    memo: ScanMemo | None = None,
) -> None:
    """Skip rules for frameworks the project does not use; ``-v`` says what was detected.

    Detection reads every file once, so it is skipped when no selected rule depends on a
    framework (unless ``-v`` asks to see it).
    """
    if not verbose and not any(r.meta.frameworks for r in selected):
        return
    from be_lint.detect import describe, detect

    wanted = None if verbose else {name for r in selected for name in r.meta.frameworks}
    detection = detect(files, roots, texts=texts, cwd=cwd, wanted=wanted, memo=memo)
    checker.use_frameworks(detection.gate())
    if verbose:
        gated = [
            (r.meta.code, r.meta.name, r.meta.frameworks)
            for r in selected
            if r not in checker.rules
        ]
        packs = Counter(Path(r.origin).parent.name for r in checker.rules if r.origin)
        for line in describe(detection, gated, packs):
            click.echo(line, err=True)


def _fix_stdin(
    checker: Checker, data: bytes, display: str, package: str | None, *, unsafe: bool, diff: bool
) -> NoReturn:
    """Fixing stdin prints the fixed source (or the diff) on stdout, as formatters do."""
    source = decode_source(data, Path(display).suffix)
    if not isinstance(source, SourceText):
        _fail(f"{display}: {source.message}")
    result = fix_text(checker, source.text, display, package, unsafe=unsafe)
    sys.stdout.write(result.diff() if diff else result.fixed)
    for finding in result.rejected:
        click.echo(_rejected(finding), err=True)
    if diff:
        sys.exit(EXIT_FINDINGS if result.changed else EXIT_OK)
    sys.exit(EXIT_FINDINGS if result.findings else EXIT_OK)


def _print_diff(fixed: FixRun, findings: Sequence[Finding], unsafe: bool) -> NoReturn:
    """``--diff``: the fixes as a unified diff; exit 1 when there is something to change."""
    for result in fixed.changed:
        sys.stdout.write(result.diff())
    _fix_summary(fixed, "Would fix", "No fixes to apply.")
    _hint_unsafe(findings, unsafe)
    sys.exit(EXIT_FINDINGS if fixed.changed else EXIT_OK)


def _report_fixes(fixed: FixRun, remaining: Sequence[Finding], unsafe: bool) -> None:
    _fix_summary(fixed, "Fixed", None)
    _hint_unsafe(remaining, unsafe)


def _fix_summary(fixed: FixRun, verb: str, when_none: str | None) -> None:
    """Rejected fixes, then "<verb> N findings in M files." on stderr."""
    for result in fixed.files:
        for finding in result.rejected:
            click.echo(_rejected(finding), err=True)
    count = fixed.applied
    if count:
        files = len(fixed.changed)
        click.echo(
            f"{verb} {count} finding{'s' if count != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}.",
            err=True,
        )
    elif when_none is not None:
        click.echo(when_none, err=True)


def _hint_unsafe(findings: Sequence[Finding], unsafe: bool) -> None:
    if unsafe:
        return
    hidden = sum(1 for f in findings if f.fix is not None and f.fix.safety is FixSafety.UNSAFE)
    if hidden:
        click.echo(
            f"{hidden} more fix{'es' if hidden != 1 else ''} available with --unsafe-fixes.",
            err=True,
        )


def _rejected(finding: Finding) -> str:
    return (
        f"be-lint: the fix of {finding.code} at {finding.path}:{finding.line}:{finding.column} "
        "produced code that does not parse; it was not applied"
    )


def _use_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _strip_summary(rendered: str, findings: Sequence[Finding]) -> str:
    lines = rendered.rstrip("\n").split("\n")
    if lines and (lines[-1].startswith("Found ") or lines[-1].startswith("No findings")):
        lines = lines[:-1]
    text = "\n".join(lines).rstrip("\n")
    return text + "\n" if text else ""


def _write(rendered: str, output: Path | None) -> None:
    if output is None:
        click.echo(rendered, nl=False)
        return
    try:
        output.write_text(rendered, encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {output}: {error.strerror or error}")


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--config", "config_file", type=click.Path(path_type=Path))
def list_rules(output_format: str, config_file: Path | None) -> None:
    """List every rule: code, name, family, severity, fixable, default."""
    rules = _rules_for_listing(config_file)
    if output_format == "json":
        rows: list[dict[str, Any]] = [
            {
                "code": r.meta.code,
                "name": r.meta.name,
                "family": r.meta.family,
                "severity": r.meta.severity.value,
                "confidence": r.meta.confidence.value,
                "fixable": r.has_fix(),
                "default": r.meta.enabled_by_default,
                "frameworks": list(r.meta.frameworks),
                "summary": r.meta.summary,
            }
            for r in rules
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    header = ("CODE", "NAME", "FAMILY", "SEVERITY", "FIX", "DEFAULT", "SUMMARY")
    table = [header] + [
        (
            r.meta.code,
            r.meta.name,
            r.meta.family,
            r.meta.severity.value,
            "yes" if r.has_fix() else "",
            "on" if r.meta.enabled_by_default else "opt-in",
            r.meta.summary,
        )
        for r in rules
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def _rules_for_listing(config_file: Path | None) -> list[type[Rule]]:
    try:
        config = load_config(config_file=config_file, paths=[], cwd=Path.cwd(), overrides={})
    except ConfigError as error:
        _fail(str(error))
    return _load_rules(config.rule_paths)


@main.command()
@click.argument("rule")
@click.option("--config", "config_file", type=click.Path(path_type=Path))
def explain(rule: str, config_file: Path | None) -> None:
    """Explain a rule: why it matters, examples, how to fix, options."""
    from be_lint.docs import render_rule_text

    wanted = rule.strip()
    for candidate in _rules_for_listing(config_file):
        if candidate.meta.code == wanted.upper() or candidate.meta.name == wanted.lower():
            click.echo(render_rule_text(candidate))
            return
    _fail(f"no rule {rule!r}; `be-lint rules` lists them")


main.add_command(routes_command)
main.add_command(suppressions_command)


# -- adoption: cache, baseline, changed lines -------------------------------------------------


def _open_cache(config: Config, settings: Settings) -> Cache | None:
    if not config.cache:
        return None
    directory = cache_directory(config.project_root, config.cache_dir)
    return open_cache(directory, settings, config.rule_paths)


def _changed_lines(ref: str, cwd: Path) -> ChangedLines:
    try:
        return changed_lines(ref, cwd)
    except GitError as error:
        _fail(str(error))


def _write_baseline(target: Path, findings: Sequence[Finding], cwd: Path) -> NoReturn:
    """``be-lint baseline``: record the findings, then stop (exit 0)."""
    location = Path(os.path.abspath(cwd / target))
    try:
        entries = baseline.entries_for(
            sorted(findings, key=lambda f: f.sort_key), cwd, location.parent
        )
        baseline.write(location, entries)
    except baseline.BaselineError as error:
        _fail(str(error))
    count = len(entries)
    click.echo(
        f"be-lint: recorded {count} finding{'s' if count != 1 else ''} in {target}", err=True
    )
    sys.exit(EXIT_OK)


def _filter_findings(
    findings: list[Finding],
    *,
    config: Config,
    cwd: Path,
    changed: ChangedLines | None,
    covered: Sequence[str] | None,
    update: bool,
    ratchet: bool,
    summary: bool,
) -> tuple[list[Finding], dict[str, int] | None]:
    """The baseline first (fingerprints count occurrences over all findings), then the
    changed-lines filter. Also returns the baseline's counts for the report."""
    counts = None
    if config.baseline is None:
        if update or ratchet:
            flag = "--update-baseline" if update else "--ratchet"
            _fail(f"{flag} needs a baseline (--baseline FILE or `baseline` in the config)")
    else:
        base = config.baseline.parent
        try:
            recorded = baseline.read(config.baseline)
        except baseline.BaselineError as error:
            _fail(str(error))
        scope = None
        if covered is not None:
            scope = [baseline.relative_path(display, cwd, base) for display in covered]
        outcome = baseline.apply(
            recorded, findings, cwd=cwd, base=base, ratchet=ratchet, covered=scope
        )
        findings = list(outcome.findings)
        counts = {
            "hidden": outcome.matched,
            "stale": len(outcome.gone),
            "grown": len(outcome.grown),
        }
        for grown in outcome.grown:
            click.echo(
                f"be-lint: ratchet: {grown.path}: {grown.code} grew from {grown.before} "
                f"to {grown.now}",
                err=True,
            )
        if update and outcome.gone:
            try:
                baseline.write(config.baseline, outcome.kept)
            except baseline.BaselineError as error:
                _fail(str(error))
            click.echo(
                f"be-lint: removed {len(outcome.gone)} stale entries from the baseline", err=True
            )
        elif summary and (outcome.matched or outcome.gone):
            stale = len(outcome.gone)
            note = (
                f"; {stale} baseline "
                f"{'entries no longer occur' if stale != 1 else 'entry no longer occurs'} "
                "(remove them with --update-baseline)"
                if stale
                else ""
            )
            click.echo(f"be-lint: {outcome.matched} baselined findings hidden{note}", err=True)
    if changed is not None:
        findings = changed.keep(findings, cwd)
    return findings, counts


@main.command("baseline")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=Path(".be-lint-baseline.json"),
    show_default=True,
    help="The baseline file to write.",
)
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes (BE1) or names.")
@click.option("--extend-select", multiple=True, help="Rules to run in addition to the selection.")
@click.option("--ignore", multiple=True, help="Rules not to run.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="A TOML config.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes [CPU count].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.pass_context
def baseline_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    output: Path,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: Path | None,
    jobs: int | None,
    no_cache: bool,
) -> None:
    """Record today's findings in a baseline file; `check --baseline FILE` then reports only
    new ones. Entries carry no line numbers, so moving code keeps them valid."""
    ctx.invoke(
        check,
        paths=paths,
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        config_file=config_file,
        jobs=jobs,
        no_cache=no_cache,
        write_baseline=output,
        quiet=True,
    )
