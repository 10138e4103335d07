#!/usr/bin/env bash
# Runs every test: `swift test`, then the end-to-end pytest suite in Tests/e2e against
# the freshly built binary, which the suite installs into a temporary kernelspec dir
# (JUPYTER_PATH), so it never depends on the user's own Jupyter setup.
# Extra arguments go to pytest (e.g. scripts/test.sh -k robustness).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python

echo "==> swift test"
swift test

echo "==> swift build --product graphsmith"
swift build --product graphsmith
BIN_DIR=$(swift build --show-bin-path)

echo "==> pytest Tests/e2e"
GRAPHSMITH_BIN="$BIN_DIR/graphsmith" "$PY" -m pytest -q Tests/e2e "$@"
