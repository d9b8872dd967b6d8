"""Runs the checker over many files, in worker processes, and merges results in a fixed order.

Workers load the rule packs themselves (rule classes loaded by path do not pickle), then take
chunks of files. libcst's native parser can kill a process outright on pathological input; the
pool then breaks, and the files that had not finished are re-run one by one in a fresh
single-worker pool so the file responsible is found, reported, and the run goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from be_lint.cache import Cache, CacheSpec, FileState, digest
from be_lint.engine import Checker, Settings, package_of
from be_lint.loader import all_rules
from be_lint.rule import Finding
from be_lint.source import SourceProblem, read_bytes


@dataclass(frozen=True)
class Job:
    path: Path
    display: str


_worker_checker: Checker | None = None
_worker_cache: Cache | None = None
_package_cache: dict[Path, str | None] = {}


def _init_worker(
    settings: Settings, rule_paths: tuple[Path, ...], cache: CacheSpec | None = None
) -> None:
    global _worker_checker, _worker_cache
    _worker_checker = Checker(settings, all_rules(rule_paths))
    _worker_cache = Cache(cache) if cache is not None else None


def _check_chunk(jobs: Sequence[Job]) -> list[Finding]:
    assert _worker_checker is not None
    out: list[Finding] = []
    for job in jobs:
        out.extend(_check_one(_worker_checker, job, _worker_cache))
    return out


def _check_one(checker: Checker, job: Job, cache: Cache | None = None) -> list[Finding]:
    package = package_of(job.path, _package_cache)
    if cache is None:
        return checker.check_path(job.path, job.display, package)
    data = _read(job.path, checker.settings.max_file_size)
    if data is None:  # unreadable or too large: reported by check_path, never cached
        return checker.check_path(job.path, job.display, package)
    # The key is that of the bytes read here, which are the bytes checked.
    state = FileState(None, digest(data), False, b"until=" in data)
    key = cache.result_key(job.display, package, state)
    findings = cache.get_result(key)
    if findings is None:
        try:
            findings = checker.check_bytes(data, job.display, package)
        except Exception:  # check_path's last line of defence, and nothing cached
            return checker.check_path(job.path, job.display, package)
        cache.put_result(key, findings, checker.project_used)
    return findings


def _read(path: Path, limit: int) -> bytes | None:
    data = read_bytes(path, max_bytes=limit)
    return None if isinstance(data, SourceProblem) else data


def cached_results(
    cache: Cache, jobs: Sequence[Job], max_file_size: int
) -> tuple[list[Finding], list[Job]]:
    """The findings of the jobs the cache holds, and the jobs still to check.

    When every file is unchanged since a previous run of the same selection, all findings
    come from one pack (one read instead of one per file).
    """
    keys: list[str | None] = []
    for job in jobs:
        state = cache.state(job.path, job.display, max_file_size)
        package = package_of(job.path, _package_cache)
        keys.append(None if state is None else cache.result_key(job.display, package, state))
    packed = cache.get_pack(keys)
    if packed is not None:
        return packed, []
    found: list[Finding] = []
    remaining: list[Job] = []
    for job, key in zip(jobs, keys, strict=True):
        hit = None if key is None else cache.get_result(key)
        if hit is None:
            remaining.append(job)
        else:
            found.extend(hit)
    cache.pack_keys = keys
    return found, remaining


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _context() -> multiprocessing.context.BaseContext:
    # fork reuses the parent's imported modules and loaded rules, which makes start-up cheap.
    # From Python 3.12 forking a process that runs threads (the pool's own manager thread) is
    # deprecated, so newer Pythons use a fork server; workers then import everything again.
    methods = multiprocessing.get_all_start_methods()
    if sys.version_info < (3, 12) and "fork" in methods:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def run(
    checker: Checker,
    jobs: Sequence[Job],
    *,
    workers: int,
    rule_paths: tuple[Path, ...],
    cache: Cache | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Finding]:
    """Check every job; the result is sorted by path, line, column, code and message.

    ``progress(n)`` is called as files finish (``n`` of them at a time), for a progress bar.

    With a ``cache``, files whose results it holds are not checked again, and the results of
    the others are stored (by the worker that computed them).
    """
    findings: list[Finding] = []
    if cache is not None:
        before = len(jobs)
        findings, jobs = cached_results(cache, jobs, checker.settings.max_file_size)
        if progress is not None:
            progress(before - len(jobs))
    if workers <= 1 or len(jobs) < 2 * workers:
        for job in jobs:
            findings += _check_one(checker, job, cache)
            if progress is not None:
                progress(1)
    else:
        spec = cache.spec if cache is not None else None
        findings += _run_pool(checker, list(jobs), workers, rule_paths, spec, progress)
    findings.sort(key=lambda f: f.sort_key)
    if cache is not None and cache.pack_keys is not None:
        cache.put_pack(cache.pack_keys, findings)
    return findings


def _chunks(jobs: list[Job], workers: int) -> list[list[Job]]:
    # Small chunks keep both cores busy to the end; big enough to amortise the round trip.
    # Largest files first, so that the last chunks are small and no worker is left with a
    # big file while the others are idle (the findings are sorted afterwards).
    jobs = sorted(jobs, key=_size, reverse=True)
    size = max(1, min(16, len(jobs) // (workers * 8) or 1))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def _size(job: Job) -> int:
    try:
        return job.path.stat().st_size
    except OSError:  # reported when the worker reads it
        return 0


def _run_pool(
    checker: Checker,
    jobs: list[Job],
    workers: int,
    rule_paths: tuple[Path, ...],
    cache: CacheSpec | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Finding]:
    findings: list[Finding] = []
    unfinished: list[Job] = []
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_init_worker,
        initargs=(checker.settings, rule_paths, cache),
    ) as pool:
        futures: list[tuple[list[Job], Future[list[Finding]]]] = [
            (chunk, pool.submit(_check_chunk, chunk)) for chunk in _chunks(jobs, workers)
        ]
        for chunk, future in futures:
            try:
                findings.extend(future.result())
            except BrokenProcessPool:
                unfinished.extend(chunk)
            if progress is not None:
                progress(len(chunk))
    if unfinished:
        findings.extend(_isolate(checker, unfinished, rule_paths))
    return findings


def _isolate(checker: Checker, jobs: list[Job], rule_paths: tuple[Path, ...]) -> list[Finding]:
    """Re-run files one at a time; a file that kills its worker is reported as BE008."""
    findings: list[Finding] = []
    remaining = list(jobs)
    while remaining:
        with ProcessPoolExecutor(
            max_workers=1,
            mp_context=_context(),
            initializer=_init_worker,
            initargs=(checker.settings, rule_paths),
        ) as pool:
            futures = [pool.submit(_check_chunk, [job]) for job in remaining]
            for index, future in enumerate(futures):
                try:
                    findings.extend(future.result())
                except BrokenProcessPool:
                    culprit = remaining[index]
                    findings.extend(
                        checker.engine_finding(
                            "BE008",
                            culprit.display,
                            "the parser crashed on this file (its worker process died); skipped",
                        )
                    )
                    remaining = remaining[index + 1 :]
                    break
            else:
                remaining = []
    return findings
