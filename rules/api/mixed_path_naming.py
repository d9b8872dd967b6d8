"""BE907 mixed-path-naming: route paths of one project mix snake_case, kebab-case and
camelCase."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import libcst as cst

from be_lint.http_semantics import API_FRAMEWORKS, ProjectRoutesRule, literal_segments, style
from be_lint.index.model import Route
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
`/user-profiles`, `/user_profiles` and `/userProfiles` are three different URLs. An API that
uses more than one convention makes every client look each path up instead of guessing it,
and invites the bug where a client calls the plausible spelling and gets a 404. API style
guides pick one (kebab-case is the most common choice for paths); what matters most is that
one API uses one.

The rule uses the project's routes (see `be-lint routes`): it counts the multi-word literal
segments of every API route path by style (snake_case, kebab-case, camelCase), and reports
each handler whose paths use a style other than the project's most common one. One-word
segments and path parameters are not counted; Django's HTML views are left out. It is
opt-in, because renaming public paths is a breaking change that a project may rightly
postpone.
"""

HOW_TO_FIX = """\
Use the project's prevailing style for new paths; for existing ones, add the consistent path
and keep the old one as a deprecated alias until clients have moved.
"""


def _styles(routes: Sequence[Route]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for route in routes:
        if route.framework not in API_FRAMEWORKS:
            continue
        for segment in literal_segments(route.path):
            found = style(segment)
            if found is not None:
                counts[found] += 1
    return counts


class MixedPathNaming(ProjectRoutesRule):
    meta = RuleMeta(
        code="BE907",
        name="mixed-path-naming",
        summary="Route paths mix snake_case, kebab-case and camelCase",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.INFO,
        confidence=Confidence.HIGH,
        enabled_by_default=False,
        references=("https://google.aip.dev/122",),
    )
    triggers = ("_", "-")

    bad = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/user-profiles")
def profiles():
    return []


@router.get("/order-items")
def items():
    return []


@router.get("/shipping_addresses")
def addresses():  # expect: BE907
    return []
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/user-profiles/{profile_id}")
def profile(profile_id: int):
    return {}


@router.get("/order-items")
def items():
    return []


@router.get("/orders")
def orders():
    return []
"""
        ),
    )

    def applies(self, routes: Sequence[Route]) -> bool:
        counts = _styles(routes)
        if len(counts) < 2:
            return False
        ranked = counts.most_common()
        if ranked[0][1] == ranked[1][1]:
            return False  # no prevailing style to point to
        self._main = ranked[0][0]
        self._counts = counts
        return True

    def check(self, node: cst.FunctionDef | cst.ClassDef, routes: list[Route]) -> None:
        for route in routes:
            for segment in literal_segments(route.path):
                found = style(segment)
                if found is not None and found != self._main:
                    self.report(
                        node.name,
                        f"`{route.path}` spells `{segment}` in {found} case, while most paths "
                        f"of this project use {self._main} case ({self._counts[self._main]} "
                        "segments)",
                        help=f"spell new paths in {self._main} case",
                    )
                    return
