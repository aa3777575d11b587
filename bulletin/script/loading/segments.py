"""One segment: speech (short `CAST_ID: TEXT` or long `speaker:`/`text:`), pause, sting or clip."""

from __future__ import annotations

from collections.abc import Callable

from yaml.nodes import Node, ScalarNode

from bulletin.script.loading.context import ID, Context, Pairs
from bulletin.script.loading.directions import read_directions
from bulletin.script.loading.sounds import read_sound
from bulletin.script.model import (
    BUILTIN_NAMES,
    CLIP_KEYS,
    CLIP_TIME_RANGE,
    EFFECTS,
    GAIN_RANGE,
    GAP_RANGE,
    MAX_TEXT_CHARS,
    MAX_TOTAL_TEXT_CHARS,
    PAUSE_KEYS,
    PAUSE_RANGE,
    RATE_RANGE,
    RESERVED_IDS,
    SPEECH_KEYS,
    STING_KEYS,
    Segment,
    Sound,
    clip_start_past_end,
)
from bulletin.script.yamlnodes import comma_split, describe_node, suggest

Base = dict[str, object]  # index, story and line: what every kind of segment carries


def read_segment(ctx: Context, node: Node, index: int, story: int) -> Segment | None:
    r, where = ctx.r, f"segment {index}"
    if isinstance(node, ScalarNode):
        r.visit(node)
        r.problem(node, where, f"{describe_node(node)} is not a segment; write `CAST_ID: TEXT` "
                  "(e.g. `- anchor: Good morning.`), or pause:, sting: or clip:")
        return None
    m = r.mapping(node, where)
    if m is None:
        return None
    base: Base = {"index": index, "story": story, "line": node.start_mark.line + 1}
    kinds = [k for k in ("pause", "sting", "clip") if k in m]
    if "speaker" in m and "clip" not in m:  # a clip may name its speaker
        kinds.append("speaker")
    if len(kinds) > 1:
        r.problem(m[kinds[1]][0], where, f"has both {kinds[0]!r} and {kinds[1]!r}; a segment is exactly "
                  "one thing: make them two list items, each starting '- '")
        return None
    read = _KINDS[kinds[0]] if kinds else _short_speech
    return read(ctx, node, m, where, base)


def _pause(ctx: Context, node: Node, m: Pairs, where: str, base: Base) -> Segment | None:
    ctx.only(node, m, PAUSE_KEYS, where, "a pause takes no other keys")
    seconds = ctx.r.number(m["pause"][1], f"{where}.pause", *PAUSE_RANGE, low_open=True)
    return None if seconds is None else Segment(kind="pause", pause_s=seconds, **base)  # type: ignore[arg-type]


def _long_speech(ctx: Context, node: Node, m: Pairs, where: str, base: Base) -> Segment | None:
    ctx.only(node, m, SPEECH_KEYS, where)
    speaker = _speaker(ctx, m["speaker"][1], f"{where}.speaker")
    if "text" not in m:
        ctx.required(node, "text", f"{where}.text", "what the speaker says", SPEECH_KEYS)
        return None
    return _speech(ctx, node, m, where, base, speaker, m["text"][1], f"{where}.text")


def _short_speech(ctx: Context, node: Node, m: Pairs, where: str, base: Base) -> Segment | None:
    r, keys = ctx.r, list(m)
    if not keys:
        r.problem(node, where, "is empty; write `CAST_ID: TEXT`, or pause:, sting: or clip:")
        return None
    if keys[0] in RESERVED_IDS:
        r.problem(m[keys[0]][0], where, f"{keys[0]!r} belongs to a long speech segment, which needs "
                  "`speaker: CAST_ID` and `text: ...`")
        return None
    if len(keys) > 1:
        split = comma_split(node, m[keys[1]][0]).removeprefix("; ")
        r.problem(m[keys[1]][0], where, split or f"a short speech segment is just `{keys[0]}: TEXT`; to add "
                  f"{keys[1]}:, write the long form: speaker: {keys[0]}, text: ..., {keys[1]}: ...")
        return None
    ((key, (key_node, text_node)),) = m.items()
    speaker = _speaker(ctx, key_node, where, short=True)
    return _speech(ctx, node, m, where, base, speaker, text_node, f"{where}.{key}")


def _speech(ctx: Context, node: Node, m: Pairs, where: str, base: Base, speaker: str | None,
            text_node: Node, text_where: str) -> Segment | None:
    r = ctx.r
    text = _text(ctx, text_node, text_where, node)
    directions = read_directions(ctx, text_node, text, text_where) if text is not None else None
    options = _common(ctx, m, where)
    member = ctx.cast.get(speaker or "")
    if speaker is None or text is None or directions is None or options is None or member is None:
        return None
    voice = r.text(m["voice"][1], f"{where}.voice") if "voice" in m else None
    rate = r.number(m["rate"][1], f"{where}.rate", *RATE_RANGE) if "rate" in m else 1.0
    effect = r.choice(m["effect"][1], f"{where}.effect", EFFECTS) if "effect" in m else member.effect
    if ("voice" in m and voice is None) or rate is None or effect is None:
        return None
    return Segment(kind="speech", speaker=speaker, text=text, voice=voice, rate=rate, effect=effect,
                   directions=directions, **options, **base)  # type: ignore[arg-type]


def _text(ctx: Context, node: Node, where: str, segment: Node) -> str | None:
    """Speech or caption text, counting toward the whole file's text limit.

    Past the limit the problem is placed at the segment: the text node itself may be an
    anchor far above, shared by every alias to it."""
    text = ctx.r.text(node, where, MAX_TEXT_CHARS)
    if text is not None:
        before, ctx.text_chars = ctx.text_chars, ctx.text_chars + len(text)
        if before <= MAX_TOTAL_TEXT_CHARS < ctx.text_chars:
            ctx.r.problem(segment, where, f"the text so far totals {ctx.text_chars:,} characters, more than a "
                          f"{MAX_TOTAL_TEXT_CHARS:,}-byte story file holds; aliases (*name) repeat too much")
            return None
    return text


def _speaker(ctx: Context, node: Node, where: str, short: bool = False) -> str | None:
    speaker = ctx.r.text(node, where)
    if speaker is None or speaker in ctx.cast:
        return speaker
    if speaker not in ctx.broken_cast:  # a broken member was reported where it is defined
        options = list(ctx.cast) + (["pause", "sting", "clip"] if short else [])
        what = f"{speaker!r} is not in the cast" if short else f"unknown cast id {speaker!r}"
        ctx.r.problem(node, where, what + (suggest(speaker, options) or (
            f"; the cast is {', '.join(ctx.cast)}" if ctx.cast else "; add it under cast:")))
    return None


def _common(ctx: Context, m: Pairs, where: str) -> dict[str, object] | None:
    """`gap` and `id`, which every kind of segment but a pause may carry."""
    out: dict[str, object] = {}
    if "gap" in m:
        if (gap := ctx.r.number(m["gap"][1], f"{where}.gap", *GAP_RANGE)) is None:
            return None
        out["gap_s"] = gap
    if "id" in m:
        if (seg_id := _id(ctx, m["id"][1], f"{where}.id")) is None:
            return None
        out["id"] = seg_id
    return out


def _id(ctx: Context, node: Node, where: str) -> str | None:
    r = ctx.r
    seg_id = r.text(node, where)
    if seg_id is None:
        return None
    if not ID.match(seg_id) or seg_id.isdigit():
        r.problem(node, where, f"{seg_id!r}: ids use letters, digits, '-' and '_' and are not plain "
                  "numbers (numbers already name segments by position)")
        return None
    if seg_id in ctx.ids:
        r.problem(node, where, f"{seg_id!r} is already the id of the segment on line "
                  f"{ctx.ids[seg_id]}; ids must be unique")
        return None
    ctx.ids[seg_id] = node.start_mark.line + 1
    return seg_id


def _sting(ctx: Context, node: Node, m: Pairs, where: str, base: Base) -> Segment | None:
    ctx.only(node, m, STING_KEYS, where)
    value = m["sting"][1]
    name = ctx.r.text(value, f"{where}.sting")
    options = _common(ctx, m, where)
    if name is None or options is None:
        return None
    if name.startswith("builtin:"):
        sound = read_sound(ctx, value, f"{where}.sting")
    elif name in ctx.stings:
        sound = ctx.stings[name]
    elif name not in ctx.broken_stings:  # a broken sting was reported where it is defined
        hint = suggest(name, list(ctx.stings))
        if not hint and name in BUILTIN_NAMES:
            hint = f"; did you mean 'builtin:{name}'?"
        ctx.r.problem(value, f"{where}.sting", f"no sting {name!r} under stings:" + (hint or (
            f"; name it under stings:, or use one of {', '.join('builtin:' + n for n in BUILTIN_NAMES)}")))
        return None
    else:
        return None
    if sound is None:
        return None
    return Segment(kind="sting", sting=name.removeprefix("builtin:"), sound=sound, **options, **base)  # type: ignore[arg-type]


def _clip(ctx: Context, node: Node, m: Pairs, where: str, base: Base) -> Segment | None:
    r = ctx.r
    ctx.only(node, m, CLIP_KEYS, where)
    sound = read_sound(ctx, m["clip"][1], f"{where}.clip", builtin_ok=False)
    speaker = _speaker(ctx, m["speaker"][1], f"{where}.speaker") if "speaker" in m else None
    if (trim := _trim(ctx, m, where, sound)) is None:
        return None
    start, end = trim
    gain = r.number(m["gain"][1], f"{where}.gain", *GAIN_RANGE) if "gain" in m else 0.0
    text = _text(ctx, m["text"][1], f"{where}.text", m["clip"][0]) if "text" in m else None
    options = _common(ctx, m, where)
    if sound is None or options is None or start is None or gain is None:
        return None
    if ("speaker" in m and speaker is None) or ("end" in m and end is None) or ("text" in m and text is None):
        return None
    return Segment(kind="clip", sound=sound, speaker=speaker, start_s=start, end_s=end, gain_db=gain,
                   text=text, **options, **base)  # type: ignore[arg-type]


def _trim(ctx: Context, m: Pairs, where: str, sound: Sound | None) -> tuple[float | None, float | None] | None:
    """(start, end) in seconds into the file, each None if not a number in range (reported);
    None when they are numbers that cannot trim this file (reported: the clip is refused)."""
    r = ctx.r
    start = r.number(m["start"][1], f"{where}.start", *CLIP_TIME_RANGE) if "start" in m else 0.0
    end = r.number(m["end"][1], f"{where}.end", *CLIP_TIME_RANGE, low_open=True) if "end" in m else None
    if start is not None and end is not None and end <= start:
        r.problem(m["end"][1], f"{where}.end", f"{end:g} must be after start ({start:g}); "
                  "times are seconds from the beginning of the file")
        return None
    length_s = ctx.durations.get(sound.path) if sound is not None and sound.path is not None else None
    if length_s is not None and start is not None and (why := clip_start_past_end(start, length_s, sound.label)):  # type: ignore[union-attr]
        r.problem(m["start"][1], f"{where}.start", why)
        return None
    return start, end


_KINDS: dict[str, Callable[[Context, Node, Pairs, str, Base], Segment | None]] = {
    "pause": _pause, "sting": _sting, "clip": _clip, "speaker": _long_speech,
}
