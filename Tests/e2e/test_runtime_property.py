"""Property test: random small graphs built with onnx.helper (chains of unary, broadcasting
binary, reduction, softmax, normalization, transpose/reshape, MatMul and Gemm nodes over
random shapes), run by runtime-tool and by onnxruntime on the same random inputs, agree
within rtol 1e-3 / atol 1e-4. Each seed builds one graph; a failure names the seed, so it
can be replayed."""
import subprocess

import numpy as np
import pytest

from onnx_support import swift_tool

TOOL = swift_tool("runtime-tool")
pytestmark = pytest.mark.skipif(TOOL is None, reason="needs a built runtime-tool")

UNARY = ["Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Sin", "Cos", "Softsign", "Erf", "Floor", "Ceil", "HardSwish"]
BINARY = ["Add", "Sub", "Mul", "Max", "Min"]
REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceLogSumExp"]


def build(seed):
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(1, 6, size=rank)]
    nodes, inits, feeds = [], [], {}
    x = rng.standard_normal(shape).astype(np.float32)
    feeds["x"] = x
    cur, cur_shape, k = "x", list(shape), 0

    def name():
        nonlocal k
        k += 1
        return f"v{k}"

    for _ in range(int(rng.integers(2, 8))):
        kind = rng.choice(["unary", "binary", "reduce", "softmax", "transpose", "matmul", "layernorm"])
        out = name()
        if kind == "unary":
            nodes.append(helper.make_node(str(rng.choice(UNARY)), [cur], [out]))
        elif kind == "binary":
            # The other operand broadcasts: a random suffix of the shape with some dims set to 1.
            n = int(rng.integers(0, len(cur_shape) + 1))
            other = [d if rng.random() < 0.6 else 1 for d in cur_shape[len(cur_shape) - n:]]
            w = name()
            inits.append(onnx.numpy_helper.from_array(rng.standard_normal(other).astype(np.float32), w))
            args = [cur, w] if rng.random() < 0.5 else [w, cur]
            nodes.append(helper.make_node(str(rng.choice(BINARY)), args, [out]))
        elif kind == "reduce" and cur_shape:
            axes = sorted(set(int(a) for a in rng.integers(0, len(cur_shape), size=int(rng.integers(1, len(cur_shape) + 1)))))
            keep = int(rng.integers(0, 2))
            a = name()
            inits.append(onnx.numpy_helper.from_array(np.array(axes, dtype=np.int64), a))
            nodes.append(helper.make_node(str(rng.choice(REDUCE)), [cur, a], [out], keepdims=keep))
            cur_shape = [1 if i in axes else d for i, d in enumerate(cur_shape)] if keep else \
                [d for i, d in enumerate(cur_shape) if i not in axes]
        elif kind == "softmax" and cur_shape:
            op = str(rng.choice(["Softmax", "LogSoftmax"]))
            nodes.append(helper.make_node(op, [cur], [out], axis=int(rng.integers(-len(cur_shape), len(cur_shape)))))
        elif kind == "transpose" and len(cur_shape) >= 2:
            perm = [int(p) for p in rng.permutation(len(cur_shape))]
            nodes.append(helper.make_node("Transpose", [cur], [out], perm=perm))
            cur_shape = [cur_shape[p] for p in perm]
        elif kind == "matmul" and len(cur_shape) >= 1:
            n = int(rng.integers(1, 6))
            w = name()
            inits.append(onnx.numpy_helper.from_array(rng.standard_normal([cur_shape[-1], n]).astype(np.float32), w))
            nodes.append(helper.make_node("MatMul", [cur, w], [out]))
            cur_shape = cur_shape[:-1] + [n]
        elif kind == "layernorm" and cur_shape:
            s, b = name(), name()
            inits.append(onnx.numpy_helper.from_array(rng.standard_normal(cur_shape[-1:]).astype(np.float32), s))
            inits.append(onnx.numpy_helper.from_array(rng.standard_normal(cur_shape[-1:]).astype(np.float32), b))
            nodes.append(helper.make_node("LayerNormalization", [cur, s, b], [out], axis=-1))
        else:
            nodes.append(helper.make_node("Identity", [cur], [out]))
        cur = out
    graph = helper.make_graph(nodes, f"random_{seed}",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(cur, TensorProto.FLOAT, cur_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, feeds


@pytest.mark.parametrize("seed", range(100))
def test_random_graph_agrees_with_onnxruntime(seed, tmp_path):
    import onnx
    import onnxruntime as ort

    model, feeds = build(seed)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    np.save(tmp_path / "x.npy", feeds["x"])
    p = subprocess.run([str(TOOL), "run", str(path), f"x={tmp_path / 'x.npy'}", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"seed {seed}: {p.stderr}"
    got = np.load(tmp_path / "out_0.npy")
    assert got.shape == want.shape, f"seed {seed}"
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4, err_msg=f"seed {seed}")
