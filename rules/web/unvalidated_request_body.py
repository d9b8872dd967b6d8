"""BE608 unvalidated-request-body: a FastAPI/Starlette handler passes an unvalidated body on."""

from __future__ import annotations

import re

import libcst as cst

from be_lint.frameworks import descendants, handler_kind, logging_call
from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.taint import imports_any, raw_request_mapping

RATIONALE = """\
FastAPI validates a request body against the type of the handler's parameter: a pydantic model
rejects missing fields, wrong types and (with `extra="forbid"`) unknown keys with a 422 before
the handler runs, and documents the schema. A body typed `dict`, `Any` or read with `await
request.json()` skips all of that: whatever JSON the client sent -- extra keys, nested objects
where strings were expected, huge arrays -- flows into the database, a queue or another
service, which then fails deep inside, stores garbage, or trusts fields it should not.

The rule reports, once per handler, a FastAPI or Starlette route handler whose raw body (a
parameter typed `dict`/`Dict[...]`/`Any`/`Mapping`, or `await request.json()`/`form()`) is
passed whole to another call: a database or ORM write, an HTTP client, a task queue, a service
function.

Quiet when the body is validated in the handler (`Model.model_validate(data)`,
`Model(**data)` for a pydantic model, `TypeAdapter(...).validate_python`, `jsonschema.validate`,
a marshmallow `schema.load`, or a helper whose name says it parses or validates:
`parse_event(data)`, `Order.from_payload(data)`), when only single fields are read (`data["name"]`,
`data.get("page")`), and when it is only logged, measured or type-checked. Spreading it into an
ORM model is reported by BE609 (mass-assignment) instead.
"""

HOW_TO_FIX = """\
Declare the body as a pydantic model (`async def create(item: ItemCreate)`), with
`model_config = ConfigDict(extra="forbid")` when unknown keys should be rejected; or validate
explicitly at the top of the handler (`item = ItemCreate.model_validate(await
request.json())`) and pass the validated object on.
"""

_VALIDATORS = frozenset(
    {
        "model_validate",
        "model_validate_json",
        "parse_obj",
        "parse_raw",
        "validate_python",
        "validate_json",
        "validate",
        "load",
        "loads",
        "is_valid",
        "full_clean",
        "check",
    }
)
#: Calls that look at the body without passing it on.
_HARMLESS = frozenset(
    {
        "len",
        "isinstance",
        "print",
        "str",
        "repr",
        "type",
        "bool",
        "sorted",
        "list",
        "set",
        "hash",
        "id",
        "dumps",
        "JSONResponse",
        "jsonable_encoder",
        "Response",
    }
)


#: Helpers whose name says they parse or validate what they are given.
_CONVERTS = re.compile(r"pars|valid|_from_|from_|schema|clean|check|deserializ|load", re.I)


class UnvalidatedRequestBody(PythonRule):
    meta = RuleMeta(
        code="BE608",
        name="unvalidated-request-body",
        summary="A FastAPI/Starlette handler passes an unvalidated request body on",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=20,
        owasp="A04:2021-Insecure Design",
        references=(
            "https://cwe.mitre.org/data/definitions/20.html",
            "https://fastapi.tiangolo.com/tutorial/body/",
            "https://cheatsheetseries.owasp.org/cheatsheets/Input_Validation_Cheat_Sheet.html",
        ),
    )
    triggers = ("fastapi", "starlette")
    bad = (
        Example(
            """\
from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.post("/events")
async def ingest(event: dict[str, Any], db=Depends(get_db)):
    await db.events.insert_one(event)  # expect: BE608
    return {"ok": True}
"""
        ),
        Example(
            """\
import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def forward(request: Request):
    payload = await request.json()
    async with httpx.AsyncClient(timeout=5) as client:
        await client.post("https://billing.internal/charge", json=payload)  # expect: BE608
    return JSONResponse({"ok": True})


routes = [Route("/charge", forward, methods=["POST"])]
"""
        ),
    )
    good = (
        Example(
            """\
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

app = FastAPI()


class Event(BaseModel):
    kind: str
    value: int


@app.post("/events")
async def ingest(event: Event, db=Depends(get_db)):
    await db.events.insert_one(event.model_dump())


@app.post("/raw")
async def raw(request: Request, db=Depends(get_db)):
    data = await request.json()
    event = Event.model_validate(data)
    await db.events.insert_one(event.model_dump())


@app.post("/search")
async def search(body: dict[str, Any]):
    logger.info("search %s", body)
    return run_search(body.get("q", ""), len(body))
"""
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        kind = handler_kind(node, self.ctx, [*self.ctx.ancestors, node])
        if (kind is None or kind == "task") and not self._starlette_endpoint(node):
            return
        # The dataflow answers for entered scopes: enter this handler's.
        self.ctx.dataflow.enter([*self.ctx.ancestors, node])
        calls = [c for c in descendants(node.body) if isinstance(c, cst.Call)]
        passed: list[cst.CSTNode] = []
        validated = False
        for call in calls:
            for arg in call.args:
                value = arg.value
                if arg.star == "**":
                    continue  # spread into a constructor: BE609's subject
                if not isinstance(value, cst.Name | cst.Await):
                    continue
                if raw_request_mapping(self.ctx, value) is None:
                    continue
                if self._validates(call):
                    validated = True
                elif not self._harmless(call):
                    passed.append(value)
        if passed and not validated:
            self.report(
                passed[0],
                "the raw request body is passed on without validation",
                help="declare the body as a pydantic model, or validate it before use",
            )

    def _validates(self, call: cst.Call) -> bool:
        func = call.func
        last = (dotted_name(func) or "").rsplit(".", 1)[-1]
        if _CONVERTS.search(last):
            return True  # ``parse_event(body)``, ``_registration_from_metadata(body)``
        if isinstance(func, cst.Attribute) and func.attr.value in _VALIDATORS:
            return True
        if last in _VALIDATORS:
            return True
        return any(
            arg.keyword is not None and arg.keyword.value == "data" for arg in call.args
        ) and (last.endswith(("Serializer", "Form", "Schema")))

    def _harmless(self, call: cst.Call) -> bool:
        last = (dotted_name(call.func) or "").rsplit(".", 1)[-1]
        if last in _HARMLESS:
            return True
        return logging_call(call, self.ctx) is not None

    def _starlette_endpoint(self, node: cst.FunctionDef) -> bool:
        """``async def endpoint(request: Request)`` in a Starlette/FastAPI file."""
        if not imports_any(self.ctx, ("starlette", "fastapi")):
            return False
        params = node.params.params
        if not params:
            return False
        first = params[0]
        return first.name.value in ("request", "req") or (
            first.annotation is not None
            and (dotted_name(first.annotation.annotation) or "").endswith("Request")
        )
