"""BE912 serializer-relation-not-loaded: a DRF view's serializer reads relations that its
queryset does not load up front."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import is_view_class, string_value
from be_lint.http_semantics import body_assignments, is_exempt_path
from be_lint.index import module_name
from be_lint.index.model import ProjectIndex
from be_lint.names import suite_statements
from be_lint.rule import STOP_VISITING, Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A DRF list view serialises every object of its queryset. When the serializer nests another
serializer (`customer = CustomerSerializer()`), reads a dotted `source=` (`source=
"customer.name"`), uses a related field over many objects, or has a `SerializerMethodField`
whose method reads `obj.customer.name` or `obj.items.count()`, each object triggers a query
for that relation -- unless the view's `queryset` loaded it with `select_related` or
`prefetch_related`. A page of 100 orders then costs 101 queries (or 201, or more, one per
relation), which is the N+1 problem of REST APIs and the most common performance bug of DRF
code.

The rule reads the serializers of the whole project from the project index and the models
from the model index, and reports a view (any DRF view or view set with class attributes
`serializer_class` and `queryset`) whose queryset does not load a relation that the serializer
traverses: the first attribute of each traversed path must be a relation of the queryset's
model (columns are never reported), and neither `select_related` nor `prefetch_related` may
name it (nested lookups such as `customer__address` count). Views that override
`get_queryset` build their queryset at run time and are left alone.
"""

HOW_TO_FIX = """\
Load the relations the serializer reads in the view's queryset: `select_related("customer")`
for foreign keys and one-to-one relations, `prefetch_related("items")` for many-valued ones
(`Prefetch(...)` to filter or order them), following nested paths with `__`
(`select_related("customer__address")`).
"""


#: DRF classes that answer lists.
_LISTING = frozenset(
    {
        "ModelViewSet",
        "ReadOnlyModelViewSet",
        "ListAPIView",
        "ListCreateAPIView",
        "ListModelMixin",
    }
)


class SerializerRelationNotLoaded(PythonRule):
    meta = RuleMeta(
        code="BE912",
        name="serializer-relation-not-loaded",
        summary="DRF view's serializer reads relations its queryset does not load",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=1073,
        frameworks=("drf",),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#select-related",
            "https://www.django-rest-framework.org/api-guide/relations/",
        ),
    )
    triggers = ("serializer_class",)
    bad = (
        Example(
            """\
from django.db import models
from rest_framework import serializers, viewsets


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    total = models.IntegerField()


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["name"]


class OrderSerializer(serializers.ModelSerializer):
    customer = CustomerSerializer()

    class Meta:
        model = Order
        fields = ["customer", "total"]


class OrderViewSet(viewsets.ModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.all()  # expect: BE912
"""
        ),
        Example(
            """\
from django.db import models
from rest_framework import generics, serializers


class Tag(models.Model):
    label = models.CharField(max_length=20)


class Post(models.Model):
    author = models.ForeignKey("auth.User", on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag)


class PostSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.username")
    tag_count = serializers.SerializerMethodField()

    def get_tag_count(self, post):
        return post.tags.count()

    class Meta:
        model = Post
        fields = ["author_name", "tag_count"]


class PostList(generics.ListAPIView):
    serializer_class = PostSerializer
    queryset = Post.objects.select_related("author")  # expect: BE912
"""
        ),
    )
    good = (
        Example(
            """\
from django.db import models
from rest_framework import serializers, viewsets


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    note = models.CharField(max_length=100)


class OrderSerializer(serializers.ModelSerializer):
    customer = CustomerSerializer()
    note_upper = serializers.CharField(source="note.upper")

    class Meta:
        model = Order
        fields = ["customer", "note_upper"]


class OrderViewSet(viewsets.ModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.select_related("customer__address").order_by("-id")


class RecentOrders(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.all()

    def get_queryset(self):
        return Order.objects.select_related("customer")
"""
        ),
    )

    @classmethod
    def skips_path(cls, path: str, options: object) -> bool:
        return is_exempt_path(path)

    def visit_Module(self, node: cst.Module) -> object:
        project = self.ctx.project
        if is_exempt_path(self.ctx.path) or project is None or not project.serializers:
            return STOP_VISITING
        return None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        project = self.ctx.project
        assert project is not None
        if not is_view_class(node, self.ctx) or not self._lists(node, project):
            return
        if any(
            isinstance(s, cst.FunctionDef)
            and s.name.value in ("get_queryset", "get_serializer_class")
            for s in suite_statements(node.body)
        ):
            return
        serializer: cst.BaseExpression | None = None
        queryset: cst.Assign | None = None
        for name, assign in body_assignments(node.body):
            if name == "serializer_class":
                serializer = assign.value
            elif name == "queryset":
                queryset = assign
        if serializer is None or queryset is None:
            return
        facts = self._serializer(serializer, project)
        if facts is None:
            return
        model_refs, paths = facts
        chain = _chain(queryset.value)
        if chain is None:
            return
        root, loaded = chain
        model = project.find(self.ctx.qualified_names(root) | self._local(root)) or project.find(
            model_refs
        )
        if model is None or model.orm != "django":
            return
        for field, path in paths:
            first = path.split(".", 1)[0]
            relation = model.relation(first)
            if relation is None or any(
                lookup == first or lookup.startswith(first + "__") for lookup in loaded
            ):
                continue
            how = "prefetch_related" if relation.many else "select_related"
            self.report(
                queryset.value,
                f"the serializer reads `{path}` (field `{field}`) of every {model.name}, but "
                f"this queryset does not load `{first}`: one query per object",
                help=f'add `.{how}("{first}")` to the queryset',
            )
            return

    def _lists(self, node: cst.ClassDef, project: ProjectIndex) -> bool:
        """The view answers a list of objects (a single object costs a few queries, not N)."""
        for base in node.bases:
            written = self.ctx.dotted_name(base.value) or ""
            if written.rsplit(".", 1)[-1] in _LISTING:
                return True
        if any(
            isinstance(s, cst.FunctionDef) and s.name.value == "list"
            for s in suite_statements(node.body)
        ):
            return True
        return bool(project.routes_of(self.ctx.path, f"{node.name.value}.list"))

    def _local(self, expr: cst.BaseExpression) -> frozenset[str]:
        if isinstance(expr, cst.Name):
            package = self.ctx.imports.package if self.ctx.imports is not None else None
            return frozenset({f"{module_name(self.ctx.path, package)}.{expr.value}"})
        return frozenset()

    def _serializer(
        self, expr: cst.BaseExpression, project: ProjectIndex
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None:
        names = self.ctx.qualified_names(expr) | self._local(expr)
        for name in sorted(names):
            if name in project.serializers:
                return project.serializers[name]
        last = {n.rsplit(".", 1)[-1] for n in names}
        found = [
            key
            for key in project.serializers
            if key.rsplit(".", 1)[-1] in last
            and any(key.endswith("." + n) or n.endswith("." + key) for n in names)
        ]
        return project.serializers[found[0]] if len(found) == 1 else None


def _chain(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, list[str]] | None:
    """The model expression of ``Model.objects....`` and the lookups its chain loads."""
    loaded: list[str] = []
    current = expr
    while True:
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            if current.func.attr.value in ("select_related", "prefetch_related"):
                if not current.args:
                    return None  # ``select_related()`` follows every foreign key
                for arg in current.args:
                    value = arg.value
                    if isinstance(value, cst.Call) and value.args:  # Prefetch("items", ...)
                        value = value.args[0].value
                    text = string_value(value)
                    if text is None:
                        return None  # computed lookups: cannot tell
                    loaded.append(text)
            current = current.func.value
        elif isinstance(current, cst.Attribute) and current.attr.value == "objects":
            return current.value, loaded
        else:
            return None
