"""The project index as rules see it: ORM models, their relations, and custom query sets.

Plain data only (frozen dataclasses of strings, tuples and dicts): the index is built once in
the main process and pickled to every worker with the run's settings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Orm = Literal["django", "sqlalchemy"]


@dataclass(frozen=True, slots=True)
class Relation:
    """One attribute of a model that reaches other rows.

    ``many`` relations are managers (Django) or collections (SQLAlchemy); the others return a
    single object. ``lazy`` is SQLAlchemy's loading strategy (Django relations are always
    ``"select"``: loaded on first access).
    """

    name: str
    many: bool
    #: Qualified name of the related model; None when it could not be resolved.
    target: str | None
    #: How the relation was declared, for messages: ``ForeignKey``, ``reverse of Order.customer``.
    declared: str
    lazy: str = "select"
    #: Django: ``select_related`` can follow it (forward and reverse one-to-one, foreign keys).
    joinable: bool = True


@dataclass(frozen=True, slots=True)
class Eager:
    """Loading that a custom query-set method or manager applies.

    Lookups use Django's ``a__b`` notation. ``unknown`` means the method loads something that
    could not be read (dynamic arguments), ``rows`` that it returns rows, not model objects.
    """

    lookups: tuple[str, ...] = ()
    select_all: bool = False
    unknown: bool = False
    rows: bool = False


@dataclass(frozen=True, slots=True)
class QuerySetClass:
    """A custom Django manager or query set: what each of its methods eager-loads."""

    qualname: str
    methods: Mapping[str, Eager]
    #: The query set class behind a manager (``from_queryset``/``as_manager``), if known.
    queryset: str | None = None


@dataclass(frozen=True, slots=True)
class Model:
    orm: Orm
    qualname: str
    name: str
    path: str
    relations: Mapping[str, Relation]
    #: Attributes that hold column values (no query), ``<fk>_id`` included.
    columns: frozenset[str] = frozenset()
    #: Django: manager attribute -> qualified name of its class ("" for the plain Manager).
    managers: Mapping[str, str] = field(default_factory=dict)
    app_label: str = ""
    abstract: bool = False

    def relation(self, name: str) -> Relation | None:
        return self.relations.get(name)


#: The order of methods in route listings.
_METHOD_ORDER = {
    m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
}


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP method and path served by one handler (``be_lint.index.routes``).

    ``method`` is upper case; ``ANY`` means the handler does not restrict methods (a Django
    function view), ``WS`` a websocket. ``handler`` is the qualified name of the function or
    method, ``symbol`` the same name inside its module (``OrderViewSet.list``; empty when the
    handler could not be found, and ``file``/``line`` then point at the registration).
    """

    method: str
    path: str
    handler: str
    file: str
    line: int
    framework: str
    symbol: str = ""
    #: The handler declares ``204 No Content`` (DELETE handlers; DRF's own ``destroy``).
    no_content: bool = False

    def sort_key(self) -> tuple[str, int, str, str, str, int]:
        rank = _METHOD_ORDER.get(self.method, len(_METHOD_ORDER))
        return (self.path, rank, self.method, self.handler, self.file, self.line)


@dataclass(frozen=True)
class ProjectIndex:
    """Facts that cross files. Rules read it through ``ctx.project``."""

    models: Mapping[str, Model] = field(default_factory=dict)
    querysets: Mapping[str, QuerySetClass] = field(default_factory=dict)
    #: Files whose text was parsed for the index.
    files: int = 0
    #: The Django model ``settings.AUTH_USER_MODEL`` names (``get_user_model()``), if known.
    auth_user: str | None = None
    #: Every HTTP route of the project, sorted (``Route.sort_key``).
    routes: tuple[Route, ...] = ()
    #: DRF serializers by qualified name: (model candidates, (field, relation path) pairs).
    serializers: Mapping[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = field(
        default_factory=dict
    )
    #: Qualified names of the project's Celery tasks (module-level decorated functions).
    tasks: frozenset[str] = frozenset()
    #: Tasks whose base class enqueues them only when the transaction commits.
    deferred_tasks: frozenset[str] = frozenset()

    def routes_of(self, path: str, symbol: str) -> tuple[Route, ...]:
        """The routes served by ``symbol`` (``func`` or ``Class.method``) of the file ``path``."""
        table: dict[tuple[str, str], tuple[Route, ...]] | None = self.__dict__.get("_by_handler")
        if table is None:
            grouped: dict[tuple[str, str], list[Route]] = {}
            for route in self.routes:
                if route.symbol:
                    grouped.setdefault((route.file, route.symbol), []).append(route)
            table = {k: tuple(v) for k, v in grouped.items()}
            object.__setattr__(self, "_by_handler", table)
        return table.get((path, symbol), ())

    def model(self, qualname: str) -> Model | None:
        """The model named ``qualname``, also when imported through a package that re-exports
        it (``app.models.Order`` defined in ``app/models/order.py``) or from a different root
        (``src.app.models.Order``)."""
        found = self.models.get(qualname)
        if found is not None:
            return found
        name = qualname.rpartition(".")[2]
        candidates = self._by_name().get(name, ())
        if not candidates:
            return None
        module = qualname.rpartition(".")[0]
        inside = [c for c in candidates if c.startswith(module + ".")] if module else []
        if len(inside) == 1:
            return self.models[inside[0]]
        suffix = [c for c in candidates if c.endswith("." + qualname) or qualname.endswith("." + c)]
        if len(suffix) == 1:
            return self.models[suffix[0]]
        return None

    def find(self, qualnames: Iterable[str], orm: Orm | None = None) -> Model | None:
        """The one model among ``qualnames`` (candidates for the same name), if any."""
        found = {m.qualname: m for q in qualnames if (m := self.model(q)) is not None}
        models = [m for m in found.values() if orm is None or m.orm == orm]
        return models[0] if len(models) == 1 else None

    def by_label(self, app_label: str, name: str) -> Model | None:
        """A Django model by app label and class name (``apps.get_model("shop", "Order")``)."""
        found = [
            m
            for q in self._by_name().get(name, ())
            if (m := self.models[q]).orm == "django" and m.app_label == app_label
        ]
        return found[0] if len(found) == 1 else None

    def has(self, orm: Orm) -> bool:
        return any(m.orm == orm for m in self.models.values())

    def queryset_class(self, qualname: str) -> QuerySetClass | None:
        return self.querysets.get(qualname)

    @property
    def fingerprint(self) -> str:
        """A digest of the whole index (part of any cache key of results that used it)."""
        digest = hashlib.sha256()
        for key in sorted(self.models):
            digest.update(repr(self.models[key]).encode())
        for key in sorted(self.querysets):
            digest.update(repr(self.querysets[key]).encode())
        for route in self.routes:
            digest.update(repr(route).encode())
        for key in sorted(self.serializers):
            digest.update(repr((key, self.serializers[key])).encode())
        for task in sorted(self.tasks):
            digest.update(task.encode())
        for task in sorted(self.deferred_tasks):
            digest.update(b"deferred:" + task.encode())
        return digest.hexdigest()[:20]

    @property
    def model_names(self) -> Mapping[str, tuple[str, ...]]:
        """Class name -> qualified names of the models with that name."""
        return self._by_name()

    def _by_name(self) -> Mapping[str, tuple[str, ...]]:
        cached: dict[str, tuple[str, ...]] | None = self.__dict__.get("_names")
        if cached is None:
            names: dict[str, list[str]] = {}
            for qualname, model in self.models.items():
                names.setdefault(model.name, []).append(qualname)
            cached = {k: tuple(sorted(v)) for k, v in names.items()}
            object.__setattr__(self, "_names", cached)
        return cached

    def __getstate__(self) -> dict[str, object]:
        # The name table is rebuilt on demand; it need not travel to workers.
        return {k: v for k, v in self.__dict__.items() if k not in ("_names", "_by_handler")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
