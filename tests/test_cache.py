"""The result cache (issue 8): a warm run parses nothing, and nothing stale is ever served."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from be_lint import cache as cache_module
from be_lint import engine
from be_lint.cli import main
from be_lint.index import build

MODELS = """\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=10)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
"""

VIEWS = """\
from shop.models import Order


def names(request):
    return [order.customer.name for order in Order.objects.all()]
"""

CLIENT = """\
import requests


def fetch(url):
    return requests.get(url)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(MODELS)
    (root / "shop" / "views.py").write_text(VIEWS)
    (root / "client.py").write_text(CLIENT)
    (root / "pyproject.toml").write_text("[tool.be-lint]\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    # Other work on be-lint's own sources must not change the key between two runs of a test.
    monkeypatch.setattr(cache_module, "code_version", lambda rule_paths: "fixed")
    return root


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts libcst parses (lint pass) and index parses, by display path."""
    counts: Counter[str] = Counter()
    real_parse = engine._parse
    real_facts = build._facts_of_chunk

    def counting_parse(text: str) -> object:
        counts["lint"] += 1
        counts[f"lint:{text}"] += 1
        return real_parse(text)

    def counting_facts(candidates: list[build.Candidate]) -> object:
        for display, _, _ in candidates:
            counts[f"index:{display}"] += 1
            counts["index"] += 1
        return real_facts(candidates)

    monkeypatch.setattr(engine, "_parse", counting_parse)
    monkeypatch.setattr(build, "_facts_of_chunk", counting_facts)
    return counts


def _run(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, ["-j", "1", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _codes(report: dict[str, object]) -> list[tuple[str, str, int]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return [(f["path"], f["code"], f["line"]) for f in findings]


def test_a_warm_run_parses_nothing_and_reports_the_same(
    project: Path, parses: Counter[str]
) -> None:
    _, cold = _run(".")
    assert parses["lint"] >= 2 and parses["index"] >= 1
    assert ("client.py", "BE701", 5) in _codes(cold)
    assert any(code.startswith("BE4") for _, code, _ in _codes(cold))  # used the index
    parses.clear()
    _, warm = _run(".")
    assert parses == Counter()
    assert warm == cold


def test_only_the_changed_file_is_parsed_again(project: Path, parses: Counter[str]) -> None:
    _run(".")
    parses.clear()
    client = project / "client.py"
    client.write_text(CLIENT + "\n\ndef more(url):\n    return requests.post(url)\n")
    _, report = _run(".")
    assert parses["lint"] == 1 and parses["index"] == 0
    assert ("client.py", "BE701", 9) in _codes(report)


def test_a_model_change_invalidates_the_files_that_read_the_index(
    project: Path, parses: Counter[str]
) -> None:
    _, before = _run(".")
    assert any(p == "shop/views.py" and c.startswith("BE4") for p, c, _ in _codes(before))
    parses.clear()
    # `customer` stops being a relation: the N+1 finding in views.py must go away.
    models = MODELS.replace(
        "customer = models.ForeignKey(Customer, on_delete=models.CASCADE)",
        "customer = models.CharField(max_length=10)",
    )
    (project / "shop" / "models.py").write_text(models)
    _, after = _run(".")
    assert not any(p == "shop/views.py" and c.startswith("BE4") for p, c, _ in _codes(after))
    assert parses["index:shop/models.py"] == 1
    # views.py read the index, so it was checked again; client.py did not, so it was not
    # (and models.py has nothing any rule looks for: it is indexed, never parsed for lint).
    assert parses[f"lint:{VIEWS}"] == 1
    assert parses["lint"] == 1


def test_settings_are_part_of_the_key(project: Path, parses: Counter[str]) -> None:
    _, everything = _run(".")
    _, only_timeouts = _run("--select", "BE701", ".")
    assert {c for _, c, _ in _codes(only_timeouts)} == {"BE701"}
    assert len(_codes(everything)) > len(_codes(only_timeouts))
    parses.clear()
    _run(".")
    _run("--select", "BE701", ".")
    assert parses["lint"] == 0


def test_no_cache_neither_reads_nor_writes(project: Path, parses: Counter[str]) -> None:
    _run("--no-cache", ".")
    assert not (project / ".be-lint-cache").exists()
    _run(".")
    parses.clear()
    _run("--no-cache", ".")
    assert parses["lint"] >= 2


def test_config_turns_the_cache_off_or_moves_it(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.be-lint]\ncache-dir = "build/lint-cache"\n')
    _run(".")
    assert (project / "build" / "lint-cache" / "CACHEDIR.TAG").is_file()
    assert not (project / ".be-lint-cache").exists()
    (project / "pyproject.toml").write_text("[tool.be-lint]\ncache = false\n")
    _run("shop")
    assert not (project / ".be-lint-cache").exists()
    (project / "pyproject.toml").write_text("[tool.be-lint]\ncache = 1\n")
    result = CliRunner().invoke(main, ["."])
    assert result.exit_code == 2 and "cache: expected true or false" in result.stderr


def test_the_directory_is_ignored_by_git_and_tagged(project: Path) -> None:
    _run(".")
    directory = project / ".be-lint-cache"
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (
        (directory / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )


def test_tampered_or_foreign_entries_are_recomputed(
    project: Path, parses: Counter[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cold = _run(".")
    entries = [p for p in (project / ".be-lint-cache").rglob("*") if p.is_file()]
    for entry in entries:
        if entry.name not in (".gitignore", "CACHEDIR.TAG"):
            data = bytearray(entry.read_bytes())
            data[-1] ^= 0xFF
            entry.write_bytes(bytes(data))
    parses.clear()
    _, again = _run(".")
    assert again == cold and parses["lint"] >= 2
    # Another user's key (or a cache that came with the code) authenticates nothing.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))
    parses.clear()
    _, foreign = _run(".")
    assert foreign == cold and parses["lint"] >= 2


def test_stdin_and_fix_bypass_the_cache(project: Path) -> None:
    result = CliRunner().invoke(
        main, ["--stdin-filename", "x.py", "-"], input="import requests\nrequests.get('u')\n"
    )
    assert result.exit_code == 1
    assert not (project / ".be-lint-cache").exists()
    CliRunner().invoke(main, ["--diff", "."])
    assert not (project / ".be-lint-cache").exists()


def test_concurrent_writers_leave_whole_entries(project: Path) -> None:
    opened = cache_module.open_cache(project / "c", _settings(project), ())
    assert opened is not None
    key = "ab" * 20
    for value in range(20):
        opened.put("results", key, ("", (value,)))
    leftovers = [p.name for p in (project / "c").rglob("*.tmp")]
    assert leftovers == []
    assert opened.get("results", key) == ("", (19,))


def test_prune_keeps_the_newest_entries_within_bounds(tmp_path: Path) -> None:
    root = tmp_path / "v1"
    for number in range(30):
        entry = root / "results" / f"{number:02d}" / "entry"
        entry.parent.mkdir(parents=True)
        entry.write_bytes(b"x" * 100)
        os.utime(entry, (1_000_000 + number, 1_000_000 + number))
    cache_module.prune(root, max_entries=10, max_bytes=10**9)
    left = sorted(p.parent.name for p in (root / "results").rglob("entry"))
    assert left == [f"{n:02d}" for n in range(22, 30)]  # 80 % of the bound, newest kept
    cache_module.prune(root, max_entries=1000, max_bytes=350)
    assert len(list((root / "results").rglob("entry"))) == 2


def test_racy_signatures_are_not_trusted(project: Path) -> None:
    opened = cache_module.open_cache(project / "c", _settings(project), ())
    assert opened is not None
    path = project / "client.py"
    state = opened.state(path, "client.py", 10**6)
    assert state is not None and state.signature is None  # just written: re-read next time
    old = 1_000_000_000
    os.utime(path, (old, old))
    state = opened.state(path, "client.py", 10**6)
    assert state is not None and state.signature is not None


def _settings(root: Path) -> engine.Settings:
    return engine.Settings(selected=("BE701",), cwd=str(root), project_root=str(root))


def test_a_warm_run_reads_no_source_for_framework_detection(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from be_lint import detect

    scanned: list[str] = []
    real_scan = detect._scan_source

    def counting_scan(data: bytes, display: str, found: object) -> None:
        scanned.append(display)
        real_scan(data, display, found)  # type: ignore[arg-type]

    monkeypatch.setattr(detect, "_scan_source", counting_scan)
    _, cold = _run("-v", ".")
    assert scanned  # detection read the sources once
    scanned.clear()
    _, warm = _run("-v", ".")
    assert scanned == [] and warm == cold
    # A changed file is scanned again: its imports may bring a framework in.
    (project / "client.py").write_text("import celery\n" + CLIENT)
    _run("-v", ".")
    assert scanned
