#!/usr/bin/env bash
# Prove the CrossGuard policy pack imports, wraps every pure policy and serves, in its own
# venv (pulumi-policy pins protobuf~=5.29; the main .venv has protobuf 6). Usage:
#   policy/check.sh            (from anywhere; PYTHON=python3.11 to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-policy/bin/python ]; then
  "$PYTHON" -m venv .venv-policy
fi
.venv-policy/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv-policy/bin/python check_pack.py
