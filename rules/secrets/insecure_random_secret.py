"""BE507 insecure-random-secret: the ``random`` module making tokens, passwords, codes or salts."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import descendants, positional_args
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    assigned_names,
    expression_names,
    literal_string,
    report_by_place,
    terminal_name,
    test_path_options,
    use_site,
    words,
)

RATIONALE = """\
`random` is a Mersenne Twister: fast, reproducible, and predictable. After 624 outputs an
observer can compute every future (and past) value, and seeds taken from the time are guessed
directly. A password-reset code, an API key, a session id, a one-time password or a salt made
with it can be predicted by whoever sees a few others -- for example by requesting resets for
their own account.

Reported: calls to `random.random/randint/randrange/choice/choices/sample/getrandbits/uniform/
randbytes/shuffle` (also imported by name, and methods of a `random.Random()` instance) whose
value is used as a secret, judged by where it goes:

- the name it is assigned to, or the keyword or dictionary key it is passed under, names a
  secret: token, password, secret, api key, OTP/PIN, verification/reset/activation/invite code,
  salt, nonce, session id/key, CSRF token, passphrase (`reset_code = random.randint(...)`,
  `"".join(random.choice(chars) for _ in range(32))` assigned to `api_key`);
- or it is stored under a generic name (`code`, `pin`, `value`, `key`, `chars`) inside a
  function named for a secret (`send_verification_code`: `code = random.randint(...)`);
- or, one step on, the variable it is assigned to is used to build such a value in the same
  function (`n = random.getrandbits(64)` then `remember_me = str(n)`, `token=n`,
  `response.set_cookie("session_token", n)`);
- or it is returned from a function named like one (`generate_token`, `make_otp`,
  `random_password`, `create_invite_code`, `new_salt`).

`random.SystemRandom()` and the `secrets` module are not reported, nor are the common uses of
`random` that need no secrecy: sampling, shuffling, jitter and backoff, load balancing, test
data and sleep durations -- none of them lands in a secret-named place.
"""

HOW_TO_FIX = """\
Use the `secrets` module: `secrets.token_urlsafe(32)` for tokens and keys, `secrets.token_hex`,
`secrets.choice(alphabet)` for passwords, `f"{secrets.randbelow(10**6):06d}"` for numeric codes,
`os.urandom(16)` for salts (or let the password hasher make the salt). Django:
`get_random_string(32)`.
"""

_RANDOM_FUNCTIONS = frozenset(
    {
        "random",
        "randint",
        "randrange",
        "choice",
        "choices",
        "sample",
        "getrandbits",
        "uniform",
        "randbytes",
        "shuffle",
        "triangular",
    }
)
#: One word that names a secret value on its own.
_SECRET_WORDS = frozenset(
    {
        "token",
        "tokens",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "pw",
        "secret",
        "secrets",
        "otp",
        "totp",
        "hotp",
        "pin",
        "salt",
        "nonce",
        "apikey",
        "passphrase",
        "passcode",
        "csrf",
        "sid",
        "jwt",
        "credential",
        "credentials",
        "remember",  # remember-me cookies are long-lived login tokens
    }
)
#: Word pairs: a qualifier followed by the thing (``reset_code``, ``session_id``, ``api_key``).
_SECRET_PAIRS = {
    "code": frozenset(
        {
            "verification",
            "verify",
            "reset",
            "activation",
            "activate",
            "confirmation",
            "confirm",
            "invite",
            "invitation",
            "auth",
            "login",
            "otp",
            "sms",
            "security",
            "recovery",
            "backup",
            "access",
            "one",
            "mfa",
            "twofa",
            "2fa",
            "signup",
            "registration",
            "promo",
            "voucher",
            "coupon",
            "redeem",
            "referral",
            "magic",
        }
    ),
    "key": frozenset(
        {"api", "secret", "session", "access", "private", "signing", "encryption", "license"}
    ),
    "id": frozenset({"session"}),
    "link": frozenset({"magic", "reset", "invite"}),
}
#: Words that turn a secret-sounding name into something else.
_NOT_SECRET = frozenset(
    {"max", "min", "num", "count", "length", "len", "size", "type", "timeout", "delay", "test"}
)
#: Generic names that take the meaning of the function around them (``code`` inside
#: ``send_verification_code``).
_GENERIC = frozenset({"code", "pin", "value", "result", "key", "digits", "chars", "string"})
_COOKIE_SETTERS = frozenset({"set_cookie", "set_signed_cookie"})
_VERB_WORDS = frozenset({"generate", "gen", "make", "create", "new", "random", "issue", "build"})


def secret_target(name: str) -> bool:
    """True when ``name`` names a secret value (``reset_code``, ``api_key``, ``salt``)."""
    found = words(name)
    if not found or any(w in _NOT_SECRET for w in found):
        return False
    if any(w in _SECRET_WORDS for w in found):
        return True
    return any(
        found[i] in _SECRET_PAIRS.get(found[i + 1], frozenset()) for i in range(len(found) - 1)
    )


Options = test_path_options("off")


class InsecureRandomSecret(PythonRule):
    meta = RuleMeta(
        code="BE507",
        name="insecure-random-secret",
        summary="Predictable `random` used for a token, password, code or salt",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=338,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/338.html",
            "https://docs.python.org/3/library/random.html",
            "https://docs.python.org/3/library/secrets.html",
        ),
    )
    options_class = Options
    triggers = ("random",)

    bad = (
        Example(
            """\
import random
import string
from random import choice

ALPHABET = string.ascii_letters + string.digits


def send_reset(user):
    reset_code = random.randint(100000, 999999)  # expect: BE507
    user.api_key = "".join(random.choice(ALPHABET) for _ in range(40))  # expect: BE507
    notify(user, otp=str(random.randrange(10**6)))  # expect: BE507


def generate_token(length=32):
    return "".join(choice(ALPHABET) for _ in range(length))  # expect: BE507


rng = random.Random()
salt = rng.getrandbits(64)  # expect: BE507


def send_verification_code(phone):
    code = random.randint(1000, 9999)  # expect: BE507
    sms.send(phone, f"Your code is {code}")


def login(response, user):
    number = random.getrandbits(64)  # expect: BE507
    remember_me_key = str(number)[2:]
    response.set_cookie("rememberMe", remember_me_key)
"""
        ),
    )
    good = (
        Example(
            """\
import random
import secrets
import time


def retry_delay(attempt):
    return min(60, 2**attempt) + random.uniform(0, 1)


def pick_backend(backends):
    return random.choice(backends)


def sample_rows(rows):
    subset = random.sample(rows, 100)
    random.shuffle(subset)
    return subset


def generate_token():
    return secrets.token_urlsafe(32)


token_length = random.randint(16, 32)
sysrand = random.SystemRandom()
password = "".join(sysrand.choice("abcdef") for _ in range(12))
time.sleep(random.random())


def pick(response, items):
    index = random.randrange(len(items))
    label = items[index]
    response.set_cookie("last_pick", label)
    return label


def send_digest_email(users):
    code = random.choice(["A", "B"])  # an A/B test bucket, not a secret
    return code
"""
        ),
    )

    def __init__(self, ctx: object, options: object) -> None:
        super().__init__(ctx, options)  # type: ignore[arg-type]
        self._instances: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if isinstance(value, cst.Call) and self.ctx.matches(value.func, {"random.Random"}):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._instances.add(target.target.value)

    def _flows_into_secret(self, name: str) -> str | None:
        """One step forward: ``n = random.random()`` then ``remember_me_key = str(n)[2:]``,
        ``token=n`` or ``response.set_cookie("session_token", n)`` in the same function."""
        scope = self.ctx.enclosing(cst.FunctionDef) or self.ctx.module
        if scope is None:
            return None
        for inner in descendants(scope):
            if isinstance(inner, cst.Assign) and name in expression_names(inner.value):
                for target in assigned_names(inner):
                    if target != name and secret_target(target):
                        return f"`{target}` (through `{name}`)"
            elif isinstance(inner, cst.Call) and any(
                isinstance(arg.value, cst.Name) and arg.value.value == name for arg in inner.args
            ):
                for arg in inner.args:
                    if (
                        arg.keyword is not None
                        and secret_target(arg.keyword.value)
                        and name in expression_names(arg.value)
                    ):
                        return f"`{arg.keyword.value}` (through `{name}`)"
                callee = terminal_name(inner.func) or ""
                args = positional_args(inner)
                if callee in _COOKIE_SETTERS and args:
                    cookie = literal_string(args[0].value)
                    if cookie is not None and secret_target(cookie):
                        return f"the `{cookie}` cookie (through `{name}`)"
        return None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = self.ctx.qualified_name(func)
        if name is not None and name.startswith("random."):
            function = name.split(".", 1)[1]
        elif (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self._instances
        ):
            function = func.attr.value
        else:
            return
        if function not in _RANDOM_FUNCTIONS:
            return
        site = use_site(node, self.ctx.ancestors)
        where = next((f"`{n}`" for n in site.names() if secret_target(n)), None)
        if where is None and site.functions and secret_target(site.functions[0]):
            generic = [n for n in site.names() if not _GENERIC.isdisjoint(words(n))]
            if generic:
                where = f"`{generic[0]}` in `{site.functions[0]}()`"
        if where is None and site.returned and site.functions:
            function_name = site.functions[0]
            found = words(function_name)
            if secret_target(function_name) and (
                not _VERB_WORDS.isdisjoint(found) or found[0] in ("get", "random")
            ):
                where = f"`{function_name}()`"
        if where is None and len(site.targets) == 1 and not site.keywords:
            where = self._flows_into_secret(site.targets[0])
        if where is None:
            return
        report_by_place(
            self,
            node,
            f"`random.{function}` is predictable, and its value becomes {where}",
            help="use the secrets module (secrets.token_urlsafe, secrets.choice, "
            "secrets.randbelow)",
        )
