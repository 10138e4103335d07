"""The cell language through the real kernel and a real jupyter_client: graph commands with
rich outputs, context-aware completion with code-point cursors, inspection and is_complete."""
from __future__ import annotations

import pathlib

import pytest
from jupyter_client.manager import start_new_kernel

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kc():
    km, client = start_new_kernel(kernel_name="graphsmith", cwd=str(REPO / "notebooks"))
    yield client
    client.stop_channels()
    km.shutdown_kernel(now=True)


def execute(kc, code):
    """Runs code; returns (reply content, iopub outputs)."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        if msg["msg_type"] not in ("status", "execute_input"):
            outputs.append(msg)
    return reply["content"], outputs


def test_graph_session_through_the_kernel(kc):
    reply, outs = execute(kc, "load models/tiny_bert.onnx as bert\nsummary")
    assert reply["status"] == "ok"
    assert outs[0]["msg_type"] == "stream" and outs[0]["content"]["text"].startswith("Loaded bert")
    data = outs[1]["content"]["data"]
    assert data["application/vnd.graphsmith.v1+json"]["nodes"] == 80
    assert {"text/plain", "text/html", "application/vnd.graphsmith.v1+json"} <= set(data)
    assert "application/json" not in data


def test_errors_are_jupyter_errors_and_keep_state(kc):
    reply, outs = execute(kc, "info no_such_node")
    assert reply["status"] == "error" and reply["ename"] == "LookupError"
    assert outs[-1]["msg_type"] == "error"
    assert any("^" in line for line in outs[-1]["content"]["traceback"])
    reply, outs = execute(kc, "graphs")
    assert reply["status"] == "ok" and "bert" in outs[0]["content"]["data"]["text/plain"]


def test_completion_is_context_aware(kc):
    def complete(code, cursor=None):
        kc.complete(code, len(code) if cursor is None else cursor)
        return kc.get_shell_msg(timeout=10)["content"]

    assert "summary" in complete("summ")["matches"]
    assert complete("tree /enc")["matches"] == ["/encoder/"]
    r = complete("export x.onnx format=mo")
    assert r["matches"] == ["model-explorer", "model-explorer-node-data"]
    assert r["cursor_start"] == len("export x.onnx format=")
    assert "Softmax" in complete("find op=Sof")["matches"]
    assert "models/" in complete("load mo")["matches"]
    # Cursor positions are code points: an emoji before the word is one, not two.
    code = "echo 🙂\nsumm"
    r = complete(code)
    assert r["matches"] == ["summary"] and r["cursor_start"] == len(code) - 4


def test_inspect_and_is_complete(kc):
    kc.inspect("load", 2)
    r = kc.get_shell_msg(timeout=10)["content"]
    assert r["found"] and "load PATH" in r["data"]["text/plain"]
    kc.inspect("info /encoder/layer.0/attention/self/Softmax", 10)
    r = kc.get_shell_msg(timeout=10)["content"]
    assert r["found"] and "Softmax" in r["data"]["text/plain"]
    for code, status in [("echo \"abc", "incomplete"), ("x = [1,", "incomplete"), ("print )", "invalid"), ("summary", "complete")]:
        kc.is_complete(code)
        assert kc.get_shell_msg(timeout=10)["content"]["status"] == status, code


def test_run_report_holds_every_output_of_every_cell(graphsmith_bin, tmp_path):
    """`graphsmith run --format html --out DIR`: each cell's rich outputs (tables, SVG, charts) in one report."""
    import subprocess
    script = tmp_path / "tour.gsm"
    script.write_text("load models/tiny_bert.onnx\nsummary\n# %%\nshow\n# %%\nestimate hw=h100-sxm5 batch=2 seq=16\n"
                      "# %%\nllm gpt2\n# %%\ninfo nosuchnode\n")
    result = subprocess.run([str(graphsmith_bin), "run", str(script), "--format", "html", "--out", str(tmp_path / "report")],
                            cwd=REPO / "notebooks", capture_output=True, text=True, timeout=120)
    assert result.returncode == 1  # the last cell fails on purpose
    html = (tmp_path / "report" / "tour.html").read_text()  # named after the script
    assert html.count("<svg") >= 2          # the drawing and the llm chart
    assert "Op histogram" in html and "Costliest nodes" in html and "124,439,808" in html
    assert "LookupError" in html
