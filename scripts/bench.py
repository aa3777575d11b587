"""Benchmark: render the example with a cold cache; wall time per stage and real-time factor.

    .venv/bin/python scripts/bench.py [STORY]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    story = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "gsomia" / "story.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # cold: an empty take cache
        started = time.perf_counter()
        from bulletin.render import render

        imported = time.perf_counter()
        marks: list[tuple[str, float]] = [("import", imported)]
        result = render(story, Path(tmp) / "out", on_stage=lambda name: marks.append((name, time.perf_counter())))
        done = time.perf_counter()
        marks.append(("end", done))
        print(f"story: {story}")
        print(f"{'stage':<12}{'wall s':>8}")
        print(f"{'import':<12}{imported - started:8.3f}")
        for (name, at), (_, following) in zip(marks[1:], marks[2:], strict=False):
            print(f"{name:<12}{following - at:8.3f}")
        total = done - started
        print(f"{'total':<12}{total:8.3f}")
        print(f"audio {result.duration_s:.1f} s; real-time factor {result.duration_s / total:.1f}x "
              f"(wall {total / result.duration_s:.4f} s per audio second)")


if __name__ == "__main__":
    main()
