"""Output files appear whole or not at all: a render killed at any moment (kill -9) leaves the
previous files of that name intact and no partial file under a final name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

STORY = (
    "title: Kill Test\ndate: 2026-03-04\n"
    "cast: {anchor: {role: anchor, voice: anchor-us}, kim: {role: reporter, voice: reporter-us}}\n"
    "segments:\n  - sting: builtin:open\n"
    + "".join(f"  - anchor: Story number {i} begins here, and it goes on for a while longer.\n  - kim: Thank you. Here is report {i}.\n" for i in range(12))
    + "  - sting: builtin:close\n"
)


def _render(story: Path, out: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(out), "--no-cache", "--jobs", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_minus_nine_at_any_moment_leaves_previous_files_whole(tmp_path: Path):
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    out = tmp_path / "out"
    env = dict(os.environ)
    first = _render(story, out, env)
    assert first.wait(timeout=120) == 0
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(previous) == 4
    # change the words so a finished render would differ, then kill at spread-out moments
    story.write_text(STORY.replace("Story number", "Item"))
    started = time.monotonic()
    probe = _render(story, tmp_path / "probe", env)
    probe.wait(timeout=120)
    full_s = time.monotonic() - started
    for k in range(8):
        proc = _render(story, out, env)
        time.sleep(full_s * (k + 0.5) / 8)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        finals = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
        assert set(finals) == set(previous)
        changed = {name for name in finals if finals[name] != previous[name]}
        # each file is either the old one or a complete new one, never a torn one (espeak-ng's
        # noise sources make takes differ in their last bits, so "complete" is checked, not equality)
        for name in changed:
            _assert_whole(out / name, (tmp_path / "probe" / name).stat().st_size)
        previous = finals


def _assert_whole(path: Path, probe_size: int) -> None:
    import json

    import soundfile as sf

    if path.suffix == ".json":
        assert json.loads(path.read_text())["segments"]
    elif path.suffix == ".vtt":
        assert path.read_text().rstrip().endswith("Thank you. Here is report 11.")
    elif path.suffix == ".wav":
        from tests.export.riff_reader import chunks

        info = sf.info(str(path))
        data = [payload for name, _, payload in chunks(path) if name == b"data"]  # walks every chunk to the end
        assert len(data) == 1 and len(data[0]) == info.frames * 2
    else:
        assert abs(path.stat().st_size - probe_size) < 2048
        data, _ = sf.read(str(path))
        assert len(data) > 0
