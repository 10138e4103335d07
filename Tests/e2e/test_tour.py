"""The shipped notebooks, executed for real: tour.ipynb with nbclient (no errors, the rich
MIME types present, summary figures equal to what the `onnx` package computes), and
sweep.ipynb with papermill parameters."""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import onnx
import pytest
from nbclient import NotebookClient

REPO = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
DATA = "application/vnd.graphsmith.v1+json"


def copy_ignoring(*patterns: str):
    """A copytree `ignore` that also leaves out links whose target is missing (links into
    ../shared are copied as the files they point to when it is there)."""
    by_pattern = shutil.ignore_patterns(*patterns)

    def ignore(folder, names):
        dangling = {n for n in names if os.path.islink(os.path.join(folder, n)) and not os.path.exists(os.path.join(folder, n))}
        return set(by_pattern(folder, names)) | dangling
    return ignore


def missing_models(name: str) -> list[str]:
    """The `load models/...` files a notebook reads that are not there: compiler-workflow.ipynb
    reads a corpus model through a link into ../shared, which a checkout without it lacks."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    wanted = {m for c in nb.cells if c.cell_type == "code" for m in re.findall(r"^load (models/\S+)", c.source, re.M)}
    return sorted(m for m in wanted if not (NOTEBOOKS / m).exists())


def run_notebook(name: str, tmp_path: pathlib.Path) -> nbformat.NotebookNode:
    if missing := missing_models(name):
        pytest.skip(f"{name} reads {', '.join(missing)}, which links into ../shared (absent)")
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work, ignore=copy_ignoring("out", "*.html"))
    nb = nbformat.read(work / name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="graphsmith", resources={"metadata": {"path": str(work)}}).execute()
    return nb


def outputs_of(nb, source_start: str):
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(source_start):
            return cell.outputs
    raise AssertionError(f"no cell starting with {source_start!r}")


def assert_no_errors(nb) -> None:
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors == [], errors


def data_of(nb, source_start: str) -> dict:
    """The machine-readable data of the first output of the cell starting with `source_start`."""
    found = [o.data[DATA] for o in outputs_of(nb, source_start) if DATA in o.get("data", {})]
    assert found, source_start
    return found[0]


def expected_summary(path: pathlib.Path) -> dict:
    model = onnx.load(str(path))
    g = model.graph
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.DOUBLE}
    params = sum(int(np.prod(t.dims)) for t in g.initializer if t.data_type in floats)
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type in floats:
                    params += int(np.prod(a.t.dims))
    inits = {t.name for t in g.initializer}

    def io(values):
        out = []
        for v in values:
            if v.name in inits:
                continue
            tt = v.type.tensor_type
            dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type).name
            shape = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in tt.shape.dim]
            out.append({"name": v.name, "dtype": dtype, "shape": shape})
        return out

    hist: dict[str, int] = {}
    for n in g.node:
        hist[n.op_type] = hist.get(n.op_type, 0) + 1
    return {"nodes": len(g.node), "parameters": params, "inputs": io(g.input), "outputs": io(g.output),
            "op_histogram": hist, "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import}}


# Machine-readable results: a vendor type no front end renders (docs/outputs.md).
DATA = "application/vnd.graphsmith.v1+json"


def test_tour_runs_clean_with_rich_outputs(tmp_path):
    nb = run_notebook("tour.ipynb", tmp_path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs, f"cell produced nothing: {cell.source!r}"
        for out in cell.outputs:
            assert out.output_type != "error", f"{cell.source!r}: {out.get('ename')}: {out.get('evalue')}"
            if "data" in out:
                assert "text/plain" in out.data

    help_out = outputs_of(nb, "help")[0]
    assert "text/html" in help_out.data and "<table" in help_out.data["text/html"]

    summary = outputs_of(nb, "summary")[0].data
    assert "text/html" in summary and DATA in summary and "application/json" not in summary
    want = expected_summary(NOTEBOOKS / "models" / "tiny_bert.onnx")
    got = summary[DATA]
    for key in ("nodes", "parameters", "inputs", "outputs", "op_histogram", "opsets"):
        assert got[key] == want[key], key
    assert got["nodes_total"] == want["nodes"]

    shown = outputs_of(nb, "show")[0].data
    assert shown["image/svg+xml"].startswith("<svg") and "<svg" in shown["text/html"]

    info = outputs_of(nb, "info /embeddings/position_embeddings")[0].data
    assert "float32[seq,64] inferred" in info["text/plain"], info["text/plain"]
    checked = outputs_of(nb, "load models/broken.onnx")[-1].data
    assert "<table" in checked["text/html"]
    kinds = sorted((p["checker"], p["kind"]) for p in checked[DATA]["problems"])
    assert kinds == [("schema", "illegalValue"), ("schema", "unknownAttribute"), ("shape", "inconsistentShape")], kinds
    # One report: the table's node cells link into the drawing under it, where each is marked.
    report = checked["text/html"]
    assert report.startswith('<div class="gs-report"><table') and 'class="gs-view"' in report
    for p in checked[DATA]["problems"]:
        assert f'data-gs-node="{p["node"]}"' in report, p
        assert f'<g class="gs-node gs-problem" data-id="{p["node"]}"' in report, p
    assert "Drawing: broken, all 5 nodes" in checked["text/plain"]

    est = outputs_of(nb, "estimate hw=")[0].data[DATA]
    assert set(est["totals"]) == {"macs", "flops", "params", "bytes", "latency_s", "energy_j"}
    assert est["totals"]["params"] == want["parameters"] and est["totals"]["latency_s"] > 0
    assert "image/svg+xml" in outputs_of(nb, "show overlay=latency")[0].data
    for start in ("roofline", "sweep", "llm llama"):
        data = outputs_of(nb, start)[-1].data
        assert "application/vnd.vegalite.v5+json" in data and "image/svg+xml" in data, start
        assert "text/html" not in data, f"{start}: HTML beside Vega-Lite hides the chart in JupyterLab"
    assert outputs_of(nb, "llm llama")[0].data[DATA]["parameters"] == 6_738_415_616

    exported = tmp_path / "notebooks" / "out"
    for f in ("tiny_bert_copy.onnx", "tiny_bert_external.onnx", "tiny_bert.json"):
        assert (exported / f).exists(), f
    onnx.checker.check_model(str(exported / "tiny_bert_copy.onnx"), full_check=True)
    onnx.checker.check_model(str(exported / "tiny_bert_external.onnx"), full_check=True)


def test_sweep_notebook_takes_papermill_parameters(tmp_path):
    papermill = pathlib.Path(sys.executable).with_name("papermill")
    if not papermill.exists():
        pytest.skip("papermill CLI not installed")
    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work, ignore=copy_ignoring("out", "*.html"))
    out = tmp_path / "out.ipynb"
    result = subprocess.run([str(papermill), "sweep.ipynb", str(out), "-p", "batch", "8", "-p", "seq", "64", "--cwd", str(work)],
                            cwd=work, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "batch = 8" in injected[0].source
    texts = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]
    assert any("batch=8 seq=64 tokens=512" in t for t in texts), texts


def test_editing_notebook_runs_and_its_history_replays_byte_identical(tmp_path):
    """editing.ipynb edits a real corpus model: the refused edit is an error (tagged), every other cell
    runs; the exported model passes onnx's full check; `graphsmith run` on the exported history
    rebuilds a byte-identical model."""
    nb = run_notebook("editing.ipynb", tmp_path)
    work = tmp_path / "notebooks"
    assert_no_errors(nb)
    edited = work / "out" / "cls_edited.onnx"
    onnx.checker.check_model(onnx.load(str(edited)), full_check=True)
    script = work / "out" / "cls_edits.gsm"
    text = script.read_text()
    assert "disconnect" not in text, "the undone step is not on the replayed path"
    replay = work / "out" / "replay.gsm"
    replay.write_text(text + "export out/replayed.onnx\n")
    from conftest import GRAPHSMITH
    result = subprocess.run([str(GRAPHSMITH), "run", str(replay)], cwd=work, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (work / "out" / "replayed.onnx").read_bytes() == edited.read_bytes()


def test_run_and_compare_notebook(tmp_path):
    """run-and-compare.ipynb runs clean under nbclient: the run table, the time and error overlays
    drawn, compare naming the edited node first, the saved outputs equal to onnxruntime's."""
    import numpy as np
    nb = run_notebook("run-and-compare.ipynb", tmp_path)
    assert_no_errors(nb)
    data = "application/vnd.graphsmith.v1+json"
    compared = [o.data[data] for o in outputs_of(nb, "compare @0 @1") if data in o.get("data", {})]
    assert compared and compared[0]["first_diverging"]["node"] == "BatchNormalization@3"
    for start in ("show overlay=time", "show overlay=error"):
        assert any("<svg" in o.get("data", {}).get("text/html", "") for o in outputs_of(nb, start)), start
    work = tmp_path / "notebooks"
    saved = np.load(work / "out" / "cls_outputs.npz")
    assert len(saved.files) == 1
    assert (work / "out" / "cls_error.json").exists() and (work / "out" / "cls_time.json").exists()
    runs = [o.data[data] for o in outputs_of(nb, "run shape=x:1x3x48x192 seed=1") if data in o.get("data", {})]
    assert runs[0]["outputs"][0]["shape"] == [1, 2]


def test_compiler_loop_notebook(tmp_path):
    """compiler-loop.ipynb runs clean: the annotated Add stays unfused (17 of 18 HardSwish patterns
    fuse) and `why` names the annotation; the diff pairs the pass's replacements by provenance and
    labels them with the pass; both compares pass; the exported optimized model passes onnx's
    full check and onnxruntime gives the loaded model's outputs on the same input."""
    import numpy as np
    import onnxruntime as ort
    nb = run_notebook("compiler-loop.ipynb", tmp_path)
    assert_no_errors(nb)

    def payload(start):
        return data_of(nb, start)

    diff = payload("diff @2 @3")
    assert len(diff["groups"]) == 17
    assert all(g["origin"] == "pass fuse-hardswish" and len(g["removed"]) == 4 and len(g["added"]) == 1
               for g in diff["groups"]), diff["groups"][:2]
    why = " ".join(o.get("data", {}).get("text/plain", "") for o in outputs_of(nb, "why Add@0"))
    assert "fuse=false" in why, why
    for start in ("compare @2 @3", "compare @0 @4"):
        assert payload(start)["pass"] is True, start
    quantized = payload("compare @4 @7")
    assert quantized["pass"] is True, quantized["outputs"]  # the outputs stay within 0.05
    assert quantized["first_diverging"] is not None, quantized  # inside, compare names where the quantized graph moves first
    side = payload("compare @2 @4 @5 @6")
    made = [v["made_by"] for v in side["versions"]]
    assert made[1:] == ["optimize", "compile ort level=extended", "compile onnxslim"], made
    assert all(v["pass"] for v in side["versions"][1:]), side["versions"]
    assert all(v["estimated_seconds"] and v["measured_seconds"] for v in side["versions"])
    assert any("application/vnd.vegalite.v5+json" in o.get("data", {}) for o in outputs_of(nb, "compare @2 @4 @5 @6"))
    work = tmp_path / "notebooks"
    optimized = work / "out" / "cls_optimized.onnx"
    onnx.checker.check_model(onnx.load(str(optimized)), full_check=True)
    x = np.random.default_rng(0).standard_normal((1, 3, 48, 192)).astype(np.float32)
    want = ort.InferenceSession(str(work / "models" / "ppocr_mobile_v2_cls.onnx")).run(None, {"x": x})
    got = ort.InferenceSession(str(optimized)).run(None, {"x": x})
    assert len(onnx.load(str(optimized)).graph.node) < 300
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_compiler_workflow_notebook(tmp_path):
    """compiler-workflow.ipynb on PP-OCRv4 recognition (a corpus model): optimize fuses the
    written-out LayerNorms (but the annotated one), HardSwishes and the two attention blocks without
    names deciding; the
    diff groups name the passes; why names the annotation; every compiler's version agrees with
    the annotated model; the quantized version runs; the exported optimized model passes onnx's
    full check and onnxruntime gives the original's outputs."""
    import onnxruntime as ort
    nb = run_notebook("compiler-workflow.ipynb", tmp_path)
    assert_no_errors(nb)

    def payload(start):
        return data_of(nb, start)

    groups = payload("diff @2 @3")["groups"]
    origins = {g["origin"] for g in groups}
    assert {"pass fuse-layernorm", "pass fuse-hardswish"} <= origins, origins
    assert sum(g["origin"] == "pass fuse-layernorm" for g in groups) == 4, "the fifth LayerNorm is annotated fuse=false"
    assert sum(g["origin"] == "pass fuse-attention" for g in groups) == 2, "both SVTR attention blocks are fused"
    why = " ".join(o.get("data", {}).get("text/plain", "") for o in outputs_of(nb, "why p2o.ReduceMean.0"))
    assert "fuse=false" in why, why
    assert payload("compare @2 @3 shape")["pass"] is True
    side = payload("compare @2 @3 @4 @5")
    assert [v["made_by"] for v in side["versions"]][2:] == ["compile ort level=extended", "compile onnxslim"]
    assert all(v["pass"] for v in side["versions"][1:]), side["versions"]
    assert payload("compare @3 @6")["outputs"]
    work = tmp_path / "notebooks"
    optimized = work / "out" / "rec_optimized.onnx"
    onnx.checker.check_model(onnx.load(str(optimized)), full_check=True)
    x = np.random.default_rng(0).standard_normal((1, 3, 48, 320)).astype(np.float32)
    want = ort.InferenceSession(str(work / "models" / "ppocrv4_rec.onnx")).run(None, {"x": x})
    got = ort.InferenceSession(str(optimized)).run(None, {"x": x})
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)


def test_notebook_copies_leave_out_dangling_links(tmp_path):
    """Without ../shared the corpus link dangles: the copy leaves it out (the notebook reading it
    is skipped), and a link that resolves is copied as its file."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "real.txt").write_text("x")
    (src / "good").symlink_to("real.txt")
    (src / "dangling").symlink_to("../nowhere/model.onnx")
    shutil.copytree(src, tmp_path / "dst", ignore=copy_ignoring("out"))
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == ["good", "real.txt"]
    assert not (tmp_path / "dst" / "good").is_symlink()
