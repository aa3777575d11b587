"""Neural speed and memory (issue 8): ratios measured in one run, printed; not timed tests.

    .venv/bin/python scripts/bench.py [STORY] [--jobs N] [--long] [--minutes 15,30,60]

The story (default: the example) is cast as `auto` casts it with the neural engines, every
member pinned to a neural preset where one is left, and written to a scratch folder. Then:

1. raw inference: every sentence of that story (as the renderer splits and respells them)
   said by the engines directly (`engine.synthesize`, nothing else) in N spawned worker
   processes, each creating its engine once; wall time from starting the pool to the last
   sentence. This is the floor a render of the same speech cannot beat.
2. cold render: `bulletin render --jobs N` of the same story with an empty take cache, in its
   own process (Python start included); ratio to 1 (target at most 1.15).
3. one word edited in the longest reporter segment, rendered again (warm cache: one sentence
   is new); ratio to 2 (target at most 0.1).
4. warm preview of that segment, `bulletin preview STORY N`: wall time (target under 0.6 s).
5. the Broadcast WAV's cost: a warm render (every take cached) against what the bext and cart
   chunks add to it (the loudness range and maxima read off the meter, the chunks' contents,
   writing and restamping them), timed in this process on the warm render's own WAV and
   timeline (target at most 3%). `--air` measures only this (one render first warms the cache).
6. word timings: what they add to a cold render (target at most 2%): the engines' mapping of
   phonemes to words (CPU time inside the workers of step 1, shared over the workers), the
   model's added duration output (six sentences run with and without it, in CPU time, times the
   sentences, over the workers) and the export's part (written words, captions, transcript).

`--long` adds generated neural bulletins of --minutes (the story's parts repeated, each copy's
lines opening with other words so no sentence repeats): cold render wall time, seconds per
audio minute (linear within 10%) and peak RSS of the largest process (target under 1.5 GB for
60 minutes). They take long on two cores: about half an hour for 15, 30 and 60 minutes.
Wall times are of separate processes, run by a small wrapper that reports the peak memory of
its children (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
# runs a command, then prints its wall time, the peak RSS of its children (kB) and its status
WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "sys.stderr.write(r.stderr)\n"
    "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n"
)
# the take cache holds every sentence of the longest bulletin, so that warm is warm
CACHE_MB = "4096"
TARGETS = {"cold / raw": 1.15, "edit / cold": 0.1, "preview s": 0.6, "peak GB": 1.5, "linearity": 0.10,
           "air share": 0.03, "timings / cold": 0.02, "estimate error": 0.015, "fitted / cold": 1.25,
           "fitted edit / cold": 0.15}


def run(args: list[str], cache: Path) -> tuple[float, float]:
    """(wall seconds, peak MB) of one command in its own wrapper process."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), BULLETIN_CACHE_MB=CACHE_MB)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: bytecode cached, not compiled each start
    done = subprocess.run([PYTHON, "-c", WRAPPER, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    wall, rss_kb, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"failed ({code}): {' '.join(args)}\n{done.stderr}")
    return float(wall), int(rss_kb) / 1024


def render_cmd(story: Path, out: Path, jobs: int) -> list[str]:
    return [PYTHON, "-m", "bulletin", "render", str(story), "-o", str(out), "--jobs", str(jobs)]


# The story, cast neural ------------------------------------------------------------------------


def neural_plan(story_path: Path):  # noqa: ANN201
    """The story's plan with every member cast `auto` (neural first), whatever it names."""
    from bulletin.pipeline.planning import cast_story
    from bulletin.script.story import load_story

    story = load_story(story_path)
    story = replace(story, cast={k: replace(m, voice="auto") for k, m in story.cast.items()})
    return cast_story(story)


def story_yaml(story, cast: dict, stories: list | None = None) -> str:  # noqa: ANN001
    """A story file for `story` (as loaded) with every member's voice pinned to `cast`."""
    import yaml

    m = story.master
    doc: dict = {"title": story.title, "date": story.date.isoformat(), "language": story.language,
                 "master": {"loudness": m.target_lufs, "sample_rate": m.sample_rate, "formats": list(m.formats),
                            "gap": m.gap_s, "story_gap": m.story_gap_s},
                 "pronounce": dict(story.pronounce),
                 "cast": {member.id: {"role": member.role, "name": member.name, "voice": cast[member.id].name,
                                      "effect": member.effect} for member in story.cast.values()},
                 "stings": {name: sound.label for name, sound in story.stings.items()},
                 "stories": [_part(part, story) for part in (stories if stories is not None else story.stories)]}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000)


def _part(part, story) -> dict:  # noqa: ANN001
    out: dict = {"headline": part.headline, "segments": []}
    if part.bed:
        out["bed"] = part.bed.label
    for s in part.segments:
        if s.kind == "speech":
            seg = {"speaker": s.speaker, "text": s.text, "rate": s.rate} | ({"effect": s.effect} if s.effect else {})
        elif s.kind == "sting":
            seg = {"sting": s.sting if s.sting in story.stings else s.sound.label}
        elif s.kind == "pause":
            seg = {"pause": s.pause_s}
        else:
            raise SystemExit(f"bench: {s.kind} segments are not supported in generated stories")
        out["segments"].append(seg | ({"gap": s.gap_s} if s.gap_s is not None else {}))
    return out


def varied(part, n: int):  # noqa: ANN001, ANN201
    """A copy of a story part whose speech says something different (copy `n`): one or two
    opening words, different for every copy, before each sentence and after each clause break.
    Long sentences are cached clause by clause, so a clause left as it was would be a cache hit
    in every later copy, and a longer bulletin would look faster per minute than it is."""
    from bulletin.engines.spoken import sentences
    from bulletin.sound.sentences import CLAUSE_BREAK

    words = ["Meanwhile", "Later", "Separately", "Elsewhere", "Also", "Today", "Earlier", "Now", "Again"]
    opening = words[n % len(words)] + (f" {words[n // len(words) - 1].lower()}" if n >= len(words) else "")

    def say(text: str) -> str:  # split as the renderer splits: sentences, then clause breaks
        return " ".join(f"{opening}, " + CLAUSE_BREAK.sub(lambda m: f"{m.group(0)} {opening.lower()},", sentence)
                        for sentence in sentences(text))

    segments = [replace(s, id=None, text=say(s.text)) if s.kind == "speech" else replace(s, id=None)
                for s in part.segments]
    return replace(part, headline=f"{part.headline} ({n + 1})", segments=segments)


def long_story(story, cast: dict, minutes: float, seconds_per_copy: float) -> str:  # noqa: ANN001
    copies = max(1, round(minutes * 60 / (seconds_per_copy * 1.04 + story.master.story_gap_s)))
    return story_yaml(story, cast, [varied(part, n) for n in range(copies) for part in story.stories])


def longest_reporter_segment(story) -> int:  # noqa: ANN001
    """The longest speech segment of a reporter (else of anyone): the one the edit changes."""
    speech = [s for s in story.segments if s.kind == "speech"]
    reporters = [s for s in speech if story.cast[s.speaker].role == "reporter"] or speech
    return max(reporters, key=lambda s: len(s.text or "")).index


def one_word_edited(text: str, segment_text: str) -> str:
    """The story file with one word of `segment_text` changed (a word in its middle)."""
    words = segment_text.split(" ")
    middle = next(i for i in range(len(words) // 2, len(words)) if words[i].isalpha())
    changed = " ".join(words[:middle] + ["also"] + words[middle + 1:])
    flat = " ".join(segment_text.split())
    if flat not in text:
        raise SystemExit("bench: the segment to edit is not written on one line in the story file")
    return text.replace(flat, changed, 1)


# Raw inference ---------------------------------------------------------------------------------


# what the engines do for word timings alone, beside synthesis: mapping phonemes to words
_TIMING_STEPS = ("phoneme_times", "prefix_groups", "regroup")
_timing_s = [0.0]


def _timed(function):  # noqa: ANN001, ANN202
    def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started = time.process_time()  # CPU time: what the work costs, whatever else runs
        try:
            return function(*args, **kwargs)
        finally:
            _timing_s[0] += time.process_time() - started
    return timed


def _say(job) -> tuple[float, float]:  # noqa: ANN001
    """In a worker: one sentence straight through its engine; seconds of audio, and seconds
    spent on its word timings' mapping (the model's durations come with its audio)."""
    from bulletin.engines import kokoro, piper, speak

    steps = [(module, name) for module in (kokoro, piper) for name in _TIMING_STEPS]
    for owner, name in [*steps, (kokoro.KokoroEngine, "_phonemize_words")]:  # and each word phonemized alone
        if hasattr(owner, name) and not hasattr(getattr(owner, name), "__wrapped_timing__"):
            wrapped = _timed(getattr(owner, name))
            wrapped.__wrapped_timing__ = True
            setattr(owner, name, wrapped)

    before = _timing_s[0]
    spoken = speak(job.text, job.preset, job.rate).audio.duration_s
    return spoken, _timing_s[0] - before


def duration_output_cost(plan, count: int = 6) -> float:  # noqa: ANN001
    """Seconds per sentence that Kokoro's added output (its phoneme durations) costs: `count`
    sentences run through the model with and without it, each twice in turn (with, without,
    without, with), the cheaper of each pair in CPU time (wall time on a shared machine is
    mostly the other jobs'), in this process."""
    import numpy as np

    from bulletin.engines import get_engine
    from bulletin.engines.kokoroparts import model_bytes
    from bulletin.engines.onnx import session
    from bulletin.sound.sentences import sentence_jobs
    from bulletin.sound.takes import speech_jobs

    kokoro = [s for s in sentence_jobs(speech_jobs(plan.story, plan.voices, 44100).values())
              if s.preset.engine == "kokoro"][:count]
    if not kokoro:
        return 0.0
    engine = get_engine("kokoro")
    engine.synthesize(kokoro[0].text, kokoro[0].preset, 1.0)  # loads the tokenizer and the session
    plain, timed = session(model_bytes(), "kokoro"), engine._session_once()
    spent = {"plain": 0.0, "timed": 0.0}
    for job in kokoro:
        tokens = engine._tokenizer.tokenize(engine._tokenizer.known(engine._phonemize(job.text)))
        style = engine._style(job.preset.voice)
        feed = {"tokens": np.array([[0, *tokens, 0]], np.int64), "style": style[len(tokens) - 1].reshape(1, -1),
                "speed": np.array([1.0], np.float32)}
        best = {"plain": float("inf"), "timed": float("inf")}
        for name, model in (("timed", timed), ("plain", plain), ("plain", plain), ("timed", timed)):
            started = time.process_time()  # CPU time of this process's onnxruntime threads
            model.run(None, feed)
            best[name] = min(best[name], time.process_time() - started)
        for name in spent:
            spent[name] += best[name]
    return (spent["timed"] - spent["plain"]) / len(kokoro)


def export_timing_cost(story_path: Path, cue: dict) -> float:
    """Seconds that the render's word-timing work after synthesis takes: the written words of
    every take (sound.words) and the captions, SRT and transcript cut from them."""
    import numpy as np

    from bulletin.export.files import captions
    from bulletin.mix.timeline import arrange
    from bulletin.script.story import load_story
    from bulletin.sound.store import Take
    from bulletin.sound.takes import respell
    from bulletin.sound.words import written_words

    story = load_story(story_path)
    timed = {s["index"]: s for s in cue["segments"] if s.get("words")}
    takes = {}
    for s in story.segments:
        if s.index in timed:
            entry = timed[s.index]
            times = np.array([[w["start"] - entry["start"], w["end"] - entry["start"]] for w in entry["words"]])
            spoken = respell(s.text or "", story.pronounce).split()
            if len(spoken) == len(times):  # as the take had them (respellings of one word each)
                takes[s.index] = Take.of(np.zeros((1, 1), np.float32), 44100, words=times)
    started = time.perf_counter()
    said = {s.index: written_words(s, takes[s.index], story.pronounce) for s in story.segments if s.index in takes}
    durations = {s["index"]: s["end"] - s["start"] for s in cue["segments"] if s["kind"] != "pause"}
    captions(story, arrange(story, durations, said))
    return time.perf_counter() - started


def raw_inference(plan, jobs: int) -> tuple[float, int, float, float]:  # noqa: ANN001
    """(wall seconds, sentences, seconds of speech, seconds of word-timing mapping) of every
    sentence of `plan` said by its engine in `jobs` spawned worker processes, pool start and
    model loading included."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from bulletin.sound.sentences import sentence_jobs
    from bulletin.sound.takes import speech_jobs

    sentences = sentence_jobs(speech_jobs(plan.story, plan.voices, plan.story.master.sample_rate).values())
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        said = list(pool.map(_say, sentences))
    return time.perf_counter() - started, len(sentences), sum(s for s, _ in said), sum(t for _, t in said)


# Runs ------------------------------------------------------------------------------------------


def example(story: Path, work: Path, jobs: int) -> dict:
    """Raw inference, cold render, one-word edit and warm preview of `story` (cast neural)."""
    from bulletin.pipeline.planning import plan

    p = plan(story)
    raw_s, sentences, speech_s, mapping_s = raw_inference(p, jobs)
    cache, out = work / "cache", work / "out"
    cold_s, cold_mb = run(render_cmd(story, out, jobs), cache)
    index = longest_reporter_segment(p.story)
    original = story.read_text()
    segment = next(s for s in p.story.segments if s.index == index)
    story.write_text(one_word_edited(original, segment.text or ""))
    edit_s, _ = run(render_cmd(story, out, jobs), cache)
    story.write_text(original)
    run([PYTHON, "-m", "bulletin", "preview", str(story), str(index), "-o", str(out / "preview.wav")], cache)
    previews = [run([PYTHON, "-m", "bulletin", "preview", str(story), str(index), "-o", str(out / "preview.wav")],
                    cache)[0] for _ in range(3)]
    cue = cue_of(out)
    audio_s = cue["duration"]
    # word timings: the engines' mapping (summed over the workers: CPU seconds, at most the wall
    # time they add), the added model output per sentence times the sentences, and the export
    timing_s = mapping_s / jobs + duration_output_cost(p) * sentences / jobs + export_timing_cost(story, cue)
    return {"raw_s": raw_s, "sentences": sentences, "speech_s": speech_s, "cold_s": cold_s, "cold_mb": cold_mb,
            "edit_s": edit_s, "preview_s": sorted(previews)[1], "segment": index, "audio_s": audio_s,
            "timing_s": timing_s, "mapping_s": mapping_s}


def broadcast_wav_cost(story: Path, work: Path, jobs: int) -> None:
    """Print what the bext and cart chunks cost against a warm render of `story` (item 5)."""
    import io

    import numpy as np
    import soundfile as sf

    from bulletin.export.bwf import loudness_bytes
    from bulletin.export.files import WavWriter
    from bulletin.export.onair import on_air
    from bulletin.pipeline.checking import check
    from bulletin.sound.loudness import LoudnessMeter

    cache, out = work / "cache", work / "out"
    run(render_cmd(story, out, jobs), cache)  # warms the cache (or finds it warm)
    warm = sorted(run(render_cmd(story, out, jobs), cache)[0] for _ in range(3))[1]
    wav = next(p for p in out.glob("*.wav") if p.name != "preview.wav")
    data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    meter = LoudnessMeter(rate, data.shape[1], data.shape[0])
    meter.add(data)
    timeline = check(story).timeline

    def extras() -> None:
        figures = meter.figures()  # what the render computes beyond the integrated loudness
        air = on_air(check_story, timeline, rate, data.shape[1], frames=data.shape[0])
        writer = WavWriter(io.BytesIO(), air.chunks())
        writer.begin(0, data.shape[1], rate)
        writer.restamp(air.chunks(loudness_bytes(figures.integrated_lufs, figures.range_lu, -1.0,
                                                 figures.max_momentary_lufs, figures.max_short_term_lufs)))

    check_story = check(story).plan.story
    times = []
    for _ in range(20):
        began = time.perf_counter()
        extras()
        meter.integrated_lufs()  # subtracted below: the render measured this before too
        middle = time.perf_counter()
        meter.integrated_lufs()
        times.append(2 * middle - began - time.perf_counter())
    cost = float(np.median(times))
    share = cost / warm
    met = "met" if share <= TARGETS["air share"] else "MISSED"
    print(f"warm render (median of 3)        {warm:8.2f} s; bext and cart chunks {1000 * cost:.2f} ms = "
          f"{100 * share:.4f}% of it (target at most {100 * TARGETS['air share']:g}%: {met})")


def verdict(value: float, target_key: str, below: bool = True) -> str:
    target = TARGETS[target_key]
    ok = value <= target if below else value >= target
    return f"(target {'<=' if below else '>='} {target:g}: {'met' if ok else 'MISSED'})"


def report_example(r: dict, p, jobs: int) -> None:  # noqa: ANN001
    cast = ", ".join(f"{m}={preset.name} ({preset.engine} {preset.engine_voice})" for m, preset in p.cast.items())
    print(f"cast: {cast}")
    print(f"{r['sentences']} sentences, {r['speech_s']:.1f} s of raw speech; the render {r['audio_s']:.1f} s; "
          f"{jobs} worker processes")
    print(f"raw inference (engines only)     {r['raw_s']:8.2f} s  ({r['speech_s'] / r['raw_s']:.1f}x real time)")
    ratio = r["cold_s"] / r["raw_s"]
    print(f"cold neural render               {r['cold_s']:8.2f} s  cold / raw = {ratio:.3f} {verdict(ratio, 'cold / raw')}"
          f"; peak {r['cold_mb']:.0f} MB")
    ratio = r["edit_s"] / r["cold_s"]
    print(f"one word edited (segment {r['segment']:>2})     {r['edit_s']:8.2f} s  edit / cold = {ratio:.3f} "
          f"{verdict(ratio, 'edit / cold')}")
    print(f"warm preview of segment {r['segment']:>2}       {r['preview_s']:8.2f} s  {verdict(r['preview_s'], 'preview s')}")
    ratio = r["timing_s"] / r["cold_s"]
    print(f"word timings (mapping {r['mapping_s']:.2f} CPU s) {r['timing_s']:8.2f} s  timings / cold = {ratio:.4f} "
          f"{verdict(ratio, 'timings / cold')}")


def long_runs(p, work: Path, jobs: int, minutes: list[float], seconds_per_copy: float) -> None:  # noqa: ANN001
    print(f"\n{'generated':>10}{'audio min':>10}{'cold s':>9}{'s/audio min':>13}{'peak MB':>9}")
    rows = []
    for m in minutes:
        path = work / f"long{m:g}" / "story.yaml"
        path.parent.mkdir()
        path.write_text(long_story(p.story, p.cast, m, seconds_per_copy))
        out = work / f"long-out{m:g}"
        wall, mb = run(render_cmd(path, out, jobs), work / f"long-cache{m:g}")
        audio_min = cue_of(out)["duration"] / 60

        rows.append((wall / audio_min, mb))
        print(f"{m:>6g} min{audio_min:10.1f}{wall:9.1f}{wall / audio_min:13.2f}{mb:9.0f}")
    per_minute = [r[0] for r in rows]
    spread = max(per_minute) / min(per_minute) - 1
    print(f"linearity: seconds per audio minute within {100 * spread:.1f}% of each other {verdict(spread, 'linearity')}")
    peak_gb = rows[-1][1] / 1024
    print(f"{minutes[-1]:g}-minute peak RSS {peak_gb:.2f} GB {verdict(peak_gb, 'peak GB')}")


def cue_of(folder: Path) -> dict:
    """The cue sheet a render wrote into `folder` (not the .transcript.json beside it)."""
    return json.loads(next(c for c in folder.glob("*.json") if not c.name.endswith(".transcript.json")).read_text())


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("story", nargs="?", type=Path, default=ROOT / "examples" / "gsomia" / "story.yaml")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    parser.add_argument("--long", action="store_true", help="also the generated long bulletins (slow)")
    parser.add_argument("--fit", action="store_true",
                        help="only fitting to a post: the fitted renders' cost and the estimate of the example")
    parser.add_argument("--estimate", action="store_true",
                        help="only the estimate's accuracy on the example, the harbour and scripts/stories")
    parser.add_argument("--minutes", default="15,30,60", help="their lengths (default 15,30,60)")
    parser.add_argument("--air", action="store_true", help="only the Broadcast WAV chunks' cost against a warm render")
    args = parser.parse_args()
    print(f"cpu: {_cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")

    p = neural_plan(args.story.resolve())
    if not any(preset.neural for preset in p.cast.values()):
        raise SystemExit("bench: no neural engine loads here (pip install -e '.[neural]'); nothing to measure")
    with tempfile.TemporaryDirectory(prefix="bulletin-bench-") as tmp:
        work = Path(tmp)
        story = work / "story" / "story.yaml"
        story.parent.mkdir()
        story.write_text(story_yaml(p.story, p.cast))
        load_before = os.getloadavg()[0]
        if args.fit:
            from scripts.bench_fit import fitting, report_fitting

            report_fitting(fitting(story, work / "fitting", args.jobs))
            return
        if args.estimate:
            from scripts.bench_fit import ESTIMATE_STORIES, estimate_accuracy, report_estimates

            report_estimates(estimate_accuracy(work, args.jobs, ESTIMATE_STORIES))
            return
        if args.air:
            broadcast_wav_cost(story, work / "air", args.jobs)
            return
        r = example(story, work / "example", args.jobs)
        report_example(r, p, args.jobs)
        print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores "
              "(other work on the machine inflates every time)")
        broadcast_wav_cost(story, work / "example", args.jobs)
        if args.long:
            minutes = sorted(float(m) for m in args.minutes.split(",") if m.strip())
            long_runs(p, work, args.jobs, minutes, r["audio_s"])


if __name__ == "__main__":
    main()
