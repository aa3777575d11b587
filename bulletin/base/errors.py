"""One exception family: the CLI turns each into one line per problem and an exit status."""

from __future__ import annotations

from dataclasses import dataclass


class BulletinError(Exception):
    """A render, an engine, a file or the disk failed (exit status 1)."""

    exit_status = 1

    def lines(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, at a position (1-based line and column)."""

    file: str
    line: int
    column: int
    where: str
    what: str

    def __str__(self) -> str:
        return one_line(f"{self.file}:{self.line}:{self.column}: {self.where}: {self.what}")


def one_line(text: str) -> str:
    """`text` with control characters, line and paragraph separators and invisible format
    characters (an RTL override) escaped: what a file holds never breaks or disguises a line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class InputError(BulletinError):
    """The command line, a story or a jobs file is invalid (exit status 2, nothing written)."""

    exit_status = 2

    def __init__(self, problems: list[Problem] | str) -> None:
        self.problems = problems if isinstance(problems, list) else []
        self.message = problems if isinstance(problems, str) else ""
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems] if self.problems else [self.message]
