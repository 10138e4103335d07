"""Shared fixtures for the Python end-to-end tests: where the shared corpus and the Swift tools are."""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def shared_dir():
    env = os.environ.get("GRAPHSMITH_SHARED")
    p = pathlib.Path(env) if env else (REPO / ".." / "shared").resolve()
    return p if p.exists() else None


def swift_tool(name):
    """Path of a SwiftPM-built executable ($GRAPHSMITH_BIN_DIR, else .build/{release,debug})."""
    dirs = [os.environ.get("GRAPHSMITH_BIN_DIR")] if os.environ.get("GRAPHSMITH_BIN_DIR") else []
    dirs += [REPO / ".build" / "release", REPO / ".build" / "debug"]
    for d in dirs:
        p = pathlib.Path(d) / name
        if p.exists():
            return p
    return None


@pytest.fixture(scope="session")
def onnx_tool():
    p = swift_tool("onnx-tool")
    if p is None:
        pytest.skip("onnx-tool not built (swift build --product onnx-tool)")
    return p
