"""BE611 wildcard-allowed-hosts: Django accepts any Host header in production settings."""

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.websettings import (
    MISSING,
    DevSettingsOptions,
    env_lookup,
    literal,
    production_settings,
)

RATIONALE = """\
Django builds absolute URLs -- password-reset links, e-mail verification links, redirects --
from the request's `Host` header, which the client sends. `ALLOWED_HOSTS` is the check that
the header names your site. With `"*"` any host is accepted: an attacker requests a password
reset for a victim with `Host: evil.example`, and the e-mail the victim receives carries a
reset link to the attacker's server (host header poisoning); caches can be poisoned the same
way.

Reported in Django settings modules outside development files (see `dev-settings`):
`ALLOWED_HOSTS = ["*"]` (or a tuple, or `"*"` among other hosts) as a warning, and an
environment lookup whose default contains `"*"` (`env.list("ALLOWED_HOSTS", default=["*"])`)
as info. Patterns such as `".example.com"` are fine.
"""

HOW_TO_FIX = """\
List the host names the site is served under (`ALLOWED_HOSTS = ["shop.example.com",
".example.com"]`), read them from the environment without a wildcard default, and keep `"*"`
for local development settings. If a proxy validates hosts for you, say so in a comment and
suppress the finding.
"""


class WildcardAllowedHosts(PythonRule):
    meta = RuleMeta(
        code="BE611",
        name="wildcard-allowed-hosts",
        summary="`ALLOWED_HOSTS` accepts any host in production settings",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=644,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://docs.djangoproject.com/en/stable/ref/settings/#allowed-hosts",
            "https://docs.djangoproject.com/en/stable/topics/security/#host-header-validation",
        ),
        frameworks=("django",),
    )
    options_class = DevSettingsOptions
    triggers = ("ALLOWED_HOSTS",)
    bad = (
        Example(
            """\
DEBUG = False
ALLOWED_HOSTS = ["*"]  # expect: BE611
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
import environ

env = environ.Env()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])  # expect: BE611
""",
            filename="shop/settings/base.py",
        ),
    )
    good = (
        Example(
            """\
ALLOWED_HOSTS = ["shop.example.com", ".example.com"]
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
ALLOWED_HOSTS = ["*"]
""",
            filename="shop/settings/local.py",
        ),
        Example(
            """\
import os

ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")
""",
            filename="shop/settings.py",
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        for name, value, target in production_settings(
            self.ctx.path, node, self.options.dev_settings
        ):
            if name != "ALLOWED_HOSTS":
                continue
            hosts = literal(value)
            if hosts is not MISSING:
                if _wildcard(hosts):
                    self.report(target, "`ALLOWED_HOSTS` accepts any host (`*`)")
                continue
            lookup = env_lookup(_receiver(value))
            if lookup is not None and _wildcard(literal(lookup.default)):
                self.report(
                    target,
                    f"`ALLOWED_HOSTS` accepts any host when `{lookup.variable}` is not set",
                    severity=Severity.INFO,
                )


def _wildcard(hosts: object) -> bool:
    if isinstance(hosts, str):
        return "*" in [h.strip() for h in hosts.split(",")]
    return isinstance(hosts, tuple) and "*" in hosts


def _receiver(value: cst.BaseExpression) -> cst.BaseExpression:
    """``os.environ.get("X", "*").split(",")``: the lookup before the string method."""
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value in ("split", "strip")
    ):
        return value.func.value
    return value
