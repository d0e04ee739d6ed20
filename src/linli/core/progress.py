"""A tiny progress bar for long commands, written to stderr. No dependencies.

On a terminal it redraws one line in place (at most ten times a second); when the
output is a file or a pipe it prints a plain line at every tenth of the way instead,
so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

BAR_WIDTH = 24
REDRAW_EVERY_S = 0.1


def _clock_text(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """`with Progress(total, "merchants") as bar: bar.advance(n)`."""

    def __init__(self, total: int, label: str = "", *, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = max(0, total)
        self.label = label
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._clock = clock
        self._started = clock()
        self._drawn_at = float("-inf")
        self._next_tenth = 1  # non-TTY: the next tenth of the way that prints a line
        self._closed = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if self.tty:
            now = self._clock()
            if now - self._drawn_at >= REDRAW_EVERY_S or self.done == self.total:
                self._drawn_at = now
                self.stream.write("\r" + self.render() + "\x1b[K")
                self.stream.flush()
            return
        tenths = 10 if self.total == 0 else self.done * 10 // self.total
        if tenths >= self._next_tenth:
            self._next_tenth = tenths + 1
            self.stream.write(self.render() + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Finish the line; on a pipe make sure the last state was printed."""
        if self._closed:
            return
        self._closed = True
        if self.tty:
            self.stream.write("\r" + self.render() + "\x1b[K\n")
        elif self._next_tenth <= 10:
            self.stream.write(self.render() + "\n")
        self.stream.flush()

    def render(self) -> str:
        elapsed = max(self._clock() - self._started, 1e-9)
        fraction = 1.0 if self.total == 0 else self.done / self.total
        filled = int(BAR_WIDTH * fraction)
        rate = self.done / elapsed
        if self.done >= self.total:
            eta = f"in {_clock_text(elapsed)}"
        elif rate > 0:
            eta = f"ETA {_clock_text((self.total - self.done) / rate)}"
        else:
            eta = "ETA --:--"
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        label = f"{self.label} " if self.label else ""
        return (f"{label}[{bar}] {self.done}/{self.total} {fraction * 100:5.1f}% "
                f"{rate:,.0f}/s {eta}")
