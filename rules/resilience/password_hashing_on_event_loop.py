"""BE709 password-hashing-on-event-loop: a deliberately slow hash computed inside ``async def``."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import constructed_from, in_async_function
from be_lint.names import callee_last
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity

RATIONALE = """\
Password hashes are slow on purpose: bcrypt, scrypt, Argon2 and PBKDF2 are tuned to take tens
or hundreds of milliseconds of CPU per call, so that stolen hashes are expensive to crack. On an
event loop that time is taken from every other request: a login endpoint under load (or under a
credential-stuffing attack) serialises the whole service behind its hash computations, and
latency everywhere grows with the number of login attempts.

The rule reports, directly in the body of an `async def`: `bcrypt.hashpw`/`checkpw`/`kdf`,
`hashlib.pbkdf2_hmac`/`scrypt`, passlib hashers and `CryptContext.hash`/`verify`, Argon2's
`PasswordHasher.hash`/`verify`, pwdlib's `PasswordHash`, Django's `make_password`/
`check_password` (and `user.check_password()`/`set_password()`), and Werkzeug's
`generate_password_hash`/`check_password_hash`.
"""

HOW_TO_FIX = """\
Run the hash in a worker thread, which the hash libraries allow because they release the GIL:
`ok = await asyncio.to_thread(bcrypt.checkpw, password, hashed)` (Starlette/FastAPI:
`await run_in_threadpool(...)`; Django: `await user.acheck_password(password)` or
`sync_to_async`). Or make the endpoint a plain `def` so the framework runs it in its thread pool.
"""

_FUNCTIONS = frozenset(
    {
        "bcrypt.hashpw",
        "bcrypt.checkpw",
        "bcrypt.kdf",
        "hashlib.pbkdf2_hmac",
        "hashlib.scrypt",
        "argon2.hash_password",
        "argon2.verify_password",
        "argon2.low_level.hash_secret",
        "argon2.low_level.hash_secret_raw",
        "argon2.low_level.verify_secret",
        "django.contrib.auth.hashers.make_password",
        "django.contrib.auth.hashers.check_password",
        "werkzeug.security.generate_password_hash",
        "werkzeug.security.check_password_hash",
        "werkzeug.generate_password_hash",
        "werkzeug.check_password_hash",
    }
)
#: ``passlib.hash.<scheme>.hash(...)``/``.verify(...)`` and friends.
_PASSLIB_SCHEMES = "passlib.hash."
_HASHER_CLASSES = frozenset(
    {
        "passlib.context.CryptContext",
        "passlib.CryptContext",
        "argon2.PasswordHasher",
        "argon2.PasswordHasher.from_parameters",
        "pwdlib.PasswordHash",
        "pwdlib.PasswordHash.recommended",
    }
)
_HASHER_METHODS = frozenset({"hash", "verify", "verify_and_update", "needs_update", "encrypt"})
#: Methods of user models that hash (Django's ``AbstractBaseUser`` and look-alikes).
_USER_METHODS = frozenset({"check_password", "set_password"})
_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _FUNCTIONS) | _HASHER_METHODS | _USER_METHODS
_TRIGGERS = (
    "bcrypt",
    "pbkdf2",
    "scrypt",
    "argon2",
    "passlib",
    "pwdlib",
    "password",
)


class PasswordHashingOnEventLoop(PythonRule):
    meta = RuleMeta(
        code="BE709",
        name="password-hashing-on-event-loop",
        summary="Password hashing runs on the event loop",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread",
            "https://docs.djangoproject.com/en/stable/topics/auth/customizing/#django.contrib.auth.models.AbstractBaseUser.acheck_password",
        ),
    )
    triggers = _TRIGGERS

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return "async def" in text and super().may_match(text, kind)

    bad = (
        Example(
            """\
import bcrypt
from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.post("/login")
async def login(form: LoginForm):
    user = await users.by_email(form.email)
    if not bcrypt.checkpw(form.password.encode(), user.password_hash):  # expect: BE709
        raise HTTPException(401)
    return issue_token(user)
"""
        ),
        Example(
            """\
from passlib.context import CryptContext

pwd_context = CryptContext(schemes=["bcrypt"])


async def register(payload):
    hashed = pwd_context.hash(payload.password)  # expect: BE709
    return await save_user(payload.email, hashed)
"""
        ),
        Example(
            """\
async def change_password(request):
    user = request.user
    if not user.check_password(request.POST["old"]):  # expect: BE709
        return forbidden()
    user.set_password(request.POST["new"])  # expect: BE709
"""
        ),
    )
    good = (
        Example(
            """\
import asyncio

import bcrypt


async def login(form, user):
    ok = await asyncio.to_thread(bcrypt.checkpw, form.password.encode(), user.password_hash)
    return ok


def register(password):
    # a sync function: runs in a worker thread
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())
"""
        ),
        Example(
            """\
import hashlib


async def etag(body):
    # a fast digest, not a password hash
    return hashlib.sha256(body).hexdigest()


async def change_password(request):
    # Django's async variant
    return await request.user.acheck_password(request.POST["old"])
"""
        ),
        Example(
            """\
async def fingerprint(document, hasher):
    # an unknown object's hash() method
    return hasher.hash(document)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = callee_last(func)
        if last is None or last not in _NAMES:
            return
        name = self._hashing(func, last)
        if name is None:
            return
        where = in_async_function(self.ctx.ancestors)
        if where is None:
            return
        self.report(
            node,
            f"`{name}` computes a slow password hash on the event loop in "
            f"`async def {where.name.value}`",
            help="run it in a thread: `await asyncio.to_thread(...)` "
            "(or run_in_threadpool / sync_to_async)",
        )

    def _hashing(self, func: cst.BaseExpression, last: str) -> str | None:
        for name in self.ctx.qualified_names(func):
            if name in _FUNCTIONS or (
                name.startswith(_PASSLIB_SCHEMES) and last in _HASHER_METHODS
            ):
                return name
        if not isinstance(func, cst.Attribute):
            return None
        written = self.ctx.dotted_name(func) or last
        if last in _USER_METHODS:
            return written
        if last in _HASHER_METHODS and constructed_from(func.value, self.ctx) & _HASHER_CLASSES:
            return written
        return None
