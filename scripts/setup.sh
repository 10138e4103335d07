#!/usr/bin/env bash
# Sets up Graphsmith from a clean clone (idempotent; safe to re-run):
#   system packages, a Python venv (.venv) from requirements.txt, a release build,
#   `graphsmith install --user`, the papermill translator, and a headless run of
#   notebooks/tour.ipynb to HTML.
# Options:
#   --lab      open JupyterLab at the end
#   --ci       no JupyterLab, and a missing tour notebook is not an error
#   --no-apt   skip apt-get (packages already present)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

LAB=0; CI_MODE=0; APT=1
for arg in "$@"; do
  case "$arg" in
    --lab) LAB=1 ;;
    --ci) CI_MODE=1 ;;
    --no-apt) APT=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
[ "${CI:-}" = "true" ] && CI_MODE=1

step() { printf '\n==> %s\n' "$*"; }

# 1. System packages (only what is missing; sudo only when not root).
# chromium: the end-to-end tests of the HTML graph viewer and of JupyterLab drive it headless;
# libopenblas-dev: BLAS for GraphRuntime's matrix products (COpenBLAS);
# zlib1g-dev: inflating np.savez_compressed inputs (CZlib);
# chromium-driver: selenium drives it in the JupyterLab test (Tests/e2e/test_jupyterlab.py).
PACKAGES=(libzmq3-dev libssl-dev libopenblas-dev zlib1g-dev pkg-config graphviz librsvg2-bin libxml2-utils python3-venv python3-pip chromium chromium-driver)
if [ "$APT" = 1 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# 2. Python environment.
step "Python venv .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q --no-build-isolation ./python/graphsmith_papermill

# 3. Release build and kernelspec.
step "swift build -c release"
swift build -c release --product graphsmith
BIN="$ROOT/.build/release/graphsmith"
step "graphsmith install --user"
"$BIN" install --user
.venv/bin/jupyter kernelspec list

# 4. The tour notebook, executed headlessly to HTML.
TOUR=notebooks/tour.ipynb
if [ -f "$TOUR" ]; then
  step "execute $TOUR -> out/tour.html"
  mkdir -p out
  .venv/bin/jupyter nbconvert --execute --to html --ExecutePreprocessor.kernel_name=graphsmith \
    --output-dir out "$TOUR"
elif [ "$CI_MODE" = 1 ]; then
  echo "(no $TOUR yet; skipped)"
else
  echo "setup.sh: $TOUR is missing" >&2
  exit 1
fi

if [ "$LAB" = 1 ] && [ "$CI_MODE" = 0 ]; then
  step "JupyterLab"
  exec .venv/bin/jupyter lab --notebook-dir "$ROOT/notebooks"
fi
echo "Graphsmith is ready: $BIN"
