"""An independent reader of a WAV's chunks and of the AES46-2002 cart chunk, written from the
standard's layout (not from bulletin.export.bwf): tests read what the render wrote with it."""

from __future__ import annotations

import datetime
import struct
from pathlib import Path

# AES46-2002 cart: (name, bytes) in order; "i" and timers are binary
CART_LAYOUT = (
    ("Version", 4), ("Title", 64), ("Artist", 64), ("CutID", 64), ("ClientID", 64), ("Category", 64),
    ("Classification", 64), ("OutCue", 64), ("StartDate", 10), ("StartTime", 8), ("EndDate", 10),
    ("EndTime", 8), ("ProducerAppID", 64), ("ProducerAppVersion", 64), ("UserDef", 64),
)


def chunks(path: Path) -> list[tuple[bytes, int, bytes]]:
    """(id, offset of the payload, payload) of every chunk of a RIFF WAVE file, in order."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    riff_size = struct.unpack_from("<I", data, 4)[0]
    assert riff_size == len(data) - 8, "the RIFF size is the file's length less 8"
    out, at = [], 12
    while at < len(data):
        fourcc, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        out.append((fourcc, at + 8, data[at + 8 : at + 8 + size]))
        at += 8 + size + (size & 1)  # word alignment: a pad byte after an odd size
    assert at == len(data)
    return out


def read_cart(payload: bytes) -> dict[str, object]:
    """The cart chunk's fields: text NUL-stripped, dates parsed, timers as (usage, offset)."""
    fields: dict[str, object] = {}
    at = 0
    for name, size in CART_LAYOUT:
        raw = payload[at : at + size]
        fields[name] = raw.split(b"\0", 1)[0].decode("ascii")
        at += size
    fields["LevelReference"] = struct.unpack_from("<i", payload, at)[0]
    at += 4
    timers = []
    for _ in range(8):
        usage, value = payload[at : at + 4], struct.unpack_from("<I", payload, at + 4)[0]
        if usage != b"\0\0\0\0":
            timers.append((usage.decode("ascii"), value))
        at += 8
    fields["PostTimers"] = timers
    at += 276  # reserved
    fields["URL"] = payload[at : at + 1024].split(b"\0", 1)[0].decode("ascii")
    fields["TagText"] = payload[at + 1024 :].decode("ascii")
    for edge in ("Start", "End"):
        fields[f"{edge}"] = datetime.datetime.strptime(f"{fields[edge + 'Date']} {fields[edge + 'Time']}",
                                                       "%Y/%m/%d %H:%M:%S")
    return fields
