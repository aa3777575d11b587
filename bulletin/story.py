"""The script model and its loader: positions, limits and every error with its place.

load_story() is the first stage; every later stage may assume a valid Story.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import Node

from bulletin.effects import EFFECTS
from bulletin.errors import InputError
from bulletin.sounds import BUILTIN_NAMES
from bulletin.yamlnodes import Reader, compose_file, suggest

ROLES = ("anchor", "reporter", "official", "guest")
LOUDNESS_PRESETS = {"podcast": -16.0, "broadcast": -23.0}
FORMATS = ("wav", "mp3")
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MAX_TEXT_CHARS = 10_000
MAX_SEGMENTS = 2_000
MAX_DURATION_S = 4 * 3600.0
_ID = re.compile(r"^[A-Za-z0-9_-]+$")

TOP_KEYS = ("title", "date", "language", "master", "pronounce", "cast", "stings", "stories", "segments")
MASTER_KEYS = ("loudness", "sample_rate", "formats", "mp3_bitrate", "gap", "story_gap")
MEMBER_KEYS = ("role", "name", "title", "voice", "effect")
STORY_KEYS = ("headline", "segments", "bed")
SPEECH_KEYS = ("speaker", "text", "voice", "rate", "effect", "gap", "id")
CLIP_KEYS = ("clip", "speaker", "start", "end", "gain", "text", "gap", "id")
KIND_KEYS = ("pause", "sting", "clip", "speaker")


@dataclass(frozen=True)
class Sound:
    """A sting, bed or clip source: a builtin sound or an audio file."""

    label: str  # as written: "builtin:open" or "clips/moon.wav"
    builtin: str | None = None
    path: Path | None = None


@dataclass(frozen=True)
class Member:
    id: str
    role: str
    name: str
    title: str | None
    voice: str  # preset name or "auto"
    effect: str
    line: int


@dataclass(frozen=True)
class Segment:
    index: int  # 1-based across all stories
    story: int  # 1-based
    kind: str  # speech, pause, sting, clip
    line: int
    id: str | None = None
    speaker: str | None = None
    text: str | None = None
    voice: str | None = None  # per-segment preset override
    rate: float = 1.0
    effect: str | None = None  # resolved for speech: segment's, else member's
    gap_s: float | None = None  # silence after; None means the master's gap
    pause_s: float = 0.0
    sound: Sound | None = None  # sting or clip source
    sting: str | None = None  # the sting's name
    start_s: float = 0.0
    end_s: float | None = None
    gain_db: float = 0.0


@dataclass(frozen=True)
class StoryPart:
    index: int
    headline: str
    segments: list[Segment]
    bed: Sound | None = None


@dataclass(frozen=True)
class Master:
    target_lufs: float = -16.0
    sample_rate: int = 44100
    formats: tuple[str, ...] = FORMATS
    mp3_bitrate: int = 128
    gap_s: float = 0.4
    story_gap_s: float = 1.0


@dataclass(frozen=True)
class Story:
    path: Path
    title: str
    date: datetime.date
    language: str
    master: Master
    cast: dict[str, Member]
    stories: list[StoryPart]
    pronounce: dict[str, str] = field(default_factory=dict)
    stings: dict[str, Sound] = field(default_factory=dict)

    @property
    def segments(self) -> list[Segment]:
        return [segment for part in self.stories for segment in part.segments]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def slug(self) -> str:
        return slugify(self.title)

    def segment(self, ref: str) -> Segment:
        """A segment by its number or its id (as `preview` takes them)."""
        for segment in self.segments:
            if ref == str(segment.index) or ref == segment.id:
                return segment
        ids = [s.id for s in self.segments if s.id]
        raise InputError(
            f"{self.path}: no segment {ref!r}; segments are numbered 1 to "
            f"{len(self.segments)}" + (f", ids: {', '.join(ids)}" if ids else "")
            + suggest(ref, ids)
        )


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "bulletin"


def parse_loudness(value: str | float) -> float:
    """`podcast`, `broadcast` or a LUFS number (as `--loudness` takes it) to a target in LUFS."""
    if isinstance(value, str) and value in LOUDNESS_PRESETS:
        return LOUDNESS_PRESETS[value]
    try:
        target = float(value)
    except ValueError:
        raise InputError(f"loudness {value!r} must be podcast, broadcast or a LUFS number") from None
    if not -40.0 <= target <= -5.0:
        raise InputError(f"loudness {target:g} LUFS is out of range (-40 to -5)")
    return target


def load_story(path: Path, assets: tuple[Path, ...] = ()) -> Story:
    """Parse and validate a story file; InputError lists every problem with its position."""
    path = Path(path)
    root = compose_file(path)
    reader = Reader(str(path))
    if root is None:
        reader.problem(None, "file", "is empty; a story needs title, cast and segments")
        reader.raise_if_problems()
    return _StoryLoader(path, reader, tuple(Path(a) for a in assets)).load(root)


class _StoryLoader:
    def __init__(self, path: Path, reader: Reader, assets: tuple[Path, ...]) -> None:
        self.path = path
        self.r = reader
        self.roots = [path.resolve().parent, *(a.resolve() for a in assets)]
        self.cast: dict[str, Member] = {}
        self.stings: dict[str, Sound] = {}
        self.ids: set[str] = set()
        self.count = 0

    def load(self, root: Node) -> Story:
        r = self.r
        top = r.mapping(root, "", TOP_KEYS)
        if top is None:
            r.raise_if_problems()
        title = r.text(top["title"][1], "title") if "title" in top else None
        if "title" not in top:
            r.problem(root, "title", "is required: the programme name")
        date = r.date(top["date"][1], "date") if "date" in top else datetime.date.today()
        language = r.text(top["language"][1], "language") if "language" in top else "en"
        master = self._master(top["master"][1]) if "master" in top else Master()
        pronounce = self._pronounce(top["pronounce"][1]) if "pronounce" in top else {}
        if "cast" in top:
            self._cast(top["cast"][1])
        else:
            r.problem(root, "cast", "is required: every speaker, by the id that segments use")
        if "stings" in top:
            self._stings(top["stings"][1])
        stories = self._stories(root, top)
        if self.count > MAX_SEGMENTS:
            r.problem(root, "segments", f"{self.count:,} segments; the limit is {MAX_SEGMENTS:,}")
        r.raise_if_problems()
        return Story(
            path=self.path,
            title=title or "",
            date=date or datetime.date.today(),
            language=language or "en",
            master=master,
            cast=self.cast,
            stories=stories,
            pronounce=pronounce,
            stings=self.stings,
        )

    # -- settings ---------------------------------------------------------------------------

    def _master(self, node: Node) -> Master:
        r = self.r
        m = r.mapping(node, "master", MASTER_KEYS) or {}
        values: dict[str, object] = {}
        if "loudness" in m:
            value = m["loudness"][1]
            if getattr(value, "value", None) in LOUDNESS_PRESETS:
                values["target_lufs"] = LOUDNESS_PRESETS[value.value]
            elif (lufs := r.number(value, "master.loudness", -40, -5)) is not None:
                values["target_lufs"] = lufs
        if "sample_rate" in m:
            values["sample_rate"] = r.integer(m["sample_rate"][1], "master.sample_rate", 22050, 96000)
        if "formats" in m:
            formats = [r.choice(n, f"master.formats[{i + 1}]", FORMATS) for i, n in r.items(m["formats"][1], "master.formats")]
            if not formats:
                r.problem(m["formats"][1], "master.formats", "must name at least one of wav, mp3")
            values["formats"] = tuple(dict.fromkeys(f for f in formats if f))
        if "mp3_bitrate" in m:
            rate = r.integer(m["mp3_bitrate"][1], "master.mp3_bitrate", 32, 320)
            if rate is not None and rate not in MP3_BITRATES:
                r.problem(m["mp3_bitrate"][1], "master.mp3_bitrate", f"{rate} is not an MP3 bitrate; use one of {', '.join(map(str, MP3_BITRATES))}")
            values["mp3_bitrate"] = rate
        if "gap" in m:
            values["gap_s"] = r.number(m["gap"][1], "master.gap", 0, 10)
        if "story_gap" in m:
            values["story_gap_s"] = r.number(m["story_gap"][1], "master.story_gap", 0, 30)
        return Master(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]

    def _pronounce(self, node: Node) -> dict[str, str]:
        out = {}
        for word, (key_node, value_node) in (self.r.mapping(node, "pronounce") or {}).items():
            if not word.strip() or any(c.isspace() for c in word.strip()):
                self.r.problem(key_node, f"pronounce.{word}", "must be a single word")
                continue
            if (spoken := self.r.text(value_node, f"pronounce.{word}")) is not None:
                out[word.strip()] = spoken
        return out

    def _cast(self, node: Node) -> None:
        r = self.r
        members = r.mapping(node, "cast")
        if members is None:
            return
        if not members:
            r.problem(node, "cast", "is empty; name at least one speaker")
        for member_id, (key_node, value_node) in members.items():
            where = f"cast.{member_id}"
            if not _ID.match(member_id):
                r.problem(key_node, where, "ids may use only letters, digits, '-' and '_'")
                continue
            m = r.mapping(value_node, where, MEMBER_KEYS)
            if m is None:
                continue
            if "role" in m:
                role = r.choice(m["role"][1], f"{where}.role", ROLES)
            elif member_id in ROLES:
                role = member_id
            else:
                role = None
                r.problem(value_node, f"{where}.role", f"is required: one of {', '.join(ROLES)}")
            name = r.text(m["name"][1], f"{where}.name") if "name" in m else None
            title = r.text(m["title"][1], f"{where}.title") if "title" in m else None
            voice = r.text(m["voice"][1], f"{where}.voice") if "voice" in m else "auto"
            default_effect = "field" if role in ("official", "guest") else "none"
            effect = r.choice(m["effect"][1], f"{where}.effect", EFFECTS) if "effect" in m else default_effect
            if role and voice and effect:
                self.cast[member_id] = Member(
                    id=member_id,
                    role=role,
                    name=name or member_id.replace("_", " ").replace("-", " ").title(),
                    title=title,
                    voice=voice,
                    effect=effect,
                    line=value_node.start_mark.line + 1,
                )

    def _stings(self, node: Node) -> None:
        for name, (key_node, value_node) in (self.r.mapping(node, "stings") or {}).items():
            if (sound := self._sound(value_node, f"stings.{name}")) is not None:
                self.stings[name] = sound

    def _sound(self, node: Node, where: str, builtin_ok: bool = True) -> Sound | None:
        """A `builtin:NAME` or a readable file inside the story's folder or an assets folder."""
        label = self.r.text(node, where)
        if label is None:
            return None
        if label.startswith("builtin:"):
            name = label.removeprefix("builtin:")
            if not builtin_ok or name not in BUILTIN_NAMES:
                options = tuple(f"builtin:{n}" for n in BUILTIN_NAMES)
                self.r.problem(node, where, f"no builtin sound {label!r}; builtins are {', '.join(options)}" + suggest(label, options))
                return None
            return Sound(label, builtin=name)
        return self._file(node, where, label)

    def _file(self, node: Node, where: str, label: str) -> Sound | None:
        candidates = [(root / label).resolve() for root in self.roots]
        inside = [p for p, root in zip(candidates, self.roots, strict=True) if p.is_relative_to(root)]
        if not inside:
            self.r.problem(node, where, f"{label!r} is outside the story's folder; put it there or pass --assets DIR")
            return None
        for path in inside:
            if path.is_file():
                return Sound(label, path=path)
        self.r.problem(node, where, f"file {label!r} not found next to the story" + (" or in --assets" if len(self.roots) > 1 else ""))
        return None

    # -- stories and segments ---------------------------------------------------------------

    def _stories(self, root: Node, top: dict[str, tuple[Node, Node]]) -> list[StoryPart]:
        r = self.r
        if "stories" in top and "segments" in top:
            r.problem(top["segments"][0], "segments", "give either stories or segments, not both")
            return []
        if "segments" in top:
            headline = r.text(top["title"][1], "title") if "title" in top else None
            return [self._part(1, headline or "", top["segments"][1], None, "")]
        if "stories" not in top:
            r.problem(root, "stories", "is required (or `segments:` for a single story)")
            return []
        parts = []
        for i, node in r.items(top["stories"][1], "stories"):
            where = f"stories[{i + 1}]"
            s = r.mapping(node, where, STORY_KEYS)
            if s is None:
                continue
            headline = r.text(s["headline"][1], f"{where}.headline") if "headline" in s else None
            if "headline" not in s:
                r.problem(node, f"{where}.headline", "is required")
            bed = self._sound(s["bed"][1], f"{where}.bed") if "bed" in s else None
            if "segments" not in s:
                r.problem(node, f"{where}.segments", "is required")
                continue
            parts.append(self._part(i + 1, headline or "", s["segments"][1], bed, where + "."))
        if not parts and not r.problems:
            r.problem(top["stories"][1], "stories", "is empty")
        return parts

    def _part(self, index: int, headline: str, node: Node, bed: Sound | None, where: str) -> StoryPart:
        segments = []
        items = list(self.r.items(node, f"{where}segments"))
        if not items and isinstance(self.r.sequence(node, f"{where}segments"), list):
            self.r.problem(node, f"{where}segments", "is empty")
        for _, item in items:
            self.count += 1
            if self.count > MAX_SEGMENTS:
                break
            segment = self._segment(item, self.count, index)
            if segment is not None:
                segments.append(segment)
        return StoryPart(index=index, headline=headline, segments=segments, bed=bed)

    def _segment(self, node: Node, index: int, story: int) -> Segment | None:
        r = self.r
        where = f"segment {index}"
        m = r.mapping(node, where)
        if m is None:
            return None
        base = {"index": index, "story": story, "line": node.start_mark.line + 1}
        kinds = [k for k in KIND_KEYS if k in m]
        if len(kinds) > 1:
            r.problem(node, where, f"has both {kinds[0]!r} and {kinds[1]!r}; a segment is exactly one thing")
            return None
        kind = kinds[0] if kinds else None
        if kind == "pause":
            self._only(m, ("pause",), where)
            seconds = r.number(m["pause"][1], f"{where}.pause", 0, 60, low_open=True)
            return None if seconds is None else Segment(kind="pause", pause_s=seconds, **base)
        if kind == "sting":
            self._only(m, ("sting", "gap", "id"), where)
            return self._sting(m, where, base)
        if kind == "clip":
            self._only(m, CLIP_KEYS, where)
            return self._clip(m, where, base)
        if kind == "speaker":
            self._only(m, SPEECH_KEYS, where)
            speaker = self._speaker(m["speaker"][1], f"{where}.speaker")
            if "text" not in m:
                r.problem(node, f"{where}.text", "is required for a speech segment")
                return None
            text_node, text_where = m["text"][1], f"{where}.text"
        else:
            if len(m) != 1:
                keys = ", ".join(m)
                r.problem(node, where, f"has keys {keys}: a segment is {{CAST_ID: TEXT}}, {{speaker, text}}, {{pause}}, {{sting}} or {{clip}}")
                return None
            ((key, (key_node, text_node)),) = m.items()
            speaker, text_where = self._speaker(key_node, where), f"{where}.{key}"
        text = r.text(text_node, text_where, MAX_TEXT_CHARS)
        options = self._common(m, where)
        member = self.cast.get(speaker or "")
        if speaker is None or text is None or options is None or member is None:
            return None
        voice = r.text(m["voice"][1], f"{where}.voice") if "voice" in m else None
        rate = r.number(m["rate"][1], f"{where}.rate", 0.5, 2.0) if "rate" in m else 1.0
        effect = r.choice(m["effect"][1], f"{where}.effect", EFFECTS) if "effect" in m else member.effect
        return Segment(kind="speech", speaker=speaker, text=text, voice=voice, rate=rate or 1.0, effect=effect, **options, **base)

    def _speaker(self, node: Node, where: str) -> str | None:
        speaker = self.r.text(node, where)
        if speaker is not None and speaker not in self.cast:
            self.r.problem(node, where, f"unknown cast id {speaker!r}" + (suggest(speaker, list(self.cast)) or f"; the cast is {', '.join(self.cast) or 'empty'}"))
            return None
        return speaker

    def _only(self, m: dict[str, tuple[Node, Node]], allowed: tuple[str, ...], where: str) -> None:
        for key, (key_node, _) in m.items():
            if key not in allowed:
                self.r.problem(key_node, f"{where}.{key}", "unknown key here" + suggest(key, allowed))

    def _common(self, m: dict[str, tuple[Node, Node]], where: str) -> dict[str, object] | None:
        """`gap` and `id`, which every kind of segment but a pause may carry."""
        r = self.r
        out: dict[str, object] = {}
        if "gap" in m:
            if (gap := r.number(m["gap"][1], f"{where}.gap", 0, 60)) is None:
                return None
            out["gap_s"] = gap
        if "id" in m:
            seg_id = r.text(m["id"][1], f"{where}.id")
            if seg_id is None:
                return None
            if not _ID.match(seg_id) or seg_id.isdigit():
                r.problem(m["id"][1], f"{where}.id", "ids use letters, digits, '-' and '_' and are not plain numbers")
                return None
            if seg_id in self.ids:
                r.problem(m["id"][1], f"{where}.id", f"{seg_id!r} is already used by another segment")
                return None
            self.ids.add(seg_id)
            out["id"] = seg_id
        return out

    def _sting(self, m: dict[str, tuple[Node, Node]], where: str, base: dict) -> Segment | None:
        node = m["sting"][1]
        name = self.r.text(node, f"{where}.sting")
        options = self._common(m, where)
        if name is None or options is None:
            return None
        if name.startswith("builtin:"):
            sound = self._sound(node, f"{where}.sting")
        elif name in self.stings:
            sound = self.stings[name]
        else:
            self.r.problem(node, f"{where}.sting", f"no sting {name!r} under stings:" + (suggest(name, list(self.stings)) or "; use builtin:open, builtin:close or builtin:transition, or name it under stings:"))
            return None
        if sound is None:
            return None
        return Segment(kind="sting", sting=name.removeprefix("builtin:"), sound=sound, **options, **base)

    def _clip(self, m: dict[str, tuple[Node, Node]], where: str, base: dict) -> Segment | None:
        r = self.r
        sound = self._sound(m["clip"][1], f"{where}.clip", builtin_ok=False)
        speaker = self._speaker(m["speaker"][1], f"{where}.speaker") if "speaker" in m else None
        start = r.number(m["start"][1], f"{where}.start", 0, MAX_DURATION_S) if "start" in m else 0.0
        end = r.number(m["end"][1], f"{where}.end", 0, MAX_DURATION_S, low_open=True) if "end" in m else None
        if start is not None and end is not None and end <= start:
            r.problem(m["end"][1], f"{where}.end", f"{end:g} must be after start ({start:g})")
            return None
        gain = r.number(m["gain"][1], f"{where}.gain", -60, 24) if "gain" in m else 0.0
        text = r.text(m["text"][1], f"{where}.text", MAX_TEXT_CHARS) if "text" in m else None
        options = self._common(m, where)
        if sound is None or options is None or start is None or gain is None or ("speaker" in m and speaker is None):
            return None
        return Segment(kind="clip", sound=sound, speaker=speaker, start_s=start, end_s=end, gain_db=gain, text=text, **options, **base)
