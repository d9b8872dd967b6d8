"""Time be-lint on a real tree, next to peers when they are installed.

    python benchmarks/bench.py PATH [--jobs 1,2] [--runs 3] [--peer bandit=/path/to/bandit]
    python benchmarks/bench.py --download django==5.1.4

``--download`` fetches a source distribution from PyPI into ``~/.cache/be-lint-bench`` and
benchmarks it. The result is a Markdown table of median wall-clock seconds (and lines per
second) that can be pasted into an issue note. Wall-clock numbers belong here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

CACHE = Path.home() / ".cache" / "be-lint-bench"


def _download(spec: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    before = set(CACHE.iterdir())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(CACHE),
            spec,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    new = sorted(set(CACHE.iterdir()) - before) or sorted(
        p for p in CACHE.iterdir() if p.is_file() and spec.split("=")[0].lower() in p.name.lower()
    )
    archive = new[-1]
    target = CACHE / archive.name.removesuffix(".tar.gz").removesuffix(".zip")
    if not target.exists():
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(CACHE)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(CACHE, filter="data")
    return target


def _size(path: Path) -> tuple[int, int]:
    files = lines = 0
    for file in path.rglob("*.py"):
        files += 1
        try:
            with file.open("rb") as handle:
                lines += sum(1 for _ in handle)
        except OSError:
            pass
    return files, lines


def _time(command: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--download", help="a PyPI requirement whose sdist to benchmark")
    parser.add_argument("--jobs", default="1,2", help="comma-separated -j values [1,2]")
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median) [3]")
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        help="NAME=EXECUTABLE of a peer to time too (bandit, ruff); found on PATH otherwise",
    )
    args = parser.parse_args(argv)
    path = _download(args.download) if args.download else args.path
    if path is None or not path.exists():
        parser.error("give a PATH or --download SPEC")
    be_lint = shutil.which("be-lint") or str(Path(sys.executable).with_name("be-lint"))
    files, lines = _size(path)
    rows: list[tuple[str, float]] = []
    for jobs in args.jobs.split(","):
        command = [be_lint, "--exit-zero", "-q", "-j", jobs, str(path)]
        rows.append((f"be-lint -j{jobs}", _time(command, args.runs)))
    peers = dict(p.split("=", 1) for p in args.peer)
    for name, command_line in (
        ("bandit", ["-r", "-q", "-f", "json", "-o", os.devnull]),
        ("ruff", ["check", "--select", "S", "--exit-zero", "--no-cache", "-q"]),
    ):
        executable = peers.get(name) or shutil.which(name)
        if executable:
            rows.append(
                (
                    f"{name} {' '.join(command_line[:2])}",
                    _time([executable, *command_line, str(path)], args.runs),
                )
            )
    print(
        f"{path.name}: {files:,} Python files, {lines:,} lines; median of {args.runs} runs, "
        f"{os.cpu_count()} CPUs\n"
    )
    print("| command | seconds | lines/s |")
    print("| --- | ---: | ---: |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {lines / seconds:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
