"""Fuzz the story and jobs loaders and `bulletin check`: N mutated files, each of which must end
in success or in exit 2 with every line positioned, never a traceback, within a time limit.

    .venv/bin/python scripts/fuzz.py 10000            # N cases, in-process (fast)
    .venv/bin/python scripts/fuzz.py 200 --subprocess # each through `python -m bulletin`
    .venv/bin/python scripts/fuzz.py 1000 --seed 7 --out fuzz-failures

Prints how many cases were tried and how many failed; the first failures' inputs (and why)
are saved to the --out folder, to replay with `bulletin check FILE`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "script")]

from fuzz_cases import Case, cases  # noqa: E402
from fuzz_contract import prepare, run_case, save  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402

KEEP = 20  # failing inputs saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", type=int, help="how many cases to try")
    parser.add_argument("--subprocess", action="store_true", help="run each case as `python -m bulletin`")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, printed)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="where failing inputs go")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    tried, failed = 0, []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bulletin-fuzz-") as tmp:
        folder = Path(tmp)
        prepare(folder)

        # Hypothesis draws the cases; every case runs (failures are counted, not shrunk)
        @settings(max_examples=args.cases, database=None, deadline=None, phases=["generate"],
                  suppress_health_check=list(HealthCheck))
        @given(case=cases())
        def one(case: Case) -> None:
            nonlocal tried
            tried += 1
            why = run_case(case, folder, as_subprocess=args.subprocess)
            if why is not None:
                failed.append((case, why))
                if len(failed) <= KEEP:
                    save(case, why, args.out, len(failed))
            if tried % 500 == 0:
                print(f"  {tried} tried, {len(failed)} failed, {time.perf_counter() - started:.0f} s", flush=True)

        hypothesis_seed(seed)(one)()
    elapsed = time.perf_counter() - started
    print(f"seed {seed}: {tried} cases tried, {len(failed)} failed, {elapsed:.0f} s "
          f"({elapsed / max(tried, 1) * 1000:.0f} ms a case)")
    for case, why in failed[:5]:
        print(f"- {case.describe()[:200]}\n  {why[:300]}")
    if failed:
        print(f"the first {min(len(failed), KEEP)} failing inputs are in {args.out}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
