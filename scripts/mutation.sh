#!/usr/bin/env bash
# Mutation testing of the core stages (story loading, casting, takes, timeline, mixing and
# mastering, export) with mutmut: each mutant is a small change to the code (a flipped
# comparison, a changed constant, a dropped argument) that the test suite should notice.
# Slow (hours for every module on two cores), so not part of scripts/test.sh.
#
#   bash scripts/mutation.sh                        # every core module
#   bash scripts/mutation.sh 'bulletin.mix.timeline*'   # mutants whose names match
#
# Then `.venv/bin/mutmut results` lists the survivors and `.venv/bin/mutmut show NAME` one of
# them. The modules and options are in pyproject.toml under [tool.mutmut].
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/python -m pip install --quiet "mutmut>=3.3"
.venv/bin/mutmut run --max-children "$(nproc)" "$@"
.venv/bin/python - <<'PY'
# the score: killed / (killed + survived), per module
import collections, json, pathlib
counts = collections.defaultdict(collections.Counter)
for meta in pathlib.Path("mutants").rglob("*.meta"):
    data = json.loads(meta.read_text())
    module = str(meta.relative_to("mutants")).removesuffix(".py.meta").replace("/", ".")
    for name, code in data.get("exit_code_by_key", {}).items():
        counts[module]["killed" if code not in (0, None) else ("survived" if code == 0 else "not run")] += 1
total = collections.Counter()
for module, c in sorted(counts.items()):
    total += c
    tried = c["killed"] + c["survived"]
    if tried:
        print(f"{module:40} {c['killed']:5} killed {c['survived']:5} survived  {100 * c['killed'] / tried:5.1f}%")
tried = total["killed"] + total["survived"]
print(f"{'all':40} {total['killed']:5} killed {total['survived']:5} survived  {100 * total['killed'] / max(tried, 1):5.1f}%")
PY
