"""The BE5xx facility (``be_lint.secrets``) and multi-statement cases of the BE5xx rules."""

from __future__ import annotations

import textwrap

import pytest

from be_lint.engine import Checker, Settings
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind, Finding
from be_lint.secrets import (
    entropy,
    is_test_path,
    known_token,
    looks_random,
    name_like,
    password_like,
    placeholder,
    secret_kind,
    url_password,
)

RULES = builtin_rules()
KNOWN = frozenset({r.meta.code for r in RULES} | {r.meta.name for r in RULES})


def check(code: str, select: str, filename: str = "app/module.py") -> list[Finding]:
    codes = tuple(sorted(r.meta.code for r in RULES if r.meta.code.startswith(select)))
    checker = Checker(Settings(selected=codes, known=KNOWN), RULES)
    return checker.check_text(textwrap.dedent(code), filename, FileKind.PYTHON)


def lines(findings: list[Finding], code: str) -> list[int]:
    return sorted(f.line for f in findings if f.code == code)


# -- tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("AKIA2E0A8F3B244C9986", "AWS access key id"),
        ("ghp_R4nd0mL00k1ngT0k3nV4lu3H3r3abcd12345", "GitHub token"),
        ("xoxb-2048-1024-Zt6q9RbN3dKx8WmQ", "Slack token"),
        ("sk_live_51HqLyjWDarjtT1zdp7dcQwErTy", "Stripe live key"),
        ("AIzaSyD8fK3mP0qR7sT1uV4wX6yZ9aB2cE5gH7j", "Google API key"),
        ("glpat-8fJq2LmN0pRsT4vWx6Yz", "GitLab token"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "JSON Web Token",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7b9xQ2kLmN0pRsT4vWx6Yz8fJq2LmN0pRsT4vWx6\n",
            "private key",
        ),
    ],
)
def test_known_token_formats(value: str, label: str) -> None:
    found = known_token(value)
    assert found is not None and found[0] == label


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation key
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",  # test keys are not live keys
        "-----BEGIN RSA PRIVATE KEY-----",  # a header alone is a marker, not a key
        "AKIA1234",  # too short
        "the ghp_ prefix marks GitHub tokens",
    ],
)
def test_documentation_tokens_are_not_known_tokens(value: str) -> None:
    assert known_token(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", True),
        ("changeme", True),
        ("<your-token>", True),
        ("${API_KEY}", True),
        ("{password}", True),
        ("%(password)s", True),
        ("***", True),
        ("xxxxxxxxxxxx", True),
        ("your_api_key_here", True),
        ("example-secret", True),
        ("dummy", True),
        ("$SECRET", True),
        ("s3cr3t-Pr0d!", False),
        ("hunter2", False),
        ("q9Xk2mLp", False),
        ("django-insecure-7h#k2@w!x9m$z0q&v3b", False),
    ],
)
def test_placeholder(value: str, expected: bool) -> None:
    assert placeholder(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bearer", True),
        ("X-Api-Key", True),
        ("django.contrib.auth.hashers.MD5PasswordHasher", True),
        ("/reset/", True),
        ("Your password has been changed.", True),
        ("hunter2", False),
        ("4eC39HqLyjWDarjtT1zdp7dc", False),
    ],
)
def test_name_like(value: str, expected: bool) -> None:
    assert name_like(value) is expected


def test_entropy_and_randomness() -> None:
    assert entropy("") == 0.0
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == pytest.approx(2.0)
    assert looks_random("4eC39HqLyjWDarjtT1zdp7dc")
    assert not looks_random("password-password")
    assert not looks_random("short1A")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("password", "password"),
        ("db_password", "password"),
        ("dbPassword", "password"),
        ("SMTP_PASS", "password"),
        ("STRIPE_API_KEY", "key"),
        ("SECRET_KEY", "key"),
        ("client_secret", "secret"),
        ("access_token", "token"),
        ("credentials", "credentials"),
        ("PASSWORD_FIELD", None),
        ("TOKEN_TYPE", None),
        ("password_reset_url", None),
        ("max_tokens", None),
        ("next_page_token", None),
        ("csrf_token", None),
        ("API_KEY_HEADER", None),
        ("tokenizer", None),
    ],
)
def test_secret_kind(name: str, kind: str | None) -> None:
    assert secret_kind(name) == kind


@pytest.mark.parametrize(
    ("name", "expected"),
    [("password", True), ("raw_password", True), ("newPwd", True), ("password_reset_url", False)],
)
def test_password_like(name: str, expected: bool) -> None:
    assert password_like(name) is expected


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgres://app:Xk29fLq8@db/app", "Xk29fLq8"),
        ("redis://:r3d1sPw@cache:6379/0", "r3d1sPw"),
        ("mongodb+srv://svc:Zq81nVw2@cluster0.example.net/db", "Zq81nVw2"),
        ("postgres://postgres:postgres@localhost/app", None),  # user name repeated
        ("postgres://user:{password}@db/app", None),
        ("postgres://user:${DB_PASSWORD}@db/app", None),
        ("postgres://db/app", None),
        ("models://scope:prefix@databricks/name", None),  # not a connection scheme
    ],
)
def test_url_password(url: str, password: str | None) -> None:
    found = url_password(url)
    assert (found[2] if found else None) == password


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_api.py", True),
        ("src/app/tests/factories.py", True),
        ("app/test_views.py", True),
        ("conftest.py", True),
        ("shop/settings/test.py", True),
        ("shop/settings/production.py", False),
        ("app/contest.py", False),
    ],
)
def test_test_paths(path: str, expected: bool) -> None:
    from be_lint.secrets import DEFAULT_TEST_PATHS

    assert is_test_path(path, DEFAULT_TEST_PATHS) is expected


# -- multi-statement cases ---------------------------------------------------------------------


def test_signing_key_through_a_module_constant_is_reported_once() -> None:
    code = """\
    import jwt

    JWT_SECRET = "k3y-f0r-pr0d"
    PLAIN = "another-key-value"


    def issue(payload):
        a = jwt.encode(payload, JWT_SECRET, algorithm="HS256")
        b = jwt.encode(payload, PLAIN, algorithm="HS256")
        return a, b
    """
    # JWT_SECRET's assignment is reported by name; PLAIN's only where it is used as a key.
    assert lines(check(code, "BE501"), "BE501") == [3, 9]


def test_token_format_wins_over_credential_name() -> None:
    code = 'GITHUB_TOKEN = "ghp_R4nd0mL00k1ngT0k3nV4lu3H3r3abcd12345"\n'
    findings = check(code, "BE50")
    assert [f.code for f in findings] == ["BE502"]


def test_test_paths_lower_severity() -> None:
    code = 'PASSWORD = "s3cr3t-Pr0d!"\n'
    app = check(code, "BE501", "app/settings.py")
    test = check(code, "BE501", "tests/test_login.py")
    assert [f.severity.value for f in app] == ["error"]
    assert [f.severity.value for f in test] == ["info"]


def test_random_token_built_over_several_statements() -> None:
    code = """\
    import random
    import string


    def new_invite_code():
        alphabet = string.ascii_uppercase + string.digits
        chars = [random.choice(alphabet) for _ in range(8)]
        return "".join(chars)


    def make_api_key():
        key = "".join(random.choices(string.hexdigits, k=40))
        return key


    def jitter():
        delay = random.uniform(0.1, 0.5)
        return delay
    """
    # ``chars`` and ``key`` are generic names: the functions around them say what they hold.
    # ``delay`` in ``jitter`` stays quiet.
    assert lines(check(code, "BE507"), "BE507") == [7, 12]
    direct = """\
    import random


    def new_invite_code():
        return "".join(random.choice("ABCDEF0123456789") for _ in range(8))
    """
    assert lines(check(direct, "BE507"), "BE507") == [5]


def test_jwt_options_followed_through_a_variable() -> None:
    code = """\
    import jwt


    def claims(token, key):
        options = {"verify_aud": False}
        options["leeway"] = 10
        return jwt.decode(token, key, algorithms=["RS256"], options=options)
    """
    assert lines(check(code, "BE510"), "BE510") == [7]


def test_webhook_signature_through_local_variables() -> None:
    code = """\
    import hashlib
    import hmac


    def webhook(request, secret):
        received = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        if received != expected:
            raise PermissionDenied
        computed = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        if computed == request.headers["X-Sig"]:
            return True
    """
    assert lines(check(code, "BE513"), "BE513") == [8, 11]


def test_pbkdf2_iterations_from_a_setting_constant() -> None:
    code = """\
    import hashlib

    ROUNDS = 10 ** 4


    def derive(password, salt):
        return hashlib.pbkdf2_hmac("sha512", password, salt, ROUNDS)
    """
    findings = check(code, "BE505")
    assert lines(findings, "BE505") == [7]
    assert "10,000" in findings[0].message


def test_password_hash_via_update_on_a_variable() -> None:
    code = """\
    import hashlib


    def store(user, password):
        h = hashlib.sha512()
        h.update(user.salt.encode())
        h.update(password.encode())
        user.password_digest = h.hexdigest()
    """
    assert lines(check(code, "BE504"), "BE504") == [7]


def test_md5_in_password_context_is_reported_by_be504_only() -> None:
    code = """\
    import hashlib


    def legacy(password):
        return hashlib.md5(password.encode()).hexdigest()
    """
    findings = check(code, "BE50")
    assert [f.code for f in findings] == ["BE504"]


def test_token_in_redirect_built_in_steps() -> None:
    code = """\
    from flask import redirect


    def callback(user):
        jwt_token = make_token(user)
        target = "https://app.example.com/welcome?lang=en&jwt=%s" % jwt_token
        return redirect(target)
    """
    assert lines(check(code, "BE512"), "BE512") == [7]


def test_odd_shapes_never_crash() -> None:
    code = """\
    import hashlib, hmac, jwt, random, bcrypt
    from argon2 import PasswordHasher
    from passlib.context import CryptContext

    hashlib.new()
    hashlib.md5(*parts)
    hashlib.pbkdf2_hmac(*args, **kwargs)
    hmac.new(**kw)
    jwt.decode()
    jwt.decode(token, options=None, algorithms=None)
    jwt.encode(**claims)
    jwt.encode(payload=dict(**claims), key=k)
    bcrypt.gensalt(rounds=-1)
    bcrypt.gensalt(2 ** 200 >> 3)
    PasswordHasher(time_cost="3")
    CryptContext(schemes=[], default=None)
    random.choice()
    x = y = random.random()
    (a, b) = token, secret = "v1", "v2"
    password: str
    d = {**other, "password": f"{x}"}
    if signature == (yield):
        pass
    lambda password="p4ssw0rd!": password
    b"\\xff\\xfe" == token
    "postgres://u:%s@h" % pw
    PASSWORD_HASHERS = []
    """
    findings = check(code, "BE5")
    assert not [f for f in findings if f.code == "BE005"], findings


def test_private_key_split_over_concatenated_literals() -> None:
    code = """\
    KEY = (
        "-----BEGIN PRIVATE KEY-----\\\\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\\\n"
        "-----END PRIVATE KEY-----\\\\n"
    )
    """
    assert lines(check(code, "BE502"), "BE502") == [2]


def test_connection_urls_in_settings_and_engines() -> None:
    code = """\
    from sqlalchemy import create_engine

    CELERY_BROKER_URL = "redis://:Zx81vQ2m@redis:6379/0"
    engine = create_engine(f"postgresql://app:Hj27sLq0@{host}/shop")
    DATABASES = {"default": dj_database_url.parse("mysql://root:toor-Pw1@db/app")}
    LOCAL = "postgresql://app:{password}@localhost/app"
    """
    assert lines(check(code, "BE503"), "BE503") == [3, 4, 5]


def test_jose_and_pyjwt_decode_shapes() -> None:
    code = """\
    import jwt
    from jose import jwt as jose_jwt


    def a(token, key):
        return jose_jwt.decode(token, key, options={"verify_signature": False})


    def b(token, key):
        return jose_jwt.decode(token, key, algorithms=["RS256"])


    def c(token, key):
        return jwt.decode(token, key, algorithms=["HS256"], **kwargs)
    """
    assert lines(check(code, "BE508"), "BE508") == [6]


def test_token_in_outbound_params_from_a_variable() -> None:
    code = """\
    import httpx


    def pull(api_key):
        params = {"api_key": api_key, "page": 2}
        return httpx.get("https://api.example.com/rows", params=params)


    def public(page):
        params = {"page": page, "q": "x"}
        return httpx.get("https://api.example.com/rows", params=params)
    """
    assert lines(check(code, "BE512"), "BE512") == [5]


def test_constant_nonce_through_an_aead_instance() -> None:
    code = """\
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    NONCE = b"\\\\x00" * 12


    def seal(key, data):
        aead = AESGCM(key)
        first = aead.encrypt(NONCE, data, None)
        second = aead.encrypt(os.urandom(12), data, None)
        return first, second
    """
    assert lines(check(code, "BE514"), "BE514") == [10]


def test_key_sizes_from_constants() -> None:
    code = """\
    from cryptography.hazmat.primitives.asymmetric import dsa, rsa

    BITS = 512 * 2
    STRONG = 4096

    a = rsa.generate_private_key(65537, BITS)
    b = dsa.generate_private_key(key_size=STRONG)
    """
    assert lines(check(code, "BE515"), "BE515") == [6]
