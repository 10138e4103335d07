"""What a person sees in JupyterLab: every notebook in notebooks/, run in a real browser.

JupyterLab (from this Python environment) serves a temporary copy of notebooks/ with the freshly
built kernel (conftest.py's JUPYTER_PATH); headless Chromium, driven by selenium and Debian's
chromedriver, opens each notebook, runs all cells from the Run menu and waits for the kernel to go
idle. Then every output is checked for what a person would see, decided from the command that made
it: a drawing with nodes for `show`, a table with rows for `summary`, `find` and the like, a
rendered Vega chart for `roofline`, `sweep` and `llm`, and never JupyterLab's JSON tree. Tab
completion, the Shift-Tab tooltip and the graph viewer's search box are checked in fresh notebooks.

Screenshots (the whole notebook, each cell with rich output, and each rich output) go to
out/screenshots/NOTEBOOK/ (GRAPHSMITH_SCREENSHOTS overrides), with the notebook as JupyterLab saved
it; CI keeps them as artifacts. Skips when chromium, chromedriver, selenium or jupyterlab is
missing, except under CI=true, where scripts/setup.sh installs them and a missing one fails.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import time

import pytest

from jupyterlab_support import Lab, LabServer, missing_tools
from test_tour import copy_ignoring

REPO = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SHOTS = pathlib.Path(os.environ.get("GRAPHSMITH_SCREENSHOTS", REPO / "out" / "screenshots"))

# What each command shows, by the command's name: the kinds of output a person must see, in order.
# () : plain text or nothing (stream lines, a printed value), so no rich output is required; the
# checks that apply to every output (no JSON tree, no error) still do. Outputs beyond these (the
# progress bar of `sweep`) are allowed.
EXPECTED = {
    "show": ("drawing",),
    "summary": ("table",), "find": ("table",), "info": ("table",), "estimate": ("table",), "vars": ("table",),
    "hardware": ("table",), "graphs": ("table",), "check": ("report",),
    "roofline": ("chart",), "sweep": ("table", "chart"), "llm": ("table", "chart"),
    "tree": ("html",), "help": ("html",),
    "load": (), "use": (), "close": (), "export": (), "echo": (), "print": (),
    "del": (), "sleep": (), "clear": (), "display": (),
    # Editing: edits print what they did (and what they broke) and draw the edited region (one
    # drawing per cell, refreshed in place by the cell's later edits); history and annotations are tables.
    "add": ("drawing",), "remove": ("drawing",), "bypass": ("drawing",), "clone": ("drawing",),
    "connect": ("drawing",), "disconnect": ("drawing",), "set": ("drawing",), "rename": ("drawing",),
    "input": ("drawing",), "output": ("drawing",), "initializer": ("drawing",), "dims": ("drawing",),
    "annotate": (), "undo": (), "redo": (), "checkout": (),
    "history": ("table",), "annotations": ("table",),
    # Running: run and compare are tables (a progress bar only past one second); profile import prints a line.
    "run": ("table",), "compare": ("table",), "profile": (),
    # Transforming: diff shows its table then the side-by-side drawing; compile prints what it did.
    "diff": ("table", "drawing"), "plugins": ("table",), "compile": (),
    # Passes: each run is a table of what every pass did; `why` is a table of near misses.
    "pass": ("table",), "optimize": ("table",), "passes": ("table",), "why": ("table",),
    "quantize": ("table",), "convert": ("table",),
    # Subcommands that write a file print a line, not the table of the command alone.
    "history export": (), "overrides export": (), "overrides apply": (), "journal delete": (),
}
EDITS = {"add", "remove", "bypass", "clone", "connect", "disconnect", "set", "rename", "input", "output",
         "initializer", "dims"}
DESCRIBE = {
    "drawing": "an SVG drawing with nodes",
    "table": "a table with rows",
    "chart": "a rendered Vega chart (a canvas or SVG inside vega-embed)",
    "html": "rendered HTML",
    "report": "a table whose node cells link into a drawing with the problem nodes marked",
}
RUN_TIMEOUT = 180


def _require_tools() -> None:
    missing = missing_tools()
    if not missing:
        return
    message = "the JupyterLab browser test needs " + ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (scripts/setup.sh installs them)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory) -> pathlib.Path:
    """A copy of notebooks/ (every notebook and the files they read), without earlier outputs."""
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=copy_ignoring("out", ".ipynb_checkpoints", "__pycache__"))
    # Saved outputs and prompts would look like a finished run before Run All has started.
    for path in root.glob("*.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        path.write_text(json.dumps(nb, indent=1))
    return root


@pytest.fixture(scope="module")
def lab(lab_root, tmp_path_factory):
    _require_tools()
    state = tmp_path_factory.mktemp("lab-state")
    server = LabServer(lab_root, state, state / "jupyter-lab.log")
    browser = None
    try:
        browser = Lab(server, state / "chromium-profile")
        yield browser
    finally:
        if browser is not None:
            browser.quit()
        server.stop()


# MARK: which commands a cell runs


def logical_lines(source: str) -> list[str]:
    """The cell's command lines as the kernel reads them: comments dropped, blank lines skipped, a
    trailing backslash or an open bracket continuing onto the next line."""
    lines, pending, depth = [], "", 0
    for raw in source.splitlines():
        text, quote = "", None
        for ch in raw:
            if quote:
                quote = None if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            text += ch
        text = text.rstrip()
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        pending += text + " "
        if depth == 0:
            if pending.strip():
                lines.append(" ".join(pending.split()))
            pending = ""
    if pending.strip():
        lines.append(" ".join(pending.split()))
    return lines


def cell_commands(source: str) -> list[tuple[str, str]]:
    """(command name, line) for each command line; assignments (`NAME = EXPR`) run no command.
    A command with a subcommand that EXPECTED names on its own (`history export`) is that pair."""
    commands = []
    for line in logical_lines(source):
        match = re.match(r"([A-Za-z_][\w-]*)\s*(=(?!=))?", line)
        if match and not match.group(2):
            words = line.split()
            pair = " ".join(words[:2])
            commands.append((pair if len(words) > 1 and pair in EXPECTED else match.group(1), line))
    return commands


def test_cell_commands_reads_lines_as_the_kernel_does():
    source = 'layer = 1\nshow /a depth=2  # comment\n\nsweep batch=[1,\n 2] \\\n  metric=latency\nx == 1\nprint "a # b"'
    assert cell_commands(source) == [
        ("show", "show /a depth=2"), ("sweep", "sweep batch=[1, 2] metric=latency"),
        ("x", "x == 1"), ("print", 'print "a # b"')]
    assert cell_commands("history export out/a.gsm\nhistory") == [
        ("history export", "history export out/a.gsm"), ("history", "history")]


# MARK: what an output shows


def features(output: dict) -> set[str]:
    """The kinds a rendered output satisfies (see Lab.snapshot for the fields)."""
    found = set()
    if output["jsonTree"]:
        found.add("json-tree")
    if output["mime"] == "application/vnd.jupyter.stderr":
        found.add("error")
    if output["vegaMarks"] > 0:
        found.add("chart")
    if output["drawingNodes"] > 0 and output["drawingArea"] > 0:
        found.add("drawing")
    if output["tableRows"] > 0:
        found.add("table")
    if output["html"] and output["text"].strip():
        found.add("html")
    if {"table", "drawing"} <= found and output.get("links", 0) > 0 and output.get("marked", 0) > 0:
        found.add("report")
    return found


def seen(output: dict) -> str:
    """What a person sees in one output, in words, for failure messages."""
    text = output["text"].strip().replace("\n", " ")[:100]
    if output["jsonTree"]:
        return f"a JSON tree ({text!r})"
    if output["mime"] == "application/vnd.jupyter.stderr":
        return f"an error ({text!r})"
    if output["vega"]:
        return "a Vega chart" + ("" if output["vegaMarks"] else " element with nothing drawn in it")
    if output["drawingNodes"]:
        return f"a drawing of {output['drawingNodes']} nodes" + ("" if output["drawingArea"] else " with zero size")
    if output["image"]:
        return f"an image ({output['image']})"
    if output["html"]:
        return f"HTML with {output['tableRows']} table rows ({text!r})"
    return f"{output['mime'] or output['cls']} ({text!r})"


def check_cell(name: str, index: int, source: str, outputs: list[dict], owners: dict[int, str] | None = None) -> list[str]:
    """Failures for one code cell: each command's expected kind must appear, in order, among the
    cell's outputs; no output may be an error or (unless the cell displays JSON on purpose) a JSON tree.
    `owners`, when given, receives the command that each matched output belongs to."""
    where = f"{name} cell {index}"
    failures = []
    owners = {} if owners is None else owners
    commands = cell_commands(source)
    json_on_purpose = any(cmd == "display" and "application/json" in line for cmd, line in commands)
    position = 0
    edited = False  # the cell's later edits refresh its first edit's drawing
    for command, line in commands:
        if command not in EXPECTED:
            failures.append(f"{where}: no expectation for command `{command}`; add it to EXPECTED in {pathlib.Path(__file__).name}")
            continue
        expected = EXPECTED[command]
        if expected == ("drawing",) and command in EDITS:
            expected, edited = (() if edited else expected), True
        for kind in expected:
            match = next((j for j in range(position, len(outputs)) if kind in features(outputs[j])), None)
            if match is None:
                rest = [seen(o) for o in outputs[position:]] or ["no output"]
                failures.append(f"{where} (`{line}`): expected {DESCRIBE[kind]}, saw " + "; ".join(rest))
            else:
                owners[match] = command
                position = match + 1
    # Errors always count; a JSON tree counts here when it is not already named above.
    for k, output in enumerate(outputs):
        kinds = features(output)
        if "error" in kinds:
            failures.append(f"{where}, output {k}: {seen(output)}")
        elif "json-tree" in kinds and not json_on_purpose and not any(seen(output) in f for f in failures):
            failures.append(f"{where}, output {k}: a JSON tree where {describe_cell(commands)} belongs: {seen(output)}")
    return failures


def describe_cell(commands: list[tuple[str, str]]) -> str:
    kinds = [DESCRIBE[kind] for c, _ in commands for kind in EXPECTED.get(c, ())]
    return " or ".join(dict.fromkeys(kinds)) or "plain text"


def test_check_cell_names_notebook_cell_and_what_was_seen():
    blank = {"cls": "", "mime": "", "text": "", "jsonTree": False, "vega": False, "vegaMarks": 0,
             "drawingNodes": 0, "drawingArea": 0, "tableRows": 0, "html": False, "image": ""}
    tree = dict(blank, cls="jp-RenderedJSON", jsonTree=True, text="root collapsed_groups 0")
    drawing = dict(blank, html=True, text="fit", drawingNodes=12, drawingArea=5000.0)
    assert check_cell("t.ipynb", 11, "show", [drawing]) == []
    failures = check_cell("t.ipynb", 11, "show", [tree])
    assert failures == ["t.ipynb cell 11 (`show`): expected an SVG drawing with nodes, saw a JSON tree ('root collapsed_groups 0')"]
    extra = check_cell("t.ipynb", 11, "show", [drawing, tree])
    assert extra == ["t.ipynb cell 11, output 1: a JSON tree where an SVG drawing with nodes belongs: a JSON tree ('root collapsed_groups 0')"]
    table = dict(blank, html=True, text="a 1", tableRows=3)
    chart = dict(blank, vega=True, vegaMarks=1)
    assert check_cell("t.ipynb", 5, "sweep batch=1,2", [table, chart]) == []
    assert check_cell("t.ipynb", 5, "sweep batch=1,2", [chart, table])[0].startswith(
        "t.ipynb cell 5 (`sweep batch=1,2`): expected a rendered Vega chart")
    assert check_cell("t.ipynb", 3, "frob 1", [])[0].startswith("t.ipynb cell 3: no expectation for command `frob`")
    # `check`: the table, the drawing, links and marked nodes in one output; a plain table is not enough.
    report = dict(blank, html=True, text="broken: 3 error(s)", tableRows=3, drawingNodes=7, drawingArea=5000.0, links=3, marked=3)
    assert check_cell("t.ipynb", 20, "check", [report]) == []
    assert check_cell("t.ipynb", 20, "check", [dict(report, links=0)])[0].startswith(
        "t.ipynb cell 20 (`check`): expected a table whose node cells link into a drawing")
    assert check_cell("t.ipynb", 20, "check", [table])[0].startswith("t.ipynb cell 20 (`check`): expected a table whose")


# MARK: the browser tests


def notebook_paths() -> list[pathlib.Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_is_checked():
    """Guards the glob below: the notebooks folder is where the tour lives."""
    assert NOTEBOOKS.joinpath("tour.ipynb") in notebook_paths()


@pytest.mark.parametrize("notebook", notebook_paths(), ids=lambda p: p.name)
def test_notebook_renders_in_jupyterlab(lab, notebook):
    cells = json.loads(notebook.read_text())["cells"]
    wanted = {m for c in cells if c["cell_type"] == "code" for m in re.findall(r"^load (models/\S+)", "".join(c["source"]), re.M)}
    if missing := sorted(m for m in wanted if not (NOTEBOOKS / m).exists()):
        pytest.skip(f"{notebook.name} reads {', '.join(missing)}, which links into ../shared (absent)")
    shots = SHOTS / notebook.stem
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    started = time.monotonic()
    try:
        lab.open(notebook.name)
        lab.run_all(timeout=RUN_TIMEOUT)
        snapshot = lab.snapshot()
    finally:
        lab.screenshot_notebook(shots / "notebook.png")
    assert len(snapshot) == len(cells), f"{notebook.name}: JupyterLab shows {len(snapshot)} cells, the file has {len(cells)}"
    failures = []
    for index, (cell, shown) in enumerate(zip(cells, snapshot)):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if not re.fullmatch(r"\[\d+\]:", shown["prompt"]):
            failures.append(f"{notebook.name} cell {index}: did not run (prompt {shown['prompt']!r})")
        owners: dict[int, str] = {}
        failures += check_cell(notebook.name, index, source, shown["outputs"], owners)
        rich = [k for k, o in enumerate(shown["outputs"])
                if o["mime"] not in ("application/vnd.jupyter.stdout", "application/vnd.jupyter.stderr")]
        for k in rich:
            lab.screenshot_output(index, k, shots / f"cell{index:02d}-{k}-{owners.get(k, 'output')}.png")
        if rich:
            lab.screenshot_output(index, None, shots / f"cell{index:02d}.png")
    lab.close_all()
    shutil.copy(lab.server.root / notebook.name, shots / notebook.name)  # as saved from JupyterLab, with outputs
    print(f"{notebook.name}: {len(cells)} cells checked in {time.monotonic() - started:.1f} s; screenshots in {shots}")
    assert not failures, f"{len(failures)} problem(s) in {notebook.name} as JupyterLab shows it:\n" + "\n".join(failures)


def test_tab_completion_and_shift_tab_tooltip(lab, lab_root):
    shots = SHOTS / "completion"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    name = "completion-check.ipynb"
    lab.write_notebook(lab_root / name, ["", ""])
    lab.open(name)

    items = lab.complete(0, "s", shot=shots / "completer.png")
    assert {"show", "summary", "sweep"} <= set(items), f"Tab after `s` listed {items}"

    # Paths complete from the kernel's folder (the notebook's); Enter inserts the chosen file.
    items = lab.complete(0, "load models/tiny_b", accept="tiny_bert.onnx")
    assert "tiny_bert.onnx" in items, f"Tab after `load models/tiny_b` listed {items}"
    assert lab.cell_text(0) == "load models/tiny_bert.onnx", f"choosing the file left {lab.cell_text(0)!r}"

    tooltip = lab.tooltip(1, "show")
    lab.screenshot(shots / "tooltip.png")
    assert "show" in tooltip and "depth" in tooltip, f"Shift-Tab after `show` showed {tooltip!r}"
    lab.close_all()


def test_graph_viewer_script_runs_in_jupyterlab(lab, lab_root):
    """The drawing is JupyterLab's trusted HTML output, so the viewer's script runs: search answers."""
    name = "viewer-check.ipynb"
    lab.write_notebook(lab_root / name, ["load models/tiny_bert.onnx\nshow /encoder/layer.0/attention depth=2"])
    lab.open(name)
    lab.run_all(timeout=60)
    message = lab.viewer_search("Softmax")
    shots = SHOTS / "viewer"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    lab.screenshot_output(0, None, shots / "search.png")
    assert re.match(r"1 of \d+: ", message), f"searching the viewer for Softmax said {message!r}"
    lab.close_all()


def test_check_links_focus_the_node_in_jupyterlab(lab, lab_root):
    """`check` on a broken model: clicking a row's node link (a real click in JupyterLab, whose own
    link handling sees the anchor too) centres that node in the drawing beside the table and opens
    its panel, without leaving the notebook."""
    name = "check-links.ipynb"
    lab.write_notebook(lab_root / name, ["load models/broken.onnx\ncheck"])
    lab.open(name)
    lab.run_all(timeout=60)
    before = lab.driver.current_url
    shots = SHOTS / "check"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    for index in (2, 0):
        node, focused, selected, url = lab.click_node_link(index)
        assert focused == node and selected == node, f"link {index} to {node}: viewer focused {focused}, panel {selected}"
        assert url.split("#")[0] == before.split("#")[0], f"the click navigated to {url}"
        lab.screenshot_output(0, None, shots / f"link{index}.png")
    lab.close_all()
