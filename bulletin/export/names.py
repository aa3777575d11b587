"""Output file names from a story's title, safe whatever the title holds: slashes, `..`,
control characters, 300 characters or only punctuation never reach the file system as such.

The name is the title lower-cased, accents taken off (NFKD: "Ärzte" -> "arzte"), letters and
digits of any script kept ("뉴스" stays), every other run of characters one hyphen, cut at a
hyphen to at most MAX_TITLE_CHARS characters and MAX_TITLE_BYTES bytes of UTF-8 (a file name
is at most 255 bytes, and the temporaries beside it add about 30); nothing left: "bulletin"."""

from __future__ import annotations

import datetime
import re
import unicodedata

MAX_TITLE_CHARS = 80
MAX_TITLE_BYTES = 160
_NOT_WORD = re.compile(r"[\W_]+")


def title_slug(title: str) -> str:
    """The title's part of an output name (see the module's note)."""
    marks_off = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    plain = unicodedata.normalize("NFC", marks_off)  # Hangul and the like put back together
    slug = _NOT_WORD.sub("-", plain.lower()).strip("-")
    if len(slug) > MAX_TITLE_CHARS or len(slug.encode()) > MAX_TITLE_BYTES:
        slug = slug[:MAX_TITLE_CHARS]
        while len(slug.encode()) > MAX_TITLE_BYTES:
            slug = slug[:-1]
        cut = slug.rfind("-")
        slug = (slug[:cut] if cut > len(slug) // 2 else slug).strip("-")
    return slug or "bulletin"


def output_stem(title: str, date: datetime.date) -> str:
    """`SLUG-YYYY-MM-DD`: the name a render's files share, before their suffixes."""
    return f"{title_slug(title)}-{date.isoformat()}"
