"""The graphsmith command line: run (text/json/html, exit status) and install."""
from __future__ import annotations

import json
import os
import subprocess
import sys


def run(bin_, *args, **kw):
    return subprocess.run([str(bin_), *args], capture_output=True, text=True, timeout=60, **kw)


def test_run_text_and_exit_status(graphsmith_bin):
    ok = run(graphsmith_bin, "run", "-e", "echo hi", "-e", "print 2 * 3")
    assert ok.returncode == 0 and ok.stdout == "hi\nOut[2]: 6\n"
    bad = run(graphsmith_bin, "run", "-e", "nosuchcommand")
    assert bad.returncode == 1 and "CommandError" in bad.stdout


def test_run_file_json(graphsmith_bin, tmp_path):
    script = tmp_path / "cells.gsm"
    script.write_text("echo a\n# %%\nx = 2\nprint x\n# %% last\necho --stderr warn\n")
    result = run(graphsmith_bin, "run", str(script), "--format", "json")
    assert result.returncode == 0
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    assert [(l["cell"], l["type"]) for l in lines] == [(1, "stream"), (2, "execute_result"), (3, "stream")]
    assert lines[1]["data"]["text/plain"] == "2"
    assert lines[2]["name"] == "stderr"


def test_run_errors_name_the_file_line_and_cell(graphsmith_bin, tmp_path):
    script = tmp_path / "steps.gsm"
    script.write_text("echo a\n# %% second\n\necho b\nx = (1 +\n# %%\nnosuchcommand\n")
    result = run(graphsmith_bin, "run", str(script), "-e", "echo ok\nprint $nope")
    assert result.returncode == 1
    # `x = (1 +` is on file line 5, the third line of cell 2 (its blank first line dropped).
    assert f"{script}, line 5 (cell 2, line 2), column" in result.stdout, result.stdout
    assert f"{script}, line 7 (cell 3, line 1), column 1:" in result.stdout, result.stdout
    assert "-e 1, line 2 (cell 4, line 2), column" in result.stdout, result.stdout
    assert "Cell line" not in result.stdout


def test_run_html_report(graphsmith_bin, tmp_path):
    result = run(graphsmith_bin, "run", "-e", "help", "-e", "echo <b>", "--format", "html", "--out", str(tmp_path))
    assert result.returncode == 0
    html = (tmp_path / "report.html").read_text()
    assert "<table" in html and "&lt;b&gt;" in html


def test_install_user_is_found_by_jupyter(graphsmith_bin, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), JUPYTER_DATA_DIR="", JUPYTER_PATH="")
    env.pop("JUPYTER_DATA_DIR")
    result = run(graphsmith_bin, "install", "--user", env=env)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / ".local/share/jupyter/kernels/graphsmith"
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"] == [str(graphsmith_bin), "kernel", "-f", "{connection_file}"]
    assert spec["language"] == "graphsmith" and spec["interrupt_mode"] == "message"
    for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        assert (folder / logo).stat().st_size > 100
    assert (folder / "logo-64x64.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "jupyter"),
                             "kernelspec", "list", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert "graphsmith" in json.loads(listed.stdout)["kernelspecs"]


def test_kernel_takes_the_connection_file_positionally(graphsmith_bin, tmp_path):
    from jupyter_client import BlockingKernelClient
    from jupyter_client.connect import write_connection_file
    path, _ = write_connection_file(str(tmp_path / "conn.json"), ip="127.0.0.1", key=b"secret")
    proc = subprocess.Popen([str(graphsmith_bin), "kernel", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = BlockingKernelClient(connection_file=path)
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=30)
        msg_id = client.kernel_info()
        reply = client.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["language_info"]["name"] == "graphsmith"
        client.stop_channels()
    finally:
        proc.kill()
        proc.wait(timeout=10)
