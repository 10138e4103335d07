"""Cross-checks of the Swift ONNX reader/writer against the onnx package and onnxruntime.

* every corpus model: load+save (inline and with external data) is accepted by
  onnx.checker.check_model(full_check=True) and onnxruntime gives bit-identical outputs on the
  corpus reference inputs;
* every ONNX backend node test model: the saved file is protobuf-equal to the original.
"""
import glob
import os
import pathlib
import subprocess

import numpy as np
import onnx
import pytest

from onnx_support import reference_feeds, shared_dir

SHARED = shared_dir()
CORPUS = sorted(glob.glob(str(SHARED / "corpus/models/*.onnx")) + glob.glob(str(SHARED / "corpus/models/light/*.onnx"))) if SHARED else []
NODE_TESTS = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node/*/model.onnx")))


def roundtrip(tool, src, dst, external=False):
    cmd = [str(tool), "roundtrip", str(src), str(dst)] + (["--external"] if external else [])
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def run_ort(path, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


@pytest.mark.skipif(not CORPUS, reason="shared corpus not present")
@pytest.mark.parametrize("external", [False, True], ids=["inline", "external"])
@pytest.mark.parametrize("model", CORPUS, ids=lambda p: pathlib.Path(p).stem)
def test_corpus_model_checker_and_bit_identical_outputs(onnx_tool, tmp_path, model, external):
    out = tmp_path / "saved.onnx"
    roundtrip(onnx_tool, model, out, external)
    onnx.checker.check_model(str(out), full_check=True)
    if external:
        assert (tmp_path / "saved.onnx.data").exists() or os.path.getsize(out) < 1 << 20
    a, b = onnx.load(model), onnx.load(str(out))
    assert a.graph == b.graph if not external else len(a.graph.node) == len(b.graph.node)
    feeds = reference_feeds(model)
    if feeds is None:
        pytest.skip("no reference inputs")
    want = run_ort(model, feeds)
    got = run_ort(out, feeds)
    assert len(want) == len(got)
    for x, y in zip(want, got):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), "outputs are not bit-identical"


@pytest.mark.skipif(not NODE_TESTS, reason="onnx backend node tests not installed")
def test_node_test_models_protobuf_equal(onnx_tool, tmp_path):
    mismatched, checker_regressions = [], []
    for i, model in enumerate(NODE_TESTS):
        out = tmp_path / f"m{i}.onnx"
        roundtrip(onnx_tool, model, out)
        a, b = onnx.load(model), onnx.load(str(out))
        if a != b:
            mismatched.append(model)
            continue
        try:
            onnx.checker.check_model(a)
        except Exception:
            continue
        try:
            onnx.checker.check_model(b)
        except Exception:
            checker_regressions.append(model)
    assert not mismatched, mismatched[:5]
    assert not checker_regressions, checker_regressions[:5]
