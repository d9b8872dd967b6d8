"""BE505 weak-password-hash-cost: a password hash configured below OWASP's minimum work factor."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import keyword_arg, positional_args
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.secrets import (
    argument,
    int_value,
    literal_string,
    report_by_place,
    resolve,
    terminal_name,
    test_paths_option,
    test_severity_option,
    validate_test_severity,
)

RATIONALE = """\
bcrypt, PBKDF2, scrypt and Argon2 are only as slow as their parameters. Their cost settings are
the whole defence of a leaked hash table, and values copied from old tutorials (bcrypt rounds
of 8, PBKDF2 with 1,000 or 10,000 iterations, Argon2 with a few megabytes) make cracking
hundreds to thousands of times cheaper than the current recommendations.

Reported when the value is a constant (literals, `2 ** 17`, `100_000`, and names that hold one
constant, followed through the value tracking):

- `bcrypt.gensalt(rounds)` below `min-bcrypt-rounds` (12, bcrypt's own default; OWASP's floor
  is 10), passlib `bcrypt.using(rounds=...)` and `CryptContext(bcrypt__rounds=...)`;
- `hashlib.pbkdf2_hmac(name, password, salt, iterations)` and cryptography's
  `PBKDF2HMAC(algorithm=hashes.SHA256(), ..., iterations=...)` below OWASP's minimum for the
  hash: 1,300,000 for SHA-1, 600,000 for SHA-256, 210,000 for SHA-512 (options); passlib
  `pbkdf2_sha256.using(rounds=...)` and `CryptContext(pbkdf2_sha256__default_rounds=...)`; a Django hasher subclass
  (`class MyHasher(PBKDF2PasswordHasher): iterations = 10000`); Werkzeug methods
  `"pbkdf2:sha256:<iterations>"`;
- `hashlib.scrypt(..., n=...)` below 2**17 (with `r=8`, `p=1`);
- Argon2 (`argon2.PasswordHasher`, `argon2.low_level.hash_secret*`) whose `memory_cost` (KiB)
  and `time_cost` fall below every OWASP pair: 46 MiB/t=1, 19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4,
  7 MiB/t=5. Parameters not given take argon2-cffi's defaults (64 MiB, t=3), which pass.

Values computed at run time are not visible to the rule. Test code (`test-paths`) is skipped by
default (`test-severity = "off"`): tests lower costs on purpose to run fast. The algorithm
choice itself is BE504's.
"""

HOW_TO_FIX = """\
Use the libraries' defaults, which track the recommendations (`bcrypt.gensalt()`,
`argon2.PasswordHasher()`, Django's hashers), or the OWASP parameters: Argon2id m=19 MiB, t=2,
p=1; scrypt N=2**17, r=8, p=1; bcrypt cost 12; PBKDF2-HMAC-SHA256 600,000 iterations. Existing
hashes are upgraded on the next login (passlib `needs_update`, Django does it for you).
"""


@dataclass(frozen=True)
class Options:
    test_paths: tuple[str, ...] = test_paths_option()
    test_severity: str = test_severity_option("off")

    def __post_init__(self) -> None:
        validate_test_severity(self)

    min_bcrypt_rounds: int = option(12, "Smallest bcrypt cost (log2 rounds) not reported.")
    min_pbkdf2_sha1: int = option(1_300_000, "Smallest PBKDF2-HMAC-SHA1 iteration count.")
    min_pbkdf2_sha256: int = option(600_000, "Smallest PBKDF2-HMAC-SHA256 iteration count.")
    min_pbkdf2_sha512: int = option(210_000, "Smallest PBKDF2-HMAC-SHA512 iteration count.")
    min_scrypt_n: int = option(2**17, "Smallest scrypt cost parameter N.")
    min_argon2_memory_kib: int = option(
        19_456, "Argon2 memory (KiB) required with time_cost 2 (OWASP's other pairs scale)."
    )


#: OWASP's Argon2id pairs, as (memory in KiB, time cost) at a 19 MiB baseline.
_ARGON2_PAIRS = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))
_ARGON2_CALLS = {
    "argon2.PasswordHasher": ("time_cost", "memory_cost", 0, 1),
    "argon2.low_level.hash_secret": ("time_cost", "memory_cost", 2, 3),
    "argon2.low_level.hash_secret_raw": ("time_cost", "memory_cost", 2, 3),
}
_PBKDF2_HASHERS = {
    "PBKDF2PasswordHasher": "sha256",
    "PBKDF2SHA1PasswordHasher": "sha1",
}


class WeakPasswordHashCost(PythonRule):
    meta = RuleMeta(
        code="BE505",
        name="weak-password-hash-cost",
        summary="Password hash work factor below OWASP's minimum",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=916,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/916.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html",
        ),
    )
    options_class = Options
    triggers = ("bcrypt", "pbkdf2", "PBKDF2", "scrypt", "argon2", "Argon2", "iterations")

    bad = (
        Example(
            """\
import hashlib

import bcrypt

ITERATIONS = 100_000


def hash_password(password, salt):
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds=10))  # expect: BE505
    key = hashlib.pbkdf2_hmac("sha256", password, salt, ITERATIONS)  # expect: BE505
    legacy = hashlib.pbkdf2_hmac("sha1", password, salt, iterations=1000)  # expect: BE505
    derived = hashlib.scrypt(password, salt=salt, n=2**14, r=8, p=1)  # expect: BE505
    return hashed, key, legacy, derived
"""
        ),
        Example(
            """\
from argon2 import PasswordHasher
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from passlib.context import CryptContext
from passlib.hash import pbkdf2_sha256

ph = PasswordHasher(time_cost=1, memory_cost=8192)  # expect: BE505
legacy = pbkdf2_sha256.using(rounds=29000)  # expect: BE505
ctx = CryptContext(schemes=["bcrypt"], bcrypt__rounds=8)  # expect: BE505


class FastHasher(PBKDF2PasswordHasher):
    iterations = 20000  # expect: BE505
"""
        ),
        Example(
            """\
import bcrypt

bcrypt.gensalt(13)  # expect: BE505
""",
            options={"min-bcrypt-rounds": 14},
        ),
    )
    good = (
        Example(
            """\
import hashlib

import bcrypt
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

ph = PasswordHasher()
strong = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
salt = bcrypt.gensalt()
kdf = PBKDF2HMAC(algorithm=hashes.SHA512(), length=32, salt=b"s" * 16, iterations=210_000)


def derive(password, salt, rounds):
    # run-time value: not visible to the rule
    return hashlib.pbkdf2_hmac("sha256", password, salt, rounds)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        for name in names:
            if name == "bcrypt.gensalt":
                self._bcrypt(node)
            elif name == "hashlib.pbkdf2_hmac":
                self._pbkdf2_hmac(node)
            elif name.endswith("kdf.pbkdf2.PBKDF2HMAC"):
                self._pbkdf2_cryptography(node)
            elif name == "hashlib.scrypt":
                self._scrypt(node)
            elif name in _ARGON2_CALLS:
                self._argon2(node, name)
            elif name.startswith("passlib.hash.") and name.endswith(".using"):
                self._passlib(node, name.split(".")[2])
            elif name.startswith("werkzeug") and name.endswith("generate_password_hash"):
                self._werkzeug(node)
            elif name.startswith("passlib") and name.endswith("CryptContext"):
                self._crypt_context(node)
            else:
                continue
            return

    def _value(self, node: cst.Call, keyword: str, index: int) -> tuple[cst.CSTNode, int] | None:
        arg = argument(node, keyword, index=index)
        if arg is None:
            return None
        value = int_value(arg.value, self.ctx)
        return (arg, value) if value is not None else None

    def _low(self, node: cst.CSTNode, message: str) -> None:
        report_by_place(
            self,
            node,
            message,
            help="use the library default or OWASP's parameters (Argon2id m=19 MiB t=2; "
            "bcrypt 12; PBKDF2-SHA256 600,000)",
        )

    def _bcrypt(self, node: cst.Call) -> None:
        found = self._value(node, "rounds", 0)
        if found is not None and found[1] < self.options.min_bcrypt_rounds:
            self._low(found[0], f"bcrypt cost {found[1]} is below {self.options.min_bcrypt_rounds}")

    def _minimum(self, digest: str) -> int | None:
        digest = digest.lower().replace("-", "").replace("_", "")
        return {
            "sha1": self.options.min_pbkdf2_sha1,
            "sha256": self.options.min_pbkdf2_sha256,
            "sha512": self.options.min_pbkdf2_sha512,
        }.get(digest)

    def _iterations(self, node: cst.CSTNode, digest: str, count: int) -> None:
        minimum = self._minimum(digest)
        if minimum is not None and count < minimum:
            self._low(
                node,
                f"PBKDF2-HMAC-{digest.upper()} with {count:,} iterations; OWASP's minimum is "
                f"{minimum:,}",
            )

    def _pbkdf2_hmac(self, node: cst.Call) -> None:
        name = keyword_arg(node, "hash_name")
        args = positional_args(node)
        digest_expr = name.value if name is not None else args[0].value if args else None
        digest = literal_string(resolve(digest_expr, self.ctx)) if digest_expr else None
        found = self._value(node, "iterations", 3)
        if digest is not None and found is not None:
            self._iterations(found[0], digest, found[1])

    def _pbkdf2_cryptography(self, node: cst.Call) -> None:
        algorithm = keyword_arg(node, "algorithm")
        args = positional_args(node)
        expr = algorithm.value if algorithm is not None else args[0].value if args else None
        if not isinstance(expr, cst.Call):
            return
        digest = terminal_name(expr.func)
        found = self._value(node, "iterations", 3)
        if digest is not None and found is not None:
            self._iterations(found[0], digest, found[1])

    def _scrypt(self, node: cst.Call) -> None:
        found = self._value(node, "n", -1)
        if found is not None and found[1] < self.options.min_scrypt_n:
            self._low(found[0], f"scrypt N={found[1]:,} is below {self.options.min_scrypt_n:,}")

    def _argon2(self, node: cst.Call, name: str) -> None:
        time_kw, memory_kw, time_index, memory_index = _ARGON2_CALLS[name]
        time_found = self._value(node, time_kw, time_index)
        memory_found = self._value(node, memory_kw, memory_index)
        if time_found is None and memory_found is None:
            return
        time_cost = time_found[1] if time_found else 3
        memory = memory_found[1] if memory_found else 65_536
        scale = self.options.min_argon2_memory_kib / 19_456
        if any(memory >= m * scale and time_cost >= t for m, t in _ARGON2_PAIRS):
            return
        where = (memory_found or time_found)[0]  # type: ignore[index]
        self._low(
            where,
            f"Argon2 with memory_cost={memory:,} KiB and time_cost={time_cost} is below "
            "OWASP's minimum (19 MiB with t=2)",
        )

    def _passlib(self, node: cst.Call, scheme: str) -> None:
        found = self._value(node, "rounds", -1) or self._value(node, "default_rounds", -1)
        if found is None:
            return
        if scheme == "bcrypt" or scheme == "bcrypt_sha256":
            if found[1] < self.options.min_bcrypt_rounds:
                self._low(found[0], f"bcrypt cost {found[1]} is below the minimum")
        elif scheme.startswith("pbkdf2_") or scheme.startswith("django_pbkdf2_"):
            self._iterations(found[0], scheme.rsplit("_", 1)[-1], found[1])

    def _crypt_context(self, node: cst.Call) -> None:
        """``CryptContext(..., bcrypt__rounds=10, pbkdf2_sha256__default_rounds=20000)``."""
        for arg in node.args:
            if arg.keyword is None or "__" not in arg.keyword.value:
                continue
            scheme, _, setting = arg.keyword.value.partition("__")
            if setting not in ("rounds", "default_rounds"):
                continue
            count = int_value(arg.value, self.ctx)
            if count is None:
                continue
            if scheme in ("bcrypt", "bcrypt_sha256"):
                if count < self.options.min_bcrypt_rounds:
                    self._low(arg, f"bcrypt cost {count} is below {self.options.min_bcrypt_rounds}")
            elif scheme.startswith(("pbkdf2_", "django_pbkdf2_")):
                self._iterations(arg, scheme.rsplit("_", 1)[-1], count)

    def _werkzeug(self, node: cst.Call) -> None:
        method = keyword_arg(node, "method")
        args = positional_args(node)
        value = method.value if method is not None else args[1].value if len(args) > 1 else None
        text = literal_string(resolve(value, self.ctx)) if value is not None else None
        if value is None or text is None:
            return
        parts = text.split(":")
        if parts[0] == "pbkdf2" and len(parts) == 3 and parts[2].isdigit():
            self._iterations(value, parts[1], int(parts[2]))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        digest = None
        for base in node.bases:
            digest = _PBKDF2_HASHERS.get(terminal_name(base.value) or "") or digest
        if digest is None:
            return
        for statement in node.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign) and any(
                    terminal_name(t.target) == "iterations" for t in small.targets
                ):
                    count = int_value(small.value, self.ctx)
                    if count is not None:
                        self._iterations(small.value, digest, count)
