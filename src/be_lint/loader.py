"""Loads rule packs: the built-in ``rules/`` folder and a user's ``rule-paths``, the same way.

A pack is a folder (searched recursively) or a single file. ``*.py`` files are imported by path
(their rule classes register themselves on definition); ``*.yml``/``*.yaml`` files are
declarative rules. Files and folders whose names start with ``_`` or ``.`` are skipped, so a
pack can keep private helpers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from be_lint.declarative import RuleFileError, load_yaml_rules
from be_lint.engine_rules import ENGINE_RULES
from be_lint.rule import Rule

__all__ = ["RuleFileError", "builtin_rules", "builtin_rules_dir", "load_rules"]

_loaded: dict[Path, list[type[Rule]]] = {}


def builtin_rules_dir() -> Path:
    """``rules/`` shipped in the wheel, or the repository's ``rules/`` in a source checkout."""
    packaged = Path(__file__).resolve().parent / "builtin_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def _rule_files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if any(part.startswith(("_", ".")) for part in relative):
            continue
        if path.is_file() and path.suffix in (".py", ".yml", ".yaml"):
            yield path


def _load_file(path: Path) -> list[type[Rule]]:
    resolved = path.resolve()
    cached = _loaded.get(resolved)
    if cached is not None:
        return cached
    loaded = _import_python if path.suffix == ".py" else load_yaml_rules
    rules: list[type[Rule]] = list(loaded(resolved))
    _loaded[resolved] = rules
    return rules


def _import_python(path: Path) -> list[type[Rule]]:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    module_name = f"be_lint_rulepack_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise RuleFileError(f"{path}: cannot import rule module")
    module = importlib.util.module_from_spec(spec)
    before = len(Rule.registry)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a user's rule file may raise anything at import time
        del sys.modules[module_name]
        del Rule.registry[before:]
        raise RuleFileError(
            f"{path}: error while importing rule module: {type(error).__name__}: {error}"
        ) from None
    found = Rule.registry[before:]
    for rule in found:
        rule.origin = str(path)
    return list(found)


def load_rules(paths: Sequence[Path]) -> list[type[Rule]]:
    """All rules of the packs at ``paths``; duplicate codes or names are an error."""
    rules: list[type[Rule]] = []
    for root in paths:
        if not root.exists():
            raise RuleFileError(f"{root}: rule path does not exist")
        for path in _rule_files(root):
            rules.extend(_load_file(path))
    return rules


def check_unique(rules: Sequence[type[Rule]]) -> None:
    seen: dict[str, type[Rule]] = {}
    for rule in rules:
        for key in (rule.meta.code, rule.meta.name):
            other = seen.get(key)
            if other is not None and other is not rule:
                raise RuleFileError(
                    f"{rule.origin or rule.__name__}: rule {key} is already defined"
                    f" by {other.origin or other.__name__}"
                )
            seen[key] = rule


def builtin_rules() -> list[type[Rule]]:
    """The engine's BE0xx rules and every rule of the built-in pack, sorted by code."""
    rules = [*ENGINE_RULES, *load_rules([builtin_rules_dir()])]
    check_unique(rules)
    return sorted(rules, key=lambda r: r.meta.code)


def all_rules(rule_paths: Sequence[Path]) -> list[type[Rule]]:
    """Built-in rules plus the user's packs, sorted by code."""
    rules = [*builtin_rules(), *load_rules(rule_paths)]
    check_unique(rules)
    return sorted(rules, key=lambda r: r.meta.code)
