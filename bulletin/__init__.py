"""bulletin: turn a written news script into a finished, mastered radio bulletin."""

__version__ = "0.1.0"
