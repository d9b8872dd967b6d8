"""The project index: Django and SQLAlchemy models across files, and its pass-through."""

from __future__ import annotations

import pickle
from pathlib import Path

from be_lint.engine import Checker, Settings
from be_lint.index import ProjectIndex, build_index, index_paths, index_text, may_define_models
from be_lint.index.build import merge
from be_lint.index.facts import file_facts
from be_lint.loader import builtin_rules
from be_lint.rule import FileKind

FIXTURES = Path(__file__).parent / "fixtures" / "orm"


def _index(root: Path) -> ProjectIndex:
    return index_paths(sorted(root.rglob("*.py")), root)


def test_django_models_across_files_and_packages() -> None:
    index = _index(FIXTURES / "django_app")
    order = index.models["shop.app.models.Order"]
    assert order.orm == "django"
    assert order.app_label == "app"
    customer = order.relations["customer"]
    # ``from ..other.models import Customer``: a relative import to another package.
    assert (customer.target, customer.many, customer.joinable) == (
        "shop.other.models.Customer",
        False,
        True,
    )
    assert order.relations["tags"].many and order.relations["tags"].target == "shop.app.models.Tag"
    assert {"customer_id", "paid", "created", "pk"} <= order.columns
    # The manager comes from a query set class of another module (``as_manager``).
    assert order.managers["objects"] == "shop.app.managers.OrderQuerySet"
    methods = index.querysets["shop.app.managers.OrderQuerySet"].methods
    assert methods["with_customer"].lookups == ("customer",)
    assert methods["paid"].lookups == ()


def test_django_reverse_accessors_and_inherited_fields() -> None:
    index = _index(FIXTURES / "django_app")
    customer = index.models["shop.other.models.Customer"]
    assert customer.relations["orders"].many  # related_name
    assert customer.relations["orders"].target == "shop.app.models.Order"
    assert not customer.relations["address"].many  # reverse one-to-one
    assert customer.relations["referrer"].target == "shop.other.models.Customer"  # "self"
    assert customer.relations["customer_set"].many  # default name of the reverse of "self"
    assert "created" in customer.columns  # from the abstract base
    item = index.models["shop.app.models.Item"]
    assert item.relations["product"].target == "shop.app.models.Product"  # "app.Product"
    assert index.models["shop.other.models.TimeStamped"].abstract


def test_sqlalchemy_relationships_and_loading_strategies() -> None:
    index = _index(FIXTURES / "sqlalchemy_app")
    user = index.models["store.models.User"]
    assert user.orm == "sqlalchemy"
    addresses = user.relations["addresses"]
    assert (addresses.many, addresses.lazy, addresses.target) == (
        True,
        "select",
        "store.models.Address",
    )
    assert user.relations["groups"].lazy == "selectin"
    # ``backref("orders", lazy="dynamic")`` declared on Order.user.
    assert user.relations["orders"].lazy == "dynamic"
    assert user.relations["orders"].many
    address = index.models["store.models.Address"]
    assert not address.relations["user"].many  # holds the foreign key: many-to-one
    order = index.models["store.models.Order"]
    assert order.relations["lines"].many  # Mapped[list["Line"]]
    assert not order.relations["user"].many  # Mapped["User"]
    assert {"id", "user_id"} <= order.columns


def test_textual_test_skips_files_without_models() -> None:
    assert may_define_models(b"class A(models.Model):\n    pass\n")
    assert may_define_models(b"class B(AbstractThing):\n    pass\n")
    assert may_define_models(b"x = relationship('A')\n")
    assert not may_define_models(b"import os\n\nprint(os.getcwd())\n")
    migration = b"class Migration(migrations.Migration):\n    f = models.ForeignKey('a.B')\n"
    assert not may_define_models(migration)
    # Django's convention: any class in models.py may be a model (an abstract base elsewhere).
    assert may_define_models(b"class Order(Base):\n    pass\n", "shop/models.py")
    assert may_define_models(b"class Order(Base):\n    pass\n", "shop/models/order.py")


def test_index_is_deterministic_and_picklable() -> None:
    files = sorted((FIXTURES / "django_app").rglob("*.py"))
    triples = [(p, p.relative_to(FIXTURES).as_posix(), None) for p in files]
    one = build_index(triples)
    two = build_index(list(reversed(triples)))
    assert one == two
    assert one.fingerprint == two.fingerprint
    assert pickle.loads(pickle.dumps(one)) == one
    # Merging is order-independent too.
    facts = [file_facts(p.read_text(), d, None) for p, d, _ in triples]
    assert merge(facts) == merge(list(reversed(facts)))


def test_re_exported_models_resolve() -> None:
    models = file_facts(
        "from django.db import models\n\n\nclass Order(models.Model):\n    pass\n",
        "shop/models/order.py",
        "shop.models",
    )
    index = merge([models])
    # ``from shop.models import Order`` where shop/models/__init__.py re-exports it.
    found = index.model("shop.models.Order")
    assert found is not None and found.qualname == "shop.models.order.Order"
    assert index.model("elsewhere.Order") is None


def test_newer_syntax_falls_back_to_libcst() -> None:
    text = (
        "from django.db import models\n\n\n"
        "type Alias = int\n\n\n"
        "class Order(models.Model):\n    total = models.IntegerField()\n"
    )
    index = index_text(text, "shop/models.py", "shop")
    assert "shop.models.Order" in index.models


def test_checker_uses_the_given_index_and_builds_one_without() -> None:
    rules = builtin_rules()
    models = "from django.db import models\n\n\nclass A(models.Model):\n    pass\n\n\n"
    models += "class B(models.Model):\n    a = models.ForeignKey(A, on_delete=models.CASCADE)\n"
    view = "from shop.models import B\n\n\ndef f():\n    return [b.a for b in B.objects.all()]\n"
    settings = Settings(selected=("BE401",), known=frozenset())
    alone = Checker(settings, rules).check_text(view, "shop/views.py", FileKind.PYTHON, "shop")
    assert alone == []  # the models live in another file: unknown without the index
    checker = Checker(settings, rules)
    checker.use_project(merge([file_facts(models, "shop/models.py", "shop")]))
    found = checker.check_text(view, "shop/views.py", FileKind.PYTHON, "shop")
    assert [(f.code, f.line) for f in found] == [("BE401", 5)]
