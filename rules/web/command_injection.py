"""BE601 command-injection: request data reaches a shell command or the program to run."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.rule import Confidence, Example, RuleMeta, Severity
from be_lint.taint import Sink, TaintRule, argument, call_names, lasts_of

RATIONALE = """\
A command line handed to a shell is a small program: `;`, `&&`, `|`, `$(...)` and backticks
in it run more commands. When part of it comes from the request -- a file name, a host to
ping, an image size -- the client chooses what runs on the server, with the server's
permissions and network access.

The rule follows request data (Flask, Django, DRF, FastAPI/Starlette, aiohttp request objects
and route parameters) through the handler -- assignments, f-strings, `%`/`format`/`+`,
containers, loops, branches -- into:

- commands run by a shell: `os.system`, `os.popen`, `subprocess.getoutput`/`getstatusoutput`,
  the `commands` module, `asyncio.create_subprocess_shell`, and any `subprocess` call
  (`run`, `call`, `check_call`, `check_output`, `Popen`) with `shell=True`;
- the program itself: the first item of an argument list, a string command without a shell,
  `os.exec*`/`os.spawn*`, `asyncio.create_subprocess_exec`;
- remote commands: paramiko's `exec_command`.

Arguments passed as separate list items to a program chosen by the code (`["convert", name,
"out.png"]`, no shell) are not reported: no shell parses them. Values passed through
`shlex.quote`, converted with `int()`/`uuid.UUID()`, or checked against an allow-list
(`if tool not in ALLOWED: abort(400)`) or an anchored `re.fullmatch` are not tainted.

Data passed to a function of the same file is followed into it, two calls deep:
`ping(request.args["host"])` reaches the `os.system` call inside `ping`. Functions in other
files are not followed.
"""

HOW_TO_FIX = """\
Do not use a shell. Pass a list of arguments to `subprocess.run([...], shell=False)` with a
fixed program, put `--` before user-supplied operands so they cannot become options, and
validate values against an allow-list or a strict pattern. If a shell is unavoidable, quote
every value with `shlex.quote`.
"""

_SHELL_ALWAYS = frozenset(
    {
        "os.system",
        "os.popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "commands.getoutput",
        "commands.getstatusoutput",
        "asyncio.create_subprocess_shell",
        "asyncio.subprocess.create_subprocess_shell",
    }
)
_SUBPROCESS = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
    }
)
_PROGRAM = frozenset(
    {
        *(f"os.{n}" for n in ("execl", "execle", "execlp", "execlpe", "execv", "execve")),
        *(f"os.{n}" for n in ("execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnv")),
        "os.posix_spawn",
        "os.posix_spawnp",
        "asyncio.create_subprocess_exec",
        "asyncio.subprocess.create_subprocess_exec",
    }
)
_SPAWN_PROGRAM_AT = {"os.spawnl", "os.spawnle", "os.spawnlp", "os.spawnv"}

_LASTS = lasts_of(_SHELL_ALWAYS, _SUBPROCESS, _PROGRAM)


class CommandInjection(TaintRule):
    meta = RuleMeta(
        code="BE601",
        name="command-injection",
        summary="Request data reaches a shell command or the program to run",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=78,
        owasp="A03:2021-Injection",
        references=(
            "https://owasp.org/Top10/A03_2021-Injection/",
            "https://cwe.mitre.org/data/definitions/78.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/OS_Command_Injection_Defense_Cheat_Sheet.html",
            "https://docs.python.org/3/library/subprocess.html#security-considerations",
        ),
    )
    triggers = ("os.", "subprocess", "popen", "system", "commands", "exec", "spawn")
    bad = (
        Example(
            """\
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    cmd = f"ping -c 1 {host}"
    out = subprocess.check_output(cmd, shell=True)  # expect: BE601
    return out
"""
        ),
        Example(
            """\
import os


def thumbnail(request):
    size = request.GET["size"]
    os.system("convert in.png -resize " + size + " out.png")  # expect: BE601
"""
        ),
        Example(
            """\
import subprocess

from fastapi import FastAPI

app = FastAPI()


@app.post("/run/{tool}")
def run(tool: str):
    subprocess.run([tool, "--version"])  # expect: BE601
"""
        ),
        Example(
            """\
import asyncio

from aiohttp import web


async def grep(request):
    pattern = request.match_info["pattern"]
    proc = await asyncio.create_subprocess_shell(f"grep {pattern} /var/log/app.log")  # expect: BE601
    return web.Response(text=str(await proc.wait()))
"""
        ),
    )
    good = (
        Example(
            """\
import shlex
import subprocess

from flask import request


def ping():
    host = request.args.get("host", "")
    subprocess.check_output(f"ping -c 1 {shlex.quote(host)}", shell=True)
    subprocess.run(["ping", "-c", "1", "--", host], check=True)
"""
        ),
        Example(
            """\
import os
import subprocess

from flask import abort, request

TOOLS = {"git", "hg"}


def version():
    tool = request.args["tool"]
    if tool not in TOOLS:
        abort(400)
    subprocess.run(tool + " --version", shell=True)
    count = int(request.args["n"])
    os.system(f"seq {count}")
"""
        ),
        Example(
            """\
import subprocess


def backup(path):
    # A parameter of a helper no caller in this file passes request data to.
    subprocess.run(f"tar czf /backups/x.tgz {path}", shell=True)
"""
        ),
        Example(
            """\
import subprocess

from flask import request


def report():
    num = 86
    if 7 * 42 - num > 200:
        target = "localhost"
    else:
        target = request.args["host"]
    subprocess.run("ping " + target, shell=True)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = call_names(self.ctx, node, _LASTS)
        command: cst.BaseExpression | None = None
        what = ""
        if names & _SHELL_ALWAYS:
            command, what = argument(node, 0, "cmd", "command"), "a shell"
        elif names & _SUBPROCESS:
            args = argument(node, 0, "args")
            shell = keyword_arg(node, "shell")
            if args is None:
                return
            if shell is not None and not (
                isinstance(shell.value, cst.Name) and shell.value.value in ("False", "None")
            ):
                command, what = args, "a shell"
            elif isinstance(args, cst.List | cst.Tuple):
                first = args.elements[0] if args.elements else None
                if first is None or isinstance(first, cst.StarredElement):
                    return
                command, what = first.value, "the program to run"
            else:
                command, what = args, "the program to run"
        elif names & _PROGRAM:
            position = 1 if names & _SPAWN_PROGRAM_AT else 0
            command, what = argument(node, position, "path"), "the program to run"
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "exec_command":
            command, what = argument(node, 0, "command"), "a remote shell"
        if command is None:
            return
        self.report_taint(
            command,
            Sink.SHELL,
            f"reaches {what}",
            help="pass a list of arguments without a shell; validate or `shlex.quote` values",
        )
