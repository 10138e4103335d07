"""End-to-end test setup: install the freshly built kernel into a private kernelspec dir.

The binary is $GRAPHSMITH_BIN, else .build/release/graphsmith, else .build/debug/graphsmith
(whichever is newer). It is installed with `graphsmith install --prefix <tmp>` and
JUPYTER_PATH points there before any test imports jupyter_client machinery, so the tests
never depend on the user's own Jupyter setup.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _find_binary() -> pathlib.Path:
    explicit = os.environ.get("GRAPHSMITH_BIN")
    if explicit:
        return pathlib.Path(explicit).resolve()
    candidates = [REPO / ".build" / kind / "graphsmith" for kind in ("release", "debug")]
    existing = [c for c in candidates if c.exists()]
    if not existing:
        raise RuntimeError("no graphsmith binary: run `swift build` first or set GRAPHSMITH_BIN")
    return max(existing, key=lambda c: c.stat().st_mtime).resolve()


GRAPHSMITH = _find_binary()
_PREFIX = pathlib.Path(tempfile.mkdtemp(prefix="graphsmith-e2e-"))
subprocess.run([str(GRAPHSMITH), "install", "--prefix", str(_PREFIX)], check=True, capture_output=True)
KERNELSPEC_DIR = _PREFIX / "share" / "jupyter"
os.environ["JUPYTER_PATH"] = str(KERNELSPEC_DIR) + os.pathsep + os.environ.get("JUPYTER_PATH", "")
# Keep jupyter's runtime files (connection files) out of the user's home.
os.environ.setdefault("JUPYTER_RUNTIME_DIR", str(_PREFIX / "runtime"))
# Kernels keep their session journals here, not in ~/.local/state/graphsmith.
os.environ.setdefault("GRAPHSMITH_STATE_DIR", str(_PREFIX / "state"))
# Kernels killed by other tests leave unclosed journals whose restore notice would show in unrelated
# tests; only the journal tests turn it on (GRAPHSMITH_JOURNAL=on in their kernels' environment).
os.environ.setdefault("GRAPHSMITH_JOURNAL", "off")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_PREFIX, ignore_errors=True)


@pytest.fixture(scope="session")
def graphsmith_bin() -> pathlib.Path:
    return GRAPHSMITH


@pytest.fixture(scope="session")
def kernelspec_dir() -> pathlib.Path:
    return KERNELSPEC_DIR


@pytest.fixture(scope="session")
def onnx_tool() -> pathlib.Path:
    """The onnx-tool executable (ONNX round-trip / Model Explorer export CLI)."""
    from onnx_support import swift_tool

    p = swift_tool("onnx-tool")
    if p is None and shutil.which("swift"):
        # CI builds only graphsmith before pytest: build the small ONNX CLI on demand.
        subprocess.run(["swift", "build", "--product", "onnx-tool"], cwd=REPO, check=True, capture_output=True)
        p = swift_tool("onnx-tool")
    if p is None:
        pytest.skip("onnx-tool not built (swift build --product onnx-tool)")
    return p
