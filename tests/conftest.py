"""Shared fixtures: an isolated take cache, the example story, signal measurements."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gsomia" / "story.yaml"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """A skip for want of a tool that CI installed (BULLETIN_REQUIRE, set by .ci/run) fails."""
    outcome = yield
    report = outcome.get_result()
    required = os.environ.get("BULLETIN_REQUIRE", "").split()
    if report.skipped and required:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        missing = [tool for tool in required if tool.lower() in reason.lower()]
        if missing:
            report.outcome = "failed"
            report.longrepr = (f"skipped ({reason}), but this run installed {', '.join(missing)} "
                               "(BULLETIN_REQUIRE): the install or the test's detection of it is broken")


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Takes cached in a folder of the test run's own, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    return folder


MUTATED_PACKAGES = ("bulletin.script", "bulletin.cast", "bulletin.sound", "bulletin.mix", "bulletin.export")


@pytest.fixture(autouse=True)
def fresh_caches_under_mutation_testing() -> None:
    """Under mutmut (scripts/mutation.sh), the stages' function caches start empty in every
    test: mutmut runs a mutant against the tests it saw reach the function, and a cached
    function (the K-weighting filter, the builtin sounds) is reached only by the first test
    that called it, so the tests that check it closely would never see its mutants. The
    engines keep theirs: they are not mutated, and loading a model per test is slow."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    for name, module in list(sys.modules.items()):
        if name.startswith(MUTATED_PACKAGES):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name:
                    value.cache_clear()


def median_f0_hz(samples: np.ndarray, rate_hz: int) -> float:
    """Median fundamental frequency of the voiced frames (autocorrelation), 0 if none."""
    frame, hop = int(0.04 * rate_hz), int(0.01 * rate_hz)
    lo, hi = int(rate_hz / 400), int(rate_hz / 60)
    found = []
    for start in range(0, len(samples) - frame, hop):
        chunk = samples[start : start + frame]
        if np.sqrt(np.mean(chunk**2)) < 0.02:
            continue
        chunk = chunk - chunk.mean()
        ac = np.correlate(chunk, chunk, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            found.append(rate_hz / lag)
    return float(np.median(found)) if found else 0.0


def sine(peak: float, seconds: float, rate_hz: int, hz: float = 440.0) -> np.ndarray:
    """A mono (frames, 1) float32 sine of `peak` amplitude."""
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    return (peak * np.sin(2 * np.pi * hz * t)).astype(np.float32)[:, None]


def rms_db(samples: np.ndarray) -> float:
    power = float(np.mean(np.square(samples, dtype=np.float64)))
    return 10 * np.log10(power) if power > 0 else -200.0


# presets a test story keeps beside it (a voices/ folder beside a story wins), independent
# of the project's
PRESETS = {"test-one": "en-us", "test-two": "en-gb-x-rp+f3", "test-three": "en-us+m3"}


def write_presets(folder: Path) -> None:
    (folder / "voices").mkdir(exist_ok=True)
    for pitch, (name, voice) in enumerate(PRESETS.items()):
        (folder / "voices" / f"{name}.yaml").write_text(
            f"engine: espeak\nvoice: {voice}\npitch: {30 + 20 * pitch}\nrate_wpm: 170\nroles: [anchor]\n")


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the real espeak engine is asked to speak in this process (it still speaks it):
    counts synthesis at the engine boundary."""
    return count_calls(monkeypatch, "espeak")


def count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Every text the real engine `name` is asked to speak in this process from now on (it
    still speaks it)."""
    from bulletin.engines import get_engine

    engine = get_engine(name)
    real = engine.synthesize
    said: list[str] = []

    def synthesize(text: str, *args: object, **kwargs: object) -> object:
        said.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(engine, "synthesize", synthesize)
    return said


# speech texts of a shortened story keep this many words: enough to be a sentence, quick to say
WORDS_KEPT = 6
# what a segment mapping may hold besides a speaker's text (story format: segments)
NOT_SPEECH = {"pause", "sting", "clip", "bed", "speaker", "voice", "rate", "effect", "gap", "id", "start", "end",
              "gain"}


def shorten(text: str) -> str:
    """The first words of a text; a text with markup in it stays whole (a cut could break a tag)."""
    words = text.split()
    if len(words) <= WORDS_KEPT or "<" in text:
        return text
    return " ".join(words[:WORDS_KEPT]).rstrip(",;:") + "."


def shorten_story(path: Path) -> None:
    """Cut every speech text of a story to its first words, keeping its comments and layout."""
    yaml = YAML()
    yaml.preserve_quotes = True
    story = yaml.load(path)
    stories = story.get("stories") or [story]
    for entry in stories:
        for segment in entry.get("segments") or []:
            for key, value in list(segment.items()):
                if isinstance(value, str) and (key == "text" or key not in NOT_SPEECH):
                    segment[key] = shorten(value)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(story, out)
