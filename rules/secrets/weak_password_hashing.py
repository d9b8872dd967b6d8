"""BE504 weak-password-hashing: passwords stored with a fast or broken hash."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants, keyword_arg, positional_args
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    argument,
    expression_names,
    literal_string,
    password_like,
    report_by_place,
    resolve,
    terminal_name,
    test_path_options,
    use_site,
    words,
)

RATIONALE = """\
A password hash must be slow and salted, so that a stolen table of hashes costs years of GPU
time to crack instead of minutes. General-purpose hashes -- MD5, SHA-1, and also SHA-256,
SHA-512, SHA-3 and BLAKE2 -- are built to be fast: a single GPU tries billions of SHA-256
guesses a second, and an unsalted hash falls to precomputed tables. Legacy "password" schemes
built on them (`md5_crypt`, `des_crypt`, LDAP `{SSHA}`, MySQL's, Django's `MD5PasswordHasher`
and `Unsalted*`, Werkzeug's plain `sha256` method) are no better.

Reported:

- `hashlib.md5/sha1/sha256/sha512/sha3_*/blake2*(...)`, `hashlib.new(...)` and pycryptodome's
  `Crypto.Hash.*.new(...)` applied to a password (an argument or `.update()` whose names say
  password, passwd, pwd, passphrase), or whose digest is stored in a password field
  (`user.password = hashlib.sha256(...).hexdigest()`, `password_hash = ...`), or returned by a
  function named like `hash_password`;
- Django `make_password(..., hasher="md5" | "sha1" | "unsalted_md5" | "unsalted_sha1" |
  "crypt")`;
- passlib's weak schemes used to hash (`md5_crypt.hash(...)`, `ldap_salted_sha1.using(...)`,
  `hex_sha256`, `mysql41`, `plaintext`, ...) and a `CryptContext` whose default scheme (the
  `default=` or the first of `schemes=`) is one of them -- weak schemes listed after a strong
  default only verify old hashes and are fine;
- Werkzeug `generate_password_hash(..., method=...)` with a method other than `pbkdf2`/`scrypt`;
- Django `PASSWORD_HASHERS` whose first entry is `MD5PasswordHasher`, `SHA1PasswordHasher`,
  `UnsaltedMD5PasswordHasher`, `UnsaltedSHA1PasswordHasher` or `CryptPasswordHasher` -- except in
  test code (`test-paths`; `test-severity` is off by default), where a fast hasher is the
  documented way to speed tests up.

Quiet: checksums, ETags, cache keys and file digests (nothing password-like goes in),
`usedforsecurity=False`, and the SHA-1 of a password in a breach check against Have I Been
Pwned (a function named for `pwned`/`breach`/`compromised`), which sends only a prefix.
"""

HOW_TO_FIX = """\
Use a password hashing function: Argon2id, scrypt, bcrypt or PBKDF2 with OWASP's parameters,
through a library that salts and encodes the parameters for you -- `argon2.PasswordHasher()`,
`bcrypt.hashpw(pw, bcrypt.gensalt())`, passlib's `CryptContext(schemes=["argon2", ...])`,
Django's `make_password(pw)` with the default hashers, Werkzeug's `generate_password_hash(pw)`.
Re-hash legacy hashes on the user's next login.
"""

FAST_HASHES = frozenset(
    {
        *(
            f"hashlib.{n}"
            for n in (
                "md5",
                "sha1",
                "sha224",
                "sha256",
                "sha384",
                "sha512",
                "sha3_224",
                "sha3_256",
                "sha3_384",
                "sha3_512",
                "blake2b",
                "blake2s",
                "new",
            )
        ),
        *(
            f"{root}.Hash.{n}.new"
            for root in ("Crypto", "Cryptodome")
            for n in ("MD5", "SHA", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "SHA3_256")
        ),
    }
)
_DJANGO_WEAK = frozenset({"md5", "sha1", "unsalted_md5", "unsalted_sha1", "crypt"})
_DJANGO_WEAK_HASHERS = frozenset(
    {
        "MD5PasswordHasher",
        "SHA1PasswordHasher",
        "UnsaltedMD5PasswordHasher",
        "UnsaltedSHA1PasswordHasher",
        "CryptPasswordHasher",
    }
)
WEAK_PASSLIB = frozenset(
    {
        "md5_crypt",
        "apr_md5_crypt",
        "sun_md5_crypt",
        "des_crypt",
        "bsdi_crypt",
        "bigcrypt",
        "crypt16",
        "ldap_md5",
        "ldap_sha1",
        "ldap_salted_md5",
        "ldap_salted_sha1",
        "ldap_salted_sha256",
        "ldap_salted_sha512",
        "ldap_plaintext",
        "ldap_hex_md5",
        "ldap_hex_sha1",
        "ldap_des_crypt",
        "ldap_md5_crypt",
        "hex_md4",
        "hex_md5",
        "hex_sha1",
        "hex_sha256",
        "hex_sha512",
        "plaintext",
        "roundup_plaintext",
        "mysql323",
        "mysql41",
        "postgres_md5",
        "oracle10",
        "oracle11",
        "lmhash",
        "nthash",
        "msdcc",
        "msdcc2",
        "cisco_pix",
        "cisco_asa",
        "cisco_type7",
        "htdigest",
        "django_salted_md5",
        "django_salted_sha1",
        "django_des_crypt",
        "django_disabled",
    }
)
_PASSLIB_HASHING = frozenset({"hash", "encrypt", "using", "genhash"})
_BREACH_WORDS = frozenset({"pwned", "hibp", "breach", "breached", "compromised", "leaked"})
_DIGESTS = frozenset({"hexdigest", "digest", "b64digest"})

Options = test_path_options("off")


def _weak_hasher_path(value: str) -> bool:
    return value.rsplit(".", 1)[-1] in _DJANGO_WEAK_HASHERS


class WeakPasswordHashing(PythonRule):
    meta = RuleMeta(
        code="BE504",
        name="weak-password-hashing",
        summary="Password hashed with a fast or broken algorithm",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=916,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/916.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html",
            "https://docs.djangoproject.com/en/stable/topics/auth/passwords/",
        ),
    )
    options_class = Options
    triggers = (
        "hashlib",
        "Crypto",
        "make_password",
        "passlib",
        "CryptContext",
        "generate_password_hash",
        "PASSWORD_HASHERS",
    )

    bad = (
        Example(
            """\
import hashlib


def register(username, password):
    digest = hashlib.sha256(password.encode()).hexdigest()  # expect: BE504
    return User(username=username, password_hash=digest)


def set_password(user, raw):
    user.password = hashlib.md5(raw.encode()).hexdigest()  # expect: BE504


def check(user, form):
    h = hashlib.sha1()
    h.update(user.salt + form.cleaned_data["password"])  # expect: BE504
    return h.hexdigest() == user.pw_hash
"""
        ),
        Example(
            """\
from django.contrib.auth.hashers import make_password
from passlib.context import CryptContext
from passlib.hash import md5_crypt
from werkzeug.security import generate_password_hash

pwd_context = CryptContext(schemes=["ldap_salted_sha1", "bcrypt"])  # expect: BE504


def create(password):
    a = make_password(password, hasher="unsalted_md5")  # expect: BE504
    b = md5_crypt.hash(password)  # expect: BE504
    c = generate_password_hash(password, method="sha256")  # expect: BE504
    return a, b, c
"""
        ),
        Example(
            """\
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",  # expect: BE504
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
""",
            filename="shop/settings.py",
        ),
    )
    good = (
        Example(
            """\
import hashlib

import bcrypt
from passlib.context import CryptContext

pwd_context = CryptContext(schemes=["argon2", "md5_crypt"], deprecated="auto")


def etag(body):
    return hashlib.md5(body).hexdigest()


def cache_key(url):
    return "page:" + hashlib.sha256(url.encode()).hexdigest()


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_password(password):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())


def password_reset_url_key(password_reset_url):
    return hashlib.sha1(password_reset_url.encode(), usedforsecurity=False).hexdigest()


def is_pwned(password):
    prefix = hashlib.sha1(password.encode()).hexdigest().upper()[:5]
    return prefix in fetch_range(prefix)
"""
        ),
        Example(
            """\
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
""",
            filename="shop/settings/test.py",
        ),
    )

    def _report(self, node: cst.CSTNode, message: str, help: str) -> None:
        report_by_place(self, node, message, help=help)

    # -- calls -------------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        names = self.ctx.qualified_names(func)
        if names:
            if not names.isdisjoint(FAST_HASHES):
                self._fast_hash(node, next(iter(names & FAST_HASHES)))
                return
            for name in names:
                self._library(node, name)
        if isinstance(func, cst.Attribute) and func.attr.value == "update" and node.args:
            receiver = func.value
            if isinstance(receiver, cst.Name):
                value = self._hash_object(receiver)
                if (
                    value is not None
                    and not _not_for_security(value)
                    and self._password_data(node.args[0].value)
                ):
                    self._report(
                        node,
                        "password fed to a fast hash "
                        f"(`{terminal_name(value.func) or 'hash'}`) with `.update()`",
                        "hash passwords with Argon2id, scrypt, bcrypt or PBKDF2",
                    )

    def _hash_object(self, receiver: cst.Name) -> cst.Call | None:
        """The fast-hash constructor call ``receiver`` was assigned (``h = hashlib.sha256()``)
        in the enclosing function: ``.update()`` calls change the object, not the binding."""
        value = resolve(receiver, self.ctx)
        if isinstance(value, cst.Call) and self.ctx.matches(value.func, FAST_HASHES):
            return value
        scope = self.ctx.enclosing(cst.FunctionDef) or self.ctx.module
        if scope is None:
            return None
        for inner in descendants(scope):
            if (
                isinstance(inner, cst.Assign)
                and len(inner.targets) == 1
                and isinstance(inner.targets[0].target, cst.Name)
                and inner.targets[0].target.value == receiver.value
                and isinstance(inner.value, cst.Call)
                and self.ctx.matches(inner.value.func, FAST_HASHES)
            ):
                return inner.value
        return None

    def _fast_hash(self, node: cst.Call, name: str) -> None:
        if _not_for_security(node):
            return
        algorithm = name.rsplit(".", 2)[-2] if name.endswith(".new") else name.rsplit(".", 1)[-1]
        args = positional_args(node)
        if name == "hashlib.new":
            algorithm = (literal_string(args[0].value) if args else None) or "hash"
            args = args[1:]
        data = keyword_arg(node, "data") or keyword_arg(node, "string")
        data_expr = data.value if data is not None else args[0].value if args else None
        site = use_site(node, self.ctx.ancestors)
        if any(not _BREACH_WORDS.isdisjoint(words(f)) for f in site.functions):
            return
        why: str | None = None
        if data_expr is not None and self._password_data(data_expr):
            why = "a password is hashed with"
        elif any(password_like(n) for n in site.names()) or (
            site.returned and site.functions and _hashes_passwords(site.functions[0])
        ):
            why = "a password hash is computed with"
        if why is not None:
            self._report(
                node,
                f"{why} `{algorithm}`, a fast hash: stolen hashes are cracked at GPU speed",
                "hash passwords with Argon2id, scrypt, bcrypt or PBKDF2 (e.g. "
                "argon2.PasswordHasher().hash(password))",
            )

    def _password_data(self, expr: cst.BaseExpression) -> bool:
        names = expression_names(expr)
        if any(password_like(n) for n in names):
            return True
        target = expr
        while isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute):
            if target.func.attr.value not in ("encode", "strip"):
                break
            target = target.func.value
        if isinstance(target, cst.Name):
            value = resolve(target, self.ctx)
            if value is not target:
                return any(password_like(n) for n in expression_names(value))
        return False

    def _library(self, node: cst.Call, name: str) -> None:
        last = name.rsplit(".", 1)[-1]
        if name.endswith("hashers.make_password"):
            hasher = argument(node, "hasher", index=2)
            value = hasher.value if hasher is not None else None
            text = literal_string(value)
            if value is not None and text in _DJANGO_WEAK:
                self._report(
                    value,
                    f"`make_password` with the `{text}` hasher: a fast, legacy scheme",
                    "drop `hasher=` to use the project's first PASSWORD_HASHERS entry",
                )
        elif name.startswith("passlib.hash.") and last in _PASSLIB_HASHING:
            scheme = name.split(".")[2]
            if scheme in WEAK_PASSLIB:
                self._report(
                    node,
                    f"passlib `{scheme}` is a weak password scheme",
                    "use passlib's argon2, bcrypt or pbkdf2_sha256 (through a CryptContext)",
                )
        elif last == "CryptContext" and name.startswith("passlib"):
            self._crypt_context(node)
        elif last == "generate_password_hash" and name.startswith("werkzeug"):
            method = argument(node, "method", index=1)
            value = method.value if method is not None else None
            text = literal_string(resolve(value, self.ctx)) if value is not None else None
            if value is not None and text is not None:
                base = text.split(":", 1)[0]
                if base not in ("pbkdf2", "scrypt"):
                    self._report(
                        value,
                        f"`generate_password_hash` with method `{text}`: not a password hash",
                        "drop `method=` (scrypt) or use a pbkdf2 method",
                    )

    def _crypt_context(self, node: cst.Call) -> None:
        default = keyword_arg(node, "default")
        schemes = keyword_arg(node, "schemes")
        first: cst.BaseExpression | None = None
        if default is not None:
            first = default.value
        elif schemes is not None:
            value = resolve(schemes.value, self.ctx)
            if isinstance(value, cst.List | cst.Tuple) and value.elements:
                first = value.elements[0].value
        text = literal_string(first)
        if first is not None and text in WEAK_PASSLIB:
            self._report(
                first,
                f"CryptContext hashes new passwords with `{text}`, a weak scheme",
                "put argon2, bcrypt or pbkdf2_sha256 first and keep old schemes as deprecated",
            )

    # -- settings ----------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if terminal_name(target.target) == "PASSWORD_HASHERS":
                self._hashers(node.value)

    def _hashers(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.List | cst.Tuple) and value.elements:
            first = value.elements[0].value
            text = literal_string(first)
            if text is not None and _weak_hasher_path(text):
                self._report(
                    first,
                    f"PASSWORD_HASHERS starts with `{text.rsplit('.', 1)[-1]}`: new passwords "
                    "get a fast, legacy hash",
                    "put Argon2PasswordHasher, ScryptPasswordHasher or PBKDF2PasswordHasher first",
                )


def _not_for_security(call: cst.Call) -> bool:
    arg = keyword_arg(call, "usedforsecurity")
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "False"


def _hashes_passwords(function: str) -> bool:
    found = words(function)
    return password_like(function) and any(
        w in ("hash", "hashed", "encode", "encrypt", "make", "set", "digest") for w in found
    )
