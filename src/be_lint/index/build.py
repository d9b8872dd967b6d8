"""Builds the project index: a cheap textual test per file, ``ast`` facts for the files that
pass it, and one deterministic merge.

Reading and testing every file costs little (bytes, one regular expression); parsing is paid
only by files that can define models, managers or query sets. With several jobs and many such
files the parse runs in a process pool. The merge always sees the facts sorted by path, so
the index -- and every finding that depends on it -- is the same for any number of jobs.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from be_lint.index.django import django_models
from be_lint.index.facts import ClassTable, FileFacts, file_facts, may_define_models
from be_lint.index.model import ProjectIndex
from be_lint.index.routes import collect_routes, may_define_routes
from be_lint.index.sqlalchemy import sqlalchemy_models
from be_lint.index.tasks import deferred_tasks, may_define_tasks
from be_lint.source import SourceText, decode_source

#: Below this many candidate files a pool costs more than it saves.
_POOL_MIN_FILES = 150

Candidate = tuple[str, str | None, bytes]


def build_index(
    files: Sequence[tuple[Path, str, str | None]],
    *,
    jobs: int = 1,
    max_file_size: int = 2_000_000,
) -> ProjectIndex:
    """Index ``files``: ``(path on disk, display path, package)`` triples (Python files only)."""
    candidates: list[Candidate] = []
    for path, display, package in files:
        if path.suffix.lower() == ".sql":
            continue
        try:
            if os.stat(path).st_size > max_file_size:
                continue
            data = path.read_bytes()
        except OSError:
            continue  # the lint pass reports unreadable files
        if is_candidate(data, display):
            candidates.append((display, package, data))
    return _index(candidates, jobs)


def index_text(text: str, display: str, package: str | None) -> ProjectIndex:
    """The index of one file's text (stdin, examples, a single file checked through the API)."""
    if not (may_define_models(text, display) or may_define_routes(text) or may_define_tasks(text)):
        return ProjectIndex()
    return merge([file_facts(text, display, package)])


def _index(candidates: list[Candidate], jobs: int) -> ProjectIndex:
    return merge(facts_of_candidates(candidates, jobs))


def is_candidate(data: bytes | str, display: str) -> bool:
    """The cheap textual test: can this file contribute facts to the index?"""
    return may_define_models(data, display) or may_define_routes(data) or may_define_tasks(data)


def facts_of_candidates(candidates: list[Candidate], jobs: int) -> list[FileFacts]:
    """The facts of each candidate file (in a process pool when there are many)."""
    if jobs > 1 and len(candidates) >= _POOL_MIN_FILES:
        from be_lint.runner import _context  # the same start method as the lint pool

        size = max(1, len(candidates) // (jobs * 4))
        chunks = [candidates[i : i + size] for i in range(0, len(candidates), size)]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
            facts = [f for chunk in pool.map(_facts_of_chunk, chunks) for f in chunk]
    else:
        facts = _facts_of_chunk(candidates)
    return facts


def _facts_of_chunk(candidates: Sequence[Candidate]) -> list[FileFacts]:
    enabled = gc.isenabled()
    gc.disable()  # syntax trees have no cycles; see engine._run_rules
    try:
        out = []
        for display, package, data in candidates:
            decoded = decode_source(data, ".py")
            if isinstance(decoded, SourceText):
                out.append(file_facts(decoded.text, display, package))
        return out
    finally:
        if enabled:
            gc.enable()


def merge(facts: Sequence[FileFacts]) -> ProjectIndex:
    """One index from the facts of many files (in path order, whatever order they came in)."""
    ordered = sorted(facts, key=lambda f: f.path)
    table = ClassTable((file, cls) for file in ordered for cls in file.classes)
    django, querysets, auth_user = django_models(ordered, table)
    sqlalchemy = sqlalchemy_models(table, exclude=frozenset(django))
    models = dict(sorted({**sqlalchemy, **django}.items()))
    routes = collect_routes([f.routes for f in ordered if f.routes is not None])
    serializers = {
        s.qualname: (s.model, s.paths)
        for f in ordered
        if f.routes is not None
        for s in f.routes.serializers
    }
    return ProjectIndex(
        models=models,
        querysets=querysets,
        files=len(ordered),
        auth_user=auth_user,
        routes=routes,
        serializers=dict(sorted(serializers.items())),
        tasks=frozenset(t for f in ordered for t, _ in f.tasks),
        deferred_tasks=deferred_tasks(
            [t for f in ordered for t in f.tasks], [c for f in ordered for c in f.deferring]
        ),
    )


def index_paths(
    paths: Sequence[Path], cwd: Path, *, jobs: int = 1, limit: int = 2_000_000
) -> ProjectIndex:
    """Index the files a run discovered (display paths and packages as the lint pass uses)."""
    from be_lint.discover import display_path
    from be_lint.engine import package_of

    packages: dict[Path, str | None] = {}
    files = [(p, display_path(p, cwd), package_of(p, packages)) for p in paths]
    return build_index(files, jobs=jobs, max_file_size=limit)
