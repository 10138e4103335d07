"""`optimize level=extended` on every ONNX corpus model (and the transformer exports): the
exported result passes onnx.checker (full_check), onnxruntime gives the original model's outputs
(rtol 1e-3, atol 1e-4), and top-level non-Constant node counts are printed beside the peer
optimizers' figures (reference JSON `peer_optimizers`). Counts must not regress against
Tests/e2e/pass_expectations.json, and must meet the acceptance (target=onnx: at most the smaller
of onnxsim's and onnxslim's dynamic-shape counts; target=ort: at most onnxruntime extended's)
except where `_not_met` in that file records the model with the reason.
ppocrv4_rec must get its LayerNorm and HardSwish fusions, found by structure, and attention must
be fused on ppocrv4_rec (the SVTR blocks) and on the BERT, ViT, GPT-2 and Llama exports, with onnxruntime and our
interpreter (runtime-tool) still giving the original model's outputs."""

import json
import pathlib
import subprocess
import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from conftest import GRAPHSMITH, REPO
from onnx_support import swift_tool

CORPUS = REPO.parent / "shared" / "corpus"
EXPECT = pathlib.Path(__file__).with_name("pass_expectations.json")


def _models():
    if not CORPUS.exists():
        return []
    found = sorted((CORPUS / "models").glob("*.onnx")) + sorted((CORPUS / "models" / "light").glob("*.onnx"))
    found += sorted((CORPUS / "transformers").glob("*.onnx"))
    return found


def _reference(model: pathlib.Path):
    for p in (CORPUS / "reference" / (model.stem + ".json"), model.with_suffix(".json")):
        if p.exists():
            return json.loads(p.read_text())
    return {}


def _count(m):
    return sum(1 for n in m.graph.node if n.op_type != "Constant")


def _feeds(sess, model, seed=0):
    ref = _reference(model).get("reference_inputs") or []
    base = CORPUS / "reference" if (CORPUS / "reference" / (model.stem + ".json")).exists() else model.parent
    if ref and all((base / r["file"]).exists() for r in ref):
        return {r["name"]: np.load(base / r["file"]) for r in ref}
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        if "int64" in i.type:
            feeds[i.name] = rng.integers(0, 4, size=shape).astype(np.int64)
        elif "int32" in i.type:
            feeds[i.name] = rng.integers(0, 4, size=shape).astype(np.int32)
        elif "bool" in i.type:
            feeds[i.name] = np.ones(shape, dtype=bool)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


ROWS = []


@pytest.mark.parametrize("model", _models(), ids=lambda p: p.stem)
@pytest.mark.parametrize("target", ["onnx", "ort"])
def test_optimize_extended(model, target, tmp_path):
    out = tmp_path / "opt.onnx"
    r = subprocess.run([str(GRAPHSMITH), "run", "-e", f"load {model} as m", "-e", f"optimize level=extended target={target}",
                        "-e", f"export {out}"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    optimized = onnx.load(str(out))
    onnx.checker.check_model(optimized, full_check=True)
    original = onnx.load(str(model))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    a = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(out), so, providers=["CPUExecutionProvider"])
    feeds = _feeds(a, model)
    for x, y in zip(a.run(None, feeds), b.run(None, feeds)):
        np.testing.assert_allclose(y, x, rtol=1e-3, atol=1e-4)
    ours = _count(optimized)
    peers = {k: v.get("nodes_top_level_excluding_Constant") for k, v in _reference(model).get("peer_optimizers", {}).items()
             if isinstance(v, dict)}
    ROWS.append((model.stem, target, _count(original), ours, peers))
    print(f"\n{model.stem:28} {target:4} original {_count(original):5} ours {ours:5} "
          + " ".join(f"{k}={v}" for k, v in sorted(peers.items()) if v is not None))
    expected = json.loads(EXPECT.read_text()) if EXPECT.exists() else {}
    limit = expected.get(f"{model.stem}/{target}")
    if limit is not None:
        assert ours <= limit, f"{model.stem} target={target}: {ours} nodes, expected at most {limit} (regression)"
    if target == "onnx" and peers.get("onnxsim_dynamic") is not None and peers.get("onnxslim_dynamic") is not None:
        goal, goal_name = min(peers["onnxsim_dynamic"], peers["onnxslim_dynamic"]), "min(onnxsim, onnxslim)"
    elif target == "ort" and peers.get("ort_extended") is not None:
        goal, goal_name = peers["ort_extended"], "onnxruntime extended"
    else:
        goal = None
    if goal is not None and f"{model.stem}/{target}" not in expected.get("_not_met", {}):
        assert ours <= goal, f"{model.stem} target={target}: {ours} nodes, {goal_name} reaches {goal}"
    if model.stem == "ppocrv4_rec":
        ops = collections.Counter(n.op_type for n in optimized.graph.node)
        # target=ort folds the residual Add of four of them into SkipLayerNormalization.
        assert ops["LayerNormalization"] + ops["SkipLayerNormalization"] == 5 and ops["HardSwish"] == 28, ops
        assert target == "onnx" or ops["SkipLayerNormalization"] == 4, ops


# Attention blocks each model has, and the op fuse-attention makes of them per target.
ATTENTION = {"ppocrv4_rec": (2, "Attention", "MultiHeadAttention"),  # packed QKV: Split + 3-D attention
             "bert.legacy": (2, "Attention", "Attention"),  # -inf mask behind a NaN guard: Attention also for ort
             "bert.dynamo": (2, "Attention", "MultiHeadAttention"),
             "vit.legacy": (2, "Attention", "MultiHeadAttention"),
             "vit.dynamo": (2, "Attention", "MultiHeadAttention"),
             "gpt2.legacy": (2, "Attention", "Attention"),  # causal -inf mask behind a NaN guard
             "gpt2.dynamo": (2, "Attention", "MultiHeadAttention"),
             "llama.legacy": (2, "Attention", "Attention"),  # RoPE: 4-D core, grouped-query (kv_num_heads 2)
             "llama.dynamo": (2, "Attention", "Attention")}


@pytest.mark.parametrize("model", [m for m in _models() if m.stem in ATTENTION], ids=lambda p: p.stem)
@pytest.mark.parametrize("target", ["onnx", "ort"])
def test_attention_is_fused(model, target, tmp_path):
    """`optimize level=extended` fuses every attention block of the model into one node (ONNX
    Attention, or com.microsoft MultiHeadAttention for target=ort where it computes the same),
    and onnxruntime and our interpreter give the original model's outputs."""
    out = tmp_path / "opt.onnx"
    r = subprocess.run([str(GRAPHSMITH), "run", "-e", f"load {model} as m", "-e", f"optimize level=extended target={target}",
                        "-e", f"export {out}"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    optimized = onnx.load(str(out))
    blocks, onnx_op, ort_op = ATTENTION[model.stem]
    op = onnx_op if target == "onnx" else ort_op
    ops = collections.Counter(n.op_type for n in optimized.graph.node)
    assert ops[op] == blocks and ops["Softmax"] == _softmaxes(model) - blocks, ops
    fused = next(n for n in optimized.graph.node if n.op_type == op)
    assert fused.domain == ("com.microsoft" if op == "MultiHeadAttention" else "")
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    a = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(out), so, providers=["CPUExecutionProvider"])
    feeds = _feeds(a, model)
    want = a.run(None, feeds)
    for x, y in zip(want, b.run(None, feeds)):
        np.testing.assert_allclose(y, x, rtol=1e-3, atol=1e-4)
    tool = swift_tool("runtime-tool")
    if tool is None:
        return
    args = [str(tool), "run", str(out)]
    for k, v in feeds.items():
        np.save(tmp_path / f"{k}.npy", v)
        args.append(f"{k}={tmp_path / f'{k}.npy'}")
    p = subprocess.run(args + ["--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    for i, x in enumerate(want):
        np.testing.assert_allclose(np.load(tmp_path / f"out_{i}.npy"), x, rtol=1e-3, atol=1e-4, err_msg=f"interpreter output {i}")


def _softmaxes(model):
    return sum(1 for n in onnx.load(str(model)).graph.node if n.op_type == "Softmax")


@pytest.mark.parametrize("trans_b,c_shape,beta", [(0, [3], 0.75), (1, [1, 3], 1.0), (0, [], 2.0), (1, None, 1.0)])
def test_gemm_batchnorm_folds_and_onnxruntime_agrees(trans_b, c_shape, beta, tmp_path):
    """fuse-conv-bn folds a BatchNormalization over a Gemm's output columns into B and C; the
    exported model passes the full check and onnxruntime gives the original's outputs."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    b = rng.standard_normal((3, 4) if trans_b else (4, 3)).astype(np.float32)
    inits = [numpy_helper.from_array(b, "B")] + [numpy_helper.from_array(v.astype(np.float32), n) for n, v in
                                                  [("s", rng.standard_normal(3)), ("o", rng.standard_normal(3)),
                                                   ("m", rng.standard_normal(3)), ("v", rng.random(3) + 0.5)]]
    gemm_inputs = ["x", "B"]
    if c_shape is not None:
        inits.append(numpy_helper.from_array(rng.standard_normal(c_shape).astype(np.float32), "C"))
        gemm_inputs.append("C")
    graph = helper.make_graph(
        [helper.make_node("Gemm", gemm_inputs, ["g"], alpha=0.5, beta=beta, transB=trans_b),
         helper.make_node("BatchNormalization", ["g", "s", "o", "m", "v"], ["y"], epsilon=1e-3)],
        "gemm_bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, 3])], inits)
    _pass_agrees_with_onnxruntime(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "fuse-conv-bn,dce",
                                  ["Gemm"], {"x": rng.standard_normal((5, 4)).astype(np.float32)}, tmp_path)


def _pass_agrees_with_onnxruntime(model_proto, passes, ops_after, feeds, tmp_path):
    """Runs `pass PASSES` on the model through `graphsmith run`, exports it, and checks the
    export: onnx's full check, the ops left, and onnxruntime's outputs equal the original's."""
    model = tmp_path / "model.onnx"
    onnx.save(model_proto, str(model))
    out = tmp_path / "passed.onnx"
    r = subprocess.run([str(GRAPHSMITH), "run", "-e", f"load {model} as m", "-e", f"pass {passes}", "-e", f"export {out}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    passed = onnx.load(str(out))
    onnx.checker.check_model(passed, full_check=True)
    assert [n.op_type for n in passed.graph.node] == ops_after
    a = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(None, feeds)
    b = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, feeds)
    for x, y in zip(a, b):
        np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-5)


def test_layernorm_written_with_reducesum_fuses_and_onnxruntime_agrees(tmp_path):
    """tf2onnx's LayerNorm (means as ReduceSum times 1/N and over N, the division as Mul by a
    Reciprocal) becomes one LayerNormalization; onnxruntime gives the original's outputs."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(3)
    c = lambda name, v: numpy_helper.from_array(np.asarray(v, dtype=np.float32), name)
    nodes = [helper.make_node("ReduceSum", ["x", "axes"], ["sx"]), helper.make_node("Mul", ["sx", "inv"], ["m"]),
             helper.make_node("Sub", ["x", "m"], ["d"]), helper.make_node("Mul", ["d", "d"], ["p"]),
             helper.make_node("ReduceSum", ["p", "axes"], ["sp"]), helper.make_node("Div", ["sp", "n"], ["v"]),
             helper.make_node("Add", ["v", "eps"], ["ve"]), helper.make_node("Sqrt", ["ve"], ["s"]),
             helper.make_node("Reciprocal", ["s"], ["rs"]), helper.make_node("Mul", ["d", "rs"], ["nrm"]),
             helper.make_node("Mul", ["nrm", "g"], ["ng"]), helper.make_node("Add", ["ng", "b"], ["y"])]
    inits = [numpy_helper.from_array(np.array([-1], dtype=np.int64), "axes"), c("inv", 1 / 8), c("n", 8), c("eps", 1e-5),
             c("g", rng.standard_normal(8)), c("b", rng.standard_normal(8))]
    graph = helper.make_graph(nodes, "ln_sum", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5, 8])], inits)
    _pass_agrees_with_onnxruntime(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "fuse-layernorm,dce",
                                  ["LayerNormalization"], {"x": rng.standard_normal((2, 5, 8)).astype(np.float32)}, tmp_path)
