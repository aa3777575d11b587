"""The story model: what a valid story file holds, and the format's names, ranges and limits.

The loader (bulletin.script.loading) builds it; the JSON Schema (bulletin.script.schema) is
built from the same constants, so the two cannot drift.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from bulletin.base.errors import InputError
from bulletin.script.markup import written
from bulletin.script.yamlnodes import MAX_FILE_BYTES, suggest

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
# a bulletin fitted to its slot (`master.duration`, `--duration`): more than 0, at most 3 hours
DURATION_RANGE = (0.0, 3 * 3600.0)
# how far the speech pace may move to fit (`master.pace_limit`): a fraction, 0.06 = +-6%
PACE_LIMIT_RANGE = (0.0, 0.12)
DEFAULT_PACE_LIMIT = 0.06

TOP_KEYS = ("title", "date", "language", "master", "pronounce", "cast", "stings", "stories", "segments", "air")
MASTER_KEYS = ("loudness", "sample_rate", "formats", "mp3_bitrate", "gap", "story_gap", "duration", "pace_limit")
MEMBER_KEYS = ("role", "name", "title", "voice", "effect", "gender")
STORY_KEYS = ("headline", "segments", "bed")
SPEECH_KEYS = ("speaker", "text", "voice", "rate", "effect", "gap", "id")
CLIP_KEYS = ("clip", "speaker", "start", "end", "gain", "text", "gap", "id")
PAUSE_KEYS = ("pause",)
STING_KEYS = ("sting", "gap", "id")
# `air:`: how a playout system files and schedules the bulletin (the WAV's cart chunk)
AIR_KEYS = ("cut", "category", "artist", "starts", "expires", "outcue")
CART_TEXT_CHARS = 64  # AES46's text fields (CutID, Category, Artist, OutCue, ...)
DEFAULT_CATEGORY = "NEWS"
# Keys a segment may hold: a cast id equal to one of these would make `- text: ...` ambiguous.
RESERVED_IDS = tuple(dict.fromkeys(PAUSE_KEYS + STING_KEYS + CLIP_KEYS + SPEECH_KEYS))


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
class Direction:
    """A voice direction (an element of script.markup) in a speech text, where it is in the file."""

    name: str  # break, say-as, sub, phoneme, emphasis, prosody
    line: int
    column: int
    ipa: str = ""  # a phoneme's ph


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
    directions: tuple[Direction, ...] = ()  # the markup in a speech text, in text order

    @property
    def written(self) -> str | None:
        """The text as captions, the cue sheet, chapters and transcripts show it: no markup."""
        return None if self.text is None else written(self.text)


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
    duration_s: float | None = None  # the slot: fit the bulletin to exactly this length
    pace_limit: float = DEFAULT_PACE_LIMIT  # the most the speech pace may move to fit (0.06 = +-6%)


@dataclass(frozen=True)
class Air:
    """`air:`, as written: None where a key is left out (the render decides: now, no kill date,
    the last words). `starts` is a date-time, or a time of day on the bulletin's date;
    `expires` a date-time or a duration after the start. `expires_at` is where `expires` was
    written (file, line, column), for a window found wrong only when the start is known."""

    cut: str | None = None
    category: str | None = None
    artist: str | None = None
    starts: datetime.datetime | datetime.time | None = None
    expires: datetime.datetime | datetime.timedelta | None = None
    outcue: str | None = None
    expires_at: tuple[str, int, int] | None = None

    def over(self, base: Air | None) -> Air:
        """These keys where given, `base`'s elsewhere (a nightly job's `air:` over the story's)."""
        if base is None:
            return self
        given = {k: v for k, v in vars(self).items() if v is not None}
        if "expires" in given:
            given["expires_at"] = self.expires_at
        return replace(base, **given)


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
    phonemes: dict[str, str] = field(default_factory=dict)  # word -> IPA (pronounce: {ipa: ...})
    stings: dict[str, Sound] = field(default_factory=dict)
    air: Air | None = None

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
        raise InputError(f"loudness {value!r} must be {LOUDNESS_CHOICES}" + suggest(str(value), tuple(LOUDNESS_PRESETS))) from None
    low, high = LOUDNESS_RANGE
    if not low <= target <= high:
        raise InputError(f"loudness {target:g} LUFS is out of range ({low:g} to {high:g})")
    return target


LOUDNESS_CHOICES = (
    f"podcast ({LOUDNESS_PRESETS['podcast']:g} LUFS), broadcast ({LOUDNESS_PRESETS['broadcast']:g} LUFS) "
    f"or a LUFS number from {LOUDNESS_RANGE[0]:g} to {LOUDNESS_RANGE[1]:g}"
)


_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)")


def parse_duration(text: str) -> float:
    """A slot's length in seconds from `180`, `180.5`, `3:00`, `3:00.5` or `1:03:00`; ValueError
    saying what is wrong (not a length, not positive, over DURATION_RANGE's 3 hours)."""
    text = str(text).strip()
    clock = _CLOCK.fullmatch(text)
    try:
        if clock:
            hours, minutes, seconds = clock.groups()
            if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
                raise ValueError
            value = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        else:
            value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a length: give seconds (180) or M:SS (3:00)") from None
    if not value > DURATION_RANGE[0]:
        raise ValueError(f"{text} is not a length to fit: give more than 0 seconds")
    if value > DURATION_RANGE[1]:
        raise ValueError(f"{text} is over {DURATION_RANGE[1] / 3600:g} hours, the longest bulletin fitted")
    return value


def parse_pace_limit(text: str) -> float:
    """The pace limit as a fraction from `0.06` or `6%`; ValueError where it is out of range."""
    text = str(text).strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a pace limit: give a fraction (0.06) or a percentage (6%)") from None
    low, high = PACE_LIMIT_RANGE
    if not low <= value <= high:
        raise ValueError(f"{text} is out of range: the pace may move by {low:g} to {high * 100:g}% (0 to {high:g})")
    return value


def clip_start_past_end(start_s: float, length_s: float, label: str) -> str | None:
    """Why a clip cannot start at `start_s` of a `length_s`-second file, or None if it can.

    The loader asks when the file's header gives its length; `check` and the render ask
    again for files only a decoder can measure."""
    if start_s < length_s:
        return None
    return f"{start_s:g} is past the end of {label!r} ({length_s:.2f} s long)"

