"""BE606 code-injection: request data evaluated as Python code or used to pick a module."""

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, RuleMeta, Severity
from be_lint.taint import Sink, TaintRule, argument, call_names, lasts_of

RATIONALE = """\
`eval`, `exec` and `compile` run whatever text they are given with the full power of the
server process: reading files and environment variables, opening connections, running
commands. There is no safe subset: restricted globals (`{"__builtins__": {}}`) are escaped
through object attributes (`().__class__.__mro__...`). Importing a module by a client-chosen
name (`importlib.import_module`, `__import__`) runs that module's top-level code and hands out
objects the client should not reach.

The rule follows request data through the handler into `eval`, `exec`, `compile`,
`__import__`, `importlib.import_module`, and the expression argument of `pandas.eval`. It is
quiet for constants, values converted with `int()`/`float()`, and names checked against an
allow-list (`if name not in PLUGINS: abort(404)`).
Data passed to a function of the same file is followed into it (two calls deep).
"""

HOW_TO_FIX = """\
Parse data instead of evaluating it: `json.loads` for structured values, `ast.literal_eval`
for Python literals, a small expression parser for formulas. Choose behaviour from a mapping
of allowed names to functions or modules (`HANDLERS[name]`) rather than importing or
evaluating a name from the request.
"""

_EVALUATORS = frozenset(
    {
        "builtins.eval",
        "builtins.exec",
        "builtins.compile",
        "builtins.__import__",
        "importlib.import_module",
        "importlib.__import__",
        "pandas.eval",
    }
)

_LASTS = lasts_of(_EVALUATORS)


class CodeInjection(TaintRule):
    meta = RuleMeta(
        code="BE606",
        name="code-injection",
        summary="Request data is evaluated as code or names a module to import",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=95,
        owasp="A03:2021-Injection",
        references=(
            "https://cwe.mitre.org/data/definitions/95.html",
            "https://owasp.org/www-community/attacks/Code_Injection",
            "https://docs.python.org/3/library/ast.html#ast.literal_eval",
        ),
    )
    triggers = ("eval", "exec", "compile", "__import__", "import_module")
    bad = (
        Example(
            """\
from flask import Flask, request

app = Flask(__name__)


@app.route("/calc")
def calc():
    expr = request.args["expr"]
    return str(eval(expr))  # expect: BE606
"""
        ),
        Example(
            """\
import importlib


def plugin(request):
    name = request.GET["plugin"]
    module = importlib.import_module("plugins." + name)  # expect: BE606
    code = request.POST["code"]
    exec(compile(code, "<input>", "exec"))  # expect: BE606
    return module.run()
"""
        ),
    )
    good = (
        Example(
            """\
import ast
import importlib
import json

from flask import abort, request

PLUGINS = {"csv", "xlsx"}


def calc():
    value = ast.literal_eval(request.args["value"])
    data = json.loads(request.data)
    name = request.args["plugin"]
    if name not in PLUGINS:
        abort(404)
    importlib.import_module("plugins." + name)
    eval("1 + 2")
    return str(eval(str(int(request.args["n"])) + " * 2")), value, data
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = call_names(self.ctx, node, _LASTS)
        if not names & _EVALUATORS:
            return
        code = argument(node, 0, "source", "name", "expr")
        if code is None:
            return
        kind = "imported" if "import" in next(iter(names)) else "evaluated as code"
        self.report_taint(
            code,
            Sink.CODE,
            f"is {kind}",
            help="parse data (`json.loads`, `ast.literal_eval`) or pick from an allow-list",
        )
