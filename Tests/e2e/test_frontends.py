"""What each front end shows for every output of the shipped notebooks, from each front end's
own MIME choice rules (Tests/e2e/frontends.py): drawings and tables in JupyterLab 4,
Notebook 7 and VS Code; charts as Vega-Lite there and as their static SVG in nbconvert HTML;
never a JSON tree. The real-browser test (test_jupyterlab.py) looks at JupyterLab itself."""
from __future__ import annotations

import pathlib

import pytest

import frontends
from test_tour import run_notebook

# What a person must see for each command (the first word of a cell's line), in order of the
# outputs it makes. `chart` in nbconvert is its static SVG (`image`).
EXPECTED = {
    "help": ["table"], "summary": ["table"], "tree": ["html"], "info": ["table"], "find": ["table"],
    "hardware": ["table"], "check": ["report"], "estimate": ["table"], "graphs": ["table"], "vars": ["table"],
    "show": ["drawing"], "roofline": ["chart"], "sweep": ["table", "chart"], "llm": ["table", "chart"],
    "history": ["table"], "annotations": ["table"],
    "run": ["table"], "compare": ["table"], "diff": ["table", "drawing"], "plugins": ["table"],
    "pass": ["table"], "optimize": ["table"], "passes": ["table"], "why": ["table"],
    "quantize": ["table"], "convert": ["table"],
    # An edit prints what it did and draws the edited region.
    **{edit: ["drawing"] for edit in ("add", "remove", "bypass", "clone", "connect", "disconnect", "set", "rename",
                                      "input", "output", "initializer", "dims")},
}


def expected(source: str, command: str) -> list[str]:
    """What the command's line must show: `compare` of three or more versions (or view=metrics)
    sets them side by side as a table and a chart."""
    if command == "compare":
        line = next(l for l in source.splitlines() if l.split() and l.split()[0] == "compare")
        versions = [w for w in line.split()[1:] if "=" not in w]
        if len(versions) > 2 or "view=metrics" in line:
            return ["table", "chart"]
    return EXPECTED[command]


def commands_with_outputs(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        rich = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
        lines = [l.split()[0] for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith("#")]
        # One rich command per cell in the shipped notebooks; cells mixing several are checked by kind only.
        commands = [c for c in lines if c in EXPECTED]
        yield index, cell.source, commands, rich


@pytest.mark.parametrize("name", ["tour.ipynb", "sweep.ipynb", "editing.ipynb", "run-and-compare.ipynb",
                                  "compiler-loop.ipynb", "compiler-workflow.ipynb"])
def test_every_output_is_what_a_person_expects(tmp_path, name):
    nb = run_notebook(name, tmp_path)
    ranks = frontends.lab_ranks()
    checked = 0
    for index, source, commands, outputs in commands_with_outputs(nb):
        for out in outputs:
            data = out.data
            lab = frontends.kind(data, frontends.jupyterlab_choice(data, ranks))
            vscode = frontends.kind(data, frontends.vscode_choice(data))
            static = frontends.kind(data, frontends.nbconvert_choice(data))
            where = f"{name} cell {index} ({source.splitlines()[0]!r})"
            for front, seen in (("JupyterLab/Notebook 7", lab), ("VS Code", vscode), ("nbconvert", static)):
                assert seen != "json-tree", f"{where}: {front} shows a JSON tree"
            assert lab == vscode, f"{where}: JupyterLab shows {lab}, VS Code {vscode}"
            assert static == ("image" if lab == "chart" else lab), f"{where}: nbconvert shows {static}, JupyterLab {lab}"
        if len(commands) == 1:
            seen = [frontends.kind(o.data, frontends.jupyterlab_choice(o.data, ranks)) for o in outputs]
            seen = [k for k in seen if k != "progress"]  # a progress bar precedes long commands
            assert seen == expected(source, commands[0]), f"{name} cell {index} {commands[0]}: JupyterLab shows {seen}"
            checked += 1
    assert checked >= (10 if name == "tour.ipynb" else 1)


def test_rank_table_matches_installed_jupyterlab():
    ranks = frontends.lab_ranks()
    for mime, rank in frontends.LAB_RANKS.items():
        assert ranks[mime] == rank, f"{mime}: JupyterLab ranks {ranks[mime]}, table {rank}"
