"""The generated rule documentation: freshness of docs/rules/ and the page renderers."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from be_lint import docs
from be_lint.docs import (
    BANNER,
    check_docs,
    page_name,
    render_index,
    render_rule_markdown,
    render_rule_text,
    write_docs,
)
from be_lint.loader import builtin_rules
from be_lint.rule import Confidence, Example, FileKind, Rule, RuleMeta, Severity, option

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "docs" / "rules"


# --- the committed docs ----------------------------------------------------------------------


def test_committed_rule_docs_are_up_to_date(tmp_path: Path) -> None:
    rules = builtin_rules()
    fresh = tmp_path / "rules"
    write_docs(fresh, rules)

    generated = {path.name: path.read_text(encoding="utf-8") for path in fresh.glob("*.md")}
    committed = {path.name: path.read_text(encoding="utf-8") for path in COMMITTED.glob("*.md")}

    problems: list[str] = []
    diffs: list[str] = []
    for name in sorted(generated.keys() | committed.keys()):
        if name not in committed:
            problems.append(f"{name} (missing)")
        elif name not in generated:
            problems.append(f"{name} (extra)")
        elif committed[name] != generated[name]:
            problems.append(f"{name} (stale)")
            diff = difflib.unified_diff(
                committed[name].splitlines(keepends=True),
                generated[name].splitlines(keepends=True),
                fromfile=f"docs/rules/{name} (committed)",
                tofile=f"docs/rules/{name} (generated)",
            )
            diffs.append("".join(list(diff)[:40]))
    assert not problems, (
        "docs/rules/ is out of date with the rule metadata:\n  "
        + "\n  ".join(problems)
        + "\nRegenerate it with `python -m be_lint.docs` and commit the result.\n\n"
        + "\n".join(diffs)
    )
    # The same verdict through the API that `python -m be_lint.docs --check` uses.
    assert check_docs(COMMITTED, rules) == []


def test_every_builtin_rule_has_a_page_linked_from_the_index() -> None:
    rules = builtin_rules()
    index = render_index(rules)
    for rule in rules:
        assert f"]({page_name(rule)})" in index


# --- renderers on rules defined here -----------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    max_rows: int = option(100, "Largest number of rows | one query may return.")
    allowed_tables: tuple[str, ...] = option(("audit", "events"), "Tables that are never flagged.")
    strict: bool = option(False, "Also flag queries whose\n   size is unknown.")


_RATIONALE = """
    Unbounded queries read every row.

    On a large table that is *slow*.
"""


@pytest.fixture
def python_rule() -> Iterator[type[Rule]]:
    class DocsProbe(Rule):
        meta = RuleMeta(
            code="BE799",
            name="docs-probe",
            summary="Query reads an unbounded number of rows",
            rationale=_RATIONALE,
            how_to_fix="Add a `LIMIT`.",
            severity=Severity.WARNING,
            confidence=Confidence.MEDIUM,
            cwe=400,
            owasp="A04:2021",
            references=("https://example.org/limits", "The team's query guide"),
        )
        options_class = _Options
        bad = (
            Example(
                """
                rows = fetch_all("SELECT * FROM users")  # expect: BE799
                """,
                fixed='rows = fetch_all("SELECT * FROM users LIMIT 100")\n',
            ),
            Example(
                "rows = fetch_all(query)  # expect: BE799\n# expect: BE799\n",
                options={"strict": True, "max-rows": 5},
            ),
        )
        good = (Example('rows = fetch_all("SELECT * FROM users LIMIT 10")\n'),)

    try:
        yield DocsProbe
    finally:
        Rule.registry.remove(DocsProbe)


@pytest.fixture
def sql_rule() -> Iterator[type[Rule]]:
    class DocsSqlProbe(Rule):
        meta = RuleMeta(
            code="BE299",
            name="docs-sql-probe",
            summary="Statement uses SELECT *",
            rationale="Columns change; name them.",
            how_to_fix="List the columns you need.",
            severity=Severity.INFO,
            enabled_by_default=False,
        )
        file_kinds = frozenset({FileKind.SQL})
        bad = (Example("SELECT * FROM users;  -- expect: BE299\n", filename="q.sql"),)
        good = (Example("SELECT id, name FROM users;  -- plain comment\n", filename="q.sql"),)

    try:
        yield DocsSqlProbe
    finally:
        Rule.registry.remove(DocsSqlProbe)


def _section(page: str, title: str) -> str:
    """The body of one ``## title`` section of a Markdown page."""
    start = page.index(f"\n## {title}\n") + len(title) + 5
    end = page.find("\n## ", start)
    return page[start : end if end != -1 else len(page)].strip("\n")


def test_markdown_page_layout(python_rule: type[Rule]) -> None:
    page = render_rule_markdown(python_rule)
    lines = page.splitlines()
    assert lines[0] == BANNER
    assert lines[2] == "# BE799 docs-probe"
    facts = lines[4]
    for fact in (
        "**Family:** resilience",
        "**Severity:** warning",
        "**Confidence:** medium",
        "**Fixable:** yes",
        "**Default:** enabled",
        "[CWE-400](https://cwe.mitre.org/data/definitions/400.html)",
        "**OWASP:** A04:2021",
    ):
        assert fact in facts
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix safety",
        "## How to fix",
        "## Options",
        "## References",
    ]
    assert page.endswith("\n") and not page.endswith("\n\n")
    assert _section(page, "What it does") == "Query reads an unbounded number of rows."
    assert _section(page, "Why is this bad?") == (
        "Unbounded queries read every row.\n\nOn a large table that is *slow*."
    )
    assert _section(page, "How to fix") == "Add a `LIMIT`."


def test_examples_are_fenced_and_stripped_of_markers(
    python_rule: type[Rule], sql_rule: type[Rule]
) -> None:
    page = render_rule_markdown(python_rule)
    assert "expect:" not in page
    example = _section(page, "Example")
    assert '```python\nrows = fetch_all("SELECT * FROM users")\n```' in example
    # A line holding nothing but a marker disappears instead of leaving a blank line.
    assert "```python\nrows = fetch_all(query)\n```" in example
    assert "With the options `max-rows = 5`, `strict = true`:" in example
    assert _section(page, "Use instead") == (
        '```python\nrows = fetch_all("SELECT * FROM users LIMIT 10")\n```'
    )

    sql_page = render_rule_markdown(sql_rule)
    assert "expect:" not in sql_page
    assert "```sql\nSELECT * FROM users;\n```" in _section(sql_page, "Example")
    # Ordinary comments in examples are kept.
    assert "-- plain comment" in _section(sql_page, "Use instead")


def test_fix_safety_shows_before_and_after(python_rule: type[Rule]) -> None:
    section = _section(render_rule_markdown(python_rule), "Fix safety")
    assert "safe" in section and "unsafe" in section
    assert section.index("Before:") < section.index("After:")
    assert '```python\nrows = fetch_all("SELECT * FROM users")\n```' in section
    assert '```python\nrows = fetch_all("SELECT * FROM users LIMIT 100")\n```' in section
    # Only examples that have a fix are shown.
    assert "fetch_all(query)" not in section


def test_declared_fix_safety_is_stated(python_rule: type[Rule]) -> None:
    from be_lint.rule import FixSafety

    python_rule.fix_safety = FixSafety.UNSAFE  # type: ignore[attr-defined]
    section = _section(render_rule_markdown(python_rule), "Fix safety")
    assert section.startswith("This rule's fix is unsafe")


def test_rule_without_fix_or_options(sql_rule: type[Rule]) -> None:
    page = render_rule_markdown(sql_rule)
    assert "## Fix safety" not in page
    assert "**Fixable:** no" in page
    assert "**Default:** opt-in" in page
    assert "CWE" not in page and "OWASP" not in page
    assert _section(page, "Options") == "This rule has no options."
    assert _section(page, "References") == "None."


def test_options_table(python_rule: type[Rule]) -> None:
    section = _section(render_rule_markdown(python_rule), "Options")
    assert "`[tool.be-lint.rules.BE799]`" in section
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `max-rows` | integer | `100` | Largest number of rows \\| one query may return. |",
        '| `allowed-tables` | list of strings | `["audit", "events"]` | '
        "Tables that are never flagged. |",
        "| `strict` | boolean | `false` | Also flag queries whose size is unknown. |",
    ]


def test_references(python_rule: type[Rule]) -> None:
    section = _section(render_rule_markdown(python_rule), "References")
    assert section.splitlines() == [
        "- [https://example.org/limits](https://example.org/limits)",
        "- The team's query guide",
        "- [CWE-400](https://cwe.mitre.org/data/definitions/400.html)",
        "- OWASP Top 10: A04:2021",
    ]


def test_text_rendering_has_the_same_content_without_markdown(python_rule: type[Rule]) -> None:
    text = render_rule_text(python_rule)
    assert BANNER not in text and "<!--" not in text and "```" not in text
    assert text.startswith("BE799 docs-probe\n")
    order = [
        "What it does",
        "Why is this bad?",
        "Example",
        "Use instead",
        "Fix safety",
        "How to fix",
        "Options",
        "References",
    ]
    positions = [text.index(f"\n{title}\n") for title in order]
    assert positions == sorted(positions)
    assert '    rows = fetch_all("SELECT * FROM users")\n' in text
    assert "expect:" not in text
    assert "max-rows (integer, default 100)" in text
    assert "https://cwe.mitre.org/data/definitions/400.html" in text


def test_index_links_every_rule(python_rule: type[Rule], sql_rule: type[Rule]) -> None:
    index = render_index([python_rule, sql_rule])
    lines = index.splitlines()
    assert lines[0] == BANNER
    rows = [line for line in lines if line.startswith("| [")]
    # Sorted by code whatever order the rules came in.
    assert rows == [
        "| [BE299](BE299-docs-sql-probe.md) | [docs-sql-probe](BE299-docs-sql-probe.md) "
        "*(opt-in)* | sql-quality | info | no | Statement uses SELECT * |",
        "| [BE799](BE799-docs-probe.md) | [docs-probe](BE799-docs-probe.md) | resilience | "
        "warning | yes | Query reads an unbounded number of rows |",
    ]


def test_output_is_deterministic(python_rule: type[Rule], sql_rule: type[Rule]) -> None:
    assert render_rule_markdown(python_rule) == render_rule_markdown(python_rule)
    assert render_index([python_rule, sql_rule]) == render_index([sql_rule, python_rule])


def test_write_and_check_docs(
    tmp_path: Path, python_rule: type[Rule], sql_rule: type[Rule]
) -> None:
    rules = [python_rule, sql_rule]
    out = tmp_path / "rules"
    assert check_docs(out, rules) == [
        "BE299-docs-sql-probe.md (missing)",
        "BE799-docs-probe.md (missing)",
        "index.md (missing)",
    ]

    written = write_docs(out, rules)
    assert [path.name for path in written] == [
        "BE299-docs-sql-probe.md",
        "BE799-docs-probe.md",
        "index.md",
    ]
    assert (out / "BE799-docs-probe.md").read_bytes() == render_rule_markdown(python_rule).encode()
    assert check_docs(out, rules) == []

    (out / "BE799-docs-probe.md").write_text("edited by hand\n", encoding="utf-8")
    (out / "BE100-old-name.md").write_text(BANNER + "\n", encoding="utf-8")
    (out / "notes.md").write_text("hand-written, not generated\n", encoding="utf-8")
    assert check_docs(out, rules) == [
        "BE100-old-name.md (extra)",
        "BE799-docs-probe.md (stale)",
    ]

    write_docs(out, rules)
    assert check_docs(out, rules) == []
    assert not (out / "BE100-old-name.md").exists()
    assert (out / "notes.md").exists()


def test_main_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rules"
    assert docs.main(["--check", "--out", str(out)]) == 1
    assert "python -m be_lint.docs" in capsys.readouterr().err

    assert docs.main(["--out", str(out)]) == 0
    assert docs.main(["--check", "--out", str(out)]) == 0

    (out / "index.md").write_text("stale\n", encoding="utf-8")
    assert docs.main(["--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "index.md (stale)" in err
    assert "python -m be_lint.docs" in err
