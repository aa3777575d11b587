"""Import a broadcast transcript (the text of a news web page) into a story file.

The transcripts are one family, KBS World Radio's news pages, written in a few
conventions that this module reads line by line:

- labels: ``Anchor:`` / ``[Anchor Lead]`` for the lead, ``Report:`` / ``[Pkg]``
  for the package, with the text on the same line or on the lines after it;
- sound bites: ``[Sound bite: NAME - TITLE]`` or ``[Soundbite] NAME (TITLE) : "quote"``,
  with the speaker and the quote on that line or on the next ones, quoted or not;
- ``NAME, STATION News.`` as the reporter's sign-off, and "NAME has more." or
  "NAME reports." at the end of the lead;
- numbered headings (``2. U.S. Veterans``) when one page carries several stories;
- page furniture around all of it (menus, dates, photo credits, share buttons,
  related news, cookie notices, copyright lines), which is dropped.

Nothing here is certain, so the importer never stops on an odd line: whatever it
cannot place becomes a warning naming the line, and the producer reads the
warnings before rendering. Only a file with no news in it at all is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulletin.base.errors import InputError, Problem
from bulletin.script.transcript.classify import classify
from bulletin.script.transcript.emit import assemble, emit
from bulletin.script.transcript.lines import read_lines
from bulletin.script.transcript.parser import Parser
from bulletin.script.yamlnodes import MAX_FILE_BYTES

__all__ = ["ImportResult", "import_transcript"]

MAX_STORY_BYTES = MAX_FILE_BYTES  # the story format's own limit


@dataclass
class ImportResult:
    """The imported story and what the importer was unsure of."""

    story_yaml: str  # a complete story file, ready to write as story.yaml
    warnings: list[str]  # each "FILE:LINE: what is unsure"


def import_transcript(path: Path) -> ImportResult:
    """Read a transcript and return the story file text made from it.

    Raises InputError when the file cannot be read, is not UTF-8 text, or holds
    nothing that looks like news (no labels, sound bites, headings or sign-off).
    """
    path = Path(path)
    name = str(path)
    tokens = [classify(number, text) for number, text in enumerate(read_lines(path), 1)]
    parser = Parser(tokens, name)
    parser.parse()
    story = assemble(parser, path)
    text = emit(story, path.name)
    if len(text.encode("utf-8")) > MAX_STORY_BYTES:
        raise InputError(
            [
                Problem(
                    name,
                    1,
                    1,
                    "transcript",
                    f"the story would be over the {MAX_STORY_BYTES:,}"
                    " byte limit of a story file; split the transcript into smaller files",
                )
            ]
        )
    warnings = [f"{name}:{line}: {what}" for line, what in sorted(parser.warnings, key=_line_of)]
    return ImportResult(story_yaml=text, warnings=warnings)


def _line_of(warning: tuple[int, str]) -> int:
    return warning[0]
