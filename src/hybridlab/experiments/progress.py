"""A progress bar for long fits, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys


class ProgressBar:
    """``bar(label)`` gives a ``progress(done, total)`` callback that redraws one line.

    Silent when ``enabled`` is false or the stream is not a terminal (logs and pipes stay clean).
    """

    def __init__(self, enabled: bool = True, stream=None, width: int = 30):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.width = width

    def bar(self, label: str):
        if not self.enabled:
            return None

        def progress(done: int, total: int) -> None:
            filled = int(self.width * done / max(total, 1))
            self.stream.write(f"\r  {label:<14} [{'#' * filled}{' ' * (self.width - filled)}] {done}/{total}")
            self.stream.flush()

        return progress

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
            self.stream.flush()
