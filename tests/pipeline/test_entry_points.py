"""The public entry points: `from bulletin import render, preview, check, load_story` works,
`import bulletin` alone stays light, and the README's Python snippet runs as written."""

from __future__ import annotations

import os
import re
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


def test_the_readme_snippet_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"### From Python\n\n```python\n(.*?)```", readme, re.S).group(1)
    # the same calls, with an espeak-ng cast (the voices are not what is tested here) into tmp_path
    snippet = snippet.replace("draft=False", "draft=True").replace('"output', f'"{tmp_path}/output')
    run = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env=dict(os.environ))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "synthesize" in run.stdout and "write" in run.stdout
    assert (tmp_path / "output" / "preview.wav").is_file()
    assert (tmp_path / "output" / "kbs-world-radio-news-2019-11-22.mp3").is_file()
