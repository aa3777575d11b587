"""Broadcast WAV chunks, byte for byte from their specifications: `bext` (EBU Tech 3285,
version 2) and `cart` (AES46-2002, version 0101). No library on PyPI writes bext's version 2
loudness fields, so they are written here; tests read them back with wavinfo (bext),
wave-chunk-parser (cart) and a reader of their own written from these tables.

Every RIFF chunk is a four-character id, its payload's size (uint32, little-endian), the
payload, and a pad byte when the size is odd (not counted in the size). Integers are
little-endian. Text is ASCII, NUL-padded to its field's size (the callers make it ASCII and
cut it to the field first). A playout system that reads the header and stops at `data` still
finds both: they are written between `fmt ` and `data`.

bext, version 2 (602 bytes, then CodingHistory)::

    offset  bytes  field                  here
    0       256    Description            the programme's title and date
    256     32     Originator             "bulletin"
    288     32     OriginatorReference    32 hex digits, new for every render
    320     10     OriginationDate        yyyy-mm-dd, the render's local time
    330     8      OriginationTime        hh:mm:ss
    338     4      TimeReferenceLow       uint32: first sample's count since midnight (0)
    342     4      TimeReferenceHigh      uint32 (0)
    346     2      Version                uint16: 2
    348     64     UMID                   zeros (none)
    412     2      LoudnessValue          int16: integrated loudness, LUFS x 100
    414     2      LoudnessRange          int16: loudness range (EBU Tech 3342), LU x 100
    416     2      MaxTruePeakLevel       int16: dBTP x 100
    418     2      MaxMomentaryLoudness   int16: LUFS x 100 (400 ms)
    420     2      MaxShortTermLoudness   int16: LUFS x 100 (3 s)
    422     180    Reserved               zeros
    602     ...    CodingHistory          ASCII lines, each ending CR LF (EBU R98:
                                          A=PCM,F=44100,W=16,M=mono,T=...)

A loudness field with no value (a programme too short for a 3 s window, say) holds 0x7FFF.

cart, version 0101 (2048 bytes, then TagText)::

    offset  bytes  field                  here
    0       4      Version                "0101"
    4       64     Title                  the programme's title
    68      64     Artist                 `air.artist`, else the title
    132     64     CutID                  `air.cut` (empty without one)
    196     64     ClientID               empty
    260     64     Category               `air.category`, default NEWS
    324     64     Classification         empty
    388     64     OutCue                 `air.outcue`, default the last words spoken
    452     10     StartDate              yyyy/mm/dd: when it may first air
    462     8      StartTime              hh:mm:ss
    470     10     EndDate                yyyy/mm/dd: the kill date (none: 2099/12/31)
    480     8      EndTime                hh:mm:ss (none: 23:59:59)
    488     64     ProducerAppID          "bulletin"
    552     64     ProducerAppVersion     its version
    616     64     UserDef                empty
    680     4      LevelReference         int32: the sample value of 0 dB reference (32768)
    684     64     PostTimer[8]           each a FOURCC usage + uint32 sample offset into the
                                          audio; unused timers are all zeros
    748     276    Reserved               zeros
    1024    1024   URL                    empty
    2048    ...    TagText                ASCII lines ending CR LF (none here)
"""

from __future__ import annotations

import datetime
import struct
from dataclasses import dataclass

BEXT_VERSION = 2
BEXT_FIXED_BYTES = 602
LOUDNESS_UNKNOWN = 0x7FFF
CART_VERSION = "0101"
CART_FIXED_BYTES = 2048
CART_TIMERS = 8
CART_LEVEL_REFERENCE = 32768  # full scale of 16-bit samples, as Rivendell writes it
NO_END = datetime.datetime(2099, 12, 31, 23, 59, 59)  # "no kill date", as Rivendell and wave-chunk-parser read it

CART_TEXT_BYTES = 64  # every text field of cart but Version, the dates and URL


@dataclass(frozen=True)
class Bext:
    """bext's fields (ASCII text, cut to size), the loudness ones apart (`loudness_bytes`)."""

    description: str
    originator: str
    originator_reference: str
    origination: datetime.datetime
    coding_history: str  # lines ending CR LF
    time_reference: int = 0


@dataclass(frozen=True)
class Cart:
    """cart's fields (ASCII text, cut to size); `timers` are (FOURCC, sample offset) pairs."""

    title: str
    artist: str
    cut_id: str
    category: str
    out_cue: str
    start: datetime.datetime
    end: datetime.datetime | None
    producer_app_id: str
    producer_app_version: str
    timers: tuple[tuple[str, int], ...]
    client_id: str = ""
    classification: str = ""
    user_def: str = ""
    url: str = ""
    tag_text: str = ""


def chunk(fourcc: bytes, payload: bytes) -> bytes:
    """A RIFF chunk: id, size, payload, and a pad byte where the size is odd."""
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def bext_payload(bext: Bext, loudness: bytes | None = None) -> bytes:
    """bext version 2 (see the table above); `loudness` from `loudness_bytes` (unknown: 0x7FFF)."""
    when = bext.origination
    fixed = _text(bext.description, 256) + _text(bext.originator, 32) + _text(bext.originator_reference, 32)
    fixed += _text(when.strftime("%Y-%m-%d"), 10) + _text(when.strftime("%H:%M:%S"), 8)
    fixed += struct.pack("<IIH", bext.time_reference & 0xFFFFFFFF, bext.time_reference >> 32, BEXT_VERSION)
    fixed += bytes(64)  # UMID
    fixed += loudness if loudness is not None else loudness_bytes(None, None, None, None, None)
    fixed += bytes(180)
    assert len(fixed) == BEXT_FIXED_BYTES
    return fixed + bext.coding_history.encode("ascii")


def loudness_bytes(*values: float | None) -> bytes:
    """The five loudness fields (integrated, range, true peak, momentary and short-term maxima):
    each value x 100, rounded, as a signed 16-bit integer; None (or beyond the range) 0x7FFF."""
    assert len(values) == 5
    return struct.pack("<5h", *(_hundredths(v) for v in values))


def _hundredths(value: float | None) -> int:
    if value is None or value != value:
        return LOUDNESS_UNKNOWN
    scaled = round(value * 100)
    return scaled if -0x8000 <= scaled < LOUDNESS_UNKNOWN else LOUDNESS_UNKNOWN


def cart_payload(cart: Cart) -> bytes:
    """cart version 0101 (see the table above)."""
    end = cart.end or NO_END
    texts = (cart.title, cart.artist, cart.cut_id, cart.client_id, cart.category, cart.classification, cart.out_cue)
    fixed = _text(CART_VERSION, 4) + b"".join(_text(text, CART_TEXT_BYTES) for text in texts)
    for moment in (cart.start, end):
        fixed += _text(moment.strftime("%Y/%m/%d"), 10) + _text(moment.strftime("%H:%M:%S"), 8)
    fixed += b"".join(_text(text, CART_TEXT_BYTES) for text in (cart.producer_app_id, cart.producer_app_version, cart.user_def))
    fixed += struct.pack("<i", CART_LEVEL_REFERENCE)
    assert len(cart.timers) <= CART_TIMERS
    for usage, offset in cart.timers:
        fixed += _text(usage, 4) + struct.pack("<I", offset)
    fixed += bytes(8 * (CART_TIMERS - len(cart.timers)))
    fixed += bytes(276) + _text(cart.url, 1024)
    assert len(fixed) == CART_FIXED_BYTES
    return fixed + cart.tag_text.encode("ascii")


def _text(value: str, size: int) -> bytes:
    """ASCII, NUL-padded to `size` bytes (the value must already fit)."""
    data = value.encode("ascii")
    assert len(data) <= size, (value, size)
    return data.ljust(size, b"\0")
