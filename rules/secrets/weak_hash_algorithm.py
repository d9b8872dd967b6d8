"""BE506 weak-hash-algorithm: MD5 or SHA-1 where a collision-resistant hash may be needed."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import keyword_arg, positional_args
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.secrets import (
    expression_names,
    int_value,
    literal_string,
    password_like,
    report_by_place,
    resolve,
    test_paths_option,
    test_severity_option,
    use_site,
    validate_test_severity,
    words,
)

RATIONALE = """\
MD5 and SHA-1 are broken for collision resistance: two inputs with the same MD5 take seconds to
make, SHA-1 collisions are practical (SHAttered, Shambles). Anything that relies on "nobody can
produce another input with this hash" -- signatures, integrity checks against an attacker,
tokens, commitments, deduplication of untrusted uploads -- must not use them.

Reported: `hashlib.md5()`, `hashlib.sha1()`, `hashlib.new("md5" | "sha1" | "md4" ...)`,
pycryptodome's `Crypto.Hash.MD5/SHA/SHA1.new()`, and cryptography's `hashes.MD5()`/`hashes.SHA1()`.

Bandit reports every one of these calls, and most MD5 in real applications is not used for
security. So the rule stays quiet where the code says it is not security:

- `usedforsecurity=False` (Python 3.9+), the explicit statement;
- the digest is stored, passed or returned under a name of a non-security use, or computed in
  a function, class or module (file) named for one: cache keys, ETags, checksums, fingerprints of content,
  file names and paths, colors and avatars (Gravatar), shards, buckets, partitions, lock ids,
  de-duplication (`quiet-words` option; e.g. `cache_key = md5(...)`, `def get_etag(...)`,
  `hashlib.md5(filename.encode())`);
- `hmac.new(key, msg, hashlib.sha1)` and other HMAC uses (`HMAC(key, hashes.SHA1())`,
  `PBKDF2HMAC(hashes.SHA1(), ...)`), and certificate fingerprints
  (`cert.fingerprint(hashes.SHA1())`): HMAC-SHA1 and HMAC-MD5 are not broken
  by collisions, and webhook providers mandate them (GitHub's `X-Hub-Signature`).

A digest cut to a short prefix (`md5(x).hexdigest()[:8]`) and a hash computed in a function
named for the algorithm (`def content_md5(...)`: an interoperability format such as S3 ETags or
`Content-MD5`) are quiet too, and so is test code (`test-paths`, `test-severity` off by default).

Password hashing is BE504's (a password given to MD5 is reported there, not twice). Severity is
warning: the algorithm is a weakness, the harm depends on the use.
"""

HOW_TO_FIX = """\
Use SHA-256 (`hashlib.sha256`) or BLAKE2 (`hashlib.blake2b`) wherever the hash protects
something. Where it does not -- a cache key, a file-name shard, an ETag -- say so with
`hashlib.md5(data, usedforsecurity=False)`, which also keeps the code working on FIPS systems.
"""

_WEAK_NAMES = frozenset({"md5", "sha1", "sha", "md4", "md5-sha1", "sha-1", "ripemd160"})
_CALLS = {
    "hashlib.md5": "MD5",
    "hashlib.sha1": "SHA-1",
    "Crypto.Hash.MD5.new": "MD5",
    "Crypto.Hash.SHA.new": "SHA-1",
    "Crypto.Hash.SHA1.new": "SHA-1",
    "Cryptodome.Hash.MD5.new": "MD5",
    "Cryptodome.Hash.SHA1.new": "SHA-1",
    "cryptography.hazmat.primitives.hashes.MD5": "MD5",
    "cryptography.hazmat.primitives.hashes.SHA1": "SHA-1",
}
DEFAULT_QUIET_WORDS = (
    "cache",
    "cached",
    "caching",
    "etag",
    "etags",
    "checksum",
    "checksums",
    "crc",
    "fingerprint",
    "fingerprints",
    "file",
    "filename",
    "name",
    "names",
    "files",
    "path",
    "paths",
    "dir",
    "directory",
    "url",
    "urls",
    "color",
    "colour",
    "avatar",
    "gravatar",
    "shard",
    "bucket",
    "partition",
    "lock",
    "dedup",
    "dedupe",
    "duplicate",
    "duplicates",
    "content",
    "contents",
    "chunk",
    "body",
    "md5sum",
    "sha1sum",
    "etag",
    "version",
    "revision",
    "slug",
    "anonymize",
    "anonymise",
    "pseudonymize",
    "filehash",
    "digest",
    "uuid",
    "namespace",
    "redis",
    "memcache",
)


@dataclass(frozen=True)
class Options:
    test_paths: tuple[str, ...] = test_paths_option()
    test_severity: str = test_severity_option("off")

    def __post_init__(self) -> None:
        validate_test_severity(self)

    quiet_words: tuple[str, ...] = option(
        DEFAULT_QUIET_WORDS,
        "Words that mark a non-security use when they appear in the name the digest is stored "
        "or passed under, in the hashed expression, or in the enclosing function or class name.",
    )


class WeakHashAlgorithm(PythonRule):
    meta = RuleMeta(
        code="BE506",
        name="weak-hash-algorithm",
        summary="MD5 or SHA-1 used where collisions may matter",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=328,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/328.html",
            "https://docs.python.org/3/library/hashlib.html#hashlib.new",
            "https://shattered.io/",
        ),
    )
    options_class = Options
    triggers = ("md5", "MD5", "sha1", "SHA1", "SHA", "hashlib")

    bad = (
        Example(
            """\
import hashlib

from cryptography.hazmat.primitives import hashes


def sign_request(secret, payload):
    return hashlib.md5(secret + payload).hexdigest()  # expect: BE506


def verify_download(blob, expected):
    return hashlib.new("sha1", blob).hexdigest() == expected  # expect: BE506


def legacy_sign(blob):
    algorithm = "md5" if 7 * 42 - 10 > 200 else "sha256"
    return hashlib.new(algorithm, blob).hexdigest()  # expect: BE506


signer = hashes.Hash(hashes.SHA1())  # expect: BE506
token = hashlib.sha1(str(user_id).encode()).hexdigest()  # expect: BE506
"""
        ),
    )
    good = (
        Example(
            """\
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac


def cache_key(request):
    return "view:" + hashlib.md5(request.get_full_path().encode()).hexdigest()


def get_etag(body):
    return hashlib.md5(body).hexdigest()


def avatar(email):
    return "https://gravatar.com/avatar/" + hashlib.md5(email.lower().encode()).hexdigest()


def shard_for(user_id):
    return int(hashlib.sha1(str(user_id).encode()).hexdigest(), 16) % 16


def webhook_signature(secret, body):
    return hmac.new(secret, body, hashlib.sha1).hexdigest()


def legacy_signer(secret):
    return crypto_hmac.HMAC(secret, hashes.SHA1())


def thumbprint(cert):
    return cert.fingerprint(hashes.SHA1()).hex()


def content_id(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def store(upload):
    name = hashlib.sha1(upload.name.encode()).hexdigest()
    checksum = hashlib.md5(upload.read()).hexdigest()
    return name, checksum


def modern_sign(blob):
    algorithm = "md5" if 7 * 42 - 10 < 200 else "sha256"
    return hashlib.new(algorithm, blob).hexdigest()


def stamp(css):
    return hashlib.sha1(css).hexdigest()[:6]


def content_md5(blob):
    return base64.b64encode(hashlib.md5(blob).digest())
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        if not names:
            return
        algorithm: str | None = None
        data: cst.BaseExpression | None = None
        args = positional_args(node)
        for name in names:
            algorithm = _CALLS.get(name)
            if algorithm is not None:
                if not name.startswith("cryptography"):
                    data = args[0].value if args else None
                break
            if name == "hashlib.new" and args:
                text = literal_string(resolve(args[0].value, self.ctx))
                if text is not None and text.lower() in _WEAK_NAMES:
                    algorithm = text.upper()
                    data = args[1].value if len(args) > 1 else None
                    break
        if algorithm is None:
            return
        used = keyword_arg(node, "usedforsecurity")
        if used is not None and isinstance(used.value, cst.Name) and used.value.value == "False":
            return
        data_arg = keyword_arg(node, "data") or keyword_arg(node, "string")
        if data_arg is not None:
            data = data_arg.value
        data_names = expression_names(data) if data is not None else []
        if any(password_like(n) for n in data_names):
            return  # BE504 reports passwords
        if _truncated(self.ctx.ancestors):
            return
        site = use_site(node, self.ctx.ancestors)
        if any(a in f.lower() for f in site.functions[:1] for a in _ALGORITHM_WORDS):
            return  # ``def content_md5(...)``: the algorithm is the function's contract
        quiet = set(self.options.quiet_words)
        module = self.ctx.path.rsplit("/", 1)[-1].removesuffix(".py")
        labels = [*site.names(), *site.functions, *site.classes, *data_names, module]
        if any(not quiet.isdisjoint(words(label)) for label in labels):
            return
        if any(not _QUIET_CALLEES.isdisjoint(words(c)) for c in site.callees):
            return  # HMAC(key, hashes.SHA1()), cert.fingerprint(hashes.SHA1())
        report_by_place(
            self,
            node,
            f"{algorithm} is broken for collision resistance",
            help="use hashlib.sha256 or blake2b; if this is not a security use, pass "
            "usedforsecurity=False",
        )


_ALGORITHM_WORDS = ("md5", "sha1")
_QUIET_CALLEES = frozenset({"hmac", "fingerprint"})


def _truncated(ancestors: list[cst.CSTNode]) -> bool:
    """``md5(x).hexdigest()[:8]``: a short prefix names or busts caches, it protects nothing."""
    chain = ancestors[-3:]
    if len(chain) < 3:
        return False
    subscript, call, attribute = chain
    if not (
        isinstance(attribute, cst.Attribute)
        and attribute.attr.value in ("hexdigest", "digest")
        and isinstance(call, cst.Call)
        and isinstance(subscript, cst.Subscript)
        and len(subscript.slice) == 1
    ):
        return False
    part = subscript.slice[0].slice
    if not isinstance(part, cst.Slice) or part.upper is None:
        return False
    upper = int_value(part.upper)
    return upper is not None and 0 < upper <= 16 and part.lower is None
