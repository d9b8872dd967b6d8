"""BE503 credentials-in-url: a connection URL with its password written in the code."""
# be-lint: file-ignore[BE503] the examples and docs show the credentials this rule finds

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity
from be_lint.secrets import (
    LiteralTextRule,
    report_by_place,
    test_path_options,
    url_password,
)

RATIONALE = """\
`postgres://app:S3cret@db.internal/app`, `redis://:password@cache:6379/0` and
`amqp://user:pass@broker//` carry the password inside the URL. Written in the code, the password
is committed with it (see BE501); and URLs travel further than other values -- into logs, error
reports, `repr()` of engines and clients, and admin pages.

Reported: any string or bytes literal containing `scheme://user:password@host` -- whatever it
is assigned to or passed to (`create_engine(...)`, `DATABASES`, Celery's `broker_url`,
`redis.from_url(...)`, a default of `os.getenv`), since a fallback URL becomes the production
one the day the variable is missing. Also the text parts of f-strings.

Quiet: URLs without a password (`postgres://db/app`, `redis://cache:6379`), passwords that are
placeholders (`{password}`, `${DB_PASSWORD}`, `%(password)s`, `<password>`, `***`,
`changeme`, `password`), f-string holes (`postgres://{user}:{pw}@{host}`), and local defaults
whose password equals the user name (`postgres:postgres@localhost`, `guest:guest@`).

Test code (`test-paths`) is reported with `test-severity`, info by default.
"""

HOW_TO_FIX = """\
Keep the whole URL in the environment (`DATABASE_URL`, `REDIS_URL`, `CELERY_BROKER_URL`), or
build it from parts whose password comes from a secret store:

```python
engine = create_engine(os.environ["DATABASE_URL"])
url = URL.create("postgresql+psycopg", username="app", password=os.environ["DB_PASSWORD"],
                 host="db.internal", database="app")
```
"""

Options = test_path_options("info")


class CredentialsInUrl(LiteralTextRule):
    meta = RuleMeta(
        code="BE503",
        name="credentials-in-url",
        summary="Connection URL with an embedded password",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=798,
        owasp="A07:2021-Identification and Authentication Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/798.html",
            "https://docs.sqlalchemy.org/en/20/core/engines.html#creating-urls-programmatically",
        ),
    )
    options_class = Options
    triggers = ("://",)

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return "://" in text and "@" in text

    bad = (
        Example(
            """\
import os

from sqlalchemy import create_engine

engine = create_engine("postgresql+psycopg://app:Xk29fLq8@db.internal:5432/shop")  # expect: BE503
CACHE_URL = os.getenv("CACHE_URL", "redis://:r3d1sPw@cache:6379/0")  # expect: BE503
CELERY_BROKER_URL = "amqp://worker:w0rk3rPw@rabbit//"  # expect: BE503
"""
        ),
    )
    good = (
        Example(
            """\
import os

DATABASE_URL = os.environ["DATABASE_URL"]
LOCAL_DB = "postgres://postgres:postgres@localhost/app"
DOCS_EXAMPLE = "postgres://user:password@host/db"
TEMPLATE = "mysql://{user}:{password}@{host}/{name}"
BROKER = "amqp://guest:guest@localhost//"
CACHE = "redis://cache:6379/1"


def url(user, pw, host):
    return f"postgresql://{user}:{pw}@{host}/app"
"""
        ),
    )

    def check_text(self, node: cst.CSTNode, text: str) -> None:
        if "://" not in text or "@" not in text:
            return
        found = url_password(text)
        if found is None:
            return
        scheme, user, _password, host = found
        who = f"`{user}`" if user else "the server"
        report_by_place(
            self,
            node,
            f"{scheme} URL carries the password of {who} at `{host or '?'}`",
            help="keep the URL (or its password) in the environment or a secret store",
        )
