"""`stories:` (a list of stories, each an MP3 chapter) or a single story's `segments:`."""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

from bulletin.script.loading.context import Context, Pairs, misspelt
from bulletin.script.loading.segments import read_segment
from bulletin.script.loading.sounds import read_sound
from bulletin.script.model import MAX_SEGMENTS, STORY_KEYS, TOP_KEYS, Sound, StoryPart


def read_stories(ctx: Context, root: Node, top: Pairs, title: str | None) -> list[StoryPart]:
    r = ctx.r
    if "stories" in top and "segments" in top:
        r.problem(top["segments"][0], "segments", "give either stories: (a list of stories) or "
                  "segments: (a single story), not both; move these segments into a story")
        return []
    if "segments" in top:
        return [_part(ctx, 1, title or "", top["segments"][1], None, "")]
    if "stories" not in top:
        if not misspelt(root, "segments", TOP_KEYS):
            ctx.required(root, "stories", "stories", "a list of stories (or `segments:` for a single story)", TOP_KEYS)
        return []
    node = top["stories"][1]
    if isinstance(node, MappingNode):
        r.visit(node)
        r.problem(node, "stories", "must be a list of stories, each starting `- headline:`; not a mapping")
        return []
    if isinstance(node, SequenceNode) and not node.value:
        r.problem(node, "stories", "is empty; add a story: `- headline: ...` with `segments:`")
    parts = []
    for i, entry in r.items(node, "stories"):
        if ctx.count > MAX_SEGMENTS:  # reported once already; the rest adds only noise
            break
        if (part := _story(ctx, i + 1, entry)) is not None:
            parts.append(part)
    return parts


def _story(ctx: Context, index: int, entry: Node) -> StoryPart | None:
    r, where = ctx.r, f"stories[{index}]"
    s = r.mapping(entry, where, STORY_KEYS)
    if s is None:
        return None
    headline = r.text(s["headline"][1], f"{where}.headline") if "headline" in s else None
    if "headline" not in s:
        ctx.required(entry, "headline", f"{where}.headline", "the story's title", STORY_KEYS)
    bed = read_sound(ctx, s["bed"][1], f"{where}.bed") if "bed" in s else None
    if "segments" not in s:
        ctx.required(entry, "segments", f"{where}.segments", "the story's segments", STORY_KEYS)
        return None
    return _part(ctx, index, headline or "", s["segments"][1], bed, where + ".")


def _part(ctx: Context, index: int, headline: str, node: Node, bed: Sound | None, where: str) -> StoryPart:
    r = ctx.r
    segments = []
    if isinstance(node, SequenceNode) and not node.value:
        r.problem(node, f"{where}segments", "is empty; add at least one segment, e.g. `- anchor: TEXT`")
    for _, item in r.items(node, f"{where}segments"):
        if ctx.count >= MAX_SEGMENTS:
            if ctx.count == MAX_SEGMENTS:  # report once, at the first segment too many
                r.problem(item, f"segment {ctx.count + 1}", f"a story file holds at most {MAX_SEGMENTS:,} "
                          "segments; split the bulletin into several files")
                ctx.count += 1
            break
        ctx.count += 1
        if (segment := read_segment(ctx, item, ctx.count, index)) is not None:
            segments.append(segment)
    return StoryPart(index=index, headline=headline, segments=segments, bed=bed)
