"""The room a job's build needs on its disks besides the render's own files: what publishing
writes and what the playout drop stages (checked with the render's files before synthesis,
on one machine and before a cluster is given the work)."""

from __future__ import annotations

from pathlib import Path

from bulletin.nightly.jobs import Job
from bulletin.nightly.publish import FEED_NAME, INDEX_NAME


def publish_space(job: Job, sizes: dict[str, int]) -> list[tuple[Path, int]]:
    """The room publishing needs besides the render's files (`sizes`, by extension), by folder:
    in the publish folder, latest.mp3 and latest.json (hard links where the disk has them, else
    copies) and index.json, feed.xml and the chapters written beside the old ones. Checked with
    the render's own files before synthesis (a folder on the same disk adds up)."""
    rewritten = sum(path.stat().st_size for path in (job.publish / INDEX_NAME, job.publish / FEED_NAME)
                    if path.is_file())
    room = [(job.publish, sizes.get("mp3", 0) + sizes.get("json", 0) + rewritten + PUBLISH_EXTRA_BYTES)]
    if job.playout is not None:  # CUT.wav is staged beside the one it replaces
        room.append((job.playout, sizes.get("wav", 0)))
    return room


# the chapters file and a new bulletin's entries in index.json and feed.xml: at most this
PUBLISH_EXTRA_BYTES = 64 * 1024
