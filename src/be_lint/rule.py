"""The rule API: metadata, examples, findings and the base classes every rule subclasses.

Rules are registered when their class is created (``__init_subclass__``), so a rule module only
has to be imported by the loader. Rules never read configuration, print, or look at suppressions:
they visit a parsed file and call ``report``; the engine does the rest.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from be_lint.walker import STOP_VISITING

if TYPE_CHECKING:
    from be_lint.context import FileContext
    from be_lint.sql.model import SqlStatement


__all__ = ["STOP_VISITING"]


class Severity(str, enum.Enum):
    """How bad a finding is; also the scale of ``--fail-on``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Confidence(str, enum.Enum):
    """How sure the rule is that a match is a real problem (separate from severity)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class FixSafety(str, enum.Enum):
    """A safe fix keeps behaviour; an unsafe one may change it and needs review."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class FileKind(str, enum.Enum):
    PYTHON = "python"
    SQL = "sql"


FAMILIES: Mapping[str, str] = {
    "BE0": "engine",
    "BE1": "sql-injection",
    "BE2": "sql-quality",
    "BE3": "migrations",
    "BE4": "orm-performance",
    "BE5": "secrets-crypto",
    "BE6": "web-security",
    "BE7": "resilience",
    "BE8": "observability",
    "BE9": "api-contract",
}

_CODE_RE = re.compile(r"^BE[0-9]{3}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions with ``content``."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True, slots=True)
class Fix:
    edits: tuple[Edit, ...]
    safety: FixSafety
    description: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based; ``path`` uses ``/``."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    help: str | None = None
    fix: Fix | None = None
    fingerprint: str = ""
    #: Source lines ``line..end_line`` (at most a few), for code frames; empty if unknown.
    snippet: tuple[str, ...] = ()

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)


@dataclass(frozen=True, slots=True)
class Example:
    """Code that must (``bad``) or must not (``good``) trigger a rule.

    In bad examples every line that must carry a finding ends with ``# expect: CODE`` (``--
    expect: CODE`` in SQL). ``fixed`` is the whole text after applying the rule's fixes.
    """

    code: str
    fixed: str | None = None
    filename: str = "example.py"
    options: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class RuleMeta:
    code: str
    name: str
    summary: str
    rationale: str
    how_to_fix: str
    severity: Severity
    confidence: Confidence = Confidence.HIGH
    cwe: int | None = None
    owasp: str | None = None
    references: tuple[str, ...] = ()
    #: Opt-in rules run only when selected explicitly (by code, name or prefix).
    enabled_by_default: bool = True
    #: Frameworks the rule is about (``be_lint.detect.FRAMEWORKS`` keys); it runs only on
    #: projects using at least one of them. Empty: it applies to any project.
    frameworks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _CODE_RE.match(self.code):
            raise ValueError(f"rule code {self.code!r} is not BE + three digits")
        if not _NAME_RE.match(self.name):
            raise ValueError(f"rule name {self.name!r} is not kebab-case")

    @property
    def family(self) -> str:
        return FAMILIES.get(self.code[:3], "other")


class OptionsError(ValueError):
    """A rule option in the configuration is unknown or has the wrong type."""


@dataclass(frozen=True)
class NoOptions:
    """Rules without options use this empty options class."""


def option(default: Any, help: str) -> Any:
    """Declare one field of a rule's options dataclass, with its documentation."""
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple or frozenset for option defaults")
    return field(default=default, metadata={"help": help})


def build_options(options_cls: type[Any], raw: Mapping[str, object], where: str) -> Any:
    """Validate ``raw`` (from TOML or an example) against ``options_cls`` and instantiate it."""
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(options_cls)}
    values: dict[str, object] = {}
    for key, value in raw.items():
        f = fields.get(key) or fields.get(key.replace("_", "-"))
        if f is None:
            known = ", ".join(sorted(fields)) or "none"
            raise OptionsError(f"{where}: unknown option {key!r} (known: {known})")
        values[f.name] = _coerce(value, f, where)
    return options_cls(**values)


def _coerce(value: object, f: dataclasses.Field[Any], where: str) -> object:
    default = f.default
    label = f"{where}.{f.name.replace('_', '-')}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise OptionsError(f"{label}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionsError(f"{label}: expected a number, got {value!r}")
        return type(default)(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise OptionsError(f"{label}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple | frozenset):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise OptionsError(f"{label}: expected a list of strings, got {value!r}")
        return type(default)(value)
    return value


class Rule:
    """Base of every rule. Subclasses set ``meta``, ``bad`` and ``good``.

    A rule instance lives for one file: the engine creates it with the file's context and the
    rule's validated options, lets it visit, and collects what it reported.
    """

    meta: ClassVar[RuleMeta]
    bad: ClassVar[Sequence[Example]] = ()
    good: ClassVar[Sequence[Example]] = ()
    options_class: ClassVar[type[Any]] = NoOptions
    #: Cheap textual triggers: a file that contains none of them is never given to the rule.
    #: Empty means the rule may match any file of its kinds.
    triggers: ClassVar[tuple[str, ...]] = ()
    file_kinds: ClassVar[frozenset[FileKind]] = frozenset({FileKind.PYTHON})
    #: Bumped when a rule's behaviour changes (part of the cache key).
    version: ClassVar[int] = 1
    #: Where the rule came from (file path); set by the loader.
    origin: ClassVar[str] = ""

    registry: ClassVar[list[type[Rule]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "meta" in cls.__dict__:
            Rule.registry.append(cls)

    def __init__(self, ctx: FileContext, options: Any) -> None:
        self.ctx = ctx
        self.options = options

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        """Cheap test run before parsing: False means the rule cannot match ``text``.

        The default looks for any of ``triggers``; rules with sharper knowledge override it
        (it must never say False for a file the rule would report on).
        """
        return not cls.triggers or any(trigger in text for trigger in cls.triggers)

    @classmethod
    def skips_path(cls, path: str, options: Any) -> bool:
        """Cheap test run before reading the text: True means the rule reports nothing in the
        file ``path`` (as the engine displays it) with these options, e.g. test code that the
        rule leaves alone, so the file need not be parsed for it.

        It must agree with what the rule does when it visits such a file (say, return
        ``STOP_VISITING`` from ``visit_Module``); the default skips nothing.
        """
        return False

    @classmethod
    def has_fix(cls) -> bool:
        return any(example.fixed is not None for example in cls.bad)


class PythonRule(Rule):
    """A rule over the libcst tree. Define ``visit_<Node>``/``leave_<Node>`` methods.

    The engine walks each tree once and calls these methods on every selected rule; ``self.ctx``
    gives qualified names, ancestors and the SQL layer. A method that returns
    ``STOP_VISITING`` gets no further calls for the file (cheap for rules that decide in
    ``visit_Module`` that the file is not for them).
    """

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        help: str | None = None,
        replacement: cst.CSTNode | cst.RemovalSentinel | None = None,
        fix_safety: FixSafety = FixSafety.SAFE,
        fix_description: str = "",
        severity: Severity | None = None,
        fix_node: cst.CSTNode | None = None,
    ) -> None:
        """Report ``node``. ``replacement`` (a libcst node) becomes the finding's fix.

        The replacement takes the place of ``fix_node`` when given (a fix may need to rewrite
        more than the reported node, e.g. the call around a reported argument), else of ``node``.
        """
        self.ctx.report_node(
            self,
            node,
            message,
            help=help,
            replacement=replacement,
            fix_safety=fix_safety,
            fix_description=fix_description,
            severity=severity,
            fix_node=fix_node,
        )


class SqlRule(Rule):
    """A rule over parsed SQL statements: SQL reaching a DB call in Python, and ``.sql`` files.

    Override ``check_statement``; report with ``report_sql`` at the statement or at a sqlglot
    node inside it (the engine maps the position back to the Python or SQL source).
    """

    file_kinds = frozenset({FileKind.PYTHON, FileKind.SQL})

    def check_statement(self, stmt: SqlStatement) -> None:
        raise NotImplementedError

    def report_sql(
        self,
        stmt: SqlStatement,
        message: str,
        *,
        node: object | None = None,
        help: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.ctx.report_sql(self, stmt, message, node=node, help=help, severity=severity)
