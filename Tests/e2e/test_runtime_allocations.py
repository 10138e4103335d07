"""No allocation in the steady state of a repeated run (issue 13): `runtime-tool bench` under
the LD_PRELOAD counter `Benchmarks/runtime/alloc_count.c` reads the process's heap
allocations before and after its timed runs. A run may allocate only what it hands back: per
graph output, its copy (a storage object and its buffer), and the output list when the caller
still holds the previous one, so at most 1 + 2 * outputs. Allocations inside OpenBLAS (its
sgemm packing buffers) are counted apart and not held against us. If, Loop and Scan bodies are
held to the same bound (a fixture runs Loop and Scan; silero_vad runs If); only SequenceMap,
whose sequences are built fresh each run, is reported instead. Needs Linux/glibc and a C
compiler; the corpus cases skip without ../shared."""
import json
import os
import sys

import numpy as np
import pytest

from onnx_support import REPO, shared_dir, swift_tool

sys.path.insert(0, str(REPO / "Benchmarks" / "runtime"))
import allocations  # noqa: E402
import bench  # noqa: E402

SHARED = shared_dir()
TOOL = swift_tool("runtime-tool")
pytestmark = pytest.mark.skipif(TOOL is None or not sys.platform.startswith("linux"),
                                reason="needs a built runtime-tool on Linux (glibc)")
# Ops whose runs build fresh values by nature (sequences of tensors): reported, not bounded.
# If, Loop and Scan keep their iteration memory between calls and are held to the bound.
CONTROL_FLOW = {"SequenceMap"}


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    return allocations.build_counter(str(tmp_path_factory.mktemp("counter")))


def output_count_and_bodies(model):
    """The number of graph outputs, and whether the main graph runs control-flow bodies."""
    import onnx
    graph = onnx.load(str(model), load_external_data=False).graph
    return len(graph.output), any(n.op_type in CONTROL_FLOW for n in graph.node)


def fixture_model(path):
    """A small graph over the kernels that keep shapes between calls: Conv, pools, Gemm,
    MatMul, Transpose, Slice, Concat, Split, Expand, Where, Gather, Pad, Resize, reductions,
    LayerNormalization, Softmax, a variadic Sum, and shape ops on data-dependent values."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)

    def const(name, a):
        return numpy_helper.from_array(np.asarray(a), name)
    inits = [
        const("w", rng.standard_normal((8, 3, 3, 3)).astype(np.float32)), const("b", np.zeros(8, np.float32)),
        const("fc", rng.standard_normal((8, 16)).astype(np.float32)), const("mm", rng.standard_normal((16, 16)).astype(np.float32)),
        const("starts", np.array([0], np.int64)), const("ends", np.array([8], np.int64)), const("ax1", np.array([1], np.int64)),
        const("shape3", np.array([2, 4, 2], np.int64)), const("eshape", np.array([2, 1, 3], np.int64)), const("pads", np.array([0, 1, 0, 0, 1, 0], np.int64)),
        const("sizes", np.array([1, 3, 12, 12], np.int64)), const("idx", np.array([1, 0, 3], np.int64)),
        const("gamma", np.ones(16, np.float32)), const("beta", np.zeros(16, np.float32)),
        const("split", np.array([8, 8], np.int64)), const("axes0", np.array([0], np.int64)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["ap"], ["gp"]),
        helper.make_node("Flatten", ["gp"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["g"]),
        helper.make_node("MatMul", ["g", "mm"], ["m"]),
        helper.make_node("LayerNormalization", ["m", "gamma", "beta"], ["ln"]),
        helper.make_node("Softmax", ["ln"], ["sm"]),
        helper.make_node("Slice", ["sm", "starts", "ends", "ax1"], ["sl"]),
        helper.make_node("Concat", ["sl", "sl"], ["cat"], axis=1),
        helper.make_node("Split", ["cat", "split"], ["s1", "s2"], axis=1),
        helper.make_node("Sum", ["s1", "s2", "s1"], ["sum"]),
        helper.make_node("Reshape", ["cat", "shape3"], ["rs"]),
        helper.make_node("Transpose", ["rs"], ["tr"], perm=[0, 2, 1]),
        helper.make_node("Pad", ["tr", "pads"], ["pd"], mode="edge"),
        helper.make_node("ReduceMean", ["pd", "ax1"], ["rm"]),
        helper.make_node("Gather", ["sum", "idx"], ["ga"], axis=1),
        helper.make_node("Greater", ["ga", "ga"], ["gt"]),
        helper.make_node("Where", ["gt", "ga", "ga"], ["wh"]),
        helper.make_node("Unsqueeze", ["wh", "axes0"], ["us"]),
        helper.make_node("Expand", ["us", "eshape"], ["ex"]),
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Resize", ["x", "", "", "sizes"], ["rz"], mode="linear"),
    ]
    graph = helper.make_graph(nodes, "alloc_fixture", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("rm", "ex", "rz")]
                              + [helper.make_tensor_value_info("shp", TensorProto.INT64, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(model, str(path))
    np.save(path.with_suffix(".npy"), rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    return path


def control_flow_model(path):
    """A Loop (five iterations; a carried value, a scan output, an outer value computed in the
    main graph) and a Scan (a state, a backwards scan input and a backwards scan output) whose
    bodies run once per iteration."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)
    loop_body = helper.make_graph(
        [helper.make_node("Add", ["v_in", "xr"], ["sum"]),
         helper.make_node("Mul", ["sum", "half"], ["v_out"]),
         helper.make_node("ReduceSum", ["v_out"], ["total"], keepdims=0)],
        "loop_body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [4, 3])],
        [helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [4, 3]),
         helper.make_tensor_value_info("total", TensorProto.FLOAT, [])],
        initializer=[numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    scan_body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "x_t"], ["s_out"]), helper.make_node("Mul", ["x_t", "s_out"], ["y_t"])],
        "scan_body",
        [helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [3]), helper.make_tensor_value_info("x_t", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [3]), helper.make_tensor_value_info("y_t", TensorProto.FLOAT, [3])])
    nodes = [
        helper.make_node("Relu", ["x"], ["xr"]),
        helper.make_node("Loop", ["m", "", "x"], ["v", "totals"], body=loop_body),
        helper.make_node("ReduceMean", ["x", "axes0"], ["s0"], keepdims=0),
        helper.make_node("Scan", ["s0", "v"], ["s", "ys"], body=scan_body, num_scan_inputs=1,
                         scan_input_directions=[1], scan_output_directions=[1]),
    ]
    graph = helper.make_graph(nodes, "control_flow_fixture", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, d) for n, d in
                               (("v", [4, 3]), ("totals", [5]), ("s", [3]), ("ys", [4, 3]))],
                              initializer=[numpy_helper.from_array(np.array(5, np.int64), "m"),
                                           numpy_helper.from_array(np.array([0], np.int64), "axes0")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    np.save(path.with_suffix(".npy"), rng.standard_normal((4, 3)).astype(np.float32))
    return path


def test_loop_and_scan_runs_allocate_only_their_outputs(counter, tmp_path):
    model = control_flow_model(tmp_path / "control_flow.onnx")
    ours, blas, _ = allocations.per_run(str(TOOL), counter, str(model), {"x": str(model.with_suffix(".npy"))})
    assert ours <= 1 + 2 * output_count_and_bodies(model)[0], f"{ours} allocations per run (OpenBLAS: {blas})"


def test_fixture_runs_allocate_only_their_outputs(counter, tmp_path):
    model = fixture_model(tmp_path / "fixture.onnx")
    ours, blas, info = allocations.per_run(str(TOOL), counter, str(model), {"x": str(model.with_suffix(".npy"))})
    assert info["unplanned_values"] >= 0
    assert ours <= 1 + 2 * output_count_and_bodies(model)[0], f"{ours} allocations per run (OpenBLAS: {blas})"


def corpus_models():
    if SHARED is None:
        return []
    return bench.every_model(str(SHARED / "corpus"))


@pytest.mark.parametrize("name", corpus_models())
def test_corpus_runs_allocate_only_their_outputs(counter, name):
    ref, model, inputs_dir = bench.reference(name, str(SHARED / "corpus"))
    inputs = {i["name"]: os.path.join(inputs_dir, i["file"]) for i in ref["reference_inputs"]}
    ours, blas, info = allocations.per_run(str(TOOL), counter, model, inputs)
    outputs, bodies = output_count_and_bodies(model)
    bound = 1 + 2 * outputs
    print(json.dumps({"model": name, "ours": ours, "openblas": blas, "bound": bound}))
    if bodies:
        pytest.skip(f"SequenceMap bodies: {ours} allocations per run (bound {bound} holds for graphs without them)")
    assert ours <= bound, f"{name}: {ours} allocations per run, at most {bound} expected (OpenBLAS: {blas})"
