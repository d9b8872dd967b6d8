"""SQLAlchemy mapped classes from the facts of every indexed file: columns and relationships
with their loading strategy, in the 1.x declarative style (``Column``, ``relationship``,
``backref``), the 2.0 style (``Mapped[...]``, ``mapped_column``), Flask-SQLAlchemy
(``db.relationship``) and SQLModel (``Relationship``).

A class is mapped when its body declares columns or relationships (``__tablename__`` alone
counts too), or when it inherits from a mapped class of the project.
"""

from __future__ import annotations

from collections.abc import Mapping

from be_lint.index.facts import ClassFacts, ClassTable, Member, Ref
from be_lint.index.model import Model, Relation

RELATIONSHIP_CALLS = frozenset({"relationship", "relation", "Relationship"})
_COLUMN_CALLS = frozenset(
    {"Column", "mapped_column", "column_property", "deferred", "synonym", "composite"}
)
#: ``lazy=`` values and what they mean; ``True``/``False``/``None`` are the old spellings.
_LAZY = {"True": "select", "False": "joined", "None": "noload"}


def _is_relationship(member: Member) -> bool:
    return member.last in RELATIONSHIP_CALLS


def _is_column(member: Member) -> bool:
    return member.last in _COLUMN_CALLS or (member.mapped != "" and not member.last)


def declares_mapping(cls: ClassFacts) -> bool:
    return (
        cls.tablename is not None
        or cls.table_keyword
        or any(_is_relationship(m) or _is_column(m) for m in cls.members)
    )


class SqlAlchemyModels:
    def __init__(self, table: ClassTable, exclude: frozenset[str]) -> None:
        self.table = table
        self._mapped: dict[str, bool] = {}
        self.models = [
            q for q in table.by_qualname if q not in exclude and self.is_mapped(q, frozenset())
        ]
        self.by_table = {
            cls.tablename: q
            for q in self.models
            if (cls := table.by_qualname[q][1]).tablename is not None
        }

    def is_mapped(self, qualname: str, seen: frozenset[str]) -> bool:
        known = self._mapped.get(qualname)
        if known is not None:
            return known
        _file, cls = self.table.by_qualname[qualname]
        result = declares_mapping(cls)
        if not result:
            for base in cls.bases:
                found = self.table.find_ref(base)
                if (
                    found is not None
                    and found not in seen
                    and self.is_mapped(found, seen | {qualname})
                ):
                    result = True
                    break
        self._mapped[qualname] = result
        return result

    def _ancestors(self, qualname: str) -> list[str]:
        out: list[str] = []
        stack = [qualname]
        while stack:
            current = stack.pop()
            _file, cls = self.table.by_qualname[current]
            for base in reversed(cls.bases):
                found = self.table.find_ref(base)
                if found is not None and found not in out and found != qualname:
                    out.append(found)
                    stack.append(found)
        return out

    def _members(self, qualname: str) -> dict[str, Member]:
        members: dict[str, Member] = {}
        for owner in [*reversed(self._ancestors(qualname)), qualname]:
            _file, cls = self.table.by_qualname[owner]
            members.update((m.name, m) for m in cls.members)
        return members

    def resolve(self, ref: Ref | None, owner: str) -> str | None:
        if ref is None:
            return None
        if ref.names:
            found = self.table.find_ref(ref)
            if found is not None and found in self._mapped and self._mapped[found]:
                return found
        text = ref.text or ""
        if not text or (ref.names and ref.names[:1] != (text,)):
            return None
        # String arguments name classes of the declarative registry: "Address" or a path.
        name = text.rpartition(".")[2]
        named = [q for q in self.models if q.rpartition(".")[2] == name]
        if len(named) > 1:
            named = [q for q in named if q.endswith("." + text)] or [
                q for q in named if q.rpartition(".")[0] == owner.rpartition(".")[0]
            ]
        return named[0] if len(named) == 1 else None

    def build(self) -> dict[str, Model]:
        forward: dict[str, dict[str, Relation]] = {}
        backrefs: dict[str, dict[str, Relation]] = {}
        columns: dict[str, set[str]] = {}
        for qualname in self.models:
            _file, cls = self.table.by_qualname[qualname]
            members = self._members(qualname)
            fk_tables = {t for m in members.values() for t in m.fk_tables}
            rels: dict[str, Relation] = {}
            cols: set[str] = set()
            for owner in [*reversed(self._ancestors(qualname)), qualname]:
                cols.update(self.table.by_qualname[owner][1].attributes)
            for member in members.values():
                if not _is_relationship(member):
                    if _is_column(member) or member.last:
                        cols.add(member.name)
                    continue
                target = self.resolve(member.target or member.mapped_target, qualname)
                many = self._many(qualname, member, target, fk_tables, members)
                lazy = _lazy(member.option("lazy"))
                if member.mapped in ("dynamic", "write_only"):
                    lazy = member.mapped
                rels[member.name] = Relation(
                    name=member.name, many=many, target=target, declared="relationship", lazy=lazy
                )
                backref = member.option("backref")
                if backref and target is not None:
                    uselist = member.option("backref_uselist")
                    back_many = True if member.option("secondary") else not many
                    if uselist in ("True", "False"):
                        back_many = uselist == "True"
                    backrefs.setdefault(target, {})[backref] = Relation(
                        name=backref,
                        many=back_many,
                        target=qualname,
                        declared=f"backref of {cls.name}.{member.name}",
                        lazy=_lazy(member.backref_lazy or None),
                    )
            forward[qualname] = rels
            columns[qualname] = cols
        models: dict[str, Model] = {}
        for qualname in sorted(self.models):
            file, cls = self.table.by_qualname[qualname]
            relations: dict[str, Relation] = {}
            for owner in [*reversed(self._ancestors(qualname)), qualname]:
                relations.update(backrefs.get(owner, {}))
            relations.update(forward[qualname])
            models[qualname] = Model(
                orm="sqlalchemy",
                qualname=qualname,
                name=cls.name,
                path=file.path,
                relations=dict(sorted(relations.items())),
                columns=frozenset(columns[qualname] - set(relations)),
                abstract=cls.abstract,
            )
        return models

    def _many(
        self,
        owner: str,
        member: Member,
        target: str | None,
        fk_tables: set[str],
        members: dict[str, Member],
    ) -> bool:
        """Whether the relationship is a collection (``uselist``), as SQLAlchemy infers it:
        the side that holds the foreign key sees one object, the other side a collection."""
        if member.mapped:
            return member.mapped != "one"
        uselist = member.option("uselist")
        if uselist in ("True", "False"):
            return uselist == "True"
        if member.option("secondary") or member.option("lazy") in ("dynamic", "write_only"):
            return True
        if target is None:
            return True
        target_table = self._tablename(target)
        holds_key = target_table is not None and target_table in fk_tables
        owner_table = self._tablename(owner)
        pointed_at = owner_table is not None and any(
            owner_table in m.fk_tables for m in self._members(target).values()
        )
        if holds_key and pointed_at:
            # Keys both ways: ``foreign_keys=`` names the one this relationship follows.
            column = member.option("foreign_keys")
            return not (column is not None and column in members)
        return not holds_key

    def _tablename(self, qualname: str) -> str | None:
        for owner in [qualname, *self._ancestors(qualname)]:
            tablename = self.table.by_qualname[owner][1].tablename
            if tablename is not None:
                return tablename
        return None


def _lazy(value: str | None) -> str:
    if value is None or value == "?":
        return "select" if value is None else "?"
    return _LAZY.get(value, value)


def sqlalchemy_models(table: ClassTable, exclude: frozenset[str]) -> Mapping[str, Model]:
    return SqlAlchemyModels(table, exclude).build()
