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

# The end-to-end suite drives the release build, the one `graphsmith install` ships and the
# benchmarks time (a no-op after setup.sh built it; on a work tree it rebuilds what changed).
# Debug builds run the kernel's graph commands 5-10x slower, which was most of this suite's
# 20 minutes; `swift test` above keeps the debug-only assertions covered.
echo "==> swift build -c release"
swift build -c release
BIN_DIR=$(swift build -c release --show-bin-path)

echo "==> pytest Tests/e2e"
GRAPHSMITH_BIN="$BIN_DIR/graphsmith" GRAPHSMITH_BIN_DIR="$BIN_DIR" "$PY" -m pytest -q Tests/e2e "$@"
