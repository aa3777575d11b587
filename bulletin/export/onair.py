"""What a render tells a playout system: the `bext` and `cart` chunks' contents (bulletin.export.bwf
writes them), made from the story's `air:`, the timeline and the render's time, and recorded in
the cue sheet.

- Text is ASCII, as both standards require: transliterated (anyascii: "–" to "-", "Ä" to "A",
  Hangul to its romanisation), cut to the field's length, and each change said in a warning.
- The air window: `starts` (default: the render's time; a time of day is on the bulletin's
  date) to `expires` (a date-time, or a duration after the start; none: no kill date).
- Post timers are sample offsets into the file as written, read off the timeline (the cue
  sheet's own source): AUDs/AUDe the first and last audible sample (segments and beds); INTs/INTe from an opening
  sting to the first voice (the talk-over intro); SEGs where a segue may start (the closing
  sting's start, else the end of the last speech).
"""

from __future__ import annotations

import datetime
import struct
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anyascii import anyascii

from bulletin import __version__
from bulletin.base.errors import InputError, Problem
from bulletin.export.bwf import (
    LOUDNESS_UNKNOWN,
    Bext,
    Cart,
    bext_payload,
    cart_payload,
    chunk,
    loudness_bytes,
)
from bulletin.export.files import WavWriter
from bulletin.mix.timeline import Placement, Timeline
from bulletin.script.loading.air import wall_clock, window_problem
from bulletin.script.model import CART_TEXT_CHARS, DEFAULT_CATEGORY, Air, Story

if TYPE_CHECKING:
    from bulletin.mix.master import Master

ORIGINATOR = "bulletin"
DESCRIPTION_CHARS = 256
OUTCUE_ELLIPSIS = "..."


@dataclass(frozen=True)
class OnAir:
    """Both chunks' contents for one render, and what was changed to write them."""

    bext: Bext
    cart: Cart
    warnings: tuple[str, ...]
    starts_given: bool = True  # False: the window starts at the render's time

    def chunks(self, loudness: bytes | None = None) -> list[bytes]:
        """bext (with `loudness`, else unknown) then cart, as RIFF chunks."""
        return [chunk(b"bext", bext_payload(self.bext, loudness)), chunk(b"cart", cart_payload(self.cart))]

    def cue_entry(self, loudness: tuple[float | None, ...]) -> dict[str, object]:
        """What went into the chunks, for the cue sheet (`loudness` as bext holds it)."""
        names = ("loudness_lufs", "loudness_range_lu", "max_true_peak_dbtp", "max_momentary_lufs",
                 "max_short_term_lufs")
        c = self.cart
        return {
            "bext": {"version": 2, "description": self.bext.description, "originator": self.bext.originator,
                     "originator_reference": self.bext.originator_reference,
                     "origination": self.bext.origination.strftime("%Y-%m-%dT%H:%M:%S"),
                     "time_reference": self.bext.time_reference, "coding_history": self.bext.coding_history.strip(),
                     **dict(zip(names, (None if v is None else round(v, 2) for v in loudness), strict=True))},
            "cart": {"version": "0101", "title": c.title, "artist": c.artist, "cut": c.cut_id or None,
                     "category": c.category, "outcue": c.out_cue,
                     "starts": c.start.strftime("%Y-%m-%dT%H:%M:%S"),
                     "expires": c.end.strftime("%Y-%m-%dT%H:%M:%S") if c.end else None,
                     "producer": f"{c.producer_app_id} {c.producer_app_version}",
                     "timers": dict(c.timers)},
        }


def on_air(story: Story, timeline: Timeline, rate_hz: int, channels: int, now: datetime.datetime | None = None,
           frames: int | None = None) -> OnAir:
    """The chunks' contents; InputError (positioned at `expires`) where the kill date is not
    after the start. `now` is the render's time (default: this moment, local)."""
    now = now or datetime.datetime.now().astimezone()
    air = story.air or Air()
    start, end = air_window(air, story.date, now)
    notes: list[str] = []
    bext = Bext(
        # the title's own transliteration is said once, for the cart's Title
        description=_ascii(f"{story.title}, {story.date.isoformat()}", DESCRIPTION_CHARS, "bext Description", notes,
                           say_transliteration=False),
        originator=ORIGINATOR,
        originator_reference=uuid.uuid4().hex,
        origination=wall_clock(now),
        coding_history=f"A=PCM,F={rate_hz},W=16,M={'mono' if channels == 1 else 'stereo'},T=bulletin {__version__}\r\n",
    )
    total = frames if frames is not None else round(timeline.duration_s * rate_hz)
    cart = Cart(
        title=_ascii(story.title, CART_TEXT_CHARS, "cart Title", notes),
        artist=_ascii(air.artist or story.title, CART_TEXT_CHARS, "cart Artist (air.artist)", notes),
        cut_id=air.cut or "",
        category=_ascii(air.category or DEFAULT_CATEGORY, CART_TEXT_CHARS, "cart Category (air.category)", notes),
        out_cue=_ascii(air.outcue or last_words(timeline), CART_TEXT_CHARS, "cart OutCue (air.outcue)", notes),
        start=wall_clock(start),
        end=None if end is None else wall_clock(end),
        producer_app_id=ORIGINATOR,
        producer_app_version=__version__,
        timers=post_timers(timeline, rate_hz, total),
    )
    if end is not None and wall_clock(end) <= wall_clock(now):
        notes.append(f"air: the kill date {wall_clock(end).isoformat(timespec='minutes')} has passed "
                     "already; a playout system will drop this bulletin at once")
    return OnAir(bext, cart, tuple(notes), air.starts is not None)


def air_window(air: Air, date: datetime.date, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime | None]:
    """(start, kill date or None) of `air` for a bulletin dated `date` rendered at `now`."""
    if isinstance(air.starts, datetime.datetime):
        start, named = air.starts, "`starts`"
    elif isinstance(air.starts, datetime.time):
        start, named = datetime.datetime.combine(date, air.starts), "`starts` on the bulletin's date"
    else:
        start, named = now, "the render's time"
    if isinstance(air.expires, datetime.timedelta):
        return start, start + air.expires
    if isinstance(air.expires, datetime.datetime):
        if (why := window_problem(start, air.expires, named)) is not None:
            file, line, column = air.expires_at or ("story", 1, 1)
            raise InputError([Problem(file, line, column, "air.expires", why)])
        return start, air.expires
    return start, None


def last_words(timeline: Timeline) -> str:
    """The end of the last speech segment's text, at most CART_TEXT_CHARS characters: whole
    words, after an ellipsis where the text is longer."""
    spoken = [p.segment.text for p in timeline.placements if p.segment.kind == "speech" and p.segment.text]
    if not spoken:
        return ""
    text = " ".join(anyascii(spoken[-1]).split())
    if len(text) <= CART_TEXT_CHARS:
        return text
    tail = text[-(CART_TEXT_CHARS - len(OUTCUE_ELLIPSIS)):]
    if " " in tail:
        tail = tail[tail.index(" ") + 1 :]
    return OUTCUE_ELLIPSIS + tail


def post_timers(timeline: Timeline, rate_hz: int, frames: int) -> tuple[tuple[str, int], ...]:
    """AUDs, AUDe, INTs/INTe (an opening sting), SEGs, as sample offsets (see the module's note)."""
    audible = [p for p in timeline.placements if p.segment.kind != "pause"]
    if not audible:
        return ()

    def at(seconds: float) -> int:
        return min(max(round(seconds * rate_hz), 0), frames)

    # a bed is audio too: it may start before the first segment (its lead-in) and end after the last
    first_sound = min([audible[0].start_s, *(b.start_s for b in timeline.beds)])
    last_sound = max([*(p.end_s for p in audible), *(b.end_s for b in timeline.beds)])
    timers = [("AUDs", at(first_sound)), ("AUDe", at(last_sound))]
    voiced = [p for p in audible if p.segment.kind in ("speech", "clip")]
    if audible[0].segment.kind == "sting" and voiced:
        timers += [("INTs", at(audible[0].start_s)), ("INTe", at(voiced[0].start_s))]
    if (segue := _segue(audible)) is not None:
        timers.append(("SEGs", at(segue)))
    return tuple(timers)


def _segue(audible: list[Placement]) -> float | None:
    """The closing sting's start, else the end of the last speech, else None."""
    speech = [p for p in audible if p.segment.kind == "speech"]
    closing = audible[-1]
    if closing.segment.kind == "sting" and len(audible) > 1:
        return closing.start_s
    return speech[-1].end_s if speech else None


def _ascii(text: str, size: int, field: str, notes: list[str], say_transliteration: bool = True) -> str:
    """`text` as ASCII within `size` characters; each change noted as a warning."""
    plain = "".join(c for c in anyascii(text) if " " <= c <= "~")
    if plain != text and say_transliteration:
        notes.append(f"air: {field} {text[:60]!r} is written as ASCII {plain[:60]!r}")
    if len(plain) > size:
        notes.append(f"air: {field} is {len(plain)} characters; cut to {size}: {plain[:size]!r}")
        plain = plain[:size]
    return plain


def loudness_of(mastered: Master) -> tuple[float | None, ...]:
    """bext's five loudness figures of a mastered bulletin, as measured on the file written."""
    figures, integrated, peak = mastered.figures, mastered.integrated_lufs, mastered.true_peak_dbtp
    if figures is None:
        return (integrated, None, peak, None, None)
    return (integrated, figures.range_lu, peak, figures.max_momentary_lufs, figures.max_short_term_lufs)


def stamped(values: tuple[float | None, ...]) -> tuple[bytes, tuple[float | None, ...]]:
    """The bext loudness bytes and the values as they hold them (hundredths; None unknown)."""
    data = loudness_bytes(*values)
    held = tuple(None if v == LOUDNESS_UNKNOWN else v / 100 for v in struct.unpack("<5h", data))
    return data, held


def stamp_loudness(writers: list, air: OnAir, mastered: Master) -> dict[str, object]:
    """Write the measured loudness into the WAV's bext (the chunk was written with it unknown,
    before the samples); the cue sheet's `air` entry, as the chunks now hold it."""
    data, held = stamped(loudness_of(mastered))
    for writer in writers:
        if isinstance(writer, WavWriter):
            writer.restamp(air.chunks(data))
    return air.cue_entry(held)
