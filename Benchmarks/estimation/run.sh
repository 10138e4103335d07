#!/usr/bin/env bash
# Estimation benchmark: our figures and the peer's (onnx-tool 1.0.1) in one run.
#   Benchmarks/estimation/run.sh [corpus dir]     (default ../shared/corpus)
# Needs: swift, and a python with onnx, numpy, onnx-tool==1.0.1 and tabulate for the peer side
# (PYTHON=/path/to/python; default /work/main/.venv/bin/python, else python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS="${1:-../shared/corpus}"
PY="${PYTHON:-/work/main/.venv/bin/python}"; [ -x "$PY" ] || PY=python3
SYN="${TMPDIR:-/tmp}/graphsmith-synthetic-10k.onnx"
swift build -c release --product estimate-bench 2>&1 | tail -1
BIN=.build/release/estimate-bench
$BIN --write-synthetic "$SYN"
echo "### ours (estimate-bench, release)"
$BIN --model "$SYN" --corpus "$CORPUS" --runs 20
echo
echo "### peer (onnx-tool 1.0.1) on the same files"
if "$PY" -c "import onnx_tool" 2>/dev/null; then
  "$PY" Benchmarks/estimation/peer_onnx_tool.py --synthetic "$SYN" --corpus "$CORPUS" --runs 3
else
  echo "onnx-tool not installed for $PY; skipped"
fi
