"""The file as a whole: its top-level keys, read in the order later parts need them."""

from __future__ import annotations

import datetime
from pathlib import Path

from yaml.nodes import MappingNode, Node, SequenceNode

from bulletin.script.loading.air import read_air
from bulletin.script.loading.cast import read_cast
from bulletin.script.loading.context import Context
from bulletin.script.loading.master import read_master, read_pronounce
from bulletin.script.loading.sounds import read_stings
from bulletin.script.loading.stories import read_stories
from bulletin.script.model import TOP_KEYS, Master, Story
from bulletin.script.yamlnodes import Reader, compose_file


def load_story(path: Path, assets: tuple[Path, ...] = ()) -> Story:
    """Parse and validate a story file; InputError lists every problem with its position."""
    path = Path(path)
    root = compose_file(path)
    reader = Reader(str(path))
    if root is None:
        reader.problem(None, "file", "is empty; a story needs title, cast and stories (or segments)")
        reader.raise_if_problems()
    roots = [path.resolve().parent, *(Path(a).resolve() for a in assets)]
    return _read(Context(path, reader, roots), root)  # type: ignore[arg-type]


def _read(ctx: Context, root: Node) -> Story:
    r = ctx.r
    if not isinstance(root, MappingNode):
        r.visit(root)
        r.problem(root, "file", "must be a mapping of keys such as title:, cast: and stories:, "
                  f"not {'a list' if isinstance(root, SequenceNode) else repr(getattr(root, 'value', ''))}")
        r.raise_if_problems()
    top = r.mapping(root, "", TOP_KEYS) or {}
    title = r.text(top["title"][1], "title") if "title" in top else None
    if "title" not in top:
        ctx.required(root, "title", "title", "the programme name", TOP_KEYS)
    date = r.date(top["date"][1], "date") if "date" in top else datetime.date.today()
    language = r.text(top["language"][1], "language") if "language" in top else "en"
    master = read_master(ctx, top["master"][1]) if "master" in top else Master()
    pronounce = read_pronounce(ctx, top["pronounce"][1]) if "pronounce" in top else {}
    if "cast" in top:
        read_cast(ctx, top["cast"][1])
    else:
        ctx.required(root, "cast", "cast", "every speaker, by the id that segments use", TOP_KEYS)
    if "stings" in top:
        read_stings(ctx, top["stings"][1])
    stories = read_stories(ctx, root, top, title)
    air = read_air(r, top["air"][1]) if "air" in top else None
    r.raise_if_problems()
    return Story(
        path=ctx.path,
        title=title or "",
        date=date or datetime.date.today(),
        language=language or "en",
        master=master,
        cast=ctx.cast,
        stories=stories,
        pronounce=pronounce,
        stings=ctx.stings,
        air=air,
    )
