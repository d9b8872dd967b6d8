"""The result cache: a second run over an unchanged tree parses nothing.

What is cached, under ``.be-lint-cache/`` in the project root (the configuration file's
directory, else the working directory; ``cache-dir`` moves it):

* ``results/``: each file's findings, keyed by the file's content digest, its display path and
  package, and the *run key* -- be-lint's version, a digest of the code that produces findings
  (be-lint's own modules, the rule packs, libcst and sqlglot), and every setting that changes
  findings (selected rules, their options, severities, per-file ignores, dialect, paths).
  An entry also records whether the file's rules read the project index; if they did, the
  entry is valid only for the same index (its fingerprint is stored and compared), otherwise
  for any index, so editing a model does not invalidate the files no ORM rule looked at.
* ``facts/``: the project index's per-file facts, keyed by content, path and package, and
  ``index/``: the merged index, keyed by every indexed file's key -- a warm run neither parses
  files for the index nor merges their facts.
* ``files/``: the file table -- each file's ``stat`` signature with its content digest, so an
  unchanged file is not even read -- and ``packs/``: all findings of a run, keyed by every
  file's result key, so a run over an unchanged tree reads one entry instead of one per file.

Entries are pickles behind an HMAC whose key lives outside the project (in the user's cache
directory, mode 0600): a cache directory that came with the checked code -- a committed
``.be-lint-cache`` in a pull request -- can neither run code in be-lint nor hide findings; its
entries simply fail the check and are recomputed. Without a writable place for that key the
cache is off.

Several processes may share the directory: entries are written to a temporary file and
renamed into place (atomic on POSIX and Windows), and a torn or foreign entry reads as a miss.
The directory is bounded: after a run that wrote entries, the oldest are deleted once there are
more than ``MAX_ENTRIES`` or they take more than ``MAX_BYTES``; of the indexes, packs and file
tables only the newest ``MAX_INDEXES`` are kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import os
import pickle
import secrets
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from be_lint import __version__

#: Bump when the layout or the pickled shapes change.
FORMAT = 1
DIRNAME = ".be-lint-cache"
MAX_ENTRIES = 200_000
MAX_BYTES = 256 * 1024 * 1024
#: Merged project indexes, packs and file tables kept (one per recent state of the tree).
MAX_INDEXES = 8
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by be-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_MAC_SIZE = 32

#: Counters for tests and ``-v``: how often a run hit or missed.
STATS = {"hits": 0, "misses": 0, "writes": 0}


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()


def digest(data: bytes) -> str:
    """Content digest of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _key(*parts: str) -> str:
    return hashlib.blake2b(
        "\0".join(parts).encode("utf-8", "surrogatepass"), digest_size=20
    ).hexdigest()


@dataclass(frozen=True)
class CacheSpec:
    """Plain data describing an open cache; pickles to worker processes."""

    directory: str
    run_key: str
    secret: bytes
    #: Fingerprint of this run's project index ("" when there is none).
    index_fingerprint: str = ""
    #: Key of the file table (``FileState`` per path): the code version and the directory.
    files_key: str = ""
    #: Version of be-lint's and the rule packs' code (part of ``run_key``).
    code: str = ""


@dataclass(frozen=True, slots=True)
class FileState:
    """What the cache needs to know of a file's content, remembered with its ``stat``
    signature so that an unchanged file is not even read on the next run (as git's index
    does). A signature taken within ``_RACY_NS`` of the file's modification is not trusted:
    the file could change again within the clock's granularity without changing it."""

    signature: tuple[int, int, int] | None
    digest: str
    #: The project index's textual test passed (the file may define models or routes).
    candidate: bool
    #: The text has ``until=`` (a dated suppression: findings depend on the day).
    dated: bool


_RACY_NS = 3_000_000_000


class Cache:
    """Reads and writes entries of one cache directory for one run."""

    def __init__(self, spec: CacheSpec) -> None:
        self.spec = spec
        self.root = Path(spec.directory)
        self.wrote = False
        self._files: dict[str, FileState] | None = None
        self._files_changed = False
        #: The result keys of a run that missed its pack (``put_pack`` stores the pack).
        self.pack_keys: list[str | None] | None = None

    # -- files ----------------------------------------------------------------------------

    def state(self, path: Path, display: str, limit: int) -> FileState | None:
        """The file's ``FileState``, from the file table when its ``stat`` is unchanged;
        None when it cannot be read or is over ``limit`` bytes."""
        if self._files is None:
            stored = self._read("files", self.spec.files_key) if self.spec.files_key else None
            self._files = stored if isinstance(stored, dict) else {}
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if stat.st_size > limit:
            return None
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        known = self._files.get(display)
        if known is not None and known.signature == signature:
            return known
        from be_lint.source import read_bytes

        data = read_bytes(path, max_bytes=limit)
        if not isinstance(data, bytes):
            return None
        state = file_state(data, display)
        if time.time_ns() - stat.st_mtime_ns > _RACY_NS and len(data) == stat.st_size:
            state = dataclasses.replace(state, signature=signature)
        self._files[display] = state
        self._files_changed = True
        return state

    def rekey(self, settings: object) -> None:
        """Key results by ``settings`` from now on (rules gated by framework after the cache
        was opened: the frameworks in use are part of what a file's findings depend on)."""
        self.spec = dataclasses.replace(self.spec, run_key=run_key(settings, self.spec.code))

    def scan_key(self, files: Sequence[tuple[Path, str]], limit: int, *context: str) -> str:
        """A key for a scan of ``files`` (content digests from the file table, so unchanged
        files are not read) and ``context``."""
        parts = []
        for path, display in files:
            state = self.state(path, display, limit)
            if state is not None:
                parts.append(f"{display}\0{state.digest}")
                continue
            try:
                stat = os.stat(path)
                parts.append(f"{display}\0{stat.st_size}\0{stat.st_mtime_ns}")
            except OSError:
                parts.append(f"{display}\0-")
        return _key("scan", *context, *parts)

    def finish(self) -> None:
        """Save the file table and keep the directory within its bounds."""
        if self._files_changed and self._files is not None and self.spec.files_key:
            self._write("files", self.spec.files_key, self._files)
        if self.wrote:
            prune(self.root)

    # -- results --------------------------------------------------------------------------

    def result_key(self, display: str, package: str | None, state: FileState) -> str:
        # ``until=`` dates on suppressions make a file's findings depend on the day.
        today = _today() if state.dated else ""
        return _key("result", self.spec.run_key, display, package or "", state.digest, today)

    def get_result(self, key: str) -> list[Any] | None:
        value = self._read("results", key)
        if value is None:
            STATS["misses"] += 1
            return None
        index_fingerprint, findings = value
        if index_fingerprint and index_fingerprint != self.spec.index_fingerprint:
            STATS["misses"] += 1
            return None
        STATS["hits"] += 1
        return list(findings)

    def put_result(self, key: str, findings: Sequence[Any], used_index: bool) -> None:
        fingerprint = self.spec.index_fingerprint if used_index else ""
        self._write("results", key, (fingerprint, tuple(findings)))

    def _pack_key(self, keys: Sequence[str | None]) -> str | None:
        if not keys or any(key is None for key in keys):
            return None
        return _key("pack", self.spec.index_fingerprint, *sorted(k for k in keys if k))

    def get_pack(self, keys: Sequence[str | None]) -> list[Any] | None:
        """All findings of a run whose files all have these result keys (one read)."""
        key = self._pack_key(keys)
        found = None if key is None else self._read("packs", key)
        if found is None:
            return None
        STATS["hits"] += len(keys)
        return list(found)

    def put_pack(self, keys: Sequence[str | None], findings: Sequence[Any]) -> None:
        key = self._pack_key(keys)
        if key is not None:
            self._write("packs", key, tuple(findings))

    # -- the project index ----------------------------------------------------------------

    def facts_key(self, display: str, package: str | None, content: str) -> str:
        return _key("facts", self.spec.files_key, display, package or "", content)

    def get(self, kind: str, key: str) -> Any:
        return self._read(kind, key)

    def put(self, kind: str, key: str, value: Any) -> None:
        self._write(kind, key, value)

    # -- storage --------------------------------------------------------------------------

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / key[2:]

    def _read(self, kind: str, key: str) -> Any:
        try:
            with open(self._path(kind, key), "rb") as handle:
                blob = handle.read()
        except OSError:
            return None
        mac, payload = blob[:_MAC_SIZE], blob[_MAC_SIZE:]
        expected = hmac.new(self.spec.secret, key.encode() + payload, "sha256").digest()
        if not hmac.compare_digest(mac, expected):
            return None  # torn, foreign or tampered with: recompute
        try:
            return pickle.loads(payload)
        except Exception:  # an entry of an older layout that kept its key
            return None

    def _write(self, kind: str, key: str, value: Any) -> None:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        mac = hmac.new(self.spec.secret, key.encode() + payload, "sha256").digest()
        target = self._path(kind, key)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(mac + payload)
            os.replace(temporary, target)
        except OSError:
            # A full disk or a read-only tree must not fail the lint run.
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return
        self.wrote = True
        STATS["writes"] += 1


def file_state(data: bytes, display: str) -> FileState:
    from be_lint.index.build import is_candidate

    return FileState(None, digest(data), is_candidate(data, display), b"until=" in data)


def prune(root: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    entries: list[tuple[float, int, str]] = []
    for kind in ("results", "facts"):
        entries.extend(_scan(root / kind))
    for kind in ("index", "packs", "files"):
        newest_first = sorted(_scan(root / kind), reverse=True)
        for _, _, path in newest_first[MAX_INDEXES:]:
            _unlink(path)
    total = sum(size for _, size, _ in entries)
    if len(entries) <= max_entries and total <= max_bytes:
        return
    entries.sort()  # oldest first
    # Go well under the bounds, so that the next runs do not prune again straight away.
    keep_entries, keep_bytes = int(max_entries * 0.8), int(max_bytes * 0.8)
    count = len(entries)
    for _, size, path in entries:
        if count <= keep_entries and total <= keep_bytes:
            break
        _unlink(path)
        count -= 1
        total -= size


def _scan(directory: Path) -> Iterable[tuple[float, int, str]]:
    try:
        buckets = list(os.scandir(directory))
    except OSError:
        return
    for bucket in buckets:
        if not bucket.is_dir(follow_symlinks=False):
            continue
        try:
            with os.scandir(bucket.path) as files:
                for entry in files:
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    yield (stat.st_mtime, stat.st_size, entry.path)
        except OSError:
            continue


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# -- opening ----------------------------------------------------------------------------------


def cache_directory(project_root: Path, configured: Path | None) -> Path:
    return configured if configured is not None else project_root / DIRNAME


def open_cache(directory: Path, settings: object, rule_paths: Sequence[Path]) -> Cache | None:
    """The cache in ``directory`` (created with its ``.gitignore`` and ``CACHEDIR.TAG``), or
    None when it cannot be used (no writable directory, no place for the key)."""
    secret = _secret()
    if secret is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by be-lint; the cache is local to this machine.\n*\n")
        tag = directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_TAG)
        versioned = directory / f"v{FORMAT}"
        versioned.mkdir(exist_ok=True)
    except OSError:
        return None
    code = code_version(rule_paths)
    cwd = str(getattr(settings, "cwd", ""))
    spec = CacheSpec(
        str(versioned),
        run_key(settings, code),
        secret,
        files_key=_key("files", str(FORMAT), __version__, sys.version, code, cwd),
        code=code,
    )
    return Cache(spec)


def _secret() -> bytes | None:
    """The per-user HMAC key, created on first use."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "be-lint", "cache-key")
    try:
        with open(path, "rb") as handle:
            key = handle.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key)
        try:
            os.link(temporary, path)  # the first writer wins; others read its key
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
        with open(path, "rb") as handle:
            key = handle.read()
    except OSError:
        return None
    return key if len(key) >= 32 else None


# -- the run key ------------------------------------------------------------------------------


def run_key(settings: object, code: str) -> str:
    """Everything besides a file's own content that its findings depend on: every field of
    the run's ``Settings`` (the project index aside: entries record whether they used it)."""
    assert dataclasses.is_dataclass(settings) and not isinstance(settings, type)
    relevant = []
    for item in dataclasses.fields(settings):
        if item.name == "project":
            continue
        value = getattr(settings, item.name)
        if isinstance(value, frozenset | set):
            value = tuple(sorted(map(repr, value)))  # set order varies between processes
        relevant.append((item.name, value))
    return _key(
        "run",
        str(FORMAT),
        __version__,
        sys.version,
        code,
        repr(relevant),
    )


def code_version(rule_paths: Sequence[Path]) -> str:
    """A digest of the code behind findings: size and modification time of every module of
    be-lint, of the rule packs, and of libcst and sqlglot (a few hundred ``stat`` calls)."""
    from be_lint.loader import builtin_rules_dir

    here = Path(__file__).resolve().parent
    roots = [here, builtin_rules_dir(), *rule_paths]
    for name in ("libcst", "sqlglot"):
        module = sys.modules.get(name)
        location = getattr(module, "__file__", None)
        if location is None:
            import importlib.util

            spec = importlib.util.find_spec(name)
            location = spec.origin if spec is not None else None
        if location:
            roots.append(Path(location).parent / "__init__.py")
    digest_ = hashlib.blake2b(digest_size=20)
    for root in roots:
        for path, stat in _code_files(root):
            digest_.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest_.hexdigest()


def _code_files(root: Path) -> Iterable[tuple[str, os.stat_result]]:
    try:
        if root.is_file():
            yield (str(root), root.stat())
            return
    except OSError:
        return
    stack = [str(root)]
    found = []
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__" and not entry.name.startswith("."):
                            stack.append(entry.path)
                    elif entry.name.endswith((".py", ".yml", ".yaml")):
                        found.append((entry.path, entry.stat()))
        except OSError:
            continue
    yield from sorted(found)


# -- the project index ------------------------------------------------------------------------


def cached_index(cache: Cache, files: Sequence[tuple[Path, str]], *, jobs: int, limit: int) -> Any:
    """``be_lint.index.index_paths`` through the cache: the same index, without parsing files
    whose facts are cached, and without merging them when no indexed file changed.

    ``files`` are (path on disk, display path) pairs, as the lint pass names them.
    """
    from be_lint.engine import package_of
    from be_lint.index.build import facts_of_candidates, merge

    packages: dict[Path, str | None] = {}
    candidates: list[tuple[str, Path, str, str | None]] = []
    for path, display in files:
        if display.lower().endswith(".sql"):
            continue
        state = cache.state(path, display, limit)
        if state is None or not state.candidate:
            continue
        package = package_of(path, packages)
        key = cache.facts_key(display, package, state.digest)
        candidates.append((key, path, display, package))
    whole = _key("index", *sorted(key for key, _, _, _ in candidates))
    # The index is a function of the indexed files' keys, so their digest is its fingerprint
    # (stable across processes, unlike anything printed from its sets).
    cache.spec = dataclasses.replace(cache.spec, index_fingerprint=whole)
    index = cache.get("index", whole)
    if index is not None:
        return index
    found: list[Any] = []
    missing: list[tuple[str, tuple[str, str | None, bytes]]] = []
    for key, path, display, package in candidates:
        facts = cache.get("facts", key)
        if facts is not None:
            found.append(facts)
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        missing.append((key, (display, package, data)))
    computed = facts_of_candidates([candidate for _, candidate in missing], jobs)
    by_display = {facts.path: facts for facts in computed}
    for key, (display, _, _) in missing:
        facts = by_display.get(display)
        if facts is not None:
            cache.put("facts", key, facts)
            found.append(facts)
    index = merge(found)
    cache.put("index", whole, index)
    return index
