"""BE620 serializer-exposes-privileged-fields: ``fields = "__all__"`` on a model with roles."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import string_value
from be_lint.names import dotted_name, suite_statements
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option

RATIONALE = """\
`fields = "__all__"` on a DRF `ModelSerializer` or a Django `ModelForm` makes every model field
writable through it -- including the ones that decide what a user may do. A sign-up or
profile endpoint built on such a serializer lets the client send `"is_staff": true` or
`"role": "admin"` and promote themselves; fields added to the model later become writable
without anyone looking at the API.

The rule reports `fields = "__all__"` in the `Meta` of a serializer or model form whose model
has a privilege field: `is_staff`, `is_superuser`, `is_admin`, `is_moderator`, `role`, `roles`,
`permissions`, `user_permissions`, `groups` (configurable with `privileged-fields`), unless all
of them are in `read_only_fields`. The model's fields come from the project index (models in
any file of the project); Django's `User` and the project's `AUTH_USER_MODEL` count as
privileged.
"""

HOW_TO_FIX = """\
List the fields the endpoint may write (`fields = ["name", "email"]`), or at least mark the
privilege fields read-only (`read_only_fields = ["is_staff", "is_superuser"]`). Use separate
serializers for admins.
"""

_AUTH_USERS = frozenset(
    {
        "django.contrib.auth.models.User",
        "django.contrib.auth.get_user_model",
        "django.contrib.auth.get_user_model()",
    }
)


@dataclass(frozen=True)
class Options:
    privileged_fields: tuple[str, ...] = option(
        (
            "is_staff",
            "is_superuser",
            "is_admin",
            "is_moderator",
            "role",
            "roles",
            "permissions",
            "user_permissions",
            "groups",
        ),
        "Model fields that grant privileges.",
    )


class SerializerExposesPrivilegedFields(PythonRule):
    meta = RuleMeta(
        code="BE620",
        name="serializer-exposes-privileged-fields",
        summary='A serializer or model form with `fields = "__all__"` exposes privilege fields',
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=915,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://www.django-rest-framework.org/api-guide/serializers/#specifying-which-fields-to-include",
            "https://docs.djangoproject.com/en/stable/topics/forms/modelforms/#selecting-the-fields-to-use",
            "https://cwe.mitre.org/data/definitions/915.html",
        ),
    )
    options_class = Options
    triggers = ("__all__",)
    bad = (
        Example(
            """\
from django.db import models
from rest_framework import serializers


class Member(models.Model):
    name = models.CharField(max_length=80)
    role = models.CharField(max_length=20, default="viewer")


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = "__all__"  # expect: BE620
""",
            filename="team/serializers.py",
        ),
        Example(
            """\
from django import forms
from django.contrib.auth.models import User


class UserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = "__all__"  # expect: BE620
""",
            filename="accounts/forms.py",
        ),
    )
    good = (
        Example(
            """\
from django.db import models
from rest_framework import serializers


class Member(models.Model):
    name = models.CharField(max_length=80)
    role = models.CharField(max_length=20, default="viewer")


class Tag(models.Model):
    label = models.CharField(max_length=20)


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = "__all__"
        read_only_fields = ["role"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = "__all__"


class PublicMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["name"]
""",
            filename="team/serializers.py",
        ),
    )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not any(
            (dotted_name(base.value) or "").endswith(("Serializer", "ModelForm"))
            for base in node.bases
        ):
            return
        meta = next(
            (
                s
                for s in suite_statements(node.body)
                if isinstance(s, cst.ClassDef) and s.name.value == "Meta"
            ),
            None,
        )
        if meta is None:
            return
        model: cst.BaseExpression | None = None
        fields_node: cst.CSTNode | None = None
        read_only: set[str] = set()
        for statement in suite_statements(meta.body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                    continue
                target = small.targets[0].target
                if not isinstance(target, cst.Name):
                    continue
                if target.value == "model":
                    model = small.value
                elif target.value == "fields" and string_value(small.value) == "__all__":
                    fields_node = small
                elif target.value == "read_only_fields" and isinstance(
                    small.value, cst.List | cst.Tuple
                ):
                    read_only = {
                        v for e in small.value.elements if (v := string_value(e.value)) is not None
                    }
        if model is None or fields_node is None:
            return
        exposed = sorted(self._privileged(model) - read_only)
        if exposed:
            listed = ", ".join(f"`{f}`" for f in exposed)
            self.report(
                fields_node,
                f'`fields = "__all__"` makes privilege fields writable: {listed}',
                help="list the allowed fields, or mark these in `read_only_fields`",
            )

    def _privileged(self, model: cst.BaseExpression) -> set[str]:
        wanted = set(self.options.privileged_fields)
        names = self.ctx.qualified_names(model.func if isinstance(model, cst.Call) else model)
        if names & _AUTH_USERS:
            return wanted & {"is_staff", "is_superuser", "user_permissions", "groups"}
        project = self.ctx.project
        if project is None:
            return set()
        found = project.find(names) if names else None
        if found is None:
            last = (dotted_name(model) or "").rsplit(".", 1)[-1]
            candidates = project.model_names.get(last, ())
            if len(candidates) == 1:
                found = project.models[candidates[0]]
        if found is None:
            return set()
        fields = set(found.columns) | set(found.relations)
        out = wanted & fields
        if project.auth_user is not None and found.qualname == project.auth_user:
            out |= wanted & {"is_staff", "is_superuser", "user_permissions", "groups"}
        return out
