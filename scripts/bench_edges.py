"""The promises at the edges of a command (issue 28), measured in one run and printed; not tests.

    .venv/bin/python scripts/bench_edges.py [--runs N] [--segment N]

1. signals: how long after its start a process catches SIGTERM (SigCgt in /proc, polled), for
   `python -m bulletin render`, the `bulletin` script, and a bare `python -c` that sets a
   handler first thing (the interpreter's own start-up, which no program can shorten). A
   signal before that moment ends the process by the signal itself.
2. `-o` refused: `render EXAMPLE -o FILE` (a file in the way), wall and CPU seconds, against
   `python -m bulletin --help` (the command's start-up alone).
3. preview of one short neural segment of the example to an MP3, cold (empty take cache) and
   warm: wall and CPU seconds of the whole process, and the stages it prints; then, in one
   process, where the cold preview's time goes (imports, casting, the model's bytes, the
   onnxruntime session, the phonemizer, the synthesis, the MP3).

On a busy machine wall times stretch with the load; CPU seconds (user + system, children
included) do not, so they are the figures to scale to a slower machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
EXAMPLE = ROOT / "examples" / "gsomia" / "story.yaml"
SCRIPT = Path(PYTHON).with_name("bulletin")
BARE = "import _signal, time\n_signal.signal(15, lambda *a: None)\ntime.sleep(30)"
# where a cold preview's time goes, step by step in one process (prints one line per step)
STEPS = """
import resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
last = [time.perf_counter(), cpu()]
def step(name):
    now = [time.perf_counter(), cpu()]
    print(f"  {name:<34} wall {now[0] - last[0]:6.2f} s   cpu {now[1] - last[1]:6.2f} s")
    last[:] = now
import bulletin.pipeline.render
step("import the pipeline (numpy, ...)")
from bulletin.engines import get_engine
from bulletin.pipeline.planning import cast_story
from bulletin.script.story import load_story
story = load_story(sys.argv[1])
step("load the story")
plan = cast_story(story)
step("cast (engines created, no model)")
segment = story.segment(sys.argv[2])
preset = plan.voices[segment.index]
engine = get_engine(preset.engine)
if preset.engine == "kokoro":
    from bulletin.engines import kokoroparts
    kokoroparts.model_bytes()
    step("kokoro: model bytes, SHA-256")
    engine._session_once()
    step("kokoro: onnxruntime session (bytes again)")
    engine._phonemize("Hello.")
    step("kokoro: phonemizer")
audio = engine.synthesize(segment.text, preset, segment.rate)
step(f"synthesize {audio.duration_s:.1f} s of speech")
from bulletin.export.single import mp3_bytes
mp3_bytes(audio)
step("encode the MP3")
"""


def handler_ms(command: list[str], runs: int) -> list[float]:
    """Milliseconds from each start until the process catches SIGTERM."""
    found = []
    for _ in range(runs):
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        began = time.perf_counter()
        while process.poll() is None:
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                break
            if int(status.split("SigCgt:")[1].split()[0], 16) & (1 << 14):
                found.append((time.perf_counter() - began) * 1000)
                break
        process.kill()
        process.wait()
    return found


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the process and its children, its stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done.stderr


def describe(values: list[float]) -> str:
    if not values:
        return "never seen"
    return f"median {statistics.median(values):5.0f} ms, min {min(values):4.0f}, max {max(values):4.0f} ({len(values)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--segment", default="4", help="a short speech segment of the example (default 4)")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = dict(os.environ, XDG_CACHE_HOME=str(folder / "cache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: bytecode cached
        subprocess.run([PYTHON, "-m", "bulletin", "--help"], cwd=ROOT, env=env, capture_output=True)  # bytecode
        render = ["render", str(EXAMPLE), "-o", str(folder / "out")]
        print("\n1. time until SIGTERM is handled")
        for name, command in (("python -m bulletin render", [PYTHON, "-m", "bulletin", *render]),
                              ("bulletin render (script)", [str(SCRIPT), *render]),
                              ("python -c (a handler first)", [PYTHON, "-c", BARE])):
            print(f"  {name:<28} {describe(handler_ms(command, args.runs))}")

        print("\n2. -o refused (a file in the way) against the command's start-up")
        (folder / "taken").write_text("a file")
        for name, command in (("python -m bulletin --help", [PYTHON, "-m", "bulletin", "--help"]),
                              ("render EXAMPLE -o FILE", [PYTHON, "-m", "bulletin", "render", str(EXAMPLE), "-o",
                                                          str(folder / "taken")])):
            wall, cpu_s, _ = timed(command, env)
            print(f"  {name:<28} wall {wall:5.2f} s   cpu {cpu_s:5.2f} s")

        print(f"\n3. preview EXAMPLE {args.segment} -o x.mp3")
        for name in ("cold", "warm"):
            wall, cpu_s, stderr = timed([PYTHON, "-m", "bulletin", "preview", str(EXAMPLE), args.segment, "-o",
                                         str(folder / "x.mp3")], env)
            print(f"  {name}: wall {wall:5.2f} s   cpu {cpu_s:5.2f} s")
            for line in stderr.splitlines():
                print(f"    {line}")
        print("  cold, step by step in one process:")
        sys.stdout.flush()
        env["XDG_CACHE_HOME"] = str(folder / "cache-steps")
        subprocess.run([PYTHON, "-c", STEPS, str(EXAMPLE), args.segment], cwd=ROOT, env=env)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
