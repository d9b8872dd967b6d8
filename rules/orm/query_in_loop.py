"""BE402 query-in-loop: a database query run on every iteration of a loop."""

from __future__ import annotations

from be_lint.index.querysets import ORM_TRIGGERS, may_have_loop_queries
from be_lint.index.rules import OrmRule
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
A query inside a loop runs once per item: `Customer.objects.get(pk=row.customer_id)` for each of
500 rows is 500 round trips to the database where one `filter(pk__in=...)` would do. Each round
trip costs network latency and per-statement work on the server, so the loop gets slower in
proportion to the data and holds its connection the whole time.

The rule reports, inside `for` loops and comprehensions: Django query methods that run a query
(`get`, `first`, `count`, `exists`, `aggregate`, ... on `Model.objects` and related managers,
also when a related manager is filtered per row -- a prefetch does not help there), a query set
iterated by an inner loop, SQLAlchemy `session.execute`/`scalars`/`scalar`/`get` and
`query(...).first()`/`.all()`/..., and DB-API `cursor.execute` (and asyncpg `fetch*`). It stays
quiet for loops that are not over data: `while` loops (paging and polling), retries over
`range(...)`, loops over batches or chunks (the usual fix), and loops over a fixed list of
constants. Writes per item are BE403; relations loaded lazily per row are BE401.
"""

HOW_TO_FIX = """\
Move the query out of the loop and look results up in memory: collect the keys, run one query
(`Customer.objects.in_bulk(ids)`, `filter(pk__in=ids)`, `select(...).where(Model.id.in_(ids))`,
`WHERE id = ANY(%s)`), build a dict, then loop. For per-row aggregates use an annotation
(`annotate(n=Count("items"))`); for filtered related rows a `Prefetch` object with a query set;
for DB-API writes `cursor.executemany(sql, rows)`.
"""

_MODELS = """\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    total = models.IntegerField()

"""


class QueryInLoop(OrmRule):
    meta = RuleMeta(
        code="BE402",
        name="query-in-loop",
        summary="Database query run on every iteration of a loop",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/select.html",
        ),
    )
    triggers = ORM_TRIGGERS

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_have_loop_queries(text)

    bad = (
        Example(
            _MODELS
            + """\
def names(orders):
    out = []
    for order in orders:
        customer = Customer.objects.get(pk=order["customer_id"])  # expect: BE402
        out.append(customer.name)
    return out


def big_orders():
    for customer in Customer.objects.all():
        if customer.order_set.filter(total__gt=100).exists():  # expect: BE402
            yield customer
        for order in Order.objects.filter(customer=customer):  # expect: BE402
            yield order


def totals(ids):
    return [Order.objects.filter(customer_id=i).count() for i in ids]  # expect: BE402
"""
        ),
        Example(
            """\
from sqlalchemy import select


def load(session, ids, User):
    users = []
    for user_id in ids:
        users.append(session.get(User, user_id))  # expect: BE402
        session.execute(select(User).where(User.id == user_id))  # expect: BE402
    return users


def prices(cursor, skus):
    for sku in skus:
        cursor.execute("SELECT price FROM items WHERE sku = %s", (sku,))  # expect: BE402
        yield cursor.fetchone()
"""
        ),
    )
    good = (
        Example(
            _MODELS
            + """\
def names(orders):
    ids = [order["customer_id"] for order in orders]
    customers = Customer.objects.in_bulk(ids)
    return [customers[i].name for i in ids]


def paged(cursor):
    while True:
        cursor.execute("SELECT id FROM jobs LIMIT 100")
        if not cursor.fetchall():
            break


def batches(cursor, ids, chunks):
    for chunk in chunks(ids, 500):
        cursor.execute("DELETE FROM jobs WHERE id = ANY(%s)", (chunk,))


def retry(cursor):
    for attempt in range(3):
        try:
            cursor.execute("SELECT 1")
            break
        except Exception:
            continue


def fixed_tables(cursor):
    for table in ("jobs", "runs"):
        cursor.execute(f"TRUNCATE {table}")


def prefetched():
    for customer in Customer.objects.prefetch_related("order_set"):
        print(customer.order_set.count(), customer.order_set.exists())


def requests_session(session, urls):
    return [session.get(url) for url in urls]
"""
        ),
    )
