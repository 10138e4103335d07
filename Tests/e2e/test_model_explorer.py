"""Model Explorer export checked by shared/formats/model-explorer-validate.py (Model Explorer's own
dataclasses and layout worker). Skips when ai-edge-model-explorer or node is not installed."""
import glob
import importlib.util
import pathlib
import shutil
import subprocess
import sys

import pytest

from onnx_support import REPO, shared_dir

SHARED = shared_dir()
VALIDATOR = SHARED / "formats/model-explorer-validate.py" if SHARED else None
FIXTURES = sorted(glob.glob(str(REPO / "Tests/GraphFormatsTests/Fixtures/*.onnx")))
CORPUS = sorted(glob.glob(str(SHARED / "corpus/models/*.onnx"))) if SHARED else []

needs_me = pytest.mark.skipif(
    VALIDATOR is None or not VALIDATOR.exists() or importlib.util.find_spec("model_explorer") is None
    or shutil.which("node") is None,
    reason="model-explorer validator, ai-edge-model-explorer or node missing")


@needs_me
@pytest.mark.parametrize("model", FIXTURES + CORPUS, ids=lambda p: pathlib.Path(p).stem)
def test_export_passes_model_explorer_validator(onnx_tool, tmp_path, model):
    graph_json, nd_json = tmp_path / "g.json", tmp_path / "nd.json"
    subprocess.run([str(onnx_tool), "me", model, str(graph_json), "--node-data", str(nd_json)],
                   check=True, capture_output=True, timeout=120)
    r = subprocess.run([sys.executable, str(VALIDATOR), str(graph_json), str(nd_json)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "RESULT: ok" in r.stdout
