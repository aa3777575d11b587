"""Voice directions through the real command line: captions and the cue sheet show the
written text only, check and render warn in one line where an engine cannot say a phoneme,
and `voices --json` says how every engine honours each direction."""

from __future__ import annotations

import json
from pathlib import Path

from bulletin.__main__ import main
from tests.conftest import write_presets

STORY = """title: Directed
date: 2026-03-04
master: {formats: [wav], loudness: broadcast}
cast:
  anchor: {role: anchor, voice: test-one}
segments:
  - anchor: The <say-as interpret-as="characters">KBS</say-as> report <break time="300ms"/> on <sub alias="jee so me ah">GSOMIA</sub> &amp; trade.
  - speaker: anchor
    text: |
      Read by <phoneme alphabet="ipa" ph="kɪm ʁ">Kim</phoneme>, <prosody rate="85%">slowly</prosody>.
"""


def test_captions_and_the_cue_sheet_show_the_written_text_and_a_phoneme_gap_is_one_warning(tmp_path: Path, capsys):
    write_presets(tmp_path)
    story = tmp_path / "story.yaml"
    story.write_text(STORY)
    assert main(["check", str(story)]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "<phoneme>" in line]
    assert warnings == [f"warning: {story}:10:15: anchor: espeak-ng has no sound for 'ʁ' in <phoneme>: left out"]
    assert main(["render", str(story), "-o", str(tmp_path / "out"), "--no-cache"]) == 0
    err = capsys.readouterr().err
    assert err.count("<phoneme>") == 1
    cue = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    texts = [s["text"] for s in cue["segments"]]
    assert texts == ["The KBS report on GSOMIA & trade.", "Read by Kim, slowly."]
    captions = next((tmp_path / "out").glob("*.vtt")).read_text()
    assert "The KBS report on GSOMIA &amp; trade." in captions and "Read by Kim, slowly." in captions
    assert "<say-as" not in captions and "jee so me ah" not in captions and "break" not in captions


def test_voices_json_lists_how_each_engine_honours_each_direction(capsys):
    assert main(["voices", "--json"]) == 0
    engines = {e["name"]: e for e in json.loads(capsys.readouterr().out)["engines"]}
    for name in ("espeak", "piper", "kokoro"):
        markup = engines[name]["markup"]
        assert set(markup) == {"break", "say-as", "sub", "phoneme", "emphasis", "prosody"}
    assert "phoneme tokens" in engines["kokoro"]["markup"]["phoneme"]
    assert "[[...]]" in engines["espeak"]["markup"]["phoneme"]
