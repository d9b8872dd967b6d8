"""Per-file facts for the project index, read with the standard library's ``ast``.

The index pass must be cheap (DESIGN.md: "first pass, cheap"): libcst costs about ten times
``ast.parse``, so the index reads files with ``ast`` and falls back to libcst only for files
written in a newer Python than the one running be-lint (then each top-level statement that
``ast`` can read is read on its own).

What is recorded is deliberately raw -- class names, bases and members as the file spells them,
resolved through the file's imports -- because whether a class is a model can depend on other
files (an abstract base defined elsewhere). ``build.py`` merges the facts of every file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from be_lint.index.routes import RouteFacts, may_define_routes, route_facts
from be_lint.index.syntax import dotted, flat_statements
from be_lint.index.tasks import deferring_classes, may_define_tasks, task_facts

#: Text that a file defining models, managers or query sets almost surely contains. A file
#: without any of it is not parsed for the index.
MODEL_TEXT = re.compile(
    rb"class\s+\w+\s*\([^)]*(?:Model\b|Manager\b|QuerySet\b|Abstract)|models\.\w*(?:Field|Key)\(|"
    rb"ForeignKey|OneToOneField|ManyToManyField|GenericRelation|ParentalKey|relationship\(|"
    rb"\brelation\(|Relationship\(|Mapped\[|mapped_column|Column\(|declarative_base|"
    rb"DeclarativeBase|__tablename__|__mapper_args__|as_manager|from_queryset|"
    rb"AUTH_USER_MODEL\s*="
)


_KEYS = (
    b"Model",
    b"Abstract",
    b"Manager",
    b"QuerySet",
    b"Field(",
    b"Key(",
    b"ForeignKey",
    b"relation",
    b"Relation",
    b"mapped_column",
    b"Relationship(",
    b"Mapped[",
    b"Column(",
    b"eclarative",
    b"__tablename__",
    b"__mapper_args__",
    b"as_manager",
    b"from_queryset",
    b"AUTH_USER_MODEL",
)
#: Django migrations spell out every field but define no model.
_MIGRATION_TEXT = re.compile(rb"class\s+Migration\s*\(\s*(?:migrations\.)?Migration\s*\)")


def may_define_models(data: bytes | str, path: str = "") -> bool:
    """The cheap textual test: False means the file defines no model, manager or query set.

    Django's own convention counts too: ``models.py`` and ``models/*.py`` are always read (a
    model may subclass an abstract base of another file and declare nothing else).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    parts = path.replace("\\", "/").rsplit("/", 2)
    if parts[-1] == "models.py" or (len(parts) > 1 and parts[-2] == "models"):
        return b"class" in raw
    # Substring tests are much faster than the regular expression; most files fail them.
    if not any(key in raw for key in _KEYS):
        return False
    return MODEL_TEXT.search(raw) is not None and _MIGRATION_TEXT.search(raw) is None


def module_name(path: str, package: str | None) -> str:
    """The dotted module a file defines: its package (from ``__init__.py`` files) and stem."""
    stem = PurePosixPath(path.replace("\\", "/")).stem
    if stem == "__init__":
        return package or stem
    return f"{package}.{stem}" if package else stem


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a class: qualified candidates of a name, or the text of a string."""

    names: tuple[str, ...] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """One assignment in a class body whose value is a call (or a ``Mapped[...]`` annotation).

    ``callee`` holds the qualified candidates of the called function (``django.db.models.
    ForeignKey``) and ``last`` its last name (``ForeignKey``), for calls through aliases the
    resolver cannot follow (``db.relationship`` of Flask-SQLAlchemy).
    """

    name: str
    callee: tuple[str, ...]
    last: str
    target: Ref | None
    #: Keyword arguments that matter to the index, as text: related_name, lazy, uselist, ...
    options: tuple[tuple[str, str], ...] = ()
    #: ``Mapped[...]`` annotation: "many", "one" or "" (no annotation), and its target.
    mapped: str = ""
    mapped_target: Ref | None = None
    #: Table names of ``ForeignKey("table.column")`` arguments (SQLAlchemy columns).
    fk_tables: tuple[str, ...] = ()
    #: For ``backref=backref("name", lazy=...)``: the lazy strategy of the back reference.
    backref_lazy: str = ""

    def option(self, key: str) -> str | None:
        for name, value in self.options:
            if name == key:
                return value
        return None


@dataclass(frozen=True, slots=True)
class MethodEager:
    """What a method of a possible manager or query set class eager-loads."""

    name: str
    select: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()
    select_all: bool = False
    unknown: bool = False
    rows: bool = False


@dataclass(frozen=True, slots=True)
class ClassFacts:
    name: str
    qualname: str
    bases: tuple[Ref, ...]
    members: tuple[Member, ...]
    #: Plain attribute names assigned in the body (columns declared some other way).
    attributes: tuple[str, ...] = ()
    abstract: bool = False
    app_label: str | None = None
    tablename: str | None = None
    #: SQLModel's ``class X(SQLModel, table=True)``.
    table_keyword: bool = False
    methods: tuple[MethodEager, ...] = ()


@dataclass(frozen=True, slots=True)
class FileFacts:
    path: str
    module: str
    classes: tuple[ClassFacts, ...] = ()
    #: ``AUTH_USER_MODEL = "app.Model"`` found in this file (a Django settings module).
    auth_user_model: str | None = None
    #: Routes and views the file declares (``index.routes``); None when it cannot declare any.
    routes: RouteFacts | None = None
    #: Celery tasks the file defines and their ``base=`` candidates (``index.tasks``).
    tasks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Task base classes of the file that enqueue on commit (``index.tasks``).
    deferring: tuple[str, ...] = ()


# -- parsing -----------------------------------------------------------------------------------


def parse(text: str) -> list[ast.stmt]:
    """Top-level statements of ``text``; statements ``ast`` cannot read are dropped."""
    try:
        return ast.parse(text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    # Newer syntax than this interpreter reads (or a broken file): read what can be read.
    try:
        import libcst as cst

        module = cst.parse_module(text)
    except Exception:  # a broken file yields no facts; the lint pass reports it
        return []
    statements: list[ast.stmt] = []
    for statement in module.body:
        try:
            statements.extend(ast.parse(module.code_for_node(statement).strip()).body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return statements


def file_facts(text: str, path: str, package: str | None) -> FileFacts:
    """Everything the index needs from one file."""
    module = module_name(path, package)
    body = parse(text)
    imports = Imports(package, module)
    for statement in flat_statements(body):
        imports.add(statement)
        if isinstance(statement, ast.ClassDef):
            # Classes defined later in the module are local names too (``ForeignKey(Later)``).
            imports.local.add(statement.name)
    lines = text.splitlines() if _EAGER_TEXT.search(text) else []
    # A file read only for its routes (a views module) defines no model.
    models = may_define_models(text, path)
    classes = [
        _class_facts(node, module, imports, lines)
        for node in flat_statements(body)
        if models and isinstance(node, ast.ClassDef)
    ]
    auth_user = None
    for node in flat_statements(body):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "AUTH_USER_MODEL" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            auth_user = node.value.value
    routes = route_facts(body, module, path, imports) if may_define_routes(text) else None
    return FileFacts(
        path=path,
        module=module,
        classes=tuple(classes),
        auth_user_model=auth_user,
        routes=routes,
        tasks=task_facts(body, module, text, imports.resolve) if may_define_tasks(text) else (),
        deferring=deferring_classes(body, module) if "on_commit" in text else (),
    )


class Imports:
    """``local name -> qualified candidates`` from a module's imports (as ``names.ImportMap``)."""

    def __init__(self, package: str | None, module: str) -> None:
        self.package = package
        self.module = module
        self.bindings: dict[str, set[str]] = {}
        #: Classes defined in the module itself.
        self.local: set[str] = set()
        #: Modules imported with ``from module import *``.
        self.stars: list[str] = []

    def add(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.bindings.setdefault(alias.asname, set()).add(alias.name)
                else:
                    root = alias.name.split(".", 1)[0]
                    self.bindings.setdefault(root, set()).add(root)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = self._relative(node.level, node.module)
            if not base:
                return
            for alias in node.names:
                if alias.name == "*":
                    self.stars.append(base)
                    continue
                local = alias.asname or alias.name
                self.bindings.setdefault(local, set()).add(f"{base}.{alias.name}")

    def _relative(self, level: int, module: str | None) -> str:
        parts = self.package.split(".") if self.package else []
        base = ".".join(parts[: len(parts) - (level - 1)]) if level - 1 < len(parts) else ""
        if module:
            return f"{base}.{module}" if base else module
        return base

    def resolve(self, dotted: str) -> tuple[str, ...]:
        root, _, rest = dotted.partition(".")
        targets = self.bindings.get(root)
        if targets is None:
            if root in self.local:
                return (f"{self.module}.{dotted}",)
            # Unexplained: maybe from a star import (Oscar's ``models.py`` files do that).
            return (dotted, *(f"{star}.{dotted}" for star in self.stars))
        return tuple(sorted(f"{t}.{rest}" if rest else t for t in targets))


def _ref(node: ast.expr | None, imports: Imports) -> Ref | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Ref(text=node.value)
    if isinstance(node, ast.Lambda):
        return _ref(node.body, imports)
    name = dotted(node)
    if name is None:
        return None
    return Ref(names=imports.resolve(name), text=name)


def _string(node: ast.expr) -> str | None:
    if (isinstance(node, ast.Constant) and isinstance(node.value, str | bool | int)) or (
        isinstance(node, ast.Constant) and node.value is None
    ):
        return str(node.value)
    return None


_OPTIONS = (
    "related_name",
    "lazy",
    "uselist",
    "back_populates",
    "to_field",
    "through",
    "parent_link",
)


def _class_facts(
    node: ast.ClassDef, module: str, imports: Imports, lines: Sequence[str]
) -> ClassFacts:
    """``lines``: the file's lines when it mentions eager loading at all (else empty)."""
    bases = tuple(r for base in node.bases if (r := _ref(base, imports)) is not None)
    table = any(
        k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    )
    members: list[Member] = []
    attributes: list[str] = []
    methods: list[MethodEager] = []
    abstract = False
    app_label = None
    tablename = None
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            for item in statement.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1:
                    target = item.targets[0]
                    if isinstance(target, ast.Name) and isinstance(item.value, ast.Constant):
                        if target.id == "abstract" and item.value.value is True:
                            abstract = True
                        elif target.id == "app_label" and isinstance(item.value.value, str):
                            app_label = item.value.value
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            # Walking every method costs more than the parse: only bodies that mention
            # eager loading (or ``values``) are read.
            source = "\n".join(lines[statement.lineno - 1 : statement.end_lineno]) if lines else ""
            if _EAGER_TEXT.search(source):
                methods.append(_method_eager(statement))
            else:
                methods.append(MethodEager(statement.name))
            returned = _declared_attr_relation(statement, imports)
            if returned is not None:
                members.append(returned)
            continue
        name: str | None = None
        value: ast.expr | None = None
        annotation: ast.expr | None = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            if isinstance(statement.targets[0], ast.Name):
                name, value = statement.targets[0].id, statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name, value, annotation = statement.target.id, statement.value, statement.annotation
        if name is None:
            continue
        if name == "__tablename__" and value is not None:
            tablename = _string(value)
            continue
        if name == "__abstract__" and isinstance(value, ast.Constant) and value.value is True:
            abstract = True
            continue
        member = _member(name, value, annotation, imports)
        if member is not None:
            members.append(member)
        else:
            attributes.append(name)
    return ClassFacts(
        name=node.name,
        qualname=f"{module}.{node.name}",
        bases=bases,
        members=tuple(members),
        attributes=tuple(attributes),
        abstract=abstract,
        app_label=app_label,
        tablename=tablename,
        table_keyword=table,
        methods=tuple(methods),
    )


def _member(
    name: str, value: ast.expr | None, annotation: ast.expr | None, imports: Imports
) -> Member | None:
    mapped, mapped_target = _mapped(annotation, imports)
    if not isinstance(value, ast.Call):
        if mapped:
            return Member(
                name, (), "", None, mapped=mapped, mapped_target=mapped_target, options=()
            )
        return None
    func = value.func
    callee_name = dotted(func)
    if not mapped and annotation is not None and (callee_name or "").endswith("Relationship"):
        # SQLModel annotates relationships with the plain type: ``list["Hero"]``.
        mapped, mapped_target = _mapped_inner(annotation, imports)
    # ``Manager.from_queryset(QS)()`` and ``QS.as_manager()``: a manager built from a query set.
    if isinstance(func, ast.Call):
        inner = dotted(func.func) or ""
        if inner.endswith("from_queryset") and func.args:
            return Member(
                name,
                ("from_queryset",),
                "from_queryset",
                _ref(func.args[0], imports),
                mapped=mapped,
            )
        return None
    if callee_name is None:
        return None
    last = callee_name.rpartition(".")[2]
    if last == "as_manager" and isinstance(func, ast.Attribute):
        return Member(name, ("as_manager",), "as_manager", _ref(func.value, imports))
    target: ast.expr | None = value.args[0] if value.args else None
    options: list[tuple[str, str]] = []
    backref_lazy = ""
    for keyword in value.keywords:
        if (keyword.arg in ("to", "argument") and target is None) or (
            keyword.arg == "model" and target is None and last.startswith("Generic")
        ):
            target = keyword.value
        elif keyword.arg in _OPTIONS:
            # "?": set, but to something computed at run time.
            options.append((keyword.arg, _string(keyword.value) or "?"))
        elif keyword.arg == "secondary":
            options.append(("secondary", "yes"))
        elif keyword.arg == "foreign_keys":
            # ``foreign_keys=[topic_id]`` / ``"Post.topic_id"``: the column that decides direction.
            first = keyword.value
            if isinstance(first, ast.List | ast.Tuple) and first.elts:
                first = first.elts[0]
            text = _string(first) or dotted(first)
            if text:
                options.append(("foreign_keys", text.strip("[] ").rpartition(".")[2]))
        elif keyword.arg == "backref":
            if isinstance(keyword.value, ast.Call) and keyword.value.args:
                text = _string(keyword.value.args[0])
                for inner_kw in keyword.value.keywords:
                    if inner_kw.arg == "lazy":
                        backref_lazy = _string(inner_kw.value) or "?"
                    elif inner_kw.arg == "uselist":
                        options.append(("backref_uselist", _string(inner_kw.value) or "?"))
            else:
                text = _string(keyword.value)
            if text is not None:
                options.append(("backref", text))
        elif keyword.arg == "sa_relationship_kwargs" and isinstance(keyword.value, ast.Dict):
            for key, item in zip(keyword.value.keys, keyword.value.values, strict=False):
                if isinstance(key, ast.Constant) and key.value in ("lazy", "uselist"):
                    text = _string(item)
                    if text is not None:
                        options.append((str(key.value), text))
    fk_tables = tuple(
        table
        for arg in value.args
        if isinstance(arg, ast.Call)
        and (dotted(arg.func) or "").rpartition(".")[2] == "ForeignKey"
        and arg.args
        and (text := _string(arg.args[0])) is not None
        and "." in text
        for table in (text.rpartition(".")[0].rpartition(".")[2],)
    )
    if last == "Field" and any(k.arg == "foreign_key" for k in value.keywords):
        # SQLModel: ``Field(foreign_key="table.id")``.
        for keyword in value.keywords:
            text = _string(keyword.value) if keyword.arg == "foreign_key" else None
            if text and "." in text:
                fk_tables = (*fk_tables, text.rpartition(".")[0].rpartition(".")[2])
    return Member(
        name=name,
        callee=imports.resolve(callee_name),
        last=last,
        target=_ref(target, imports),
        options=tuple(options),
        mapped=mapped,
        mapped_target=mapped_target,
        fk_tables=fk_tables,
        backref_lazy=backref_lazy,
    )


_COLLECTIONS = frozenset(
    {"list", "List", "set", "Set", "frozenset", "FrozenSet", "Sequence", "dict", "Dict"}
)


def _mapped(annotation: ast.expr | None, imports: Imports) -> tuple[str, Ref | None]:
    """``Mapped[list["Address"]]`` -> ("many", Address); ``Mapped["User"]`` -> ("one", User)."""
    if not isinstance(annotation, ast.Subscript):
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                parsed = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return "", None
            return _mapped(parsed, imports)
        return "", None
    outer = (dotted(annotation.value) or "").rpartition(".")[2]
    if outer not in ("Mapped", "WriteOnlyMapped", "DynamicMapped"):
        return "", None
    shape, target = _mapped_inner(annotation.slice, imports)
    if outer != "Mapped":
        return ("dynamic" if outer == "DynamicMapped" else "write_only"), target
    return shape, target


def _mapped_inner(inner: ast.expr, imports: Imports) -> tuple[str, Ref | None]:
    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
        try:
            inner = ast.parse(inner.value, mode="eval").body
        except SyntaxError:
            return "one", None
    if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitOr):
        # ``"User" | None`` / ``Optional``-style unions: the non-None side.
        side = inner.left if not _is_none(inner.left) else inner.right
        return _mapped_inner(side, imports)
    if isinstance(inner, ast.Subscript):
        outer = (dotted(inner.value) or "").rpartition(".")[2]
        element = inner.slice
        if isinstance(element, ast.Tuple) and element.elts:
            element = element.elts[-1]
        if outer in _COLLECTIONS:
            return "many", _ref(_unquote(element), imports)
        if outer in ("Optional", "Union"):
            return _mapped_inner(element, imports)
        return "one", None
    return "one", _ref(_unquote(inner), imports)


def _unquote(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return node
    return node


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _declared_attr_relation(
    node: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports
) -> Member | None:
    """``@declared_attr def customer(cls): return relationship("Customer")`` in a mixin."""
    if not any(
        (dotted(d) or "").rpartition(".")[2] in ("declared_attr", "directive")
        for d in node.decorator_list
    ):
        return None
    for statement in node.body:
        if isinstance(statement, ast.Return) and isinstance(statement.value, ast.Call):
            return _member(node.name, statement.value, node.returns, imports)
    return None


_EAGER_METHODS = frozenset({"select_related", "prefetch_related"})
_EAGER_TEXT = re.compile(r"select_related|prefetch_related|values")


def _method_eager(node: ast.FunctionDef | ast.AsyncFunctionDef) -> MethodEager:
    """The ``select_related``/``prefetch_related`` lookups a method body applies."""
    select: list[str] = []
    prefetch: list[str] = []
    select_all = unknown = rows = False
    for inner in ast.walk(node):
        if not isinstance(inner, ast.Call) or not isinstance(inner.func, ast.Attribute):
            continue
        attr = inner.func.attr
        if attr in ("values", "values_list"):
            rows = True
        if attr not in _EAGER_METHODS:
            continue
        if attr == "select_related" and not inner.args and not inner.keywords:
            select_all = True
        for arg in inner.args:
            lookup = _lookup(arg)
            if lookup is None:
                unknown = True
            else:
                (select if attr == "select_related" else prefetch).append(lookup)
    return MethodEager(
        name=node.name,
        select=tuple(select),
        prefetch=tuple(prefetch),
        select_all=select_all,
        unknown=unknown,
        rows=rows,
    )


def _lookup(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args and (dotted(node.func) or "").endswith("Prefetch"):
        return _lookup(node.args[0])
    return None


class ClassTable:
    """Every class of the indexed files by qualified name, looked up the way imports name them.

    A name may reach a class through a package that re-exports it (``app.models.Order`` for a
    class of ``app/models/order.py``) or from another import root (``src.app.models.Order``);
    a lookup accepts those when exactly one class fits.
    """

    def __init__(self, classes: Iterable[tuple[FileFacts, ClassFacts]]) -> None:
        self.by_qualname: dict[str, tuple[FileFacts, ClassFacts]] = {}
        by_name: dict[str, list[str]] = {}
        for file, cls in classes:
            if cls.qualname in self.by_qualname:
                continue  # the same module name twice (scripts outside packages): first wins
            self.by_qualname[cls.qualname] = (file, cls)
            by_name.setdefault(cls.name, []).append(cls.qualname)
        self.by_name = {k: tuple(v) for k, v in by_name.items()}

    def find(self, qualname: str) -> str | None:
        if qualname in self.by_qualname:
            return qualname
        module, _, name = qualname.rpartition(".")
        candidates = self.by_name.get(name, ())
        if not candidates or not module:
            return None
        inside = [c for c in candidates if c.startswith(module + ".")]
        if len(inside) == 1:
            return inside[0]
        suffix = [c for c in candidates if c.endswith("." + qualname) or qualname.endswith("." + c)]
        return suffix[0] if len(suffix) == 1 else None

    def find_ref(self, ref: Ref) -> str | None:
        found = {q for name in ref.names if (q := self.find(name)) is not None}
        return next(iter(found)) if len(found) == 1 else None
