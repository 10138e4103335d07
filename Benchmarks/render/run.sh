#!/usr/bin/env bash
# Rendering benchmark: builds render-bench in release mode and runs it; the bench itself runs
# Graphviz `dot -Tsvg` on the same graphs (exported by GraphRenderer.dot) in the same run.
# Usage: Benchmarks/render/run.sh [render-bench args...]   (e.g. --repeat 5 --dot-timeout 120)
set -euo pipefail
cd "$(dirname "$0")/../.."
EXTRA=()
command -v dot >/dev/null || { echo "graphviz dot is not installed; running without it" >&2; EXTRA=(--no-dot); }
swift build -c release --product render-bench
CORPUS="${CORPUS:-../shared/corpus/models}"
exec .build/release/render-bench --corpus "$CORPUS" "${EXTRA[@]}" "$@"
