"""ONNX backend node tests (all cases shipped in the onnx wheel) through GraphRuntime's
`runtime-tool nodetests`, against the stored expected outputs. The pass count must not drop
below the floor reached when it was last raised (issue 13's acceptance is 95% of all cases);
every case that does not pass is either a wrong result or an unsupported op/type named in
its detail; no case may crash the process. The comparator itself is checked on a case whose
expected output was changed."""
import os
import shutil
import sys

import numpy as np
import pytest

from onnx_support import REPO, swift_tool

sys.path.insert(0, str(REPO / "Benchmarks" / "runtime"))
import nodetests  # noqa: E402

TOOL = swift_tool("runtime-tool")
pytestmark = pytest.mark.skipif(TOOL is None, reason="needs a built runtime-tool")

# Raise this when the pass count goes up (Benchmarks/README.md has the per-op table).
PASS_FLOOR = 1713


@pytest.fixture(scope="module")
def results():
    root = nodetests.node_test_dir()
    return nodetests.run_all(str(TOOL), root, timeout=600)


def test_every_case_runs(results):
    root = nodetests.node_test_dir()
    names = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "model.onnx")))
    assert [r["name"] for r in results] == names
    crashed = [r["name"] for r in results if "crashed" in r["detail"]]
    assert not crashed, crashed


def test_pass_rate_floor(results):
    passed = sum(r["status"] == "pass" for r in results)
    assert passed >= PASS_FLOOR, f"{passed} of {len(results)} pass, floor {PASS_FLOOR}"


def test_non_passing_cases_say_why(results):
    for r in results:
        if r["status"] == "unsupported":
            assert "not supported" in r["detail"] or "not a tensor" in r["detail"] or "not a plain tensor" in r["detail"], r
        elif r["status"] == "fail":
            assert r["detail"], r


@pytest.mark.parametrize("case", ["test_add_bcast", "test_conv_with_strides_padding", "test_attention_4d",
                                  "test_layer_normalization_4d_axis0", "test_sce_mean_weight",
                                  "test_reduce_log_sum_exp_keepdims_random", "test_castlike_FLOAT_to_DOUBLE",
                                  "test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FN", "test_quantizelinear_int4",
                                  "test_string_split_maxsplit", "test_sequence_map_add_2_sequences", "test_loop16_seq_none",
                                  "test_linear_attention_gated_delta_gqa", "test_convtranspose_output_shape"])
def test_representative_cases_pass(results, case):
    by = {r["name"]: r for r in results}
    assert by[case]["status"] == "pass", by[case]


def test_comparator_catches_a_wrong_expected_value(tmp_path):
    import onnx
    from onnx import numpy_helper
    src = os.path.join(nodetests.node_test_dir(), "test_add_bcast")
    dst = tmp_path / "test_add_bcast"
    shutil.copytree(src, dst)
    out = dst / "test_data_set_0" / "output_0.pb"
    t = onnx.TensorProto()
    t.ParseFromString(out.read_bytes())
    a = numpy_helper.to_array(t).copy()
    a.flat[3] += 0.01
    out.write_bytes(numpy_helper.from_array(a, t.name).SerializeToString())
    [r] = nodetests.run_all(str(TOOL), str(tmp_path))
    assert r["status"] == "fail" and "element 3" in r["detail"], r
