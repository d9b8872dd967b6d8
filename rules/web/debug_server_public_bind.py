"""BE617 debug-server-public-bind: a development server with debug or reload on all interfaces."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg, string_value
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.taint import imports_any
from be_lint.websettings import FLASK_MODULES, literal, run_host

RATIONALE = """\
Development servers trade safety for convenience. Flask's (Werkzeug's) debugger answers errors
with an interactive Python console; uvicorn's and hypercorn's `reload` watch and re-import the
code. Bound to `0.0.0.0` (or `::`), they are reachable from the whole network -- a shared
office or café network, a cloud VM with an open port, a container whose port is published --
and the debugger console is remote code execution behind a PIN that can be derived from
machine facts.

The rule reports the combination only: `app.run(host="0.0.0.0", debug=True)` (Flask, Quart,
Sanic) and `uvicorn.run(..., host="0.0.0.0", reload=True)`. Binding all interfaces without
debug (as containers need) is fine and not reported, and so is debug mode on `127.0.0.1`
(BE610 reports debug mode itself).
"""

HOW_TO_FIX = """\
Bind development servers to `127.0.0.1`, or switch debug/reload off when binding all
interfaces. In production, run a real server (gunicorn, uvicorn workers) without debug or
reload.
"""

_PUBLIC = frozenset({"0.0.0.0", "::", "[::]", "*"})
_UVICORN = frozenset({"uvicorn.run", "hypercorn.run", "uvicorn.main.run"})


class DebugServerPublicBind(PythonRule):
    meta = RuleMeta(
        code="BE617",
        name="debug-server-public-bind",
        summary="A debug or auto-reload server listens on all network interfaces",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=489,
        owasp="A05:2021-Security Misconfiguration",
        references=(
            "https://werkzeug.palletsprojects.com/en/stable/debug/#enabling-the-debugger",
            "https://www.uvicorn.org/settings/#development",
            "https://cwe.mitre.org/data/definitions/489.html",
        ),
    )
    triggers = ("0.0.0.0", "::")
    bad = (
        Example(
            """\
from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000, debug=True)  # expect: BE617
"""
        ),
        Example(
            """\
import uvicorn

if __name__ == "__main__":
    uvicorn.run("app.main:app", host="0.0.0.0", reload=True)  # expect: BE617
"""
        ),
    )
    good = (
        Example(
            """\
import uvicorn
from flask import Flask

app = Flask(__name__)
app.run(host="0.0.0.0", port=8000)
app.run(host="127.0.0.1", debug=True)
uvicorn.run("app.main:app", host="0.0.0.0", workers=4)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        names = self.ctx.qualified_names(func)
        if names & _UVICORN:
            flag = keyword_arg(node, "reload") or keyword_arg(node, "debug")
            host = keyword_arg(node, "host")
            host_value = string_value(host.value) if host is not None else None
        elif isinstance(func, cst.Attribute) and func.attr.value == "run":
            if not imports_any(self.ctx, FLASK_MODULES):
                return
            flag = keyword_arg(node, "debug") or keyword_arg(node, "use_reloader")
            host_value = run_host(node)
        else:
            return
        if flag is None or literal(flag.value) is not True or host_value not in _PUBLIC:
            return
        self.report(
            node,
            f"the development server listens on `{host_value}` with "
            f"`{flag.keyword.value if flag.keyword else 'debug'}=True`",
            help="bind to 127.0.0.1 or switch debug/reload off",
        )
