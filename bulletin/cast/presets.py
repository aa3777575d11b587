"""Voice presets: data in voices/*.yaml, the project's and a story's own (which win)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bulletin.base.errors import InputError
from bulletin.script.story import ROLES
from bulletin.script.yamlnodes import Reader, compose_file

if TYPE_CHECKING:
    from yaml.nodes import Node

PROJECT_VOICES = Path(__file__).resolve().parents[2] / "voices"
LEXICON = "lexicon.yaml"  # beside the presets: default respellings, not a preset
PRESET_KEYS = (
    "engine", "voice", "model", "speaker", "pitch", "pitch_range", "rate_wpm", "volume",
    "shift_semitones", "roles", "priority", "gender", "description",
)
MAX_SHIFT_SEMITONES = 6.0  # further, and the speech sounds sped up or slowed down, not resized
GENDERS = ("male", "female")  # how a preset sounds, for `auto` casting's gender hints
# formant-synthesis engines: fast and always there, but not broadcast voices; every other
# engine is neural (`auto` casts those first where they load)
FORMANT_ENGINES = ("espeak", "espeak-system")


@dataclass(frozen=True)
class Preset:
    """Everything that makes a voice sound like itself, for one engine."""

    name: str
    engine: str
    voice: str  # the engine's own voice: espeak-ng "en-us+m3"; piper a model name or .onnx path
    pitch: int = 50  # espeak-ng base pitch, 0-100
    pitch_range: int = 50  # espeak-ng intonation range, 0-100
    rate_wpm: int = 175  # words per minute at rate 1.0 (piper: its natural pace is 175)
    volume: int = 100
    speaker: int | None = None  # speaker number in a multi-speaker piper model
    # pitch and formants moved together, for any engine: a bigger (negative) or smaller
    # (positive) speaker than the engine voice itself (see bulletin.engines.speak)
    shift_semitones: float = 0.0
    roles: tuple[str, ...] = ()  # roles it suits, best first
    priority: int = 0  # higher wins among presets that suit a role equally well
    gender: str | None = None  # "male" or "female": how it sounds (median F0 under 150 / over 165 Hz)
    description: str = ""

    @property
    def engine_voice(self) -> str:
        """The engine's voice as a producer names it: a model file by its name, no folder."""
        return Path(self.voice).stem if self.voice.endswith(".onnx") else self.voice

    @property
    def neural(self) -> bool:
        return self.engine not in FORMANT_ENGINES

    def sound_settings(self) -> dict[str, object]:
        """The settings that change the sound: part of the take cache key."""
        settings = asdict(self)
        for key in ("name", "roles", "priority", "gender", "description"):
            settings.pop(key)
        return settings


def voice_folders(story_folder: Path | None = None) -> list[Path]:
    """Where presets and the lexicon come from, later ones winning: the project's, the story's."""
    return [PROJECT_VOICES] + ([story_folder / "voices"] if story_folder else [])


def load_presets(story_folder: Path | None = None, engines: Collection[str] = ()) -> dict[str, Preset]:
    """Presets by name: the project's voices/, then the story's voices/ folder on top.

    `engines` are the engine names a preset may use (the engines layer knows them; this layer
    sits below it); empty accepts any name, and an unknown one fails when it is first spoken.
    """
    presets: dict[str, Preset] = {}
    problems = []
    for folder in voice_folders(story_folder):
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if path.name == LEXICON:
                continue
            try:
                presets[path.stem] = load_preset(path, engines)
            except InputError as error:
                problems += error.problems
    if problems:
        raise InputError(problems)
    return presets


def load_preset(path: Path, engines: Collection[str] = ()) -> Preset:
    root = compose_file(path, max_bytes=64_000)
    r = Reader(str(path))
    m = r.mapping(root, "", PRESET_KEYS) if root is not None else None
    if not m:
        r.problem(root, "preset", "must be a mapping with at least engine and voice (or model)")
        r.raise_if_problems()
    values: dict[str, object] = {}
    if "engine" in m:
        node = m["engine"][1]
        values["engine"] = r.choice(node, "engine", tuple(engines)) if engines else r.text(node, "engine")
    else:
        r.problem(root, "engine", f"is required{': one of ' + ', '.join(engines) if engines else ''}")
    if "model" in m:
        model = r.text(m["model"][1], "model")
        # a model path is relative to the preset file
        values["voice"] = str((path.parent / model).resolve()) if model and model.endswith(".onnx") else model
    elif "voice" in m:
        values["voice"] = r.text(m["voice"][1], "voice")
    else:
        r.problem(root, "voice", "is required: the engine's voice (or model: for piper)")
    values.update(_numbers(r, m))
    if "roles" in m:
        values["roles"] = tuple(r.choice(n, f"roles[{i + 1}]", ROLES) for i, n in r.items(m["roles"][1], "roles"))
    if "gender" in m:
        values["gender"] = r.choice(m["gender"][1], "gender", GENDERS)
    if "description" in m:
        values["description"] = r.text(m["description"][1], "description")
    r.raise_if_problems()
    return Preset(name=path.stem, **values)  # type: ignore[arg-type]


def _numbers(r: Reader, m: dict[str, tuple[Node, Node]]) -> dict[str, object]:
    """A preset's numeric settings, each checked against its range."""
    values: dict[str, object] = {}
    for key, low, high in (("pitch", 0, 100), ("pitch_range", 0, 100), ("rate_wpm", 80, 450), ("volume", 10, 200), ("speaker", 0, 10_000), ("priority", -100, 100)):
        if key in m:
            values[key] = r.integer(m[key][1], key, low, high)
    if "shift_semitones" in m:
        values["shift_semitones"] = r.number(m["shift_semitones"][1], "shift_semitones",
                                             -MAX_SHIFT_SEMITONES, MAX_SHIFT_SEMITONES)
    return values


def load_lexicon(story_folder: Path | None = None) -> dict[str, str]:
    """Default respellings: the project's voices/lexicon.yaml, then a story's beside it."""
    lexicon: dict[str, str] = {}
    for path in (folder / LEXICON for folder in voice_folders(story_folder)):
        if not path.is_file():
            continue
        root = compose_file(path, max_bytes=256_000)
        r = Reader(str(path))
        for word, (key_node, value_node) in (r.mapping(root, "lexicon") or {}).items() if root else []:
            if not word.strip() or any(c.isspace() for c in word.strip()):
                r.problem(key_node, word, "must be a single word")
            elif (spoken := r.text(value_node, word)) is not None:
                lexicon[word.strip()] = spoken
        r.raise_if_problems()
    return lexicon
