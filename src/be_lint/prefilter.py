"""Helpers for the rules' cheap textual prefilters (``Rule.may_match``).

The engine asks every selected rule's ``may_match`` about the same file text in turn, and many
of them share a test (does the file declare routes, name a web framework, hold a query?). A
test wrapped in ``per_text`` runs once per file instead of once per rule: it remembers its
answer for the last text it was asked about (compared by identity, which is safe because the
text is kept alive with the answer).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")


def per_text(test: Callable[[A], T]) -> Callable[[A], T]:
    """``test(text)``, remembered for the last ``text`` object it was called with."""
    last: list[object] = [None, None]

    @functools.wraps(test)
    def remembered(text: A) -> T:
        if last[0] is not text:
            # The answer first: should the test raise, no stale pair is left behind.
            answer = test(text)
            last[0] = text
            last[1] = answer
            return answer
        return last[1]  # type: ignore[return-value]

    return remembered


@per_text
def lowered(text: str) -> str:
    """``text.lower()``, computed once per file however many rules ask."""
    return text.lower()
