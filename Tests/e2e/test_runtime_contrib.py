"""com.microsoft contrib ops (the ones onnxruntime's optimizers emit and GraphRuntime runs):
small onnx.helper graphs run by runtime-tool and by onnxruntime on the same random inputs
agree within rtol 1e-3 / atol 1e-4."""
import subprocess

import numpy as np
import pytest

from onnx_support import swift_tool

TOOL = swift_tool("runtime-tool")
pytestmark = pytest.mark.skipif(TOOL is None, reason="needs a built runtime-tool")

R = np.random.default_rng(7)


def f32(*shape):
    return R.standard_normal(shape).astype(np.float32)


CASES = {
    "gelu": ("Gelu", {"x": f32(2, 3, 8)}, {}, {}),
    "quick_gelu": ("QuickGelu", {"x": f32(2, 8)}, {}, {"alpha": 1.5}),
    "fast_gelu_bias": ("FastGelu", {"x": f32(2, 3, 8)}, {"b": f32(8)}, {}),
    "bias_gelu": ("BiasGelu", {"x": f32(4, 8)}, {"b": f32(8)}, {}),
    "fused_matmul": ("FusedMatMul", {"a": f32(2, 5, 4)}, {"w": f32(3, 4)}, {"alpha": 0.5, "transB": 1}),
    "fused_matmul_transA": ("FusedMatMul", {"a": f32(4, 5)}, {"w": f32(4, 3)}, {"transA": 1}),
    "fused_gemm_relu": ("FusedGemm", {"a": f32(4, 6)}, {"w": f32(6, 5), "c": f32(5)}, {"activation": "Relu"}),
    "fused_gemm_leaky": ("FusedGemm", {"a": f32(4, 6)}, {"w": f32(5, 6), "c": f32(5)},
                         {"activation": "LeakyRelu", "activation_alpha": 0.2, "transB": 1}),
    "fused_conv_relu": ("FusedConv", {"x": f32(1, 3, 8, 8)}, {"w": f32(4, 3, 3, 3), "b": f32(4)},
                        {"activation": "Relu", "pads": [1, 1, 1, 1]}),
    "fused_conv_clip": ("FusedConv", {"x": f32(1, 2, 6, 6)}, {"w": f32(2, 1, 3, 3)},
                        {"activation": "Clip", "activation_params": [-0.5, 0.5], "group": 2}),
    "skip_layer_norm": ("SkipLayerNormalization", {"x": f32(2, 3, 8), "skip": f32(2, 3, 8)},
                        {"gamma": f32(8), "beta": f32(8), "bias": f32(8)}, {"epsilon": 1e-5}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_contrib_op_agrees_with_onnxruntime(case, tmp_path):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    op, feeds, weights, attrs = CASES[case]
    node = helper.make_node(op, list(feeds) + list(weights), ["y"], domain="com.microsoft", **attrs)
    graph = helper.make_graph(
        [node], case,
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in feeds.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    args = [str(TOOL), "run", str(path)]
    for k, v in feeds.items():
        np.save(tmp_path / f"{k}.npy", v)
        args.append(f"{k}={tmp_path / f'{k}.npy'}")
    p = subprocess.run(args + ["--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = np.load(tmp_path / "out_0.npy")
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def _run_both(tmp_path, model, feeds):
    import onnx
    import onnxruntime as ort

    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    args = [str(TOOL), "run", str(path)]
    for k, v in feeds.items():
        np.save(tmp_path / f"{k}.npy", v)
        args.append(f"{k}={tmp_path / f'{k}.npy'}")
    p = subprocess.run(args + ["--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return np.load(tmp_path / "out_0.npy"), want


@pytest.mark.parametrize("extra", ["none", "attention_bias", "broadcast_bias", "packed_bias", "padding_mask"])
def test_multi_head_attention_agrees_with_onnxruntime(extra, tmp_path):
    """com.microsoft MultiHeadAttention (what fuse-attention writes for target=ort): 3-D query,
    key and value with 4 heads, and the optional packed bias, key_padding_mask and attention_bias."""
    from onnx import TensorProto, helper

    feeds = {"q": f32(2, 5, 16), "k": f32(2, 6, 16), "v": f32(2, 6, 8)}
    inputs = ["q", "k", "v"]
    if extra == "packed_bias":
        feeds["bias"] = f32(40)
        inputs.append("bias")
    if extra == "padding_mask":
        feeds["pad"] = np.array([[1, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1]], np.int32)
        inputs += ["", "pad"]
    if extra in ("attention_bias", "broadcast_bias"):
        feeds["ab"] = f32(2, 4, 5, 6) if extra == "attention_bias" else f32(1, 1, 5, 6)
        inputs += ["", "", "ab"]
    node = helper.make_node("MultiHeadAttention", inputs, ["y"], domain="com.microsoft", num_heads=4, scale=0.4)
    types = {"pad": TensorProto.INT32}
    graph = helper.make_graph([node], "mha", [helper.make_tensor_value_info(k, types.get(k, TensorProto.FLOAT), v.shape) for k, v in feeds.items()],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    got, want = _run_both(tmp_path, model, feeds)
    assert got.shape == want.shape == (2, 5, 8)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_attention_row_masked_everywhere_is_zero_as_in_onnxruntime(tmp_path):
    """ONNX Attention (opset 23) with an additive -inf mask covering one query row: onnxruntime
    gives zeros there (the SDPA export's NaN guard gives the same), and so does the interpreter."""
    from onnx import TensorProto, helper

    mask = np.zeros((2, 1, 5, 5), np.float32)
    mask[0, 0, 2, :] = -np.inf
    mask[1, 0, :, 4] = -np.inf
    feeds = {"q": f32(2, 5, 16), "k": f32(2, 5, 16), "v": f32(2, 5, 16), "m": mask}
    node = helper.make_node("Attention", list(feeds), ["y"], q_num_heads=4, kv_num_heads=4, scale=0.3)
    graph = helper.make_graph([node], "att", [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in feeds.items()],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    model.ir_version = 10
    got, want = _run_both(tmp_path, model, feeds)
    assert np.all(want[0, 2] == 0) and np.all(got[0, 2] == 0)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
