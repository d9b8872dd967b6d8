"""``be-lint routes PATH...``: the HTTP routes of a project, as a table or JSON.

The inventory comes from the project index (``be_lint.index.routes``), so it shows exactly
what the BE9xx rules see. Output is sorted and carries no timestamps or absolute paths: the
same tree prints the same bytes, and a diff of two runs is the change of the API's surface.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import click

from be_lint.index.model import Route


def render_text(routes: Sequence[Route]) -> str:
    """A fixed-width table: method, path, handler, framework, location; then a count."""
    if not routes:
        return "no routes found\n"
    rows = [(r.method, r.path, r.handler, r.framework, f"{r.file}:{r.line}") for r in routes]
    header = ("METHOD", "PATH", "HANDLER", "FRAMEWORK", "LOCATION")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(4)]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    frameworks = Counter(r.framework for r in routes)
    summary = ", ".join(f"{name} {count}" for name, count in sorted(frameworks.items()))
    noun = "route" if len(routes) == 1 else "routes"
    lines.append("")
    lines.append(f"{len(routes)} {noun} ({summary})")
    return "\n".join(lines) + "\n"


def render_json(routes: Sequence[Route]) -> str:
    frameworks = Counter(r.framework for r in routes)
    data = {
        "routes": [
            {
                "method": r.method,
                "path": r.path,
                "handler": r.handler,
                "framework": r.framework,
                "file": r.file,
                "line": r.line,
            }
            for r in routes
        ],
        "summary": {"routes": len(routes), "frameworks": dict(sorted(frameworks.items()))},
    }
    return json.dumps(data, indent=2) + "\n"


@click.command("routes")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes.")
def routes_command(
    paths: tuple[Path, ...], output_format: str, config_file: Path | None, jobs: int | None
) -> None:
    """List the HTTP routes of PATHS (default: the current directory): method, path, handler.

    Reads FastAPI, Starlette, Flask (blueprints, MethodView, Flask-AppBuilder), Django
    (urlpatterns, class-based views) with DRF (view sets on routers, APIView, @api_view,
    @action) and aiohttp. Paths that are not literals show the expression in braces.
    """
    from be_lint.config import ConfigError, load_config
    from be_lint.discover import PathError, discover
    from be_lint.index import index_paths
    from be_lint.runner import default_jobs

    cwd = Path.cwd()
    try:
        config = load_config(config_file=config_file, paths=list(paths), cwd=cwd, overrides={})
        found = discover(list(paths) or [Path(".")], config, cwd)
    except (ConfigError, PathError) as error:
        click.echo(f"be-lint: error: {' '.join(str(error).split())}", err=True)
        sys.exit(2)
    index = index_paths(found.files, cwd, jobs=jobs or default_jobs(), limit=config.max_file_size)
    render = render_json if output_format == "json" else render_text
    click.echo(render(index.routes), nl=False)
