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
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from be_lint.engine import Checker, Settings, package_of
from be_lint.loader import all_rules
from be_lint.rule import Finding


@dataclass(frozen=True)
class Job:
    path: Path
    display: str


_worker_checker: Checker | None = None
_package_cache: dict[Path, str | None] = {}


def _init_worker(settings: Settings, rule_paths: tuple[Path, ...]) -> None:
    global _worker_checker
    _worker_checker = Checker(settings, all_rules(rule_paths))


def _check_chunk(jobs: Sequence[Job]) -> list[Finding]:
    assert _worker_checker is not None
    out: list[Finding] = []
    for job in jobs:
        out.extend(_check_one(_worker_checker, job))
    return out


def _check_one(checker: Checker, job: Job) -> list[Finding]:
    return checker.check_path(job.path, job.display, package_of(job.path, _package_cache))


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
) -> list[Finding]:
    """Check every job; the result is sorted by path, line, column, code and message."""
    if workers <= 1 or len(jobs) < 2 * workers:
        findings = [f for job in jobs for f in _check_one(checker, job)]
    else:
        findings = _run_pool(checker, list(jobs), workers, rule_paths)
    findings.sort(key=lambda f: f.sort_key)
    return findings


def _chunks(jobs: list[Job], workers: int) -> list[list[Job]]:
    # Small chunks keep both cores busy to the end; big enough to amortise the round trip.
    size = max(1, min(16, len(jobs) // (workers * 8) or 1))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def _run_pool(
    checker: Checker, jobs: list[Job], workers: int, rule_paths: tuple[Path, ...]
) -> list[Finding]:
    findings: list[Finding] = []
    unfinished: list[Job] = []
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_init_worker,
        initargs=(checker.settings, rule_paths),
    ) as pool:
        futures: list[tuple[list[Job], Future[list[Finding]]]] = [
            (chunk, pool.submit(_check_chunk, chunk)) for chunk in _chunks(jobs, workers)
        ]
        for chunk, future in futures:
            try:
                findings.extend(future.result())
            except BrokenProcessPool:
                unfinished.extend(chunk)
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
