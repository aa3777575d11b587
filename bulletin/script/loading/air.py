"""`air:`: how a playout system files the bulletin and when it may go to air (the WAV's cart
chunk). Read with positions by the story loader and by the nightly jobs loader alike.

    air:
      cut: NEWS0600             # CutID: 1-64 ASCII letters, digits, '-', '_', '.'
      category: NEWS            # default NEWS
      artist: KBS World Radio   # default: the title
      starts: 2019-11-22T06:00  # a date-time, or "06:00" on the bulletin's date; default: now
      expires: 1h               # the kill date: a date-time, or a duration after `starts`
      outcue: KBS World Radio News.

Text fields (category, artist, outcue) are taken as written: the render transliterates them to
ASCII and cuts them to the field's length, with a warning. The cut id names a file
(`playout:` in nightly jobs), so it is refused unless it already fits.
"""

from __future__ import annotations

import datetime
import re

from yaml.nodes import Node

from bulletin.script.model import AIR_KEYS, CART_TEXT_CHARS, Air
from bulletin.script.yamlnodes import Reader

CUT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_DURATION_PART = re.compile(r"(\d+)\s*(d|h|m)")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z")
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})\Z")
_UNITS = {"d": 86400, "h": 3600, "m": 60}
DATE_TIME_HINT = "write a date-time such as 2019-11-22T06:00"


def read_air(r: Reader, node: Node, where: str = "air") -> Air | None:
    """The `air:` mapping at `node`; None (with the problems reported) where any value is bad."""
    m = r.mapping(node, where, AIR_KEYS)
    if m is None:
        return None
    before = len(r.problems)
    values: dict[str, object] = {}
    if "cut" in m:
        values["cut"] = read_cut(r, m["cut"][1], f"{where}.cut")
    for key in ("category", "artist", "outcue"):
        if key in m:
            values[key] = r.text(m[key][1], f"{where}.{key}")
    if "starts" in m:
        values["starts"] = _starts(r, m["starts"][1], f"{where}.starts")
    if "expires" in m:
        value = m["expires"][1]
        values["expires"] = _expires(r, value, f"{where}.expires")
        values["expires_at"] = (r.file, value.start_mark.line + 1, value.start_mark.column + 1)
    if len(r.problems) > before:
        return None
    starts, expires = values.get("starts"), values.get("expires")
    if isinstance(starts, datetime.datetime) and isinstance(expires, datetime.datetime):
        if (why := window_problem(starts, expires, "`starts`")) is not None:
            r.problem(m["expires"][1], f"{where}.expires", why)
            return None
    return Air(**values)  # type: ignore[arg-type]


def read_cut(r: Reader, node: Node, where: str) -> str | None:
    cut = r.text(node, where)
    if cut is None:
        return None
    rule = f"a cut id is 1 to {CART_TEXT_CHARS} ASCII letters, digits, '-', '_' or '.' (it names the playout file)"
    if not cut.isascii():
        r.problem(node, where, f"{cut[:80]!r} is not ASCII: {rule}")
    elif len(cut) > CART_TEXT_CHARS:
        r.problem(node, where, f"is {len(cut)} characters; {rule}")
    elif not CUT_PATTERN.match(cut):
        r.problem(node, where, f"{cut!r}: {rule}")
    else:
        return cut
    return None


def _starts(r: Reader, node: Node, where: str) -> datetime.datetime | datetime.time | None:
    value = r.text(node, where)
    if value is None:
        return None
    clock = _TIME_OF_DAY.match(value)
    if clock and int(clock[1]) < 24 and int(clock[2]) < 60:
        return datetime.time(int(clock[1]), int(clock[2]))
    moment = _date_time(value)
    if moment is None:
        r.problem(node, where, f"{value!r} is not a start; {DATE_TIME_HINT}, or a time of day "
                  "on the bulletin's date such as \"06:00\"")
    return moment


def _expires(r: Reader, node: Node, where: str) -> datetime.datetime | datetime.timedelta | None:
    value = r.text(node, where)
    if value is None:
        return None
    text = value.lower().replace(" ", "")
    parts = _DURATION_PART.findall(text)
    if parts and not _DURATION_PART.sub("", text):
        length = datetime.timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
        if length > datetime.timedelta(0):
            return length
        r.problem(node, where, f"{value!r}: the bulletin must be allowed on air for some time; "
                  "write e.g. 30m, 2h or 1d")
        return None
    moment = _date_time(value)
    if moment is None:
        r.problem(node, where, f"{value!r} is not a kill date; write a duration after `starts` "
                  "(30m, 2h, 1d, 1h30m) or a date-time such as 2019-11-22T07:00")
    return moment


def _date_time(value: str) -> datetime.datetime | None:
    """An ISO 8601 date and time (seconds and a UTC offset optional), or None."""
    if not _DATE_TIME.match(value):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def window_problem(starts: datetime.datetime, expires: datetime.datetime, start_name: str) -> str | None:
    """Why an air window is wrong (its kill date is not after its start), or None."""
    if wall_clock(expires) > wall_clock(starts):
        return None
    return (f"the kill date {expires.isoformat(timespec='minutes')} is not after the start "
            f"({start_name}, {starts.isoformat(timespec='minutes')}); give a later date-time, or a duration")


def wall_clock(moment: datetime.datetime) -> datetime.datetime:
    """The time as a clock on the wall shows it (times are compared as written, whatever their
    offsets: a playout system reads the cart's dates as local wall-clock times)."""
    return moment.replace(tzinfo=None)
