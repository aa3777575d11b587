"""Fit the duration estimate's constants (bulletin/pipeline/estimate.py) per engine.

    .venv/bin/python scripts/fit_estimate.py [--engines espeak,kokoro,piper] [--seed 1]

Texts: the example's speech and generated news texts of several styles (short sentences, long
ones full of commas, numbers and dates, quotes, lists), fitted on one set and checked on
another made with other seeds (and on the example) that the fit never saw. Every text is made
into a take by the renderer itself (sentence by sentence, joined with its pauses, trimmed to
its audible span) with two presets of each engine; a least-squares fit of the take durations
on the estimate's features (characters at the preset's pace, sentence breaks, inner pauses)
gives the constants. Prints them as the PACES entries and the held-out errors.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = ["Seoul", "Tokyo", "Washington", "Beijing", "Pyongyang", "Hanoi", "Geneva", "Brussels"]
PEOPLE = ["the foreign minister", "a senior official", "the defense secretary", "the committee chair",
          "opposition leaders", "the prime minister", "trade negotiators", "the spokesman"]
VERBS = ["said", "warned", "confirmed", "denied", "announced", "insisted", "reported", "suggested"]
THINGS = ["the agreement", "the trade restrictions", "the security pact", "the talks", "the new tariffs",
          "the export controls", "the joint exercises", "the summit"]
MONTHS = ["January", "March", "June", "August", "November"]


def _short(r: random.Random) -> str:
    return " ".join(f"{r.choice(PEOPLE).capitalize()} {r.choice(VERBS)} it. {r.choice(PLACES)} waits."
                    for _ in range(r.randint(1, 3)))


def _long(r: random.Random) -> str:
    return (f"In {r.choice(PLACES)}, where {r.choice(PEOPLE)} met {r.choice(PEOPLE)} on Thursday, "
            f"{r.choice(THINGS)}, which had been expected to lapse, was the main topic, and {r.choice(PEOPLE)} "
            f"{r.choice(VERBS)} that {r.choice(THINGS)} would stay in place until further notice.")


def _numbers(r: random.Random) -> str:
    return (f"On {r.randint(1, 28)} {r.choice(MONTHS)} {r.randint(1990, 2026)}, {r.randint(2, 999):,} "
            f"{r.choice(['troops', 'workers', 'delegates'])} and ${r.randint(1, 90)}.{r.randint(1, 9)} billion "
            f"were at stake; exports fell {r.randint(2, 40)} percent to {r.randint(1000, 99999):,} tonnes.")


def _quote(r: random.Random) -> str:
    return (f'"We will not change our position," {r.choice(PEOPLE)} {r.choice(VERBS)}. '
            f'"{r.choice(THINGS).capitalize()} must be respected by {r.choice(PLACES)}."')


def _list(r: random.Random) -> str:
    places = r.sample(PLACES, r.randint(3, 6))
    return f"Delegations from {', '.join(places[:-1])} and {places[-1]} {r.choice(VERBS)} {r.choice(THINGS)}."


STYLES = {"short": _short, "long": _long, "numbers": _numbers, "quote": _quote, "list": _list}


def generated_texts(seed: int, per_style: int = 4) -> list[tuple[str, str]]:
    """(style, text) pairs: `per_style` texts of every style, two to four pieces each."""
    r = random.Random(seed)
    return [(name, " ".join(make(r) for _ in range(r.randint(1, 3))))
            for name, make in STYLES.items() for _ in range(per_style)]


def example_texts() -> list[tuple[str, str]]:
    from bulletin.script.story import load_story

    story = load_story(ROOT / "examples" / "gsomia" / "story.yaml")
    return [("example", s.text or "") for s in story.segments if s.kind == "speech"]


def take_durations(texts: list[str], preset, rate: float = 1.0) -> list[float]:  # noqa: ANN001
    """Each text's take duration as the renderer makes it (no cache), in this process."""
    from bulletin.sound.sentences import speech_job
    from bulletin.sound.store import TakeStore
    from bulletin.sound.takes import synthesize_speech

    jobs = {i + 1: speech_job(text, preset, rate, "none", 22050) for i, text in enumerate(texts)}
    with TakeStore(None) as store:
        takes = synthesize_speech(jobs, store, 1)
    return [takes[i + 1].duration_s for i in range(len(texts))]


def engine_presets(engine: str) -> list:
    """Presets at the engine's own pace on its first voices, for an engine no preset uses yet."""
    from bulletin.cast.presets import Preset
    from bulletin.engines import get_engine

    return [Preset(f"{engine}-{voice}", engine, voice, rate_wpm=150) for voice in get_engine(engine).voices()[:2]]


def features(texts: list[str], preset) -> np.ndarray:  # noqa: ANN001
    from bulletin.pipeline.estimate import estimate_features

    return np.array([estimate_features(text, preset) for text in texts], np.float64)


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least squares of y on the columns of x (the constants are durations)."""
    from scipy.optimize import nnls

    return nnls(x, y)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="espeak,kokoro,piper")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--presets", type=int, default=2, help="presets per engine (default 2)")
    args = parser.parse_args()

    from bulletin.cast.presets import load_presets
    from bulletin.engines import engine_problem
    from bulletin.pipeline.estimate import Pace, speech_duration_s

    presets = load_presets()
    fitting = example_texts()[::2] + generated_texts(args.seed)
    held_out = example_texts()[1::2] + generated_texts(args.seed + 100)
    for engine in args.engines.split(","):
        if engine_problem(engine):
            print(f"{engine}: not available here ({engine_problem(engine)})")
            continue
        chosen = ([p for p in presets.values() if p.engine == engine] or engine_presets(engine))[:args.presets]
        xs, ys = [], []
        for preset in chosen:
            xs.append(features([t for _, t in fitting], preset))
            ys.append(take_durations([t for _, t in fitting], preset))
        inverse_cpw, sentence_s, pause_s, per_digit = (float(c) for c in fit(np.vstack(xs), np.concatenate(ys)))
        pace = Pace(round(1 / inverse_cpw, 2), round(sentence_s, 3), round(pause_s, 3), round(per_digit, 3))
        print(f'    "{engine}": {pace!r},  # fitted on {len(ys[0])} texts x {len(chosen)} presets')
        for preset in chosen:
            real = take_durations([t for _, t in held_out], preset)
            guess = [speech_duration_s(t, preset, pace=pace) for _, t in held_out]
            errors = [g / r - 1 for g, r in zip(guess, real, strict=True)]
            total = sum(guess) / sum(real) - 1
            worst = max(range(len(errors)), key=lambda i: abs(errors[i]))
            print(f"      held out, {preset.name}: total {100 * total:+.1f}%, per text median |error| "
                  f"{100 * float(np.median(np.abs(errors))):.1f}%, worst {100 * errors[worst]:+.1f}% "
                  f"({held_out[worst][0]}: {held_out[worst][1][:50]!r})")


if __name__ == "__main__":
    main()
