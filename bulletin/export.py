"""Export: WAV, MP3 (tags and one ID3 chapter per story), cue sheet JSON and WebVTT captions,
all read off the timeline, and every file written beside its name and renamed into place."""

from __future__ import annotations

import io
import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

from bulletin import __version__
from bulletin.audio import Audio, resample
from bulletin.mix import Master
from bulletin.mp3 import MP3_RATES, encode_mp3
from bulletin.story import Story
from bulletin.timeline import Timeline
from bulletin.voices import Preset

PROGRAM = f"bulletin {__version__}"


def cue_sheet(story: Story, timeline: Timeline, voices: dict[str, Preset], mastered: Master) -> dict:
    """The cue sheet: what plays when, by whom, and the measured loudness of the file."""
    segments = []
    for p in timeline.placements:
        s = p.segment
        entry: dict[str, object] = {"index": s.index, "story": s.story, "kind": s.kind}
        if s.id:
            entry["id"] = s.id
        if s.kind == "sting":
            entry.update(name=s.sting, source=s.sound.label if s.sound else None)
        if s.speaker:
            entry["speaker"] = s.speaker
        if s.kind == "speech":
            entry["voice"] = s.voice or voices[s.speaker].name
        if s.kind == "clip" and s.sound:
            entry["source"] = s.sound.label
        if s.text:
            entry["text"] = s.text
        entry.update(start=round(p.start_s, 3), end=round(p.end_s, 3))
        segments.append(entry)
    stories = []
    for chapter in timeline.chapters:
        entry = {"index": chapter.index, "headline": chapter.headline,
                 "start": round(chapter.start_s, 3), "end": round(chapter.end_s, 3)}
        for bed in timeline.beds:
            if bed.story == chapter.index:
                entry["bed"] = {"source": bed.sound.label, "start": round(bed.start_s, 3), "end": round(bed.end_s, 3)}
        stories.append(entry)
    return {
        "title": story.title,
        "date": story.date.isoformat(),
        "duration": round(mastered.audio.duration_s, 3),
        "sample_rate": mastered.audio.rate_hz,
        "loudness": {"target_lufs": round(mastered.target_lufs, 1),
                     "integrated_lufs": round(mastered.integrated_lufs, 2),
                     "true_peak_dbtp": round(mastered.true_peak_dbtp, 2)},
        "cast": {m.id: {"role": m.role, "name": m.name, **({"title": m.title} if m.title else {}),
                        "voice": voices[m.id].name} for m in story.cast.values()},
        "stories": stories,
        "segments": segments,
    }


def captions(story: Story, timeline: Timeline) -> str:
    """WebVTT: one cue per speech or clip segment, the voice tag naming the speaker."""
    lines = ["WEBVTT", f"NOTE {story.title}, {story.date.isoformat()}", ""]
    for p in timeline.placements:
        s = p.segment
        if s.kind not in ("speech", "clip") or not s.text:
            continue
        name = story.cast[s.speaker].name if s.speaker else ""
        text = "\n".join(textwrap.wrap(s.text.replace("-->", "->"), 60))
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"{s.index}", f"{_vtt_time(p.start_s)} --> {_vtt_time(p.end_s)}",
                  f"<v {name.replace('>', '')}>{text}" if name else text, ""]
    return "\n".join(lines)


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def wav_bytes(audio: Audio) -> bytes:
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, audio.samples, audio.rate_hz, format="WAV", subtype="PCM_16")
    return out.getvalue()


def mp3_bytes(story: Story, audio: Audio, timeline: Timeline) -> bytes:
    """A tagged CBR MP3 with one chapter per story (ID3v2 CHAP frames under a CTOC)."""
    from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TDRC, TIT2, TPE1, TSSE, CTOCFlags

    rate = audio.rate_hz if audio.rate_hz in MP3_RATES else 48000
    data = encode_mp3(resample(audio, rate).samples, rate, story.master.mp3_bitrate)
    tags = ID3()
    tags.add(TIT2(encoding=3, text=f"{story.title} {story.date.isoformat()}"))
    tags.add(TPE1(encoding=3, text=story.title))
    tags.add(TALB(encoding=3, text=story.title))
    tags.add(TDRC(encoding=3, text=story.date.isoformat()))
    tags.add(TSSE(encoding=3, text=PROGRAM))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=f"Made with {PROGRAM}"))
    ids = [f"chp{c.index}" for c in timeline.chapters]
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=story.title)]))
    for chapter, element in zip(timeline.chapters, ids, strict=True):
        tags.add(CHAP(element_id=element, start_time=round(chapter.start_s * 1000),
                      end_time=round(chapter.end_s * 1000),
                      sub_frames=[TIT2(encoding=3, text=chapter.headline)]))
    out = io.BytesIO(data)
    tags.save(out, v2_version=3)
    return out.getvalue()


def output_files(
    story: Story, timeline: Timeline, mastered: Master, voices: dict[str, Preset], formats: tuple[str, ...]
) -> dict[str, Callable[[], bytes]]:
    """Each output's file extension and how to make its bytes, in the order they are written."""
    cue = cue_sheet(story, timeline, voices, mastered)
    makers: dict[str, Callable[[], bytes]] = {}
    if "wav" in formats:
        makers["wav"] = lambda: wav_bytes(mastered.audio)
    if "mp3" in formats:
        makers["mp3"] = lambda: mp3_bytes(story, mastered.audio, timeline)
    makers["json"] = lambda: (json.dumps(cue, indent=2, ensure_ascii=False) + "\n").encode()
    makers["vtt"] = lambda: captions(story, timeline).encode()
    return makers


def write_all(folder: Path, stem: str, makers: dict[str, Callable[[], bytes]]) -> dict[str, Path]:
    """Write every file to a temporary name beside its target, then rename them all into place:
    a render killed at any moment leaves the previous files of these names whole."""
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(folder)
    temporaries: dict[str, tuple[Path, Path]] = {}
    try:
        for ext, make in makers.items():
            final = folder / f"{stem}.{ext}"
            temporary = folder / f".{final.name}.{os.getpid()}.part"
            temporaries[ext] = (temporary, final)
            with open(temporary, "wb") as out:
                out.write(make())
                out.flush()
                os.fsync(out.fileno())
        for temporary, final in temporaries.values():
            os.replace(temporary, final)
    finally:
        for temporary, _ in temporaries.values():
            temporary.unlink(missing_ok=True)
    return {ext: final for ext, (_, final) in temporaries.items()}


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporaries left by a render that was killed (its process is gone)."""
    for path in folder.glob(".*.part"):
        pid = path.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



