#!/usr/bin/env bash
# Render the example bulletin (the KBS GSOMIA report of 2019-11-22) into output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m bulletin render examples/gsomia/story.yaml -o output "$@"
