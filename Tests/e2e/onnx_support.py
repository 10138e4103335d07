"""Helpers for the ONNX / Model Explorer end-to-end tests: where the shared corpus and the
Swift tools are."""
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]


def shared_dir():
    """../shared from the repo root, or $GRAPHSMITH_SHARED; None when absent."""
    env = os.environ.get("GRAPHSMITH_SHARED")
    p = pathlib.Path(env) if env else (REPO / ".." / "shared").resolve()
    return p if p.exists() else None


def swift_tool(name):
    """Path of a SwiftPM-built executable ($GRAPHSMITH_BIN_DIR, else the newest of .build/{release,debug})."""
    if os.environ.get("GRAPHSMITH_BIN_DIR"):
        p = pathlib.Path(os.environ["GRAPHSMITH_BIN_DIR"]) / name
        return p if p.exists() else None
    found = [REPO / ".build" / k / name for k in ("release", "debug")]
    found = [p for p in found if p.exists()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None
