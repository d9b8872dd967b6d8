"""BE607 unsafe-deserialization: pickle-like formats that run code while loading."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.frameworks import descendants, keyword_arg
from be_lint.names import dotted_name
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.taint import Sink, argument, call_names, describe, lasts_of, may_have_sources, taint_of
from be_lint.websettings import TEST_GLOBS, is_dev_path, skip_file

RATIONALE = """\
`pickle` and the formats built on it (`marshal`, `shelve`, `dill`, `cloudpickle`, `joblib`,
`jsonpickle`, `pandas.read_pickle`, `torch.load` without `weights_only=True`,
`numpy.load(allow_pickle=True)`) reconstruct objects by calling functions named in the data.
Whoever can write the bytes can make loading run any command. PyYAML's `yaml.load` with the
default or `UnsafeLoader`/`Loader` does the same through `!!python/object` tags.

Data is untrusted by default -- it crossed a network, a cache, a queue or a file someone else
could write -- so every such call is reported: as a warning normally, as an error when the
bytes come from the request in the same function (`pickle.loads(request.body)`).

Quiet: loading what the same function just serialised (`pickle.loads(pickle.dumps(x))`, a
round trip), loading after the same function checked a MAC with `hmac.compare_digest`
(signed cache entries), test files (configurable with `test-paths`), `yaml.safe_load`,
`yaml.load(..., Loader=yaml.SafeLoader)` (or `CSafeLoader`, `BaseLoader`, also through a
variable or `getattr(yaml, "CSafeLoader", yaml.SafeLoader)`), `torch.load(...,
weights_only=True)`, `numpy.load` without `allow_pickle`, `pickle.dumps`/`dump` (writing is
harmless), and `marshal`/`pickle` of a constant.
"""

HOW_TO_FIX = """\
Use a data-only format: JSON, MessagePack, Protocol Buffers, `yaml.safe_load`. When pickle is
unavoidable between trusted components, sign the bytes with `hmac` and verify the signature
with `hmac.compare_digest` before loading. For model weights, use `weights_only=True` or
`safetensors`.
"""

_ALWAYS = frozenset(
    {
        "pickle.loads",
        "pickle.load",
        "pickle.Unpickler",
        "_pickle.loads",
        "_pickle.load",
        "cPickle.loads",
        "cPickle.load",
        "marshal.loads",
        "marshal.load",
        "dill.loads",
        "dill.load",
        "cloudpickle.loads",
        "cloudpickle.load",
        "jsonpickle.decode",
        "jsonpickle.unpickler.decode",
        "joblib.load",
        "pandas.read_pickle",
        "shelve.open",
        "yaml.unsafe_load",
        "yaml.unsafe_load_all",
        "ruamel.yaml.load",
    }
)
_YAML_LOAD = frozenset({"yaml.load", "yaml.load_all"})
_COMPARE_DIGEST = frozenset({"hmac.compare_digest", "secrets.compare_digest"})
_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})

_LASTS = lasts_of(_ALWAYS, _YAML_LOAD, {"torch.load", "numpy.load"})


@dataclass(frozen=True)
class Options:
    test_paths: tuple[str, ...] = option(
        TEST_GLOBS, "Path globs of test files, where round trips through pickle are expected."
    )


class UnsafeDeserialization(PythonRule):
    meta = RuleMeta(
        code="BE607",
        name="unsafe-deserialization",
        summary="Loading a format that can run code (pickle, marshal, unsafe YAML, ...)",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        cwe=502,
        owasp="A08:2021-Software and Data Integrity Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/502.html",
            "https://docs.python.org/3/library/pickle.html#restricting-globals",
            "https://cheatsheetseries.owasp.org/cheatsheets/Deserialization_Cheat_Sheet.html",
            "https://pyyaml.org/wiki/PyYAMLDocumentation",
        ),
    )
    options_class = Options
    triggers = (
        "pickle",
        "marshal",
        "yaml",
        "dill",
        "shelve",
        "joblib",
        "torch",
        "allow_pickle",
        "read_pickle",
    )
    bad = (
        Example(
            """\
import hashlib
import hmac
import pickle


def read_entry(key: bytes, blob: bytes):
    mac, payload = blob[:32], blob[32:]
    value = pickle.loads(payload)  # expect: BE607
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        return None
    return value
"""
        ),
        Example(
            """\
import pickle

import yaml


def load_state(blob: bytes, text: str):
    state = pickle.loads(blob)  # expect: BE607
    config = yaml.load(text)  # expect: BE607
    other = yaml.load(text, Loader=yaml.Loader)  # expect: BE607
    loader = getattr(yaml, "CLoader", yaml.Loader)
    full = yaml.load(text, Loader=loader)  # expect: BE607
    return state, config, other, full
"""
        ),
        Example(
            """\
import pickle

from flask import Flask, request

app = Flask(__name__)


@app.route("/restore", methods=["POST"])
def restore():
    obj = pickle.loads(request.get_data())  # expect: BE607
    return str(obj)
"""
        ),
        Example(
            """\
import jsonpickle
import numpy as np
import torch


def restore(raw, path):
    obj = jsonpickle.decode(raw)  # expect: BE607
    weights = torch.load(path)  # expect: BE607
    arr = np.load(path, allow_pickle=True)  # expect: BE607
    return obj, weights, arr
"""
        ),
    )
    good = (
        Example(
            """\
import hashlib
import hmac
import pickle


def read_entry(key: bytes, blob: bytes):
    mac, payload = blob[:32], blob[32:]
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        return None
    return pickle.loads(payload)
"""
        ),
        Example(
            """\
import json
import pickle

import numpy as np
import torch
import yaml
from yaml import CSafeLoader as FastSafe


class StrictLoader(yaml.SafeLoader):
    pass


def load(text, path, obj):
    yaml.safe_load(text)
    yaml.load(text, Loader=yaml.SafeLoader)
    yaml.load(text, yaml.CSafeLoader)
    yaml.load(text, Loader=FastSafe)
    yaml.load(text, Loader=StrictLoader)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    yaml.load(text, Loader=loader)
    fast = yaml.CSafeLoader
    yaml.load(text, fast)
    json.loads(text)
    pickle.loads(pickle.dumps(obj))
    torch.load(path, weights_only=True)
    np.load(path)
    return pickle.dumps(obj)
"""
        ),
    )

    def _round_trip(self, data: cst.BaseExpression) -> bool:
        """``pickle.loads(pickle.dumps(x))``, or a name holding what ``dumps`` returned."""
        if isinstance(data, cst.Name):
            held = self.ctx.value_of(data)
            if held is None:
                return False
            data = held
        if isinstance(data, cst.Call):
            last = (dotted_name(data.func) or "").rsplit(".", 1)[-1]
            return last in ("dumps", "dump", "encode")
        return False

    def _safe_loader(self, loader: cst.BaseExpression) -> bool:
        """``SafeLoader``, ``yaml.CSafeLoader``, an alias of one (``from yaml import CSafeLoader
        as Loader``), or a class of this file derived from one."""
        if isinstance(loader, cst.Name):
            held = self.ctx.value_of(loader)  # loader = yaml.CSafeLoader; yaml.load(t, loader)
            if held is not None and held is not loader and self._safe_loader(held):
                return True
        if isinstance(loader, cst.Call) and dotted_name(loader.func) == "getattr":
            # getattr(yaml, "CSafeLoader", yaml.SafeLoader): the C loader when built in
            parts = [a.value for a in loader.args]
            if len(parts) == 3 and not any(a.keyword for a in loader.args):
                wanted = parts[1]
                return (
                    isinstance(wanted, cst.SimpleString)
                    and wanted.evaluated_value in _SAFE_LOADERS
                    and self._safe_loader(parts[2])
                )
        names = {(dotted_name(loader) or "").rsplit(".", 1)[-1]}
        names |= {n.rsplit(".", 1)[-1] for n in self.ctx.qualified_names(loader)}
        if names & _SAFE_LOADERS:
            return True
        module = self.ctx.module
        if isinstance(loader, cst.Name) and module is not None:
            for statement in module.body:
                if isinstance(statement, cst.ClassDef) and statement.name.value == loader.value:
                    return any(
                        (dotted_name(b.value) or "").rsplit(".", 1)[-1] in _SAFE_LOADERS
                        for b in statement.bases
                    )
        return False

    def _verified_first(self, node: cst.Call) -> bool:
        """The function checks a MAC with ``compare_digest`` before this call (signed cache
        entries, signed cookies): the data is as trusted as the key."""
        if "compare_digest" not in self.ctx.text:
            return False
        function = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(function, cst.FunctionDef):
            return False
        for inner in descendants(function.body):  # in source order
            if inner is node:
                return False
            if isinstance(inner, cst.Call) and self.ctx.matches(inner.func, _COMPARE_DIGEST):
                return True
        return False

    @classmethod
    def skips_path(cls, path: str, options: Options) -> bool:
        return is_dev_path(path, options.test_paths)

    def visit_Module(self, node: cst.Module) -> object:
        return skip_file(self.ctx.path, self.options.test_paths)

    def visit_Call(self, node: cst.Call) -> None:
        names = call_names(self.ctx, node, _LASTS)
        if not names:
            return
        what = ""
        if names & _ALWAYS:
            what = sorted(names & _ALWAYS)[0]
        elif names & _YAML_LOAD:
            loader = argument(node, 1, "Loader")
            if loader is not None and self._safe_loader(loader):
                return
            what = "yaml.load without a safe loader"
        elif "torch.load" in names:
            weights_only = keyword_arg(node, "weights_only")
            if weights_only is not None and not (
                isinstance(weights_only.value, cst.Name) and weights_only.value.value == "False"
            ):
                return
            what = "torch.load without weights_only=True"
        elif "numpy.load" in names:
            allow = keyword_arg(node, "allow_pickle")
            if allow is None or (
                isinstance(allow.value, cst.Name) and allow.value.value in ("False", "None")
            ):
                return
            what = "numpy.load with allow_pickle=True"
        else:
            return
        data = argument(node, 0, "data", "file", "stream", "s")
        if (
            data is not None
            and isinstance(data, cst.SimpleString | cst.ConcatenatedString)
            and not what.startswith(("shelve", "joblib", "pandas", "torch", "numpy"))
        ):
            return  # a literal payload written in the code
        if data is not None and self._round_trip(data):
            return
        if self._verified_first(node):
            return
        if data is not None and may_have_sources(self.ctx.text):
            taint = taint_of(self.ctx, data, Sink.CODE)
            if taint.tainted:
                self.report(
                    node,
                    f"{what} on request data from {describe(self.ctx, taint)}: the client "
                    "chooses code to run",
                    severity=Severity.ERROR,
                    help="accept JSON (or another data-only format) from clients",
                )
                return
        self.report(
            node,
            f"{what} can run code embedded in the data; make sure it can only come from a "
            "trusted source",
            help="use a data-only format (JSON, `yaml.safe_load`) or verify an HMAC first",
        )
