"""One studio session over one story file: what the page shows, saving edits, and segment
takes. Everything goes through the same pipeline and take cache as the command line."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bulletin.base.errors import BulletinError, InputError, Problem
from bulletin.cast.presets import Preset
from bulletin.export.files import write_all
from bulletin.pipeline.checking import check
from bulletin.pipeline.planning import Plan, preset_problem
from bulletin.pipeline.render import preview
from bulletin.script.story import Segment, load_story
from bulletin.studio.rendering import RenderJob
from bulletin.studio.yamledit import Edits, apply_edits, segment_lines

TAKE_NAME = re.compile(r"^take-\d+-[0-9a-f]{20}\.wav$")


class Conflict(BulletinError):
    """The story file changed on disk since the page loaded it."""


@dataclass(frozen=True)
class Source:
    """The story file's text as read, and its version (a hash of its bytes)."""

    text: str
    version: str
    crlf: bool

    @classmethod
    def read(cls, path: Path) -> Source:
        data = path.read_bytes()
        text = data.decode("utf-8")
        crlf = "\r\n" in text
        return cls(text.replace("\r\n", "\n") if crlf else text, version_of(data), crlf)

    def encoded(self, text: str) -> bytes:
        return (text.replace("\n", "\r\n") if self.crlf else text).encode("utf-8")


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


class Session:
    def __init__(self, story_path: Path, assets: tuple[Path, ...], out_dir: Path, work_dir: Path,
                 draft: bool = False) -> None:
        self.path = Path(story_path).resolve()
        self.draft = draft  # cast espeak-ng voices, as `render --draft` does
        self.assets = tuple(Path(a).resolve() for a in assets)
        self.out_dir = Path(out_dir).resolve()
        self.work_dir = work_dir
        # take file name -> (file, duration, its written words with their start and end)
        self.takes: dict[str, tuple[Path, float, list[tuple[str, float, float]]]] = {}
        self.render = RenderJob()
        self._usable: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._last_good: dict | None = None

    def version(self) -> str:
        return version_of(self.path.read_bytes())

    # -- what the page shows ----------------------------------------------------------------

    def state(self) -> dict:
        """The story as the page shows it: cast, numbered segments with durations, problems.
        A story that does not load keeps the last one that did, with its problems beside it."""
        source = Source.read(self.path)
        try:
            checked = check(self.path, self.assets, draft=self.draft)
        except InputError as error:
            shown = dict(self._last_good or {"title": self.path.name, "cast": [], "stories": []})
            shown.update(version=source.version, problems=self.problems(error, source.text), stale=True)
            return self._common(shown)
        p = checked.plan
        durations = {placement.segment.index: placement.duration_s for placement in checked.timeline.placements}
        shown = {
            "version": source.version,
            "title": p.story.title,
            "date": p.story.date.isoformat(),
            "cast": [self._member(p, member_id) for member_id in p.story.cast],
            "stories": [{"index": part.index, "headline": part.headline,
                         "segments": [_segment(s, p, durations) for s in part.segments]}
                        for part in p.story.stories],
            "estimated_s": round(checked.timeline.duration_s, 2),
            "backtime": checked.backtime.as_json() if checked.backtime is not None else None,
            "warnings": list(checked.warnings),
            "problems": [],
            "stale": False,
        }
        self._last_good = shown
        return self._common(shown)

    def _common(self, shown: dict) -> dict:
        return {**shown, "file": self.path.name, "folder": str(self.path.parent),
                "render": self.render.status(shown["version"])}

    def _member(self, p: Plan, member_id: str) -> dict:
        member = p.story.cast[member_id]
        chosen = p.cast[member_id]
        return {"id": member_id, "role": member.role, "name": member.name, "voice": member.voice,
                "gender": member.gender, "preset": chosen.name, "engine": chosen.engine,
                "engine_voice": chosen.engine_voice, "choices": self._choices(p, member.role, member.gender, chosen),
                "first_line": next((s.index for s in p.story.segments
                                    if s.kind == "speech" and s.speaker == member_id), None)}

    def _choices(self, p: Plan, role: str, gender: str | None, chosen: Preset) -> list[dict]:
        """Presets that suit the role (and the member's gender, where given) and whose engine and
        voice are on this machine: neural first, then by fit to the role; and the one chosen now."""
        suited = [preset for preset in p.presets.values()
                  if role in preset.roles and (gender is None or preset.gender in (None, gender))
                  and self._is_usable(preset)]
        suited.sort(key=lambda preset: (not preset.neural, preset.roles.index(role), -preset.priority, preset.name))
        if chosen not in suited:
            suited.insert(0, chosen)
        return [{"name": preset.name, "engine": preset.engine, "gender": preset.gender,
                 "description": preset.description} for preset in suited]

    def _is_usable(self, preset: Preset) -> bool:
        if preset.name not in self._usable:
            self._usable[preset.name] = preset_problem(preset) is None
        return self._usable[preset.name]

    def problems(self, error: InputError, source: str) -> list[dict]:
        """Problems as the page shows them, each with the segment or member it names."""
        if not error.problems:
            return [{"text": error.message, "segment": None, "member": None}]
        lines = _safe_segment_lines(source)
        shown = []
        for problem in error.problems:
            named = re.match(r"segment (\d+)", problem.where)
            member = re.match(r"cast\.([^.]+)", problem.where)
            segment = int(named.group(1)) if named else _segment_at(lines, problem.line)
            shown.append({"text": str(problem), "line": problem.line, "column": problem.column,
                          "where": problem.where, "what": problem.what,
                          "segment": None if member else segment, "member": member.group(1) if member else None})
        return shown

    # -- saving -----------------------------------------------------------------------------

    def save(self, base_version: str, edits: Edits) -> str:
        """Write the edits into the story file (atomically) and return its new version. The
        file is written only if the edited story loads; Conflict if it changed since
        `base_version`."""
        with self._lock:
            source = Source.read(self.path)
            if source.version != base_version:
                raise Conflict(f"{self.path.name} changed on disk since the page loaded it")
            edited = apply_edits(source.text, edits)
            if edited == source.text:
                return source.version
            with self._beside(edited) as copy:
                load_story(copy, self.assets)
            data = source.encoded(edited)
            mode = self.path.stat().st_mode
            written = write_all(self.path.parent, self.path.stem, {self.path.suffix.lstrip("."): lambda: data})
            os.chmod(written[self.path.suffix.lstrip(".")], mode)
            return version_of(data)

    @contextlib.contextmanager
    def _beside(self, text: str) -> Iterator[Path]:
        """`text` as a hidden story file beside the real one (so its relative paths and its
        voices/ folder resolve the same), removed afterwards; problems name the real file."""
        copy = self.path.with_name(f".{self.path.name}.studio-{os.getpid()}-{uuid.uuid4().hex[:8]}{self.path.suffix}")
        copy.write_text(text, encoding="utf-8")
        try:
            yield copy
        except InputError as error:
            raise _renamed(error, copy, self.path, text) from None
        finally:
            copy.unlink(missing_ok=True)

    def backtime(self, edits: Edits) -> dict:
        """The estimate against the post of the story as the page has it (unsaved edits
        included), as `check` prints it: what the page shows while the producer types."""
        edited = apply_edits(Source.read(self.path).text, edits)
        try:
            with self._beside(edited) as copy:
                checked = check(copy, self.assets, draft=self.draft)
        except InputError:
            return {"backtime": None, "estimated_s": None}
        timed = checked.backtime
        return {"backtime": timed.as_json() if timed is not None else None,
                "estimated_s": round(checked.timeline.duration_s, 2)}

    # -- takes ------------------------------------------------------------------------------

    def take(self, index: int, edits: Edits) -> dict:
        """One segment's take as the page has it (unsaved edits included), rendered through the
        take cache into this session's folder; the same text again is the same file."""
        source = Source.read(self.path)
        edited = apply_edits(source.text, edits)
        key = hashlib.sha256(f"{index}\n{self.assets}\n{edited}".encode()).hexdigest()[:20]
        name = f"take-{index}-{key}.wav"
        if name not in self.takes:
            import soundfile

            said: list[tuple[str, float, float]] = []
            with self._beside(edited) as copy:
                made = preview(copy, [str(index)], self.work_dir / name, assets=self.assets, jobs=1, draft=self.draft,
                               on_words=said.extend)
            self.takes[name] = (made, soundfile.info(str(made)).duration, said)
        _, duration_s, said = self.takes[name]
        return {"index": index, "url": f"/takes/{name}", "duration_s": round(duration_s, 2),
                "words": [{"word": w, "start": round(a, 3), "end": round(b, 3)} for w, a, b in said]}

    def take_file(self, name: str) -> Path | None:
        """A take this session made, by file name; None for anything else."""
        return self.takes[name][0] if TAKE_NAME.match(name) and name in self.takes else None



def _renamed(error: InputError, copy: Path, real: Path, text: str) -> InputError:
    if not error.problems:
        return InputError(error.message.replace(str(copy), str(real)))
    return InputError([Problem(str(real) if p.file == str(copy) else p.file, p.line, p.column, p.where, p.what)
                       for p in error.problems])


def _safe_segment_lines(source: str) -> dict[int, int]:
    try:
        return segment_lines(source)
    except Exception:  # a file ruamel cannot parse either: problems stay unplaced
        return {}


def _segment_at(lines: dict[int, int], line: int) -> int | None:
    before = [index for index, start in lines.items() if start <= line]
    return max(before) if before else None


def _segment(s: Segment, p: Plan, durations: dict[int, float]) -> dict:
    shown = {"index": s.index, "kind": s.kind, "id": s.id, "speaker": s.speaker,
             "text": s.text, "editable": s.kind == "speech",
             "estimate_s": round(durations.get(s.index, 0.0), 2)}
    if s.kind == "speech":
        shown["voice"] = p.voices[s.index].name
    elif s.kind == "pause":
        shown["label"] = f"{s.pause_s:g} s"
    elif s.kind == "sting":
        shown["label"] = s.sting
    elif s.sound is not None:
        shown["label"] = s.sound.label
    return shown
