"""Sounds: `stings:`, and every `builtin:NAME` or audio file a sting, bed or clip names."""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import Node

from bulletin.base.audio import audio_length_s
from bulletin.base.errors import BulletinError
from bulletin.script.loading.context import ID, Context, as_id
from bulletin.script.model import BUILTIN_NAMES, Sound
from bulletin.script.yamlnodes import suggest


def read_stings(ctx: Context, node: Node) -> None:
    """Fill ctx.stings with the valid named stings; ctx.broken_stings names the others."""
    for name, (key_node, value_node) in (ctx.r.mapping(node, "stings") or {}).items():
        if not ID.match(name):
            ctx.r.problem(key_node, f"stings.{name}", "sting names use only letters, digits, '-' and '_'; "
                          f"try {as_id(name)!r}")
            ctx.broken_stings.add(name)
        elif (sound := read_sound(ctx, value_node, f"stings.{name}")) is not None:
            ctx.stings[name] = sound
        else:
            ctx.broken_stings.add(name)


def read_sound(ctx: Context, node: Node, where: str, builtin_ok: bool = True) -> Sound | None:
    """A `builtin:NAME` or a readable file inside the story's folder or an assets folder."""
    label = ctx.r.text(node, where)
    if label is None:
        return None
    if not label.startswith("builtin:"):
        return _file(ctx, node, where, label)
    name = label.removeprefix("builtin:")
    if not builtin_ok:
        ctx.r.problem(node, where, f"a clip is an audio file, not {label!r}; "
                      "play builtin sounds with `- sting: builtin:NAME`")
        return None
    if name not in BUILTIN_NAMES:
        # compare the names only: the shared prefix makes every builtin look close
        close = suggest(name, BUILTIN_NAMES).replace("mean '", "mean 'builtin:")
        builtins = ", ".join(f"builtin:{n}" for n in BUILTIN_NAMES)
        ctx.r.problem(node, where, f"no builtin sound {label!r}" + (close or f"; builtins are {builtins}"))
        return None
    return Sound(label, builtin=name)


def _file(ctx: Context, node: Node, where: str, label: str) -> Sound | None:
    """The file `label` names, refused unless it resolves inside an allowed folder."""
    try:
        candidates = [(root / label).resolve() for root in ctx.roots]
    except RuntimeError:  # pathlib's word for a loop of symbolic links
        ctx.r.problem(node, where, f"{label[:80]!r} is a loop of symbolic links; name the audio file itself")
        return None
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        ctx.r.problem(node, where, f"{label[:80]!r} is not a usable file name")
        return None
    # "resolves inside an allowed folder" is the rule, whichever folder it was found from
    # (a symlink beside the story may point into an --assets folder)
    inside = [p for p in candidates if any(p.is_relative_to(root) for root in ctx.roots)]
    if not inside:
        ctx.r.problem(node, where, f"{label!r} is outside the story's folder; copy the file there "
                      "and give its path relative to the story, or pass --assets DIR")
        return None
    for path in inside:
        try:
            if path.is_dir():
                ctx.r.problem(node, where, f"{label!r} is a folder; name an audio file in it")
                return None
            if path.is_file():
                return _audio(ctx, node, where, label, path)
        except (OSError, ValueError):
            ctx.r.problem(node, where, f"{label[:80]!r} is not a usable file name")
            return None
    ctx.r.problem(node, where, f"file {label!r} not found next to the story"
                  + (" or in --assets folders" if len(ctx.roots) > 1 else "")
                  + "; check the spelling (paths are relative to the story file)")
    return None


def _audio(ctx: Context, node: Node, where: str, label: str, path: Path) -> Sound | None:
    """Read the file's header now, so a file that holds no audio is refused before any audio
    is made (whether libsndfile or ffmpeg would read it)."""
    try:
        length_s = audio_length_s(path, label)
    except BulletinError as error:
        ctx.r.problem(node, where, str(error))
        return None
    if length_s is not None:
        ctx.durations[path] = length_s
    return Sound(label, path=path)
