"""Builds the small models the notebooks use, with real (deterministic) weights.

tiny_bert.onnx: a 2-layer BERT-style text classifier (hidden 64, 4 heads, vocab 1000),
exported the way torch's TorchScript exporter names nodes (`/encoder/layer.0/attention/
self/query/MatMul`), so the module hierarchy is visible. Inputs have symbolic `batch`
and `seq` dims.

broken.onnx: a small conv block with the mistakes `check` finds: an illegal attribute value
(MaxPool auto_pad "SAME"), a misspelled attribute (`kernal_shape`), and an Add whose operands
cannot broadcast (4 channels plus a 5-channel bias). Its input has a symbolic `batch` dim.
Run: python notebooks/models/make_models.py
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261121)

HIDDEN, HEADS, LAYERS, VOCAB, FFN, MAXPOS, CLASSES = 64, 4, 2, 1000, 256, 128, 3
HEAD_DIM = HIDDEN // HEADS

nodes, inits = [], []


def weight(name, *shape, scale=0.05):
    inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
    return name


def const(name, array):
    inits.append(numpy_helper.from_array(np.asarray(array), name))
    return name


def node(op, scope, inputs, n_out=1, **attrs):
    name = f"{scope}/{op}" if scope else f"/{op}"
    # Keep names unique the way exporters do: a numeric suffix.
    base, k = name, 1
    while any(n.name == name for n in nodes):
        name = f"{base}_{k}"
        k += 1
    outs = [f"{name}_output_{i}" for i in range(n_out)]
    nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
    return outs[0] if n_out == 1 else outs


def linear(x, scope, d_in, d_out, prefix):
    w = weight(f"{prefix}.weight", d_in, d_out)
    b = weight(f"{prefix}.bias", d_out, scale=0.01)
    mm = node("MatMul", scope, [x, w])
    return node("Add", scope, [mm, b])


def layer_norm(x, scope, prefix):
    g = const(f"{prefix}.weight", np.ones(HIDDEN, np.float32) + rng.standard_normal(HIDDEN).astype(np.float32) * 0.01)
    b = const(f"{prefix}.bias", rng.standard_normal(HIDDEN).astype(np.float32) * 0.01)
    return node("LayerNormalization", scope, [x, g, b], axis=-1, epsilon=1e-12)


shape_heads = const("shape_heads", np.array([0, 0, HEADS, HEAD_DIM], np.int64))
shape_merge = const("shape_merge", np.array([0, 0, HIDDEN], np.int64))
scale = const("attention_scale", np.array(np.sqrt(HEAD_DIM), np.float32))

# Embeddings
ids = "input_ids"
word = node("Gather", "/embeddings/word_embeddings", [weight("embeddings.word_embeddings.weight", VOCAB, HIDDEN), ids])
pos_table = weight("embeddings.position_embeddings.weight", MAXPOS, HIDDEN)
shape = node("Shape", "/embeddings", [ids])
seq_len = node("Gather", "/embeddings", [shape, const("one", np.array(1, np.int64))], axis=0)
positions = node("Range", "/embeddings", [const("zero", np.array(0, np.int64)), seq_len, "one"])
pos = node("Gather", "/embeddings/position_embeddings", [pos_table, positions])
x = node("Add", "/embeddings", [word, pos])
x = layer_norm(x, "/embeddings/LayerNorm", "embeddings.LayerNorm")

for i in range(LAYERS):
    L = f"/encoder/layer.{i}"
    P = f"encoder.layer.{i}"
    heads = []
    for proj in ("query", "key", "value"):
        y = linear(x, f"{L}/attention/self/{proj}", HIDDEN, HIDDEN, f"{P}.attention.self.{proj}")
        y = node("Reshape", f"{L}/attention/self", [y, shape_heads])
        heads.append(node("Transpose", f"{L}/attention/self", [y], perm=[0, 2, 1, 3]))
    q, k, v = heads
    kt = node("Transpose", f"{L}/attention/self", [k], perm=[0, 1, 3, 2])
    scores = node("MatMul", f"{L}/attention/self", [q, kt])
    scores = node("Div", f"{L}/attention/self", [scores, scale])
    probs = node("Softmax", f"{L}/attention/self", [scores], axis=-1)
    ctx = node("MatMul", f"{L}/attention/self", [probs, v])
    ctx = node("Transpose", f"{L}/attention/self", [ctx], perm=[0, 2, 1, 3])
    ctx = node("Reshape", f"{L}/attention/self", [ctx, shape_merge])
    out = linear(ctx, f"{L}/attention/output/dense", HIDDEN, HIDDEN, f"{P}.attention.output.dense")
    out = node("Add", f"{L}/attention/output", [out, x])
    x = layer_norm(out, f"{L}/attention/output/LayerNorm", f"{P}.attention.output.LayerNorm")
    h = linear(x, f"{L}/intermediate/dense", HIDDEN, FFN, f"{P}.intermediate.dense")
    # GELU written out the way exporters do before opset 20: x * 0.5 * (1 + erf(x / sqrt(2)))
    A = f"{L}/intermediate/intermediate_act_fn"
    e = node("Erf", A, [node("Div", A, [h, const(f"{P}.sqrt2", np.array(np.sqrt(2), np.float32))])])
    g = node("Mul", A, [node("Mul", A, [h, node("Add", A, [e, const(f"{P}.one_f", np.array(1, np.float32))])]),
                          const(f"{P}.half", np.array(0.5, np.float32))])
    o = linear(g, f"{L}/output/dense", FFN, HIDDEN, f"{P}.output.dense")
    o = node("Add", f"{L}/output", [o, x])
    x = layer_norm(o, f"{L}/output/LayerNorm", f"{P}.output.LayerNorm")

first = node("Gather", "/pooler", [x, "zero"], axis=1)
pooled = node("Tanh", "/pooler/activation", [node("Gemm", "/pooler/dense", [first, weight("pooler.dense.weight", HIDDEN, HIDDEN), weight("pooler.dense.bias", HIDDEN, scale=0.01)])])
logits = node("Gemm", "/classifier", [pooled, weight("classifier.weight", HIDDEN, CLASSES), weight("classifier.bias", CLASSES, scale=0.01)])
nodes.append(helper.make_node("Softmax", [logits], ["probabilities"], name="/Softmax", axis=-1))

graph = helper.make_graph(
    nodes, "tiny_bert",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", CLASSES])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="graphsmith-notebooks",
                          doc_string="A 2-layer BERT-style classifier with deterministic weights, for the Graphsmith tour.")
model.ir_version = 8
onnx.helper.set_model_props(model, {"task": "text-classification", "hidden": str(HIDDEN), "layers": str(LAYERS)})
model = onnx.shape_inference.infer_shapes(model)
onnx.checker.check_model(model, full_check=True)
path = os.path.join(HERE, "tiny_bert.onnx")
onnx.save(model, path)
print(f"wrote {path}: {len(model.graph.node)} nodes, {sum(np.prod(i.dims) for i in inits):,} parameters, {os.path.getsize(path):,} bytes")


def broken_model():
    """The tour's `check` example (see the module doc); written without onnx's checker, which rejects it."""
    r = np.random.default_rng(7)
    w = lambda name, *shape: numpy_helper.from_array((r.standard_normal(shape) * 0.1).astype(np.float32), name)
    inits = [w("stem.weight", 8, 3, 3, 3), w("head.weight", 4, 8, 1, 1), w("head.bias", 1, 5, 1, 1)]
    nodes = [
        helper.make_node("Conv", ["x", "stem.weight"], ["stem_out"], name="stem/conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["stem_out"], ["stem_act"], name="stem/relu"),
        helper.make_node("MaxPool", ["stem_act"], ["pooled"], name="stem/pool", kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME"),
        helper.make_node("Conv", ["stem_act", "head.weight"], ["head_out"], name="head/conv", kernal_shape=[1, 1]),
        helper.make_node("Add", ["head_out", "head.bias"], ["y"], name="head/add"),
    ]
    graph = helper.make_graph(
        nodes, "broken",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("pooled", TensorProto.FLOAT, None)],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="graphsmith-notebooks")
    m.ir_version = 8
    out = os.path.join(HERE, "broken.onnx")
    onnx.save(m, out)
    print(f"wrote {out}: {len(m.graph.node)} nodes, {os.path.getsize(out):,} bytes")


broken_model()
