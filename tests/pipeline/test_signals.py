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


# --- from the first instant -------------------------------------------------------------------
#
# The handlers are set by bulletin/__main__.py before anything heavy is imported. Before that,
# for the interpreter's own start-up (tens of milliseconds, more on a busy machine), a signal
# ends the process by the signal itself: nothing of ours has run, so nothing is written either.
# Each test notes whether the handler was there when it signalled (SigCgt in /proc) and holds
# the process to the whole promise when it was, to "nothing written" when it was not (a second
# in, it must be there). The process slowed on purpose (every heavy import sleeps 0.4 s) is
# still importing at each of these moments.

# imports made slow on purpose: a finder ahead of the others that sleeps on these packages
SLOW_IMPORTS = """
import sys, time
class Slow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "yaml", "soundfile", "soxr", "scipy", "onnxruntime", "lameenc"} \\
                and name not in sys.modules and "." not in name:
            time.sleep(0.4)
        return None
sys.meta_path.insert(0, Slow())
import runpy
runpy.run_module("bulletin", run_name="__main__", alter_sys=True)
"""


def handles_sigterm(pid: int) -> bool:
    """Whether the process catches SIGTERM (our handler is set; Python sets none of its own)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(status.split("SigCgt:")[1].split()[0], 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


SCRIPT = Path(sys.executable).with_name("bulletin")  # the console script


@pytest.mark.parametrize("way", ["module", "script", "slowed"])
@pytest.mark.parametrize("after_s", [0.05, 0.2, 1.0])
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["TERM", "INT"])
def test_a_signal_in_the_first_second_ends_the_render_cleanly(tmp_path, signum, status, after_s, way):
    if way == "script" and not SCRIPT.is_file():
        pytest.skip(f"no console script beside {sys.executable} (bulletin is not installed in this environment)")
    story = long_story(tmp_path)
    out, cache = tmp_path / "out", tmp_path / "cache"
    out.mkdir()
    (out / "signals-2026-03-07.wav").write_bytes(b"the previous bulletin")
    start = {"module": [sys.executable, "-m", "bulletin"], "script": [str(SCRIPT)],
             "slowed": [sys.executable, "-c", SLOW_IMPORTS]}[way]
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), BULLETIN_CACHE=str(cache / "takes"))
    proc = subprocess.Popen([*start, "render", str(story), "-o", str(out), "--no-cache", "--jobs", "2"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    began = time.monotonic()
    seen: set[int] = set()
    while time.monotonic() - began < after_s:
        seen |= descendants(proc.pid)
        time.sleep(0.005)
    handled = handles_sigterm(proc.pid)
    os.kill(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert sorted(p.name for p in out.iterdir()) == ["signals-2026-03-07.wav"], stderr  # nothing new, no .part
    assert (out / "signals-2026-03-07.wav").read_bytes() == b"the previous bulletin"
    assert not list(cache.rglob("*.take")), "a take was made"
    deadline = time.monotonic() + 10
    while [pid for pid in seen if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in seen if alive(pid)], "processes outlived the render"
    if not handled:  # still in the interpreter's start-up (a busy machine can take 0.2 s for it)
        assert after_s < 1 and proc.returncode in (-signum, status), stderr
        return
    assert proc.returncode == status, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    # the stages it went through (a line each as it ends), then the one error line
    line = f"error: {'interrupted' if signum == signal.SIGINT else 'stopped by SIGTERM'}; no files were written"
    assert [x for x in stderr.splitlines() if x.startswith("error:")] == [line], stderr[-3000:]
    assert stderr.splitlines()[-1] == line and stdout == ""


def test_a_program_that_imports_bulletin_keeps_its_own_handlers():
    code = ("import signal\nimport bulletin, bulletin.__main__\nfrom bulletin import render\n"
            "print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, signal.getsignal(signal.SIGINT) is signal.default_int_handler)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["True", "True"], run.stderr
