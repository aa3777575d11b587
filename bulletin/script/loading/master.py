"""`master:` (mastering and output settings) and `pronounce:` (respellings or IPA for the voices)."""

from __future__ import annotations

from collections.abc import Callable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bulletin.script.ipa import MAX_IPA_CHARS, ipa_problem
from bulletin.script.loading.context import Context
from bulletin.script.model import (
    FORMATS,
    LOUDNESS_CHOICES,
    LOUDNESS_PRESETS,
    LOUDNESS_RANGE,
    MASTER_GAP_RANGE,
    MASTER_KEYS,
    MP3_BITRATES,
    SAMPLE_RATE_RANGE,
    STORY_GAP_RANGE,
    Master,
    parse_duration,
    parse_pace_limit,
)
from bulletin.script.yamlnodes import Reader, describe_node, suggest


def read_master(ctx: Context, node: Node) -> Master:
    r = ctx.r
    m = r.mapping(node, "master", MASTER_KEYS) or {}
    values: dict[str, object] = {}
    if "loudness" in m:
        values["target_lufs"] = _loudness(r, m["loudness"][1])
    if "sample_rate" in m:
        values["sample_rate"] = r.integer(m["sample_rate"][1], "master.sample_rate", *SAMPLE_RATE_RANGE)
    if "formats" in m:
        values["formats"] = _formats(r, m["formats"][1])
    if "mp3_bitrate" in m:
        values["mp3_bitrate"] = _mp3_bitrate(r, m["mp3_bitrate"][1])
    if "gap" in m:
        values["gap_s"] = r.number(m["gap"][1], "master.gap", *MASTER_GAP_RANGE)
    if "story_gap" in m:
        values["story_gap_s"] = r.number(m["story_gap"][1], "master.story_gap", *STORY_GAP_RANGE)
    if "duration" in m:
        values["duration_s"] = _parsed(r, m["duration"][1], "master.duration", parse_duration)
    if "pace_limit" in m:
        values["pace_limit"] = _parsed(r, m["pace_limit"][1], "master.pace_limit", parse_pace_limit)
    # a key left out, or given wrong (reported), keeps its default
    return Master(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]


def _loudness(r: Reader, value: Node) -> float | None:
    if isinstance(value, ScalarNode) and value.value in LOUDNESS_PRESETS:
        return LOUDNESS_PRESETS[value.value]
    if isinstance(value, ScalarNode) and value.tag.endswith((":int", ":float")):
        return r.number(value, "master.loudness", *LOUDNESS_RANGE)
    r.problem(value, "master.loudness", f"{describe_node(value)} must be {LOUDNESS_CHOICES}"
              + suggest(str(getattr(value, "value", "")), tuple(LOUDNESS_PRESETS)))
    return None


def _parsed(r: Reader, node: Node, where: str, parse: Callable[[str], float]) -> float | None:
    """A scalar read by `parse` (seconds or M:SS, a fraction or a percentage), positioned where wrong."""
    r.visit(node)
    if not isinstance(node, ScalarNode) or node.tag.endswith((":null", ":bool")):
        r.problem(node, where, f"must be a number or text like 3:00, not {describe_node(node)}")
        return None
    try:
        return parse(node.value)
    except ValueError as why:
        r.problem(node, where, str(why))
        return None


def _formats(r: Reader, node: Node) -> tuple[str, ...] | None:
    if not isinstance(node, SequenceNode):
        r.problem(node, "master.formats", f"must be a list like [{', '.join(FORMATS)}], not {describe_node(node)}")
        return None
    formats = [r.choice(n, f"master.formats[{i + 1}]", FORMATS) for i, n in r.items(node, "master.formats")]
    if not formats:
        r.problem(node, "master.formats", f"is empty; name at least one of {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(f for f in formats if f))


def _mp3_bitrate(r: Reader, node: Node) -> int | None:
    rate = r.integer(node, "master.mp3_bitrate", MP3_BITRATES[0], MP3_BITRATES[-1])
    if rate is not None and rate not in MP3_BITRATES:
        nearest = min(MP3_BITRATES, key=lambda b: abs(b - rate))
        r.problem(node, "master.mp3_bitrate",
                  f"{rate} is not an MP3 bitrate; use one of {', '.join(map(str, MP3_BITRATES))} (nearest: {nearest})")
        return None
    return rate


def read_pronounce(ctx: Context, node: Node) -> dict[str, str]:
    out = {}
    for word, (key_node, value_node) in (ctx.r.mapping(node, "pronounce") or {}).items():
        if not word.strip() or any(c.isspace() for c in word.strip()):
            ctx.r.problem(key_node, f"pronounce.{word}",
                          "must be a single word; give each word of a phrase its own entry")
            continue
        if isinstance(value_node, MappingNode):
            ipa = _ipa(ctx, value_node, f"pronounce.{word}")
            if ipa is not None:
                ctx.phonemes[word.strip()] = ipa
        elif (spoken := ctx.r.text(value_node, f"pronounce.{word}")) is not None:
            out[word.strip()] = spoken
    return out


def _ipa(ctx: Context, node: MappingNode, where: str) -> str | None:
    """A pronunciation in IPA: `{ipa: "dʒiː.soʊ.miː.ə"}`."""
    m = ctx.r.mapping(node, where, ("ipa",))
    if m is None or "ipa" not in m:
        if m is not None:
            ctx.r.problem(node, where, 'needs ipa: the sounds in IPA, e.g. {ipa: "dʒiː.soʊ.miː.ə"}; '
                          "or give a respelling as plain text")
        return None
    ipa = ctx.r.text(m["ipa"][1], f"{where}.ipa", MAX_IPA_CHARS)
    if ipa is not None and (why := ipa_problem(ipa)):
        ctx.r.problem(m["ipa"][1], f"{where}.ipa", why)
        return None
    return ipa
