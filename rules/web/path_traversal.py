"""BE603 path-traversal: request data chooses a file the server reads, writes or sends."""

from __future__ import annotations

import libcst as cst

from be_lint.rule import Confidence, Example, RuleMeta, Severity
from be_lint.taint import Sink, TaintRule, argument, call_names, lasts_of

RATIONALE = """\
A file name from the request can climb out of the folder it was meant for: `../../etc/passwd`,
an absolute path (`os.path.join("/srv/uploads", "/etc/passwd")` returns the second one), or on
Windows a drive letter. Reading such a path leaks configuration and keys; writing or deleting
one replaces code or destroys data.

The rule follows request data through the handler -- including `os.path.join`,
`pathlib.Path`, `base / name`, `Path(...).resolve()`, `urljoin`, `unquote` -- into:

- opening files: `open`, `io.open`, `os.open`, `codecs.open`, `aiofiles.open`, and
  `Path(...).open()`, `read_text()`, `read_bytes()`, `write_text()`, `write_bytes()`;
- changing the file system: `os.remove`/`unlink`/`rmdir`/`rename`/`makedirs`, `shutil`
  (`rmtree`, `copy*`, `move`);
- sending files: Flask `send_file`, Starlette/FastAPI `FileResponse`, Django `FileResponse`
  of a path.

`send_from_directory` (Flask) checks that the name stays inside the folder and is not reported.
`secure_filename`, `os.path.basename`, `get_valid_filename` and `slugify` sanitise a name;
allow-list checks, anchored `re.fullmatch` guards and `int()`/`uuid.UUID()` conversions end the
taint as well.
Data passed to a function of the same file is followed into it (two calls deep).
"""

HOW_TO_FIX = """\
Do not build paths from client text. Look the file up by an id in the database, or clean the
name (`werkzeug.utils.secure_filename`, `os.path.basename`) and join it to a fixed folder; then
resolve the result and check it is still inside that folder (`Path(root, name).resolve()
.is_relative_to(root)`). Flask's `send_from_directory` does this for you.
"""

_OPENERS = frozenset(
    {
        "builtins.open",
        "io.open",
        "os.open",
        "codecs.open",
        "aiofiles.open",
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "os.removedirs",
        "os.rename",
        "os.replace",
        "os.makedirs",
        "os.mkdir",
        "os.listdir",
        "os.scandir",
        "os.truncate",
        "shutil.rmtree",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "flask.send_file",
        "flask.helpers.send_file",
        "starlette.responses.FileResponse",
        "fastapi.responses.FileResponse",
        "django.http.FileResponse",
        "aiohttp.web.FileResponse",
    }
)
_PATH_METHODS = frozenset(
    {
        "open",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "unlink",
        "rmdir",
        "mkdir",
        "touch",
        "iterdir",
        "rename",
        "replace",
    }
)
_PATH_TYPES = ("pathlib.",)

_LASTS = lasts_of(_OPENERS)


class PathTraversal(TaintRule):
    meta = RuleMeta(
        code="BE603",
        name="path-traversal",
        summary="Request data chooses a file path the server opens, changes or sends",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=22,
        owasp="A01:2021-Broken Access Control",
        references=(
            "https://owasp.org/www-community/attacks/Path_Traversal",
            "https://cwe.mitre.org/data/definitions/22.html",
            "https://flask.palletsprojects.com/en/stable/api/#flask.send_from_directory",
        ),
    )
    triggers = ("open", "send_file", "FileResponse", "os.", "shutil", "Path", "read_", "write_")
    bad = (
        Example(
            """\
import os

from flask import Flask, request, send_file

app = Flask(__name__)
UPLOADS = "/srv/uploads"


@app.route("/download")
def download():
    name = request.args["name"]
    path = os.path.join(UPLOADS, name)
    return send_file(path)  # expect: BE603
"""
        ),
        Example(
            """\
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

app = FastAPI()
ROOT = Path("/srv/reports")


@app.get("/reports/{name}")
def report(name: str):
    text = (ROOT / name).read_text()  # expect: BE603
    return FileResponse(ROOT / name)  # expect: BE603
"""
        ),
        Example(
            """\
def save(request):
    upload = request.FILES["file"]
    with open("/srv/media/" + upload.name, "wb") as out:  # expect: BE603
        out.write(upload.read())
"""
        ),
    )
    good = (
        Example(
            """\
import os

from flask import request, send_from_directory
from werkzeug.utils import secure_filename

UPLOADS = "/srv/uploads"


def download():
    name = request.args["name"]
    send_from_directory(UPLOADS, name)
    safe = secure_filename(name)
    with open(os.path.join(UPLOADS, safe)) as f:
        data = f.read()
    with open(os.path.join(UPLOADS, os.path.basename(name))) as f:
        data += f.read()
    return data
"""
        ),
        Example(
            """\
from flask import abort, request

REPORTS = {"daily.csv", "weekly.csv"}


def report():
    name = request.args["name"]
    if name not in REPORTS:
        abort(404)
    with open("/srv/reports/" + name) as f:
        return f.read()
"""
        ),
        Example(
            """\
def export(request, path):
    # ``path`` of a plain helper: not request data.
    with open(path) as f:
        return f.read()


def page(request):
    choices = {"a": "/srv/a.txt", "b": request.GET["f"]}
    with open(choices["a"]) as f:
        return f.read()
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = call_names(self.ctx, node, _LASTS)
        path: cst.BaseExpression | None = None
        if names & _OPENERS:
            path = argument(node, 0, "file", "path", "path_or_file", "name")
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in _PATH_METHODS:
            receiver = node.func.value
            if not self._is_path(receiver):
                return
            path = receiver
        if path is None:
            return
        self.report_taint(
            path,
            Sink.PATH,
            "chooses a file path",
            help="clean the name (`secure_filename`, `os.path.basename`) and check the "
            "resolved path stays inside the intended folder",
        )

    def _is_path(self, expr: cst.BaseExpression) -> bool:
        """``Path(...)``, ``ROOT / name`` with ``ROOT`` a path, or a name holding one."""
        for _ in range(4):
            if isinstance(expr, cst.Call):
                return any(n.startswith(_PATH_TYPES) for n in call_names(self.ctx, expr))
            if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
                expr = expr.left
                continue
            if isinstance(expr, cst.Name):
                held = self.ctx.value_of(expr)
                if held is None:
                    return False
                expr = held
                continue
            return False
        return False
