"""BE502 hardcoded-token: a literal in the format of a real provider token or a private key."""
# be-lint: file-ignore[BE502] the examples and docs show the credentials this rule finds

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity
from be_lint.secrets import (
    TOKEN_TRIGGERS,
    LiteralTextRule,
    known_token,
    report_by_place,
    test_path_options,
)

RATIONALE = """\
Some secrets announce themselves: cloud and SaaS providers give their keys a fixed prefix and
length so that leaks can be found. A string in one of those formats is almost never anything
else, wherever it appears -- an assignment, a call argument, a default, a docstring, a test.
Scanners run by attackers look for exactly these formats in public repositories within minutes
of a push.

Reported, in any string or bytes literal (implicit concatenations are read as one string, and
the text parts of f-strings are read too): AWS access key ids (`AKIA...`, `ASIA...`), GitHub
tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab `glpat-` tokens, Slack
tokens (`xoxb-`, `xoxp-`, ...) and incoming-webhook URLs, Stripe live secret and restricted
keys (`sk_live_`, `rk_live_`), Google API keys (`AIza...`), SendGrid, OpenAI and Anthropic
API keys, npm, PyPI, Hugging Face and Shopify tokens, PEM private-key blocks with their
content, and JSON Web Tokens (`eyJ....eyJ....`).

Documentation values stay quiet: the random part must not contain `EXAMPLE`, `XXXX`, `FAKE`
or `DUMMY`, must not repeat one character, and must vary like a machine-made string (so
AWS's `AKIAIOSFODNN7EXAMPLE` and `ghp_xxxxxxxx...` are not reported). A header such as
`"-----BEGIN RSA PRIVATE KEY-----"` on its own (as used to recognise a key) is not a key.

Test code (`test-paths`) is reported with `test-severity`, warning by default: a JWT in a
fixture is often a harmless sample, but a live cloud key in a test leaks like any other.
"""

HOW_TO_FIX = """\
Revoke the key at the provider now -- it is in the git history and possibly already scraped --
then load its replacement from the environment or a secret manager. Keep test tokens
obviously fake (`ghp_` followed by `x`s) or generate them in the test.
"""

Options = test_path_options("warning")


class HardcodedToken(LiteralTextRule):
    meta = RuleMeta(
        code="BE502",
        name="hardcoded-token",
        summary="Provider token, API key or private key written in the code",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=798,
        owasp="A07:2021-Identification and Authentication Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/798.html",
            "https://docs.github.com/en/code-security/secret-scanning/introduction/supported-secret-scanning-patterns",
            "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
        ),
    )
    options_class = Options
    triggers = TOKEN_TRIGGERS
    read_parts_of_mixed = True

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return any(trigger in text for trigger in TOKEN_TRIGGERS)

    bad = (
        Example(
            """\
import boto3
import stripe

stripe.api_key = "sk_live_51HqLyjWDarjtT1zdp7dcQwErTy"  # expect: BE502
client = boto3.client(
    "s3",
    aws_access_key_id="AKIA2E0A8F3B244C9986",  # expect: BE502
)
HEADERS = {"Authorization": "token ghp_R4nd0mL00k1ngT0k3nV4lu3H3r3abcd12345"}  # expect: BE502
"""
        ),
        Example(
            """\
DEPLOY_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\\n"  # expect: BE502
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\\n"
    "-----END OPENSSH PRIVATE KEY-----\\n"
)
"""
        ),
        Example(
            """\
def test_calls_maps(client):
    client.get("/geo", params={"key": "AIzaSyD8fK3mP0qR7sT1uV4wX6yZ9aB2cE5gH7j"})  # expect: BE502
""",
            filename="tests/test_geo.py",
        ),
    )
    good = (
        Example(
            """\
import os

AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
STRIPE_KEY = os.environ["STRIPE_KEY"]
STRIPE_TEST = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


def is_private_key(pem):
    return pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
"""
        ),
        Example(
            """\
def test_token(client):
    client.get("/geo", params={"key": "AIzaSyD8fK3mP0qR7sT1uV4wX6yZ9aB2cE5gH7j"})
""",
            filename="tests/test_geo.py",
            options={"test-severity": "off"},
        ),
    )

    def check_text(self, node: cst.CSTNode, text: str) -> None:
        if len(text) < 20:
            return
        found = known_token(text)
        if found is None:
            return
        label, _match = found
        report_by_place(
            self,
            node,
            f"{label} written in the code",
            help="revoke it at the provider, then load the replacement from the environment "
            "or a secret manager",
        )
