"""`export FILE.onnx shapes=true`: value_info from our shape inference for every intermediate
value, on a copy of the model. The written file must pass `onnx.checker.check_model(full_check=True)`,
its value_info must agree with `onnx.shape_inference.infer_shapes(strict_mode=True, data_prop=True)`
(run on the model without any value_info; symbols equal under renaming, the same comparison as
test_shape_inference), and onnxruntime must still run it with the same outputs."""
import pathlib
import subprocess

import numpy as np
import onnx
import onnx.shape_inference
import pytest

from onnx_support import reference_feeds, shared_dir
from test_shape_inference import Compare, onnx_types, subgraphs

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = shared_dir()
MODELS = [REPO / "notebooks/models/tiny_bert.onnx"]
for name in ("ppocr_mobile_v2_cls", "silero_vad"):  # a CNN; If bodies
    if SHARED and (SHARED / f"corpus/models/{name}.onnx").exists():
        MODELS.append(SHARED / f"corpus/models/{name}.onnx")


def without_value_info(path, out):
    m = onnx.load(str(path))
    del m.graph.value_info[:]
    for g in subgraphs(m.graph):
        del g.value_info[:]
    onnx.save(m, str(out))
    return m


def written_types(model, graph=False):
    """Our value_info in the form test_shape_inference compares: name -> tensor facts."""
    out = {}
    for name, (dtype, dims) in onnx_types(model, graph=graph).items():
        out[name] = {"kind": "tensor", "dtype": dtype or "", "dims": dims}
    return out


def feeds_for(path, model):
    feeds = reference_feeds(path) if SHARED and "corpus" in str(path) else None
    if feeds is not None:
        return feeds
    rng = np.random.default_rng(0)
    feeds = {}
    for i in model.graph.input:
        tt = i.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 3 for d in tt.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        feeds[i.name] = rng.integers(0, 10, size=shape).astype(dtype)
    return feeds


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_export_shapes_matches_onnx_inference(graphsmith_bin, tmp_path, path):
    import onnxruntime as ort

    bare = tmp_path / "bare.onnx"
    original = without_value_info(path, bare)
    typed = tmp_path / "typed.onnx"
    run = subprocess.run([str(graphsmith_bin), "run", "-e", f"load {bare} as m", "-e", f"export {typed} shapes=true"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "with inferred value_info for" in run.stdout, run.stdout

    written = onnx.load(str(typed))
    onnx.checker.check_model(written, full_check=True)
    outputs = {o.name for o in written.graph.output}
    intermediates = {o for n in written.graph.node for o in n.output if o and o not in outputs}
    assert {v.name for v in written.graph.value_info} == intermediates

    theirs = onnx_types(onnx.shape_inference.infer_shapes(original, strict_mode=True, data_prop=True))
    mine = written_types(written)
    cmp = Compare()
    for name in sorted(intermediates):
        if name in theirs:
            cmp.value(name, theirs[name], mine.get(name))
    assert not cmp.disagreements, cmp.disagreements[:5]
    assert not cmp.less_values, cmp.less_values[:5]
    # Bodies (If/Loop/Scan, walked in the same order in both): typed the same way as onnx
    # types them, each body its own naming scope like test_shape_inference's.
    inferred = onnx.shape_inference.infer_shapes(original, strict_mode=True, data_prop=True)
    body_values = 0
    main_rename, main_back = dict(cmp.rename), dict(cmp.back)
    for ours_g, theirs_g in zip(subgraphs(written.graph), subgraphs(inferred.graph)):
        cmp.rename, cmp.back = dict(main_rename), dict(main_back)
        ours_b, theirs_b = written_types(ours_g, graph=True), onnx_types(theirs_g, graph=True)
        local = {o for n in ours_g.node for o in n.output if o} - {o.name for o in ours_g.output}
        body_values += len({v.name for v in ours_g.value_info} & local)
        for name in sorted(local & set(theirs_b)):
            cmp.value(name, theirs_b[name], ours_b.get(name), body=True)
    assert not cmp.disagreements, cmp.disagreements[:5]
    assert not cmp.less_values, cmp.less_values[:5]
    print(f"{path.stem}: {len(intermediates)} values, {cmp.agree} as onnx, {cmp.more} where ours knows more, "
          f"{body_values} body values typed")

    # Same kernels (no graph optimizations): identical outputs. With onnxruntime's default
    # optimizations the shapes enable other fusions, so only rounding may differ.
    feeds = feeds_for(path, original)
    for level, exact in ((ort.GraphOptimizationLevel.ORT_DISABLE_ALL, True), (ort.GraphOptimizationLevel.ORT_ENABLE_ALL, False)):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.graph_optimization_level = level
        before = ort.InferenceSession(str(bare), so, providers=["CPUExecutionProvider"]).run(None, feeds)
        after = ort.InferenceSession(str(typed), so, providers=["CPUExecutionProvider"]).run(None, feeds)
        assert len(before) == len(after)
        for a, b in zip(before, after):
            if exact:
                np.testing.assert_array_equal(a, b)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_export_shapes_types_bodies_in_graph_list_attributes(graphsmith_bin, tmp_path):
    """Bodies held in a graph-list attribute (a custom op's `branches`) get value_info like any
    other body: each is inferred on its own declared inputs."""
    h = onnx.helper
    T = onnx.TensorProto

    def body(k):
        return h.make_graph([h.make_node("Relu", [f"b{k}_in"], [f"b{k}_r"]),
                             h.make_node("Unsqueeze", [f"b{k}_r", "ax"], [f"b{k}_u"]),
                             h.make_node("Identity", [f"b{k}_u"], [f"b{k}_out"])], f"body{k}",
                            [h.make_tensor_value_info(f"b{k}_in", T.FLOAT, ["n", 3 + k])],
                            [h.make_tensor_value_info(f"b{k}_out", T.FLOAT, None)])

    node = h.make_node("Switch", ["x"], ["y"], domain="test.graphs", branches=[body(0), body(1)])
    graph = h.make_graph([node], "g", [h.make_tensor_value_info("x", T.FLOAT, [2, 3])],
                         [h.make_tensor_value_info("y", T.FLOAT, None)],
                         initializer=[h.make_tensor("ax", T.INT64, [1], [0])])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("test.graphs", 1)])
    src, typed = tmp_path / "lists.onnx", tmp_path / "typed.onnx"
    onnx.save(model, str(src))
    run = subprocess.run([str(graphsmith_bin), "run", "-e", f"load {src} as m", "-e", f"export {typed} shapes=true"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    written = onnx.load(str(typed))
    bodies = list(written.graph.node[0].attribute[0].graphs)
    assert len(bodies) == 2
    for k, g in enumerate(bodies):
        types = onnx_types(g, graph=True)
        assert types[f"b{k}_r"] == ("float", ["n", 3 + k]), types
        assert types[f"b{k}_u"] == ("float", [1, "n", 3 + k]), types
