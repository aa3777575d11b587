"""The podcast side of publishing: episodes, the RSS 2.0 feed and Podcasting 2.0 chapters.

Everything here is a pure function of its arguments, so the same published episodes always
give the same bytes: a feed rebuilt without changes is byte-identical, and tests can compare.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import format_datetime

from bulletin import __version__
from bulletin.nightly.jobs import Feed

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
# The Podcasting 2.0 namespace's own UUIDv5 namespace for <podcast:guid>.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
CHAPTERS_VERSION = "1.2.0"
CHAPTERS_TYPE = "application/json+chapters"
# <podcast:transcript> per file kind: the captions (cues) and the word-by-word JSON transcript
TRANSCRIPT_TYPES = {
    "vtt": {"type": "text/vtt", "rel": "captions"},
    "srt": {"type": "application/x-subrip", "rel": "captions"},
    "transcript": {"type": "application/json"},
}
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Episode:
    """One published bulletin, as the index records it and the feed lists it."""

    date: dt.date
    stem: str  # SLUG-DATE, the dated files' common name
    title: str  # the bulletin's title from its cue sheet
    published: dt.datetime  # aware
    duration_s: float
    mp3_bytes: int
    headlines: tuple[str, ...] = ()
    files: dict[str, str] = field(
        default_factory=dict
    )  # kind (mp3, json, vtt, srt, transcript, chapters, wav) -> name


    def to_json(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "stem": self.stem,
            "title": self.title,
            "published": self.published.isoformat(),
            "duration_s": self.duration_s,
            "mp3_bytes": self.mp3_bytes,
            "headlines": list(self.headlines),
            "files": dict(self.files),
        }

    @classmethod
    def from_json(cls, data: dict) -> Episode:
        return cls(
            date=dt.date.fromisoformat(data["date"]),
            stem=str(data["stem"]),
            title=str(data["title"]),
            published=dt.datetime.fromisoformat(data["published"]),
            duration_s=float(data["duration_s"]),
            mp3_bytes=int(data["mp3_bytes"]),
            headlines=tuple(str(h) for h in data.get("headlines", ())),
            files={str(k): str(v) for k, v in data["files"].items()},
        )


def headlines(cue: dict) -> tuple[str, ...]:
    """The stories' headlines from a cue sheet, numbered where a story has none."""
    return tuple(
        story.get("headline") or f"Story {story.get('index', n)}"
        for n, story in enumerate(cue.get("stories") or [], start=1)
    )


def chapters(cue: dict, podcast_name: str = "") -> dict:
    """A Podcasting 2.0 chapters document (version 1.2.0): one chapter per story of the cue sheet."""
    document: dict = {"version": CHAPTERS_VERSION, "title": _episode_title(cue)}
    if podcast_name:
        document["podcastName"] = podcast_name
    document["chapters"] = [
        {
            "startTime": round(float(story["start"]), 2),
            "endTime": round(float(story["end"]), 2),
            "title": title,
        }
        for story, title in zip(cue.get("stories") or [], headlines(cue), strict=True)
    ]
    return document


def _episode_title(cue: dict) -> str:
    title = str(cue.get("title") or "Bulletin")
    date = cue.get("date")
    return f"{title}, {long_date(dt.date.fromisoformat(date))}" if date else title


def long_date(day: dt.date) -> str:
    """'2 January 2026', spelt out without the locale (strftime's %B follows LC_TIME)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def clock_duration(seconds: float) -> str:
    """HH:MM:SS for itunes:duration."""
    whole = int(seconds + 0.5)  # half up: round() would make a 0.5 s bulletin last 0 s
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def podcast_guid(feed_url: str) -> str:
    """<podcast:guid>: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def feed_xml(feed: Feed, episodes: list[Episode], feed_name: str = "feed.xml") -> bytes:
    """The RSS 2.0 feed (itunes and podcast namespaces), newest bulletin first."""
    feed_url = feed.base_url + feed_name
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", feed.title)
    _text(channel, "link", feed.link)
    _text(channel, "description", feed.description)
    _text(channel, "language", feed.language)
    _text(channel, "generator", f"bulletin {__version__}")
    ET.SubElement(
        channel, f"{{{ATOM}}}link", {"href": feed_url, "rel": "self", "type": "application/rss+xml"}
    )
    newest = sorted(episodes, key=lambda e: e.date, reverse=True)
    if newest:
        # The newest publication, not the clock: rebuilding an unchanged feed gives the same bytes.
        _text(channel, "lastBuildDate", format_datetime(max(e.published for e in newest)))
    _text(channel, f"{{{PODCAST}}}guid", podcast_guid(feed_url))
    _text(channel, f"{{{ITUNES}}}author", feed.author or feed.title)
    _text(channel, f"{{{ITUNES}}}summary", feed.description)
    _text(channel, f"{{{ITUNES}}}type", "episodic")
    _text(channel, f"{{{ITUNES}}}explicit", "true" if feed.explicit else "false")
    if feed.image:
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": feed.image})
    if feed.category:
        ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": feed.category})
    for episode in newest:
        _item(channel, feed, episode)
    ET.indent(rss, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="utf-8") + b"\n"


def _item(channel: ET.Element, feed: Feed, episode: Episode) -> None:
    url = feed.base_url
    item = ET.SubElement(channel, "item")
    _text(item, "title", f"{episode.title}, {long_date(episode.date)}")
    summary = "; ".join(episode.headlines) or episode.title
    _text(item, "description", summary)
    mp3 = url + episode.files["mp3"]
    ET.SubElement(
        item, "enclosure", {"url": mp3, "length": str(episode.mp3_bytes), "type": "audio/mpeg"}
    )
    # The MP3's address identifies the episode: rebuilding a date under the same title keeps it.
    _text(item, "guid", mp3).set("isPermaLink", "false")
    _text(item, "pubDate", format_datetime(episode.published))
    _text(item, f"{{{ITUNES}}}title", episode.title)
    _text(item, f"{{{ITUNES}}}summary", summary)
    _text(item, f"{{{ITUNES}}}duration", clock_duration(episode.duration_s))
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    _text(item, f"{{{ITUNES}}}explicit", "true" if feed.explicit else "false")
    if "chapters" in episode.files:
        ET.SubElement(
            item,
            f"{{{PODCAST}}}chapters",
            {"url": url + episode.files["chapters"], "type": CHAPTERS_TYPE},
        )
    for kind, attributes in TRANSCRIPT_TYPES.items():
        if kind in episode.files:
            ET.SubElement(
                item, f"{{{PODCAST}}}transcript", {"url": url + episode.files[kind], **attributes}
            )


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element
