"""The script model and its loader: positions, limits and every error with its place.

load_story() is the first stage; every later stage may assume a valid Story.
"""

from __future__ import annotations

import datetime
import difflib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bulletin.base.errors import InputError
from bulletin.script.yamlnodes import MAX_FILE_BYTES, Reader, compose_file, describe_node, suggest

ROLES = ("anchor", "reporter", "official", "guest")
# how a member sounds, for casting; optional (casting decides when it is not given)
GENDERS = ("male", "female")
# the names the format offers; sound.effects and sound.builtin implement exactly these
EFFECTS: tuple[str, ...] = ("none", "phone", "field")
BUILTIN_NAMES: tuple[str, ...] = ("open", "close", "transition", "bed")
LOUDNESS_PRESETS = {"podcast": -16.0, "broadcast": -23.0}
FORMATS = ("wav", "mp3")
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MAX_TEXT_CHARS = 10_000
MAX_SEGMENTS = 2_000
MAX_DURATION_S = 4 * 3600.0
# Speech and caption text in all: no more than a 1 MB file can hold written out, so aliases
# cannot multiply one long text into days of synthesis.
MAX_TOTAL_TEXT_CHARS = MAX_FILE_BYTES
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
_ID = re.compile(ID_PATTERN)

# Ranges (low, high), inclusive unless noted; the JSON Schema is built from these too.
LOUDNESS_RANGE = (-40.0, -5.0)
SAMPLE_RATE_RANGE = (22050, 96000)
MASTER_GAP_RANGE = (0.0, 10.0)
STORY_GAP_RANGE = (0.0, 30.0)
PAUSE_RANGE = (0.0, 60.0)  # more than 0: a zero pause is a mistake, not a segment
RATE_RANGE = (0.5, 2.0)
GAP_RANGE = (0.0, 60.0)
CLIP_TIME_RANGE = (0.0, MAX_DURATION_S)  # end is more than 0
GAIN_RANGE = (-60.0, 24.0)

TOP_KEYS = ("title", "date", "language", "master", "pronounce", "cast", "stings", "stories", "segments")
MASTER_KEYS = ("loudness", "sample_rate", "formats", "mp3_bitrate", "gap", "story_gap")
MEMBER_KEYS = ("role", "name", "title", "voice", "effect", "gender")
STORY_KEYS = ("headline", "segments", "bed")
SPEECH_KEYS = ("speaker", "text", "voice", "rate", "effect", "gap", "id")
CLIP_KEYS = ("clip", "speaker", "start", "end", "gain", "text", "gap", "id")
PAUSE_KEYS = ("pause",)
STING_KEYS = ("sting", "gap", "id")
# Keys a segment may hold: a cast id equal to one of these would make `- text: ...` ambiguous.
RESERVED_IDS = tuple(dict.fromkeys(PAUSE_KEYS + STING_KEYS + CLIP_KEYS + SPEECH_KEYS))
# Audio files libsndfile reads itself; other formats need ffmpeg (see bulletin.base.audio).
SNDFILE_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")


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
    gender: str | None = None  # male, female, or None: casting may pick either


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
    except (TypeError, ValueError):
        raise InputError(f"loudness {value!r} must be {_LOUDNESS_CHOICES}" + suggest(str(value), tuple(LOUDNESS_PRESETS))) from None
    low, high = LOUDNESS_RANGE
    if not low <= target <= high:
        raise InputError(f"loudness {target:g} LUFS is out of range ({low:g} to {high:g})")
    return target


_LOUDNESS_CHOICES = (
    f"podcast ({LOUDNESS_PRESETS['podcast']:g} LUFS), broadcast ({LOUDNESS_PRESETS['broadcast']:g} LUFS) "
    f"or a LUFS number from {LOUDNESS_RANGE[0]:g} to {LOUDNESS_RANGE[1]:g}"
)


def load_story(path: Path, assets: tuple[Path, ...] = ()) -> Story:
    """Parse and validate a story file; InputError lists every problem with its position."""
    path = Path(path)
    root = compose_file(path)
    reader = Reader(str(path))
    if root is None:
        reader.problem(None, "file", "is empty; a story needs title, cast and stories (or segments)")
        reader.raise_if_problems()
    return _StoryLoader(path, reader, tuple(Path(a) for a in assets)).load(root)


Pairs = dict[str, tuple[Node, Node]]


class _StoryLoader:
    def __init__(self, path: Path, reader: Reader, assets: tuple[Path, ...]) -> None:
        self.path = path
        self.r = reader
        self.roots = [path.resolve().parent, *(a.resolve() for a in assets)]
        self.cast: dict[str, Member] = {}
        self.stings: dict[str, Sound] = {}
        # names given but invalid: their own problem is reported once, not at every use
        self.broken_cast: set[str] = set()
        self.broken_stings: set[str] = set()
        self.ids: dict[str, int] = {}  # segment id -> line it was first given on
        self.count = 0
        self.text_chars = 0
        self.durations: dict[Path, float] = {}  # audio file -> seconds, from its header

    def load(self, root: Node) -> Story:
        r = self.r
        if not isinstance(root, MappingNode):
            r.visit(root)
            r.problem(root, "file", "must be a mapping of keys such as title:, cast: and stories:, "
                      f"not {'a list' if isinstance(root, SequenceNode) else repr(getattr(root, 'value', ''))}")
            r.raise_if_problems()
        top = r.mapping(root, "", TOP_KEYS) or {}
        title = r.text(top["title"][1], "title") if "title" in top else None
        if "title" not in top:
            self._required(root, "title", "title", "the programme name", TOP_KEYS)
        date = r.date(top["date"][1], "date") if "date" in top else datetime.date.today()
        language = r.text(top["language"][1], "language") if "language" in top else "en"
        master = self._master(top["master"][1]) if "master" in top else Master()
        pronounce = self._pronounce(top["pronounce"][1]) if "pronounce" in top else {}
        if "cast" in top:
            self._cast(top["cast"][1])
        else:
            self._required(root, "cast", "cast", "every speaker, by the id that segments use", TOP_KEYS)
        if "stings" in top:
            self._stings(top["stings"][1])
        stories = self._stories(root, top, title)
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
            if isinstance(value, ScalarNode) and value.value in LOUDNESS_PRESETS:
                values["target_lufs"] = LOUDNESS_PRESETS[value.value]
            elif isinstance(value, ScalarNode) and value.tag.endswith((":int", ":float")):
                values["target_lufs"] = r.number(value, "master.loudness", *LOUDNESS_RANGE)
            else:
                r.problem(value, "master.loudness", f"{describe_node(value)} must be {_LOUDNESS_CHOICES}"
                          + suggest(str(getattr(value, "value", "")), tuple(LOUDNESS_PRESETS)))
        if "sample_rate" in m:
            values["sample_rate"] = r.integer(m["sample_rate"][1], "master.sample_rate", *SAMPLE_RATE_RANGE)
        if "formats" in m:
            node = m["formats"][1]
            if isinstance(node, SequenceNode):
                formats = [r.choice(n, f"master.formats[{i + 1}]", FORMATS) for i, n in r.items(node, "master.formats")]
                if not formats:
                    r.problem(node, "master.formats", f"is empty; name at least one of {', '.join(FORMATS)}")
                values["formats"] = tuple(dict.fromkeys(f for f in formats if f))
            else:
                r.problem(node, "master.formats", f"must be a list like [{', '.join(FORMATS)}], not {describe_node(node)}")
        if "mp3_bitrate" in m:
            rate = r.integer(m["mp3_bitrate"][1], "master.mp3_bitrate", MP3_BITRATES[0], MP3_BITRATES[-1])
            if rate is not None and rate not in MP3_BITRATES:
                nearest = min(MP3_BITRATES, key=lambda b: abs(b - rate))
                r.problem(m["mp3_bitrate"][1], "master.mp3_bitrate",
                          f"{rate} is not an MP3 bitrate; use one of {', '.join(map(str, MP3_BITRATES))} (nearest: {nearest})")
                rate = None
            values["mp3_bitrate"] = rate
        if "gap" in m:
            values["gap_s"] = r.number(m["gap"][1], "master.gap", *MASTER_GAP_RANGE)
        if "story_gap" in m:
            values["story_gap_s"] = r.number(m["story_gap"][1], "master.story_gap", *STORY_GAP_RANGE)
        return Master(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]

    def _pronounce(self, node: Node) -> dict[str, str]:
        out = {}
        for word, (key_node, value_node) in (self.r.mapping(node, "pronounce") or {}).items():
            if not word.strip() or any(c.isspace() for c in word.strip()):
                self.r.problem(key_node, f"pronounce.{word}",
                               "must be a single word; give each word of a phrase its own entry")
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
            r.problem(node, "cast", "is empty; name at least one speaker, e.g. anchor: {role: anchor}")
        for member_id, (key_node, value_node) in members.items():
            where = f"cast.{member_id}"
            self.broken_cast.add(member_id)  # until it proves valid
            if not _ID.match(member_id):
                r.problem(key_node, where, "ids may use only letters, digits, '-' and '_' (no spaces); "
                          f"try {_as_id(member_id)!r}")
                continue
            if member_id in RESERVED_IDS:
                r.problem(key_node, where, f"{member_id!r} is a segment key, so it cannot be a cast id; "
                          "choose another id")
                continue
            if isinstance(value_node, ScalarNode):
                r.visit(value_node)
                role = value_node.value.strip()
                hint = f"{{role: {role}}}" if role in ROLES else f"{{role: reporter, name: {role or 'NAME'}}}"
                r.problem(value_node, where, f"must be a mapping like {hint}, not {describe_node(value_node)}")
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
                self._required(value_node, "role", f"{where}.role", f"one of {', '.join(ROLES)}", MEMBER_KEYS)
            name = r.text(m["name"][1], f"{where}.name") if "name" in m else None
            title = r.text(m["title"][1], f"{where}.title") if "title" in m else None
            voice = r.text(m["voice"][1], f"{where}.voice") if "voice" in m else "auto"
            default_effect = "field" if role in ("official", "guest") else "none"
            effect = r.choice(m["effect"][1], f"{where}.effect", EFFECTS) if "effect" in m else default_effect
            gender = r.choice(m["gender"][1], f"{where}.gender", GENDERS) if "gender" in m else None
            if role and voice and effect and ("gender" not in m or gender):
                self.broken_cast.discard(member_id)
                self.cast[member_id] = Member(
                    id=member_id,
                    role=role,
                    name=name or member_id.replace("_", " ").replace("-", " ").title(),
                    title=title,
                    voice=voice,
                    effect=effect,
                    line=value_node.start_mark.line + 1,
                    gender=gender,
                )

    def _stings(self, node: Node) -> None:
        for name, (key_node, value_node) in (self.r.mapping(node, "stings") or {}).items():
            if not _ID.match(name):
                self.r.problem(key_node, f"stings.{name}", "sting names use only letters, digits, '-' and '_'; "
                               f"try {_as_id(name)!r}")
                self.broken_stings.add(name)
            elif (sound := self._sound(value_node, f"stings.{name}")) is not None:
                self.stings[name] = sound
            else:
                self.broken_stings.add(name)

    def _sound(self, node: Node, where: str, builtin_ok: bool = True) -> Sound | None:
        """A `builtin:NAME` or a readable file inside the story's folder or an assets folder."""
        label = self.r.text(node, where)
        if label is None:
            return None
        if label.startswith("builtin:"):
            name = label.removeprefix("builtin:")
            if not builtin_ok:
                self.r.problem(node, where, f"a clip is an audio file, not {label!r}; "
                               "play builtin sounds with `- sting: builtin:NAME`")
                return None
            if name not in BUILTIN_NAMES:
                # compare the names only: the shared prefix makes every builtin look close
                close = suggest(name, BUILTIN_NAMES).replace("mean '", "mean 'builtin:")
                builtins = ", ".join(f"builtin:{n}" for n in BUILTIN_NAMES)
                self.r.problem(node, where, f"no builtin sound {label!r}" + (close or f"; builtins are {builtins}"))
                return None
            return Sound(label, builtin=name)
        return self._file(node, where, label)

    def _file(self, node: Node, where: str, label: str) -> Sound | None:
        """The file `label` names, refused unless it resolves inside an allowed folder."""
        try:
            candidates = [(root / label).resolve() for root in self.roots]
        except (OSError, ValueError):  # a NUL byte, a name too long for the file system
            self.r.problem(node, where, f"{label[:80]!r} is not a usable file name")
            return None
        # "resolves inside an allowed folder" is the rule, whichever folder it was found from
        # (a symlink beside the story may point into an --assets folder)
        inside = [p for p in candidates if any(p.is_relative_to(root) for root in self.roots)]
        if not inside:
            self.r.problem(node, where, f"{label!r} is outside the story's folder; copy the file there "
                           "and give its path relative to the story, or pass --assets DIR")
            return None
        for path in inside:
            try:
                if path.is_dir():
                    self.r.problem(node, where, f"{label!r} is a folder; name an audio file in it")
                    return None
                if path.is_file():
                    return self._audio(node, where, label, path)
            except (OSError, ValueError):
                self.r.problem(node, where, f"{label[:80]!r} is not a usable file name")
                return None
        self.r.problem(node, where, f"file {label!r} not found next to the story"
                       + (" or in --assets folders" if len(self.roots) > 1 else "")
                       + "; check the spelling (paths are relative to the story file)")
        return None

    def _audio(self, node: Node, where: str, label: str, path: Path) -> Sound | None:
        """Read the file's header now, so an unreadable file is refused before any audio is made."""
        import soundfile as sf

        try:
            info = sf.info(str(path))
        except Exception as error:  # libsndfile raises several kinds of error for a bad file
            reason = str(getattr(error, "error_string", "") or error).rstrip(".")
            if path.suffix.lower() in SNDFILE_SUFFIXES or shutil.which("ffmpeg") is None:
                self.r.problem(node, where, f"cannot read {label!r} as audio ({reason}); use a WAV, FLAC, OGG or MP3 file")
                return None
            return Sound(label, path=path)  # bulletin.base.audio decodes other formats with ffmpeg
        if info.frames <= 0 or info.samplerate <= 0:
            self.r.problem(node, where, f"{label!r} holds no audio")
            return None
        self.durations[path] = info.frames / info.samplerate
        return Sound(label, path=path)

    # -- stories and segments ---------------------------------------------------------------

    def _stories(self, root: Node, top: Pairs, title: str | None) -> list[StoryPart]:
        r = self.r
        if "stories" in top and "segments" in top:
            r.problem(top["segments"][0], "segments", "give either stories: (a list of stories) or "
                      "segments: (a single story), not both; move these segments into a story")
            return []
        if "segments" in top:
            return [self._part(1, title or "", top["segments"][1], None, "")]
        if "stories" not in top:
            if not _misspelt(root, "segments", TOP_KEYS):
                self._required(root, "stories", "stories", "a list of stories (or `segments:` for a single story)", TOP_KEYS)
            return []
        node = top["stories"][1]
        if isinstance(node, MappingNode):
            r.visit(node)
            r.problem(node, "stories", "must be a list of stories, each starting `- headline:`; not a mapping")
            return []
        parts = []
        entries = r.items(node, "stories")
        if isinstance(node, SequenceNode) and not node.value:
            r.problem(node, "stories", "is empty; add a story: `- headline: ...` with `segments:`")
        for i, entry in entries:
            if self.count > MAX_SEGMENTS:  # reported once already; the rest adds only noise
                break
            where = f"stories[{i + 1}]"
            s = r.mapping(entry, where, STORY_KEYS)
            if s is None:
                continue
            headline = r.text(s["headline"][1], f"{where}.headline") if "headline" in s else None
            if "headline" not in s:
                self._required(entry, "headline", f"{where}.headline", "the story's title", STORY_KEYS)
            bed = self._sound(s["bed"][1], f"{where}.bed") if "bed" in s else None
            if "segments" not in s:
                self._required(entry, "segments", f"{where}.segments", "the story's segments", STORY_KEYS)
                continue
            parts.append(self._part(i + 1, headline or "", s["segments"][1], bed, where + "."))
        return parts

    def _part(self, index: int, headline: str, node: Node, bed: Sound | None, where: str) -> StoryPart:
        r = self.r
        segments = []
        if isinstance(node, SequenceNode) and not node.value:
            r.problem(node, f"{where}segments", "is empty; add at least one segment, e.g. `- anchor: TEXT`")
        for _, item in r.items(node, f"{where}segments"):
            if self.count >= MAX_SEGMENTS:
                if self.count == MAX_SEGMENTS:  # report once, at the first segment too many
                    r.problem(item, f"segment {self.count + 1}", f"a story file holds at most {MAX_SEGMENTS:,} "
                              "segments; split the bulletin into several files")
                    self.count += 1
                break
            self.count += 1
            segment = self._segment(item, self.count, index)
            if segment is not None:
                segments.append(segment)
        return StoryPart(index=index, headline=headline, segments=segments, bed=bed)

    def _segment(self, node: Node, index: int, story: int) -> Segment | None:
        r = self.r
        where = f"segment {index}"
        if isinstance(node, ScalarNode):
            r.visit(node)
            r.problem(node, where, f"{describe_node(node)} is not a segment; write `CAST_ID: TEXT` "
                      "(e.g. `- anchor: Good morning.`), or pause:, sting: or clip:")
            return None
        m = r.mapping(node, where)
        if m is None:
            return None
        base = {"index": index, "story": story, "line": node.start_mark.line + 1}
        kinds = [k for k in ("pause", "sting", "clip") if k in m]
        if "speaker" in m and "clip" not in m:  # a clip may name its speaker
            kinds.append("speaker")
        if len(kinds) > 1:
            r.problem(m[kinds[1]][0], where, f"has both {kinds[0]!r} and {kinds[1]!r}; a segment is exactly "
                      "one thing: make them two list items, each starting '- '")
            return None
        kind = kinds[0] if kinds else None
        if kind == "pause":
            self._only(m, PAUSE_KEYS, where, "a pause takes no other keys")
            seconds = r.number(m["pause"][1], f"{where}.pause", *PAUSE_RANGE, low_open=True)
            return None if seconds is None else Segment(kind="pause", pause_s=seconds, **base)
        if kind == "sting":
            self._only(m, STING_KEYS, where)
            return self._sting(m, where, base)
        if kind == "clip":
            self._only(m, CLIP_KEYS, where)
            return self._clip(m, where, base)
        if kind == "speaker":
            self._only(m, SPEECH_KEYS, where)
            speaker = self._speaker(m["speaker"][1], f"{where}.speaker")
            if "text" not in m:
                self._required(node, "text", f"{where}.text", "what the speaker says", SPEECH_KEYS)
                return None
            text_node, text_where = m["text"][1], f"{where}.text"
        else:
            keys = list(m)
            if not keys:
                r.problem(node, where, "is empty; write `CAST_ID: TEXT`, or pause:, sting: or clip:")
                return None
            if keys[0] in RESERVED_IDS:
                r.problem(m[keys[0]][0], where, f"{keys[0]!r} belongs to a long speech segment, which needs "
                          "`speaker: CAST_ID` and `text: ...`")
                return None
            if len(keys) > 1:
                r.problem(m[keys[1]][0], where, f"a short speech segment is just `{keys[0]}: TEXT`; to add "
                          f"{keys[1]}:, write the long form: speaker: {keys[0]}, text: ..., {keys[1]}: ...")
                return None
            ((key, (key_node, text_node)),) = m.items()
            speaker, text_where = self._speaker(key_node, where, short=True), f"{where}.{key}"
        text = self._text(text_node, text_where, node)
        options = self._common(m, where)
        member = self.cast.get(speaker or "")
        if speaker is None or text is None or options is None or member is None:
            return None
        voice = r.text(m["voice"][1], f"{where}.voice") if "voice" in m else None
        rate = r.number(m["rate"][1], f"{where}.rate", *RATE_RANGE) if "rate" in m else 1.0
        effect = r.choice(m["effect"][1], f"{where}.effect", EFFECTS) if "effect" in m else member.effect
        if ("voice" in m and voice is None) or rate is None or effect is None:
            return None
        return Segment(kind="speech", speaker=speaker, text=text, voice=voice, rate=rate, effect=effect, **options, **base)

    def _text(self, node: Node, where: str, segment: Node) -> str | None:
        """Speech or caption text, counting toward the whole file's text limit.

        Past the limit the problem is placed at the segment: the text node itself may be an
        anchor far above, shared by every alias to it."""
        text = self.r.text(node, where, MAX_TEXT_CHARS)
        if text is not None:
            before, self.text_chars = self.text_chars, self.text_chars + len(text)
            if before <= MAX_TOTAL_TEXT_CHARS < self.text_chars:
                self.r.problem(segment, where, f"the text so far totals {self.text_chars:,} characters, more than a "
                               f"{MAX_TOTAL_TEXT_CHARS:,}-byte story file holds; aliases (*name) repeat too much")
                return None
        return text

    def _speaker(self, node: Node, where: str, short: bool = False) -> str | None:
        speaker = self.r.text(node, where)
        if speaker is None or speaker in self.cast:
            return speaker
        if speaker not in self.broken_cast:  # a broken member was reported where it is defined
            options = list(self.cast) + (["pause", "sting", "clip"] if short else [])
            what = f"{speaker!r} is not in the cast" if short else f"unknown cast id {speaker!r}"
            self.r.problem(node, where, what + (suggest(speaker, options) or (
                f"; the cast is {', '.join(self.cast)}" if self.cast else "; add it under cast:")))
        return None

    def _required(self, node: Node, key: str, where: str, what: str, known: tuple[str, ...]) -> None:
        """Report a missing key, unless a misspelling of it is there (reported as unknown)."""
        if not _misspelt(node, key, known):
            self.r.problem(node, where, f"is required: add `{key}:` with {what}")

    def _only(self, m: Pairs, allowed: tuple[str, ...], where: str, why: str = "unknown key here") -> None:
        for key, (key_node, _) in m.items():
            if key not in allowed:
                self.r.problem(key_node, f"{where}.{key}", why + (suggest(key, allowed) or f"; allowed: {', '.join(allowed)}"))

    def _common(self, m: Pairs, where: str) -> dict[str, object] | None:
        """`gap` and `id`, which every kind of segment but a pause may carry."""
        r = self.r
        out: dict[str, object] = {}
        if "gap" in m:
            if (gap := r.number(m["gap"][1], f"{where}.gap", *GAP_RANGE)) is None:
                return None
            out["gap_s"] = gap
        if "id" in m:
            node = m["id"][1]
            seg_id = r.text(node, f"{where}.id")
            if seg_id is None:
                return None
            if not _ID.match(seg_id) or seg_id.isdigit():
                r.problem(node, f"{where}.id", f"{seg_id!r}: ids use letters, digits, '-' and '_' and are not plain "
                          "numbers (numbers already name segments by position)")
                return None
            if seg_id in self.ids:
                r.problem(node, f"{where}.id", f"{seg_id!r} is already the id of the segment on line "
                          f"{self.ids[seg_id]}; ids must be unique")
                return None
            self.ids[seg_id] = node.start_mark.line + 1
            out["id"] = seg_id
        return out

    def _sting(self, m: Pairs, where: str, base: dict[str, object]) -> Segment | None:
        node = m["sting"][1]
        name = self.r.text(node, f"{where}.sting")
        options = self._common(m, where)
        if name is None or options is None:
            return None
        if name.startswith("builtin:"):
            sound = self._sound(node, f"{where}.sting")
        elif name in self.stings:
            sound = self.stings[name]
        elif name in self.broken_stings:
            return None
        else:
            hint = suggest(name, list(self.stings))
            if not hint and name in BUILTIN_NAMES:
                hint = f"; did you mean 'builtin:{name}'?"
            self.r.problem(node, f"{where}.sting", f"no sting {name!r} under stings:" + (hint or (
                f"; name it under stings:, or use one of {', '.join('builtin:' + n for n in BUILTIN_NAMES)}")))
            return None
        if sound is None:
            return None
        return Segment(kind="sting", sting=name.removeprefix("builtin:"), sound=sound, **options, **base)  # type: ignore[arg-type]

    def _clip(self, m: Pairs, where: str, base: dict[str, object]) -> Segment | None:
        r = self.r
        sound = self._sound(m["clip"][1], f"{where}.clip", builtin_ok=False)
        speaker = self._speaker(m["speaker"][1], f"{where}.speaker") if "speaker" in m else None
        start = r.number(m["start"][1], f"{where}.start", *CLIP_TIME_RANGE) if "start" in m else 0.0
        end = r.number(m["end"][1], f"{where}.end", *CLIP_TIME_RANGE, low_open=True) if "end" in m else None
        if start is not None and end is not None and end <= start:
            r.problem(m["end"][1], f"{where}.end", f"{end:g} must be after start ({start:g}); "
                      "times are seconds from the beginning of the file")
            return None
        length = self.durations.get(sound.path) if sound is not None and sound.path is not None else None
        if length is not None and start is not None and start >= length:
            r.problem(m["start"][1], f"{where}.start", f"{start:g} is past the end of {sound.label!r} "  # type: ignore[union-attr]
                      f"({length:.2f} s long)")
            return None
        gain = r.number(m["gain"][1], f"{where}.gain", *GAIN_RANGE) if "gain" in m else 0.0
        text = self._text(m["text"][1], f"{where}.text", m["clip"][0]) if "text" in m else None
        options = self._common(m, where)
        if sound is None or options is None or start is None or gain is None or ("speaker" in m and speaker is None):
            return None
        if ("end" in m and end is None) or ("text" in m and text is None):
            return None
        return Segment(kind="clip", sound=sound, speaker=speaker, start_s=start, end_s=end, gain_db=gain, text=text, **options, **base)  # type: ignore[arg-type]


def _misspelt(node: Node, key: str, known: tuple[str, ...]) -> bool:
    """Whether mapping `node` holds an unknown key that is a near miss for `key` (the reader
    reports that key, with the suggestion, itself)."""
    if not isinstance(node, MappingNode):
        return False
    written = [k.value for k, _ in node.value if isinstance(k, ScalarNode) and k.value not in known]
    return bool(difflib.get_close_matches(key, written, n=1, cutoff=0.6))


def _as_id(name: str) -> str:
    """A valid id close to `name`, for suggestions."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-").lower() or "speaker"


