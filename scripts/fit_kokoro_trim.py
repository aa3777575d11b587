"""Fit Kokoro's trimmed silence (bulletin/engines/kokoropace.py TRIM): how much of the audio
its duration predictor promises the engine cuts from a piece's ends.

    .venv/bin/python scripts/fit_kokoro_trim.py [--jobs 2] [--seed 1]

Pieces: the example's and the harbour's speech, as the renderer splits it into the pieces it
voices, and generated news lines of every style (scripts/fit_estimate.py's, and short ones:
greetings, questions, sign-offs), each said by one of the seven shipped Kokoro presets at a
pace of 0.94, 1.0 or 1.06. Every piece is voiced the renderer's way (sound.sentences:
the engine, then its audible span) and timed by the predictor; the trimmed silence is the
difference. The fit on the generated lines is checked on the stories' pieces it never saw
(and the other way round), then TRIM is fitted on all and printed. About ten minutes here.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.fit_estimate import generated_texts  # noqa: E402

SHORT = ["Good morning.", "Good night.", "Thank you.", "Nobody knows.", "Why now?", "Tomorrow?", "Not yet.",
         "It worked!", "Stay safe.", "More at six.", "That's all.", "Here's Anna.", "Sport now.", "Wow!",
         "Yes.", "No comment.", "Back to you.", "We were patient.", "What happens next?", "Rain, then sun."]
PACES = (0.94, 1.0, 1.06)


def story_pieces() -> list[tuple[str, str]]:
    """(source, piece) of the example's and the harbour's speech, as the renderer voices it."""
    from bulletin.engines import get_engine
    from bulletin.script.story import load_story
    from bulletin.sound.sentences import split_pieces
    from bulletin.sound.takes import respell

    out = []
    for name in ("gsomia", "harbour"):
        story = load_story(ROOT / "examples" / name / "story.yaml")
        for s in story.segments:
            if s.kind == "speech":
                text = respell(s.written or "", story.pronounce)
                out += [(name, piece) for piece, _ in split_pieces(text, get_engine("kokoro").clause_chars)]
    return out


def generated_pieces(seed: int) -> list[tuple[str, str]]:
    from bulletin.engines import get_engine
    from bulletin.sound.sentences import split_pieces

    r = random.Random(seed)
    texts = [t for _, t in generated_texts(seed, per_style=8)] + r.sample(SHORT, len(SHORT))
    return [("generated", piece) for text in texts for piece, _ in split_pieces(text, get_engine("kokoro").clause_chars)]


def measure(work: tuple[str, str, str, float]) -> tuple[str, float, list[np.ndarray], float]:
    """(source, the piece's audible seconds, its inferences' edge features, its seconds before
    trimming as the predictor tells them) for one piece."""
    source, piece, preset_name, rate = work
    from bulletin.cast.presets import load_presets
    from bulletin.engines import get_engine
    from bulletin.sound.sentences import SentenceJob, voice_sentence

    preset = load_presets()[preset_name]
    engine = get_engine("kokoro")
    factor = 2.0 ** (preset.shift_semitones / 12)
    said = voice_sentence(SentenceJob(piece, preset, rate, 24_000, engine.version(), "")).audio.duration_s
    untrimmed, features = engine.timing(piece, preset, rate / factor)
    # the shift plays the voice back faster by its factor: compare before it
    return source, said * factor, features, untrimmed


def fit(rows: list) -> np.ndarray:
    x = np.array([sum(features) for _, _, features, _ in rows])
    y = np.array([untrimmed - said for _, said, _, untrimmed in rows])
    return np.linalg.lstsq(x, y, rcond=None)[0]


def report(rows: list, trim: np.ndarray, label: str) -> None:
    guessed = np.array([untrimmed - sum(features) @ trim for _, _, features, untrimmed in rows])
    said = np.array([said for _, said, _, _ in rows])
    errors = guessed - said
    print(f"  {label:<36} {len(rows):4} pieces, {said.sum():7.1f} s: total {100 * (guessed.sum() / said.sum() - 1):+.2f}%,"
          f" per piece sd {errors.std():.3f} s, worst {np.abs(errors).max():.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("BULLETIN_THREADS", "1")
    from bulletin.cast.presets import load_presets

    presets = sorted(name for name, p in load_presets().items() if p.engine == "kokoro")
    r = random.Random(args.seed)
    work = [(source, piece, r.choice(presets), r.choice(PACES))
            for source, piece in story_pieces() + generated_pieces(args.seed)]
    with Pool(args.jobs) as pool:
        rows = pool.map(measure, work, chunksize=4)
    stories = [row for row in rows if row[0] != "generated"]
    generated = [row for row in rows if row[0] == "generated"]
    print(f"{len(rows)} pieces, {len(presets)} presets, paces {PACES}")
    print("fitted on the generated lines, checked on the stories' pieces:")
    report(stories, fit(generated), "example and harbour (held out)")
    print("fitted on the stories' pieces, checked on the generated lines:")
    report(generated, fit(stories), "generated (held out)")
    trim = fit(rows)
    print("fitted on all:")
    for name in ("gsomia", "harbour", "generated"):
        report([row for row in rows if row[0] == name], trim, name)
    print(f"TRIM = np.array([{', '.join(f'{c:.4f}' for c in trim)}])")


if __name__ == "__main__":
    main()
