"""Where a run's report goes: one or several formats, each to stdout or to a file.

``--output-format sarif:results.sarif --output-format text`` writes SARIF to a file and text to
the terminal in one run (one lint pass, several renderings). ``--format F --output FILE`` is
the single-output spelling and still works. With neither, the report is text on stdout, and
under GitHub Actions (``GITHUB_ACTIONS=true``) GitHub annotations are printed after it too
(also when ``--output`` sends the text report to a file):
the log stays readable and the findings show up on the pull request's diff. Only one format
may write to stdout, except ``github``, which can accompany another.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from be_lint.reporters import REPORTERS, Report


class OutputError(ValueError):
    """An output specification the user got wrong (one line, for exit code 2)."""


@dataclass(frozen=True, slots=True)
class Output:
    format: str
    #: None: standard output.
    path: Path | None = None


def parse_output(spec: str) -> Output:
    """``FMT`` or ``FMT:FILE`` (split at the first colon, so ``sarif:C:/x.sarif`` works)."""
    name, sep, file = spec.strip().partition(":")
    name = name.strip().lower()
    if name not in REPORTERS:
        known = ", ".join(sorted(REPORTERS))
        raise OutputError(f"--output-format {spec!r}: unknown format {name!r} (known: {known})")
    if sep and not file.strip():
        raise OutputError(f"--output-format {spec!r}: no file after ':'")
    return Output(name, Path(file) if sep else None)


def plan_outputs(
    specs: Sequence[str],
    format: str | None,
    output: Path | None,
    environ: Mapping[str, str] | None = None,
) -> list[Output]:
    """The outputs of a run, in the order they are written."""
    env = os.environ if environ is None else environ
    outputs = [parse_output(spec) for spec in specs]
    if format is not None or output is not None:
        outputs.insert(0, Output(format or "text", output))
    if not outputs:
        outputs = [Output("text")]
    if not specs and format is None and env.get("GITHUB_ACTIONS", "").strip().lower() == "true":
        # No format chosen: the report as usual (to --output if given), and annotations.
        outputs.append(Output("github"))
    # GitHub annotations are workflow commands the runner takes out of the log, so they may
    # share standard output with one format meant for people or programs.
    to_stdout = [o.format for o in outputs if o.path is None and o.format != "github"]
    if sum(1 for o in outputs if o.path is None and o.format == "github") > 1:
        raise OutputError("github is asked for twice on standard output")
    if len(to_stdout) > 1:
        raise OutputError(
            f"{' and '.join(to_stdout)} would both write to standard output; "
            "send all but one to a file with --output-format FMT:FILE"
        )
    files = [os.path.normcase(os.path.abspath(o.path)) for o in outputs if o.path is not None]
    if len(set(files)) != len(files):
        raise OutputError("two --output-format entries write to the same file")
    return outputs


def render(report: Report, output: Output, *, color: bool) -> str:
    """``report`` in ``output``'s format; colour only ever applies to text on a terminal."""
    wanted = color and output.format == "text" and output.path is None
    if wanted != report.color:
        report = dataclasses.replace(report, color=wanted)
    return REPORTERS[output.format](report)
