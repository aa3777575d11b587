"""A sentence with voice directions, spoken by any engine: its plan (script.directions) in
stretches of one pace and emphasis, each voiced on its own and joined, with the breaks'
silence between them.

- `<break>`: that many seconds of silence, inside the take.
- `<prosody rate>`: the stretch is voiced at that factor of the pace.
- `<emphasis>`: the stretch slower, higher (the preset's shift, see engines.speak) and louder
  (by EMPHASIS; a take is levelled as a whole, so the difference stays).
- `<say-as>`, `<sub>`: the words said (the plan has them already).
- `<phoneme>`: the IPA, through the engine's `synthesize_parts` where it has one (Kokoro and
  Piper read phonemes, espeak-ng its own phoneme codes); an engine without one reads the
  written words instead (and `unsupported` says so, for check's warning).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bulletin.base.audio import Audio, resample
from bulletin.base.errors import BulletinError
from bulletin.engines import get_engine, shifted, speak_plain
from bulletin.engines.timing import Speech, no_words, spread
from bulletin.script.directions import Run, spoken_plan
from bulletin.script.ipa import normal_ipa
from bulletin.script.markup import written

if TYPE_CHECKING:
    from bulletin.cast.presets import Preset
    from bulletin.engines import Engine
    from bulletin.script.model import Direction

# level -> (pace factor, shift in semitones, gain in dB). Strong, on the word "Again." alone:
# 1.38x as long and F0 1.08x (Kokoro: its slower speech is lower, which takes back part of the
# shift), 1.24x and 1.18x (Piper), 1.21x and 1.14x (espeak-ng)
EMPHASIS = {"strong": (0.85, 2.5, 6.0), "moderate": (0.92, 1.25, 3.0), "none": (1.0, 0.0, 0.0),
            "reduced": (1.1, -1.0, -3.0)}
# how every engine honours each direction; `<phoneme>` is the engine's own (its `phoneme_input`)
HONOURED = {"break": "silence of that length inside the take",
            "say-as": "read as words (letters one by one, numbers and dates in words)",
            "sub": "the alias is said, the text shown",
            "emphasis": "slower, higher and louder",
            "prosody": "the stretch voiced at that pace"}
# silence between two stretches said apart with no break between them: a word boundary
JOIN_S = 0.04

Part = tuple[str, str]  # ("words", text) or ("ipa", IPA)


def speak_directed(text: str, preset: Preset, rate: float) -> Speech:
    """Marked-up `text` (one sentence) in `preset`'s voice at `rate`, with the times of its
    written words (`written(text).split()`): each stretch's written words spread by syllables
    over that stretch's sound (a stretch is said apart, so its words are known to be in it)."""
    engine = get_engine(preset.engine)
    pieces: list[np.ndarray] = []
    words: list[np.ndarray] = []
    rate_hz = 0
    at_s = 0.0
    pending_s = 0.0
    stretches = _held_before_breaks(_stretches(spoken_plan(text)))
    hint = None
    if hasattr(engine, "sentence_hint"):  # Kokoro: every stretch with its sentence's delivery
        hint = engine.sentence_hint([_part(run) for stretch in stretches for run in stretch if run.kind != "pause"])
    for stretch in stretches:
        if stretch[0].kind == "pause":
            pending_s += sum(run.seconds for run in stretch)
            continue
        audio = _voice(stretch, preset, rate, engine, hint)
        rate_hz = rate_hz or audio.rate_hz
        if pieces or pending_s:
            pieces.append(np.zeros(round((pending_s or JOIN_S) * rate_hz), np.float32))
            at_s += pieces[-1].size / rate_hz
        pieces.append(resample(audio, rate_hz).samples.reshape(-1))
        said_s = pieces[-1].size / rate_hz
        words.append(spread(" ".join(run.written for run in stretch).split(), at_s, at_s + said_s))
        at_s += said_s
        pending_s = 0.0
    if not pieces:
        raise BulletinError(f"{preset.engine} has nothing to say for {text[:40]!r}")
    if pending_s:
        pieces.append(np.zeros(round(pending_s * rate_hz), np.float32))
    audio = Audio.mono(np.concatenate(pieces), rate_hz)
    times = np.concatenate(words) if words else no_words()
    tokens = written(text).split()
    if len(times) != len(tokens):  # punctuation said apart from its word: the sentence as one
        times = spread(tokens, 0.0, audio.duration_s)
    return Speech(audio, times)


def _stretches(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped: pauses together, and words and IPA of one pace and emphasis together."""
    out: list[list[Run]] = []
    for run in runs:
        if run.kind == "words" and not any(c.isalnum() for c in run.value):
            if out and out[-1][-1].kind != "pause" and run.value.strip():
                out[-1].append(replace(out[-1][-1], kind="words", value=run.value, written=run.written))  # a stop
            continue
        last = out[-1][-1] if out else None
        same = last is not None and (last.kind == "pause") == (run.kind == "pause") and \
            (run.kind == "pause" or (last.rate, last.emphasis) == (run.rate, run.emphasis))
        if same:
            out[-1].append(run)
        else:
            out.append([run])
    return out


def _held_before_breaks(stretches: list[list[Run]]) -> list[list[Run]]:
    """Words before a break end with a comma, as a reader holds the voice at a pause that is
    not the sentence's end (without it Kokoro and Piper close the stretch as a sentence,
    falling and hurried: Kokoro's take with an 800 ms break grew by only 0.63 s)."""
    out = [list(stretch) for stretch in stretches]
    for stretch, after in zip(out, out[1:], strict=False):
        last = stretch[-1]
        if after[0].kind == "pause" and last.kind == "words" and last.value.rstrip()[-1:].isalnum():
            stretch[-1] = replace(last, value=last.value.rstrip() + ",")
    return out


def _part(run: Run) -> Part:
    return run.kind, " ".join(run.value.split())


def _voice(stretch: list[Run], preset: Preset, rate: float, engine: object, hint: int | None) -> Audio:
    pace, shift, gain_db = EMPHASIS[stretch[0].emphasis]
    # an engine whose takes follow its pace less than in proportion (see `pace_response`) is
    # asked for more, so that the stretch lasts what the rate says
    rate *= (stretch[0].rate * pace) ** (1 / getattr(engine, "pace_response", 1.0))
    if shift:
        preset = replace(preset, shift_semitones=preset.shift_semitones + shift)
    parts: list[Part] = [_part(run) for run in stretch]
    if hint is not None:
        audio = shifted(lambda p, r: Speech(engine.synthesize_parts(parts, p, r, hint), no_words()),  # type: ignore[attr-defined]
                        preset, rate).audio
    elif any(kind == "ipa" for kind, _ in parts) and hasattr(engine, "synthesize_parts"):
        audio = shifted(lambda p, r: Speech(engine.synthesize_parts(parts, p, r), no_words()),  # type: ignore[attr-defined]
                        preset, rate).audio
    else:  # the written words of a phoneme where the engine reads no phonemes
        said = [run.value if run.kind == "words" else run.written for run in stretch]
        audio = speak_plain(" ".join(" ".join(said).split()), preset, rate).audio
    if gain_db:
        audio = Audio(audio.samples * np.float32(10 ** (gain_db / 20)), audio.rate_hz)
    return audio


def supported(engine: Engine) -> dict[str, str]:
    """How `engine` honours each direction, for `voices --json`."""
    phoneme = getattr(engine, "phoneme_input", None) or "not read: the written words are said"
    return {**HONOURED, "phoneme": phoneme}


def direction_warning(directions: tuple[Direction, ...], preset: Preset) -> tuple[Direction, str] | None:
    """The first direction of a segment that `preset`'s engine cannot honour in full, and
    why (one line for check and render), or None."""
    engine = get_engine(preset.engine)
    label = "espeak-ng" if preset.engine.startswith("espeak") else preset.engine
    for direction in directions:
        if direction.name != "phoneme":
            continue
        if not hasattr(engine, "synthesize_parts"):
            return direction, f"{label} ignores <phoneme>: it says the written words"
        unknown = engine.unknown_phonemes(normal_ipa(direction.ipa), preset)  # type: ignore[attr-defined]
        if unknown:
            return direction, (f"{label} has no sound for {', '.join(map(repr, unknown))} in <phoneme>: "
                               "left out")
    return None
