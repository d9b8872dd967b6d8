"""BE403 write-in-loop: one ORM write per loop iteration where a bulk operation would do."""

from __future__ import annotations

from be_lint.index.querysets import ORM_TRIGGERS, may_have_loop_queries
from be_lint.index.rules import OrmRule
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
Saving, creating or deleting model objects one at a time in a loop sends one statement per
object (`save()` on an existing object even two with some backends' upserts); importing 10,000
rows becomes 10,000 round trips, each in its own implicit transaction unless the loop is wrapped
in one. Django's `bulk_create`/`bulk_update` and a filtered `update()`/`delete()` do the same
work in one or a few statements.

The rule reports, inside `for` loops and comprehensions over data: `.save()` and `.delete()` on
model objects (created in the loop or rows of a query), `Model.objects.create`,
`get_or_create`, `update_or_create`, query set `update`/`delete`, and many-to-many
`add`/`remove`/`set`/`clear`. Bulk operations skip `save()` overrides and the `pre_save`/
`post_save` signals, so when a loop relies on them the finding is a prompt to decide, and a
suppression with a reason documents the decision.
"""

HOW_TO_FIX = """\
Build the objects in the loop and write them once: `Model.objects.bulk_create(objects,
batch_size=1000)` for new rows, `Model.objects.bulk_update(objects, ["field"])` for changed
rows, one `queryset.update(field=value)` when every row gets the same change,
`filter(pk__in=ids).delete()` for deletions, and `Through.objects.bulk_create(...)` for
many-to-many links.
"""

_MODELS = """\
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Post(models.Model):
    title = models.CharField(max_length=100)
    views = models.IntegerField(default=0)
    tags = models.ManyToManyField(Tag)

"""


class WriteInLoop(OrmRule):
    meta = RuleMeta(
        code="BE403",
        name="write-in-loop",
        summary="ORM write on every iteration of a loop instead of a bulk operation",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#bulk-create",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#bulk-update",
        ),
        frameworks=("django",),
    )
    triggers = ORM_TRIGGERS

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_have_loop_queries(text)

    bad = (
        Example(
            _MODELS
            + """\
def import_titles(titles):
    for title in titles:
        Post.objects.create(title=title)  # expect: BE403


def import_objects(rows):
    for row in rows:
        post = Post(title=row["title"])
        post.save()  # expect: BE403


def bump():
    for post in Post.objects.filter(views__lt=10):
        post.views += 1
        post.save()  # expect: BE403


def tag_all(tag):
    for post in Post.objects.all():
        post.tags.add(tag)  # expect: BE403
"""
        ),
    )
    good = (
        Example(
            _MODELS
            + """\
def import_titles(titles):
    Post.objects.bulk_create([Post(title=title) for title in titles])


def bump():
    posts = list(Post.objects.filter(views__lt=10))
    for post in posts:
        post.views += 1
    Post.objects.bulk_update(posts, ["views"])


def save_forms(forms):
    for form in forms:
        form.save()


def once(title):
    post = Post(title=title)
    post.save()
"""
        ),
    )
