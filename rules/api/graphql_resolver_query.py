"""BE910 graphql-resolver-query: a field resolver of a GraphQL object type queries the
database for each parent object."""

from __future__ import annotations

import libcst as cst

from be_lint.context import FileContext
from be_lint.frameworks import descendants, keyword_arg, positional_args, positional_params
from be_lint.http_semantics import body_assignments, is_exempt_path
from be_lint.index.model import Model
from be_lint.names import dotted_name, suite_statements
from be_lint.rule import STOP_VISITING, Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A GraphQL server resolves a field once per object that has it. A resolver on `Book.author`
that runs `Author.objects.get(id=book.author_id)` runs once per book: a query asking for 100
books and their authors runs 101 queries -- the N+1 problem, hidden behind one request, and
worse than in REST because the client chooses the nesting (`books { author { books { author
... } } }`). The remedy is batching: a DataLoader collects the keys requested in one tick and
loads them with one query.

The rule reports, in resolvers of object types other than the root `Query`/`Mutation`/
`Subscription` types, a database query made through the parent object or for it: an ORM
query (`Model.objects...`, `session.query(...)`, `session.execute/scalars(...)`,
Flask-SQLAlchemy's `Model.query`), a related manager of the parent (`self.tags.all()`,
`root.items.filter(...)`), and -- when the type's model is known (graphene-django `Meta.model`,
`strawberry_django.type(Model)`) and the project index knows its relations -- reading a lazy
relation of the parent (`return self.author`). Resolvers that use a DataLoader (`.load(...)`,
anything named `*loader*`) are batched and stay quiet. Graphene (`resolve_<field>` methods),
Strawberry (`@strawberry.field` methods) and Ariadne (`@obj.field("name")` functions) are
recognised.
"""

HOW_TO_FIX = """\
Batch the lookups: resolve through a DataLoader (`strawberry.dataloader.DataLoader`,
`promise.dataloader.DataLoader` / `aiodataloader` for Graphene, `ariadne`'s recommended
`aiodataloader`) created per request, e.g. `return info.context.author_loader.load(self.author_id)`;
or load the relation up front in the parent resolver (`select_related`/`prefetch_related`,
`selectinload`), or use an optimiser such as `strawberry-django`'s query optimizer.
"""

_ROOT_TYPES = ("Query", "Mutation", "Subscription")
_TYPE_BASES = (
    "graphene.ObjectType",
    "graphene.types.objecttype.ObjectType",
    "graphene_django.DjangoObjectType",
    "graphene_django.types.DjangoObjectType",
    "graphene_sqlalchemy.SQLAlchemyObjectType",
    "graphene_sqlalchemy.types.SQLAlchemyObjectType",
)
_STRAWBERRY_TYPES = (
    "strawberry.type",
    "strawberry.object_type",
    "strawberry.django.type",
    "strawberry_django.type",
)
_STRAWBERRY_FIELDS = ("strawberry.field", "strawberry.django.field", "strawberry_django.field")
_QUERYSET_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "get",
        "count",
        "exists",
        "first",
        "last",
        "order_by",
        "values",
        "values_list",
        "aggregate",
        "annotate",
        "select_related",
        "prefetch_related",
    }
)
_SESSION_QUERIES = frozenset({"query", "execute", "scalars", "scalar", "get"})
_PARENT_NAMES = frozenset({"self", "root", "parent", "obj", "instance"})


class GraphqlResolverQuery(PythonRule):
    meta = RuleMeta(
        code="BE910",
        name="graphql-resolver-query",
        summary="GraphQL field resolver queries the database once per parent object",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=1073,
        references=(
            "https://github.com/graphql/dataloader",
            "https://strawberry.rocks/docs/guides/dataloaders",
            "https://cwe.mitre.org/data/definitions/1073.html",
        ),
    )
    triggers = ("graphene", "strawberry", "ariadne")
    bad = (
        Example(
            """\
import graphene
from graphene_django import DjangoObjectType


class BookType(DjangoObjectType):
    class Meta:
        model = Book

    reviews = graphene.List(ReviewType)

    def resolve_reviews(self, info):
        return Review.objects.filter(book_id=self.id)  # expect: BE910

    def resolve_tags(self, info):
        return self.tags.all()  # expect: BE910


class Query(graphene.ObjectType):
    books = graphene.List(BookType)

    def resolve_books(root, info):
        return Book.objects.all()
"""
        ),
        Example(
            """\
import strawberry


@strawberry.type
class Book:
    author_id: strawberry.Private[int]

    @strawberry.field
    def author(self) -> "Author":
        return session.query(AuthorModel).get(self.author_id)  # expect: BE910


@strawberry.type
class Query:
    @strawberry.field
    def books(self) -> list[Book]:
        return session.query(BookModel).all()
"""
        ),
        Example(
            """\
from ariadne import ObjectType, QueryType

query = QueryType()
book = ObjectType("Book")


@query.field("books")
def resolve_books(_, info):
    return Book.objects.all()


@book.field("author")
def resolve_author(obj, info):
    return Author.objects.get(pk=obj.author_id)  # expect: BE910
"""
        ),
    )
    good = (
        Example(
            """\
import strawberry


@strawberry.type
class Book:
    author_id: strawberry.Private[int]

    @strawberry.field
    async def author(self, info) -> "Author":
        return await info.context["author_loader"].load(self.author_id)

    @strawberry.field
    def title_upper(self) -> str:
        return self.title.upper()
"""
        ),
        Example(
            """\
import graphene


class Query(graphene.ObjectType):
    book = graphene.Field(BookType, id=graphene.ID())

    def resolve_book(root, info, id):
        return Book.objects.get(pk=id)


class OrderType(graphene.ObjectType):
    def resolve_total(self, info):
        return sum(line.price for line in self.lines_cache)
"""
        ),
    )

    @classmethod
    def skips_path(cls, path: str, options: object) -> bool:
        return is_exempt_path(path)

    def visit_Module(self, node: cst.Module) -> object:
        if is_exempt_path(self.ctx.path):
            return STOP_VISITING
        self._ariadne: dict[str, str] = {}
        self._roots = _schema_roots(node)
        for name, assign in body_assignments(cst.IndentedBlock(body=node.body)):
            if isinstance(assign.value, cst.Call) and self.ctx.matches(
                assign.value.func, {"ariadne.ObjectType"}
            ):
                args = positional_args(assign.value)
                type_name = _string(args[0].value) if args else None
                if type_name:
                    self._ariadne[name] = type_name
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        found = self._resolver(node)
        if found is None:
            return
        type_name, parent, model = found
        self._check(node, type_name, parent, model)

    def _resolver(self, node: cst.FunctionDef) -> tuple[str, str, Model | None] | None:
        ctx = self.ctx
        # Ariadne: ``@book.field("author")`` on a module-level function.
        for decorator in node.decorators:
            expr = decorator.decorator
            if (
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value == "field"
                and isinstance(expr.func.value, cst.Name)
                and expr.func.value.value in self._ariadne
            ):
                type_name = self._ariadne[expr.func.value.value]
                params = positional_params(node, skip_self=False)
                if type_name in _ROOT_TYPES or not params:
                    return None
                return type_name, params[0].name.value, None
        parent = ctx.parent
        cls = ctx.ancestors[-2] if len(ctx.ancestors) >= 2 else None
        if not isinstance(parent, cst.IndentedBlock) or not isinstance(cls, cst.ClassDef):
            return None
        name = cls.name.value
        if name.endswith(_ROOT_TYPES) or name in self._roots:
            return None
        params = positional_params(node, skip_self=False)
        first = params[0].name.value if params else ""
        if node.name.value.startswith("resolve_") and any(
            any(q in _TYPE_BASES for q in ctx.qualified_names(b.value))
            or (dotted_name(b.value) or "").endswith("ObjectType")
            for b in cls.bases
        ):
            return name, first, _meta_model(cls, ctx)
        strawberry_type = next(
            (d for d in cls.decorators if _decorator_named(d, _STRAWBERRY_TYPES, ctx)), None
        )
        if strawberry_type is not None and any(
            _decorator_named(d, _STRAWBERRY_FIELDS, ctx) for d in node.decorators
        ):
            model = None
            expr = strawberry_type.decorator
            if isinstance(expr, cst.Call) and positional_args(expr):
                project = ctx.project
                if project is not None:
                    model = project.find(ctx.qualified_names(positional_args(expr)[0].value))
            return name, first, model
        return None

    def _check(
        self, node: cst.FunctionDef, type_name: str, parent: str, model: Model | None
    ) -> None:
        body = list(descendants(node.body))
        for inner in body:
            if isinstance(inner, cst.Attribute) and "loader" in inner.attr.value.lower():
                return
            if isinstance(inner, cst.Name) and "loader" in inner.value.lower():
                return
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and inner.func.attr.value in ("load", "load_many")
            ):
                return
        for inner in body:
            what = None
            if isinstance(inner, cst.Call):
                what = _query(inner, parent)
            elif (
                model is not None
                and isinstance(inner, cst.Attribute)
                and isinstance(inner.value, cst.Name)
                and inner.value.value == parent
            ):
                relation = model.relation(inner.attr.value)
                if relation is not None:
                    what = f"the lazy relation `{parent}.{inner.attr.value}`"
            if what is not None:
                self.report(
                    inner,
                    f"resolver `{node.name.value}` of `{type_name}` runs {what} once per "
                    f"`{type_name}` in the result: N+1 queries",
                    help="batch through a DataLoader, or load the relation in the parent resolver",
                )
                return


def _query(call: cst.Call, parent: str) -> str | None:
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    chain: list[str] = []
    current: cst.BaseExpression = func.value
    while True:
        if isinstance(current, cst.Attribute):
            chain.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Call):
            if isinstance(current.func, cst.Attribute):
                chain.append(current.func.attr.value)
                current = current.func.value
            else:
                break
        else:
            break
    root = current.value if isinstance(current, cst.Name) else ""
    if method in _QUERYSET_METHODS and "objects" in chain:
        return "a query (`.objects`)"
    if method in _QUERYSET_METHODS and "query" in chain:
        return "a query (`.query`)"
    if method in _SESSION_QUERIES and (
        root in ("session", "db") or chain[-1:] == ["session"] or "session" in chain
    ):
        return f"a query (`session.{method}`)"
    if method in _QUERYSET_METHODS and root == parent and root in _PARENT_NAMES and len(chain) == 1:
        return f"a query through the related manager `{parent}.{chain[0]}`"
    return None


def _string(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _decorator_named(decorator: cst.Decorator, names: tuple[str, ...], ctx: FileContext) -> bool:
    expr = decorator.decorator
    callee = expr.func if isinstance(expr, cst.Call) else expr
    return bool(ctx.qualified_names(callee) & set(names))


def _meta_model(cls: cst.ClassDef, ctx: FileContext) -> Model | None:
    project = ctx.project
    if project is None:
        return None
    for statement in suite_statements(cls.body):
        if isinstance(statement, cst.ClassDef) and statement.name.value == "Meta":
            for name, assign in body_assignments(statement.body):
                if name == "model":
                    return project.find(ctx.qualified_names(assign.value))
    return None


def _schema_roots(module: cst.Module) -> set[str]:
    """Class names passed as ``query=``/``mutation=``/``subscription=`` to a schema."""
    out: set[str] = set()
    for node in descendants(module, into_scopes=True):
        if isinstance(node, cst.Call):
            for key in ("query", "mutation", "subscription"):
                arg = keyword_arg(node, key)
                if arg is not None and isinstance(arg.value, cst.Name):
                    out.add(arg.value.value)
    return out
