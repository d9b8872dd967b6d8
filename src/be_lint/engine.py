"""Checks one file: prefilter, parse once, one walk for every rule, positions, suppressions.

No I/O beyond reading the file handed in, no printing: the CLI and the runner do that.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import dataclasses
import datetime
import functools
import gc
import hashlib
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import libcst as cst
import pathspec

from be_lint import engine_rules
from be_lint.context import FileContext, PendingFinding
from be_lint.index import ProjectIndex
from be_lint.positions import Span, node_spans
from be_lint.rule import (
    Edit,
    FileKind,
    Finding,
    Fix,
    PythonRule,
    Rule,
    Severity,
    SqlRule,
    build_options,
)
from be_lint.source import SourceProblem, SourceText, decode_source, read_source
from be_lint.sql.pystrings import paren_length
from be_lint.suppress import (
    Suppression,
    apply_suppressions,
    parse_suppressions,
    suppression_problems,
)
from be_lint.walker import Dispatch, walk

#: CPython refuses more than 200 nested brackets; libcst's native parser crashes the process
#: on a few thousand, so such files are stopped before they reach it.
MAX_NESTING = 200
#: Operators chained in one expression beyond which libcst's recursion fails (measured: 1,000
#: chained attributes or ``+`` already exhaust it).
MAX_CHAIN = 800
_SNIPPET_LINES = 5
_BRACKETS = re.compile(r"[()\[\]{}]")


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to check files; plain data, so it pickles to workers."""

    dialect: str = "postgres"
    max_file_size: int = 2_000_000
    selected: tuple[str, ...] = ()
    options: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Every known rule code and name (to tell unknown codes in suppressions).
    known: frozenset[str] = frozenset()
    prefilter: bool = True
    #: ``--ignore-suppressions``: report every finding as if no suppression comment existed.
    ignore_suppressions: bool = False
    #: The day ``until=`` dates of suppressions are compared with (ISO); "" means today.
    today: str = ""
    #: Frameworks the project uses (``be_lint.detect``); rules for others are skipped.
    #: None: nothing is known, every selected rule runs.
    frameworks: tuple[str, ...] | None = None
    #: Where per-file-ignores globs are anchored, and where finding paths are relative to.
    project_root: str = ""
    cwd: str = ""
    #: Facts that cross files (``be_lint.index``); None: each file is indexed on its own.
    #: Left out of equality and hashing (``ProjectIndex.fingerprint`` identifies it).
    project: ProjectIndex | None = field(default=None, compare=False)


@dataclass
class Checker:
    """The selected rules with their validated options, ready to check files."""

    settings: Settings
    rules: Sequence[type[Rule]]
    _options: dict[str, Any] = field(default_factory=dict)
    _severity: dict[str, Severity] = field(default_factory=dict)
    #: When a list, every checked file's suppressions are appended to it (``be-lint
    #: suppressions`` reads them; in-process runs only).
    suppression_log: list[tuple[str, list[Suppression]]] | None = None
    #: Whether the rules read the project index on the last file checked (``be_lint.cache``).
    project_used: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        selected = set(self.settings.selected)
        self.rules = [
            r
            for r in self.rules
            if r.meta.code in selected and applies_to(r, self.settings.frameworks)
        ]
        raw = dict(self.settings.options)
        for rule in self.rules:
            values = dict(raw.get(rule.meta.code, ())) | dict(raw.get(rule.meta.name, ()))
            self._options[rule.meta.code] = build_options(
                rule.options_class, values, f"[tool.be-lint.rules.{rule.meta.code}]"
            )
        by_name = {r.meta.name: r.meta.code for r in self.rules}
        for key, level in self.settings.severity:
            self._severity[by_name.get(key, key)] = Severity(level)
        self._python = [
            r for r in self.rules if issubclass(r, PythonRule | SqlRule) and r.file_kinds
        ]
        self._path_gated = [r for r in self._python if _overrides(r, "skips_path")]
        self._own_prefilter = frozenset(r for r in self._python if _overrides(r, "may_match"))

    def options_for(self, rule: type[Rule]) -> Any:
        return self._options[rule.meta.code]

    def use_project(self, project: ProjectIndex) -> None:
        """Give every file the facts of the whole project (``be_lint.index.index_paths``)."""
        import dataclasses

        self.settings = dataclasses.replace(self.settings, project=project)

    def use_frameworks(self, frameworks: tuple[str, ...] | None) -> None:
        """Skip rules for frameworks the project does not use (``be_lint.detect``)."""
        self.settings = dataclasses.replace(self.settings, frameworks=frameworks)
        self.rules = [r for r in self.rules if applies_to(r, frameworks)]
        self._python = [r for r in self._python if applies_to(r, frameworks)]
        self._path_gated = [r for r in self._path_gated if applies_to(r, frameworks)]

    # -- entry points ----------------------------------------------------------------------

    def check_path(self, path: Path, display: str, package: str | None = None) -> list[Finding]:
        """Read, decode and check one file (errors become findings, never exceptions)."""
        try:
            result = read_source(path, max_bytes=self.settings.max_file_size)
            return self._check_source(result, display, _kind_of(display), package)
        except Exception as error:  # last line of defence: one file must not stop the run
            message = f"be-lint failed on this file: {type(error).__name__}: {error}"
            return self.engine_finding("BE005", display, message.splitlines()[0])

    def check_bytes(self, data: bytes, display: str, package: str | None = None) -> list[Finding]:
        result = decode_source(data, PurePosixPath(display).suffix)
        if isinstance(result, SourceText) and len(data) > self.settings.max_file_size:
            result = SourceProblem("too-large", _too_large(len(data), self.settings.max_file_size))
        return self._check_source(result, display, _kind_of(display), package)

    def engine_finding(
        self, code: str, display: str, message: str, line: int = 1, column: int = 1
    ) -> list[Finding]:
        """A BE0xx finding for a file that could not be checked, if that rule is selected."""
        if code not in self.settings.selected:
            return []
        return self._finish([self._engine(code, display, message, line, column)])

    def _check_source(
        self,
        result: SourceText | SourceProblem,
        display: str,
        kind: FileKind,
        package: str | None,
    ) -> list[Finding]:
        if isinstance(result, SourceProblem):
            code = {
                "unreadable": "BE006",
                "too-large": "BE007",
                "undecodable": "BE002",
                "binary": "BE002",
            }[result.kind]
            return self.engine_finding(code, display, result.message, result.line, result.column)
        return self.check_text(result.text, display, kind, package)

    def check_text(
        self, text: str, display: str, kind: FileKind, package: str | None = None
    ) -> list[Finding]:
        """Check decoded ``text`` as the file ``display``."""
        self.project_used = False
        rules = self._admitted(text, display, kind)
        located: list[tuple[Finding, int]] = []
        if rules:
            with _cyclic_gc_paused():
                located = self._run_rules(rules, text, display, kind, package)
        if self.settings.ignore_suppressions:
            return self._finish([finding for finding, _ in located])
        suppressions = parse_suppressions(text, sql=kind is FileKind.SQL)
        kept = apply_suppressions(located, suppressions)
        problems = suppression_problems(
            suppressions,
            is_known=self._is_known,
            is_selected=self._names_selected,
            today=datetime.date.fromisoformat(self.settings.today) if self.settings.today else None,
        )
        if self.suppression_log is not None and suppressions:
            self.suppression_log.append((display, suppressions))
        for problem in problems:
            if problem.code in self.settings.selected:
                finding = self._engine(
                    problem.code, display, problem.message, problem.line, problem.column
                )
                finding = dataclasses.replace(finding, end_column=problem.end_column)
                kept.append(_with_snippet(finding, text))
        return self._finish(kept)

    # -- the per-file pass -----------------------------------------------------------------

    def _skipped_here(self, display: str) -> frozenset[type[Rule]]:
        """The rules that report nothing at ``display`` (``Rule.skips_path``: test code,
        migrations), so the file is neither prefiltered nor parsed for them."""
        return frozenset(
            r for r in self._path_gated if r.skips_path(display, self._options[r.meta.code])
        )

    def _admitted(self, text: str, display: str, kind: FileKind) -> list[type[Rule]]:
        """The rules that may match ``text``: the prefilter, one loop over every rule (it
        runs on every file, parsed or not)."""
        if not self.settings.prefilter:
            return [r for r in self._python if kind in r.file_kinds]
        skipped = self._skipped_here(display)
        own = self._own_prefilter
        # Many rules share triggers ("log", "except", ...): search each string once per file.
        found: dict[str, bool] = {}
        admitted: list[type[Rule]] = []
        for rule in self._python:
            if kind not in rule.file_kinds or rule in skipped:
                continue
            if rule in own:
                if rule.may_match(text, kind):
                    admitted.append(rule)
                continue
            triggers = rule.triggers
            if not triggers:
                admitted.append(rule)
                continue
            for trigger in triggers:
                hit = found.get(trigger)
                if hit is None:
                    hit = found[trigger] = trigger in text
                if hit:
                    admitted.append(rule)
                    break
        return admitted

    def _run_rules(
        self,
        rules: Sequence[type[Rule]],
        text: str,
        display: str,
        kind: FileKind,
        package: str | None,
    ) -> list[tuple[Finding, int]]:
        module: cst.Module | None = None
        if kind is FileKind.PYTHON:
            problem = complexity_problem(text)
            if problem is not None:
                return [(self._engine("BE008", display, problem[2], problem[0], problem[1]), 0)]
            parsed = _parse(text)
            if isinstance(parsed, tuple):
                line, column, message = parsed
                return [(self._engine("BE001", display, message, line, column), line)]
            module = parsed
        ctx = FileContext(
            path=display,
            kind=kind,
            text=text,
            module=module,
            dialect=self.settings.dialect,
            package=package,
            project=self.settings.project,
        )
        instances = [rule(ctx, self.options_for(rule)) for rule in rules]
        crashes: list[tuple[type[Rule], BaseException]] = []
        if module is not None:
            _walk_python(ctx, module, instances, crashes)
        else:
            _check_sql_file(ctx, instances, crashes)
        located = _locate(ctx, ctx.pending)
        self.project_used = ctx.project_used
        ctx.release()
        for rule, error in crashes:
            message = (
                f"rule {rule.meta.code} ({rule.meta.name}) crashed on this file and was "
                f"skipped: {type(error).__name__}: {error}"
            )
            located.append((self._engine("BE005", display, message.splitlines()[0], 1, 1), 1))
        return [(self._adjust(f), line) for f, line in located]

    def _adjust(self, finding: Finding) -> Finding:
        override = self._severity.get(finding.code)
        return dataclasses.replace(finding, severity=override) if override is not None else finding

    def _engine(self, code: str, display: str, message: str, line: int, column: int) -> Finding:
        meta = engine_rules.BY_CODE[code].meta
        return Finding(
            code=code,
            name=meta.name,
            severity=self._severity.get(code, meta.severity),
            message=message,
            path=display,
            line=line,
            column=column,
            end_line=line,
            end_column=column + 1,
        )

    def _is_known(self, written: str) -> bool:
        upper = written.upper()
        if re.fullmatch(r"BE[0-9]{1,3}", upper):
            return any(k.startswith(upper) for k in self.settings.known if k.startswith("BE"))
        return written.lower() in self.settings.known

    def _names_selected(self, written: str) -> bool:
        upper = written.upper()
        for rule in self.rules:
            if rule.meta.code.startswith(upper) or rule.meta.name == written.lower():
                return True
        return False

    def _finish(self, found: Iterable[Finding]) -> list[Finding]:
        findings = [f for f in found if not self._ignored_for_file(f)]
        findings.sort(key=lambda f: f.sort_key)
        return with_fingerprints(findings)

    def _ignored_for_file(self, finding: Finding) -> bool:
        if not self.settings.per_file_ignores:
            return False
        path = finding.path
        if self.settings.project_root and self.settings.cwd:
            # Globs are relative to the configuration's directory, paths to the working one.
            absolute = os.path.join(self.settings.cwd, path)
            path = os.path.relpath(absolute, self.settings.project_root).replace(os.sep, "/")
        for pattern, codes in self.settings.per_file_ignores:
            if _glob_match(path, pattern) and any(
                finding.code.startswith(c.upper()) or finding.name == c for c in codes
            ):
                return True
        return False


def _overrides(rule: type[Rule], method: str) -> bool:
    """Whether ``rule`` (or a base between it and ``Rule``) redefines the classmethod."""
    return getattr(getattr(rule, method), "__func__", None) is not getattr(Rule, method).__func__


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Syntax trees hold no reference cycles; the cyclic collector would only rescan the
    hundreds of thousands of nodes a parse allocates (~12 % of the parse time measured)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _kind_of(display: str) -> FileKind:
    return FileKind.SQL if display.lower().endswith(".sql") else FileKind.PYTHON


def _too_large(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, over max-file-size ({limit:,}); skipped"


@functools.lru_cache(maxsize=256)
def _glob(pattern: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def _glob_match(path: str, pattern: str) -> bool:
    """``.gitignore`` semantics: ``*`` stays within a directory, ``**`` crosses them, a pattern
    without a slash matches at any depth, a directory pattern matches everything below it."""
    return bool(_glob(pattern).match_file(path))


# -- parsing ---------------------------------------------------------------------------------


def _parse(text: str) -> cst.Module | tuple[int, int, str]:
    try:
        with _unvalidated_nodes():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        return _syntax_error(text, error)
    except RecursionError:
        return (1, 1, "syntax error: the parser ran out of stack on this file")
    except Exception as error:  # libcst raises internal errors on some malformed input
        return _syntax_error(text, error)


@contextlib.contextmanager
def _unvalidated_nodes() -> Iterator[None]:
    """Build the parser's nodes without libcst's per-node validation.

    Every libcst node checks its fields when it is created (``CSTNode.__post_init__``), which
    is meant for trees built by hand; the parser only builds valid ones, and the checks cost
    about a tenth of the parse. Workers are single-threaded, and the hook is put back even
    when the parser raises. Should a libcst release move the hook, nothing is changed.
    """
    hook = cst.CSTNode.__dict__.get("__post_init__")
    if hook is None:
        yield
        return
    # ``tuple()`` does nothing, and as a C function called without a Python frame it costs
    # less than an empty method on the millions of nodes of a large tree.
    cst.CSTNode.__post_init__ = _NO_VALIDATION  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = hook  # type: ignore[method-assign]


_NO_VALIDATION = staticmethod(tuple)


def _syntax_error(text: str, error: Exception) -> tuple[int, int, str]:
    """Position and message of a syntax error.

    libcst's native parser names the expected tokens but often points past the mistake, so
    CPython's own parser is asked for the position and wording when it agrees the file is
    broken (it only parses the running Python's syntax, hence libcst's answer stays the
    fallback).
    """
    try:
        compile(text, "<be-lint>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as cpython:
        if cpython.lineno:
            return (cpython.lineno, max(1, cpython.offset or 1), f"syntax error: {cpython.msg}")
    except (ValueError, RecursionError, MemoryError):
        pass
    if not isinstance(error, cst.ParserSyntaxError):
        return (1, 1, f"the parser failed on this file: {type(error).__name__}: {error}")
    message = str(error.message).splitlines()[0] if error.message else "invalid syntax"
    message = message.removeprefix("parser error: ")
    return (error.raw_line, error.raw_column + 1, f"syntax error: {message}")


def complexity_problem(text: str) -> tuple[int, int, str] | None:
    """(line, column, message) when ``text`` is nested or chained deeper than is safe to parse.

    A quick scan counts brackets anywhere (strings included); only when it sees something
    suspicious does the exact, tokenizer-based check run, so normal files pay one regex pass.
    """
    # The running depth in C (every file that is parsed pays this), the peak from it.
    peak = max(itertools.accumulate(map(_DEPTH.__getitem__, _BRACKETS.findall(text))), default=0)
    long_line = len(text) > 4 * MAX_CHAIN and max(map(len, text.splitlines())) > 4 * MAX_CHAIN
    if peak <= MAX_NESTING // 2 and not long_line:
        return None
    exact = _exact_complexity(text)
    if exact is _TOKENIZER_FAILED:
        # From Python 3.12 the tokenizer itself refuses more than 200 nested brackets; trust
        # the quick count then, rather than handing the file to a parser that would crash.
        too_deep_at = _too_deep_at(text)
        if too_deep_at < 0:
            return None
        line = text.count("\n", 0, too_deep_at) + 1
        column = too_deep_at - (text.rfind("\n", 0, too_deep_at) + 1) + 1
        return (line, column, f"brackets nested more than {MAX_NESTING} deep; file skipped")
    return exact if isinstance(exact, tuple) else None


_TOKENIZER_FAILED = object()
_DEPTH = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def _too_deep_at(text: str) -> int:
    """Offset of the first bracket nested more than ``MAX_NESTING`` deep, or -1."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += _DEPTH[match.group()]
        if depth > MAX_NESTING:
            return match.start()
    return -1


def _exact_complexity(text: str) -> tuple[int, int, str] | object | None:
    import io
    import tokenize

    depth = 0
    chain: list[int] = [0]
    chain_ops = {
        ".",
        "+",
        "-",
        "*",
        "/",
        "//",
        "%",
        "@",
        "<<",
        ">>",
        "&",
        "|",
        "^",
        "**",
        "and",
        "or",
        "if",
        "else",
        "not",
    }
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            value = token.string
            if token.type == tokenize.OP and value in "([{":
                depth += 1
                chain.append(0)
                if depth > MAX_NESTING:
                    return (
                        token.start[0],
                        token.start[1] + 1,
                        f"brackets nested more than {MAX_NESTING} deep; file skipped",
                    )
            elif token.type == tokenize.OP and value in ")]}":
                depth = max(0, depth - 1)
                if len(chain) > 1:
                    chain.pop()
            elif token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or value in (",", ";"):
                chain[-1] = 0
            elif value in chain_ops and token.type in (tokenize.OP, tokenize.NAME):
                chain[-1] += 1
                if chain[-1] > MAX_CHAIN:
                    return (
                        token.start[0],
                        token.start[1] + 1,
                        f"an expression chains more than {MAX_CHAIN} operators; file skipped",
                    )
    except (tokenize.TokenError, SyntaxError, ValueError):
        return _TOKENIZER_FAILED
    return None


# -- walking ---------------------------------------------------------------------------------


def _walk_python(
    ctx: FileContext,
    module: cst.Module,
    instances: Sequence[Rule],
    crashes: list[tuple[type[Rule], BaseException]],
) -> None:
    dispatch = Dispatch()
    sql_rules = [r for r in instances if isinstance(r, SqlRule)]
    for rule in instances:
        if isinstance(rule, PythonRule):
            dispatch.add_rule(rule)

    def on_error(owner: object, error: BaseException) -> None:
        if isinstance(owner, Rule):
            crashes.append((type(owner), error))
        elif isinstance(owner, _SqlDispatcher):
            crashes.append((owner.last_rule, error))

    if sql_rules:
        dispatcher = _SqlDispatcher(ctx, sql_rules, crashes)
        dispatch.add(dispatcher, cst.Call, dispatcher.visit_call, leave=False)
    if dispatch:
        walk(module, dispatch, ctx.ancestors, on_error)


class _SqlDispatcher:
    """Gives the SQL of every known DB call to the SQL rules."""

    def __init__(
        self,
        ctx: FileContext,
        rules: list[SqlRule],
        crashes: list[tuple[type[Rule], BaseException]],
    ) -> None:
        from be_lint.sql.calls import sql_arguments

        self.ctx = ctx
        self.rules = rules
        self.crashes = crashes
        self.sql_arguments = sql_arguments
        self.last_rule: type[Rule] = type(rules[0])

    def visit_call(self, node: cst.Call) -> None:
        arguments = self.sql_arguments(node, self.ctx)
        if not arguments:
            return
        self.ctx.sql_call = node
        try:
            for expr in arguments:
                source = self.ctx.sql_source(expr)
                if source is None:
                    continue
                for statement in self.ctx.sql_statements(source):
                    _check_statement(statement, self.rules, self.crashes)
        finally:
            self.ctx.sql_call = None


def _check_statement(
    statement: Any, rules: list[SqlRule], crashes: list[tuple[type[Rule], BaseException]]
) -> None:
    for rule in list(rules):
        try:
            rule.check_statement(statement)
        except Exception as error:  # a rule bug must not stop the run
            crashes.append((type(rule), error))
            rules.remove(rule)


def _check_sql_file(
    ctx: FileContext,
    instances: Sequence[Rule],
    crashes: list[tuple[type[Rule], BaseException]],
) -> None:
    from be_lint.sql.extract import source_from_sql_file

    rules = [r for r in instances if isinstance(r, SqlRule)]
    if not rules:
        return
    source = source_from_sql_file(ctx.text)
    for statement in ctx.sql_statements(source):
        _check_statement(statement, rules, crashes)


# -- positions -------------------------------------------------------------------------------


def _locate(ctx: FileContext, pending: Sequence[PendingFinding]) -> list[tuple[Finding, int]]:
    """Turn pending reports into findings; positions are computed only now, and only once."""
    if not pending:
        return []
    lines = ctx.text.splitlines()
    positions: Mapping[cst.CSTNode, Span] = {}
    module = ctx.module
    if module is not None and any(p.node is not None for p in pending):
        wanted: list[cst.CSTNode] = []
        for item in pending:
            if item.node is not None:
                wanted.append(item.node)
            if item.statement is not None:
                wanted.append(item.statement)
                wanted.extend(getattr(item.statement, "decorators", ())[:1])
        try:
            positions = node_spans(module, wanted, ctx.text)
        except RecursionError:
            positions = {}
    line_starts = _line_starts(ctx.text) if ctx.kind is FileKind.SQL else []
    out = []
    for item in pending:
        rule = item.rule
        fix = None
        if item.node is not None and module is not None:
            where = positions.get(item.node)
            if where is None:
                start = end = (1, 1)
            else:
                start = _advance(module, item.node, where, item.node_offset)
                if item.end_node_offset is not None:
                    end = _advance(module, item.node, where, item.end_node_offset)
                elif item.node_offset:
                    end = (start[0], start[1] + 1)
                else:
                    end = (where.end_line, where.end_column + 1)
            statement_line = start[0]
            if item.statement is not None and item.statement in positions:
                statement_line = _statement_line(module, item.statement, positions)
            if item.replacement is not None:
                fix = _fix(module, item)
        else:
            start = _offset_position(line_starts, item.offset or 0)
            end = _offset_position(line_starts, item.end_offset or (item.offset or 0) + 1)
            statement_line = start[0]
        finding = Finding(
            code=rule.meta.code,
            name=rule.meta.name,
            severity=item.severity or rule.meta.severity,
            message=item.message,
            path=ctx.path,
            line=start[0],
            column=start[1],
            end_line=end[0],
            end_column=end[1],
            help=item.help,
            fix=fix,
            snippet=tuple(lines[start[0] - 1 : min(end[0], start[0] + _SNIPPET_LINES - 1)]),
        )
        out.append((finding, statement_line))
    return out


def _fix(module: cst.Module, item: PendingFinding) -> Fix | None:
    """The text edit that swaps ``item.node`` for its replacement.

    The replacement is rendered inside the whole module, because a node's code alone lacks the
    indentation of the block it sits in; the edit is the span where old and new text differ.
    """
    assert item.node is not None and item.replacement is not None
    old = module.code
    try:
        target = item.fix_node if item.fix_node is not None else item.node
        new = module.deep_replace(target, item.replacement)
    except Exception:  # a rule built an invalid node; drop the fix, keep the finding
        return None
    if not isinstance(new, cst.Module):
        return None
    new_code = new.code
    prefix = 0
    limit = min(len(old), len(new_code))
    while prefix < limit and old[prefix] == new_code[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < limit - prefix
        and old[len(old) - 1 - suffix] == new_code[len(new_code) - 1 - suffix]
    ):
        suffix += 1
    starts = _line_starts(old)
    line, column = _offset_position(starts, prefix)
    end_line, end_column = _offset_position(starts, len(old) - suffix)
    return Fix(
        edits=(
            Edit(line, column, end_line, end_column, new_code[prefix : len(new_code) - suffix]),
        ),
        safety=item.fix_safety,
        description=item.fix_description,
    )


def _statement_line(
    module: cst.Module, statement: cst.CSTNode, positions: Mapping[cst.CSTNode, Span]
) -> int:
    # A decorated definition starts at its first decorator, not at ``def``.
    decorators = getattr(statement, "decorators", ())
    first = decorators[0] if decorators else statement
    where = positions.get(first) or positions[statement]
    return where.line


def _advance(module: cst.Module, node: cst.CSTNode, where: Span, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) ``offset`` characters into ``node``'s code."""
    # ``code_for_node`` includes a node's own parentheses; its position does not.
    skip = paren_length(node, module)
    if offset <= skip:
        return (where.line, where.column + 1)
    prefix = module.code_for_node(node)[skip:offset]
    newlines = prefix.count("\n")
    if not newlines:
        return (where.line, where.column + len(prefix) + 1)
    return (where.line + newlines, len(prefix) - prefix.rfind("\n"))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer(r"\n", text))
    return starts


def _offset_position(line_starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(line_starts, offset) - 1
    return (index + 1, offset - line_starts[index] + 1)


def _with_snippet(finding: Finding, text: str) -> Finding:
    lines = text.splitlines()
    return dataclasses.replace(finding, snippet=tuple(lines[finding.line - 1 : finding.line]))


def with_fingerprints(findings: Sequence[Finding]) -> list[Finding]:
    """Fingerprints: code, path, whitespace-normalised source text and occurrence index.

    No line numbers, so moving code up or down a file keeps every fingerprint.
    """
    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for finding in findings:
        text = " ".join(" ".join(finding.snippet).split())
        key = (finding.code, finding.path, text)
        index = seen.get(key, 0)
        seen[key] = index + 1
        digest = hashlib.sha256("\0".join((*key, str(index))).encode()).hexdigest()[:20]
        out.append(dataclasses.replace(finding, fingerprint=digest))
    return out


# -- selection -------------------------------------------------------------------------------


class SelectionError(ValueError):
    """A selector names no rule."""


def select_rules(
    rules: Sequence[type[Rule]],
    *,
    select: Sequence[str] | None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> list[type[Rule]]:
    """Resolve ``select``/``extend-select``/``ignore`` (codes, prefixes, names or ``ALL``).

    Without ``select``, every rule enabled by default runs. Opt-in rules run only when named
    by code or name (or ``ALL``): a family prefix does not switch them on.
    """

    def matching(selector: str, explicit: bool) -> list[type[Rule]]:
        key = selector.strip()
        if key.upper() == "ALL":
            return list(rules)
        upper = key.upper()
        if re.fullmatch(r"BE[0-9]{0,3}", upper):
            found = [r for r in rules if r.meta.code.startswith(upper)]
            if explicit and len(upper) < 5:
                found = [r for r in found if r.meta.enabled_by_default]
        else:
            found = [r for r in rules if r.meta.name == key.lower()]
        if not found and not any(r.meta.code.startswith(upper) for r in rules):
            raise SelectionError(f"unknown rule or prefix {selector!r}")
        return found

    chosen: dict[str, type[Rule]] = {}
    if select is None:
        chosen = {r.meta.code: r for r in rules if r.meta.enabled_by_default}
    else:
        for selector in select:
            chosen.update((r.meta.code, r) for r in matching(selector, True))
    for selector in extend_select:
        chosen.update((r.meta.code, r) for r in matching(selector, True))
    for selector in ignore:
        for rule in matching(selector, False):
            chosen.pop(rule.meta.code, None)
    return sorted(chosen.values(), key=lambda r: r.meta.code)


def applies_to(rule: type[Rule], frameworks: Sequence[str] | None) -> bool:
    """Whether ``rule`` runs on a project using ``frameworks`` (None: unknown, so it does)."""
    wanted = rule.meta.frameworks
    return frameworks is None or not wanted or any(name in frameworks for name in wanted)


def package_of(path: Path, cache: dict[Path, str | None] | None = None) -> str | None:
    """The dotted package a file belongs to (for relative imports), from ``__init__.py`` files."""
    directory = path.parent
    if cache is not None and directory in cache:
        return cache[directory]
    parts: list[str] = []
    current = directory
    while (current / "__init__.py").is_file():
        parts.append(current.name)
        if current.parent == current:
            break
        current = current.parent
    package = ".".join(reversed(parts)) or None
    if cache is not None:
        cache[directory] = package
    return package
