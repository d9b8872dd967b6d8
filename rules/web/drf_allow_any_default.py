"""BE619 drf-allow-any-default: Django REST framework lets anyone call every API by default."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import string_value
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.websettings import DevSettingsOptions, is_dev_path, module_assignments

RATIONALE = """\
`DEFAULT_PERMISSION_CLASSES` is what every DRF view gets unless it says otherwise. With
`AllowAny` there, each new view, viewset or `@action` is public until someone remembers to add
`permission_classes` -- and a forgotten one is an unauthenticated API (reading or changing
data) that nothing flags in review.

The rule reports `"rest_framework.permissions.AllowAny"` (as a string or the class) in
`REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]` of settings modules outside development files
(see `dev-settings`). Public endpoints that set `permission_classes = [AllowAny]` themselves
are deliberate and not reported.
"""

HOW_TO_FIX = """\
Make authentication the default (`"DEFAULT_PERMISSION_CLASSES":
["rest_framework.permissions.IsAuthenticated"]`, or `DjangoModelPermissions`) and open the few
public endpoints explicitly with `permission_classes = [AllowAny]`.
"""


class DrfAllowAnyDefault(PythonRule):
    meta = RuleMeta(
        code="BE619",
        name="drf-allow-any-default",
        summary="DRF's default permission class is `AllowAny`",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=284,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://www.django-rest-framework.org/api-guide/permissions/#setting-the-permission-policy",
            "https://cwe.mitre.org/data/definitions/284.html",
        ),
        frameworks=("drf",),
    )
    options_class = DevSettingsOptions
    triggers = ("DEFAULT_PERMISSION_CLASSES",)
    bad = (
        Example(
            """\
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.AllowAny",  # expect: BE619
    ],
}
""",
            filename="api/settings.py",
        ),
    )
    good = (
        Example(
            """\
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
""",
            filename="api/settings.py",
        ),
        Example(
            """\
REST_FRAMEWORK = {"DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"]}
""",
            filename="api/settings/dev.py",
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        if is_dev_path(self.ctx.path, self.options.dev_settings):
            return
        for name, value, _ in module_assignments(node):
            if name != "REST_FRAMEWORK" or not isinstance(value, cst.Dict):
                continue
            for element in value.elements:
                if not isinstance(element, cst.DictElement):
                    continue
                if string_value(element.key) != "DEFAULT_PERMISSION_CLASSES":
                    continue
                classes = element.value
                if not isinstance(classes, cst.List | cst.Tuple):
                    continue
                for item in classes.elements:
                    text = string_value(item.value) or ".".join(
                        sorted(self.ctx.qualified_names(item.value))
                    )
                    if text.rsplit(".", 1)[-1] == "AllowAny":
                        self.report(
                            item.value,
                            "every DRF view is public unless it sets its own permissions",
                        )
