"""`voices`: the presets and the engines on this machine, as a table or as JSON, and
auditions (one text said by one preset)."""

from __future__ import annotations

from pathlib import Path

from bulletin.base.errors import BulletinError, InputError
from bulletin.cast.presets import Preset, load_presets
from bulletin.engines import ENGINES, engine_problem, get_engine, speak
from bulletin.engines.directed import supported
from bulletin.pipeline.checking import table
from bulletin.pipeline.planning import check_output_folder, preset_problem
from bulletin.script.markup import parse
from bulletin.script.markuptree import MarkupError
from bulletin.script.yamlnodes import suggest


def _presets(name: str | None) -> list[Preset]:
    """All presets (the project's and those in ./voices), or the one called `name`."""
    presets = load_presets(Path.cwd(), ENGINES)
    if name is not None and name not in presets:
        raise InputError(f"no voice preset {name!r}" + (suggest(name, list(presets)) or "; run `bulletin voices`"))
    return [presets[name]] if name else list(presets.values())


def voices_listing(name: str | None = None) -> dict:
    """What `voices --json` prints: every preset (or one) and every engine, with whether it can
    speak on this machine and, where not, why."""
    presets = []
    for preset in _presets(name):
        why = preset_problem(preset)
        presets.append({"name": preset.name, "engine": preset.engine, "engine_voice": preset.engine_voice,
                        "neural": preset.neural, "roles": list(preset.roles), "gender": preset.gender,
                        "rate_wpm": preset.rate_wpm, "shift_semitones": preset.shift_semitones,
                        "description": preset.description,
                        "available": why is None, "problem": why})
    engines = []
    for engine in ENGINES:
        why = engine_problem(engine)
        found = get_engine(engine) if why is None else None
        engines.append({"name": engine, "available": why is None, "problem": why,
                        "version": found.version() if found else None, "voices": found.voices() if found else [],
                        "markup": supported(found) if found else {}})
    return {"presets": presets, "engines": engines}


def voices_report(name: str | None = None) -> str:
    """The presets (or one) and the engine voices on this machine, as tables."""
    listing = voices_listing(name)
    rows = [("preset", "engine", "voice", "gender", "roles", "here", "description")]
    rows += [(v["name"], v["engine"], v["engine_voice"], v["gender"] or "-", ",".join(v["roles"]),
              "yes" if v["available"] else "no", v["description"]) for v in listing["presets"]]
    lines = ["presets:", *table(rows), "", "engines:"]
    for engine in listing["engines"]:
        if not engine["available"]:
            lines.append(f"  {engine['name']}: not available ({engine['problem']})")
            continue
        found = engine["voices"]
        lines.append(f"  {engine['name']} ({engine['version']}): {len(found)} voices: " + ", ".join(found[:40])
                     + (" ..." if len(found) > 40 else ""))
    return "\n".join(lines)


def audition(name: str | None, text: str, out: Path | None) -> Path:
    """Render `text` with preset `name` to a WAV or MP3 (by `out`'s suffix), for listening."""
    from bulletin.export.single import audio_path, write_audio
    from bulletin.sound.loudness import level_to

    if not text.strip():
        raise InputError("voices --say: the text to say is empty")
    if name is None:
        raise InputError("voices --say needs a preset name; one of " + ", ".join(p.name for p in _presets(None)))
    preset = _presets(name)[0]
    try:
        parse(text)
    except MarkupError as error:
        raise InputError(f"voices --say: at character {error.offset + 1}: {error.message}") from None
    target = audio_path(Path(out) if out else Path("output") / f"voice-{name}.wav", "an audition")
    check_output_folder(target.parent)
    if (why := preset_problem(preset)) is not None:
        raise BulletinError(why)
    take = level_to(speak(text, preset, 1.0).audio, -16.0)
    return write_audio(target, take, "an audition")
