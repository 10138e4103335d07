"""Shape inference of the com.microsoft (contrib) ops onnxruntime's optimizers and quantization
tools write, checked against what onnxruntime actually produces: each case is a one-node model
with static input shapes; onnxruntime runs it and every dim `onnx-tool infer` reports must equal
the output's real size, and the cases' outputs must be fully known (a dim we leave unknown is
listed in UNKNOWN_ON_PURPOSE with the reason). Ops onnxruntime has no CPU kernel for
(BiasAdd, BiasSplitGelu, BiasDropout, com.microsoft LayerNormalization) are covered by
GraphOpsTests/InferenceNewRulesTests instead.
"""
import json
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T, helper as h

MS = "com.microsoft"

def mk(nodes, inputs, outputs, inits=()):
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                     [onnx.ValueInfoProto(name=n) for n in outputs], list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17), h.make_opsetid(MS, 1)], ir_version=8)
    return m

def f(*s): return np.random.default_rng(0).standard_normal(s).astype(np.float32)
def u8(*s): return np.random.default_rng(0).integers(0, 255, s).astype(np.uint8)
def init(name, arr): return onnx.numpy_helper.from_array(np.asarray(arr), name)

def q(name):  # scale and zero point initializers
    return [init(name + "_s", np.float32(0.05)), init(name + "_z", np.uint8(128))]

CASES = {}
def case(fn): CASES[fn.__name__] = fn; return fn

@case
def rotary_embedding():
    n = h.make_node("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"], domain=MS)
    return mk([n], [("x", T.FLOAT, [1, 2, 3, 8]), ("pos", T.INT64, [1, 3])], ["y"],
              [init("cos", f(8, 4)), init("sin", f(8, 4))]), {"x": f(1, 2, 3, 8), "pos": np.array([[0, 1, 2]], np.int64)}

@case
def attention():
    n = h.make_node("Attention", ["x", "w", "b"], ["y", "present"], domain=MS, num_heads=2)
    return mk([n], [("x", T.FLOAT, [2, 3, 8])], ["y", "present"], [init("w", f(8, 24)), init("b", f(24))]), {"x": f(2, 3, 8)}

@case
def attention_qkv_sizes():
    n = h.make_node("Attention", ["x", "w", "b"], ["y"], domain=MS, num_heads=2, qkv_hidden_sizes=[8, 8, 12])
    return mk([n], [("x", T.FLOAT, [2, 3, 8])], ["y"], [init("w", f(8, 28)), init("b", f(28))]), {"x": f(2, 3, 8)}

@case
def group_query_attention():
    n = h.make_node("GroupQueryAttention", ["q", "k", "v", "", "", "seqlens", "total"], ["y", "pk", "pv"], domain=MS,
                    num_heads=2, kv_num_heads=1)
    return mk([n], [("q", T.FLOAT, [1, 3, 16]), ("k", T.FLOAT, [1, 3, 8]), ("v", T.FLOAT, [1, 3, 8])], ["y", "pk", "pv"],
              [init("seqlens", np.array([2], np.int32)), init("total", np.array(3, np.int32))]), \
        {"q": f(1, 3, 16), "k": f(1, 3, 8), "v": f(1, 3, 8)}

@case
def group_query_attention_packed():
    n = h.make_node("GroupQueryAttention", ["qkv", "", "", "", "", "seqlens", "total"], ["y"], domain=MS,
                    num_heads=2, kv_num_heads=1)
    return mk([n], [("qkv", T.FLOAT, [1, 3, 32])], ["y"],
              [init("seqlens", np.array([2], np.int32)), init("total", np.array(3, np.int32))]), {"qkv": f(1, 3, 32)}

@case
def embed_layernorm():
    n = h.make_node("EmbedLayerNormalization", ["ids", "seg", "we", "pe", "se", "g", "b"], ["y", "mask", "sum"], domain=MS)
    return mk([n], [("ids", T.INT32, [2, 3]), ("seg", T.INT32, [2, 3])], ["y", "mask", "sum"],
              [init("we", f(10, 8)), init("pe", f(6, 8)), init("se", f(2, 8)), init("g", f(8)), init("b", f(8))]), \
        {"ids": np.array([[1, 2, 3], [4, 5, 6]], np.int32), "seg": np.zeros((2, 3), np.int32)}

def qbin(op):
    n = h.make_node(op, ["a", "a_s", "a_z", "b", "b_s", "b_z", "y_s", "y_z"], ["y"], domain=MS)
    return mk([n], [("a", T.UINT8, [2, 3, 4]), ("b", T.UINT8, [4])], ["y"], q("a") + q("b") + q("y")), {"a": u8(2, 3, 4), "b": u8(4)}

@case
def qlinear_add(): return qbin("QLinearAdd")

@case
def qlinear_mul(): return qbin("QLinearMul")

def qunary(op, **attrs):
    n = h.make_node(op, ["x", "x_s", "x_z", "y_s", "y_z"], ["y"], domain=MS, **attrs)
    return mk([n], [("x", T.UINT8, [2, 3, 4])], ["y"], q("x") + q("y")), {"x": u8(2, 3, 4)}

@case
def qlinear_sigmoid(): return qunary("QLinearSigmoid")

@case
def qlinear_leaky_relu(): return qunary("QLinearLeakyRelu", alpha=0.1)

@case
def qlinear_softmax(): return qunary("QLinearSoftmax", axis=-1, opset=13)

@case
def qlinear_concat():
    n = h.make_node("QLinearConcat", ["y_s", "y_z", "a", "a_s", "a_z", "b", "b_s", "b_z"], ["y"], domain=MS, axis=1)
    return mk([n], [("a", T.UINT8, [2, 3, 4]), ("b", T.UINT8, [2, 5, 4])], ["y"], q("a") + q("b") + q("y")), {"a": u8(2, 3, 4), "b": u8(2, 5, 4)}

@case
def qlinear_average_pool():
    n = h.make_node("QLinearAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"], domain=MS, kernel_shape=[2, 2], strides=[2, 2])
    return mk([n], [("x", T.UINT8, [1, 3, 7, 6])], ["y"], q("x") + q("y")), {"x": u8(1, 3, 7, 6)}

@case
def qlinear_global_average_pool():
    n = h.make_node("QLinearGlobalAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"], domain=MS, channels_last=0)
    return mk([n], [("x", T.UINT8, [1, 3, 7, 6])], ["y"], q("x") + q("y")), {"x": u8(1, 3, 7, 6)}

@case
def qlinear_global_average_pool_nhwc():
    n = h.make_node("QLinearGlobalAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"], domain=MS, channels_last=1)
    return mk([n], [("x", T.UINT8, [1, 7, 6, 3])], ["y"], q("x") + q("y")), {"x": u8(1, 7, 6, 3)}

@case
def qlinear_where():
    n = h.make_node("QLinearWhere", ["c", "x", "x_s", "x_z", "yv", "y_s", "y_z", "z_s", "z_z"], ["z"], domain=MS)
    return mk([n], [("c", T.BOOL, [2, 1, 4]), ("x", T.UINT8, [3, 4]), ("yv", T.UINT8, [2, 3, 1])], ["z"],
              q("x") + q("y") + q("z")), {"c": np.ones((2, 1, 4), bool), "x": u8(3, 4), "yv": u8(2, 3, 1)}

@case
def matmul_nbits():
    n = h.make_node("MatMulNBits", ["a", "b", "s"], ["y"], domain=MS, K=16, N=8, bits=4, block_size=16)
    return mk([n], [("a", T.FLOAT, [2, 5, 16])], ["y"], [init("b", u8(8, 1, 8)), init("s", f(8))]), {"a": f(2, 5, 16)}

@case
def dynamic_quantize_matmul():
    n = h.make_node("DynamicQuantizeMatMul", ["a", "b", "bs"], ["y"], domain=MS)
    return mk([n], [("a", T.FLOAT, [2, 3, 4])], ["y"], [init("b", np.ones((4, 5), np.int8)), init("bs", np.array([0.1], np.float32))]), {"a": f(2, 3, 4)}

@case
def matmul_integer_to_float():
    n = h.make_node("MatMulIntegerToFloat", ["a", "b", "as", "bs"], ["y"], domain=MS)
    return mk([n], [("a", T.UINT8, [2, 4])], ["y"], [init("b", u8(4, 5)), init("as", np.array([0.1], np.float32)),
                                                   init("bs", np.array([0.2], np.float32))]), {"a": u8(2, 4)}



# (case, output index) -> why the dim stays unknown; empty: every case is fully inferred.
UNKNOWN_ON_PURPOSE = {}


@pytest.mark.parametrize("name", sorted(CASES))
def test_contrib_shapes_match_onnxruntime(name, onnx_tool, tmp_path):
    import onnxruntime as ort
    model, feeds = CASES[name]()
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    actual = [list(o.shape) for o in sess.run(None, feeds)]
    out = subprocess.run([str(onnx_tool), "infer", str(path), "--json"], check=True, capture_output=True, text=True, timeout=60)
    result = json.loads(out.stdout)
    assert not result.get("problems"), result.get("problems")
    for k, o in enumerate(model.graph.output):
        ours = (result["values"].get(o.name) or {}).get("dims")
        assert ours is not None, f"{name}: no shape for output {k} ('{o.name}'); onnxruntime gives {actual[k]}"
        assert len(ours) == len(actual[k]), f"{name} output {k}: ours {ours}, onnxruntime {actual[k]}"
        for i, (d, a) in enumerate(zip(ours, actual[k])):
            if d is None:
                assert (name, k) in UNKNOWN_ON_PURPOSE, f"{name} output {k} dim {i} unknown; onnxruntime gives {a}"
            else:
                assert d == a, f"{name} output {k}: ours {ours}, onnxruntime {actual[k]}"
