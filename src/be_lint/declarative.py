"""Declarative rules: common rule shapes described in YAML instead of Python.

A YAML rule file holds ``rules:``, a list of mappings. Besides the metadata every rule has
(code, name, summary, rationale, how-to-fix, severity, confidence, cwe, owasp, references,
triggers, enabled-by-default, bad/good examples), each has ``message``, ``help`` and a
``match`` block whose ``kind`` picks one of the shapes below. ``{call}`` in the message is the
called name as written.

``call-missing-keyword``
    A call to one of ``calls`` (qualified names), or to one of ``methods`` on an instance of a
    class in ``methods-of`` (created in the same function, class or module), that does not pass
    ``keyword``. ``positions`` maps a call or method name to the index at which the argument may
    also be passed positionally. With ``none-is-missing``, ``keyword=None`` counts as missing.
    A call that spreads ``**kwargs`` is given the benefit of the doubt. ``fix.add-keyword`` adds
    ``keyword=<value>`` (or replaces the ``None``).

``call-keyword-equals``
    A call (same ``calls``/``methods-of`` matching) that passes ``keyword`` equal to the literal
    ``value``. ``fix.replace-value`` replaces it.

``assign-literal``
    An assignment of a string literal to a name (or attribute, or keyword argument) whose last
    part matches the regular expression ``target`` (case-insensitive), optionally restricted to
    literals matching ``value`` (a regular expression).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import libcst as cst
import yaml

from be_lint.rule import (
    Confidence,
    Example,
    FixSafety,
    PythonRule,
    RuleMeta,
    Severity,
)


class RuleFileError(Exception):
    """A rule file cannot be loaded; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Matcher:
    kind: str
    calls: frozenset[str]
    methods_of: frozenset[str]
    methods: frozenset[str]
    keyword: str
    positions: Mapping[str, int]
    none_is_missing: bool
    value: object
    target: re.Pattern[str] | None
    value_pattern: re.Pattern[str] | None
    fix_add: str | None
    fix_replace: str | None
    fix_safety: FixSafety


_KINDS = ("call-missing-keyword", "call-keyword-equals", "assign-literal")


class DeclarativeRule(PythonRule):
    """Base of rules built from YAML; the shape lives in ``matcher``."""

    matcher: ClassVar[Matcher]
    message: ClassVar[str]
    help_text: ClassVar[str | None]

    def __init__(self, ctx: Any, options: Any) -> None:
        super().__init__(ctx, options)
        # (scope node id, dotted target) -> class qualified name, for ``methods-of``.
        self._instances: dict[tuple[int, str], str] = {}

    # -- instance tracking for methods-of ----------------------------------------------------

    def _scope_for(self, target: str) -> int:
        if target.startswith("self.") or target.startswith("cls."):
            scope = self.ctx.enclosing(cst.ClassDef)
        else:
            scope = self.ctx.enclosing(cst.FunctionDef, cst.Lambda)
        return id(scope) if scope is not None else 0

    def _class_of_call(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, cst.Call):
            for name in self.ctx.qualified_names(value.func):
                if name in self.matcher.methods_of:
                    return name
        return None

    def _remember(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        cls = self._class_of_call(value)
        dotted = self.ctx.dotted_name(target)
        if cls is not None and dotted is not None:
            self._instances[(self._scope_for(dotted), dotted)] = cls

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.matcher.methods_of:
            for target in node.targets:
                self._remember(target.target, node.value)
        elif self.matcher.kind == "assign-literal":
            for target in node.targets:
                self._check_literal(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            return
        if self.matcher.methods_of:
            self._remember(node.target, node.value)
        elif self.matcher.kind == "assign-literal":
            self._check_literal(node.target, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if self.matcher.methods_of and node.asname is not None:
            target = node.asname.name
            if isinstance(target, cst.BaseExpression):
                self._remember(target, node.item)

    def _receiver_class(self, receiver: cst.BaseExpression) -> str | None:
        direct = self._class_of_call(receiver)
        if direct is not None:
            return direct
        dotted = self.ctx.dotted_name(receiver)
        if dotted is None:
            return None
        found = self._instances.get((self._scope_for(dotted), dotted))
        return found if found is not None else self._instances.get((0, dotted))

    def _called(self, node: cst.Call) -> str | None:
        """The name to report if ``node`` is a call this rule watches, else None."""
        m = self.matcher
        if m.calls:
            for name in self.ctx.qualified_names(node.func):
                if name in m.calls:
                    return name
        if m.methods_of and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in m.methods and self._receiver_class(node.func.value) is not None:
                return method
        return None

    # -- shapes ----------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        m = self.matcher
        if m.kind == "assign-literal":
            for arg in node.args:
                if arg.keyword is not None:
                    self._check_literal(arg.keyword, arg.value)
            return
        called = self._called(node)
        if called is None:
            return
        written = self.ctx.dotted_name(node.func) or called
        keyword_arg = next(
            (a for a in node.args if a.keyword is not None and a.keyword.value == m.keyword), None
        )
        if m.kind == "call-missing-keyword":
            self._missing_keyword(node, called, written, keyword_arg)
        elif keyword_arg is not None and _literal_value(keyword_arg.value) == m.value:
            fixed = None
            if m.fix_replace is not None:
                fixed = keyword_arg.with_changes(value=cst.parse_expression(m.fix_replace))
            self.report(
                keyword_arg,
                self.message.format(call=written),
                help=self.help_text,
                replacement=fixed,
                fix_safety=m.fix_safety,
                fix_description=f"set {m.keyword}={m.fix_replace}",
            )

    def _missing_keyword(
        self, node: cst.Call, called: str, written: str, keyword_arg: cst.Arg | None
    ) -> None:
        m = self.matcher
        if keyword_arg is not None:
            if not (m.none_is_missing and _is_none(keyword_arg.value)):
                return
            target: cst.CSTNode = keyword_arg
            replacement: cst.CSTNode | None = None
            if m.fix_add is not None:
                replacement = keyword_arg.with_changes(value=cst.parse_expression(m.fix_add))
        else:
            if any(a.star == "**" for a in node.args):
                return  # the keyword may well be inside **kwargs
            positional = [a for a in node.args if a.keyword is None and not a.star]
            index = m.positions.get(called, m.positions.get(called.rsplit(".", 1)[-1]))
            given = positional[index] if index is not None and len(positional) > index else None
            if given is not None and not (m.none_is_missing and _is_none(given.value)):
                return
            if any(a.star == "*" for a in node.args):
                return  # the argument may be in *args
            target = node
            replacement = None
            if m.fix_add and given is not None:
                # ``None`` passed positionally: replace it (adding the keyword too would pass
                # the argument twice).
                replacement = node.with_deep_changes(given, value=cst.parse_expression(m.fix_add))
            elif m.fix_add:
                replacement = _with_keyword(node, m.keyword, m.fix_add)
        self.report(
            target,
            self.message.format(call=written),
            help=self.help_text,
            replacement=replacement,
            fix_safety=m.fix_safety,
            fix_description=f"add {m.keyword}={m.fix_add}" if m.fix_add else "",
        )

    def _check_literal(self, target: cst.CSTNode, value: cst.BaseExpression) -> None:
        m = self.matcher
        assert m.target is not None
        if isinstance(target, cst.Name):
            last = target.value
        elif isinstance(target, cst.Attribute):
            last = target.attr.value
        else:
            return
        if not m.target.search(last):
            return
        literal = _literal_value(value)
        if not isinstance(literal, str):
            return
        if m.value_pattern is not None and not m.value_pattern.search(literal):
            return
        self.report(value, self.message.format(call=last), help=self.help_text)


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _literal_value(expr: cst.BaseExpression) -> object:
    """The value of a simple literal (string, number, True/False/None); a sentinel otherwise."""
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    if isinstance(expr, cst.SimpleString | cst.ConcatenatedString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else _NOT_LITERAL
    if isinstance(expr, cst.Integer | cst.Float):
        return expr.evaluated_value
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus)
        and isinstance(expr.expression, cst.Integer | cst.Float)
    ):
        return -expr.expression.evaluated_value
    return _NOT_LITERAL


_NOT_LITERAL = object()


def _with_keyword(node: cst.Call, keyword: str, value: str) -> cst.Call:
    args = list(node.args)
    new_arg = cst.Arg(
        keyword=cst.Name(keyword),
        value=cst.parse_expression(value),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    if args:
        last = args[-1]
        if isinstance(last.comma, cst.Comma):
            # A trailing comma (multi-line call): the new argument takes it over, and the old
            # last argument gets the separator the others use, so indentation stays right.
            new_arg = new_arg.with_changes(comma=last.comma)
            separator = (
                args[-2].comma
                if len(args) > 1 and isinstance(args[-2].comma, cst.Comma)
                else cst.Comma(whitespace_after=node.whitespace_before_args)
            )
        else:
            separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args[-1] = last.with_changes(comma=separator)
    return node.with_changes(args=[*args, new_arg])


# -- loading -------------------------------------------------------------------------------

_META_KEYS = {
    "code",
    "name",
    "summary",
    "rationale",
    "how-to-fix",
    "severity",
    "confidence",
    "cwe",
    "owasp",
    "references",
    "triggers",
    "enabled-by-default",
    "frameworks",
    "message",
    "help",
    "match",
    "fix",
    "bad",
    "good",
}
_MATCH_KEYS = {
    "kind",
    "calls",
    "methods-of",
    "methods",
    "keyword",
    "positions",
    "none-is-missing",
    "value",
    "target",
    "value-pattern",
}


def load_yaml_rules(path: Path) -> list[type[DeclarativeRule]]:
    try:
        # libyaml's loader, when built in, reads the rule files ten times faster (start-up).
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        detail = " ".join(str(error).split())
        raise RuleFileError(f"{path}: cannot read rule file: {detail}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RuleFileError(f"{path}: expected a mapping with a 'rules' list")
    return [_build(path, index, spec) for index, spec in enumerate(document["rules"])]


def _frameworks(value: object, where: str) -> tuple[str, ...]:
    """``frameworks: [django]``: the rule runs only on projects using one of them."""
    from be_lint.detect import FRAMEWORKS

    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise RuleFileError(f"{where}: 'frameworks' must be a list of names")
    unknown = sorted(set(value) - set(FRAMEWORKS))
    if unknown:
        known = ", ".join(sorted(FRAMEWORKS))
        raise RuleFileError(f"{where}: unknown framework {unknown[0]!r} (known: {known})")
    return tuple(value)


def _build(path: Path, index: int, spec: object) -> type[DeclarativeRule]:
    where = f"{path}: rules[{index}]"
    if not isinstance(spec, dict):
        raise RuleFileError(f"{where}: expected a mapping")
    unknown = sorted(set(spec) - _META_KEYS)
    if unknown:
        raise RuleFileError(f"{where}: unknown key {unknown[0]!r}")
    try:
        meta = RuleMeta(
            code=_text(spec, "code", where),
            name=_text(spec, "name", where),
            summary=_text(spec, "summary", where),
            rationale=_text(spec, "rationale", where),
            how_to_fix=_text(spec, "how-to-fix", where),
            severity=Severity(spec.get("severity", "warning")),
            confidence=Confidence(spec.get("confidence", "high")),
            cwe=spec.get("cwe"),
            owasp=spec.get("owasp"),
            references=tuple(spec.get("references", ())),
            enabled_by_default=bool(spec.get("enabled-by-default", True)),
            frameworks=_frameworks(spec.get("frameworks", ()), where),
        )
    except ValueError as error:
        raise RuleFileError(f"{where}: {error}") from None
    match = spec.get("match")
    if not isinstance(match, dict):
        raise RuleFileError(f"{where}: 'match' must be a mapping")
    unknown = sorted(set(match) - _MATCH_KEYS)
    if unknown:
        raise RuleFileError(f"{where}: match: unknown key {unknown[0]!r}")
    kind = match.get("kind")
    if kind not in _KINDS:
        raise RuleFileError(f"{where}: match.kind must be one of {', '.join(_KINDS)}")
    fix = spec.get("fix") or {}
    if not isinstance(fix, dict) or set(fix) - {"add-keyword", "replace-value", "safety"}:
        raise RuleFileError(f"{where}: 'fix' takes add-keyword, replace-value and safety")
    try:
        matcher = Matcher(
            kind=kind,
            calls=frozenset(_strings(match, "calls", where)),
            methods_of=frozenset(_strings(match, "methods-of", where)),
            methods=frozenset(_strings(match, "methods", where)),
            keyword=str(match.get("keyword", "")),
            positions=dict(match.get("positions") or {}),
            none_is_missing=bool(match.get("none-is-missing", False)),
            value=match.get("value"),
            target=re.compile(match["target"], re.I) if "target" in match else None,
            value_pattern=re.compile(match["value-pattern"]) if "value-pattern" in match else None,
            fix_add=_optional_text(fix, "add-keyword"),
            fix_replace=_optional_text(fix, "replace-value"),
            fix_safety=FixSafety(fix.get("safety", "unsafe")),
        )
    except (re.error, ValueError, TypeError) as error:
        raise RuleFileError(f"{where}: {error}") from None
    if kind != "assign-literal" and not matcher.keyword:
        raise RuleFileError(f"{where}: match.keyword is required for {kind}")
    if kind == "assign-literal" and matcher.target is None:
        raise RuleFileError(f"{where}: match.target is required for assign-literal")
    triggers = tuple(_strings(spec, "triggers", where)) or _default_triggers(matcher)
    attrs: dict[str, object] = {
        "meta": meta,
        "matcher": matcher,
        "message": _text(spec, "message", where),
        "help_text": spec.get("help"),
        "triggers": triggers,
        "bad": tuple(_examples(spec, "bad", where)),
        "good": tuple(_examples(spec, "good", where)),
        "origin": str(path),
        "__module__": __name__,
    }
    class_name = "".join(part.capitalize() for part in meta.name.split("-"))
    return type(class_name, (DeclarativeRule,), attrs)


def _default_triggers(matcher: Matcher) -> tuple[str, ...]:
    """Last parts of every watched name: a file without any of them cannot match."""
    if matcher.kind == "assign-literal":
        return ()
    names = {name.rsplit(".", 1)[-1] for name in matcher.calls | matcher.methods_of}
    return tuple(sorted(names))


def _text(spec: Mapping[str, object], key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleFileError(f"{where}: {key!r} must be a non-empty string")
    return value.strip()


def _optional_text(spec: Mapping[str, object], key: str) -> str | None:
    value = spec.get(key)
    return None if value is None else str(value)


def _strings(spec: Mapping[str, object], key: str, where: str) -> Sequence[str]:
    value = spec.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleFileError(f"{where}: {key!r} must be a list of strings")
    return value


def _examples(spec: Mapping[str, object], key: str, where: str) -> list[Example]:
    value = spec.get(key, [])
    if not isinstance(value, list):
        raise RuleFileError(f"{where}: {key!r} must be a list")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(Example(item))
        elif isinstance(item, dict) and isinstance(item.get("code"), str):
            out.append(
                Example(
                    item["code"],
                    fixed=item.get("fixed"),
                    filename=item.get("filename", "example.py"),
                )
            )
        else:
            raise RuleFileError(f"{where}: each of {key!r} is a string or has 'code'")
    return out
