"""BE405 count-then-load: a query set counted (or tested) and then loaded, two queries."""

from __future__ import annotations

from be_lint.index.querysets import ORM_TRIGGERS, may_have_counting
from be_lint.index.rules import OrmRule
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
`qs.count()` or `qs.exists()` followed by a loop over the same `qs` runs two queries over the
same rows: one to count or test, one to load. When the rows are loaded anyway, the count and
the test can come from the loaded rows for free.

The rule reports `.count()` and `.exists()` on a query set held in a local variable when the
same variable is iterated afterwards in the function (a `for` loop, a comprehension,
`list()`). It stays quiet when the count guards against loading too much (`if qs.count() >
LIMIT: ...`), when the later loop reads a slice (`qs[:10]`, a page) or uses `.iterator()`, and
for related managers whose rows were prefetched (their count is already free).
"""

HOW_TO_FIX = """\
Load once and derive the rest: `rows = list(qs)`, then `len(rows)` and `if rows:`. For "any
rows? then loop", `if qs:` loads and caches the rows that the loop then reuses.
"""

_MODELS = """\
from django.db import models


class Event(models.Model):
    name = models.CharField(max_length=100)

"""


class CountThenLoad(OrmRule):
    meta = RuleMeta(
        code="BE405",
        name="count-then-load",
        summary="Query set counted or tested, then loaded: two queries where one does",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.MEDIUM,
        references=(
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/"
            "#don-t-overuse-count-and-exists",
        ),
        frameworks=("django",),
    )
    triggers = ORM_TRIGGERS

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_have_counting(text)

    bad = (
        Example(
            _MODELS
            + """\
def summary():
    events = Event.objects.filter(name__startswith="a")
    total = events.count()  # expect: BE405
    names = [event.name for event in events]
    return total, names


def listing():
    events = Event.objects.all()
    if events.exists():  # expect: BE405
        for event in events:
            print(event.name)
"""
        ),
    )
    good = (
        Example(
            _MODELS
            + """\
def summary():
    events = list(Event.objects.filter(name__startswith="a"))
    return len(events), [event.name for event in events]


def guarded():
    events = Event.objects.all()
    if events.count() > 1000:
        raise ValueError("too many")
    return [event.name for event in events]


def paged(offset):
    events = Event.objects.order_by("name")
    total = events.count()
    return total, [event.name for event in events[offset : offset + 20]]


def streamed():
    events = Event.objects.all()
    print(events.count())
    for event in events.iterator():
        print(event.name)
"""
        ),
    )
