"""BE401 n-plus-one-query: a relation loaded lazily once per row of a query result."""

from __future__ import annotations

from be_lint.index.querysets import ORM_TRIGGERS, may_have_loop_queries
from be_lint.index.rules import OrmRule
from be_lint.rule import Confidence, Example, FileKind, RuleMeta, Severity

RATIONALE = """\
A loop over the rows of a query that touches a relation of each row -- `order.customer.name`,
`book.authors.all()`, `user.addresses` -- runs one more query per row, because the ORM loads
relations lazily, on first access. The page that lists 20 orders runs 21 queries; with 2,000
orders it runs 2,001, and the slowdown grows with the data, so it rarely shows in development.
This is the "N+1 queries" problem, the most common performance bug of ORM code.

The rule knows the project's models from the project index -- Django models (with abstract
bases, custom managers and query sets, reverse accessors) and SQLAlchemy mapped classes (with
each relationship's `lazy=` strategy), wherever they are defined -- and follows query sets through
local variables. It reports a relation touched in a `for` loop or comprehension over a query
(`Order.objects...`, a related manager's `.all()`, `session.query(...)`,
`session.scalars(select(...))`, `session.execute(...).scalars()`, Flask-SQLAlchemy's
`Model.query`) when nothing loads it up front: no `select_related`/`prefetch_related` (also
added later to the same variable, also through `Prefetch` objects and nested lookups such as
`items__product`), no `joinedload`/`selectinload`/`subqueryload` option, no eager `lazy=`
strategy on the relationship. Reading `order.customer_id` needs no query and is never reported.
"""

HOW_TO_FIX = """\
Load the relation together with the rows, as the message says:

- Django, a foreign key or one-to-one (`order.customer`): `.select_related("customer")` -- one
  query with a join. Through a relation that returns many rows, or for a many-to-many or
  reverse foreign key (`order.items.all()`): `.prefetch_related("items")` -- one more query for
  all rows. Nested relations use `__`: `.prefetch_related("items__product")`; a filtered or
  pre-joined relation takes a `Prefetch("items", queryset=Item.objects.select_related(...))`.
- SQLAlchemy: `.options(selectinload(User.addresses))` for collections,
  `.options(joinedload(Address.user))` for many-to-one, chained for nested relations
  (`selectinload(User.orders).joinedload(Order.customer)`); or set `lazy="selectin"` on the
  relationship when every query needs it.
- When only the key is needed, read `order.customer_id` instead of `order.customer.id`.
"""

_MODELS = """\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Product(models.Model):
    title = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tags = models.ManyToManyField("Tag")


class Item(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE)


class Tag(models.Model):
    label = models.CharField(max_length=20)

"""

_SQLALCHEMY = """\
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    addresses: Mapped[list["Address"]] = relationship(back_populates="user")
    groups: Mapped[list["Group"]] = relationship(lazy="selectin")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped["User"] = relationship(back_populates="addresses")


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

"""


class NPlusOneQuery(OrmRule):
    meta = RuleMeta(
        code="BE401",
        name="n-plus-one-query",
        summary="Relation loaded lazily once per row of a query result (N+1 queries)",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-related",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#prefetch-related",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
        ),
        frameworks=("django", "sqlalchemy"),
    )
    triggers = ORM_TRIGGERS

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return may_have_loop_queries(text)

    bad = (
        Example(
            _MODELS
            + """\
def order_report():
    lines = []
    for order in Order.objects.filter(paid=True):
        lines.append(order.customer.name)  # expect: BE401
    return lines


def order_products(order_id):
    orders = Order.objects.filter(pk=order_id).prefetch_related("items")
    return [
        item.product.title  # expect: BE401
        for order in orders
        for item in order.items.all()
    ]


def tag_counts():
    return {order.pk: order.tags.count() for order in Order.objects.all()}  # expect: BE401


def customer_ids():
    return [o.customer.id for o in Order.objects.all()]  # expect: BE401
"""
        ),
        Example(
            _MODELS
            + """\
def items_per_order():
    qs = Order.objects.select_related("customer")
    qs = qs.filter(customer__name="x")
    for order in qs:
        print(order.customer.name)
        for item in order.items.all():  # expect: BE401
            print(item.product.title)  # expect: BE401
"""
        ),
        Example(
            _SQLALCHEMY
            + """\
def emails(session):
    for user in session.query(User).filter(User.id > 10):
        for address in user.addresses:  # expect: BE401
            print(address.id)


def owners(session):
    stmt = select(Address).where(Address.id > 3)
    return [a.user.id for a in session.scalars(stmt)]  # expect: BE401


def owners_again(session):
    rows = session.execute(select(Address)).scalars().all()
    return [a.user.id for a in rows]  # expect: BE401
"""
        ),
    )
    good = (
        Example(
            _MODELS
            + """\
def order_report():
    return [order.customer.name for order in Order.objects.select_related("customer")]


def later():
    qs = Order.objects.filter(paid=True)
    qs = qs.select_related("customer").prefetch_related("items__product", "tags")
    for order in qs:
        print(order.customer.name, order.tags.count())
        for item in order.items.all():
            print(item.product.title)


def keys_only():
    return [order.customer_id for order in Order.objects.all()]


def plain_list(orders):
    return [order.customer.name for order in orders]


def with_prefetch_object():
    from django.db.models import Prefetch

    items = Item.objects.select_related("product")
    orders = Order.objects.prefetch_related(Prefetch("items", queryset=items))
    for order in orders:
        for item in order.items.all():
            print(item.product.title)


def values_rows():
    for row in Order.objects.values("customer__name"):
        print(row["customer__name"])


def assignment_only(new_customer):
    for order in Order.objects.all():
        order.customer = new_customer
"""
        ),
        Example(
            _SQLALCHEMY
            + """\
from sqlalchemy.orm import joinedload, selectinload


def emails(session):
    for user in session.query(User).options(selectinload(User.addresses)):
        print([a.id for a in user.addresses], user.groups)


def owners(session):
    stmt = select(Address).options(joinedload(Address.user))
    return [a.user.id for a in session.scalars(stmt)]


def owner_keys(session):
    return [a.user_id for a in session.scalars(select(Address))]
"""
        ),
    )
