"""Render progress: a rich progress bar on a terminal, quiet line-based logs otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class RenderProgress:
    def __init__(self, total_segments: int) -> None:
        self.total = total_segments
        self.done = 0
        self._started = time.monotonic()
        self._bar = None
        self._task = None

    def __enter__(self) -> RenderProgress:
        if sys.stderr.isatty():
            from rich.progress import Progress

            self._bar = Progress(transient=True)
            self._bar.start()
            self._task = self._bar.add_task("load", total=self.total)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def stage(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=name)
        else:
            print(f"{time.monotonic() - self._started:6.2f}s {name}", file=sys.stderr)

    def take(self, index: int) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
