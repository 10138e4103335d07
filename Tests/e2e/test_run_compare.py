"""`run` and `compare` through the real kernel (issue 13's commands): run outputs equal
onnxruntime's on the notebooks' ppocr classifier (the .npy input, the same from an
np.savez_compressed archive, and the .npz the kernel saves),
`compare @0 @N` after an edit that changes the numbers names the edited node as the first
diverging one, `show overlay=time` and `show overlay=error` draw, an onnxruntime profile
imports as `ort_time`, and an interrupt stops a long `run repeat=...` within 100 ms."""
from __future__ import annotations

import json
import pathlib
import time

import numpy as np
import onnxruntime as ort
import pytest
from jupyter_client.manager import start_new_kernel

from edit_support import Kernel

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = REPO / "notebooks/models/ppocr_mobile_v2_cls.onnx"
DATA = "application/vnd.graphsmith.v1+json"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    km, client = start_new_kernel(kernel_name="graphsmith", cwd=str(REPO / "notebooks"))
    k = Kernel(client, tmp_path_factory.mktemp("run"))
    k.km = km
    yield k
    client.stop_channels()
    km.shutdown_kernel(now=True)


def data_of(outputs):
    found = [o["content"]["data"][DATA] for o in outputs
             if o["msg_type"] == "display_data" and DATA in o["content"].get("data", {})]
    assert found, [o["msg_type"] for o in outputs]
    return found[-1]


def ort_session(opt=ort.GraphOptimizationLevel.ORT_ENABLE_ALL, profile=False):
    so = ort.SessionOptions()
    so.graph_optimization_level = opt
    so.intra_op_num_threads = 1
    so.enable_profiling = profile
    return ort.InferenceSession(str(MODEL), so, providers=["CPUExecutionProvider"])


def test_run_matches_onnxruntime(kernel, tmp_path):
    x = np.random.default_rng(3).random((1, 3, 48, 192), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    want = ort_session().run(None, {"x": x})[0]
    kernel.ok(f"load {MODEL} as cls")
    reply, outs = kernel.execute(f'run x="{tmp_path / "x.npy"}" save="{tmp_path / "out.npz"}"')
    assert reply["status"] == "ok", reply
    summary = data_of(outs)["outputs"][0]
    assert summary["shape"] == list(want.shape) and summary["dtype"] == "float"
    np.testing.assert_allclose(summary["first"], want.ravel()[:len(summary["first"])], rtol=1e-3, atol=1e-4)
    got = np.load(tmp_path / "out.npz")[summary["name"]]
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
    # The same input from an np.savez_compressed archive (deflated members) gives the same outputs.
    np.savez_compressed(tmp_path / "in.npz", x=x)
    reply, outs = kernel.execute(f'run x="{tmp_path / "in.npz"}"')
    assert reply["status"] == "ok", reply
    assert data_of(outs)["outputs"][0] == summary
    # Random inputs are reproducible: the same seed gives the same numbers run to run.
    _, a = kernel.execute("run shape=x:1x3x48x192 seed=5")
    _, b = kernel.execute("run shape=x:1x3x48x192 seed=5")
    assert data_of(a)["outputs"] == data_of(b)["outputs"]


def drawing_html(outputs):
    html = [o["content"]["data"].get("text/html", "") for o in outputs if o["msg_type"] == "display_data"]
    assert html and "<svg" in html[-1], "no drawing"
    return html[-1]


def test_time_overlay_and_ort_profile(kernel, tmp_path):
    kernel.ok(f"load {MODEL} as cls")
    reply, outs = kernel.execute("run shape=x:1x3x48x192 repeat=3")
    assert reply["status"] == "ok", reply
    timing = data_of(outs)["timing"]
    assert timing["runs"] == 3 and timing["median_s"] > 0 and timing["p90_s"] >= timing["median_s"]
    assert {o["op"] for o in timing["ops"]} >= {"Conv", "Add"}
    _, outs = kernel.execute("show overlay=time")
    assert "time" in drawing_html(outs)
    # An onnxruntime profile (every node: no fusions) lands on our nodes.
    s = ort_session(ort.GraphOptimizationLevel.ORT_DISABLE_ALL, profile=True)
    for _ in range(3):
        s.run(None, {"x": np.zeros((1, 3, 48, 192), np.float32)})
    profile = pathlib.Path(s.end_profiling()).resolve()
    try:
        text = kernel.ok(f'profile import "{profile}"')
    finally:
        profile.unlink()
    assert "for 258 node(s)" in text, text
    _, outs = kernel.execute("run shape=x:1x3x48x192 repeat=2")
    nodes = data_of(outs)["timing"]["nodes"]
    assert len(nodes) > 150 and all(n["ort_seconds"] is not None for n in nodes)
    path = tmp_path / "ort.json"
    kernel.ok(f'export "{path}" format=model-explorer-node-data field=ort_time')
    assert len(json.loads(path.read_text())["main"]["results"]) == 258


def test_compare_after_edit_names_the_first_diverging_node(kernel):
    kernel.ok(f"load {MODEL} as cls")
    kernel.ok("set BatchNormalization@3 epsilon=0.5")
    reply, outs = kernel.execute("compare @0 @1 shape=x:1x3x48x192")
    assert reply["status"] == "ok", reply
    d = data_of(outs)
    assert d["pass"] is False
    assert d["first_diverging"]["node"] == "BatchNormalization@3"
    upstream = [n for n in d["nodes"] if n["node"] in ("Conv@0", "BatchNormalization@0", "Conv@3")]
    assert upstream and all(n["pass"] for n in upstream)
    _, outs = kernel.execute("show overlay=error")
    assert "error" in drawing_html(outs)
    # The same graph against itself passes; errors leave the session as it was.
    _, outs = kernel.execute("compare @1 @1 shape=x:1x3x48x192")
    assert data_of(outs)["pass"] is True
    assert "no step '@7'" in kernel.fail("compare @0 @7")
    assert "unbound" in kernel.fail("run")
    assert "available" in kernel.fail("run shape=x:1x3x16000000x16000")
    assert "is at @1" in kernel.ok("checkout @1")


def test_interrupt_stops_a_long_run_quickly(kernel):
    kernel.ok(f"load {MODEL} as cls")
    msg_id = kernel.kc.execute("run shape=x:1x3x48x192 repeat=100000")
    # Wait until the run is under way (its progress bar appears after one second).
    deadline = time.time() + 30
    while time.time() < deadline:
        msg = kernel.kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "display_data":
            break
    start = time.monotonic()
    kernel.km.interrupt_kernel()
    reply = kernel.kc.get_shell_msg(timeout=30)
    elapsed = time.monotonic() - start
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt", reply["content"]
    assert elapsed < 0.1, f"interrupt took {elapsed * 1000:.0f} ms"
    assert kernel.ok("echo alive").strip() == "alive"
