"""Taint tracking (``be_lint.taint`` over ``be_lint.dataflow``): multi-statement flows.

Each snippet marks the value under test with ``sink(...)``; the helper asks whether request data
reaches it unsanitised for a given kind of sink.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from marker_calls import MarkerCalls

from be_lint.context import FileContext
from be_lint.rule import FileKind
from be_lint.taint import Sink, taint_of


def tainted(code: str, sink: Sink = Sink.SHELL) -> list[bool]:
    """For each ``sink(x)`` in ``code``: does request data reach ``x``?"""
    code = textwrap.dedent(code)
    module = cst.parse_module(code)
    ctx = FileContext(
        path="app/views.py",
        kind=FileKind.PYTHON,
        text=code,
        module=module,
        dialect="postgres",
        package="app",
    )
    visitor = MarkerCalls("sink")
    module.visit(visitor)
    out = []
    for stack, expr in visitor.found:
        ctx.ancestors = [module, *stack]
        out.append(taint_of(ctx, expr, sink).tainted)
    assert out, "the snippet has no sink(...)"
    return out


# -- sources -----------------------------------------------------------------------------------

FLASK = "from flask import request\n\n\ndef view():\n"


@pytest.mark.parametrize(
    "read",
    [
        "request.args['q']",
        "request.args.get('q', '')",
        "request.form['q']",
        "request.json['q']",
        "request.values.get('q')",
        "request.data",
        "request.files['f'].filename",
        "request.headers.get('X-Thing')",
        "request.cookies['c']",
        "request.get_json()['q']",
        "request.get_data(as_text=True)",
    ],
)
def test_flask_sources(read: str) -> None:
    assert tainted(FLASK + f"    sink({read})\n") == [True]


@pytest.mark.parametrize(
    "read",
    [
        "request.GET['q']",
        "request.POST.get('q')",
        "request.body",
        "request.FILES['f'].name",
        "request.headers['X-Thing']",
        "request.COOKIES.get('c')",
        "request.META['HTTP_X_THING']",
        "request.data['q']",
        "request.query_params.get('q')",
    ],
)
def test_django_and_drf_sources(read: str) -> None:
    assert tainted(f"def view(request):\n    sink({read})\n") == [True]


def test_class_based_view_request() -> None:
    assert tainted(
        """
        class Search(View):
            def get(self, request):
                q = self.request.GET.get("q")
                sink(q)
                sink(request.POST["x"])
        """
    ) == [True, True]


def test_fastapi_parameters_by_type() -> None:
    code = """
    import enum
    from typing import Literal, Optional
    from uuid import UUID

    from fastapi import FastAPI, Query, Request

    app = FastAPI()


    class Color(str, enum.Enum):
        red = "red"


    @app.get("/items/{item_id}")
    async def read(
        item_id: int,
        name: str,
        token: UUID,
        flag: bool,
        color: Color,
        kind: Literal["a", "b"],
        limit: Optional[int] = None,
        q: Optional[str] = Query(None),
        raw=None,
    ):
        sink(item_id)
        sink(name)
        sink(token)
        sink(flag)
        sink(color)
        sink(kind)
        sink(limit)
        sink(q)
        sink(raw)
    """
    assert tainted(code) == [False, True, False, False, False, False, False, True, True]


def test_starlette_and_fastapi_request_object() -> None:
    code = """
    from fastapi import FastAPI, Request

    app = FastAPI()


    @app.post("/hook")
    async def hook(request: Request):
        body = await request.json()
        form = await request.form()
        raw = await request.body()
        sink(body["url"])
        sink(form.get("name"))
        sink(raw)
        sink(request.query_params["q"])
        sink(request.path_params["id"])
        sink(request.app.state.base_url)
    """
    assert tainted(code) == [True, True, True, True, True, False]


def test_aiohttp_sources() -> None:
    code = """
    from aiohttp import web


    async def handler(request):
        name = request.match_info["name"]
        sink(name)
        sink(request.query.get("q"))
        data = await request.post()
        sink(data["field"])
        payload = await request.json()
        sink(payload)
    """
    assert tainted(code) == [True, True, True, True]


def test_flask_route_converters() -> None:
    code = """
    from flask import Flask

    app = Flask(__name__)


    @app.route("/u/<int:uid>/<name>/<path:rest>")
    def show(uid, name, rest):
        sink(uid)
        sink(name)
        sink(rest)
    """
    assert tainted(code) == [False, True, True]


def test_parameters_of_plain_functions_are_not_request_data() -> None:
    code = """
    def helper(path, request):
        sink(path)
        sink(request.user.email)
    """
    assert tainted(code) == [False, False]


# -- propagation ---------------------------------------------------------------------------------


def test_multi_statement_flows() -> None:
    code = """
    from flask import request


    def view():
        q = request.args.get("q", "")
        a = q
        b = f"grep {a} /var/log"
        c = "ls " + a
        d = "cat %s" % a
        e = "x {}".format(a)
        parts = ["echo"]
        parts.append(a)
        cmd = " ".join(parts)
        s = a.strip().lower().replace("x", "y")
        first, second = a.split(",", 1)
        options = {"name": a}
        name = options["name"]
        picked = options.get("name")
        items = [a, "b"]
        t = (a,)
        sink(b)
        sink(c)
        sink(d)
        sink(e)
        sink(cmd)
        sink(s)
        sink(first)
        sink(name)
        sink(picked)
        sink(items)
        sink(t)
    """
    assert tainted(code) == [True] * 11


def test_augmented_assignment_branches_and_loops() -> None:
    code = """
    from flask import request


    def view(flag):
        cmd = "ls"
        if flag:
            cmd += " " + request.args["dir"]
        sink(cmd)
        out = ""
        for word in request.args.getlist("w"):
            out += word
        sink(out)
        total = "echo"
        for i in range(3):
            total = total + " x"
        sink(total)
        n = 0
        while n < 3:
            label = request.form["label"]
            n += 1
        sink(label)
    """
    assert tainted(code) == [True, True, False, True]


def test_try_except_and_comprehensions() -> None:
    code = """
    from flask import request


    def view():
        try:
            value = request.args["v"]
        except KeyError:
            value = "default"
        sink(value)
        names = [n.strip() for n in request.args["names"].split(",")]
        sink(names)
        lengths = [len(n) for n in names]
        sink(lengths)
        if (m := request.args.get("m")) is not None:
            sink(m)
    """
    assert tainted(code) == [True, True, False, True]


def test_reassignment_ends_taint() -> None:
    code = """
    from flask import request


    def view():
        q = request.args["q"]
        q = "constant"
        sink(q)
    """
    assert tainted(code) == [False]


def test_attribute_of_request_derived_object() -> None:
    code = """
    def upload(request):
        f = request.FILES["doc"]
        sink(f.name)
        sink(f)
    """
    assert tainted(code, Sink.PATH) == [True, False]
    assert tainted(code, Sink.SHELL) == [True, True]


# -- sanitisers ----------------------------------------------------------------------------------


def test_conversions_sanitise_everywhere() -> None:
    code = """
    import uuid

    from flask import request


    def view():
        n = int(request.args["n"])
        f = float(request.args["f"])
        b = bool(request.args.get("b"))
        u = uuid.UUID(request.args["id"])
        sink(f"seq {n}")
        sink(f)
        sink(b)
        sink(str(u))
        sink(f"{request.args['w']:d}")
    """
    for sink in Sink:
        assert tainted(code, sink) == [False] * 5


@pytest.mark.parametrize(
    ("guard", "expected"),
    [
        ("if x not in ALLOWED:\n        abort(400)", False),
        ("if x not in ALLOWED:\n        raise ValueError(x)", False),
        ("if x not in ALLOWED:\n        return None", False),
        ("if x not in ('a', 'b'):\n        x = 'a'", False),
        ("if not re.fullmatch(r'[a-z0-9_]+', x):\n        abort(400)", False),
        ("if not x.isdigit():\n        abort(400)", False),
        ("if x not in ALLOWED:\n        log(x)", True),
        ("if not re.match(r'.*', x):\n        abort(400)", True),
        ("if x in ALLOWED or y:\n        pass", True),
    ],
)
def test_guards(guard: str, expected: bool) -> None:
    code = (
        "import re\n"
        "from flask import abort, request\n"
        "ALLOWED = {'a', 'b'}\n"
        "def view(y):\n"
        "    x = request.args['x']\n"
        f"    {guard}\n"
        "    sink(x)\n"
    )
    assert tainted(code) == [expected]


def test_allow_list_inside_the_branch() -> None:
    code = """
    from flask import request

    ALLOWED = {"a", "b"}


    def view():
        x = request.args["x"]
        if x in ALLOWED:
            sink(x)
        sink(x)
    """
    assert tainted(code) == [False, True]


def test_sink_specific_sanitisers() -> None:
    code = """
    import html
    import os
    import shlex

    from markupsafe import escape
    from werkzeug.utils import secure_filename
    from flask import request


    def view():
        name = request.args["name"]
        sink(shlex.quote(name))
        sink(secure_filename(name))
        sink(os.path.basename(name))
        sink(escape(name))
        sink(html.escape(name))
    """
    assert tainted(code, Sink.SHELL) == [False, True, True, True, True]
    assert tainted(code, Sink.PATH) == [True, False, False, True, True]
    assert tainted(code, Sink.HTML) == [True, True, True, False, False]


def test_path_propagators() -> None:
    code = """
    import os
    from pathlib import Path

    from flask import request

    ROOT = Path("/srv")


    def view():
        name = request.args["name"]
        sink(os.path.join("/srv", name))
        sink(ROOT / name)
        sink(Path("/srv", name).resolve())
        sink(os.path.join("/srv", "fixed"))
    """
    assert tainted(code, Sink.PATH) == [True, True, True, False]


def test_pydantic_validation_and_redirect_checks() -> None:
    code = """
    from django.utils.http import url_has_allowed_host_and_scheme
    from flask import request, url_for


    def view():
        data = request.get_json()
        item = Item.model_validate(data)
        sink(item)
        nxt = request.args.get("next", "/")
        if not url_has_allowed_host_and_scheme(nxt, allowed_hosts=None):
            nxt = "/"
        sink(nxt)
        sink(url_for("page", name=request.args["n"]))
        sink(request.path)
        sink(request.args["to"])
    """
    assert tainted(code, Sink.REDIRECT) == [False, False, False, False, True]


# -- constant folding and dead branches ---------------------------------------------------------


def test_benchmark_style_constant_branches() -> None:
    code = """
    from flask import request


    def safe_branch():
        param = request.args["p"]
        num = 86
        if (7 * 42) - num > 200:
            bar = "This_should_always_happen"
        else:
            bar = param
        sink(bar)


    def tainted_branch():
        param = request.args["p"]
        num = 106
        if (7 * 42) - num > 200:
            bar = "This should never happen"
        else:
            bar = param
        sink(bar)


    def switch():
        param = request.args["p"]
        guess = "ABC"
        target = guess[1]
        if target == "A":
            bar = param
        elif target == "B":
            bar = "bob"
        else:
            bar = param
        sink(bar)


    def ternary():
        param = request.args["p"]
        bar = param if 7 * 18 < 106 else "safe"
        sink(bar)
        bar2 = "safe" if 7 * 18 > 106 else param
        sink(bar2)


    def dead():
        param = request.args["p"]
        bar = param
        if "a" != "a":
            bar = "x"
        sink(bar)
        if False:
            bar = "y"
        sink(bar)
        if True:
            bar = "z"
        sink(bar)
    """
    assert tainted(code) == [False, True, False, False, False, True, True, False]


def test_constant_key_selection() -> None:
    code = """
    from flask import request


    def view():
        param = request.args["p"]
        d = {"keyA": "a_Value", "keyB": param}
        sink(d["keyA"])
        sink(d["keyB"])
        sink(d.get("keyA"))
        m = {}
        m["keyA-1"] = "a-Value"
        m["keyB-1"] = param
        sink(m["keyA-1"])
        sink(m["keyB-1"])
        values = []
        values.append("safe")
        values.append(param)
        values.append("moresafe")
        sink(values[0])
        sink(values[1])
        sink(values[-1])
        pair = ("safe", param)
        sink(pair[0])
    """
    assert tainted(code) == [False, True, False, False, True, False, True, False, False]


def test_untracked_container_changes_keep_taint() -> None:
    code = """
    from flask import request


    def view():
        param = request.args["p"]
        values = ["safe", param, "moresafe"]
        values.pop(0)
        sink(values[0])
        key = request.args["k"]
        d = {"a": "safe", "b": param}
        sink(d[key])
    """
    assert tainted(code) == [True, True]
