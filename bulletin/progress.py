"""Render progress: a rich progress bar on a terminal, quiet line-based logs otherwise (one
line per stage, seconds since the render began, and a last `done` line)."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class RenderProgress:
    def __init__(self, total_segments: int = 0) -> None:
        self.total = total_segments
        self.done = 0
        self._started = time.monotonic()
        self._bar = None
        self._task = None

    def __enter__(self) -> RenderProgress:
        if sys.stderr.isatty():
            from rich.progress import Progress  # only on a terminal: rich takes a while to import

            self._bar = Progress(transient=True)
            self._bar.start()
            self._task = self._bar.add_task("load", total=self.total or None)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif kind is None:
            self._log("done")

    def set_total(self, total_segments: int) -> None:
        self.total = total_segments
        if self._bar is not None:
            self._bar.update(self._task, total=total_segments)

    def stage(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=name)
        else:
            self._log(name)

    def _log(self, name: str) -> None:
        print(f"{time.monotonic() - self._started:7.3f}s {name}", file=sys.stderr)

    def take(self, index: int) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
