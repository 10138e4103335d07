"""`compile` with each shipped plugin, `diff` afterwards and its Model Explorer export, and the
plugin failure modes, through the real kernel (issue 14). Each accepted result must pass
onnx.checker (full_check) and give onnxruntime's outputs on the reference inputs; a failing,
hanging or garbage-writing plugin must leave the graph as it was (same export bytes)."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import onnx
import pytest
from jupyter_client.manager import start_new_kernel

from edit_support import Kernel, run_ort
from onnx_support import reference_feeds, shared_dir

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = shared_dir()
MODEL = SHARED / "corpus/models/ppocr_mobile_v2_cls.onnx" if SHARED else None
VALIDATOR = SHARED / "formats/model-explorer-validate.py" if SHARED else None

pytestmark = pytest.mark.skipif(MODEL is None or not MODEL.exists(), reason="needs ../shared/corpus")

BAD = {
    "fails": ["/bin/sh", "-c", "echo boom >&2; exit 1", "sh", "{input}", "{output}"],
    "hangs": ["/bin/sh", "-c", "echo waiting >&2; sleep 60", "sh", "{input}", "{output}"],
    "garbage": ["/bin/sh", "-c", "echo garbage > \"$2\"", "sh", "{input}", "{output}"],
}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    plugins = tmp_path_factory.mktemp("user-plugins")
    for name, command in BAD.items():
        (plugins / f"{name}.json").write_text(json.dumps({
            "name": name, "description": "test", "command": command,
            "version": ["/bin/sh", "-c", f"echo {name} 0"], "timeout": 2}))
    env = dict(os.environ, GRAPHSMITH_PLUGINS=str(plugins), GRAPHSMITH_JOURNAL="off", GRAPHSMITH_PYTHON=sys.executable)
    km, client = start_new_kernel(kernel_name="graphsmith", cwd=str(REPO / "notebooks"), env=env)
    yield Kernel(client, tmp_path_factory.mktemp("diff-exports"))
    client.stop_channels()
    km.shutdown_kernel(now=True)


def data(outs, key):
    """The vendor data of the first display that has `key`."""
    for o in outs:
        d = o["content"].get("data", {}).get("application/vnd.graphsmith.v1+json")
        if isinstance(d, dict) and key in d:
            return d
    raise AssertionError(f"no output with {key}")


def test_plugins_lists_shipped_and_user_plugins(kernel):
    _, outs = kernel.execute("plugins")
    rows = data(outs, "rows")["rows"]
    names = {r["plugin"] for r in rows}
    assert {"ort", "onnxsim", "onnxslim", "fails", "hangs", "garbage"} <= names
    assert any(r["plugin"] == "onnxsim" and "onnxsim" in r["version"] for r in rows)


@pytest.mark.parametrize("command", ["compile onnxsim", "compile onnxslim", "compile ort level=basic", "compile ort level=extended"])
def test_compile_result_is_valid_and_diff_reports_groups(kernel, command, tmp_path):
    kernel.ok(f'load "{MODEL}" as m')
    text = kernel.ok(command)
    assert "@1" in text, text
    exported = kernel.export()
    model = onnx.load_from_string(exported)
    onnx.checker.check_model(model, full_check=True)
    feeds = reference_feeds(MODEL)
    want = run_ort(MODEL.read_bytes(), feeds)
    got = run_ort(exported, feeds)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)
    reply, outs = kernel.execute("diff @0 @1")
    assert reply["status"] == "ok"
    d = data(outs, "groups")
    assert d["groups"], "a plugin that changed the graph must give replacement groups"
    assert any(o["content"].get("data", {}).get("image/svg+xml") for o in outs), "no drawing"
    # Undo returns the loaded graph.
    kernel.ok("undo")
    assert onnx.load_from_string(kernel.export()).graph.node.__len__() == len(onnx.load(str(MODEL)).graph.node)


@pytest.mark.parametrize("name, why", [("fails", "exit status 1"), ("hangs", "timeout"), ("garbage", "not a readable ONNX model")])
def test_failing_plugins_leave_the_session_unchanged(kernel, name, why):
    kernel.ok(f'load "{MODEL}" as m')
    before = kernel.export()
    message = kernel.fail(f"compile {name}")
    assert why in message and "unchanged" in message, message
    if name != "garbage":
        assert ("boom" if name == "fails" else "waiting") in message, message
    assert kernel.export() == before
    assert "nothing to undo" in kernel.fail("undo")


def test_model_explorer_export(kernel, tmp_path):
    kernel.ok(f'load "{MODEL}" as m')
    kernel.ok("compile onnxsim")
    kernel.ok(f'diff @0 @1 format=text export="{tmp_path}"')
    mapping = json.loads((tmp_path / "mapping.json").read_text())
    assert mapping["type"] == "sync_navigation" and mapping["mappingEntries"]
    if VALIDATOR is None or not VALIDATOR.exists():
        pytest.skip("no Model Explorer validator")
    for side in ("a", "b"):
        r = subprocess.run([sys.executable, str(VALIDATOR), str(tmp_path / f"{side}.graph.json"), str(tmp_path / f"{side}.nodedata.json")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and "RESULT: ok" in r.stdout, r.stdout + r.stderr
