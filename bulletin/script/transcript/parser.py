"""The walk over the classified lines: which story, whose voice, and what to warn about."""

from __future__ import annotations

import re

from bulletin.base.errors import InputError, Problem
from bulletin.script.transcript.bites import (
    ends_quote,
    parse_speaker,
    person_key,
    split_bite_rest,
    unquote,
)
from bulletin.script.transcript.drafts import Person, Speech, StoryDraft, person_of, with_headlines
from bulletin.script.transcript.lines import (
    ANCHOR,
    BITE,
    BLANK,
    END,
    FURNITURE,
    HEADING,
    LABEL,
    OPEN_QUOTES,
    REPORT,
    SIGNOFF,
    TAG,
    TERMINAL,
    TEXT,
    Token,
    looks_like_headline,
    looks_like_prose,
    spoken,
)
from bulletin.script.transcript.signoffs import SIGNOFF_AT_END, reporter_in_intro


class Parser:
    """Walks the classified lines once, keeping the story, the voice and the mode.

    mode is "pre" before the news starts (page header, title), "news" inside a
    story, "after" once a sign-off or a "Related News" block has ended one.
    """

    def __init__(self, tokens: list[Token], file: str) -> None:
        self.tokens = tokens
        self.file = file
        self.i = 0
        self.mode = "pre"
        self.voice = "anchor"
        self.after_end = False  # past "Related News": what follows is links, said nothing
        self.page_title: str | None = None
        self.pending_headline: str | None = None  # a title line seen between stories
        self.stories: list[StoryDraft] = []
        self.people: dict[str, Person] = {}
        self.warnings: list[tuple[int, str]] = []
        self.signals = 0  # labels, bites, headings, sign-offs: evidence this is news
        self.implicit_warned = False

    # ---- driving

    def parse(self) -> None:
        handlers = {
            HEADING: self._on_heading,
            ANCHOR: self._on_anchor,
            TAG: self._on_tag,
            REPORT: self._on_report,
            BITE: self._on_bite,
            SIGNOFF: self._on_signoff,
            LABEL: self._on_label,
            TEXT: self._on_text,
            END: self._on_end,
        }
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            handler = handlers.get(token.kind)
            if handler:
                handler(token)
        self._finish()

    def warn(self, line: int, what: str) -> None:
        self.warnings.append((line, what))

    @property
    def story(self) -> StoryDraft | None:
        return self.stories[-1] if self.stories else None

    def _start_story(self, headline: str | None, line: int) -> StoryDraft:
        if headline is None:
            headline = self.pending_headline or (self.page_title if not self.stories else None)
        story = StoryDraft(headline=headline, line=line)
        self.stories.append(story)
        self.pending_headline = None
        self.mode, self.voice, self.after_end = "news", "anchor", False
        return story

    def _current(self, line: int) -> StoryDraft:
        """The story that a package label or a sound bite belongs to."""
        story = self.story
        if story is None or (self.mode == "after" and story.reporter is not None):
            return self._start_story(None, line)
        self.mode = "news"
        return story

    # ---- labels

    def _on_heading(self, token: Token) -> None:
        self.signals += 1
        self._start_story(token.body, token.line)

    def _on_anchor(self, token: Token) -> None:
        self.signals += 1
        story = self.story
        if story is None or story.has_package or self.mode == "after":
            self._start_story(None, token.line)
        self.mode, self.voice = "news", "anchor"
        self._say(token.body, token.line)

    def _on_tag(self, token: Token) -> None:
        """An anchor's closing line after a package: same story, anchor's voice."""
        self.signals += 1
        if self.story is None:
            self._start_story(None, token.line)
        self.mode, self.voice = "news", "anchor"
        self._say(token.body, token.line)

    def _on_report(self, token: Token) -> None:
        self.signals += 1
        story = self._current(token.line)
        story.has_package = story.handed_over = True
        self.voice = "reporter"
        self._say(token.body, token.line)

    def _on_label(self, token: Token) -> None:
        if self.mode != "news":
            return
        self.warn(token.line, f"unknown label '[{token.speaker}]' left out")
        if token.body:
            self._say(token.body, token.line)

    def _on_end(self, token: Token) -> None:
        self.mode, self.after_end = "after", True

    # ---- sound bites

    def _on_bite(self, token: Token) -> None:
        self.signals += 1
        story = self._current(token.line)
        story.has_package = True
        speaker, body = token.speaker, token.body
        if speaker is None and not body:
            speaker, body = self._speaker_on_next_line()
        elif (
            speaker is None
            and body[0] not in OPEN_QUOTES
            and self._describes_speaker(self.i - 1, body)
        ):
            speaker, body = body, ""  # `[Soundbite] Seoul resident` with the quote below
        who = parse_speaker(speaker)[0] if speaker else ""
        who = who or "an unnamed speaker"
        parts = [body] if body else self._quote_on_next_lines(token.line, who)
        if not parts:
            self.warn(token.line, f"sound bite of {who!r} has no quote; left out")
            return
        text = unquote(parts)
        if not text:
            self.warn(token.line, f"sound bite of {who!r} has an empty quote; left out")
            return
        person = self._person(speaker, token.line)
        story.speeches.append(Speech(person.key, text, token.line, token.line))

    def _next_content(self, start: int | None = None) -> tuple[int, Token, bool] | None:
        """The next line that is not blank or furniture, and whether a blank line came first."""
        blank = False
        for j in range(self.i if start is None else start, len(self.tokens)):
            token = self.tokens[j]
            if token.kind == BLANK:
                blank = True
            elif token.kind != FURNITURE:
                return j, token, blank
        return None

    def _speaker_on_next_line(self) -> tuple[str | None, str]:
        """`[Soundbite]` alone: the speaker may follow as `NAME (TITLE)` or `NAME (TITLE) : "quote"`."""
        found = self._next_content()
        if found is None or found[1].kind != TEXT:
            return None, ""
        j, token, _ = found
        speaker, quote = split_bite_rest(token.text)
        if speaker is None and self._describes_speaker(j, token.text):
            speaker, quote = token.text, None
        if speaker is None:
            return None, ""
        self.i = j + 1
        return speaker, quote or ""

    def _describes_speaker(self, j: int, text: str) -> bool:
        """A short unpunctuated line such as `Joint Chiefs of Staff spokesperson` with a
        quoted line right after it names the speaker, though it is no proper name."""
        after = self._next_content(j + 1)
        return (
            len(text.split()) <= 10
            and text[0].isupper()
            and text[-1] not in ".!?,;"
            and after is not None
            and after[1].kind == TEXT
            and after[1].text[0] in OPEN_QUOTES
        )

    def _quote_on_next_lines(self, line: int, who: str) -> list[str]:
        """The quote under a sound-bite label: the next paragraph, and more while it is open."""
        found = self._next_content()
        if found is None or found[1].kind != TEXT:
            return []
        j, token, blank = found
        self.i = j + 1
        parts = [token.text]
        if token.text[0] not in OPEN_QUOTES:
            if blank:
                self.warn(
                    token.line,
                    f"took this unquoted line after a blank line as "
                    f"the sound bite of {who!r} (line {line})",
                )
            return parts
        while not ends_quote(parts[-1]):
            found = self._next_content()
            if found is None or found[1].kind != TEXT:
                break
            j, token, blank = found
            if blank and token.text[0] not in OPEN_QUOTES:
                break  # the narration is back; the quote was never closed
            self.i = j + 1
            parts.append(token.text)
        return parts

    def _person(self, speaker: str | None, line: int) -> Person:
        return person_of(self.people, speaker, line, self.warn)

    # ---- sign-off

    def _on_signoff(self, token: Token) -> None:
        self.signals += 1
        if self.story is None:
            self.warn(token.line, "sign-off before any news text; left out")
            return
        self._sign_off(token.text, token.name, token.station, token.line)

    def _sign_off(self, text: str, name: str, station: str, line: int) -> None:
        story = self.story
        assert story is not None  # callers have a story
        if not story.handed_over:
            self.warn(
                line,
                "sign-off without a 'Report:'/'[Pkg]' label or a 'NAME has more.' "
                "line; the text before it is read by the anchor",
            )
        if story.intro_reporter and person_key(story.intro_reporter, "") != person_key(name, ""):
            self.warn(
                line,
                f"the lead hands over to {story.intro_reporter!r} but "
                f"{name!r} signs off; the sign-off's name is used",
            )
        story.reporter, story.station = name, station
        story.has_package = True
        story.speeches.append(Speech("reporter", spoken(text), line, line, signoff=True))
        self.mode = "after"

    # ---- text

    def _on_text(self, token: Token) -> None:
        if self.mode == "pre":
            self._text_before_news(token)
        elif self.mode == "after":
            self._text_after_story(token)
        else:
            self._text_in_story(token)

    def _text_before_news(self, token: Token) -> None:
        text = token.text
        if self.page_title and text.casefold() == self.page_title.casefold():
            return  # the title, repeated under the date
        if re.match(r"^By\s+[A-Z]", text) and len(text.split()) <= 6:
            return  # a byline; the sign-off names the reporter more reliably
        if self.page_title is None and looks_like_headline(text):
            self.page_title = text
        elif looks_like_prose(text):
            if not self.implicit_warned:
                self.warn(
                    token.line,
                    "the news text starts without an 'Anchor:' or "
                    "'[Anchor Lead]' label; it is read by the anchor",
                )
                self.implicit_warned = True
            self._start_story(None, token.line)
            self._text_in_story(token)
        elif len(text.split()) >= 6:
            self.warn(
                token.line,
                "left out a line before the news text: could not tell whether it is spoken",
            )

    def _text_after_story(self, token: Token) -> None:
        if looks_like_headline(token.text):
            self.pending_headline = token.text  # perhaps the title of the next article
        elif not self.after_end and looks_like_prose(token.text):
            self.warn(token.line, "left out text after the sign-off")

    def _text_in_story(self, token: Token) -> None:
        story = self.story
        assert story is not None  # mode "news" always has a story
        text = token.text
        if not story.speeches and text.casefold() in {
            (story.headline or "").casefold(),
            (self.page_title or "").casefold(),
        }:
            return  # the title repeated under a heading
        tail = SIGNOFF_AT_END.search(text)
        if tail:
            self._say(text[: tail.start()], token.line)
            self.signals += 1
            self._sign_off(
                tail.group(0).strip(), tail.group("name"), tail.group("station"), token.line
            )
            return
        if len(text.split()) <= 3 and text[-1] not in TERMINAL and not self._continues(token):
            self.warn(
                token.line,
                f"short line {text!r} kept as {self.voice} text; delete it if it is not spoken",
            )
        self._say(text, token.line)

    def _continues(self, token: Token) -> bool:
        """Whether this line carries on the previous one's sentence (a hard-wrapped paragraph)."""
        story = self.story
        if story is None or not story.speeches:
            return False
        last = story.speeches[-1]
        return (
            last.last_line == token.line - 1
            and not last.signoff
            and last.who == self.voice
            and len(last.text.split()) >= 6
            and last.text[-1] not in TERMINAL
        )

    def _say(self, text: str, line: int) -> None:
        """Add a paragraph in the current voice, joining a line that carries on the last one."""
        text = spoken(text)
        story = self.story
        if not text or story is None:
            return
        if self._continues(Token(TEXT, line, text)):
            last = story.speeches[-1]
            last.text, last.last_line = f"{last.text} {text}", line
        else:
            story.speeches.append(Speech(self.voice, text, line, line))
        if self.voice == "anchor":
            name = reporter_in_intro(story.speeches[-1].text)
            if name:
                story.intro_reporter = name
                story.handed_over = True
                self.signals += 1
                self.voice = "reporter"  # the package follows the hand-over, label or not

    # ---- the end

    def _finish(self) -> None:
        self.stories = with_headlines(self.stories, self.warn)
        for person in self.people.values():
            # Only now: a later bite of the same speaker may have given the title.
            if person.name and not person.title:
                self.warn(
                    person.line,
                    f"sound bite of {person.name!r} gives no title; the cast member has none",
                )
        if not self.stories or self.signals == 0:
            raise InputError(
                [
                    Problem(
                        self.file,
                        1,
                        1,
                        "transcript",
                        "no news found: expected 'Anchor:' or '[Anchor Lead]', 'Report:' or '[Pkg]', "
                        "'[Sound bite: NAME - TITLE]', numbered headings or a sign-off such as "
                        "'Kim Bum-soo, KBS World Radio News.'",
                    )
                ]
            )
