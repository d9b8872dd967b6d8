"""Knowledge shared by the queue and background-job rules (BE716-BE732).

Celery task definitions and their options (decorator keywords, ``Task`` subclass attributes,
app-wide ``task_*`` settings written in the same file), database transaction blocks, calls that
send something out of the process (a task, a message, an e-mail, a webhook), and model
instances (values that hold ORM rows). Everything is answered from the file being checked and
the project index, without libcst scope metadata, and cached per file in ``ctx.memo``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from be_lint.context import FileContext
from be_lint.frameworks import (
    called_names,
    constructed_from,
    descendants,
    enclosing_functions,
    keyword_arg,
    positional_args,
    positional_params,
    spreads_kwargs,
    string_value,
)
from be_lint.index.tasks import TASK_TEXT
from be_lint.names import block_statements, dotted_name, suite_statements
from be_lint.rule import FileKind, PythonRule

__all__ = [
    "AMQP_MODULES",
    "KAFKA_MODULES",
    "CeleryTaskRule",
    "TaskDef",
    "app_setting",
    "assigned_names",
    "call_name",
    "celery_task",
    "celery_task_class",
    "http_write",
    "imports_any",
    "is_falsy",
    "is_model_instance",
    "is_truthy",
    "literal_dict",
    "local_tasks",
    "names_in",
    "outbound_call",
    "sqs_receive",
    "transaction_block",
]

AMQP_MODULES = ("pika", "aio_pika", "aiormq", "kombu", "amqp", "amqpstorm", "rabbitpy")
KAFKA_MODULES = ("confluent_kafka", "kafka", "aiokafka")

_CELERY_DECORATORS = frozenset(
    {
        "celery.shared_task",
        "celery.task",
        "celery.decorators.task",
        "celery.decorators.periodic_task",
    }
)
_OTHER_QUEUES = ("huey", "dramatiq", "rq", "django_rq", "arq", "taskiq", "faust", "procrastinate")
_TASK_BASES = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task"})
#: Class attributes of a ``Task`` subclass that are task options.
_TASK_OPTIONS = frozenset(
    {
        "autoretry_for",
        "retry_backoff",
        "retry_backoff_max",
        "retry_jitter",
        "max_retries",
        "default_retry_delay",
        "retry_kwargs",
        "acks_late",
        "time_limit",
        "soft_time_limit",
        "reject_on_worker_lost",
    }
)


def call_name(call: cst.Call) -> str:
    """The last part of the callee's name (``delay`` for ``task.delay(...)``), or ``""``."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def is_truthy(expr: cst.BaseExpression | None) -> bool:
    """A literal that is true (``True``, a non-zero number, a non-empty string)."""
    if isinstance(expr, cst.Name):
        return expr.value == "True"
    if isinstance(expr, cst.Integer | cst.Float):
        return expr.value.strip("0._") != ""
    text = string_value(expr)
    return text is not None and text != "" and text.lower() not in ("false", "0", "no", "off")


def is_falsy(expr: cst.BaseExpression | None) -> bool:
    """A literal that is false (``False``, ``None``, ``0``, ``"false"``)."""
    if isinstance(expr, cst.Name):
        return expr.value in ("False", "None")
    if isinstance(expr, cst.Integer):
        return expr.value.strip("0_") == ""
    text = string_value(expr)
    return text is not None and text.lower() in ("false", "0", "no", "off", "")


# -- Celery tasks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskDef:
    """A Celery task: the function (or ``Task`` subclass) and the options it declares.

    ``complete`` is False when some options may come from elsewhere (``**options``, a ``base=``
    class defined in another file): rules that need the absence of an option stay quiet then.
    """

    node: cst.FunctionDef | cst.ClassDef
    options: Mapping[str, cst.BaseExpression] = field(default_factory=dict)
    #: Where to report "this task ..." findings: the decorator or the class name.
    anchor: cst.CSTNode | None = None
    bind: bool = False
    complete: bool = True


def imports_any(ctx: FileContext, modules: Sequence[str]) -> bool:
    """The file imports one of ``modules`` (or a submodule of one)."""
    imports = ctx.imports
    return imports is not None and any(imports.imports_module(m) for m in modules)


def _decorator_parts(decorator: cst.Decorator) -> tuple[cst.BaseExpression, cst.Call | None]:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        return expr.func, expr
    return expr, None


def celery_task(func: cst.FunctionDef, ctx: FileContext) -> TaskDef | None:
    """``func`` as a Celery task (``@shared_task``, ``@app.task(...)``), or None.

    ``@<name>.task`` counts when the file does not import another task queue (Huey and
    Dramatiq spell their decorators the same way) -- the app object usually lives elsewhere.
    """
    key = ("queues.task", id(func))
    if key in ctx.memo:
        found = ctx.memo[key]
        return found if isinstance(found, TaskDef) else None
    result: TaskDef | None = None
    # Celery cannot run coroutines: an ``async def`` under ``@app.task`` belongs to another
    # framework (Faust, TaskIQ, ...).
    decorators = func.decorators if func.asynchronous is None else ()
    for decorator in decorators:
        callee, call = _decorator_parts(decorator)
        names = ctx.qualified_names(callee)
        celery = bool(names & _CELERY_DECORATORS)
        if not celery and not names:
            if isinstance(callee, cst.Attribute) and callee.attr.value in ("task", "shared_task"):
                celery = isinstance(callee.value, cst.Name | cst.Attribute) and (
                    imports_any(ctx, ("celery",)) or not imports_any(ctx, _OTHER_QUEUES)
                )
            elif isinstance(callee, cst.Name) and callee.value == "shared_task":
                celery = True
        elif not celery and isinstance(callee, cst.Attribute):
            # ``from proj.celery import app`` then ``@app.task``: qualified, but not celery's own.
            celery = callee.attr.value in ("task", "shared_task") and not any(
                n.split(".", 1)[0] in _OTHER_QUEUES for n in names
            )
        if not celery:
            continue
        options: dict[str, cst.BaseExpression] = {}
        complete = True
        if call is not None:
            complete = not spreads_kwargs(call)
            for arg in call.args:
                if arg.keyword is not None:
                    options[arg.keyword.value] = arg.value
        base = options.get("base")
        if base is not None:
            cls = _local_class(base, ctx)
            if cls is None:
                complete = False
            else:
                for name, value in class_options(cls).items():
                    options.setdefault(name, value)
        result = TaskDef(
            node=func,
            options=options,
            anchor=decorator,
            bind=is_truthy(options.get("bind")),
            complete=complete,
        )
        break
    ctx.memo[key] = result
    return result


def _local_class(expr: cst.BaseExpression, ctx: FileContext) -> cst.ClassDef | None:
    if not isinstance(expr, cst.Name) or ctx.module is None:
        return None
    for statement in ctx.module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == expr.value:
            return statement
    return None


def class_options(cls: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    """Task options assigned in a class body (``max_retries = 5``)."""
    out: dict[str, cst.BaseExpression] = {}
    for statement in suite_statements(cls.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name) and target.target.value in _TASK_OPTIONS:
                        out[target.target.value] = small.value
            elif (
                isinstance(small, cst.AnnAssign)
                and small.value is not None
                and isinstance(small.target, cst.Name)
                and small.target.value in _TASK_OPTIONS
            ):
                out[small.target.value] = small.value
    return out


def celery_task_class(cls: cst.ClassDef, ctx: FileContext) -> TaskDef | None:
    """A subclass of ``celery.Task`` that defines ``run`` (a class-based task), or None."""
    if not any(ctx.matches(base.value, _TASK_BASES) for base in cls.bases):
        return None
    if not any(
        isinstance(s, cst.FunctionDef) and s.name.value == "run" for s in suite_statements(cls.body)
    ):
        return None
    return TaskDef(node=cls, options=class_options(cls), anchor=cls.name, bind=True)


class CeleryTaskRule(PythonRule):
    """Shared plumbing of the rules that judge each Celery task definition: every ``@task``
    function and ``Task`` subclass of the file reaches ``check_task``."""

    triggers = ("task", "Task")

    @classmethod
    def may_match(cls, text: str, kind: FileKind) -> bool:
        return TASK_TEXT.search(text) is not None or ("Task" in text and "celery" in text)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = celery_task(node, self.ctx)
        if task is not None:
            self.check_task(task)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        task = celery_task_class(node, self.ctx)
        if task is not None:
            self.check_task(task)

    def check_task(self, task: TaskDef) -> None:
        raise NotImplementedError


def local_tasks(ctx: FileContext) -> dict[str, TaskDef]:
    """Module-level functions of this file that are Celery tasks, by name."""
    key = "queues.local_tasks"
    found = ctx.memo.get(key)
    if isinstance(found, dict):
        return found
    out: dict[str, TaskDef] = {}
    module = ctx.module
    if module is not None:
        for statement in _module_statements(module):
            if isinstance(statement, cst.FunctionDef):
                task = celery_task(statement, ctx)
                if task is not None:
                    out[statement.name.value] = task
    ctx.memo[key] = out
    return out


def _module_statements(module: cst.Module) -> Iterator[cst.CSTNode]:
    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, cst.If | cst.Try | cst.With):
            stack.extend(reversed(list(block_statements(node))))


def app_setting(ctx: FileContext, name: str) -> str | None:
    """The value written for a Celery setting in this file (``app.conf.task_acks_late = True``,
    ``app.conf.update(task_acks_late=True)``, ``CELERY_TASK_ACKS_LATE = True`` in Django settings,
    ``"task_acks_late": True`` in a config dict), as source text; None when not written here."""
    key = ("queues.setting", name)
    if key in ctx.memo:
        found = ctx.memo[key]
        return found if isinstance(found, str) else None
    value: str | None = None
    if name in ctx.text or name.upper() in ctx.text:
        pattern = re.compile(
            r"""(?:\b|["'])(?:CELERY_)?(?:"""
            + re.escape(name)
            + "|"
            + re.escape(name.upper())
            + r""")["']?\s*[=:]\s*(?P<value>[^\s,)#}]+)"""
        )
        match = pattern.search(ctx.text)
        if match:
            value = match.group("value")
    ctx.memo[key] = value
    return value


# -- model instances -----------------------------------------------------------------------------

#: Query-set methods that return one model instance.
_ROW_METHODS = frozenset(
    {"get", "first", "last", "latest", "earliest", "create", "get_object", "aget", "afirst"}
)
#: Query-set methods that return rows that are not model instances.
_NOT_ROWS = frozenset({"values", "values_list", "count", "exists", "aggregate", "iterator_ids"})
_USER_MODELS = frozenset(
    {
        "django.contrib.auth.models.User",
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.models.Group",
    }
)


def _chain(expr: cst.BaseExpression) -> list[str]:
    """Attribute and call names along a method chain, innermost first: ``User.objects.filter(
    ...).first()`` gives ``["User", "objects", "filter", "first"]``."""
    out: list[str] = []
    current: cst.BaseExpression = expr
    while True:
        if isinstance(current, cst.Call):
            current = current.func
        elif isinstance(current, cst.Attribute):
            out.append(current.attr.value)
            current = current.value
        elif isinstance(current, cst.Name):
            out.append(current.value)
            break
        elif isinstance(current, cst.Await):
            current = current.expression
        else:
            break
    return out[::-1]


def _is_queryset_chain(parts: list[str]) -> bool:
    return "objects" in parts[1:-1] or (len(parts) >= 2 and parts[1] == "objects")


def is_model_instance(expr: cst.BaseExpression, ctx: FileContext, depth: int = 0) -> str | None:
    """A short description when ``expr`` holds an ORM model instance, else None.

    Known shapes: ``Model.objects.get(...)`` (``first``, ``create``, ...),
    ``get_object_or_404(...)``, ``request.user``, ``self.get_object()``, a ``for`` variable
    over ``Model.objects...`` (not ``values``/``values_list``), and a name holding one of these.
    """
    if depth > 3:
        return None
    if isinstance(expr, cst.Await):
        expr = expr.expression
    written = dotted_name(expr)
    if written is not None and (written == "request.user" or written.endswith(".request.user")):
        return "`request.user`"
    if isinstance(expr, cst.Call):
        if ctx.matches(
            expr.func,
            {"django.shortcuts.get_object_or_404", "rest_framework.generics.get_object_or_404"},
        ):
            return "the object from `get_object_or_404`"
        parts = _chain(expr)
        if not parts:
            return None
        last = parts[-1]
        if last == "get_object" and parts[0] == "self" and len(parts) == 2:
            return "the object from `self.get_object()`"
        if last in _ROW_METHODS and _is_queryset_chain(parts) and not _NOT_ROWS & set(parts):
            return f"a `{parts[0]}` instance from `{'.'.join(parts[:3])}(...)`"
        return None
    if isinstance(expr, cst.Name):
        definitions = ctx.dataflow.definitions(expr)
        if len(definitions) != 1:
            return None
        definition = definitions[0]
        kind = definition.kind.value
        value = definition.value
        if kind == "assign" and value is not None:
            return is_model_instance(value, ctx, depth + 1)
        if kind == "loop" and value is not None and definition.position is None:
            parts = _chain(value)
            if _is_queryset_chain(parts) and not _NOT_ROWS & set(parts):
                return f"a `{parts[0]}` row of the loop over `{'.'.join(parts[:3])}(...)`"
            if isinstance(value, cst.Name):
                inner = ctx.dataflow.definitions(value)
                if len(inner) == 1 and inner[0].value is not None:
                    parts = _chain(inner[0].value)
                    if (
                        _is_queryset_chain(parts)
                        and not _NOT_ROWS & set(parts)
                        and parts[-1] not in _ROW_METHODS
                    ):
                        return f"a `{parts[0]}` row of the loop over `{value.value}`"
        if kind == "parameter" and isinstance(definition.node, cst.Param):
            return model_annotation(definition.node, ctx)
    return None


def model_annotation(param: cst.Param, ctx: FileContext) -> str | None:
    """``user: User`` where ``User`` is a model of the project (or Django's user model)."""
    annotation = param.annotation
    if annotation is None:
        return None
    expr = annotation.annotation
    if isinstance(expr, cst.Subscript | cst.BinaryOperation):
        # ``Optional[User]`` / ``User | None``: look at the non-None parts.
        candidates = [
            e.slice.value
            for e in (expr.slice if isinstance(expr, cst.Subscript) else ())
            if isinstance(e.slice, cst.Index)
        ]
        if isinstance(expr, cst.BinaryOperation):
            candidates = [expr.left, expr.right]
        if isinstance(expr, cst.Subscript) and not ctx.matches(
            expr.value, {"typing.Optional", "typing.Union"}
        ):
            return None
        for candidate in candidates:
            found = _model_class(candidate, ctx)
            if found:
                return found
        return None
    return _model_class(expr, ctx)


def _model_class(expr: cst.BaseExpression, ctx: FileContext) -> str | None:
    if isinstance(expr, cst.SimpleString):
        return None
    names = ctx.qualified_names(expr)
    written = dotted_name(expr)
    if any(n.startswith(("celery.", "typing.", "builtins.", "collections.")) for n in names):
        return None
    if names & _USER_MODELS:
        return f"a `{written}` instance (annotated)"
    project = ctx.project
    if project is None or written is None:
        return None
    candidates = set(names)
    if not candidates and ctx.package is not None:
        candidates = {f"{ctx.package}.{written}"}
    model = project.find(candidates) if candidates else None
    if model is None and not names:
        # A model defined in this very file.
        module_candidates = [q for q in project.model_names.get(written, ()) if q]
        if len(module_candidates) == 1 and _defined_here(written, ctx):
            model = project.model(module_candidates[0])
    if model is None:
        return None
    return f"a `{model.name}` model instance (annotated)"


def _defined_here(name: str, ctx: FileContext) -> bool:
    module = ctx.module
    return module is not None and any(
        isinstance(s, cst.ClassDef) and s.name.value == name for s in module.body
    )


# -- transactions --------------------------------------------------------------------------------

_ATOMIC = frozenset({"django.db.transaction.atomic"})
_SQLALCHEMY_MODULES = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
_DB_RECEIVER = re.compile(r"session|engine|conn|db|transaction|tx", re.IGNORECASE)


def transaction_block(node: cst.CSTNode, ctx: FileContext) -> str | None:
    """What opens a database transaction at ``node``, or None.

    ``with transaction.atomic():`` (Django), ``@transaction.atomic`` on a function,
    ``with session.begin():`` / ``with engine.begin() as conn:`` (SQLAlchemy).
    """
    if isinstance(node, cst.With):
        for item in node.items:
            expr = item.item
            callee = expr.func if isinstance(expr, cst.Call) else expr
            if ctx.matches(callee, _ATOMIC):
                return "transaction.atomic()"
            if (
                isinstance(expr, cst.Call)
                and isinstance(callee, cst.Attribute)
                and callee.attr.value in ("begin", "begin_nested")
            ):
                receiver = dotted_name(callee.value)
                owners = constructed_from(callee.value, ctx)
                if any(o.startswith(_SQLALCHEMY_MODULES) for o in owners) or (
                    receiver is not None
                    and _DB_RECEIVER.search(receiver.rsplit(".", 1)[-1])
                    and imports_any(ctx, _SQLALCHEMY_MODULES)
                ):
                    return f"{receiver or 'session'}.{callee.attr.value}()"
        return None
    if isinstance(node, cst.FunctionDef):
        for decorator in node.decorators:
            callee, _ = _decorator_parts(decorator)
            if ctx.matches(callee, _ATOMIC):
                return "@transaction.atomic"
    return None


# -- calls that send something out ---------------------------------------------------------------

_EMAIL_FUNCTIONS = frozenset(
    {
        "django.core.mail.send_mail",
        "django.core.mail.send_mass_mail",
        "django.core.mail.mail_admins",
        "django.core.mail.mail_managers",
        "flask_mail.Mail.send",
    }
)
_EMAIL_CLASSES = frozenset(
    {
        "django.core.mail.EmailMessage",
        "django.core.mail.EmailMultiAlternatives",
        "django.core.mail.message.EmailMessage",
        "django.core.mail.message.EmailMultiAlternatives",
        "flask_mail.Message",
    }
)
_HTTP_CLIENTS = ("requests", "httpx", "requests.Session", "httpx.Client", "httpx.AsyncClient")
_HTTP_WRITE = frozenset(
    f"{lib}.{method}" for lib in _HTTP_CLIENTS for method in ("post", "put", "patch")
)
_KAFKA_PRODUCERS = frozenset(
    {
        "confluent_kafka.Producer",
        "confluent_kafka.SerializingProducer",
        "kafka.KafkaProducer",
        "kafka.producer.KafkaProducer",
        "aiokafka.AIOKafkaProducer",
    }
)


def outbound_call(call: cst.Call, ctx: FileContext) -> str | None:
    """What ``call`` sends out of the process (a task, message, e-mail or webhook), or None."""
    name = call_name(call)
    func = call.func
    if name in ("delay", "apply_async") and isinstance(func, cst.Attribute):
        if defers_to_commit(func.value, ctx):
            return None
        return f"the Celery task `{dotted_name(func) or name}`"
    if name == "send_task" and isinstance(func, cst.Attribute):
        return "a Celery task (`send_task`)"
    if name in ("send_mail", "send_mass_mail", "mail_admins", "mail_managers", "send"):
        if ctx.matches(func, _EMAIL_FUNCTIONS):
            return f"an e-mail (`{name}`)"
        if name == "send" and isinstance(func, cst.Attribute):
            owners = constructed_from(func.value, ctx)
            if owners & _EMAIL_CLASSES:
                return "an e-mail (`EmailMessage.send`)"
            if owners & _KAFKA_PRODUCERS:
                return "a Kafka message"
        return None
    if name in ("produce", "send_and_wait") and isinstance(func, cst.Attribute):
        if constructed_from(func.value, ctx) & _KAFKA_PRODUCERS:
            return "a Kafka message"
        return None
    if name in ("send_message", "send_message_batch") and (
        keyword_arg(call, "QueueUrl") is not None or keyword_arg(call, "Entries") is not None
    ):
        return "an SQS message"
    if name == "basic_publish":
        return "a RabbitMQ message"
    if name == "publish" and isinstance(func, cst.Attribute) and imports_any(ctx, AMQP_MODULES):
        return "a RabbitMQ message"
    if name in ("post", "put", "patch"):
        names = ctx.qualified_names(func) or called_names(call, ctx)
        if names & _HTTP_WRITE:
            return f"an HTTP {name.upper()} request"
    return None


# -- small literal helpers -----------------------------------------------------------------------


def literal_dict(
    expr: cst.BaseExpression | None, ctx: FileContext
) -> dict[str, cst.BaseExpression] | None:
    """The string-keyed items of a dict literal (or ``dict(k=v)``), following one name.

    None when the value is unknown or holds ``**spread`` entries.
    """
    expr = _followed(expr, ctx)
    if isinstance(expr, cst.Dict):
        items = _dict_items(expr)
        return None if items is None else {key: value for _, key, value in items}
    if isinstance(expr, cst.Call) and ctx.matches(expr.func, {"builtins.dict"}):
        if positional_args(expr) or spreads_kwargs(expr):
            return None
        return {a.keyword.value: a.value for a in expr.args if a.keyword is not None}
    return None


# -- state changes -------------------------------------------------------------------------------

_WRITE_METHODS = frozenset(
    {"save", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "executemany"}
)
_QUERYSET_WRITES = frozenset({"create", "update", "delete"})
_QUERYSET_STEPS = frozenset({"objects", "filter", "exclude", "all", "select_for_update"})
_HTTP_CHANGE = _HTTP_WRITE | {f"{lib}.delete" for lib in _HTTP_CLIENTS}


def state_change(call: cst.Call, ctx: FileContext) -> str | None:
    """A short description when ``call`` writes to a database or sends an HTTP write."""
    name = call_name(call)
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    if name in _WRITE_METHODS:
        return f"`.{name}()`"
    if name in _QUERYSET_WRITES and _QUERYSET_STEPS & set(_chain(func.value)):
        return f"a query-set `.{name}()`"
    if name == "execute":
        receiver = dotted_name(func.value) or ""
        if re.search(r"cursor|cur$|conn|session|db|engine", receiver, re.IGNORECASE):
            return "a database `execute()`"
        return None
    if name == "commit":
        receiver = dotted_name(func.value) or ""
        if re.search(r"session|conn|db", receiver, re.IGNORECASE):
            return f"`{receiver}.commit()`"
        return None
    if name in ("post", "put", "patch", "delete"):
        names = ctx.qualified_names(func) or called_names(call, ctx)
        if names & _HTTP_CHANGE:
            return f"an HTTP {name.upper()}"
    return None


# -- task results --------------------------------------------------------------------------------

_RESULT_FACTORIES = frozenset({"celery.result.AsyncResult", "celery.result.GroupResult.restore"})


def async_result(expr: cst.BaseExpression, ctx: FileContext, depth: int = 0) -> str | None:
    """How ``expr`` holds a Celery ``AsyncResult`` (``task.delay(...)``, ``apply_async``,
    ``send_task``, ``AsyncResult(id)``, a name assigned one of these), or None."""
    if isinstance(expr, cst.Name) and depth < 3:
        value = ctx.value_of(expr)
        return async_result(value, ctx, depth + 1) if value is not None else None
    if not isinstance(expr, cst.Call):
        return None
    name = call_name(expr)
    func = expr.func
    if name in ("delay", "apply_async", "send_task") and isinstance(func, cst.Attribute):
        return f"`{name}()`"
    if name == "AsyncResult" and (
        isinstance(func, cst.Attribute) or ctx.matches(func, _RESULT_FACTORIES)
    ):
        return "`AsyncResult`"
    if ctx.matches(func, _RESULT_FACTORIES):
        return "a Celery result"
    return None


def enclosing_task(ctx: FileContext) -> TaskDef | None:
    """The Celery task whose body holds the node being visited (function or ``Task.run``)."""
    functions = enclosing_functions(ctx.ancestors)
    for func in reversed(functions):
        task = celery_task(func, ctx)
        if task is not None:
            return task
    if functions:
        cls = ctx.enclosing(cst.ClassDef)
        if isinstance(cls, cst.ClassDef):
            return celery_task_class(cls, ctx)
    return None


def imported_task(expr: cst.BaseExpression, ctx: FileContext) -> str | None:
    """The qualified name of a Celery task defined in another file of the project, when the
    project index knows it (``from .tasks import send_welcome``; also through another import
    root, ``src.app.tasks.x`` for ``app.tasks.x``)."""
    project = ctx.project
    if project is None or not project.tasks:
        return None
    known = project.tasks
    last = dotted_name(expr)
    if last is None:
        return None
    key = "queues.task_last_names"
    last_names = ctx.memo.get(key)
    if not isinstance(last_names, frozenset):
        last_names = ctx.memo[key] = frozenset(t.rsplit(".", 1)[-1] for t in known)
    if last.rsplit(".", 1)[-1] not in last_names:
        return None
    for name in sorted(ctx.qualified_names(expr)):
        if name in known:
            return name
        matches = [t for t in known if t.endswith("." + name) or name.endswith("." + t)]
        if len(matches) == 1:
            return matches[0]
    return None


def defers_to_commit(task: cst.BaseExpression, ctx: FileContext) -> bool:
    """True when ``task``'s base class enqueues it only on commit (its ``apply_async`` calls
    ``transaction.on_commit``): in this file, or as the project index knows."""
    if isinstance(task, cst.Name):
        local = local_tasks(ctx).get(task.value)
        if local is not None:
            base = local.options.get("base")
            cls = _local_class(base, ctx) if base is not None else None
            if cls is not None and _defers(cls):
                return True
    project = ctx.project
    if project is None or not project.deferred_tasks:
        return False
    names = set(ctx.qualified_names(task))
    if isinstance(task, cst.Name) and task.value in local_tasks(ctx):
        from be_lint.index.facts import module_name

        names.add(f"{module_name(ctx.path, ctx.package)}.{task.value}")
    for name in sorted(names):
        if name in project.deferred_tasks or any(
            t.endswith("." + name) or name.endswith("." + t) for t in project.deferred_tasks
        ):
            return True
    return False


def _defers(cls: cst.ClassDef) -> bool:
    for statement in suite_statements(cls.body):
        if isinstance(statement, cst.FunctionDef) and statement.name.value in (
            "apply_async",
            "delay",
        ):
            for node in descendants(statement.body, into_scopes=True):
                if isinstance(node, cst.Call) and call_name(node) == "on_commit":
                    return True
    return False


# -- Kafka ---------------------------------------------------------------------------------------

KAFKA_PRODUCER_CLASSES = frozenset(
    {
        "confluent_kafka.Producer",
        "confluent_kafka.SerializingProducer",
        "confluent_kafka.avro.AvroProducer",
        "kafka.KafkaProducer",
        "kafka.producer.KafkaProducer",
        "aiokafka.AIOKafkaProducer",
        "aiokafka.producer.AIOKafkaProducer",
    }
)
KAFKA_CONSUMER_CLASSES = frozenset(
    {
        "confluent_kafka.Consumer",
        "confluent_kafka.DeserializingConsumer",
        "confluent_kafka.avro.AvroConsumer",
        "kafka.KafkaConsumer",
        "kafka.consumer.KafkaConsumer",
        "aiokafka.AIOKafkaConsumer",
        "aiokafka.consumer.AIOKafkaConsumer",
    }
)


@dataclass(frozen=True)
class KafkaClient:
    """A Kafka producer or consumer construction and its settings.

    Keys are normalised to the dotted librdkafka spelling (``enable_auto_commit`` becomes
    ``enable.auto.commit``); ``complete`` is False when some settings cannot be read.
    """

    call: cst.Call
    library: str
    settings: Mapping[str, tuple[cst.CSTNode, cst.BaseExpression]]
    complete: bool


def kafka_client(call: cst.Call, ctx: FileContext, classes: frozenset[str]) -> KafkaClient | None:
    """``call`` as the construction of one of ``classes``, with its settings, or None."""
    names = ctx.qualified_names(call.func) & classes
    if not names:
        return None
    library = next(iter(sorted(names))).split(".", 1)[0]
    settings: dict[str, tuple[cst.CSTNode, cst.BaseExpression]] = {}
    complete = not any(a.star for a in call.args)
    if library == "confluent_kafka":
        positional = positional_args(call)
        config = positional[0].value if positional else None
        if config is None:
            arg = keyword_arg(call, "conf") or keyword_arg(call, "config")
            config = arg.value if arg is not None else None
        config = _followed(config, ctx)
        items = _dict_items(config) if isinstance(config, cst.Dict) else None
        if items is None:
            complete = False
        else:
            for key_node, key, value in items:
                settings[key.replace("_", ".")] = (key_node, value)
    else:
        for arg in call.args:
            if arg.keyword is not None:
                settings[arg.keyword.value.replace("_", ".")] = (arg, arg.value)
    return KafkaClient(call=call, library=library, settings=settings, complete=complete)


def _followed(expr: cst.BaseExpression | None, ctx: FileContext) -> cst.BaseExpression | None:
    """``expr``, or the value assigned to it when it is a name (one step)."""
    return ctx.value_of(expr) if isinstance(expr, cst.Name) else expr


def _dict_items(expr: cst.Dict) -> list[tuple[cst.CSTNode, str, cst.BaseExpression]] | None:
    """``(element, key, value)`` of the string keys; None when a ``**spread`` may add keys."""
    out: list[tuple[cst.CSTNode, str, cst.BaseExpression]] = []
    for element in expr.elements:
        if not isinstance(element, cst.DictElement):
            return None
        key = string_value(element.key)
        if key is not None:
            out.append((element, key, element.value))
    return out


def bound_name(ctx: FileContext) -> str | None:
    """The dotted name the current call is assigned to (``consumer = ...``,
    ``self.consumer = ...``), looking through ``await``; None otherwise."""
    for node in reversed(ctx.ancestors):
        if isinstance(node, cst.Await):
            continue
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            return dotted_name(node.targets[0].target)
        if isinstance(node, cst.AnnAssign):
            return dotted_name(node.target)
        if isinstance(node, cst.WithItem) and node.asname is not None:
            target = node.asname.name
            return dotted_name(target) if isinstance(target, cst.BaseExpression) else None
        return None
    return None


def binding_scope(ctx: FileContext, name: str) -> cst.CSTNode | None:
    """Where a name bound at the current node is used: the enclosing class for ``self.x``, the
    enclosing function for a local name, the module for a module-level name."""
    if name.startswith("self."):
        return ctx.enclosing(cst.ClassDef)
    if "." in name:
        return None
    func = ctx.enclosing(cst.FunctionDef)
    return func if func is not None else ctx.module


def method_calls(scope: cst.CSTNode, receiver: str) -> Iterator[tuple[str, cst.Call]]:
    """``(method, call)`` for every ``receiver.method(...)`` call in ``scope`` (nested
    functions included for classes and modules, where the receiver is shared)."""
    into = isinstance(scope, cst.ClassDef | cst.Module)
    for node in descendants(scope, into_scopes=into):
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and dotted_name(node.func.value) == receiver
        ):
            yield node.func.attr.value, node


# -- retried HTTP writes -------------------------------------------------------------------------

_RETRY_DECORATORS = frozenset(
    {
        "tenacity.retry",
        "backoff.on_exception",
        "backoff.on_predicate",
        "retrying.retry",
        "stamina.retry",
        "retry.retry",
        "urllib3.util.retry.Retry",
    }
)
_HTTP_LIBRARIES = ("requests.", "httpx.", "aiohttp.", "urllib3.")
_HTTP_RECEIVER = re.compile(r"session|client|http", re.IGNORECASE)


def http_write(call: cst.Call, ctx: FileContext, methods: Collection[str]) -> bool:
    """A request sent with one of ``methods`` (``post``, ...) by an HTTP library or a client
    named like one: ``requests.post(...)``, ``session.post(...)``,
    ``httpx.AsyncClient().post(...)``."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
        return False
    names = ctx.qualified_names(func) or called_names(call, ctx)
    if any(n.startswith(_HTTP_LIBRARIES) for n in names):
        return True
    receiver = dotted_name(func.value) or ""
    return bool(_HTTP_RECEIVER.search(receiver.rsplit(".", 1)[-1]))


def retry_context(call: cst.Call, ctx: FileContext) -> str | None:
    """Why ``call`` (being visited) may run more than once for the same work, or None.

    A retry decorator on the enclosing function (tenacity, backoff, retrying, stamina), a
    Celery task that retries (``autoretry_for`` or ``self.retry``), or a retry loop around the
    call: a ``for``/``while`` in which the call sits in a ``try`` whose handler goes round
    again, or whose response is checked by an ``if`` that leaves or continues the loop.
    """
    ancestors = ctx.ancestors
    child: cst.CSTNode = call
    in_try = False
    for ancestor in reversed(ancestors):
        if (
            isinstance(ancestor, cst.Try)
            and child is ancestor.body
            and any(not _handler_raises(h) for h in ancestor.handlers)
        ):
            in_try = True
        if (
            isinstance(ancestor, cst.For | cst.While)
            and (in_try or _response_checked(ancestor, child, ctx))
            and _repeats(ancestor, call, ctx)
        ):
            return "a retry loop"
        if isinstance(ancestor, cst.Lambda | cst.ClassDef):
            return None
        if isinstance(ancestor, cst.FunctionDef):
            for decorator in ancestor.decorators:
                callee, _ = _decorator_parts(decorator)
                if ctx.matches(callee, _RETRY_DECORATORS):
                    return f"a function retried by `@{dotted_name(callee)}`"
            task = celery_task(ancestor, ctx)
            if task is not None and (
                "autoretry_for" in task.options or task_calls_retry(ancestor, task)
            ):
                return "a Celery task that retries"
            return None
        child = ancestor
    return None


def _repeats(loop: cst.For | cst.While, call: cst.Call, ctx: FileContext) -> bool:
    """``loop`` sends the same ``call`` again until it succeeds: a ``while`` or ``for`` over
    ``range``/``count`` that can leave early, whose request does not change between rounds
    (not a loop over items or pages)."""
    if isinstance(loop, cst.For):
        iterator = loop.iter
        if not (
            isinstance(iterator, cst.Call)
            and ctx.matches(iterator.func, {"builtins.range", "itertools.count"})
        ):
            return False
    changing = assigned_names(loop)
    if any(names_in(arg.value) & changing for arg in call.args):
        return False
    return any(isinstance(n, cst.Break | cst.Return) for n in descendants(loop.body))


def names_in(node: cst.CSTNode) -> set[str]:
    """The names ``node`` is or contains (not entering nested functions and lambdas)."""
    return {n.value for n in (node, *descendants(node)) if isinstance(n, cst.Name)}


def assigned_names(node: cst.CSTNode) -> set[str]:
    """Names bound in ``node`` (``=``, ``+=``, annotated assignments, ``for`` targets),
    ``node`` itself included."""
    out: set[str] = set()
    for inner in (node, *descendants(node)):
        targets: list[cst.BaseExpression] = []
        if isinstance(inner, cst.Assign):
            targets = [t.target for t in inner.targets]
        elif isinstance(inner, cst.AugAssign | cst.AnnAssign | cst.For):
            targets = [inner.target]
        for target in targets:
            out |= names_in(target)
    return out


def _handler_raises(handler: cst.ExceptHandler) -> bool:
    body = handler.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else []
    return any(
        isinstance(s, cst.SimpleStatementLine)
        and any(isinstance(x, cst.Raise | cst.Return | cst.Break) for x in s.body)
        for s in statements
    )


def _response_checked(loop: cst.For | cst.While, child: cst.CSTNode, ctx: FileContext) -> bool:
    """The statement ``child`` of the loop assigns the response, and an ``if`` tests it."""
    if not isinstance(child, cst.IndentedBlock):
        return False
    target: str | None = None
    for node in reversed(ctx.ancestors):
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            name = node.targets[0].target
            target = name.value if isinstance(name, cst.Name) else None
            break
        if node is loop:
            break
    if target is None:
        return False
    exits = (cst.Break, cst.Return, cst.Continue)
    return any(
        isinstance(node, cst.If)
        and any(isinstance(n, cst.Name) and n.value == target for n in descendants(node.test))
        and any(isinstance(n, exits) for n in descendants(node.body))
        for node in descendants(loop.body)
    )


def task_calls_retry(func: cst.FunctionDef, task: TaskDef) -> bool:
    names = {func.name.value}
    params = positional_params(func, skip_self=False)
    if task.bind and params:
        names.add(params[0].name.value)
    return any(
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "retry"
        and isinstance(node.func.value, cst.Name)
        and node.func.value.value in names
        for node in descendants(func.body)
    )


# -- SQS -----------------------------------------------------------------------------------------

_AWS_MODULES = ("boto3", "aioboto3", "aiobotocore", "botocore")


def sqs_receive(call: cst.Call, ctx: FileContext) -> str | None:
    """The method when ``call`` receives from SQS -- the client's ``receive_message(QueueUrl=
    ...)`` or the resource's ``queue.receive_messages(...)`` -- else None."""
    name = call_name(call)
    if name == "receive_message":
        return name if keyword_arg(call, "QueueUrl") is not None else None
    if name == "receive_messages" and _sqs_resource_call(call, ctx):
        return name
    return None


def _sqs_resource_call(call: cst.Call, ctx: FileContext) -> bool:
    """``queue.receive_messages(...)`` of boto3's SQS resource (not Azure's snake_case API)."""
    return (
        isinstance(call.func, cst.Attribute)
        and imports_any(ctx, _AWS_MODULES)
        and all(a.keyword is None or a.keyword.value[:1].isupper() for a in call.args)
    )
