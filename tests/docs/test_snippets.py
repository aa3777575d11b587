"""The docs are run: every fenced block marked `sh` or `python` in README.md and docs/*.md runs,
in document order, in a sandbox laid out like the repository, and must exit 0. A renamed flag or
function then breaks this test, not a reader.

A block marked `sh no-run` (or `python no-run`) is shown, not run: a cron line, a server that
never returns, a command for another machine. A block marked `yaml file=PATH` (or `text
file=PATH`) is written to PATH in the sandbox first, so a doc can write a story and then run it.

The sandbox is the repository's examples with every speech text cut to its first words, so the
real commands run on the real stories' structure (their cast, segment ids, stings) in seconds;
the voices, scripts and virtual environment are the repository's own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, WORDS_KEPT, shorten_story

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"sh", "python"}
# a fenced block: its indent, info string and body, up to a closing fence at the same indent
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
SHARED = ["voices", "scripts", "bulletin", "pyproject.toml", "story.schema.json", ".venv"]
TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    """One fenced block of a doc: where it starts, its language and flags, its text."""

    doc: Path
    line: int
    language: str
    flags: tuple[str, ...]
    body: str

    @property
    def runnable(self) -> bool:
        return self.language in RUNNABLE and "no-run" not in self.flags

    @property
    def file(self) -> str | None:
        """The sandbox path a `file=PATH` block is written to."""
        return next((flag.split("=", 1)[1] for flag in self.flags if flag.startswith("file=")), None)

    def where(self) -> str:
        shown = self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc.name
        return f"{shown}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        words = match["info"].split()
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines()) + "\n"
        found.append(Block(doc, text.count("\n", 0, match.start()) + 1, words[0] if words else "",
                           tuple(words[1:]), body))
    return found


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's shared parts (linked) and its examples, shortened (copied)."""
    root = tmp_path_factory.mktemp("skeleton")
    for name in SHARED:
        if (ROOT / name).exists():
            (root / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "examples", root / "examples")
    for story in (root / "examples").rglob("*.yaml"):
        if story.parent.name != "voices":
            shorten_story(story)
    (root / "output").mkdir()
    return root


def sandbox(skeleton: Path, target: Path) -> Path:
    shutil.copytree(skeleton, target, symlinks=True)
    return target


def run_block(block: Block, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{cwd / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    if block.language == "python":
        command = [sys.executable, "-c", block.body]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.body]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def run_doc(doc: Path, cwd: Path) -> int:
    """Run a doc's blocks in order; fail on the first that fails, naming it. Returns how many ran."""
    ran = 0
    for block in blocks(doc):
        if block.file:
            target = cwd / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
        if not block.runnable:
            continue
        done = run_block(block, cwd)
        assert done.returncode == 0, (f"{block.where()}: the {block.language} block exited "
                                      f"{done.returncode}\n--- block\n{block.body}--- stdout\n"
                                      f"{done.stdout[-3000:]}--- stderr\n{done.stderr[-3000:]}")
        ran += 1
    return ran


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_every_runnable_block_of_the_doc_runs(doc, skeleton, tmp_path):
    run_doc(doc, sandbox(skeleton, tmp_path / "repo"))


def test_the_readme_has_runnable_blocks_and_every_doc_says_what_a_block_is():
    assert sum(block.runnable for block in blocks(ROOT / "README.md")) >= 5
    for doc in DOCS:
        for block in blocks(doc):
            # an untagged block is neither run nor explained: say what it is
            assert block.language, f"{block.where()}: a fenced block needs a language (sh, python, yaml, text, ...)"


def test_a_broken_snippet_fails_naming_its_line(tmp_path):
    doc = tmp_path / "broken.md"
    doc.write_text("# A doc\n\n```sh\nbulletin render --no-such-flag x.yaml\n```\n\n```sh no-run\nexit 3\n```\n")
    cwd = tmp_path / "repo"
    cwd.mkdir()
    (cwd / ".venv").symlink_to(ROOT / ".venv")
    with pytest.raises(AssertionError, match=r"broken.md:3: the sh block exited 2"):
        run_doc(doc, cwd)


def test_a_file_block_is_written_before_the_blocks_after_it(tmp_path):
    doc = tmp_path / "story.md"
    doc.write_text("```yaml file=news/story.yaml\ntitle: T\nsegments:\n  - pause: 1\n```\n\n"
                   "```sh\ntest -f news/story.yaml && grep -q 'title: T' news/story.yaml\n```\n")
    assert run_doc(doc, tmp_path) == 1


def test_the_sandbox_stories_are_short_and_still_load(skeleton):
    from bulletin.script.story import load_story

    story = load_story(skeleton / "examples" / "gsomia" / "story.yaml")
    speech = [s.text for s in story.segments if s.kind == "speech"]
    assert speech and all(len(text.split()) <= WORDS_KEPT for text in speech)
    assert "signoff" in {s.id for s in story.segments}
