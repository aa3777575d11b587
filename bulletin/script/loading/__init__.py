"""The story loader: one small reader per part of the format (master, cast, stings, stories,
segments) over a shared Context; every problem is collected with its position."""

from bulletin.script.loading.top import load_story

__all__ = ["load_story"]
