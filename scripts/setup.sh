#!/usr/bin/env bash
# Create .venv at the repository root if it is missing and install bulletin into it.
# Needs only Python 3.11+ (no apt): espeak-ng comes from PyPI (espeakng-loader).
# `setup.sh --dev` adds the test tools and, where it installs, the optional neural voice.
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
    # optional: its tests skip, saying why, where it cannot be installed
    .venv/bin/python -m pip install --quiet -e ".[neural]" \
      || echo "note: the optional neural voice (piper-tts) could not be installed; its tests will skip"
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  touch "$stamp"
fi
