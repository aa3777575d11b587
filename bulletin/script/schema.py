"""The JSON Schema (draft 2020-12) of the story format, for editors and other tools.

Built from the loader's own constants (keys, choices, ranges, limits) so the two cannot drift:
a key added to a tuple in `bulletin.script.model` without a description here fails at once. The
loader stays the authority; the schema catches what an editor can see while typing.
"""

from __future__ import annotations

from typing import Any

from bulletin.script import model
from bulletin.script.ipa import MAX_IPA_CHARS

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_BUILTINS = [f"builtin:{name}" for name in model.BUILTIN_NAMES]
_PRESETS = ", ".join(f"{name} = {lufs:g} LUFS" for name, lufs in model.LOUDNESS_PRESETS.items())


def _number(low: float, high: float, description: str, *, low_open: bool = False, integer: bool = False) -> Schema:
    bound = "exclusiveMinimum" if low_open else "minimum"
    return {"type": "integer" if integer else "number", bound: low, "maximum": high, "description": description}


# how speech text may direct the voices (script.markup); the loader checks the markup itself
SPEECH_TEXT = ("what the speaker says; may hold voice directions, a subset of SSML 1.1: "
               '<break time="500ms"/> (or strength=weak|medium|strong|x-strong; at most 10 s), '
               '<say-as interpret-as="characters|cardinal|ordinal|digits|telephone|date" format="ymd|dmy|mdy">, '
               '<sub alias="what is said">written</sub>, <phoneme alphabet="ipa" ph="IPA">written</phoneme>, '
               '<emphasis level="strong|moderate|reduced">, <prosody rate="85%|x-slow|slow|medium|fast|x-fast">; '
               "&amp; &lt; &gt; &quot; &apos; are entities. Captions and the cue sheet show the text without "
               "the markup (a sub or phoneme shows its content)")


def _text(description: str, max_chars: int | None = None) -> Schema:
    # YAML reads `anchor: 1984` as a number and `kim: yes` as a boolean; the loader takes any
    # scalar as the text written, so the schema must too (or editors flag valid stories)
    schema: Schema = {"type": ["string", "number", "boolean"], "pattern": r"\S", "description": description}
    if max_chars is not None:
        schema["maxLength"] = max_chars
    return schema


def _id(description: str) -> Schema:
    return {"type": "string", "pattern": model.ID_PATTERN, "description": description}


def _object(keys: tuple[str, ...], described: dict[str, Schema], description: str,
            required: tuple[str, ...] = ()) -> Schema:
    """A closed object with exactly `keys`, in the loader's order (KeyError if one is undescribed)."""
    schema: Schema = {
        "type": "object",
        "description": description,
        "properties": {key: described[key] for key in keys},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def story_schema() -> Schema:
    """The story format as a JSON Schema (draft 2020-12) document."""
    sound = {
        "description": f"an audio file (WAV, FLAC, OGG or MP3) relative to the story file or an --assets "
                       f"folder, or a builtin sound: {', '.join(_BUILTINS)}",
        "anyOf": [
            {"enum": _BUILTINS},
            {"type": "string", "pattern": r"\S", "not": {"pattern": "^builtin:"}},
        ],
    }
    gap = _number(*model.GAP_RANGE, "silence after this segment in seconds; overrides master.gap")
    segment_id = _id("a name to preview this segment by (`bulletin preview STORY ID`); unique, "
                     "not a plain number") | {"not": {"pattern": "^[0-9]+$"}}
    speaker = _id("the cast id of who speaks")
    voice = {"type": "string", "pattern": r"\S", "description": "a voice preset name (see `bulletin voices`), "
             "or auto to let casting choose"}
    effect = {"enum": list(model.EFFECTS), "description": "none; phone (a telephone line); field (recorded outside a studio)"}
    cast_id = _id("") | {"not": {"enum": list(model.RESERVED_IDS)}}
    del cast_id["description"]

    member_keys: dict[str, Schema] = {
        "role": {"enum": list(model.ROLES), "description": "what the member does on air; guides voice casting"},
        "name": _text("shown in the cue sheet, captions and check; default: the id"),
        "title": _text("a job title, shown with the name"),
        "voice": voice,
        "effect": effect | {"description": "default: none for anchor and reporter, field for official and guest"},
        "gender": {"enum": list(model.GENDERS), "description": "how the member sounds, for `auto` casting; "
                   "default: either"},
    }
    member = _object(model.MEMBER_KEYS, member_keys, "a speaker", required=("role",))
    # an id that is itself a role name (anchor, reporter, ...) may leave role out
    member_by_role = _object(model.MEMBER_KEYS, member_keys, "a speaker; role defaults to the id")

    master_keys: dict[str, Schema] = {
        "loudness": {
            "description": f"the integrated loudness target: {_PRESETS} (both -1 dBTP), or a LUFS number",
            "anyOf": [
                {"enum": list(model.LOUDNESS_PRESETS)},
                _number(*model.LOUDNESS_RANGE, "integrated target in LUFS"),
            ],
        },
        "sample_rate": _number(*model.SAMPLE_RATE_RANGE, "output sample rate in Hz", integer=True),
        "formats": {
            "type": "array", "items": {"enum": list(model.FORMATS)}, "minItems": 1,
            "description": f"files to write; default: {', '.join(model.FORMATS)}",
        },
        "mp3_bitrate": {"enum": list(model.MP3_BITRATES), "description": "MP3 bitrate in kbps"},
        "gap": _number(*model.MASTER_GAP_RANGE, "silence between segments in seconds"),
        "story_gap": _number(*model.STORY_GAP_RANGE, "silence between stories in seconds"),
        "duration": {
            "description": "the slot: the bulletin is fitted to exactly this length (gaps flex, then the pace); "
                           f"seconds or M:SS, at most {model.DURATION_RANGE[1] / 3600:g} hours",
            "anyOf": [
                _number(*model.DURATION_RANGE, "seconds", low_open=True),
                {"type": "string", "pattern": r"^\s*(\d+:)?\d+:\d+(\.\d*)?\s*$"},
            ],
        },
        "pace_limit": {
            "description": f"how far the speech pace may move to fit master.duration: a fraction or a "
                           f"percentage, default {model.DEFAULT_PACE_LIMIT:g} (+-{model.DEFAULT_PACE_LIMIT * 100:g}%)",
            "anyOf": [
                _number(*model.PACE_LIMIT_RANGE, "a fraction: 0.06 is +-6%"),
                {"type": "string", "pattern": r"^\s*\d+(\.\d*)?%\s*$"},
            ],
        },
    }

    speech_keys: dict[str, Schema] = {
        "speaker": speaker,
        "text": _text(SPEECH_TEXT, model.MAX_TEXT_CHARS),
        "voice": voice | {"description": "a voice preset for this segment only"},
        "rate": _number(*model.RATE_RANGE, "pace; 1.0 is the voice's own"),
        "effect": effect | {"description": "overrides the member's effect for this segment"},
        "gap": gap,
        "id": segment_id,
    }
    clip_keys: dict[str, Schema] = {
        "clip": sound | {"description": "a recorded actuality: an audio file relative to the story file "
                                        "(or an --assets folder)", "anyOf": sound["anyOf"][1:]},
        "speaker": speaker | {"description": "the cast id of who is heard, for the cue sheet and captions"},
        "start": _number(*model.CLIP_TIME_RANGE, "trim: seconds into the file to start at"),
        "end": _number(*model.CLIP_TIME_RANGE, "trim: seconds into the file to stop at; after start",
                       low_open=True),
        "gain": _number(*model.GAIN_RANGE, "level change in dB"),
        "text": _text("what is said in the clip, for captions", model.MAX_TEXT_CHARS),
        "gap": gap,
        "id": segment_id,
    }
    sting_keys: dict[str, Schema] = {
        "sting": {"description": "a name under stings:, or builtin:NAME",
                  "anyOf": [{"enum": _BUILTINS}, _id("a name under stings:")]},
        "gap": gap,
        "id": segment_id,
    }
    pause_keys: dict[str, Schema] = {
        "pause": _number(*model.PAUSE_RANGE, "seconds of silence", low_open=True),
    }
    segment = {
        "description": "one segment: CAST_ID: TEXT, the long form {speaker, text}, pause, sting or clip",
        "oneOf": [
            {
                "title": "speech (short form)",
                "type": "object",
                "description": "CAST_ID: TEXT",
                "minProperties": 1,
                "maxProperties": 1,
                "propertyNames": cast_id,
                "additionalProperties": _text(SPEECH_TEXT, model.MAX_TEXT_CHARS),
            },
            _object(model.SPEECH_KEYS, speech_keys, "speech (long form)", required=("speaker", "text")),
            _object(model.PAUSE_KEYS, pause_keys, "pause", required=("pause",)),
            _object(model.STING_KEYS, sting_keys, "sting", required=("sting",)),
            _object(model.CLIP_KEYS, clip_keys, "clip", required=("clip",)),
        ],
    }
    segments = {
        "type": "array", "items": {"$ref": "#/$defs/segment"}, "minItems": 1, "maxItems": model.MAX_SEGMENTS,
        "description": f"in order; numbered from 1 across all stories (at most {model.MAX_SEGMENTS:,})",
    }
    story_keys: dict[str, Schema] = {
        "headline": _text("the story's title: an MP3 chapter and a cue sheet entry"),
        "segments": segments,
        "bed": sound | {"description": "a music bed under this story, ducked under speech"},
    }
    top_keys: dict[str, Schema] = {
        "title": _text("the programme name, for tags and the output file name"),
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                 "description": "YYYY-MM-DD; default: the day of the render"},
        "language": {"type": "string", "pattern": r"\S", "description": "language code; default: en"},
        "master": _object(model.MASTER_KEYS, master_keys, "mastering and output settings; every key has a default"),
        "pronounce": {
            "type": "object",
            "description": "whole-word respellings (or IPA) for the voices only; captions and the cue sheet "
                           "keep the written text",
            "propertyNames": {"pattern": r"^\S+$"},
            "additionalProperties": {"anyOf": [
                _text("how to say the word: a respelling"),
                {"type": "object", "required": ["ipa"], "additionalProperties": False,
                 "description": "how to say the word in IPA",
                 "properties": {"ipa": {"type": "string", "pattern": r"\S", "maxLength": MAX_IPA_CHARS,
                                        "description": "the sounds in IPA, e.g. dʒiː.soʊ.miː.ə"}}},
            ]},
        },
        "cast": {
            "type": "object",
            "description": "every speaker, by the id that segments use",
            "minProperties": 1,
            "propertyNames": cast_id,
            "properties": {role: {"$ref": "#/$defs/member_by_role"} for role in model.ROLES},
            "additionalProperties": {"$ref": "#/$defs/member"},
        },
        "stings": {
            "type": "object",
            "description": "named jingles for `sting:` segments",
            "propertyNames": {"pattern": model.ID_PATTERN},
            "additionalProperties": {"$ref": "#/$defs/sound"},
        },
        "stories": {
            "type": "array", "minItems": 1,
            "items": _object(model.STORY_KEYS, story_keys, "a story: an MP3 chapter",
                             required=("headline", "segments")),
            "description": "the bulletin's stories, in order",
        },
        "segments": segments | {"description": "a single-story file's segments (instead of stories)"},
        "air": _object(model.AIR_KEYS, _air_keys(), "how a playout system files the bulletin and when it may "
                       "air: the WAV's cart chunk (AES46); every key has a default"),
    }
    schema = _object(model.TOP_KEYS, top_keys, "a news bulletin script for `bulletin render`",
                     required=("title", "cast"))
    return {
        "$schema": DIALECT,
        "title": "bulletin story",
        "$comment": "generated by `bulletin schema` from bulletin.script.story; edit that, not this",
        **schema,
        "oneOf": [{"required": ["stories"]}, {"required": ["segments"]}],
        "$defs": {
            "member": member,
            "member_by_role": member_by_role,
            "sound": sound,
            "segment": segment,
        },
    }


def _air_keys() -> dict[str, Schema]:
    date_time = r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
    return {
        "cut": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": model.CART_TEXT_CHARS,
                "description": "the CutID: 1-64 ASCII letters, digits, '-', '_', '.'; default: none"},
        "category": _text(f"the cart Category; default {model.DEFAULT_CATEGORY}"),
        "artist": _text("the cart Artist (station or programme); default: the title"),
        "starts": {"type": "string", "anyOf": [{"pattern": date_time}, {"pattern": r"^\d{1,2}:\d{2}$"}],
                   "description": "when it may first air: a date-time (2019-11-22T06:00), or a time of day "
                                  "(\"06:00\") on the bulletin's date; default: the render's time"},
        "expires": {"type": "string", "anyOf": [{"pattern": date_time}, {"pattern": r"^(\s*\d+\s*[dhm])+\s*$"}],
                    "description": "the kill date: a date-time, or a duration after starts (30m, 2h, 1d); "
                                   "default: none"},
        "outcue": _text("the cart OutCue; default: the last words of the last speech segment"),
    }
