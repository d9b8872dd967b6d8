"""BE501 hardcoded-credential: a password, token, API key or signing key written in the code."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import keyword_arg, positional_args
from be_lint.names import callee_last
from be_lint.prefilter import lowered
from be_lint.rule import Confidence, Example, FileKind, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    argument,
    in_sample_code,
    known_token,
    literal_string,
    name_like,
    placeholder,
    report_by_place,
    resolve,
    secret_kind,
    terminal_name,
    test_path_options,
)

RATIONALE = """\
A credential in the source is readable by everyone who can read the repository, its forks, its
CI logs and every container image built from it, and it stays in the git history after it is
"removed". It cannot be rotated without a deploy, and the same value ends up shared by every
environment.

Reported, when the value is a string or bytes literal:

- assignments to names, attributes, keys and `os.environ[...]` entries named like a secret
  (`password`, `passwd`, `db_password`, `secret`, `client_secret`, `token`, `access_token`,
  `api_key`, `SECRET_KEY`, `private_key`, `credentials`, ...), including class attributes,
  annotated fields and function parameter defaults;
- keyword arguments and dictionary entries with such names (`connect(password="...")`,
  `DATABASES = {"default": {"PASSWORD": "..."}}`), and comparisons (`if api_key == "...":`);
- `Authorization` header values with a literal credential (`{"Authorization": "Bearer
  9f8e..."}`), and passwords given to `login` methods (`smtp.login(user, "...")`);
- HTTP basic-auth pairs: `auth=("user", "...")`, `HTTPBasicAuth("user", "...")`,
  `aiohttp.BasicAuth(...)`;
- keys given to signing and encryption APIs: `jwt.encode(payload, "...")`, `jwt.decode(token,
  "...")` (PyJWT, python-jose, authlib), `hmac.new(b"...", ...)`, itsdangerous serializers,
  Django `signing.Signer(key=...)`, `Fernet(b"...")` -- also through a local or module constant
  (`KEY = "..."; jwt.encode(p, KEY)`). Here even `"secret"` is reported: the literal *is* the key.

Quiet: empty values, `None`, values that stand for a secret (`changeme`, `<your-token>`,
`${VAR}`, `{password}`, `***`, `xxxx`, `example`, `dummy`, `test...`), environment and
configuration look-ups (`os.environ[...]`, `os.getenv`, `env("X")`, `config("X")`), names *about*
a secret whose value is an identifier, a path or a message (`PASSWORD_FIELD = "password"`,
`TOKEN_TYPE = "bearer"`, `password_reset_url = "/reset/"`, `token_header = "X-Api-Token"`), and
f-strings (templates), and values inside functions and classes named for sample data
(`_event_sample`, `base_placeholders`, `make_fake_user`, `DemoData`). Literals in the format of a real provider token are left to BE502 and
URLs with passwords to BE503, so one secret gives one finding.

Test code (the `test-paths` globs) is reported with `test-severity` (info by default): fixture
passwords are rarely secrets, but a real key pasted into a test is.
"""

HOW_TO_FIX = """\
Read the secret from the environment or a secret manager at start-up, and fail loudly when it
is missing:

```python
SECRET_KEY = os.environ["SECRET_KEY"]
token = jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm="HS256")
```

Then rotate the value that was committed: it is in the history for good.
"""

#: Calls whose argument (index, keyword) is a signing or encryption key.
_KEY_ARGUMENTS: dict[str, tuple[int, str]] = {
    "jwt.encode": (1, "key"),
    "jwt.decode": (1, "key"),
    "jwt.api_jwt.encode": (1, "key"),
    "jwt.api_jwt.decode": (1, "key"),
    "jwt.api_jws.encode": (1, "key"),
    "jose.jwt.encode": (1, "key"),
    "jose.jwt.decode": (1, "key"),
    "jose.jws.sign": (1, "key"),
    "jose.jws.verify": (1, "key"),
    "authlib.jose.jwt.encode": (2, "key"),
    "authlib.jose.jwt.decode": (1, "key"),
    "hmac.new": (0, "key"),
    "hmac.HMAC": (0, "key"),
    "hmac.digest": (0, "key"),
    "itsdangerous.URLSafeTimedSerializer": (0, "secret_key"),
    "itsdangerous.URLSafeSerializer": (0, "secret_key"),
    "itsdangerous.TimedSerializer": (0, "secret_key"),
    "itsdangerous.Serializer": (0, "secret_key"),
    "itsdangerous.Signer": (0, "secret_key"),
    "itsdangerous.TimestampSigner": (0, "secret_key"),
    "itsdangerous.url_safe.URLSafeTimedSerializer": (0, "secret_key"),
    "itsdangerous.url_safe.URLSafeSerializer": (0, "secret_key"),
    "django.core.signing.Signer": (-1, "key"),
    "django.core.signing.TimestampSigner": (-1, "key"),
    "django.core.signing.dumps": (-1, "key"),
    "django.core.signing.loads": (-1, "key"),
    "cryptography.fernet.Fernet": (0, "key"),
}
_BASIC_AUTH = frozenset(
    {
        "requests.auth.HTTPBasicAuth",
        "requests.auth.HTTPDigestAuth",
        "requests.HTTPBasicAuth",
        "httpx.BasicAuth",
        "httpx.DigestAuth",
        "aiohttp.BasicAuth",
        "aiohttp.helpers.BasicAuth",
    }
)
#: Calls whose keyword arguments are not credentials even when named like one (argparse,
#: form and model field declarations, translations).
_NOT_CREDENTIAL_CALLS = frozenset({"add_argument", "CharField", "Field", "Column", "gettext"})

Options = test_path_options("info")
#: ``smtp.login(user, "...")``, ``ftp.login(...)``, ``imap.login(...)``: the second argument.
_LOGIN_METHODS = frozenset({"login", "starttls_login", "auth_login"})
#: Prefilter (on the lower-cased text): a secret word, a signing API, an auth pair or header.
#: ``pass`` alone would match every ``pass`` statement.
_HINTS = (
    "passw",
    "passphrase",
    "passcode",
    "pwd",
    "_pass",
    "pass_",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "access_key",
    "signing",
    "secret_key",
    "secretkey",
    "privatekey",
    "accesskey",
    "encryption_key",
    "master_key",
    "auth_key",
    "app_key",
    "license_key",
    "hmac",
    "jwt",
    "credential",
    "creds",
    "auth",
    "itsdangerous",
    "fernet",
    ".login(",
)


_AUTH_SCHEME = re.compile(r"^(?:Bearer|Token|Basic|Bot|JWT|ApiKey)\s+(\S{8,})$", re.IGNORECASE)


def _reported_value(name: str, value: cst.BaseExpression) -> str | None:
    """The kind of secret ``name = value`` hard-codes, or None when it is not reported."""
    if name.lower() in ("authorization", "proxy-authorization", "http_authorization"):
        text = literal_string(value)
        match = _AUTH_SCHEME.match(text.strip()) if text else None
        if match is None or placeholder(match.group(1)) or known_token(match.group(1)):
            return None
        return "credential in the Authorization header"
    kind = secret_kind(name)
    if kind is None:
        return None
    text = literal_string(value)
    if text is None:
        return None
    if placeholder(text) or name_like(text) or "://" in text:
        return None
    if known_token(text) is not None:
        return None  # BE502 reports it with the provider's name
    return kind


class HardcodedCredential(PythonRule):
    meta = RuleMeta(
        code="BE501",
        name="hardcoded-credential",
        summary="Password, token, API key or signing key written in the code",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.MEDIUM,
        cwe=798,
        owasp="A07:2021-Identification and Authentication Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/798.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
        ),
    )
    options_class = Options
    triggers = ("pass", "pwd", "secret", "token", "key", "cred", "auth", "hmac", "jwt", "Fernet")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        low = lowered(text)
        return any(hint in low for hint in _HINTS)

    bad = (
        Example(
            """\
import requests

DB_PASSWORD = "s3cr3t-Pr0d!"  # expect: BE501
STRIPE_API_KEY: str = "4eC39HqLyjWDarjtT1zdp7dc"  # expect: BE501


class Settings:
    client_secret = "9f8e7d6c5b4a39281706"  # expect: BE501


def connect(host, password="hunter2"):  # expect: BE501
    return requests.get(host, auth=("admin", "Adm1nPass"))  # expect: BE501


def report(server):
    server.login("reports@example.com", "Rep0rts!2024")  # expect: BE501
    return requests.get(
        "https://api.example.com/v1/me",
        headers={"Authorization": "Bearer 9f8e7d6c5b4a39281706a1b2"},  # expect: BE501
        timeout=5,
    )
"""
        ),
        Example(
            """\
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": "q9Xk2mLp",  # expect: BE501
    }
}
SECRET_KEY = "django-insecure-7h#k2@w!x9m$z0q&v3b^n5c*r8t"  # expect: BE501
"""
        ),
        Example(
            """\
import hmac
import jwt

SIGNING = "my-signing-key"


def issue(user):
    return jwt.encode({"sub": user.id}, "secret", algorithm="HS256")  # expect: BE501


def check(token):
    return jwt.decode(token, SIGNING, algorithms=["HS256"])  # expect: BE501


def sign(body):
    return hmac.new(b"webhook-key-123", body, "sha256").hexdigest()  # expect: BE501
"""
        ),
        Example(
            """\
from app import client


def login():
    return client.login(username="bob", password="pa55w0rd!")  # expect: BE501
""",
            filename="tests/test_login.py",
            options={"test-severity": "warning"},
        ),
    )
    good = (
        Example(
            """\
import os

from decouple import config

SECRET_KEY = os.environ["SECRET_KEY"]
DB_PASSWORD = os.getenv("DB_PASSWORD", "")
API_TOKEN = config("API_TOKEN")
REDIS_PASSWORD = None
SMTP_PASSWORD = "changeme"
GITHUB_TOKEN = "<your-token>"
SLACK_TOKEN = "${SLACK_TOKEN}"
ADMIN_PASSWORD = "***"
AWS_SECRET = "xxxxxxxxxxxxxxxx"
PASSWORD_FIELD = "password"
TOKEN_TYPE = "bearer"
password_reset_url = "/reset/"
API_KEY_HEADER = "X-Api-Key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
max_tokens = 4096
"""
        ),
        Example(
            """\
import jwt

from django.conf import settings


def issue(user, password):
    template = f"postgres://{user}:{password}@db/app"
    message = "Your password has been changed."
    token = jwt.encode({"sub": user.id}, settings.JWT_KEY, algorithm="HS256")
    if password == "":
        raise ValueError("empty password")
    return token


def form_field():
    return forms.CharField(label="Password", widget=forms.PasswordInput)


def call(token, client):
    client.login("bob", password_from_vault())
    return {"Authorization": f"Bearer {token}", "X-Api-Key": settings.API_KEY}
"""
        ),
        Example(
            """\
from app import client


def login():
    return client.login(username="bob", password="pa55w0rd!")
""",
            filename="tests/test_login.py",
            options={"test-severity": "off"},
        ),
    )

    # -- reporting ---------------------------------------------------------------------------

    def _report(self, node: cst.CSTNode, message: str) -> None:
        if in_sample_code(self.ctx.ancestors):
            return
        report_by_place(
            self,
            node,
            message,
            help="read it from the environment or a secret manager, and rotate the committed value",
        )

    def _named(self, name: str, value: cst.BaseExpression | None) -> None:
        if value is None:
            return
        kind = _reported_value(name, value)
        if kind is not None:
            where = "" if kind.startswith("credential in") else f" in `{name}`"
            self._report(value, f"hard-coded {kind}{where}")

    # -- shapes ------------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            name = terminal_name(target.target)
            if name is not None:
                self._named(name, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        name = terminal_name(node.target)
        if name is not None:
            self._named(name, node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._named(node.name.value, node.default)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = literal_string(node.key)
        if key is not None:
            self._named(key, node.value)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        if not isinstance(target.operator, cst.Equal | cst.NotEqual):
            return
        for subject, other in ((node.left, target.comparator), (target.comparator, node.left)):
            name = terminal_name(subject)
            if name is not None and literal_string(other) is not None:
                self._named(name, other)
                return

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = callee_last(func)
        if last not in _NOT_CREDENTIAL_CALLS:
            for arg in node.args:
                if arg.keyword is not None:
                    if arg.keyword.value == "auth":
                        self._auth_pair(arg.value)
                    else:
                        self._named(arg.keyword.value, arg.value)
        if last in _LOGIN_METHODS and isinstance(func, cst.Attribute):
            args = positional_args(node)
            if len(args) >= 2:
                text = literal_string(args[1].value)
                if text is not None and not placeholder(text) and not name_like(text):
                    self._report(args[1].value, f"hard-coded password passed to `{last}()`")
        names = self.ctx.qualified_names(func)
        if not names:
            return
        if not names.isdisjoint(_BASIC_AUTH):
            args = positional_args(node)
            if len(args) >= 2:
                self._password_literal(args[1].value)
            password = keyword_arg(node, "password")
            if password is not None and len(args) < 2:
                self._password_literal(password.value)
            return
        for name in names:
            spec = _KEY_ARGUMENTS.get(name)
            if spec is not None:
                self._signing_key(node, name, spec)
                return

    def _auth_pair(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Tuple | cst.List) and len(value.elements) == 2:
            self._password_literal(value.elements[1].value)

    def _password_literal(self, value: cst.BaseExpression) -> None:
        text = literal_string(value)
        if text is not None and not placeholder(text):
            self._report(value, "hard-coded password in an HTTP basic-auth pair")

    def _signing_key(self, call: cst.Call, name: str, spec: tuple[int, str]) -> None:
        index, keyword = spec
        arg = argument(call, keyword, index=index)
        if arg is None:
            return
        value = arg.value
        resolved = resolve(value, self.ctx) if isinstance(value, cst.Name) else value
        text = literal_string(resolved)
        if text is None or not text.strip() or "{" in text or "${" in text:
            return
        if isinstance(value, cst.Name) and _reported_value(value.value, resolved) is not None:
            return  # the assignment of the constant is reported already
        label = name.rsplit(".", 1)[-1] if not name.startswith("hmac") else "hmac"
        how = f" (through `{value.value}`)" if isinstance(value, cst.Name) else ""
        self._report(value, f"hard-coded key given to `{label}`{how}")
