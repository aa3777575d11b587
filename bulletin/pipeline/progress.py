"""Render progress: structured events for callers (the studio shows them), and the command
line's display of them: a rich progress bar on a terminal, otherwise one line per stage saying
what it took; then a one-line summary. Nothing is shown until the story has loaded and cast:
a bad story's errors stay the only lines."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

# the stages of a render, in order (a preview has load, cast and synthesize)
STAGES = ("load", "cast", "synthesize", "arrange", "mix", "master", "encode", "write")


@dataclass(frozen=True)
class Progress:
    """Where a render is: in `stage`, `done` of its `total` steps (takes while synthesizing;
    0 of 0 for a stage of one step), `elapsed_s` since the render began."""

    stage: str
    done: int
    total: int
    elapsed_s: float


class Tracker:
    """Inside the pipeline: turns its stages and takes into Progress events, and into the
    older per-kind callbacks (`on_stage(name)`, `on_take(index)`, `on_total(segments)`)."""

    def __init__(self, on_progress: Callable[[Progress], None] | None = None,
                 on_stage: Callable[[str], None] = lambda stage: None,
                 on_take: Callable[[int], None] = lambda index: None) -> None:
        self._on_progress, self._on_stage, self._on_take = on_progress, on_stage, on_take
        self._started = time.monotonic()
        self.stage_name, self.done, self.total = "", 0, 0

    def stage(self, name: str, total: int = 0) -> None:
        self.stage_name, self.done, self.total = name, 0, total
        self._on_stage(name)
        self._emit()

    def take(self, index: int) -> None:
        self.done += 1
        self._on_take(index)
        self._emit()

    def _emit(self) -> None:
        if self._on_progress is not None:
            self._on_progress(Progress(self.stage_name, self.done, self.total, time.monotonic() - self._started))


class RenderProgress:
    """The command line's view of Progress events (pass `update` as `on_progress`)."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None
        self._held: list[Progress] | None = []  # events before the story proved valid
        self._current: Progress | None = None
        self._stage_began_s = 0.0
        self._origin = time.monotonic()  # the render's start on this clock
        self._took: dict[str, float] = {}

    def __enter__(self) -> RenderProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
        if kind is None and self._held is None and self._current is not None:
            now_s = time.monotonic() - self._origin
            self._end_stage(now_s)
            # under a bar the stages had no lines of their own: the summary says what each took
            parts = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self._took.items())
            print(f"done in {now_s:.1f} s" + (f": {parts}" if self._bar is not None else ""), file=sys.stderr)

    def update(self, event: Progress) -> None:
        self._origin = time.monotonic() - event.elapsed_s
        if self._held is not None:
            if event.stage in ("load", "cast"):
                self._held.append(event)
                return
            held, self._held = self._held, None  # the story is valid: show what was held
            if sys.stderr.isatty():
                self._start_bar()
            for old in held:
                self._show(old)
        self._show(event)

    def _show(self, event: Progress) -> None:
        if self._current is None or event.stage != self._current.stage:
            if self._current is not None:
                self._end_stage(event.elapsed_s)
            self._stage_began_s = event.elapsed_s
        self._current = event
        if self._bar is not None:
            self._bar.update(self._task, description=event.stage, completed=event.done, total=event.total or None)

    def _end_stage(self, now_s: float) -> None:
        """The current stage ended at `now_s`: its line (without a bar) and its time."""
        stage, took = self._current, now_s - self._stage_began_s
        self._took[stage.stage] = self._took.get(stage.stage, 0.0) + took
        if self._bar is None:
            steps = f" ({stage.done} of {stage.total})" if stage.total else ""
            print(f"{stage.stage:<11}{took:7.2f} s{steps}", file=sys.stderr)

    def _start_bar(self) -> None:
        from rich.progress import (
            Progress as Bar,  # only on a terminal: rich takes a while to import
        )

        self._bar = Bar(transient=True)
        self._bar.start()
        self._task = self._bar.add_task("render", total=None)
