"""Does mixing and mastering cost the neural voice intelligibility? Word error rates of an
offline speech recogniser on the same texts, three ways:

- raw: the Piper voice reading each segment's written text, fresh, as a listener would hear the
  engine alone (averaged over --runs syntheses, because a VITS voice never says a line twice
  the same way);
- take: the very takes that went into the bulletin (from the take cache, after the effect,
  before mixing);
- mastered: the same stretches cut out of the mastered WAV by the cue sheet.

take vs mastered isolates what the mix and the master do to the same audio; raw vs mastered is
the comparison issue 3's check makes. PocketSphinx is chaotic: delaying a take by 7 samples at
44.1 kHz (inaudible) changed its WER on this story's anchor from 0.262 to 0.369. So every input
is transcribed at several inaudible delays (OFFSETS) and the WERs averaged; the spread printed
beside each mean is the recogniser's own noise, and differences well inside it mean nothing. WER is counted over all the voice's segments together,
against the written text (lower-cased, punctuation and hyphens dropped).

The recogniser is PocketSphinx, whose wheel ships an en-US acoustic model, language model and
dictionary, so this runs offline. It is not a project dependency; install it into the venv:

    .venv/bin/pip install -e '.[neural]' pocketsphinx

    .venv/bin/python scripts/intelligibility.py [examples/gsomia/story-neural.yaml] [--runs 3]

PocketSphinx's general-English model is much weaker than a modern recogniser, so its absolute
WER is high; the differences between the three columns are what this measures.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RECOGNISER_RATE_HZ = 16_000
# delays, in samples at 16 kHz (0-1.2 ms), at which every input is transcribed
OFFSETS = (0, 3, 7, 12, 19)


def words(text: str) -> list[str]:
    """Text as the words a recogniser could write: lower case, no punctuation or hyphens."""
    text = text.lower().replace("-", " ").replace(".", "")
    return re.sub(r"[^a-z0-9' ]+", " ", text).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions, deletions, insertions)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def wer(refs: list[str], hyps: list[str]) -> float:
    """Errors over reference words, all segments together."""
    errors = sum(edit_distance(words(r), words(h)) for r, h in zip(refs, hyps, strict=True))
    return errors / max(1, sum(len(words(r)) for r in refs))


class Recogniser:
    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError:
            sys.exit("needs PocketSphinx: .venv/bin/pip install pocketsphinx")
        # batch cepstral mean normalisation: each utterance is normalised on its own, so an
        # answer does not depend on the utterances transcribed before it (the default, live,
        # carries the mean over)
        self._decoder = Decoder(samprate=RECOGNISER_RATE_HZ, loglevel="FATAL", cmn="batch")

    def transcribe(self, samples: np.ndarray, rate_hz: int) -> list[str]:
        """One transcript per delay in OFFSETS."""
        import soxr

        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        audio = soxr.resample(mono.astype(np.float32), rate_hz, RECOGNISER_RATE_HZ, quality="HQ")
        # the same level for every input, so the recogniser's own level tracking starts alike
        peak = float(np.abs(audio).max()) or 1.0
        pcm = (np.clip(audio / peak * 0.7, -1, 1) * 32767).astype(np.int16)
        found = []
        for offset in OFFSETS:
            self._decoder.start_utt()
            self._decoder.process_raw(np.concatenate([np.zeros(offset, np.int16), pcm]).tobytes(), full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            found.append(hyp.hypstr if hyp else "")
        return found


def wers(refs: list[str], hyps: list[list[str]]) -> list[float]:
    """WER at each delay: hyps[segment][delay]."""
    return [wer(refs, [h[i] for h in hyps]) for i in range(len(OFFSETS))]


def summary(values: list[float]) -> str:
    return f"{np.mean(values):.3f}  (range {min(values):.3f}-{max(values):.3f} over {len(values)} transcriptions)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("story", nargs="?", type=Path, default=ROOT / "examples/gsomia/story-neural.yaml")
    parser.add_argument("--engine", default="piper", help="measure the segments spoken by this engine")
    parser.add_argument("--runs", type=int, default=2, help="fresh raw syntheses to average")
    parser.add_argument("-o", "--output", type=Path, help="render folder (default: a temporary one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every transcript (no delay)")
    args = parser.parse_args()

    import soundfile as sf

    from bulletin.engines import get_engine
    from bulletin.pipeline.render import plan, render
    from bulletin.sound.cache import TakeCache
    from bulletin.sound.takes import speech_jobs

    recogniser = Recogniser()
    p = plan(args.story)
    chosen = [s for s in p.story.segments if s.kind == "speech" and p.voices[s.index].engine == args.engine]
    if not chosen:
        sys.exit(f"no speech segment of {args.story} is spoken by engine {args.engine!r}")
    refs = [s.text or "" for s in chosen]
    engine = get_engine(args.engine)

    out = args.output or Path(tempfile.mkdtemp(prefix="intelligibility-"))
    result = render(args.story, out, formats=["wav"], use_cache=True)
    mastered, rate_hz = sf.read(str(result.files["wav"]), always_2d=True, dtype="float32")
    spans = {c["index"]: (c["start"], c["end"]) for c in result.cue["segments"]}

    cache = TakeCache()
    jobs = speech_jobs(p.story, p.voices, p.story.master.sample_rate)
    hyps: dict[str, list[list[str]]] = {"take": [], "mastered": []}
    for s in chosen:
        job = jobs[s.index]
        take = cache.get(job.key(engine.version()))
        if take is None:
            sys.exit(f"segment {s.index}'s take is not in the cache (was the cache disabled?)")
        hyps["take"].append(recogniser.transcribe(take, job.rate_hz))
        start, end = spans[s.index]
        # the cue span is the audible span to 10 ms; a little margin keeps word edges whole
        first, last = max(0, round((start - 0.05) * rate_hz)), round((end + 0.05) * rate_hz)
        hyps["mastered"].append(recogniser.transcribe(mastered[first:last], rate_hz))
    raw: list[float] = []
    for run in range(args.runs):
        fresh = []
        for s in chosen:
            audio = engine.synthesize(s.text or "", p.voices[s.index], s.rate)
            fresh.append(recogniser.transcribe(audio.samples, audio.rate_hz))
        raw += wers(refs, fresh)
        if run == 0:
            hyps["raw"] = fresh

    take, master = wers(refs, hyps["take"]), wers(refs, hyps["mastered"])
    n_words = sum(len(words(r)) for r in refs)
    print(f"{args.story}: {len(chosen)} segments spoken by {args.engine}, {n_words} words; recogniser PocketSphinx en-US")
    print(f"WER raw      {summary(raw)}: {args.runs} fresh syntheses")
    print(f"WER take     {summary(take)}: the takes mixed into the bulletin")
    print(f"WER mastered {summary(master)}: cut from {result.files['wav'].name} by the cue sheet")
    print(f"mastered - raw {np.mean(master) - np.mean(raw):+.3f}; mastered - take {np.mean(master) - np.mean(take):+.3f}")
    if args.verbose:
        for i, s in enumerate(chosen):
            print(f"\n[{s.index}] {refs[i]}")
            for name in ("raw", "take", "mastered"):
                print(f"  {name:8} {hyps[name][i][0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
