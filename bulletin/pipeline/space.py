"""The disk space a render or a preview will take, from `check`'s estimate of its length, and
the check of it before anything is synthesized (bulletin.export.space does the sums)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from bulletin.export.single import MP3_BITRATE_KBPS
from bulletin.export.space import check_free_space, output_sizes
from bulletin.mix.timeline import arrange
from bulletin.pipeline.checking import estimated_durations
from bulletin.pipeline.planning import Plan
from bulletin.script.model import Segment, Sound

# what a caller (a nightly build) will also write, given the sizes of the render's files:
# more (folder, bytes) pairs to check with the render's own
MoreSpace = Callable[[dict[str, int]], list[tuple[Path, int]]]


def render_sizes(p: Plan, formats: Iterable[str]) -> dict[str, int]:
    """Bytes each of a render's files (by extension: the audio `formats`, the cue sheet, captions
    and transcript) may take."""
    story = p.story
    timeline = arrange(story, estimated_durations(p, strict=False, rough=True))
    sounds = [s.sound for s in story.segments] + [part.bed for part in story.stories]
    return output_sizes(timeline.duration_s, story.master.sample_rate, _channels(sounds),
                        [*formats, "json", "vtt", "srt", "transcript.json"], mp3_bitrate_kbps=story.master.mp3_bitrate,

                        text_chars=sum(len(s.text or "") for s in story.segments),
                        segments=len(story.segments))


def check_render_space(p: Plan, out_dir: Path, formats: Iterable[str], more: MoreSpace | None = None) -> None:
    """Refuse in one line, before synthesis, a render whose files cannot fit in `out_dir` (and,
    with `more`, whatever else its caller will write)."""
    sizes = render_sizes(p, formats)
    # the caller's folders first: a nightly build renders inside its publish folder, which a
    # refusal then names
    check_free_space([*(more(sizes) if more else []), (Path(out_dir), sum(sizes.values()))])


def check_preview_space(p: Plan, chosen: list[Segment], out_file: Path) -> None:
    """Refuse in one line, before synthesis, a preview that cannot fit beside `out_file`."""
    story = p.story
    durations = estimated_durations(p, {s.index for s in chosen}, strict=False, rough=True)
    seconds = sum(durations.get(s.index, s.pause_s) for s in chosen) + story.master.gap_s * (len(chosen) - 1)
    ext = out_file.suffix.lower().lstrip(".")
    sizes = output_sizes(seconds, story.master.sample_rate, _channels(s.sound for s in chosen), [ext],
                         mp3_bitrate_kbps=MP3_BITRATE_KBPS)
    check_free_space([(out_file.parent, sizes[ext])])


def _channels(sounds: Iterable[Sound | None]) -> int:
    """The channels of the mix: speech and builtin sounds are mono, a file has its own (two
    where its header cannot be read here)."""
    import soundfile as sf

    channels = 1
    for sound in sounds:
        if sound is not None and sound.path is not None:
            try:
                channels = max(channels, sf.info(str(sound.path)).channels)
            except Exception:  # libsndfile's errors; a format only pydub reads
                channels = max(channels, 2)
    return channels
