"""BE404 queryset-loaded-to-count: every row loaded to count them or to test for any."""

from __future__ import annotations

from be_lint.index.querysets import ORM_TRIGGERS, may_have_counting
from be_lint.index.rules import OrmRule
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
`len(queryset)` and `if queryset:` evaluate the query set: every matching row is fetched and
turned into a model object, only to produce one number or one boolean. On a large table that is
seconds of work and megabytes of memory for what `SELECT COUNT(*)` or `SELECT 1 ... LIMIT 1`
answers in milliseconds.

The rule reports `len()`, `bool()` and truth tests (`if`, `while`, `not`, conditional
expressions) of a Django query set that is not used afterwards in the same function -- when the
rows are iterated next, loading them once is the right call and the rule stays quiet -- and
`len()` of an SQLAlchemy `query(...).all()` or `scalars(...).all()` result built only to count.
"""

HOW_TO_FIX = """\
Ask the database: `queryset.count()` for the number, `queryset.exists()` for "any rows?";
for SQLAlchemy `query.count()` or `select(func.count()).select_from(...)`. If the rows are
needed afterwards, load them once (`rows = list(queryset)`) and use `len(rows)` and `if rows:`.
"""

_MODELS = """\
from django.db import models


class Invoice(models.Model):
    paid = models.BooleanField(default=False)

"""


class QuerysetLoadedToCount(OrmRule):
    meta = RuleMeta(
        code="BE404",
        name="queryset-loaded-to-count",
        summary="Query set loaded only to count its rows or test for any",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#count",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists",
        ),
        frameworks=("django", "sqlalchemy"),
    )
    triggers = ORM_TRIGGERS

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_have_counting(text)

    bad = (
        Example(
            _MODELS
            + """\
def unpaid_count():
    return len(Invoice.objects.filter(paid=False))  # expect: BE404


def has_unpaid():
    unpaid = Invoice.objects.filter(paid=False)
    if unpaid:  # expect: BE404
        return True
    return False


def nothing_paid():
    paid = Invoice.objects.filter(paid=True)
    return "none" if not paid else "some"  # expect: BE404
"""
        ),
        Example(
            """\
from sqlalchemy.orm import Mapped, mapped_column, DeclarativeBase


class Base(DeclarativeBase):
    pass


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)


def pending(session):
    return len(session.query(Job).filter(Job.id > 5).all())  # expect: BE404
"""
        ),
    )
    good = (
        Example(
            _MODELS
            + """\
def unpaid_count():
    return Invoice.objects.filter(paid=False).count()


def report():
    unpaid = Invoice.objects.filter(paid=False)
    if not unpaid:
        return []
    return [invoice.pk for invoice in unpaid]


def listing():
    rows = list(Invoice.objects.all())
    return len(rows), bool(rows)


def sized(unpaid):
    return len(unpaid)
"""
        ),
    )
