"""bulletin: turn a written news script into a finished, mastered radio bulletin.

The entry points, for programs (imported on first use, so `import bulletin` stays light):

- `render(story_path, out_dir, ...)`: the whole bulletin, files written; a RenderResult
- `preview(story_path, segments, out_file, ...)`: some segments back to back in one WAV
- `check(story_path, ...)`: the plan (story, cast, segment voices) and `check`'s report
- `load_story(story_path, ...)`: the validated Story
"""

# first of all: the command's handlers for SIGINT and SIGTERM (see bulletin.interrupt)
from bulletin.interrupt import end_at_once_from_now, is_the_command

end_at_once_from_now(is_the_command())

import importlib  # noqa: E402

# neither typing nor __future__ is imported here: this module runs before the handlers exist
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_ENTRY_POINTS = {
    "render": "bulletin.pipeline.render",
    "preview": "bulletin.pipeline.render",
    "RenderResult": "bulletin.pipeline.render",
    "Progress": "bulletin.pipeline.progress",
    "check": "bulletin.pipeline.checking",
    "plan": "bulletin.pipeline.planning",
    "load_story": "bulletin.script.story",
    "BulletinError": "bulletin.base.errors",
    "InputError": "bulletin.base.errors",
}

__all__ = [*_ENTRY_POINTS, "__version__"]


def __getattr__(name: str) -> "Any":
    if name not in _ENTRY_POINTS:
        raise AttributeError(f"module 'bulletin' has no attribute {name!r}")
    value = getattr(importlib.import_module(_ENTRY_POINTS[name]), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
