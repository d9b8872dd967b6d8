"""Value tracking (``be_lint.dataflow``): what a name holds where it is read, and its origin.

Each snippet reads the values under test through ``probe(...)`` calls; the helper returns the
probed expressions with the dataflow of their function.
"""

from __future__ import annotations

import time

import libcst as cst
import pytest
from marker_calls import MarkerCalls

from be_lint.context import FileContext
from be_lint.dataflow import Dataflow, Kind, Origin
from be_lint.names import ImportMap
from be_lint.rule import FileKind


def probes(
    code: str, package: str | None = "app.views"
) -> tuple[Dataflow, list[cst.BaseExpression]]:
    module = cst.parse_module(code)
    flow = Dataflow(module, ImportMap(module, package), package, code)
    visitor = MarkerCalls("probe")
    module.visit(visitor)
    for stack, _ in visitor.found:
        flow.enter([module, *stack])
    return flow, [expr for _, expr in visitor.found]


def origins(code: str, package: str | None = "app.views") -> list[Origin]:
    flow, exprs = probes(code, package)
    return [flow.origin(e) for e in exprs]


def texts(flow: Dataflow, expr: cst.BaseExpression) -> list[str]:
    assert isinstance(expr, cst.Name)
    return [flow.module.code_for_node(v) for v in flow.values_of(expr)]


# -- values ------------------------------------------------------------------------------------


def test_assignment_and_reassignment() -> None:
    flow, (first, second) = probes(
        "def f():\n    q = 'a'\n    probe(q)\n    q = 'b'\n    probe(q)\n"
    )
    assert texts(flow, first) == ["'a'"]
    assert texts(flow, second) == ["'b'"]


def test_augmented_assignment_in_branches_gives_every_shape() -> None:
    flow, (q,) = probes(
        "def f(a, b):\n"
        "    q = 'SELECT 1'\n"
        "    if a:\n"
        "        q += ' WHERE a'\n"
        "    else:\n"
        "        q += ' WHERE b'\n"
        "    q += ' LIMIT 1'\n"
        "    probe(q)\n"
    )
    assert sorted(texts(flow, q)) == [
        "'SELECT 1' + ' WHERE a' + ' LIMIT 1'",
        "'SELECT 1' + ' WHERE b' + ' LIMIT 1'",
    ]


def test_augmented_assignment_in_a_loop_reaches_a_fixed_point() -> None:
    flow, (q,) = probes(
        "def f(cols):\n    q = 'SELECT'\n    for c in cols:\n        q += ' ' + c\n    probe(q)\n"
    )
    # The loop may not run, or run: one shape each (more iterations add no new pieces).
    assert sorted(texts(flow, q)) == ["'SELECT'", "'SELECT' + ' ' + c"]
    assert flow.origin(q) is Origin.PARAMETER


def test_appended_list_is_followed_for_join() -> None:
    flow, (parts,) = probes(
        "def f(name):\n"
        "    parts = ['a = 1']\n"
        "    parts.append('b = 2')\n"
        "    if name:\n"
        "        parts.append(name)\n"
        "    probe(parts)\n"
    )
    assert sorted(texts(flow, parts)) == ["['a = 1', 'b = 2', name]", "['a = 1', 'b = 2']"]
    merged = flow.value_of(parts)  # a list of everything that may be in it
    assert isinstance(merged, cst.List)
    assert [flow.module.code_for_node(e.value) for e in merged.elements] == [
        "'a = 1'",
        "'b = 2'",
        "name",
    ]
    assert flow.items_origin(parts) is Origin.PARAMETER


def test_value_of_is_none_when_ambiguous_or_unknown() -> None:
    flow, (a, b) = probes(
        "def f(x, flag):\n    s = 'a' if flag else 'b'\n    if flag:\n        x = 'c'\n"
        "    probe(x)\n    probe(s)\n"
    )
    assert flow.value_of(a) is None  # a parameter or 'c'
    assert flow.value_of(b) is not None


def test_return_and_break_end_a_path() -> None:
    flow, (q, r) = probes(
        "def f(x):\n"
        "    q = 'safe'\n"
        "    if x:\n"
        "        q = x\n"
        "        return q\n"
        "    probe(q)\n"
        "    for i in x:\n"
        "        r = i\n"
        "        break\n"
        "    else:\n"
        "        r = 'none'\n"
        "    probe(r)\n"
    )
    assert texts(flow, q) == ["'safe'"]
    assert sorted(texts(flow, r)) == ["'none'", "i"]


def test_try_handlers_see_every_state_of_the_body() -> None:
    flow, (q,) = probes(
        "def f(x):\n"
        "    q = 'a'\n"
        "    try:\n"
        "        q = 'b'\n"
        "        q = x\n"
        "    except ValueError:\n"
        "        probe(q)\n"
    )
    assert sorted(texts(flow, q)) == ["'a'", "'b'", "x"]


def test_while_with_and_match() -> None:
    flow, exprs = probes(
        "def f(conn, cmd):\n"
        "    n = 0\n"
        "    while n < 3:\n"
        "        n += 1\n"
        "    probe(n)\n"
        "    with conn.cursor() as cur:\n"
        "        probe(cur)\n"
        "    match cmd:\n"
        "        case {'table': t}:\n"
        "            probe(t)\n"
    )
    n, cur, t = exprs
    assert flow.origin(n) is Origin.NUMERIC
    assert flow.origin(cur) is Origin.UNKNOWN
    assert flow.origin(t) is Origin.UNKNOWN


def test_long_chains_do_not_recurse_too_deep() -> None:
    lines = ["def f(x):", "    q = 'SELECT'"]
    lines += [f"    q += ' {i}'" for i in range(400)]
    lines += ["    q += x", "    probe(q)"]
    started = time.perf_counter()
    flow, (q,) = probes("\n".join(lines) + "\n")
    assert flow.origin(q) is Origin.PARAMETER
    assert len(flow.values_of(q)) == 1
    assert time.perf_counter() - started < 5


def test_names_read_inside_a_nested_function_and_module_constants() -> None:
    flow, exprs = probes(
        "TABLE = 'users'\n"
        "QUERY = 'SELECT * FROM ' + TABLE\n"
        "def outer(x):\n"
        "    prefix = 'SELECT'\n"
        "    def inner():\n"
        "        probe(prefix)\n"
        "        probe(QUERY)\n"
        "        probe(x)\n"
    )
    prefix, query, x = exprs
    assert texts(flow, prefix) == ["'SELECT'"]
    assert texts(flow, query) == ["'SELECT * FROM ' + TABLE"]
    assert flow.origin(query) is Origin.CONSTANT
    assert flow.origin(x) is Origin.PARAMETER


def test_global_rebinding_makes_a_module_name_unknown() -> None:
    assert origins(
        "TABLE = 'users'\ndef set_table(t):\n    global TABLE\n    TABLE = t\n"
        "def f():\n    probe(TABLE)\n"
    ) == [Origin.UNKNOWN]


def test_walrus_binds_in_the_function() -> None:
    flow, (email,) = probes(
        "def f(data):\n    if (email := data.get('email')) is not None:\n        probe(email)\n"
    )
    assert flow.origin(email) is Origin.PARAMETER


# -- origins ------------------------------------------------------------------------------------


def test_constants_numbers_and_unknowns() -> None:
    assert origins(
        "import random\n"
        "LIMIT = 10\n"
        "COLUMNS = ('id', 'name')\n"
        "def f(x, items, obj):\n"
        "    probe('literal')\n"
        "    probe(LIMIT)\n"
        "    probe(', '.join(COLUMNS))\n"
        "    probe(int(x))\n"
        "    probe(len(items) * 2)\n"
        "    probe(x - 1)\n"
        "    probe(random.randint(1, 9))\n"
        "    probe(f'{x:d}')\n"
        "    probe(obj.name)\n"
        "    probe(compute())\n"
        "    probe(x * 2)\n"
    ) == [
        Origin.CONSTANT,
        Origin.CONSTANT,
        Origin.CONSTANT,
        Origin.NUMERIC,
        Origin.NUMERIC,
        Origin.NUMERIC,
        Origin.NUMERIC,
        Origin.NUMERIC,
        Origin.PARAMETER,  # a field of an argument
        Origin.UNKNOWN,
        Origin.PARAMETER,  # ``"'" * 2`` is still text
    ]


def test_project_constants_imported_by_name() -> None:
    code = (
        "from .settings import QUERY, table_name\n"
        "from app.constants import TABLE\n"
        "from other.lib import SECRET\n"
        "from . import queries\n"
        "def f():\n"
        "    probe(QUERY)\n"
        "    probe(TABLE)\n"
        "    probe(table_name)\n"
        "    probe(SECRET)\n"
        "    probe(queries.BY_ID)\n"
    )
    assert origins(code) == [
        Origin.CONSTANT,
        Origin.CONSTANT,
        Origin.UNKNOWN,  # not UPPER_CASE
        Origin.UNKNOWN,  # another project
        Origin.CONSTANT,
    ]
    # Without a package only relative imports are known to be the project's.
    assert origins(code, package=None)[:2] == [Origin.CONSTANT, Origin.UNKNOWN]


@pytest.mark.parametrize(
    "code",
    [
        "from flask import request\ndef f():\n    probe(request.args.get('q'))\n",
        "from flask import request\ndef f():\n    probe(request.get_json()['q'])\n",
        "from flask import request as req\ndef f():\n    probe(req.form['q'])\n",
        "def view(request):\n    probe(request.GET['q'])\n",
        "def view(request):\n    q = request.POST.get('q', '')\n    probe(q.strip())\n",
        "def view(self, request):\n    probe(request.data['q'])\n",
        "def view(self, request):\n    probe(request.query_params.get('q'))\n",
        "class V:\n    def get(self):\n        probe(self.request.GET['q'])\n",
        "async def h(request):\n    body = await request.json()\n    probe(body['q'])\n",
        "@app.get('/items/{item_id}')\nasync def read(item_id: str):\n    probe(item_id)\n",
        "@bp.route('/u/<name>')\ndef show(name):\n    probe(name)\n",
        "def search(q: str = Query(None)):\n    probe(q)\n",
    ],
)
def test_http_request_data(code: str) -> None:
    assert origins(code) == [Origin.REQUEST]


def test_route_handler_dependencies_are_not_request_data() -> None:
    assert origins(
        "@app.get('/items')\n"
        "async def read(request: Request, db=Depends(get_db), limit: int = 10, q: str = ''):\n"
        "    probe(db)\n"
        "    probe(request)\n"
        "    probe(limit)\n"
        "    probe(q)\n"
        # ``limit: int`` is converted (or rejected with 422) by FastAPI: a number.
    ) == [Origin.UNKNOWN, Origin.UNKNOWN, Origin.NUMERIC, Origin.REQUEST]


def test_self_and_request_objects_are_not_parameters() -> None:
    assert origins(
        "class C:\n    def f(self, request):\n        probe(self.table)\n        probe(request.user.id)\n"
    ) == [Origin.UNKNOWN, Origin.UNKNOWN]


def test_comprehension_variables_follow_their_iterable() -> None:
    assert origins(
        "FIELDS = ('a', 'b')\n"
        "def f(data):\n"
        "    probe(', '.join(f'{k} = %s' for k in FIELDS))\n"
        "    probe(', '.join(f'{k} = %s' for k in data))\n"
        "    probe([k for k, v in {'a': 1}.items()])\n"
        "    probe(', '.join(f'{i}' for i, x in enumerate(data)))\n"
    ) == [Origin.CONSTANT, Origin.PARAMETER, Origin.CONSTANT, Origin.NUMERIC]


def test_loop_targets_from_dicts_and_enumerate() -> None:
    assert origins(
        "def f(filters):\n"
        "    for key, value in filters.items():\n"
        "        probe(key)\n"
        "    for i, row in enumerate(filters):\n"
        "        probe(i)\n"
        "        probe(row)\n"
        "    for k, v in {'a': 1}.items():\n"
        "        probe(k)\n"
    ) == [Origin.PARAMETER, Origin.NUMERIC, Origin.PARAMETER, Origin.CONSTANT]


def test_mutations_taint_containers() -> None:
    assert origins(
        "def f(x):\n"
        "    d = {}\n"
        "    d['k'] = x\n"
        "    probe(d)\n"
        "    s = set()\n"
        "    s.add('a')\n"
        "    probe(s)\n"
        "    lst = []\n"
        "    lst.extend(x)\n"
        "    probe(lst)\n"
    ) == [Origin.PARAMETER, Origin.CONSTANT, Origin.PARAMETER]


def test_cycles_between_names_in_a_loop() -> None:
    flow, (a, b) = probes(
        "def f(x, items):\n"
        "    a = ''\n"
        "    b = ''\n"
        "    for i in items:\n"
        "        a += b\n"
        "        b += x\n"
        "    probe(a)\n"
        "    probe(b)\n"
    )
    # ``x`` reaches ``a`` through ``b`` on a later iteration.
    assert flow.origin(a) is Origin.PARAMETER
    assert flow.origin(b) is Origin.PARAMETER
    # Memoised answers are the same when asked again, in any order.
    assert flow.origin(b) is Origin.PARAMETER and flow.origin(a) is Origin.PARAMETER


@pytest.mark.parametrize(
    ("guard", "expected"),
    [
        ("if x not in ('a', 'b'):\n        raise ValueError(x)", Origin.CONSTANT),
        ("if x not in ALLOWED:\n        x = 'a'", Origin.CONSTANT),
        # One of the items the caller passed in.
        ("if x not in allowed:\n        return", Origin.PARAMETER),
        ("if not x.isdigit():\n        raise ValueError(x)", Origin.NUMERIC),
        ("if not re.fullmatch(r'[a-z_]+', x):\n        raise ValueError(x)", Origin.CONSTANT),
        ("if not re.match(r'[a-z_]+', x):\n        raise ValueError(x)", Origin.REQUEST),
        ("if x in ('a', 'b'):\n        pass", Origin.REQUEST),
    ],
)
def test_guards_narrow_what_a_value_can_be(guard: str, expected: Origin) -> None:
    code = (
        "import re\n"
        "from flask import request\n"
        "ALLOWED = {'a', 'b'}\n"
        "def f(allowed):\n"
        "    x = request.args['x']\n"
        f"    {guard}\n"
        "    probe(x)\n"
    )
    assert origins(code) == [expected]


def test_truthiness_guard_empty_branch_is_harmless() -> None:
    assert origins(
        "from flask import request\n"
        "def f():\n"
        "    s = request.args.get('s')\n"
        "    if s:\n"
        "        if s not in ('a', 'b'):\n"
        "            raise ValueError(s)\n"
        "    probe(s)\n"
    ) == [Origin.CONSTANT]


def test_trace_names_the_source() -> None:
    flow, (q,) = probes(
        "def find(cursor, filters):\n"
        "    q = ''\n"
        "    for k in filters:\n"
        "        q += k\n"
        "    probe(q)\n"
    )
    trace = flow.trace(q)
    assert trace.origin is Origin.PARAMETER
    assert isinstance(trace.witness, cst.Name) and trace.witness.value == "filters"
    assert trace.function == "find"


def test_classifier_decides_first() -> None:
    flow, (q,) = probes("def f(x):\n    t = quote(x)\n    probe(t)\n")

    def classify(expr: cst.BaseExpression) -> Origin | None:
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
            return Origin.CONSTANT if expr.func.value == "quote" else None
        return None

    assert flow.origin(q) is Origin.UNKNOWN
    assert flow.origin(q, classify) is Origin.CONSTANT


def test_definitions_expose_kinds() -> None:
    flow, (x, y) = probes(
        "def f(a):\n    x = a\n    for y in a:\n        probe(x)\n        probe(y)\n"
    )
    assert [d.kind for d in flow.definitions(x)] == [Kind.ASSIGN]
    assert [d.kind for d in flow.definitions(y)] == [Kind.LOOP]


# -- the FileContext accessor ---------------------------------------------------------------------


def test_context_computes_scopes_lazily() -> None:
    code = "def a():\n    x = 1\n\ndef b():\n    y = 'SELECT ' + q\n    return y\n"
    module = cst.parse_module(code)
    ctx = FileContext(
        path="m.py", kind=FileKind.PYTHON, text=code, module=module, dialect="postgres"
    )
    function = module.body[1]
    assert isinstance(function, cst.FunctionDef)
    ctx.ancestors = [module, function]
    flow = ctx.dataflow
    assert flow is ctx.dataflow  # one per file
    assert set(flow._scopes) == {id(function)}  # only the function being visited
    statement = function.body.body[1]
    assert isinstance(statement, cst.SimpleStatementLine)
    ret = statement.body[0]
    assert isinstance(ret, cst.Return) and isinstance(ret.value, cst.Name)
    value = ctx.value_of(ret.value)
    assert value is not None and module.code_for_node(value) == "'SELECT ' + q"


def test_sql_source_follows_names_through_the_resolver() -> None:
    code = (
        "def f(cursor, name):\n"
        "    conditions = ['active']\n"
        "    if name:\n"
        "        conditions.append(f\"name = '{name}'\")\n"
        "    where = ' AND '.join(conditions)\n"
        "    sql = 'SELECT * FROM users WHERE ' + where\n"
        "    cursor.execute(sql)\n"
    )
    module = cst.parse_module(code)
    ctx = FileContext(
        path="m.py", kind=FileKind.PYTHON, text=code, module=module, dialect="postgres"
    )
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    ctx.ancestors = [module, function]
    last = function.body.body[-1]
    assert isinstance(last, cst.SimpleStatementLine)
    call = last.body[0]
    assert isinstance(call, cst.Expr) and isinstance(call.value, cst.Call)
    source = ctx.sql_source(call.value.args[0].value)
    assert source is not None
    assert source.text == "SELECT * FROM users WHERE active AND name = '__be_hole_1__'"
    hole = source.holes[0].expr
    assert isinstance(hole, cst.Name) and hole.value == "name"
