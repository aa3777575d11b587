"""SIGINT and SIGTERM during a real render: exit 130 / 143 with one line, no traceback, no
partial files, the worker processes gone; Ctrl-C at a terminal (SIGINT to the whole process
group, workers included) the same."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_presets

if sys.platform != "linux":
    pytest.skip("reads child processes from /proc", allow_module_level=True)


def long_story(folder: Path) -> Path:
    """Enough distinct speech that synthesis on two workers lasts many seconds."""
    lines = [f"  - {'anchor' if i % 2 else 'kim'}: Item {i}. The committee met on day {i} of the talks, and "
             f"the ministers said that sitting number {i} would not be the last. Talks resume at {i} o'clock."
             for i in range(400)]
    path = folder / "story.yaml"
    path.write_text("title: Signals\ndate: 2026-03-07\nmaster: {formats: [wav, mp3]}\n"
                    "cast:\n  anchor: {role: anchor, voice: test-one}\n  kim: {role: reporter, voice: test-two}\n"
                    "segments:\n" + "\n".join(lines) + "\n")
    write_presets(folder)
    return path


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_and_signal(tmp_path: Path, signum: int, group: bool) -> tuple[subprocess.CompletedProcess, set[int], Path]:
    story = long_story(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "signals-2026-03-07.wav").write_bytes(b"the previous bulletin")
    proc = subprocess.Popen([sys.executable, "-m", "bulletin", "render", str(story), "-o", str(out), "--no-cache",
                             "--jobs", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        workers = {c for c in children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")} if alive(proc.pid) else set()
    assert len(workers) >= 2, "the render never started its worker processes"
    time.sleep(1.0)  # well inside synthesis
    assert proc.poll() is None, "the render ended before it could be interrupted"
    if group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), workers, out


@pytest.mark.parametrize(("signum", "status", "group"), [
    (signal.SIGTERM, 143, False),
    (signal.SIGINT, 130, False),
    (signal.SIGINT, 130, True),  # Ctrl-C at a terminal: the workers get it too
])
def test_a_signal_ends_the_render_cleanly(tmp_path, signum, status, group):
    run, workers, out = start_and_signal(tmp_path, signum, group)
    assert run.returncode == status, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and run.stderr.strip().splitlines()[-1] == errors[0], run.stderr[-3000:]
    assert "SIG" in errors[0] or "interrupted" in errors[0]
    deadline = time.monotonic() + 10  # reaped by the render before it exits; a busy machine is slow to show it
    while [pid for pid in workers if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if alive(pid)], "worker processes outlived the render"
    assert sorted(p.name for p in out.iterdir()) == ["signals-2026-03-07.wav"]  # no .part files, nothing new
    assert (out / "signals-2026-03-07.wav").read_bytes() == b"the previous bulletin"
