"""Render progress: a rich progress bar on a terminal, quiet line-based logs otherwise (one
line per stage, seconds since the render began, and a last `done` line). Nothing is shown
until the story has loaded and cast: a bad story's errors stay the only lines."""

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
        self._held: list[tuple[float, str]] | None = []  # stages before the story proved valid

    def __enter__(self) -> RenderProgress:
        return self

    def _start_bar(self) -> None:
        from rich.progress import Progress  # only on a terminal: rich takes a while to import

        self._bar = Progress(transient=True)
        self._bar.start()
        self._task = self._bar.add_task("synthesize", total=self.total or None)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif kind is None and self._held is None:
            self._log("done")

    def set_total(self, total_segments: int) -> None:
        self.total = total_segments
        if self._bar is not None:
            self._bar.update(self._task, total=total_segments)

    def stage(self, name: str) -> None:
        if name in ("load", "cast"):
            self._held.append((time.monotonic(), name))
            return
        if self._held is not None:  # the story is valid: show what was held
            held, self._held = self._held, None
            if sys.stderr.isatty():
                self._start_bar()
            else:
                for at, stage in held:
                    self._log(stage, at)
        if self._bar is not None:
            self._bar.update(self._task, description=name)
        else:
            self._log(name)

    def _log(self, name: str, at: float | None = None) -> None:
        print(f"{(at or time.monotonic()) - self._started:7.3f}s {name}", file=sys.stderr)

    def take(self, index: int) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
