"""The public entry points: `from bulletin import render, preview, check, load_story` works,
`import bulletin` alone stays light (the README's snippets are run by tests/docs)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_import_bulletin_is_light_and_names_load_on_first_use():
    code = ("import sys, bulletin\n"
            "heavy = [m for m in ('numpy', 'bulletin.pipeline.render', 'yaml') if m in sys.modules]\n"
            "from bulletin import render, preview, check, load_story, Progress, InputError\n"
            "print(heavy, render.__module__, check.__module__)\n"
            "try:\n    bulletin.nothing\nexcept AttributeError as e:\n    print('AttributeError', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.splitlines()[0] == "[] bulletin.pipeline.render bulletin.pipeline.checking"
    assert "has no attribute 'nothing'" in out
    from bulletin import load_story
    from bulletin.script.story import load_story as loader

    assert load_story is loader
