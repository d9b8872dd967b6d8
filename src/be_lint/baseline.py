"""Baselines: record today's findings so that only new ones are reported (and fail the run).

A legacy codebase can adopt be-lint without fixing every old finding first: ``be-lint
baseline`` writes the findings of today to a JSON file, and ``--baseline FILE`` then hides the
findings recorded there. Entries are matched by fingerprint, never by line number: the
fingerprint is the rule code, the file's path relative to the baseline file, the finding's
source text with whitespace collapsed, and the occurrence index of that text among the file's
findings of the same rule. Moving code up or down, or reordering functions, keeps every
fingerprint; two identical offending statements in a file stay two distinct entries.

``--ratchet`` is the looser mode: a run fails only when, for some file and rule, there are more
findings than the baseline recorded, so editing a baselined line (which changes its text and
hence its fingerprint) is not a new finding as long as the count does not grow.

The file is versioned, sorted and free of line numbers, source text and timestamps, so recording
the same tree twice gives the same bytes and a re-recorded baseline diffs cleanly in review.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from be_lint.rule import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file is missing, unreadable or not a be-lint baseline (one line)."""


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    name: str
    #: Relative to the baseline file's directory, ``/`` separators.
    path: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Baseline:
    entries: tuple[Entry, ...]

    def counts(self) -> Counter[tuple[str, str]]:
        """Recorded findings per (path, code)."""
        return Counter((e.path, e.code) for e in self.entries)


@dataclass(frozen=True, slots=True)
class Grown:
    """A (file, rule) pair with more findings than the baseline recorded."""

    path: str
    code: str
    before: int
    now: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a baseline did to a run's findings."""

    #: The findings still to report.
    findings: tuple[Finding, ...]
    #: Findings hidden because the baseline records them.
    matched: int
    #: Baseline entries that no longer occur (fixed or deleted code): prune them with
    #: ``--update-baseline``.
    gone: tuple[Entry, ...]
    #: The entries that still occur (what ``--update-baseline`` keeps).
    kept: tuple[Entry, ...]
    #: ``--ratchet`` only: the (file, rule) pairs whose count grew.
    grown: tuple[Grown, ...] = ()


def relative_path(display: str, cwd: Path, base: Path) -> str:
    """``display`` (relative to ``cwd``) re-expressed relative to the baseline's directory."""
    absolute = os.path.normpath(os.path.join(cwd, display))
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive on Windows
        relative = absolute
    return relative.replace(os.sep, "/")


def entries_for(findings: Sequence[Finding], cwd: Path, base: Path) -> list[Entry]:
    """One entry per finding, in the order given (sorted findings give sorted occurrences)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for finding in findings:
        path = relative_path(finding.path, cwd, base)
        text = " ".join(" ".join(finding.snippet).split()) or finding.message
        key = (finding.code, path, text)
        index = seen[key]
        seen[key] += 1
        digest = hashlib.sha256("\0".join((*key, str(index))).encode()).hexdigest()[:24]
        out.append(Entry(finding.code, finding.name, path, digest))
    return out


def dumps(entries: Iterable[Entry]) -> str:
    ordered = sorted(set(entries), key=lambda e: (e.path, e.code, e.fingerprint))
    document = {
        "tool": "be-lint",
        "version": FORMAT_VERSION,
        "findings": [
            {"code": e.code, "name": e.name, "path": e.path, "fingerprint": e.fingerprint}
            for e in ordered
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def write(path: Path, entries: Iterable[Entry]) -> None:
    """Write atomically (a reader never sees half a file)."""
    text = dumps(entries)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BaselineError(f"cannot write baseline {path}: {error.strerror or error}") from None


def read(path: Path) -> Baseline:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"baseline file not found: {path} (create it with `be-lint baseline -o {path}`)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"cannot read baseline {path}: {error}") from None
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise BaselineError(f"baseline {path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("tool") != "be-lint":
        raise BaselineError(f"{path} is not a be-lint baseline file")
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise BaselineError(
            f"baseline {path} has format version {version!r}; this be-lint reads version "
            f"{FORMAT_VERSION} (re-create it with `be-lint baseline`)"
        )
    items = document.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f"baseline {path}: 'findings' must be a list")
    entries = []
    for number, item in enumerate(items):
        fields = ("code", "name", "path", "fingerprint")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
            raise BaselineError(
                f"baseline {path}: entry {number} needs string fields {', '.join(fields)}"
            )
        entries.append(Entry(item["code"], item["name"], item["path"], item["fingerprint"]))
    return Baseline(tuple(entries))


def apply(
    baseline: Baseline,
    findings: Sequence[Finding],
    *,
    cwd: Path,
    base: Path,
    ratchet: bool = False,
    covered: Iterable[str] | None = None,
) -> Outcome:
    """Hide baselined findings; with ``ratchet``, keep only the groups whose count grew.

    ``covered`` limits "no longer occurs" to the baseline's paths a run actually checked
    (relative to ``base``), so linting one file does not call the rest of the baseline stale.
    None means the run covered every path in the baseline.
    """
    ordered = sorted(findings, key=lambda f: f.sort_key)
    entries = entries_for(ordered, cwd, base)
    recorded = {e.fingerprint for e in baseline.entries}
    occurring = {e.fingerprint for e in entries}
    scope = None if covered is None else set(covered)
    gone = tuple(
        e
        for e in baseline.entries
        if e.fingerprint not in occurring and (scope is None or e.path in scope)
    )
    # Entries of files this run did not check are kept as they are.
    gone_set = set(gone)
    kept = tuple(e for e in baseline.entries if e not in gone_set)
    new = [f for f, e in zip(ordered, entries, strict=True) if e.fingerprint not in recorded]
    matched = len(ordered) - len(new)
    if not ratchet:
        return Outcome(tuple(new), matched, gone, kept)
    before = baseline.counts()
    now = Counter((e.path, e.code) for e in entries)
    grown = tuple(
        Grown(path, code, before.get((path, code), 0), count)
        for (path, code), count in sorted(now.items())
        if count > before.get((path, code), 0)
    )
    growing = {(g.path, g.code) for g in grown}
    report = tuple(
        f
        for f, e in zip(ordered, entries, strict=True)
        if (e.path, e.code) in growing and e.fingerprint not in recorded
    )
    return Outcome(report, len(ordered) - len(report), gone, kept, grown)
