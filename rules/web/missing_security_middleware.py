"""BE614 missing-security-middleware: Django's security or CSRF middleware left out."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import string_value
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.websettings import DevSettingsOptions, production_settings

RATIONALE = """\
Two middleware classes carry most of Django's built-in web protections.
`SecurityMiddleware` applies the `SECURE_*` settings: HTTPS redirects, HSTS, `nosniff`,
`Referrer-Policy`, `Cross-Origin-Opener-Policy`; without it those settings silently do
nothing. `CsrfViewMiddleware` checks the CSRF token of every POST, PUT, PATCH and DELETE;
without it every form and session-authenticated endpoint can be triggered by other sites.

The rule reads `MIDDLEWARE` (or the old `MIDDLEWARE_CLASSES`) in Django settings modules
outside development files (see `dev-settings`) when it is a literal list that contains Django's
own middleware (so it is the project's full list, not a fragment appended elsewhere), and
reports each of the two that is missing. Subclasses are recognised by a class path ending in
`SecurityMiddleware`/`CsrfViewMiddleware`.
"""

HOW_TO_FIX = """\
Keep `"django.middleware.security.SecurityMiddleware"` first in `MIDDLEWARE` and
`"django.middleware.csrf.CsrfViewMiddleware"` after the session middleware. Exempt single
views that verify their own signatures (webhooks) with `@csrf_exempt` instead of removing the
middleware.
"""

_REQUIRED = {
    "SecurityMiddleware": "django.middleware.security.SecurityMiddleware",
    "CsrfViewMiddleware": "django.middleware.csrf.CsrfViewMiddleware",
}


class MissingSecurityMiddleware(PythonRule):
    meta = RuleMeta(
        code="BE614",
        name="missing-security-middleware",
        summary="Django `MIDDLEWARE` lacks SecurityMiddleware or CsrfViewMiddleware",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=352,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://docs.djangoproject.com/en/stable/ref/middleware/#module-django.middleware.security",
            "https://docs.djangoproject.com/en/stable/ref/csrf/",
            "https://docs.djangoproject.com/en/stable/howto/deployment/checklist/",
        ),
        frameworks=("django",),
    )
    options_class = DevSettingsOptions
    triggers = ("MIDDLEWARE",)
    bad = (
        Example(
            """\
MIDDLEWARE = [  # expect: BE614
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
""",
            filename="shop/settings.py",
        ),
    )
    good = (
        Example(
            """\
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "shop.middleware.StrictCsrfViewMiddleware",
]
""",
            filename="shop/settings.py",
        ),
        Example(
            """\
MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
""",
            filename="shop/settings.py",
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        for name, value, target in production_settings(
            self.ctx.path, node, self.options.dev_settings
        ):
            if name not in ("MIDDLEWARE", "MIDDLEWARE_CLASSES"):
                continue
            if not isinstance(value, cst.List | cst.Tuple):
                continue
            entries = [string_value(e.value) for e in value.elements]
            if any(e is None for e in entries):
                continue  # built from other lists: not the full picture
            paths = [e for e in entries if e is not None]
            if not any(p.startswith("django.") for p in paths):
                continue
            for short, full in _REQUIRED.items():
                if not any(p.rsplit(".", 1)[-1].endswith(short) for p in paths):
                    self.report(target, f"`{name}` does not include `{full}`")
