"""The studio's whole-bulletin render: `bulletin.pipeline.render.render` on a thread, its
progress as a fraction the page draws, and the result with a waveform to show."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bulletin.base.errors import BulletinError
from bulletin.pipeline.progress import Progress

# The share of the bar each stage starts at: synthesis is most of a cold render's time, and
# within it the bar follows the takes as they are made.
STAGE_FRACTION = {"load": 0.0, "cast": 0.02, "synthesize": 0.05, "arrange": 0.8, "mix": 0.84,
                  "master": 0.9, "encode": 0.95, "write": 0.99}
SYNTHESIS_SHARE = STAGE_FRACTION["arrange"] - STAGE_FRACTION["synthesize"]
# Waveform columns sent to the page (min and max of each)
PEAK_COLUMNS = 1600

Notify = Callable[[dict], None]


class RenderJob:
    """At most one render at a time; its status is what GET /api/render returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.state = "idle"  # idle, running, done, error
        self.stage = ""
        self.done = 0
        self.total = 0
        self.error = ""
        self.version = ""
        self.result: dict | None = None
        self.paths: dict[str, Path] = {}
        self.started = 0.0
        self.seconds = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, story_path: Path, out_dir: Path, assets: tuple[Path, ...], version: str, notify: Notify,
              draft: bool = False) -> bool:
        """Start a render on a daemon thread (a render still running when the studio stops
        must not hold the process); False if one is running."""
        with self._lock:
            if self.running:
                return False
            self.state, self.stage, self.done, self.total, self.error = "running", "load", 0, 0, ""
            self.version, self.result, self.started = version, None, time.monotonic()
            self._thread = threading.Thread(target=self._run, args=(story_path, out_dir, assets, notify, draft),
                                            name="studio-render", daemon=True)
            self._thread.start()
        notify(self.status(version))
        return True

    def _run(self, story_path: Path, out_dir: Path, assets: tuple[Path, ...], notify: Notify, draft: bool) -> None:
        from bulletin.pipeline.render import render

        def on_progress(progress: Progress) -> None:
            self.stage, self.done, self.total = progress.stage, progress.done, progress.total
            notify(self.status(self.version))

        try:
            result = render(story_path, out_dir, assets=assets, draft=draft, on_progress=on_progress)
            shown = {"warnings": list(result.warnings),
                     "files": {ext: path.name for ext, path in result.files.items()},
                     "duration_s": round(result.duration_s, 2),
                     "integrated_lufs": round(result.integrated_lufs, 1),
                     "true_peak_dbtp": round(result.true_peak_dbtp, 1),
                     "target_lufs": result.cue.get("loudness", {}).get("target_lufs"),
                     "segments": result.cue.get("segments", []),
                     "stories": result.cue.get("stories", []),
                     "peaks": peaks(result.files.get("wav") or result.files["mp3"])}
            self.result, self.paths, self.state = shown, result.files, "done"
        except BulletinError as error:
            self.state, self.error = "error", "\n".join(error.lines())
        except Exception as error:  # noqa: BLE001 (the page shows it; the studio keeps running)
            self.state, self.error = "error", f"render failed: {error!r}"
        self.seconds = time.monotonic() - self.started
        notify(self.status(self.version))

    def status(self, current_version: str) -> dict:
        """What the page shows; `stale` when the story changed since this render began."""
        shown: dict = {"state": self.state, "stage": self.stage, "takes_done": self.done, "takes_total": self.total,
                       "fraction": self.fraction(), "error": self.error, "stale": bool(self.version) and self.version != current_version}
        if self.state == "done" and self.result is not None:
            shown["result"] = {**self.result, "seconds": round(self.seconds, 1)}
            shown["result"]["urls"] = {ext: f"/files/{name}" for ext, name in self.result["files"].items()}
        return shown

    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        start = STAGE_FRACTION.get(self.stage, 0.0)
        if self.stage == "synthesize" and self.total:
            return round(start + SYNTHESIS_SHARE * min(self.done / self.total, 1.0), 3)
        return start

    def file(self, name: str) -> Path | None:
        """A file of the last finished render, by file name; None for anything else."""
        if self.state != "done" or self.result is None:
            return None
        for path in self.paths.values():
            if path.name == name:
                return path
        return None


def peaks(path: Path, columns: int = PEAK_COLUMNS) -> list[list[float]]:
    """[min, max] of each of `columns` stretches of the file (channels mixed), read in blocks
    so a four-hour bulletin does not have to fit in memory."""
    import soundfile as sf

    frames = sf.info(str(path)).frames
    if frames == 0:
        return []
    per_column = max(1, -(-frames // columns))
    out: list[list[float]] = []
    for block in sf.blocks(str(path), blocksize=per_column * 256, dtype="float32", always_2d=True):
        mono = block.mean(axis=1)
        for start in range(0, len(mono), per_column):
            part = mono[start:start + per_column]
            out.append([round(float(np.min(part)), 3), round(float(np.max(part)), 3)])
    return out
