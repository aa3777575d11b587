"""Preset files: every key read into the preset, every mistake one positioned problem naming
the file, the line and the key, and the lexicon's respellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletin.base.errors import InputError
from bulletin.cast.presets import Preset, load_lexicon, load_preset, load_presets

ENGINES = ("espeak", "piper")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_every_key_is_read(tmp_path: Path):
    path = write(tmp_path, "full", "engine: espeak\nvoice: en-us+m3\npitch: 40\npitch_range: 30\nrate_wpm: 150\n"
                                   "volume: 90\nspeaker: 3\nshift_semitones: -2.5\nroles: [reporter, anchor]\n"
                                   "priority: 7\ngender: male\ndescription: A test voice\n")
    assert load_preset(path, ENGINES) == Preset(
        name="full", engine="espeak", voice="en-us+m3", pitch=40, pitch_range=30, rate_wpm=150, volume=90,
        speaker=3, shift_semitones=-2.5, roles=("reporter", "anchor"), priority=7, gender="male",
        description="A test voice")


def test_a_model_file_is_relative_to_the_preset_and_a_model_name_is_kept(tmp_path: Path):
    by_file = load_preset(write(tmp_path, "file", "engine: piper\nmodel: models/alba.onnx\n"), ENGINES)
    assert by_file.voice == str((tmp_path / "models" / "alba.onnx").resolve())
    assert by_file.engine_voice == "alba"
    by_name = load_preset(write(tmp_path, "name", "engine: piper\nmodel: en_US-joe-medium\n"), ENGINES)
    assert by_name.voice == "en_US-joe-medium" == by_name.engine_voice


def test_defaults_are_the_engine_voices_own(tmp_path: Path):
    plain = load_preset(write(tmp_path, "plain", "engine: espeak\nvoice: en-us\n"))
    assert plain == Preset(name="plain", engine="espeak", voice="en-us")
    assert (plain.shift_semitones, plain.roles, plain.gender, plain.description) == (0.0, (), None, "")


@pytest.mark.parametrize(("text", "engines", "problem"), [
    ("voice: x\n", (), "1:1: engine: is required"),
    ("voice: x\n", ENGINES, "1:1: engine: is required: one of espeak, piper"),
    ("engine: espeak\n", ENGINES, "1:1: voice: is required: the engine's voice (or model: for piper)"),
    ("engine: festival\nvoice: x\n", ENGINES, "1:9: engine: 'festival' is not one of espeak, piper"),
    ("engine: piper\nmodel: [a]\n", ENGINES,
     "2:8: model: must be text, not a list; put text that starts with '[' or '- ' in quotes"),
    ("engine: espeak\nvoice: [a]\n", ENGINES,
     "2:8: voice: must be text, not a list; put text that starts with '[' or '- ' in quotes"),
    ("engine: espeak\nvoice: x\nroles: anchor\n", ENGINES,
     "3:8: roles: must be a list (lines starting '- ', or [a, b]), not 'anchor'"),
    ("engine: espeak\nvoice: x\nroles: [anchor, bogus]\n", ENGINES,
     "3:17: roles[2]: 'bogus' is not one of anchor, reporter, official, guest; did you mean 'guest'?"),
    ("engine: espeak\nvoice: x\ndescription: [1]\n", ENGINES,
     "3:14: description: must be text, not a list; put text that starts with '[' or '- ' in quotes"),
    ("engine: espeak\nvoice: x\nshift_semitones: 7\n", ENGINES,
     "3:18: shift_semitones: 7 is out of range: use at least -6 and at most 6"),
    ("engine: espeak\nvoice: x\ngender: both\n", ENGINES, "3:9: gender: 'both' is not one of male, female"),
    ("engine: espeak\nvoice: x\npitch: 101\n", ENGINES, "3:8: pitch: 101 is out of range: use at least 0 and at most 100"),
    ("engine: espeak\nvoice: x\nrate_wpm: 79\n", ENGINES,
     "3:11: rate_wpm: 79 is out of range: use at least 80 and at most 450"),
    ("engine: espeak\nvoice: x\ncolour: red\n", ENGINES, "3:1: colour: unknown key; known keys: engine, voice, model, "
     "speaker, pitch, pitch_range, rate_wpm, volume, shift_semitones, roles, priority, gender, description"),
])
def test_a_mistake_is_one_problem_naming_the_line_and_the_key(tmp_path: Path, text: str, engines: tuple, problem: str):
    path = write(tmp_path, "bad", text)
    with pytest.raises(InputError) as caught:
        load_preset(path, engines)
    assert str(caught.value) == f"{path}:{problem}"


def test_a_file_that_is_not_a_mapping_says_what_a_preset_needs(tmp_path: Path):
    path = write(tmp_path, "list", "- a\n")
    with pytest.raises(InputError) as caught:
        load_preset(path, ENGINES)
    assert str(caught.value).splitlines()[-1] == f"{path}:1:1: preset: must be a mapping with at least engine and voice (or model)"


def test_a_storys_presets_join_the_projects_and_every_bad_one_is_reported(tmp_path: Path):
    project = load_presets()
    (tmp_path / "voices").mkdir()
    write(tmp_path / "voices", "mine", "engine: espeak\nvoice: en-us\n")
    write(tmp_path / "voices", "lexicon", "Seoul: sole\n")  # the lexicon is not a preset
    assert set(load_presets(tmp_path)) == set(project) | {"mine"}
    write(tmp_path / "voices", "bad1", "voice: x\n")
    write(tmp_path / "voices", "bad2", "engine: espeak\n")
    with pytest.raises(InputError) as caught:
        load_presets(tmp_path)
    assert [p.file for p in caught.value.problems] == [str(tmp_path / "voices" / n) for n in ("bad1.yaml", "bad2.yaml")]
    assert load_presets(tmp_path / "no-such-folder") == project


def test_the_lexicon_is_the_projects_then_the_storys_and_its_keys_are_single_words(tmp_path: Path):
    project = load_lexicon()
    (tmp_path / "voices").mkdir()
    write(tmp_path / "voices", "lexicon", "Seoul: sole\n' Busan ': boo-san\n")
    assert load_lexicon(tmp_path) == project | {"Seoul": "sole", "Busan": "boo-san"}
    path = write(tmp_path / "voices", "lexicon", "GSOMIA: jee-so-mee-ah\nKim Jong: kim\n")
    with pytest.raises(InputError) as caught:
        load_lexicon(tmp_path)
    assert str(caught.value) == f"{path}:2:1: Kim Jong: must be a single word"
