"""The story JSON Schema: well formed, built from the loader's constants, and in agreement
with the loader on valid stories and on a sample of invalid ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bulletin.base.errors import InputError
from bulletin.script import story as story_module
from bulletin.script.schema import story_schema
from bulletin.script.story import load_story
from bulletin.sound.builtin import BUILTIN_NAMES
from bulletin.sound.effects import EFFECTS

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/story.yaml"))
FIXTURES = sorted((ROOT / "tests" / "data" / "stories").glob("*.yaml"))


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's schema check sees it: dates stay text (JSON has no date type)."""


_EditorLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _instance(text: str) -> Any:
    return yaml.load(text, Loader=_EditorLoader)  # noqa: S506 (a SafeLoader subclass)


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = story_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_plain_json_of_the_2020_12_dialect() -> None:
    schema = story_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(schema)) == schema


@pytest.mark.parametrize("path", EXAMPLES + FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_stories_validate(validator: Any, path: Path) -> None:
    load_story(path)  # the loader agrees it is valid
    errors = [e.message for e in validator.iter_errors(_instance(path.read_text()))]
    assert not errors


HEAD = """\
title: T
cast:
  anchor: {role: anchor}
  kim: {role: reporter}
"""

INVALID = {
    "misspelt-top-key": HEAD.replace("title:", "titel:") + "segments: [{pause: 1}]\n",
    "missing-cast": "title: T\nsegments: [{pause: 1}]\n",
    "neither-stories-nor-segments": HEAD,
    "both-stories-and-segments": HEAD + "segments: [{pause: 1}]\nstories: [{headline: A, segments: [{pause: 1}]}]\n",
    "stories-mapping": HEAD + "stories: {headline: A, segments: [{pause: 1}]}\n",
    "story-without-headline": HEAD + "stories: [{segments: [{pause: 1}]}]\n",
    "segments-empty": HEAD + "segments: []\n",
    "pause-zero": HEAD + "segments: [{pause: 0}]\n",
    "pause-61": HEAD + "segments: [{pause: 61}]\n",
    "pause-word": HEAD + "segments: [{pause: abc}]\n",
    "pause-and-sting": HEAD + "segments: [{pause: 1, sting: builtin:open}]\n",
    "short-form-two-keys": HEAD + "segments: [{anchor: Hi., gap: 1}]\n",
    "text-null": HEAD + "segments: [{speaker: kim, text: null}]\n",
    "speech-list": HEAD + "segments: [{anchor: [a, b]}]\n",
    "rate-3": HEAD + "segments: [{speaker: kim, text: Hi., rate: 3.0}]\n",
    "numeric-id": HEAD + "segments: [{speaker: kim, text: Hi., id: 7}]\n",
    "digit-string-id": HEAD + "segments: [{speaker: kim, text: Hi., id: '7'}]\n",
    "unknown-builtin": HEAD + "segments: [{sting: 'builtin:opne'}]\n",
    "clip-builtin": HEAD + "segments: [{clip: 'builtin:open'}]\n",
    "clip-end-zero": HEAD + "segments: [{clip: a.wav, end: 0}]\n",
    "text-too-long": HEAD + "segments: [{anchor: " + "x" * (story_module.MAX_TEXT_CHARS + 1) + "}]\n",
    "unknown-role": HEAD.replace("role: reporter", "role: reportr") + "segments: [{pause: 1}]\n",
    "role-missing": HEAD.replace("{role: reporter}", "{name: Kim}") + "segments: [{pause: 1}]\n",
    "member-string": HEAD.replace("{role: reporter}", "reporter") + "segments: [{pause: 1}]\n",
    "cast-id-space": HEAD.replace("kim:", "kim lee:") + "segments: [{pause: 1}]\n",
    "cast-id-reserved": HEAD.replace("kim:", "text:") + "segments: [{pause: 1}]\n",
    "bad-effect": HEAD.replace("{role: reporter}", "{role: reporter, effect: radio}") + "segments: [{pause: 1}]\n",
    "loudness-word": HEAD + "master: {loudness: loud}\nsegments: [{pause: 1}]\n",
    "sample-rate-8000": HEAD + "master: {sample_rate: 8000}\nsegments: [{pause: 1}]\n",
    "format-ogg": HEAD + "master: {formats: [ogg]}\nsegments: [{pause: 1}]\n",
    "mp3-bitrate-100": HEAD + "master: {mp3_bitrate: 100}\nsegments: [{pause: 1}]\n",
    "pronounce-phrase": HEAD + "pronounce: {Moon Jae-in: moon}\nsegments: [{pause: 1}]\n",
    "air-cut-too-long": HEAD + "segments: [{pause: 1}]\nair: {cut: " + "N" * 65 + "}\n",
    "air-cut-not-ascii": HEAD + "segments: [{pause: 1}]\nair: {cut: NEWS\u20130600}\n",
    "air-expires-word": HEAD + "segments: [{pause: 1}]\nair: {expires: soon}\n",
    "air-starts-date-only": HEAD + "segments: [{pause: 1}]\nair: {starts: '2019-11-22'}\n",
    "air-unknown-key": HEAD + "segments: [{pause: 1}]\nair: {kill: 1h}\n",
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_stories_fail_both(validator: Any, tmp_path: Path, name: str) -> None:
    text = INVALID[name]
    assert list(validator.iter_errors(_instance(text))), "the schema let it through"
    path = tmp_path / "story.yaml"
    path.write_text(text)
    with pytest.raises(InputError):
        load_story(path)


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every closed object schema (one with `properties`) anywhere in the document."""
    found = []
    if isinstance(schema, dict):
        if "properties" in schema and schema.get("additionalProperties") is False:
            found.append(schema)
        for value in schema.values():
            found += _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _objects(value)
    return found


@pytest.mark.parametrize("name", ["TOP_KEYS", "MASTER_KEYS", "MEMBER_KEYS", "STORY_KEYS", "SPEECH_KEYS",
                                  "CLIP_KEYS", "PAUSE_KEYS", "STING_KEYS", "AIR_KEYS"])
def test_every_key_tuple_is_an_object_in_the_schema(name: str) -> None:
    keys = getattr(story_module, name)
    objects = _objects(story_schema())
    assert any(tuple(o["properties"]) == keys for o in objects), name
    # editors show descriptions: every key of every object has one
    for o in objects:
        for key, value in o["properties"].items():
            assert value.get("description"), key


def test_key_tuples_of_the_loader_are_all_covered() -> None:
    # a new *_KEYS tuple in story.py needs a place in the schema (and in the test above)
    tuples = {n for n in dir(story_module) if n.endswith("_KEYS")}
    assert tuples == {"TOP_KEYS", "MASTER_KEYS", "MEMBER_KEYS", "STORY_KEYS", "SPEECH_KEYS", "CLIP_KEYS",
                      "PAUSE_KEYS", "STING_KEYS", "AIR_KEYS"}


def test_choices_come_from_the_loader() -> None:
    text = json.dumps(story_schema())
    for value in (*story_module.ROLES, *EFFECTS, *story_module.FORMATS, *story_module.LOUDNESS_PRESETS,
                  *(f"builtin:{n}" for n in BUILTIN_NAMES), *story_module.RESERVED_IDS):
        assert json.dumps(value) in text, value
    master = story_schema()["properties"]["master"]["properties"]
    assert master["mp3_bitrate"]["enum"] == list(story_module.MP3_BITRATES)
    segments = story_schema()["properties"]["segments"]
    assert segments["maxItems"] == story_module.MAX_SEGMENTS


def test_committed_schema_file_is_current():
    """story.schema.json (which example stories point editors at) matches `bulletin schema`."""
    import json

    committed = json.loads((ROOT / "story.schema.json").read_text())
    assert committed == story_schema()
