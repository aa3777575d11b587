"""Benchmark renders against the floor, as issue 4 asks; prints one compact table.

    .venv/bin/python scripts/bench.py [STORY] [--repeat N] [--long 15,30,60 | --no-long] [--as-cast]

Every render is a separate `python -m bulletin` process (Python start included), run from a
small wrapper process that reports its wall time and peak memory (ru_maxrss of its children,
resource.getrusage(RUSAGE_CHILDREN)). For the example (default examples/gsomia/story.yaml):

- cold render: WAV + MP3 with an empty take cache (XDG_CACHE_HOME in a fresh folder);
- warm render: the same again;
- warm render after one edit: one segment's text changed;
- preview: `bulletin preview STORY 2` with the warm cache;
- the floor (where espeak-ng and ffmpeg are installed): the espeak-ng command line speaking
  the same texts with the same voices to WAV files, one process per take, then ffmpeg encoding
  the rendered WAV to 128 kbps CBR MP3; the render/floor ratio.

Each is the median of --repeat runs (the machine may be busy: repeat), as wall time and as CPU
time (user + system of all the render's processes and threads: on a busy machine the truer
measure of work). Per-stage times come from further cold renders run in-process in a child
Python (medians). Then generated bulletins of --long minutes (the example's stories repeated,
every copy's lines opening with different words): cold render time and peak memory each, time
per audio minute for linearity, and for the longest also warm, one edit and preview. Renders
run with BULLETIN_CACHE_MB=4096, so the longest bulletin's takes all stay in the cache.

The bench renders the example with espeak-ng voices: where `auto` casting would pick a voice
on another engine (the neural preset, when installed), that member is pinned to the preset
casting picks among espeak-ng presets, so the floor is the same work (--as-cast: as cast).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STAGES = ("import", "load", "cast", "synthesize", "arrange", "mix", "master", "encode")
# runs a command, then prints its wall time and the peak RSS of its children (kB on Linux)
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "sys.stderr.write(r.stderr)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(wall, u.ru_maxrss, r.returncode, u.ru_utime + u.ru_stime)\n"
)


# the take cache holds every take of the longest bulletin (the default 512 MB holds about 48
# minutes of takes at 44.1 kHz), so that warm is warm
CACHE_MB = "4096"


def run(args: list[str], cache: Path, check: bool = True) -> tuple[float, float, str]:
    """(wall seconds, peak MB, stderr) of one command in its own wrapper process; its CPU time
    (user + system, all its processes) in LAST_CPU[0]."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), BULLETIN_CACHE_MB=CACHE_MB)
    done = subprocess.run([PYTHON, "-c", WRAPPER, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    wall, rss_kb, code, cpu = done.stdout.split()
    if check and code != "0":
        raise SystemExit(f"failed ({code}): {' '.join(args)}\n{done.stderr}")
    LAST_CPU[0] = float(cpu)
    return float(wall), int(rss_kb) / 1024, done.stderr


LAST_CPU = [0.0]


def render_cmd(story: Path, out: Path, jobs: int | None) -> list[str]:
    return [PYTHON, "-m", "bulletin", "render", str(story), "-o", str(out)] + (["--jobs", str(jobs)] if jobs else [])


STAGED = (
    "import json, sys, time\n"
    "t0 = time.perf_counter()\n"
    "from pathlib import Path\n"
    "import bulletin.__main__, bulletin.pipeline.render\n"
    "marks = [('import', t0), ('load', time.perf_counter())]\n"
    "stage = lambda name: marks.append((name, time.perf_counter())) if name != 'load' else None\n"
    "bulletin.pipeline.render.render(Path(sys.argv[1]), Path(sys.argv[2]), on_stage=stage)\n"
    "marks.append(('end', time.perf_counter()))\n"
    "print(json.dumps({a: c - b for (a, b), (_, c) in zip(marks, marks[1:])}))\n"
)


def stage_times(story: Path, out: Path, cache: Path) -> dict[str, float]:
    """Per-stage wall times of a cold render run in-process in a child Python (`start`: the
    interpreter starting, before the first import; `import`: importing the render)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", STAGED, str(story), str(out)], env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"staged render failed:\n{done.stderr}")
    times = json.loads(done.stdout.strip().splitlines()[-1])
    return {"start": wall - sum(times.values()), **times}


# Stories -------------------------------------------------------------------------------------


def story_yaml(story, cast: dict, stories: list | None = None) -> str:  # noqa: ANN001
    """A story file for `story` (as loaded) with every member's voice pinned to `cast`."""
    import yaml

    m = story.master
    doc: dict = {"title": story.title, "date": story.date.isoformat(), "language": story.language,
                 "master": {"loudness": m.target_lufs, "sample_rate": m.sample_rate, "formats": list(m.formats),
                            "mp3_bitrate": m.mp3_bitrate, "gap": m.gap_s, "story_gap": m.story_gap_s}}
    if story.pronounce:
        doc["pronounce"] = dict(story.pronounce)
    doc["cast"] = {}
    for member in story.cast.values():
        entry = {"role": member.role, "name": member.name, "voice": cast[member.id].name}
        if member.title:
            entry["title"] = member.title
        doc["cast"][member.id] = entry
    if story.stings:
        doc["stings"] = {name: sound.label for name, sound in story.stings.items()}
    doc["stories"] = []
    for part in stories if stories is not None else story.stories:
        out = {"headline": part.headline, "segments": []}
        if part.bed:
            out["bed"] = part.bed.label
        for s in part.segments:
            if s.kind == "speech":
                seg = {"speaker": s.speaker, "text": s.text}
                if s.rate != 1.0:
                    seg["rate"] = s.rate
                if s.effect and s.effect != "none":
                    seg["effect"] = s.effect
            elif s.kind == "sting":
                seg = {"sting": s.sting if s.sting in story.stings else s.sound.label}
            elif s.kind == "pause":
                seg = {"pause": s.pause_s}
            else:
                raise SystemExit(f"bench: {s.kind} segments are not supported in generated stories")
            if s.gap_s is not None:
                seg["gap"] = s.gap_s
            if s.id:
                seg["id"] = s.id
            out["segments"].append(seg)
        doc["stories"].append(out)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000)


def espeak_cast(story_path: Path):  # noqa: ANN201
    """The example's plan, and its cast with members on other engines moved to espeak-ng."""
    from bulletin.cast.casting import cast_voices
    from bulletin.pipeline.render import plan

    p = plan(story_path)
    pinned = cast_voices(p.story, p.presets, lambda preset: preset.engine == "espeak")
    cast = {m: (preset if preset.engine == "espeak" else pinned[m]) for m, preset in p.cast.items()}
    moved = {m: f"{p.cast[m].name} -> {cast[m].name}" for m in cast if cast[m] is not p.cast[m]}
    return p, cast, moved


def varied(part, n: int):  # noqa: ANN001, ANN201
    """A copy of a story part whose speech says something different (repetition `n`): one or
    two opening words, different for every copy, so no take repeats (about 4% longer)."""
    from dataclasses import replace

    words = ["Meanwhile", "Later", "Separately", "Elsewhere", "Also", "Today", "Earlier", "Now", "Again"]
    opening = words[n % len(words)] + (f" {words[n // len(words) - 1].lower()}" if n >= len(words) else "")
    segments = [replace(s, id=None, text=f"{opening}, {s.text}") if s.kind == "speech" else replace(s, id=None)
                for s in part.segments]
    return replace(part, headline=f"{part.headline} ({n + 1})", segments=segments)


def long_story(story, cast: dict, minutes: float, seconds_per_copy: float) -> str:  # noqa: ANN001
    copies = max(1, round(minutes * 60 / (seconds_per_copy * 1.04 + story.master.story_gap_s)))
    parts = [varied(part, n) for n in range(copies) for part in story.stories]
    return story_yaml(story, cast, parts)


def edited(text: str) -> str:
    """The story with one segment's text changed (the second anchor line)."""
    return text.replace("There are no signs, however,", "There is no sign, however,", 1) if "There are no signs, however," in text \
        else text.replace("text: ", "text: Today, ", 1)


# The floor -------------------------------------------------------------------------------------


def floor(p, cast: dict, wav: Path, folder: Path) -> tuple[float, float, float] | None:  # noqa: ANN001
    """(espeak-ng seconds, ffmpeg seconds, CPU seconds of both), or None without the tools."""
    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg")):
        return None
    import resource

    from bulletin.sound.takes import respell

    commands = []
    for i, s in enumerate(x for x in p.story.segments if x.kind == "speech"):
        preset = p.presets[s.voice] if s.voice and s.voice != "auto" else cast[s.speaker]
        text = respell(s.text or "", p.story.pronounce)
        commands.append(["espeak-ng", "-v", preset.voice, "-s", str(round(preset.rate_wpm * s.rate)),
                         "-p", str(preset.pitch), "-a", str(preset.volume), "-w", str(folder / f"take{i}.wav"), text])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, capture_output=True)
    speech = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "128k",
                    str(folder / "floor.mp3")], check=True)
    mp3 = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return speech, mp3, cpu


# Measuring -------------------------------------------------------------------------------------


def measure(story: Path, work: Path, repeat: int, jobs: int | None, preview_ref: str = "2",
            with_floor: tuple | None = None) -> dict:
    """Median cold, warm, edited and preview times of `story` (and the floor)."""
    keys = ("cold", "warm", "edit", "preview", "cold_mb", "speech", "mp3", "floor_cpu",
            "cold_cpu", "warm_cpu", "edit_cpu", "preview_cpu")
    results: dict[str, list[float]] = {k: [] for k in keys}
    stages: list[dict[str, float]] = []
    audio_s = 0.0
    original = story.read_text()
    for n in range(repeat):
        cache, out = work / f"cache{n}", work / f"out{n}"
        story.write_text(original)
        wall, mb, log = run(render_cmd(story, out, jobs), cache)
        results["cold"].append(wall)
        results["cold_cpu"].append(LAST_CPU[0])
        results["cold_mb"].append(mb)
        if with_floor is not None:  # the example: per-stage times too, from another cold render
            stages.append(stage_times(story, work / f"staged{n}", work / f"staged-cache{n}"))
        cue = json.loads(next(out.glob("*.json")).read_text())
        audio_s = cue["duration"]
        results["warm"].append(run(render_cmd(story, out, jobs), cache)[0])
        results["warm_cpu"].append(LAST_CPU[0])
        story.write_text(edited(original))
        results["edit"].append(run(render_cmd(story, out, jobs), cache)[0])
        results["edit_cpu"].append(LAST_CPU[0])
        story.write_text(original)
        results["preview"].append(run([PYTHON, "-m", "bulletin", "preview", str(story), preview_ref,
                                       "-o", str(out / "preview.wav")], cache)[0])
        results["preview_cpu"].append(LAST_CPU[0])
        if with_floor is not None:
            f = floor(*with_floor, next(out.glob("*.wav")), work)
            if f:
                results["speech"].append(f[0])
                results["mp3"].append(f[1])
                results["floor_cpu"].append(f[2])
        shutil.rmtree(cache, ignore_errors=True)
    story.write_text(original)
    median = {k: statistics.median(v) for k, v in results.items() if v}
    median["stages"] = {k: statistics.median(s.get(k, float("nan")) for s in stages) for k in ("start", *STAGES)} if stages else {}
    median["audio_s"] = audio_s
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("story", nargs="?", type=Path, default=ROOT / "examples" / "gsomia" / "story.yaml")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians (default 3)")
    parser.add_argument("--long", default="15,30,60", help="minutes of the generated bulletins (default 15,30,60)")
    parser.add_argument("--no-long", action="store_true", help="skip the generated bulletins")
    parser.add_argument("--long-repeat", type=int, default=1, help="runs per long bulletin (default 1)")
    parser.add_argument("--as-cast", action="store_true", help="keep voices on engines other than espeak-ng")
    parser.add_argument("--jobs", type=int, help="passed to render")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    p, cast, moved = espeak_cast(args.story.resolve())
    if args.as_cast:
        cast, moved = p.cast, {}
    with tempfile.TemporaryDirectory(prefix="bulletin-bench-") as tmp:
        work = Path(tmp)
        story = work / "story" / "story.yaml"
        story.parent.mkdir()
        if moved:
            story.write_text(story_yaml(p.story, cast))
        else:
            shutil.copy(args.story, story)
        ex = measure(story, work / "example", args.repeat, args.jobs, with_floor=(p, cast))
        cold = ex["cold"]
        print(f"story: {args.story} ({ex['audio_s']:.1f} s of audio)" + (f"; pinned to espeak-ng: {moved}" if moved else ""))
        print(f"medians of {args.repeat} runs, wall time of separate processes (Python start included)")
        print(f"{'':32}{'wall s':>8}{'x cold':>8}{'cpu s':>8}{'x cold':>8}")
        for key, label in (("cold", "cold render (WAV+MP3)"), ("warm", "warm render"),
                           ("edit", "warm render, one segment edited"), ("preview", "preview, one segment (warm)")):
            cpu = ex[f"{key}_cpu"]
            print(f"{label:32}{ex[key]:8.3f}{ex[key] / cold:8.2f}{cpu:8.3f}{cpu / ex['cold_cpu']:8.2f}")
        if "speech" in ex:
            total = ex["speech"] + ex["mp3"]
            print(f"{'floor (espeak-ng + ffmpeg)':32}{total:8.3f}{total / cold:8.2f}{ex['floor_cpu']:8.3f}"
                  f"{ex['floor_cpu'] / ex['cold_cpu']:8.2f}   = espeak-ng {ex['speech']:.3f} + ffmpeg 128k {ex['mp3']:.3f}")
            print(f"{'cold render / floor':32}{cold / total:8.2f}{'':8}{ex['cold_cpu'] / ex['floor_cpu']:8.2f}")
        else:
            print("floor: espeak-ng or ffmpeg not installed")
        print("stages of a cold render, in-process (s): " + "  ".join(f"{k} {v:.3f}" for k, v in ex["stages"].items()))
        print(f"real-time factor (cold): {ex['audio_s'] / cold:.0f}x; peak memory {ex['cold_mb']:.0f} MB")
        if args.no_long:
            return
        minutes = [float(m) for m in args.long.split(",") if m.strip()]
        print()
        print(f"{'generated':12}{'audio min':>10}{'cold s':>9}{'s/audio min':>13}{'cpu s':>8}{'cpu/audio min':>15}{'peak MB':>9}")
        runs: list[dict] = []
        longest = None
        for m in minutes:
            path = work / f"long{m:g}" / "story.yaml"
            path.parent.mkdir()
            path.write_text(long_story(p.story, cast, m, ex["audio_s"]))
            if m == max(minutes):
                longest = measure(path, work / f"run{m:g}", args.long_repeat, args.jobs, preview_ref="2")
                r = longest
            else:
                walls, cpus, mbs, audio = [], [], [], 0.0
                for n in range(args.long_repeat):
                    out = work / f"run{m:g}-{n}"
                    wall, mb, _ = run(render_cmd(path, out, args.jobs), work / f"cache-long{m:g}-{n}")
                    walls.append(wall)
                    cpus.append(LAST_CPU[0])
                    mbs.append(mb)
                    audio = json.loads(next(out.glob("*.json")).read_text())["duration"]
                    shutil.rmtree(work / f"cache-long{m:g}-{n}", ignore_errors=True)
                r = {"cold": statistics.median(walls), "cold_cpu": statistics.median(cpus),
                     "cold_mb": statistics.median(mbs), "audio_s": audio}
            r["per_minute"] = r["cold"] / (r["audio_s"] / 60)
            r["cpu_per_minute"] = r["cold_cpu"] / (r["audio_s"] / 60)
            runs.append(r)
            print(f"{m:>8g} min{r['audio_s'] / 60:10.1f}{r['cold']:9.2f}{r['per_minute']:13.3f}"
                  f"{r['cold_cpu']:8.2f}{r['cpu_per_minute']:15.3f}{r['cold_mb']:9.0f}")
        if len(runs) > 1:
            for key, what in (("per_minute", "wall"), ("cpu_per_minute", "CPU")):
                values = [r[key] for r in runs]
                print(f"linearity ({what}): seconds per audio minute within {100 * (max(values) / min(values) - 1):.1f}% "
                      "of each other")
            steps = [(b["cold"] - a["cold"]) / ((b["audio_s"] - a["audio_s"]) / 60) for a, b in zip(runs, runs[1:], strict=False)]
            print("  wall seconds per added audio minute: " + ", ".join(f"{x:.3f}" for x in steps))
        if longest is not None:
            c = longest["cold"]
            print(f"{max(minutes):g}-minute: warm {longest['warm']:.2f} s ({longest['warm'] / c:.2f}x cold), "
                  f"one edit {longest['edit']:.2f} s ({longest['edit'] / c:.2f}x), "
                  f"preview {longest['preview']:.2f} s ({longest['preview'] / c:.2f}x)")


if __name__ == "__main__":
    main()
