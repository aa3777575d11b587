#!/usr/bin/env bash
# Mutation testing of the core stages with mutmut: each mutant is a small change to the code (a
# flipped comparison, a changed constant, a dropped argument) that the tests should notice.
#
# What is mutated ([tool.mutmut] in pyproject.toml): story loading (bulletin/script/ less the
# transcript importer and the JSON Schema), casting (cast/), takes and sounds (sound/ less the
# worker process plumbing, synthesis.py and worker.py, whose code runs in spawned processes that
# mutmut cannot reach), the timeline, mixing and mastering (mix/) and export (export/).
# What kills: the tests of those stages that run them in this process (a test that starts
# `python -m bulletin` runs the code unmutated), less the slowest few; the list is there too.
#
# Slow: about 9,600 mutants; one that is killed takes a few seconds, one that survives runs every
# test that reaches its function (40 to 90 s of CPU here), so not part of scripts/test.sh. It runs
# at the lowest priority (nice 19), so the machine stays usable; run it a module at a time.
# mutmut first runs the selected tests once in one process, in its own order: a test must not
# depend on what another left in the session's take cache (speak sentences of your own).
#
#   bash scripts/mutation.sh                                 # every core module
#   bash scripts/mutation.sh 'bulletin.mix.timeline*'        # mutants whose names match
#   bash scripts/mutation.sh --sample 300                    # a random 300 of them (seed 1)
#   bash scripts/mutation.sh --score                         # only print the table so far
#
# A full run takes many hours on two cores; `--sample N [SEED]` runs N mutants drawn at random
# from every core module (a first run of the mutants of bulletin/script/model.py makes them
# all and measures which tests reach which function), and the table ends with the score's 95%
# interval (Wilson) over the mutants run.
#
# Then `.venv/bin/mutmut results` lists the survivors and `.venv/bin/mutmut show NAME` one of
# them. The table: per module, mutants killed (a test failed, or the mutant made the tests run
# past their time limit) and survived (every test passed, or no test reaches the code), and the
# score, killed / (killed + survived), over the modules' mutants that were run.
set -euo pipefail
cd "$(dirname "$0")/.."
mutmut() { nice -n 19 .venv/bin/mutmut run --max-children "${MUTMUT_CHILDREN:-$(nproc)}" "$@"; }
if [[ "${1:-}" != "--score" ]]; then
    bash scripts/setup.sh --dev
    .venv/bin/python -m pip install --quiet "mutmut>=3.8,<4"
fi
if [[ "${1:-}" == "--sample" ]]; then
    compgen -G "mutants/bulletin/*/*.meta" >/dev/null || mutmut 'bulletin.script.model.*'
    mapfile -t chosen < <(.venv/bin/python - "${2:?--sample needs a count}" "${3:-1}" <<'PY'
import json, pathlib, random, sys
names = sorted(key for meta in pathlib.Path("mutants").rglob("*.meta")
               for key in json.loads(meta.read_text()).get("exit_code_by_key", {}))
for name in random.Random(int(sys.argv[2])).sample(names, min(int(sys.argv[1]), len(names))):
    print(name)
PY
    )
    mutmut "${chosen[@]}"
elif [[ "${1:-}" != "--score" ]]; then
    mutmut "$@"
fi
.venv/bin/python - <<'PY'
import collections, json, pathlib
from mutmut.stats import status_by_exit_code

KILLED, SURVIVED = ("killed", "timeout", "segfault"), ("survived", "no tests")
counts = collections.defaultdict(collections.Counter)
for meta in sorted(pathlib.Path("mutants").rglob("*.meta")):
    module = str(meta.relative_to("mutants")).removesuffix(".py.meta").replace("/", ".")
    for code in json.loads(meta.read_text()).get("exit_code_by_key", {}).values():
        status = status_by_exit_code[code]
        counts[module]["killed" if status in KILLED else "survived" if status in SURVIVED else status] += 1

def row(name: str, c: collections.Counter) -> str:
    tried = c["killed"] + c["survived"]
    other = ", ".join(f"{n} {k}" for k, n in sorted(c.items()) if k not in ("killed", "survived"))
    return f"{name:36} {c['killed']:5} killed {c['survived']:5} survived {100 * c['killed'] / max(tried, 1):6.1f}%  {other}"

total = collections.Counter()
for module, c in sorted(counts.items()):
    if c["killed"] + c["survived"]:
        total += c
        print(row(module, c))
print(row("all run", total))
tried, killed = total["killed"] + total["survived"], total["killed"]
if tried:  # Wilson score interval: what the score of every mutant is likely to be, from these
    z, p = 1.96, killed / tried
    mid, half = (p + z * z / (2 * tried)), z * (p * (1 - p) / tried + z * z / (4 * tried * tried)) ** 0.5
    low, high = ((mid - half) / (1 + z * z / tried), (mid + half) / (1 + z * z / tried))
    print(f"score {100 * p:.1f}% of {tried} mutants run (95% interval {100 * low:.1f}-{100 * high:.1f}%)")
PY
