"""Time be-lint on real trees, next to the peers that are installed, on the same tree.

    python benchmarks/bench.py                       # the pinned trees (downloaded once)
    python benchmarks/bench.py --tree django --runs 5
    python benchmarks/bench.py PATH [PATH ...]       # local trees instead
    python benchmarks/bench.py --peer bandit=/opt/bandit-venv/bin/bandit

The pinned trees are source distributions fetched from PyPI (the JSON API gives the file's
address; the archive is checked against the SHA-256 pinned below) into ``--cache-dir``
(``~/.cache/be-lint-bench``). For each tree it times, median of ``--runs``:

* ``be-lint cold``: ``--no-cache``, every file read, indexed and checked;
* ``be-lint warm``: a second run with the cache (primed once beforehand);
* ``be-lint 1 file``: ``be-lint path/to/file.py`` right after that file changed -- the
  pre-commit case, interpreter start included;
* ``bandit -r``, ``ruff check --select S --no-cache`` and ``semgrep`` with the local rule file
  ``benchmarks/semgrep-rules.yml``, each when it is installed.

It prints a Markdown table of seconds, lines per second, the ratio to bandit and the peak
resident memory of the largest process (``wait4``'s ``ru_maxrss``: a pool's workers are counted
one by one, not summed), plus whether the issue's targets are met. Wall-clock numbers belong
here and in docs/performance.md, never in tests. Python's bytecode cache is left on for the
timed commands (``PYTHONDONTWRITEBYTECODE`` is removed from their environment): a pip-installed
be-lint has its modules compiled, and timing the compiler would measure something else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "be-lint-bench"

#: name -> (PyPI project, version, SHA-256 of the sdist).
PINNED: dict[str, tuple[str, str, str]] = {
    "django": (
        "Django",
        "5.1.4",
        "de450c09e91879fa5a307f696e57c851955c910a438a35e6b4c895e86bedc82a",
    ),
    "pretix": (
        "pretix",
        "2026.8.0",
        "97c46dab676f8c29461c81dce90c6fb7812b29fe9181f8d1288a32f36e11cc64",
    ),
}


# -- fetching ---------------------------------------------------------------------------------


def fetch(name: str, cache_dir: Path) -> Path:
    """The unpacked sdist of a pinned project (downloaded and verified on first use)."""
    project, version, sha256 = PINNED[name]
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = cache_dir / f"{project.lower()}-{version}.tar.gz"
    if not archive.exists() or _sha256(archive) != sha256:
        url = _sdist_url(project, version)
        print(f"downloading {url}", file=sys.stderr)
        partial = archive.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=120) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        got = _sha256(partial)
        if got != sha256:
            partial.unlink()
            raise SystemExit(f"{url}: SHA-256 {got} does not match the pinned {sha256}")
        partial.replace(archive)
    target = cache_dir / f"{project.lower()}-{version}"
    if not target.exists():
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(cache_dir / "unpack", filter="data")
        (cache_dir / "unpack" / top).rename(target)
        shutil.rmtree(cache_dir / "unpack", ignore_errors=True)
    return target


def _sdist_url(project: str, version: str) -> str:
    # pip cannot download some sdists without building them (pretix needs its build
    # dependencies), so the archive's address comes from PyPI's JSON API instead.
    api = f"https://pypi.org/pypi/{project}/json"
    with urllib.request.urlopen(api, timeout=60) as reply:
        document = json.load(reply)
    for item in document["releases"].get(version, []):
        if item["packagetype"] == "sdist":
            # Mirrors may answer with addresses relative to the API's.
            return urllib.parse.urljoin(api, str(item["url"]))
    raise SystemExit(f"{project} {version}: PyPI lists no source distribution")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    #: User plus system CPU time of the process and its children: much less sensitive than
    #: wall time to other load on the machine.
    cpu: float
    peak_mb: float


def measure(command: Sequence[str], cwd: Path) -> Sample:
    """Wall time and the largest process's peak RSS of one run of ``command``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = 0  # reaped by wait4 above
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(runs: int, once: Callable[[], Sample]) -> Sample:
    return combine([once() for _ in range(runs)])


def combine(samples: Sequence[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.cpu for s in samples),
        max(s.peak_mb for s in samples),
    )


def size(tree: Path) -> tuple[int, int]:
    files = lines = 0
    for file in tree.rglob("*.py"):
        if ".be-lint-cache" in file.parts:
            continue
        files += 1
        with open(file, "rb") as handle:
            lines += sum(1 for _ in handle)
    return files, lines


def pick_file(tree: Path) -> Path:
    """A typical module for the one-file case: the median-sized file among those over 5 kB."""
    files = sorted(
        (p.stat().st_size, str(p))
        for p in tree.rglob("*.py")
        if p.stat().st_size > 5000 and "test" not in p.name
    )
    return Path(files[len(files) // 2][1])


def bench_tree(tree: Path, args: argparse.Namespace) -> list[tuple[str, Sample]]:
    be_lint = [args.be_lint, "--exit-zero", "-q", "-j", str(args.jobs)]
    # The whole-tree runs are interleaved (cold be-lint, bandit, ruff, ... then again), so
    # that changing load on the machine hits every tool alike.
    whole: list[tuple[str, list[str]]] = [("be-lint cold", [*be_lint, "--no-cache", "."])]
    peers = dict(p.split("=", 1) for p in args.peer)
    for name, arguments in (
        ("bandit", ["-r", "-q", "-f", "json", "-o", os.devnull, "."]),
        ("ruff", ["check", "--select", "S", "--no-cache", "--exit-zero", "-q", "."]),
        (
            "semgrep",
            [
                "scan",
                "--config",
                str(HERE / "semgrep-rules.yml"),
                "--metrics=off",
                "--quiet",
                "-j",
                str(args.jobs),
                ".",
            ],
        ),
    ):
        executable = peers.get(name) or shutil.which(name)
        if executable:
            label = f"{name} {' '.join(arguments[:3]) if name == 'ruff' else arguments[0]}"
            whole.append((label, [executable, *arguments]))
    samples: dict[str, list[Sample]] = {label: [] for label, _ in whole}
    for _ in range(args.runs):
        for label, command in whole:
            samples[label].append(measure(command, tree))
    rows = [(label, combine(samples[label])) for label, _ in whole]

    shutil.rmtree(tree / ".be-lint-cache", ignore_errors=True)
    measure([*be_lint, "."], tree)  # prime
    rows.insert(1, ("be-lint warm", median(args.runs, lambda: measure([*be_lint, "."], tree))))

    target = pick_file(tree)
    original = target.read_bytes()
    counter = iter(range(10**6))

    def one_file() -> Sample:
        target.write_bytes(original + f"\n# bench edit {next(counter)}\n".encode())
        return measure([*be_lint, str(target.relative_to(tree))], tree)

    try:
        rows.insert(2, (f"be-lint 1 file ({target.name})", median(args.runs, one_file)))
    finally:
        target.write_bytes(original)
    return rows


def report(tree: Path, rows: list[tuple[str, Sample]], args: argparse.Namespace) -> None:
    files, lines = size(tree)
    bandit = next((s.seconds for label, s in rows if label.startswith("bandit")), None)
    print(f"\n### {tree.name}: {files:,} Python files, {lines:,} lines\n")
    print("| command | wall s | CPU s | lines/s | wall vs bandit | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, sample in rows:
        ratio = f"{sample.seconds / bandit:.2f}x" if bandit else "-"
        rate = f"{lines / sample.seconds:,.0f}" if "1 file" not in label else "-"
        print(
            f"| {label} | {sample.seconds:.2f} | {sample.cpu:.2f} | {rate} | {ratio} "
            f"| {sample.peak_mb:.0f} |"
        )
    times = {label.split(" (")[0]: s for label, s in rows}
    cold, warm, one = times["be-lint cold"], times["be-lint warm"], times["be-lint 1 file"]
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    if bandit:
        _target(
            "cold <= half of bandit", cold.seconds <= bandit / 2, f"{cold.seconds / bandit:.2f}"
        )
    _target(
        "warm <= 5 % of cold",
        warm.seconds <= 0.05 * cold.seconds,
        f"{warm.seconds / cold.seconds:.1%}",
    )
    _target("one file < 0.6 s", one.seconds < 0.6, f"{one.seconds:.2f} s")
    peak = max(s.peak_mb for s in (cold, warm))
    _target(
        "peak memory < 500 MB", peak < 500, f"{peak:.0f} MB on {lines:,} lines (largest process)"
    )


def _target(name: str, met: bool, detail: str) -> None:
    print(f"- {name}: {'met' if met else 'NOT met'} ({detail})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="local trees (default: pinned)")
    parser.add_argument(
        "--tree", action="append", choices=sorted(PINNED), help="pinned trees to run [all]"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median) [3]")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="be-lint -j [2]")
    parser.add_argument("--cache-dir", type=Path, default=CACHE)
    parser.add_argument(
        "--be-lint",
        default=shutil.which("be-lint") or str(Path(sys.executable).with_name("be-lint")),
        help="the be-lint executable [on PATH, or next to this Python]",
    )
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        help="NAME=EXECUTABLE for bandit, ruff or semgrep (found on PATH otherwise)",
    )
    args = parser.parse_args(argv)
    trees = list(args.paths) or [fetch(name, args.cache_dir) for name in args.tree or PINNED]
    version = subprocess.run(
        [args.be_lint, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"{version}; Python {platform.python_version()}; {platform.machine()}, "
        f"{os.cpu_count()} CPUs; be-lint -j{args.jobs}; median of {args.runs} runs"
    )
    for tree in trees:
        report(tree, bench_tree(tree.resolve(), args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
