"""Django models from the facts of every indexed file: fields, relations, reverse accessors,
managers and custom query sets.

A class is a model when one of its bases is ``django.db.models.Model``, a Django model of the
project (abstract or not, in any file), or a model class of an installed package (a base from
``django.contrib`` or any external base when the class declares Django fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from be_lint.index.facts import ClassFacts, ClassTable, FileFacts, Member, Ref
from be_lint.index.model import Eager, Model, QuerySetClass, Relation

MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_MANAGER_BASES = frozenset(
    {
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
        "django.db.models.manager.BaseManager",
        "django.db.models.QuerySet",
        "django.db.models.query.QuerySet",
    }
)


def _kind(member: Member) -> str | None:
    """fk, o2o, m2m, gfk, grel, field, manager -- or None for anything else."""
    last = member.last
    if last == "GenericForeignKey":
        return "gfk"
    if last.endswith("ForeignKey") or last == "ParentalKey":
        return "fk"
    if last.endswith("OneToOneField"):
        return "o2o"
    if last.endswith("ManyToManyField"):
        return "m2m"
    if last == "GenericRelation":
        return "grel"
    if last.endswith("Manager") or last in ("as_manager", "from_queryset"):
        return "manager"
    if last.endswith("Field"):
        return "field"
    return None


_FIELD_MODULES = ("django.db.", "django.contrib.contenttypes.", "django.contrib.postgres.")


def _declares_django_fields(cls: ClassFacts) -> bool:
    """Model fields (relations from any package, other fields from Django's model modules)."""
    for member in cls.members:
        kind = _kind(member)
        if kind in ("fk", "o2o", "m2m", "gfk", "grel"):
            return True
        if kind == "field" and any(c.startswith(_FIELD_MODULES) for c in member.callee):
            return True
    return False


@dataclass
class _Field:
    name: str
    kind: str
    target: str | None
    related_name: str | None
    owner: str


class DjangoModels:
    """Decides which classes are Django models and builds their ``Model`` entries."""

    def __init__(self, table: ClassTable, auth_user_model: str | None) -> None:
        self.table = table
        self.auth_user_model = auth_user_model
        self._is_model: dict[str, bool] = {}
        self.models: list[str] = [q for q in table.by_qualname if self.is_model(q)]
        self.app_labels = {q: self._app_label(q) for q in self.models}
        by_label: dict[tuple[str, str], list[str]] = {}
        for qualname in self.models:
            _file, cls = table.by_qualname[qualname]
            by_label.setdefault((self.app_labels[qualname], cls.name), []).append(qualname)
        self.by_label = by_label

    # -- which classes are models --------------------------------------------------------------

    def is_model(self, qualname: str, seen: frozenset[str] = frozenset()) -> bool:
        known = self._is_model.get(qualname)
        if known is not None:
            return known
        if qualname in seen:
            return False
        _file, cls = self.table.by_qualname[qualname]
        result = False
        for base in cls.bases:
            if not MODEL_BASES.isdisjoint(base.names):
                result = True
                break
            found = self.table.find_ref(base)
            if found is not None:
                if self.is_model(found, seen | {qualname}):
                    result = True
                    break
                continue
            if any(n.startswith("django.contrib.") and "models" in n for n in base.names):
                result = True
                break
            if _declares_django_fields(cls):
                result = True
                break
        self._is_model[qualname] = result
        return result

    def _bases(self, qualname: str) -> list[str]:
        _file, cls = self.table.by_qualname[qualname]
        return [b for ref in cls.bases if (b := self.table.find_ref(ref)) and self._is_model.get(b)]

    def _ancestors(self, qualname: str) -> list[str]:
        """Model bases of ``qualname``, nearest first (each once)."""
        out: list[str] = []
        stack = list(reversed(self._bases(qualname)))
        while stack:
            current = stack.pop()
            if current in out or current == qualname or not self._is_model.get(current):
                continue
            out.append(current)
            stack.extend(reversed(self._bases(current)))
        return out

    def _app_label(self, qualname: str) -> str:
        file, cls = self.table.by_qualname[qualname]
        if cls.app_label:
            return cls.app_label
        for ancestor in self._ancestors(qualname):
            # Meta.app_label is inherited from abstract bases only when set there explicitly.
            _f, base = self.table.by_qualname[ancestor]
            if base.abstract and base.app_label:
                return base.app_label
        parts = file.module.split(".")
        if "models" in parts[:-1] or parts[-1] == "models":
            index = len(parts) - 1 - parts[::-1].index("models")
            if index > 0:
                return parts[index - 1]
        elif len(parts) > 1:
            return parts[-2]
        return PurePosixPath(file.path).parent.name

    # -- targets -------------------------------------------------------------------------------

    def resolve(self, ref: Ref | None, owner: str) -> str | None:
        if ref is None:
            return None
        text = ref.text or ""
        if text == "self":
            return owner
        if text.endswith("AUTH_USER_MODEL"):
            return self._by_string(self.auth_user_model, owner) if self.auth_user_model else None
        if ref.names:  # a name or attribute in code
            found = self.table.find_ref(ref)
            if found is not None and found in self.app_labels:
                return found
            # A bare name that no import explains: Django's lazy reference rules apply.
            unexplained = ref.names[:1] == (text,) and "." not in text
            return self._by_string(text, owner) if unexplained else None
        return self._by_string(text, owner)

    def _by_string(self, text: str, owner: str) -> str | None:
        """``"app_label.Model"`` or ``"Model"`` (same app first), as Django resolves them."""
        if not text:
            return None
        label, _, name = text.rpartition(".")
        if not label:
            label = self.app_labels.get(owner, "")
        found = self.by_label.get((label, name))
        if found and len(found) == 1:
            return found[0]
        # Fall back to a unique class name: app labels computed from paths can be wrong.
        named = [q for q in self.models if q.rpartition(".")[2] == name]
        if len(named) == 1:
            return named[0]
        same_module = [q for q in named if q.rpartition(".")[0] == owner.rpartition(".")[0]]
        return same_module[0] if len(same_module) == 1 else None

    # -- building ------------------------------------------------------------------------------

    def _own_fields(self, qualname: str) -> list[_Field]:
        _file, cls = self.table.by_qualname[qualname]
        out = []
        for member in cls.members:
            kind = _kind(member)
            if kind is None or kind == "manager":
                continue
            target = None
            if kind in ("fk", "o2o", "m2m", "grel"):
                target = self.resolve(member.target, qualname)
            out.append(_Field(member.name, kind, target, member.option("related_name"), qualname))
        return out

    def _fields(self, qualname: str) -> dict[str, _Field]:
        """Own and inherited fields; a subclass's own field wins."""
        fields: dict[str, _Field] = {}
        for ancestor in reversed(self._ancestors(qualname)):
            fields.update((f.name, f) for f in self._own_fields(ancestor))
        fields.update((f.name, f) for f in self._own_fields(qualname))
        return fields

    def _managers(self, qualname: str) -> dict[str, str]:
        managers: dict[str, str] = {}
        for owner in [*reversed(self._ancestors(qualname)), qualname]:
            _file, cls = self.table.by_qualname[owner]
            for member in cls.members:
                if _kind(member) != "manager":
                    continue
                if member.last in ("as_manager", "from_queryset"):
                    found = self.table.find_ref(member.target) if member.target else None
                else:
                    found = self.table.find_ref(Ref(names=member.callee))
                managers[member.name] = found or ""
        if not managers:
            managers["objects"] = ""
        default = next(iter(managers.values()))
        managers.setdefault("_default_manager", default)
        managers.setdefault("_base_manager", "")
        return managers

    def auth_user(self) -> str | None:
        """The model ``AUTH_USER_MODEL`` names, when the project sets it (once)."""
        if not self.auth_user_model:
            return None
        label, _, name = self.auth_user_model.rpartition(".")
        found = self.by_label.get((label, name), [])
        return found[0] if len(found) == 1 else None

    def build(self) -> tuple[dict[str, Model], dict[str, QuerySetClass]]:
        fields = {q: self._fields(q) for q in self.models}
        reverse: dict[str, dict[str, Relation]] = {}
        for qualname in self.models:
            _file, cls = self.table.by_qualname[qualname]
            if cls.abstract:
                continue
            for field in fields[qualname].values():
                if field.kind not in ("fk", "o2o", "m2m") or field.target is None:
                    continue
                accessor = _reverse_name(field, cls.name, self.app_labels[qualname])
                if accessor is None:
                    continue
                if field.kind == "m2m" and field.target == qualname and field.related_name is None:
                    continue  # symmetrical many-to-many to itself: no separate accessor
                reverse.setdefault(field.target, {})[accessor] = Relation(
                    name=accessor,
                    many=field.kind != "o2o",
                    target=qualname,
                    declared=f"reverse of {cls.name}.{field.name}",
                    joinable=field.kind == "o2o",
                )
        models: dict[str, Model] = {}
        for qualname in sorted(self.models):
            file, cls = self.table.by_qualname[qualname]
            relations: dict[str, Relation] = {}
            for owner in [*reversed(self._ancestors(qualname)), qualname]:
                relations.update(reverse.get(owner, {}))
            columns = {"pk", "id"}
            for field in fields[qualname].values():
                relation = _forward(field)
                if relation is None:
                    columns.add(field.name)
                    continue
                relations[field.name] = relation
                if field.kind in ("fk", "o2o"):
                    columns.add(f"{field.name}_id")
            models[qualname] = Model(
                orm="django",
                qualname=qualname,
                name=cls.name,
                path=file.path,
                relations=dict(sorted(relations.items())),
                columns=frozenset(columns),
                managers=self._managers(qualname),
                app_label=self.app_labels[qualname],
                abstract=cls.abstract,
            )
        # An abstract base with one concrete subclass in the project (Oscar's ``AbstractOrder``
        # and ``Order``) sees that subclass's reverse accessors in its own methods.
        concrete: dict[str, list[str]] = {}
        for qualname, model in models.items():
            if not model.abstract:
                for ancestor in self._ancestors(qualname):
                    concrete.setdefault(ancestor, []).append(qualname)
        for qualname, model in list(models.items()):
            found = concrete.get(qualname, [])
            if model.abstract and len(found) == 1:
                relations = {**models[found[0]].relations, **model.relations}
                models[qualname] = replace(model, relations=dict(sorted(relations.items())))
        return models, self._querysets()

    def _querysets(self) -> dict[str, QuerySetClass]:
        """Custom managers and query sets of the project, with what their methods load."""
        is_qs: dict[str, bool] = {}

        def check(qualname: str, seen: frozenset[str]) -> bool:
            if qualname in is_qs:
                return is_qs[qualname]
            _file, cls = self.table.by_qualname[qualname]
            result = False
            for base in cls.bases:
                if not _MANAGER_BASES.isdisjoint(base.names):
                    result = True
                    break
                found = self.table.find_ref(base)
                if found is not None and found not in seen and check(found, seen | {qualname}):
                    result = True
                    break
                if found is None and (base.text or "").endswith(("Manager", "QuerySet")):
                    result = True
                    break
            is_qs[qualname] = result
            return result

        out: dict[str, QuerySetClass] = {}
        for qualname in sorted(self.table.by_qualname):
            if not check(qualname, frozenset()):
                continue
            methods: dict[str, Eager] = {}
            chain = [qualname]
            index = 0
            while index < len(chain):  # own methods first, then bases'
                _file, cls = self.table.by_qualname[chain[index]]
                for method in cls.methods:
                    methods.setdefault(method.name, _eager(method))
                for base in cls.bases:
                    found = self.table.find_ref(base)
                    if found is not None and found not in chain:
                        chain.append(found)
                index += 1
            out[qualname] = QuerySetClass(qualname=qualname, methods=dict(sorted(methods.items())))
        return out


def _eager(method: object) -> Eager:
    from be_lint.index.facts import MethodEager

    assert isinstance(method, MethodEager)
    return Eager(
        lookups=tuple(sorted(set(method.select) | set(method.prefetch))),
        select_all=method.select_all,
        unknown=method.unknown,
        rows=method.rows,
    )


def _forward(field: _Field) -> Relation | None:
    if field.kind == "fk":
        return Relation(field.name, False, field.target, "ForeignKey")
    if field.kind == "o2o":
        return Relation(field.name, False, field.target, "OneToOneField")
    if field.kind == "m2m":
        return Relation(field.name, True, field.target, "ManyToManyField", joinable=False)
    if field.kind == "gfk":
        return Relation(field.name, False, None, "GenericForeignKey", joinable=False)
    if field.kind == "grel":
        return Relation(field.name, True, field.target, "GenericRelation", joinable=False)
    return None


def _reverse_name(field: _Field, model_name: str, app_label: str) -> str | None:
    related = field.related_name
    if related == "?":
        return None  # computed at run time
    if related:
        if related.endswith("+"):
            return None
        return related.replace("%(class)s", model_name.lower()).replace(
            "%(app_label)s", app_label.lower()
        )
    return model_name.lower() if field.kind == "o2o" else f"{model_name.lower()}_set"


def django_models(
    files: Iterable[FileFacts], table: ClassTable
) -> tuple[Mapping[str, Model], Mapping[str, QuerySetClass], str | None]:
    """Django models, custom managers and query sets, and the ``AUTH_USER_MODEL`` model."""
    auth = sorted({f.auth_user_model for f in files if f.auth_user_model})
    models = DjangoModels(table, auth[0] if len(auth) == 1 else None)
    found, querysets = models.build()
    return found, querysets, models.auth_user()
