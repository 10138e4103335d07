"""The committed op-schema resources (Sources/GraphOps/Resources) are exactly what
scripts/gen_op_schemas.py produces from the installed onnx and onnxruntime, and the hand-written
TFLite table covers every builtin op the corpus's .tflite models use."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest

from onnx_support import shared_dir

REPO = pathlib.Path(__file__).resolve().parents[2]
RESOURCES = REPO / "Sources" / "GraphOps" / "Resources"
SHARED = shared_dir()


def _generator():
    spec = importlib.util.spec_from_file_location("gen_op_schemas", REPO / "scripts" / "gen_op_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["onnx_schemas.json", "contrib_schemas.json", "tflite_schemas.json"])
def test_resource_matches_generator(name, tmp_path):
    gen = _generator()
    fresh = gen.generate_all()[name]
    out = tmp_path / name
    out.write_text(fresh, encoding="utf-8")
    committed = (RESOURCES / name).read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, (
        f"{name} is out of date with the installed packages: run scripts/gen_op_schemas.py")


def test_resources_have_every_required_contrib_op():
    schemas = json.loads((RESOURCES / "contrib_schemas.json").read_text())["schemas"]
    have = {(s["domain"], s["op"]) for s in schemas}
    required = ("FusedConv FusedGemm FusedMatMul Gelu FastGelu BiasGelu QuickGelu SkipLayerNormalization "
                "SkipSimplifiedLayerNormalization Attention MultiHeadAttention GroupQueryAttention RotaryEmbedding "
                "QLinearConv QLinearAdd QLinearMul QLinearSigmoid QLinearAveragePool QLinearGlobalAveragePool "
                "QLinearConcat QLinearLeakyRelu QLinearSoftmax MatMulNBits DynamicQuantizeMatMul").split()
    missing = [op for op in required if ("com.microsoft", op) not in have]
    assert not missing
    # onnxruntime registers these two in the default domain (since 1), not com.microsoft.
    assert ("", "LayerNormalization") in have and ("", "SimplifiedLayerNormalization") in have


def _tflite_builtin_ops(path: pathlib.Path) -> set[int]:
    """Builtin operator codes used by a .tflite file, read with the flatbuffers runtime only."""
    import flatbuffers
    from flatbuffers import number_types as N
    from flatbuffers.table import Table

    buf = bytearray(path.read_bytes())
    model = Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))

    def tables(t, slot):
        o = t.Offset(4 + 2 * slot)
        if not o:
            return []
        v, n = t.Vector(o), t.VectorLen(o)
        return [Table(t.Bytes, t.Indirect(v + 4 * i)) for i in range(n)]

    def scalar(t, slot, kind):
        o = t.Offset(4 + 2 * slot)
        return t.Get(kind, o + t.Pos) if o else 0

    # Model: 1 operator_codes, 2 subgraphs; OperatorCode: 0 deprecated_builtin_code, 3 builtin_code;
    # SubGraph: 3 operators; Operator: 0 opcode_index.
    codes = [max(scalar(c, 0, N.Int8Flags), scalar(c, 3, N.Int32Flags)) for c in tables(model, 1)]
    return {codes[scalar(op, 0, N.Uint32Flags)] for sg in tables(model, 2) for op in tables(sg, 3)}


# BuiltinOperator numbers (tensorflow/lite/schema/schema.fbs) of the ops in TFLITE_OPS.
BUILTIN_CODES = {"ADD": 0, "CONCATENATION": 2, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "DEQUANTIZE": 6,
                 "FULLY_CONNECTED": 9, "LOGISTIC": 14, "MAX_POOL_2D": 17, "RELU": 19, "RESHAPE": 22, "PAD": 34,
                 "MEAN": 40}


@pytest.mark.skipif(SHARED is None, reason="shared corpus not present")
def test_tflite_table_covers_the_corpus():
    pytest.importorskip("flatbuffers")
    schemas = json.loads((RESOURCES / "tflite_schemas.json").read_text())["schemas"]
    have = {BUILTIN_CODES[s["op"]] for s in schemas}
    models = sorted((SHARED / "corpus" / "models").glob("*.tflite"))
    assert models
    for path in models:
        used = _tflite_builtin_ops(path)
        assert used <= have, f"{path.name} uses builtin ops {sorted(used - have)} that tflite_schemas.json lacks"


def test_every_onnx_backend_node_test_model_checks_clean(tmp_path):
    """onnx's own node-test models are valid: `check` must find no problem in any of them (a
    wrong schema, legal-value list or type rule in our tables would show up here)."""
    import glob
    import os
    import subprocess

    import onnx
    from conftest import GRAPHSMITH

    files = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node/*/model.onnx")))
    if not files:
        pytest.skip("onnx backend node tests not installed")
    script = tmp_path / "cells.py"
    script.write_text("".join(f"# %%\nload {f} as m\n# %%\ncheck\n" for f in files))
    run = subprocess.run([str(GRAPHSMITH), "run", str(script), "--format", "json"], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    import json
    reports = [o["data"]["application/vnd.graphsmith.v1+json"] for o in map(json.loads, run.stdout.splitlines())
               if "application/vnd.graphsmith.v1+json" in o.get("data", {})]
    assert len(reports) == len(files)
    # Valid models: no structural or schema problem at all, and no shape error (shape inference may
    # only warn that it could not infer something: an op without a rule, contents it cannot know).
    flagged = [f"{path}: {p['severity']} {p['checker']} {p['op']}: {p['problem']}"
               for path, report in zip(files, reports) for p in report["problems"]
               if p["checker"] != "shape" or p["severity"] == "error"]
    assert not flagged, "\n".join(flagged[:40])
