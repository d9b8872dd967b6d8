"""BE618 assert-for-access-control: a permission check written as ``assert``."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import descendants
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.websettings import TEST_GLOBS, is_dev_path, skip_file

RATIONALE = """\
`assert` statements are removed when Python runs with `-O` or `PYTHONOPTIMIZE` (some
container images and process managers set it), and an `AssertionError` is an unhandled 500 at
best. A permission or ownership check written as an assertion either disappears silently in
production -- everyone may act on everything -- or turns a denied request into a server error.

The rule reports `assert` statements in application code whose condition checks who the user is
or what they may do: `is_authenticated`, `is_staff`, `is_superuser`, `is_admin`, `has_perm`,
`has_permission`, `has_object_permission`, `check_permission`, `is_owner`, a comparison with
an `owner`/`user` of an object (`assert obj.owner == request.user`), `current_user`,
`permissions` and `role(s)`. Test files (configurable with `test-paths`) are not checked.
"""

HOW_TO_FIX = """\
Raise the framework's error instead: `if not request.user.has_perm("shop.change_order"): raise
PermissionDenied` (Django), `abort(403)` (Flask), `raise HTTPException(status_code=403)`
(FastAPI); or use the framework's declarative checks (`permission_required`, DRF permission
classes, FastAPI dependencies).
"""

_SIGNALS = frozenset(
    {
        "is_authenticated",
        "is_anonymous",
        "is_staff",
        "is_superuser",
        "is_admin",
        "has_perm",
        "has_perms",
        "has_permission",
        "has_object_permission",
        "check_permission",
        "check_permissions",
        "is_owner",
        "owner",
        "owner_id",
        "permissions",
        "current_user",
        "role",
        "roles",
        "can_edit",
        "can_view",
        "can_delete",
        "can_access",
    }
)


@dataclass(frozen=True)
class Options:
    test_paths: tuple[str, ...] = option(
        TEST_GLOBS,
        "Path globs of test files, where assertions are expected.",
    )


class AssertForAccessControl(PythonRule):
    meta = RuleMeta(
        code="BE618",
        name="assert-for-access-control",
        summary="A permission or ownership check is written as `assert`",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=617,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://docs.python.org/3/reference/simple_stmts.html#the-assert-statement",
            "https://cwe.mitre.org/data/definitions/617.html",
        ),
    )
    options_class = Options
    triggers = ("assert",)
    bad = (
        Example(
            """\
def delete_order(request, order):
    assert request.user.is_staff  # expect: BE618
    assert order.owner == request.user, "not yours"  # expect: BE618
    order.delete()


def publish(user, post):
    assert user.has_perm("blog.publish_post")  # expect: BE618
    post.publish()
""",
            filename="shop/views.py",
        ),
    )
    good = (
        Example(
            """\
def total(order):
    assert order.items, "an order has items"
    assert isinstance(order.total, int)
    return order.total
""",
            filename="shop/views.py",
        ),
        Example(
            """\
def test_staff(client, user):
    assert user.is_staff
""",
            filename="shop/tests/test_views.py",
        ),
    )

    @classmethod
    def skips_path(cls, path: str, options: Options) -> bool:
        return is_dev_path(path, options.test_paths)

    def visit_Module(self, node: cst.Module) -> object:
        return skip_file(self.ctx.path, self.options.test_paths)

    def visit_Assert(self, node: cst.Assert) -> None:
        test = node.test
        for sub in [test, *descendants(test)]:
            word: str | None = None
            if isinstance(sub, cst.Attribute):
                word = sub.attr.value
            elif isinstance(sub, cst.Name):
                word = sub.value
            if word in _SIGNALS:
                self.report(
                    node,
                    f"access check `{word}` in an `assert` is removed under `python -O`",
                    help="raise PermissionDenied / abort(403) / HTTPException(403) instead",
                )
                return
