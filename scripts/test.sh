#!/usr/bin/env bash
# Run the test suite (installs the project and its test tools into .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/python -m ruff check .
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
.venv/bin/vulture bulletin scripts/vulture_whitelist.py --min-confidence 60
.venv/bin/python -m pytest -q "$@"
