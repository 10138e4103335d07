#!/usr/bin/env bash
# Draws every corpus ONNX model with GraphRenderer (default collapsed view as SVG + HTML, and
# fully expanded SVG), checks each SVG with xmllint, and converts them to PNG with rsvg-convert.
# Usage: scripts/render_corpus.sh [OUT_DIR]   (corpus: $CORPUS or ../shared/corpus/models)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-.build/render-corpus}"
CORPUS="${CORPUS:-../shared/corpus/models}"
if [ ! -d "$CORPUS" ]; then echo "no corpus at $CORPUS; nothing to draw"; exit 0; fi
mkdir -p "$OUT"
swift build -c release --product render-bench
ARGS=()
for m in "$CORPUS"/*.onnx "$CORPUS"/light/*.onnx; do [ -f "$m" ] && ARGS+=(--render "$m"); done
.build/release/render-bench "${ARGS[@]}" --out "$OUT"
for svg in "$OUT"/*.svg; do
  xmllint --noout "$svg"
  if command -v rsvg-convert >/dev/null; then
    # Very tall drawings are scaled down so the PNG stays viewable.
    rsvg-convert --width 1600 --keep-aspect-ratio "$svg" -o "${svg%.svg}.png" || rsvg-convert -z 0.5 "$svg" -o "${svg%.svg}.png"
  fi
done
echo "drawings in $OUT (all SVGs passed xmllint)"
