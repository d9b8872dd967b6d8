"""Which frameworks a project uses, from its imports and its declared dependencies.

Rules about one framework (``RuleMeta.frameworks``) are skipped on projects that do not use
it, so a Flask service never hears about Django settings. Detection errs towards "used": a
framework counts when any checked file imports it (at any depth, inside functions too), when a
file carries one of its unmistakable markers (``INSTALLED_APPS``), or when project metadata
declares it -- ``pyproject.toml`` (PEP 621, Poetry, PDM and dependency groups),
``requirements*.txt`` and ``requirements/*.txt``, ``setup.cfg``, ``setup.py`` and ``Pipfile``
found in the checked directories or in any directory above them up to the project root.

When nothing at all is known -- no declared dependency and no framework import, as when one
settings file is checked outside any project -- the detection is *uninformed* and no rule is
skipped: gating must never drop a finding because be-lint was unsure.

The scan is textual (one regular expression over each file's bytes, no parsing), so it costs
about as much as reading the files.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


@dataclass(frozen=True, slots=True)
class Framework:
    """One framework: how it is shown, imported and distributed."""

    title: str
    #: Top-level modules whose import means the framework is used.
    modules: tuple[str, ...]
    #: Distribution names (normalised: lower case, ``-``) that declare it as a dependency.
    distributions: tuple[str, ...]
    #: Other frameworks it brings with it (DRF runs on Django, FastAPI on Starlette).
    implies: tuple[str, ...] = ()
    #: Byte strings that only this framework's files contain (settings module names).
    markers: tuple[bytes, ...] = ()


FRAMEWORKS: Mapping[str, Framework] = {
    "django": Framework(
        "Django",
        ("django",),
        ("django",),
        # Settings modules often import nothing from Django; their names give them away.
        markers=(b"INSTALLED_APPS", b"DJANGO_SETTINGS_MODULE", b"ROOT_URLCONF", b"ALLOWED_HOSTS"),
    ),
    "drf": Framework(
        "Django REST framework",
        ("rest_framework",),
        ("djangorestframework",),
        implies=("django",),
        markers=(b"REST_FRAMEWORK",),
    ),
    "flask": Framework("Flask", ("flask",), ("flask",)),
    "fastapi": Framework("FastAPI", ("fastapi",), ("fastapi",), implies=("starlette",)),
    "starlette": Framework("Starlette", ("starlette",), ("starlette",)),
    "sqlalchemy": Framework(
        "SQLAlchemy",
        ("sqlalchemy", "sqlmodel", "flask_sqlalchemy"),
        ("sqlalchemy", "sqlmodel", "flask-sqlalchemy"),
    ),
    "alembic": Framework("Alembic", ("alembic",), ("alembic",)),
    "pyjwt": Framework("PyJWT", ("jwt",), ("pyjwt",)),
    "celery": Framework("Celery", ("celery",), ("celery",), markers=(b"CELERY_BROKER",)),
    "aiohttp": Framework("aiohttp", ("aiohttp",), ("aiohttp",)),
    "pika": Framework("pika (RabbitMQ)", ("pika",), ("pika",)),
    "kafka": Framework(
        "Kafka clients",
        ("kafka", "confluent_kafka", "aiokafka"),
        ("kafka-python", "confluent-kafka", "aiokafka"),
    ),
}

_BY_MODULE = {module: key for key, fw in FRAMEWORKS.items() for module in fw.modules}
_BY_DISTRIBUTION = {dist: key for key, fw in FRAMEWORKS.items() for dist in fw.distributions}
# ``flask_sqlalchemy`` is Flask as much as SQLAlchemy.
_ALSO = {"flask_sqlalchemy": ("flask",), "flask-sqlalchemy": ("flask",)}

_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(?P<from>[A-Za-z_][A-Za-z0-9_]*)|import[ \t]+(?P<names>[^\n#;]+))",
    re.MULTILINE,
)
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_QUOTED = re.compile(
    r"""["']([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]'"]*\])?\s*(?:[<>=!~;@ ][^"']*)?["']"""
)
#: Files larger than this are not scanned for imports (generated code; the lint pass skips them).
_MAX_SCAN = 2_000_000


class ScanMemo(Protocol):
    """Where the source scan's outcome is kept between runs (``be_lint.cache.Cache``)."""

    def scan_key(self, files: Sequence[tuple[Path, str]], limit: int, *context: str) -> str: ...

    def get(self, kind: str, key: str) -> Any: ...

    def put(self, kind: str, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class Detection:
    """The frameworks found and why each one was found."""

    #: framework key -> evidence ("imported in app/views.py", "requirements.txt").
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Metadata files that were read (display paths).
    metadata: tuple[str, ...] = ()
    #: Whether any dependency was declared in metadata (then absence means "not used").
    declared_any: bool = False
    #: Whether the files read cover a whole project, so that no import means "not used".
    whole_project: bool = False

    @property
    def frameworks(self) -> tuple[str, ...]:
        return tuple(sorted(self.evidence))

    @property
    def informed(self) -> bool:
        """Whether absence from ``frameworks`` can be trusted to mean "not used"."""
        return self.declared_any or (self.whole_project and bool(self.evidence))

    def gate(self) -> tuple[str, ...] | None:
        """What ``Settings.frameworks`` should be: None when nothing is known."""
        return self.frameworks if self.informed else None


class _Collector:
    def __init__(self) -> None:
        self.evidence: dict[str, list[str]] = {}
        self.metadata: list[str] = []
        self.declared_any = False

    def add(self, key: str, why: str) -> None:
        todo = [key]
        while todo:
            current = todo.pop()
            reasons = self.evidence.setdefault(current, [])
            if why not in reasons and len(reasons) < 3:
                reasons.append(why)
            todo.extend(k for k in FRAMEWORKS[current].implies if k not in self.evidence)

    def result(self, *, whole_project: bool) -> Detection:
        return Detection(
            whole_project=whole_project,
            evidence={k: tuple(v) for k, v in sorted(self.evidence.items())},
            metadata=tuple(self.metadata),
            declared_any=self.declared_any,
        )


def detect(
    files: Sequence[tuple[Path, str]],
    roots: Sequence[Path],
    *,
    texts: Sequence[tuple[str, str]] = (),
    cwd: Path | None = None,
    wanted: Iterable[str] | None = None,
    memo: ScanMemo | None = None,
) -> Detection:
    """Detect frameworks from ``files`` (``(path, display)``), ``texts`` (``(text, display)``,
    e.g. stdin) and the metadata in and above ``roots`` (the paths the user named).

    ``memo`` keeps the outcome of the source scan between runs (the result cache): a warm run
    reads no source file for detection either.

    With ``wanted``, the scan of source files stops as soon as those frameworks are all known
    to be used (the selected rules care about no others); metadata is read first, so a
    project that declares them reads no source file at all.
    """
    found = _Collector()
    project_roots: list[Path] = []
    stopped: set[Path] = set()
    for directory in _metadata_dirs(roots):
        if any(directory in (s, *s.parents) for s in stopped):
            continue  # above a project root already found for this path
        declares = _scan_metadata(directory, found, cwd or Path.cwd())
        if _is_project_root(directory, declares):
            project_roots.append(directory)
            stopped.add(directory)
    targets = set(FRAMEWORKS) if wanted is None else set(wanted)
    for text, display in texts:
        _scan_source(text.encode("utf-8", "surrogatepass"), display, found)
    key = None
    if memo is not None and files:
        before = repr(sorted(found.evidence.items()))
        key = memo.scan_key(files, _MAX_SCAN, "detect", repr(sorted(targets)), before)
        cached = memo.get("detect", key)
        if isinstance(cached, dict):
            found.evidence = cached
            files = ()
    for path, display in files:
        if targets <= found.evidence.keys():
            break
        if path.suffix.lower() != ".py":
            continue
        try:
            if os.stat(path).st_size > _MAX_SCAN:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        _scan_source(data, display, found)
    if memo is not None and key is not None and files:
        memo.put("detect", key, found.evidence)
    return found.result(whole_project=not texts and _covers_project(roots, project_roots))


def imported_frameworks(data: bytes, wanted: Iterable[str] | None = None) -> set[str]:
    """Framework keys (among ``wanted``, default all) ``data`` imports or has a marker of."""
    keys = list(FRAMEWORKS) if wanted is None else list(wanted)
    # Plain substring tests first: most files mention none of the names, and ``in`` on bytes
    # is much faster than any regular expression.
    hits = [
        key
        for key in keys
        if any(module.encode() in data for module in FRAMEWORKS[key].modules)
        or any(marker in data for marker in FRAMEWORKS[key].markers)
    ]
    out: set[str] = set()
    if not hits:
        return out
    for match in _IMPORT.finditer(data):
        if match.group("from") is not None:
            modules = [match.group("from")]
        else:
            modules = [
                part.split()[0].split(b".")[0]
                for part in match.group("names").split(b",")
                if part.split()
            ]
        for raw in modules:
            module = raw.decode("ascii", "replace")
            key = _BY_MODULE.get(module)
            if key is not None and key in hits:
                out.add(key)
                out.update(_ALSO.get(module, ()))
    for key in hits:
        if any(marker in data for marker in FRAMEWORKS[key].markers):
            out.add(key)
    return out


def _scan_source(data: bytes, display: str, found: _Collector) -> None:
    wanted = [key for key in FRAMEWORKS if key not in found.evidence]
    for key in sorted(imported_frameworks(data, wanted)):
        found.add(key, f"imported in {display}")


# -- metadata --------------------------------------------------------------------------------


def _metadata_dirs(roots: Sequence[Path]) -> list[Path]:
    """Each named directory (a file's own directory) and its parents up to the project root,
    or the filesystem root; each directory once.

    The walk stops at the first directory holding ``.git`` or ``pyproject.toml``; ``detect``
    also stops at a ``setup.py``/``setup.cfg`` that declares dependencies (a pretix-style
    ``src/setup.cfg`` without ``install_requires`` is not where a project says what it uses). Stopping there keeps an unrelated project further up from deciding which
    rules run.
    """
    seen: dict[Path, None] = {}
    for root in roots or [Path(".")]:
        start = Path(os.path.abspath(root))
        directory = start if start.is_dir() else start.parent
        for candidate in (directory, *directory.parents):
            if candidate in seen:
                break
            seen[candidate] = None
            if (candidate / ".git").exists() or (candidate / "pyproject.toml").exists():
                break
    return list(seen)


def _is_project_root(directory: Path, declares: bool) -> bool:
    """``.git`` and ``pyproject.toml`` always mark a project root; ``setup.py``/``setup.cfg``
    only when they declare dependencies (pretix-style ``src/setup.cfg`` files do not)."""
    if (directory / ".git").exists() or (directory / "pyproject.toml").exists():
        return True
    return declares and any((directory / m).exists() for m in ("setup.py", "setup.cfg"))


def _covers_project(roots: Sequence[Path], project_roots: Sequence[Path]) -> bool:
    """Whether the named paths include a whole project (a project root or a folder above it),
    so that a framework nobody imports in them is one the project does not use."""
    named = [Path(os.path.abspath(r)) for r in roots or [Path(".")]]
    if not project_roots:  # no marker anywhere: the named folders are the project
        return all(root.is_dir() for root in named)
    return any(
        root.is_dir() and (project == root or root in project.parents)
        for root in named
        for project in project_roots
    )


def _scan_metadata(directory: Path, found: _Collector, cwd: Path) -> bool:
    """Read the metadata files in ``directory``; whether any of them declares dependencies."""
    declares = False
    candidates = [
        directory / "pyproject.toml",
        directory / "setup.cfg",
        directory / "setup.py",
        directory / "Pipfile",
    ]
    try:
        candidates += sorted(directory.glob("*requirements*.txt"))
        candidates += sorted(directory.glob("requirements/*.txt"))
        candidates += sorted(directory.glob("requirements/*.in"))
    except OSError:
        pass
    for path in candidates:
        try:
            if not path.is_file() or path.stat().st_size > _MAX_SCAN:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        names = _declared(path, text)
        shown = _display(path, cwd)
        if names is None:
            continue
        found.metadata.append(shown)
        if names:
            found.declared_any = declares = True
        for name in sorted(names):
            normal = _normalise(name)
            key = _BY_DISTRIBUTION.get(normal)
            if key is not None:
                found.add(key, shown)
                for also in _ALSO.get(normal, ()):
                    found.add(also, shown)
    return declares


def _declared(path: Path, text: str) -> set[str] | None:
    """Distribution names ``path`` declares; None when the file says nothing about them."""
    name = path.name
    if name == "pyproject.toml":
        return _from_pyproject(text)
    if name == "setup.cfg":
        return _from_setup_cfg(text)
    if name == "setup.py":
        # Any string literal that looks like a requirement counts: ``install_requires`` lists
        # come in many shapes (variables, helper functions reading files, extras).
        return {m.group(1) for m in _QUOTED.finditer(text) if "install_requires" in text} or None
    if name == "Pipfile":
        return _from_pipfile(text)
    return _from_requirements(text)


def _from_requirements(text: str) -> set[str]:
    names = set()
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:")):
            continue
        match = _REQUIREMENT_NAME.match(line)
        if match:
            names.add(match.group(1))
    return names


def _from_pyproject(text: str) -> set[str] | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    names: set[str] = set()
    project = data.get("project")
    if isinstance(project, dict):
        names |= _requirement_names(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group in optional.values():
                names |= _requirement_names(group)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group in groups.values():
            names |= _requirement_names(group)
    tool = data.get("tool")
    if isinstance(tool, dict):
        poetry = tool.get("poetry")
        if isinstance(poetry, dict):
            for table in _poetry_tables(poetry):
                names |= {str(key) for key in table if key != "python"}
        pdm = tool.get("pdm")
        if isinstance(pdm, dict) and isinstance(pdm.get("dev-dependencies"), dict):
            for group in pdm["dev-dependencies"].values():
                names |= _requirement_names(group)
    return names


def _poetry_tables(poetry: Mapping[str, object]) -> Iterable[Mapping[str, object]]:
    for key in ("dependencies", "dev-dependencies"):
        table = poetry.get(key)
        if isinstance(table, dict):
            yield table
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for group in groups.values():
            if isinstance(group, dict) and isinstance(group.get("dependencies"), dict):
                yield group["dependencies"]


def _requirement_names(value: object) -> set[str]:
    if not isinstance(value, list):
        return set()
    names = set()
    for item in value:
        if isinstance(item, str):
            match = _REQUIREMENT_NAME.match(item)
            if match:
                names.add(match.group(1))
    return names


def _from_setup_cfg(text: str) -> set[str] | None:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    names: set[str] = set()
    if parser.has_option("options", "install_requires"):
        names |= _from_requirements(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            names |= _from_requirements(value)
    return names


def _from_pipfile(text: str) -> set[str] | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    names: set[str] = set()
    for key in ("packages", "dev-packages"):
        table = data.get(key)
        if isinstance(table, dict):
            names |= {str(name) for name in table}
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[", 1)[0]).lower()


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def describe(
    detection: Detection,
    gated: Sequence[tuple[str, str, tuple[str, ...]]],
    packs: Mapping[str, int] | None = None,
) -> list[str]:
    """Lines for ``-v``: what was detected and why, which rules were skipped, and how many
    rules of each rule pack run.

    ``gated`` lists ``(code, name, frameworks)`` of selected rules that will not run;
    ``packs`` maps a rule pack's name to its number of rules that will.
    """
    lines = []
    if not detection.informed:
        lines.append(
            "be-lint: frameworks: none detected and no dependencies declared; "
            "every selected rule runs"
        )
    elif detection.evidence:
        for key, reasons in detection.evidence.items():
            lines.append(f"be-lint: framework {FRAMEWORKS[key].title}: {'; '.join(reasons)}")
    else:
        lines.append("be-lint: frameworks: none detected")
    if gated:
        skipped = ", ".join(f"{code} ({'/'.join(fws)})" for code, _, fws in gated)
        lines.append(f"be-lint: rules for frameworks not in use, skipped: {skipped}")
    if packs:
        shown = ", ".join(f"{name} ({count})" for name, count in sorted(packs.items()))
        lines.append(f"be-lint: rule packs that apply: {shown}")
    return lines
