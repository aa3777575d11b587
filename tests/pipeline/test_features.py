"""Every key of the story format does what it says, measured in what the real pipeline writes:
each test renders tiny stories (espeak-ng presets) with and without the key and measures the
difference in the cue sheet and the master, so that a render that ignored the key fails.

The 10 ms cue accuracy and 0.1 LU loudness figures are the README's promises. The stories ask
for -24 LUFS: a few short espeak-ng sentences cannot reach -16 under the true-peak ceiling."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from bulletin.pipeline.render import RenderResult, render
from tests.conftest import ROOT, median_f0_hz, rms_db, write_presets

CUE_S = 0.01  # the README's cue sheet accuracy

CAST = """\
cast:
  anchor: {role: anchor, voice: test-one}
  kim: {role: reporter, voice: test-two}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A story folder with the test presets and clips of known content."""
    path = tmp_path_factory.mktemp("features")
    write_presets(path)
    rate = 22050
    t = np.arange(rate) / rate
    # three seconds, one tone per second: a trim shows which part it kept
    steps = np.concatenate([0.3 * np.sin(2 * np.pi * f * t) for f in (300, 600, 1200)])
    sf.write(str(path / "steps.wav"), steps.astype(np.float32), rate)
    sf.write(str(path / "tone.wav"), (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    return path


def _render(folder: Path, name: str, body: str, master: str = "{formats: [wav], loudness: -24}") -> tuple[dict, np.ndarray, int, RenderResult]:
    story = folder / f"{name}.yaml"
    story.write_text(f"title: {name}\ndate: 2026-01-02\nmaster: {master}\n" + CAST + body)
    result = render(story, folder / f"out-{name}", jobs=1)
    cue = json.loads(result.files["json"].read_text())
    if "wav" not in result.files:
        return cue, np.zeros(0), 0, result
    data, rate = sf.read(str(result.files["wav"]), always_2d=True)
    return cue, data.mean(axis=1), rate, result


def _piece(mono: np.ndarray, rate: int, segment: dict) -> np.ndarray:
    return mono[int(segment["start"] * rate) : int(segment["end"] * rate)]


def _length(segment: dict) -> float:
    return segment["end"] - segment["start"]


def _segments(*items: str) -> str:
    return "segments:\n" + "".join(f"  - {item}\n" for item in items)


# -- timing: gaps, story gaps, pauses, pace ---------------------------------------------------


def test_segment_gap_is_the_silence_after_it(folder: Path) -> None:
    cue, _, _, plain = _render(folder, "gap-plain", _segments("anchor: Good morning.", "kim: Hello."))
    cue2, _, _, gapped = _render(folder, "gap-set", _segments("{speaker: anchor, text: Good morning., gap: 2.5}",
                                                              "kim: Hello."))
    one, two = cue2["segments"]
    assert two["start"] - one["end"] == pytest.approx(2.5, abs=CUE_S)
    assert cue["segments"][1]["start"] - cue["segments"][0]["end"] == pytest.approx(0.4, abs=CUE_S)
    assert gapped.duration_s - plain.duration_s == pytest.approx(2.1, abs=CUE_S)


def test_master_gap_and_story_gap(folder: Path) -> None:
    stories = ("stories:\n  - headline: One\n    segments:\n      - anchor: Good morning.\n      - kim: Hello.\n"
               "  - headline: Two\n    segments:\n      - anchor: Goodbye.\n")
    cue, _, _, plain = _render(folder, "gaps-default", stories)
    cue2, _, _, spaced = _render(folder, "gaps-set", stories, "{formats: [wav], loudness: -24, gap: 1.3, story_gap: 3.2}")
    for c, gap, story_gap in ((cue, 0.4, 1.0), (cue2, 1.3, 3.2)):
        a, b, c3 = c["segments"]
        assert b["start"] - a["end"] == pytest.approx(gap, abs=CUE_S)
        assert c3["start"] - b["end"] == pytest.approx(story_gap, abs=CUE_S)
        assert c["stories"][1]["start"] == pytest.approx(c3["start"], abs=CUE_S)
    assert spaced.duration_s - plain.duration_s == pytest.approx(0.9 + 2.2, abs=CUE_S)


def test_pause_is_that_many_seconds_of_silence(folder: Path) -> None:
    cue, mono, rate, _ = _render(folder, "pause", _segments("anchor: Good morning.", "pause: 2.25", "kim: Hello."))
    speech, pause, after = cue["segments"]
    assert pause["kind"] == "pause" and _length(pause) == pytest.approx(2.25, abs=CUE_S)
    # the gap before and after it, and the pause itself, are silence
    assert after["start"] - speech["end"] == pytest.approx(0.4 + 2.25 + 0.4, abs=CUE_S)
    assert np.abs(mono[int((speech["end"] + 0.02) * rate) : int((after["start"] - 0.02) * rate)]).max() == 0.0


def test_rate_half_is_about_twice_as_long(folder: Path) -> None:
    text = "The committee met on Thursday to discuss the agreement."
    cue, _, _, _ = _render(folder, "rate-plain", _segments(f"anchor: {text}"))
    cue2, _, _, _ = _render(folder, "rate-half", _segments(f"{{speaker: anchor, text: {text}, rate: 0.5}}"))
    cue3, _, _, _ = _render(folder, "rate-double", _segments(f"{{speaker: anchor, text: {text}, rate: 2.0}}"))
    plain, slow, fast = (_length(c["segments"][0]) for c in (cue, cue2, cue3))
    assert slow > 1.6 * plain
    assert fast < 0.7 * plain


# -- voices: voice, effect, respellings --------------------------------------------------------


def test_segment_voice_overrides_the_members(folder: Path) -> None:
    text = "We are here today to talk about the weather."
    cue, mono, rate, _ = _render(folder, "voice", _segments(f"anchor: {text}",
                                                            f"{{speaker: anchor, text: {text}, voice: test-two}}"))
    own, other = cue["segments"]
    assert (own["voice"], other["voice"]) == ("test-one", "test-two")
    assert cue["cast"]["anchor"]["voice"] == "test-one"  # the member keeps its own
    f0_own, f0_other = median_f0_hz(_piece(mono, rate, own), rate), median_f0_hz(_piece(mono, rate, other), rate)
    assert f0_own > 0 and f0_other > 0
    assert abs(np.log2(f0_other / f0_own)) > 0.25, (f0_own, f0_other)  # more than a minor third apart


def _high_band_db(samples: np.ndarray, rate: int, cutoff_hz: float = 3500.0) -> float:
    """Energy above cutoff_hz relative to all of it, in dB."""
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return 10 * np.log10(spectrum[freqs > cutoff_hz].sum() / spectrum.sum())


def test_phone_effect_removes_energy_above_3_5_khz(folder: Path) -> None:
    text = "She said the statement was issued this morning."
    cue, mono, rate, _ = _render(folder, "phone", _segments(
        f"{{speaker: anchor, text: {text}, effect: none}}", f"{{speaker: anchor, text: {text}, effect: phone}}"))
    clean, phone = (_high_band_db(_piece(mono, rate, s), rate) for s in cue["segments"])
    assert clean > -25, clean
    assert phone < -40 and phone < clean - 20, (clean, phone)


def _speech(cue: dict, mono: np.ndarray, rate: int, index: int = 0) -> np.ndarray:
    return _piece(mono, rate, cue["segments"][index])


def test_pronounce_respells_for_the_voice_only(folder: Path) -> None:
    cue, mono, rate, _ = _render(folder, "say-written", _segments("anchor: Zorblat."))
    cue2, mono2, _, result = _render(folder, "say-respelled", "pronounce: {Zorblat: Snoopy}\n"
                                     + _segments("anchor: Zorblat."))
    cue3, mono3, _, _ = _render(folder, "say-literal", _segments("anchor: Snoopy."))
    written, respelled, literal = _speech(cue, mono, rate), _speech(cue2, mono2, rate), _speech(cue3, mono3, rate)
    # the engine was given the respelling: the same audio as writing it out
    assert len(respelled) == len(literal) and np.allclose(respelled, literal, atol=1e-4)
    assert len(written) != len(respelled) or not np.allclose(written, respelled, atol=1e-3)
    assert cue2["segments"][0]["text"] == "Zorblat."  # the cue sheet keeps the written text
    assert "Zorblat." in result.files["vtt"].read_text() and "Snoopy" not in result.files["vtt"].read_text()


def test_lexicon_beside_the_story_and_the_projects(folder: Path) -> None:
    (folder / "voices" / "lexicon.yaml").write_text("Quizzle: Bookshelf\n")
    try:
        cue, mono, rate, _ = _render(folder, "lexicon", _segments("anchor: Quizzle."))
        cue2, mono2, _, _ = _render(folder, "lexicon-literal", _segments("anchor: Bookshelf."))
        # the project's own lexicon applies to every story
        project = {k.strip(): v.split("#")[0].strip() for k, v in (
            line.split(":", 1) for line in (ROOT / "voices" / "lexicon.yaml").read_text().splitlines()
            if line.strip() and not line.startswith("#"))}
        word, spoken = next(iter(project.items()))
        cue3, mono3, _, _ = _render(folder, "lexicon-project", _segments(f"anchor: {word}."))
        cue4, mono4, _, _ = _render(folder, "lexicon-project-literal", _segments(f"anchor: {spoken}."))
        cue5, mono5, _, _ = _render(folder, "lexicon-story-wins", f"pronounce: {{{word}: Bookshelf}}\n"
                                    + _segments(f"anchor: {word}."))
    finally:
        (folder / "voices" / "lexicon.yaml").unlink()
    assert np.array_equal(_speech(cue, mono, rate), _speech(cue2, mono2, rate))
    assert np.array_equal(_speech(cue3, mono3, rate), _speech(cue4, mono4, rate))
    assert np.array_equal(_speech(cue5, mono5, rate), _speech(cue2, mono2, rate))  # the story's own wins
    assert cue3["segments"][0]["text"] == f"{word}."


# -- clips: gain and trims ----------------------------------------------------------------------


def test_clip_gain_changes_its_level_in_the_master(folder: Path) -> None:
    words = "anchor: Here is what the minister said this morning about it."
    levels = {}
    for gain in (0, -6):
        cue, mono, rate, _ = _render(folder, f"gain{gain}", _segments(words, "clip: tone.wav",
                                                                      f"{{clip: tone.wav, gain: {gain}}}"))
        _, reference, clip = cue["segments"]
        # against the same clip at its own level: mastering moves the whole programme, and a
        # tone (3 dB crest) stays clear of the limiter, so what is left is the clip's gain
        levels[gain] = rms_db(_piece(mono, rate, clip)) - rms_db(_piece(mono, rate, reference))
    assert levels[0] == pytest.approx(0.0, abs=0.05)
    assert levels[-6] - levels[0] == pytest.approx(-6.0, abs=0.05), levels  # a gain in dB is that many dB


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def test_clip_start_and_end_trim_the_file(folder: Path) -> None:
    cue, mono, rate, _ = _render(folder, "trim", _segments("{clip: steps.wav, start: 1.0, end: 2.0}",
                                                           "{clip: steps.wav, start: 2.0}",
                                                           "{clip: steps.wav, end: 1.0}"))
    middle, tail, head = cue["segments"]
    for segment, hz in ((middle, 600), (tail, 1200), (head, 300)):
        assert _length(segment) == pytest.approx(1.0, abs=CUE_S), segment
        assert _dominant_hz(_piece(mono, rate, segment), rate) == pytest.approx(hz, rel=0.05), segment


# -- the master: formats, sample rate, bitrate, loudness ---------------------------------------


def test_formats_choose_the_files(folder: Path) -> None:
    *_, wav_only = _render(folder, "only-wav", _segments("anchor: Hello."), "{formats: [wav], loudness: -24}")
    *_, mp3_only = _render(folder, "only-mp3", _segments("anchor: Hello."), "{formats: [mp3], loudness: -24}")
    captions = {"json", "vtt", "srt", "transcript.json"}  # the cue sheet, captions and transcript, always
    assert set(wav_only.files) == {"wav"} | captions
    assert set(mp3_only.files) == {"mp3"} | captions
    assert sorted(p.suffix for p in (folder / "out-only-mp3").iterdir()) == [".json", ".json", ".mp3", ".srt", ".vtt"]


def test_sample_rate_and_mp3_bitrate(folder: Path) -> None:
    from mutagen.mp3 import MP3

    cue, _, rate, result = _render(folder, "rates", _segments("anchor: Hello."),
                                   "{formats: [wav, mp3], loudness: -24, sample_rate: 22050, mp3_bitrate: 64}")
    assert rate == 22050 and cue["sample_rate"] == 22050
    mp3 = MP3(str(result.files["mp3"]))
    assert mp3.info.sample_rate == 22050
    assert mp3.info.bitrate == pytest.approx(64000, rel=0.01)  # mutagen estimates it from the frames
    assert mp3.info.bitrate_mode != 2  # constant, not VBR


@pytest.mark.parametrize("loudness, target", [("broadcast", -23.0), ("-20", -20.0)])
def test_loudness_key_sets_the_target(folder: Path, loudness: str, target: float) -> None:
    text = "The committee met on Thursday. It will meet again next week, the chair said."
    cue, _, rate, result = _render(folder, f"loud{target:g}", _segments(f"anchor: {text}", f"kim: {text}"),
                                   f"{{formats: [wav], loudness: {loudness}}}")
    data, _ = sf.read(str(result.files["wav"]), always_2d=True)
    measured = pyloudnorm.Meter(rate).integrated_loudness(data)
    assert cue["loudness"]["target_lufs"] == target
    assert measured == pytest.approx(target, abs=0.1)


# -- stories, captions, tags --------------------------------------------------------------------


def _vtt_cues(text: str) -> list[tuple[float, float, str, str]]:
    """(start, end, voice name, text) of every cue."""
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    found = re.findall(r"^\d+\n(\S+) --> (\S+)\n<v ([^>]+)>(.*?)\n\n", text + "\n", re.M | re.S)
    return [(seconds(a), seconds(b), name, words) for a, b, name, words in found]


def test_stories_are_chapters_and_captions_follow_the_cue_sheet(folder: Path) -> None:
    from mutagen.id3 import ID3

    body = ("cast:\n  anchor: {role: anchor, voice: test-one}\n"
            "  kim: {role: reporter, voice: test-two, name: Kim Bum-soo, title: Washington correspondent}\n"
            "stories:\n  - headline: First story\n    segments:\n      - anchor: Good morning.\n"
            "      - {clip: tone.wav, speaker: kim, text: A tone from the field., id: bite}\n"
            "  - headline: Second story\n    segments:\n      - kim: Goodbye & good night.\n")
    story = folder / "chapters.yaml"
    story.write_text("title: Chapter Test\ndate: 2026-03-04\nmaster: {formats: [wav, mp3], loudness: -24}\n" + body)
    result = render(story, folder / "out-chapters", jobs=1)
    cue = json.loads(result.files["json"].read_text())
    assert result.files["mp3"].name == "chapter-test-2026-03-04.mp3"
    tags = ID3(str(result.files["mp3"]))
    assert str(tags["TPE1"]) == "Chapter Test" and str(tags["TDRC"]) == "2026-03-04"
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == ["First story", "Second story"]
    assert tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in chapters]
    for chapter, entry in zip(chapters, cue["stories"], strict=True):
        assert chapter.start_time / 1000 == pytest.approx(entry["start"], abs=CUE_S)
        assert chapter.end_time / 1000 == pytest.approx(entry["end"], abs=CUE_S)
    first, clip, last = cue["segments"]
    assert (clip["kind"], clip["id"], clip["speaker"], clip["source"]) == ("clip", "bite", "kim", "tone.wav")
    assert (first["speaker"], first["voice"], "id" in first) == ("anchor", "test-one", False)
    assert [(s["index"], s["story"]) for s in cue["segments"]] == [(1, 1), (2, 1), (3, 2)]
    assert chapters[0].start_time == 0 and chapters[1].start_time / 1000 == pytest.approx(last["start"], abs=CUE_S)
    assert chapters[0].end_time / 1000 == pytest.approx(clip["end"], abs=CUE_S)
    # one caption per short spoken segment and clip with text, from its first word to its last
    # (held a second at least), named
    cues = _vtt_cues(result.files["vtt"].read_text())
    assert [(name, words) for _, _, name, words in cues] == [
        ("Anchor", "Good morning."), ("Kim Bum-soo", "A tone from the field."), ("Kim Bum-soo", "Goodbye &amp; good night.")]
    for (start, end, _, _), segment in zip(cues, cue["segments"], strict=True):
        words = segment["words"]
        assert [w["word"] for w in words] == segment["text"].split()
        assert start == pytest.approx(words[0]["start"], abs=CUE_S) and segment["start"] - CUE_S <= start
        assert end >= max(words[-1]["end"], start + 1.0) - CUE_S and end - start <= 7.0

    assert cue["cast"]["kim"] == {"role": "reporter", "name": "Kim Bum-soo", "title": "Washington correspondent",
                                  "voice": "test-two", "engine": "espeak", "engine_voice": "en-gb-x-rp+f3"}
    assert "title" not in cue["cast"]["anchor"] and cue["cast"]["anchor"]["name"] == "Anchor"
    assert (cue["title"], cue["date"], cue["sample_rate"]) == ("Chapter Test", "2026-03-04", 44100)
    # the MP3 decodes to the WAV's length (gapless), loudness and ceiling
    wav, rate = sf.read(str(result.files["wav"]), always_2d=True)
    decoded, mp3_rate = sf.read(str(result.files["mp3"]), always_2d=True)
    assert mp3_rate == rate and abs(len(decoded) - len(wav)) <= 1
    assert pyloudnorm.Meter(rate).integrated_loudness(decoded) == pytest.approx(-24.0, abs=0.1)


# -- beds -----------------------------------------------------------------------------------------


def test_a_bed_sits_14_db_under_the_speech_and_22_db_lower_while_anyone_speaks(folder: Path) -> None:
    # a steady tone for a bed, longer than the story (no loop), under the voices' fundamentals,
    # so that its level can be read under speech too, in its own band
    bed_hz, rate = 40, 22050
    t = np.arange(30 * rate) / rate
    sf.write(str(folder / "bed-tone.wav"), (0.2 * np.sin(2 * np.pi * bed_hz * t)).astype(np.float32), rate)
    words = "anchor: The committee met on Thursday to discuss the agreement."
    body = ("stories:\n  - headline: Bed\n    bed: bed-tone.wav\n    segments:\n"
            f"      - {words}\n      - pause: 3.0\n      - {words}\n")
    cue, mono, rate, _ = _render(folder, "bed-level", body, "{formats: [wav], loudness: -30, sample_rate: 22050}")
    first, pause, second = cue["segments"]
    meter = pyloudnorm.Meter(rate)
    speech = np.mean([meter.integrated_loudness(_piece(mono, rate, s)) for s in (first, second)])
    alone = mono[int((pause["start"] + 1.0) * rate) : int(pause["end"] * rate)]  # after the release
    assert speech - meter.integrated_loudness(alone) == pytest.approx(14.0, abs=0.5)

    def tone_db(samples: np.ndarray) -> float:  # the bed's level in its own band: 1 s, 1 Hz bins
        return 20 * np.log10(np.abs(np.fft.rfft(samples[:rate] * np.hanning(rate)))[bed_hz])

    under = [_piece(mono, rate, s)[int(0.1 * rate) :] for s in (first, second)]  # after the attack
    assert all(len(piece) >= rate for piece in [alone, *under])
    assert tone_db(alone) - np.mean([tone_db(piece) for piece in under]) == pytest.approx(22.0, abs=0.6)


def test_clips_and_stings_keep_their_length_at_another_sample_rate_from_a_warm_cache(folder: Path) -> None:
    # the take cache is shared: the second render must not be served takes made at the first's rate
    body = _segments("{clip: tone.wav, start: 0.25}", "sting: builtin:open")
    lengths = {}
    for rate in (22050, 44100, 22050):
        cue, mono, got, _ = _render(folder, f"rate-{rate}", body, f"{{formats: [wav], loudness: -24, sample_rate: {rate}}}")
        clip, sting = cue["segments"]
        assert got == rate and len(mono) / rate == pytest.approx(cue["duration"], abs=CUE_S)
        lengths.setdefault("clip", set()).add(round(_length(clip), 2))
        lengths.setdefault("sting", set()).add(round(_length(sting), 2))
    assert lengths["clip"] == {0.75} and len(lengths["sting"]) == 1, lengths


def test_two_clip_files_of_one_size_and_time_are_each_heard(folder: Path) -> None:
    # the take cache knows a file by its path as well as its size and time
    rate = 22050
    t = np.arange(rate) / rate
    for name, hz in (("twin-a.wav", 300), ("twin-b.wav", 1200)):
        sf.write(str(folder / name), (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)
        os.utime(folder / name, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    cue, mono, rate, _ = _render(folder, "twins", _segments("clip: twin-a.wav", "clip: twin-b.wav"))
    a, b = cue["segments"]
    assert (_dominant_hz(_piece(mono, rate, a), rate), _dominant_hz(_piece(mono, rate, b), rate)) == (
        pytest.approx(300, rel=0.05), pytest.approx(1200, rel=0.05))
