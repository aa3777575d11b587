"""Speaker-embedding similarity between the voice presets (how the presets were chosen).

Renders one sentence per preset, embeds each with Resemblyzer's speaker encoder and prints the
cosine-similarity matrix: different people score about 0.4-0.75, one person about 0.8-0.95.
Needs a separate environment (PyTorch is large, so it is not a project dependency):

    python3 -m venv /tmp/sv && /tmp/sv/bin/pip install torch==2.13.0 resemblyzer soundfile "setuptools<70"
    .venv/bin/python scripts/voice_similarity.py --render /tmp/voices
    /tmp/sv/bin/python scripts/voice_similarity.py --embed /tmp/voices
"""

from __future__ import annotations

import sys
from pathlib import Path

TEXT = (
    "Washington is making last-ditch efforts to persuade Seoul not to let its military "
    "intelligence sharing pact with Japan expire on Friday. The chair of the committee sat "
    "down with floor leaders from Seoul."
)


def render(folder: Path) -> None:
    import soundfile as sf

    from bulletin.cast.presets import load_presets
    from bulletin.engines import engine_problem, get_engine

    folder.mkdir(parents=True, exist_ok=True)
    for name, preset in load_presets().items():
        if engine_problem(preset.engine):
            continue
        take = get_engine(preset.engine).synthesize(TEXT, preset, 1.0)
        sf.write(str(folder / f"{name}.wav"), take.samples, take.rate_hz)


def embed(folder: Path) -> None:
    import numpy as np
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder("cpu", verbose=False)
    files = sorted(folder.glob("*.wav"))
    vectors = np.array([encoder.embed_utterance(preprocess_wav(f)) for f in files])
    similarity = vectors @ vectors.T
    width = max(len(f.stem) for f in files)
    for i, f in enumerate(files):
        print(f"{f.stem:<{width}} " + " ".join(f"{v:4.2f}" for v in similarity[i]))
    off = similarity[~np.eye(len(files), dtype=bool)]
    print(f"most alike pair: {off.max():.2f}; mean {off.mean():.2f}")


if __name__ == "__main__":
    mode, folder = sys.argv[1], Path(sys.argv[2])
    render(folder) if mode == "--render" else embed(folder)
