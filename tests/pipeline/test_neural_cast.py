"""The cast on this machine: neural presets where the neural engines load, espeak-ng with one
warning line where onnxruntime cannot load (made unloadable for real, in a fresh process),
`--draft` casting espeak-ng; the cue sheet, `check` and `voices --json` name every member's
engine and engine voice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

STORY = """title: Neural Cast
date: 2026-03-06
master: {formats: [wav]}
cast:
  anchor: {role: anchor, gender: female}
  kim: {role: reporter, gender: male}
segments:
  - anchor: Good morning.
  - kim: Thank you.
"""


def bulletin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bulletin", *args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, **(env or {})), timeout=300)


@pytest.fixture()
def story(tmp_path: Path) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(STORY)
    return path


@pytest.fixture()
def no_onnxruntime(tmp_path: Path) -> dict[str, str]:
    """An environment where `import onnxruntime` fails as on a machine whose CPU or libc it
    does not support: a package of that name first on the path that raises ImportError."""
    fake = tmp_path / "fake" / "onnxruntime"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('onnxruntime cannot load here (test)')\n")
    return {"PYTHONPATH": os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])}


def test_without_onnxruntime_auto_falls_back_to_espeak_with_one_warning(story, tmp_path, no_onnxruntime):
    out = tmp_path / "out"
    run = bulletin("render", str(story), "-o", str(out), "--no-cache", env=no_onnxruntime)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, run.stderr
    assert "casting espeak-ng voices for anchor, kim" in warnings[0] and "neural" in warnings[0]
    cue = json.loads((out / "neural-cast-2026-03-06.json").read_text())
    assert {m["engine"] for m in cue["cast"].values()} == {"espeak"}
    genders = json.loads(bulletin("voices", "--json", env=no_onnxruntime).stdout)
    by_name = {p["name"]: p for p in genders["presets"]}
    assert by_name[cue["cast"]["anchor"]["voice"]]["gender"] == "female"
    assert by_name[cue["cast"]["kim"]["voice"]]["gender"] == "male"
    neural = [p for p in genders["presets"] if p["neural"]]
    assert neural and not any(p["available"] for p in neural) and all(p["problem"] for p in neural)
    check = bulletin("check", str(story), env=no_onnxruntime)
    assert check.returncode == 0 and check.stdout.count("warning: ") == 1


def test_the_cue_sheet_names_engine_and_engine_voice_and_draft_casts_espeak(story, tmp_path):
    out = tmp_path / "draft"
    run = bulletin("render", str(story), "-o", str(out), "--draft")
    assert run.returncode == 0, run.stderr
    assert "warning:" not in run.stderr  # a draft is espeak-ng by choice: nothing to warn of
    cue = json.loads((out / "neural-cast-2026-03-06.json").read_text())
    presets = {p["name"]: p for p in json.loads(bulletin("voices", "--json").stdout)["presets"]}
    for member in cue["cast"].values():
        assert member["engine"] == "espeak"
        assert member["engine_voice"] == presets[member["voice"]]["engine_voice"]
    assert presets[cue["cast"]["kim"]["voice"]]["gender"] == "male"
    assert presets[cue["cast"]["anchor"]["voice"]]["gender"] == "female"


def test_where_a_neural_engine_loads_auto_casts_it():
    listing = json.loads(bulletin("voices", "--json").stdout)
    usable = [p for p in listing["presets"] if p["neural"] and p["available"]]
    if not usable:
        pytest.skip("no neural engine loads here (pip install -e '.[neural]')")
    from bulletin.pipeline.planning import plan

    p = plan(ROOT / "examples" / "gsomia" / "story.yaml")
    auto = [m.id for m in p.story.cast.values() if m.voice == "auto"]
    # every `auto` member gets a neural preset while distinct ones are left
    assert sum(p.cast[m].neural for m in auto) == min(len(auto), len(usable))
    assert len({preset.name for preset in p.cast.values()}) == len(p.cast)
    report = bulletin("check", str(ROOT / "examples" / "gsomia" / "story.yaml")).stdout
    for member in auto:
        row = next(line for line in report.splitlines() if line.strip().startswith(member + " "))
        assert p.cast[member].engine in row and p.cast[member].engine_voice in row


def test_voices_json_lists_every_preset_with_engine_voice_roles_and_gender():
    run = bulletin("voices", "--json")
    assert run.returncode == 0, run.stderr
    listing = json.loads(run.stdout)
    names = {p["name"] for p in listing["presets"]}
    assert {"anchor-us", "reporter-us"} <= names
    for preset in listing["presets"]:
        assert set(preset) >= {"name", "engine", "engine_voice", "roles", "gender", "description", "available", "problem"}
        assert preset["gender"] in ("male", "female", None)
        assert preset["available"] == (preset["problem"] is None)
    espeak = next(e for e in listing["engines"] if e["name"] == "espeak")
    assert espeak["available"] and "en-us" in espeak["voices"]
    one = json.loads(bulletin("voices", "--json", "anchor-us").stdout)
    assert [p["name"] for p in one["presets"]] == ["anchor-us"] and one["presets"][0]["engine_voice"] == "en-us+Mike"
