"""Notebook runners end to end: nbclient executes a Graphsmith notebook; papermill (its
plain CLI) injects parameters through the graphsmith_papermill translator."""
from __future__ import annotations

import shutil
import subprocess
import sys
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def make_notebook(cells, parameters=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "graphsmith", "display_name": "Graphsmith", "language": "graphsmith"}
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells.extend(nbformat.v4.new_code_cell(c) for c in cells)
    return nb


def test_nbclient_runs_a_notebook():
    nb = make_notebook(["echo hello from a notebook", "x = 20\nprint x + 22", "help", "clear\necho after clear"])
    NotebookClient(nb, timeout=60, kernel_name="graphsmith").execute()
    assert nb.metadata["language_info"]["name"] == "graphsmith"
    out = [c.outputs for c in nb.cells]
    assert out[0][0]["output_type"] == "stream" and out[0][0]["text"] == "hello from a notebook\n"
    assert out[1][0]["output_type"] == "execute_result" and out[1][0]["data"]["text/plain"] == "42"
    assert "text/html" in out[2][0]["data"]
    assert [o["output_type"] for o in out[3]] == ["stream"], "clear removed earlier output of the cell"
    assert [c.execution_count for c in nb.cells] == [1, 2, 3, 4]


def test_nbclient_stops_on_error_and_allows_tagged_errors():
    nb = make_notebook(["echo one", "nosuchcommand", "echo never"])
    with pytest.raises(CellExecutionError) as info:
        NotebookClient(nb, timeout=60, kernel_name="graphsmith").execute()
    assert "nosuchcommand" in str(info.value)
    assert nb.cells[1].outputs[0]["output_type"] == "error"
    assert nb.cells[2].outputs == []

    nb = make_notebook(["nosuchcommand", "echo next"])
    nb.cells[0].metadata["tags"] = ["raises-exception"]
    NotebookClient(nb, timeout=60, kernel_name="graphsmith").execute()
    assert nb.cells[1].outputs[0]["text"] == "next\n"


def test_papermill_injects_parameters(tmp_path):
    papermill = pathlib.Path(sys.executable).with_name("papermill")
    if not papermill.exists():
        pytest.skip("papermill CLI not installed")
    src, dst = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nb = make_notebook(["print batch * 2", "print name", "print opts"],
                       parameters='batch = 1\nname = "default"\nopts = None')
    nbformat.write(nb, src)
    result = subprocess.run(
        [str(papermill), str(src), str(dst), "-p", "batch", "8", "-p", "name", 'res"net.onnx',
         "-y", "opts: {a: [1, 2.5, true, null]}"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = nbformat.read(dst, as_version=4)
    injected = out.cells[1]
    assert "injected-parameters" in injected.metadata["tags"]
    assert injected.source.splitlines()[0] == "# Parameters"
    assert 'batch = 8' in injected.source and 'name = "res\\"net.onnx"' in injected.source
    results = [c.outputs[0]["data"]["text/plain"] for c in out.cells[2:]]
    assert results[0] == "16"
    assert results[1] == 'res"net.onnx'
    assert results[2] == '{"a": [1, 2.5, True, None]}'
