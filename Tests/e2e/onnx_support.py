"""Helpers for the ONNX / Model Explorer end-to-end tests: where the shared corpus and the
Swift tools are, and the corpus's reference inputs."""
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


def reference_feeds(model_path):
    """The reference inputs of a corpus model (`in_<i>.npy` per graph input that is not an
    initializer) keyed by input name, or None when it has none. Models under `transformers/`
    keep theirs in a folder named after the model beside it; the others in
    `corpus/reference/<stem>`."""
    import numpy as np
    import onnx

    p = pathlib.Path(model_path)
    shared = shared_dir()
    ref = p.parent / p.stem if p.parent.name == "transformers" else (shared / "corpus/reference" / p.stem if shared else None)
    if ref is None or not ref.exists():
        return None
    m = onnx.load(str(p), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    inputs = [i.name for i in m.graph.input if i.name not in inits]
    feeds = {}
    for i, n in enumerate(inputs):
        f = ref / f"in_{i}.npy"
        if not f.exists():
            return None
        feeds[n] = np.load(f)
    return feeds
