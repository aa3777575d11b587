"""Mastering over the whole grid: every target the sweep test knows (-40 to -9 LUFS), every
length (1 s to 10 min) and every material (speech, speech over a loud bed, a clipped clip).
Prints one line per case (met or refused, the WAV's and the decoded MP3's loudness and true
peak, pyloudnorm and our 4x meter) and how many broke a promise; exit 1 if any did.

    .venv/bin/python scripts/loudness_sweep.py                  # the whole grid (about 25 min)
    .venv/bin/python scripts/loudness_sweep.py --lengths 1 10   # a part of it
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.mix.test_master_sweep import LENGTHS_S, MATERIALS, TARGETS, check, run_case, sources  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=list(LENGTHS_S))
    parser.add_argument("--targets", type=float, nargs="+", default=list(TARGETS))
    args = parser.parse_args()
    broken = tried = 0
    with tempfile.TemporaryDirectory() as folder:
        src = sources(Path(folder) / "sources")
        for length in args.lengths:
            for material in MATERIALS:
                for target in args.targets:
                    out = Path(folder) / f"{material}-{length}-{target}".replace(" ", "_")
                    started = time.monotonic()
                    outcome = run_case(src, material, length, target, out)
                    try:
                        check(outcome, target)
                        verdict = "refused" if outcome.refused else "met"
                    except AssertionError as error:
                        verdict, broken = f"BROKEN {str(error).splitlines()[0]}", broken + 1
                    tried += 1
                    print(f"{material:16} {length:6.0f} s {target:6.1f} LUFS: {verdict:8} wav {outcome.wav_lufs:7.2f} LUFS "
                          f"{outcome.wav_dbtp:6.2f} dBTP  mp3 {outcome.mp3_lufs:7.2f} LUFS {outcome.mp3_dbtp:6.2f} dBTP  "
                          f"({time.monotonic() - started:.1f} s)", flush=True)
    print(f"{tried} cases, {broken} broke a promise")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
