"""A progress bar on stderr for long runs in a terminal, and nothing anywhere else.

It is drawn only when stderr is a terminal, the run is not in CI (``CI`` set to a true value),
``-q`` was not given and the run has lasted a moment (short runs never flicker a bar). It
writes to stderr only and erases itself when done, so stdout -- the report -- is the same
bytes with or without it.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

#: Seconds before the bar first appears, and between redraws.
DELAY = 1.0
INTERVAL = 0.1
_WIDTH = 30


def wanted(stream: TextIO, *, quiet: bool) -> bool:
    """Whether a bar may be drawn on ``stream`` at all."""
    if quiet:
        return False
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class Progress:
    """Counts finished files; call ``advance`` from the thread that runs the pool."""

    def __init__(self, total: int, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._visible = False

    def advance(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count)
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < DELAY or now - self._drawn_at < INTERVAL:
            return
        self._drawn_at = now
        self._draw()

    def _draw(self) -> None:
        filled = _WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\rbe-lint [{bar}] {self.done}/{self.total} files")
        self.stream.flush()
        self._visible = True

    def close(self) -> None:
        """Erase the bar (if it was ever drawn)."""
        if self._visible:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._visible = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
