"""Node ids, annotations and overrides across export -> load, checked with the real tools:

* an edited, annotated export carries `graphsmith.*` node metadata_props that
  onnx.checker.check_model(full_check=True) accepts, and onnxruntime runs it with outputs
  bit-identical to the original (ids and annotations change nothing it computes);
* a new kernel process that loads the export sees the same node ids and annotations, and an
  `overrides apply` of the first session's file on a fresh load gives the same bytes;
* the Model Explorer JSON with annotations passes shared/formats/model-explorer-validate.py.
"""
import importlib.util
import json
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest

from onnx_support import REPO, shared_dir

MODEL = REPO / "notebooks/models/tiny_bert.onnx"
SHARED = shared_dir()
VALIDATOR = SHARED / "formats/model-explorer-validate.py" if SHARED else None


def run_cells(bin_, cwd, *lines):
    r = subprocess.run([str(bin_), "run", "-e", "\n".join(lines), "--format", "json"], cwd=cwd,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return [json.loads(l) for l in r.stdout.splitlines()]


def graphsmith_props(node):
    return {p.key: p.value for p in node.metadata_props if p.key.startswith("graphsmith.")}


def run_ort(path, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


@pytest.mark.skipif(not MODEL.exists(), reason="tour model missing")
def test_ids_annotations_and_overrides_survive_export_and_load(graphsmith_bin, tmp_path):
    shutil.copy(MODEL, tmp_path / "bert.onnx")
    run_cells(graphsmith_bin, tmp_path,
              "load bert.onnx as bert",
              "add Identity after=/encoder/layer.0/intermediate/dense/Add name=probe",
              "annotate op=Softmax quantize=int8 note=\"keep exact\"",
              "annotate probe device=npu",
              "overrides export o.json",
              "export edited.onnx",
              "export edited.json",
              "annotations")
    edited = onnx.load(str(tmp_path / "edited.onnx"))
    onnx.checker.check_model(edited, full_check=True)
    props = [graphsmith_props(n) for n in edited.graph.node]
    probe = next(p for n, p in zip(edited.graph.node, props) if n.name == "probe")
    assert probe["graphsmith.annotation.device"] == "npu" and probe["graphsmith.id"] == "n80", probe
    assert sum("graphsmith.annotation.quantize" in p for p in props) == 3
    # Only where the id sequence jumps: the inserted node and the one after it.
    assert [n.name for n, p in zip(edited.graph.node, props) if "graphsmith.id" in p] == \
        ["probe", "/encoder/layer.0/intermediate/intermediate_act_fn/Div"]

    # Identity and metadata change nothing onnxruntime computes.
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(0, 100, size=(2, 7)).astype(np.int64)}
    original = onnx.load(str(MODEL))
    initializers = {t.name for t in original.graph.initializer}
    for extra in [i for i in original.graph.input if i.name not in initializers][1:]:
        feeds[extra.name] = np.ones((2, 7), dtype=np.int64)
    for a, b in zip(run_ort(MODEL, feeds), run_ort(tmp_path / "edited.onnx", feeds)):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()

    # A new process: same ids and annotations; the overrides rebuild the annotations on a
    # fresh load of the original, byte for byte.
    out = run_cells(graphsmith_bin, tmp_path,
                    "load edited.onnx as again",
                    "annotations",
                    "export again.onnx",
                    "load bert.onnx as fresh",
                    "overrides apply o.json",
                    "add Identity after=/encoder/layer.0/intermediate/dense/Add name=probe",
                    "annotate probe device=npu",
                    "export fresh.onnx")
    tables = [o["data"].get("application/vnd.graphsmith.v1+json", {}) for o in out if isinstance(o.get("data"), dict)]
    listing = next(t for t in tables if "annotations" in t)
    listed = {(a["node"], a["key"], a["value"]) for a in listing["annotations"]}
    assert ("n80", "device", "npu") in listed and len(listed) == 7, listed
    assert (tmp_path / "again.onnx").read_bytes() == (tmp_path / "edited.onnx").read_bytes()
    assert (tmp_path / "fresh.onnx").read_bytes() == (tmp_path / "edited.onnx").read_bytes()


@pytest.mark.skipif(VALIDATOR is None or not VALIDATOR.exists() or importlib.util.find_spec("model_explorer") is None
                    or shutil.which("node") is None, reason="model-explorer validator, ai-edge-model-explorer or node missing")
@pytest.mark.skipif(not MODEL.exists(), reason="tour model missing")
def test_annotated_model_explorer_json_passes_validator(graphsmith_bin, tmp_path):
    run_cells(graphsmith_bin, REPO / "notebooks",
              "load models/tiny_bert.onnx as bert",
              "annotate op=Softmax quantize=int8 note=\"keep exact\"",
              "clone /Softmax",
              f"export {tmp_path / 'annotated.json'}")
    text = (tmp_path / "annotated.json").read_text()
    assert "[annotation] quantize" in text and "[provenance]" in text
    r = subprocess.run([sys.executable, str(VALIDATOR), str(tmp_path / "annotated.json")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "RESULT: ok" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
