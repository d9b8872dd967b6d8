"""BE511 jwt-algorithm-confusion: a JWT decoder accepting both HMAC and public-key algorithms."""

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import JWT_DECODE, JWT_TRIGGERS, jwt_algorithms, jwt_function

RATIONALE = """\
With `algorithms=["RS256", "HS256"]` the token's header decides how the key is used. An
attacker takes the server's *public* RSA key -- public by definition -- and signs a token with
HS256 using that key as the HMAC secret; a decoder that is given the public key and allows
HS256 verifies it. Libraries defend against the most obvious form (PyJWT refuses PEM-looking
HMAC keys), but not against every key format, and the configuration is wrong either way: one
key is for one algorithm family.

Reported: `algorithms=` of `jwt.decode` (PyJWT, python-jose; literal lists, tuples or names
holding one) mixing HMAC (`HS256`, `HS384`, `HS512`) with public-key algorithms (`RS*`, `PS*`,
`ES*`, `EdDSA`).
"""

HOW_TO_FIX = """\
Accept exactly the algorithm family of the key you pass: `algorithms=["RS256"]` with a public
key, `algorithms=["HS256"]` with a shared secret. If both kinds of tokens exist, pick the key
and the algorithm list by the token's `kid` (from `jwt.get_unverified_header`), not by its `alg`.
"""


class JwtAlgorithmConfusion(PythonRule):
    meta = RuleMeta(
        code="BE511",
        name="jwt-algorithm-confusion",
        summary="JWT decoder accepts both HMAC and public-key algorithms",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=347,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/347.html",
            "https://portswigger.net/web-security/jwt/algorithm-confusion",
        ),
    )
    triggers = JWT_TRIGGERS

    bad = (
        Example(
            """\
import jwt

ALGORITHMS = ["RS256", "HS256"]


def claims(token, key):
    return jwt.decode(token, key, algorithms=ALGORITHMS)  # expect: BE511


def claims_es(token, key):
    return jwt.decode(token, key, algorithms=("ES256", "HS512"))  # expect: BE511
"""
        ),
    )
    good = (
        Example(
            """\
import jwt


def claims(token, key):
    return jwt.decode(token, key, algorithms=["RS256", "RS512", "PS256"])


def shared(token, secret):
    return jwt.decode(token, secret, algorithms=["HS256", "HS512"])


def configured(token, key, algorithms):
    return jwt.decode(token, key, algorithms=algorithms)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if jwt_function(self.ctx, node, JWT_DECODE) is None:
            return
        algorithms = jwt_algorithms(node, self.ctx)
        if not algorithms:
            return
        names = [text.upper() for text, _ in algorithms]
        hmac = [n for n in names if n.startswith("HS")]
        public = [n for n in names if n[:2] in ("RS", "PS", "ES") or n == "EDDSA"]
        if hmac and public:
            arg = next(a for a in node.args if a.keyword and a.keyword.value == "algorithms")
            self.report(
                arg,
                f"JWT algorithms mix HMAC ({', '.join(hmac)}) and public-key "
                f"({', '.join(public)}) families: algorithm confusion",
                help="accept only the family of the key you pass, e.g. algorithms=['RS256']",
            )
