"""How front ends choose one MIME type from an output's bundle, from their own sources.

- JupyterLab 4 and Notebook 7 (same rendermime): the renderer with the lowest rank wins among
  the types it has a renderer for. Ranks are read from the installed JupyterLab's bundle where
  possible (`lab_ranks()`); the table here is the fallback and is checked against it.
- VS Code: the ipynb extension orders output items by its `orderOfMimeTypes` (vendor types
  first), then VS Code's `MimeTypeDisplayOrder.sort` puts types missing from
  `NOTEBOOK_DISPLAY_ORDER` (indexOf -1) first, stable, and the first type with a renderer is
  shown. Renderers: the built-ins plus the Jupyter renderers extension (Vega-Lite, images).
- nbconvert HTML (also what GitHub-like static views follow): the first type of
  `display_data_priority`, read from nbconvert itself.
"""
from __future__ import annotations

import glob
import os
import re
import sys

JSON_TYPES = ("application/json",)
VEGA_LITE = "application/vnd.vegalite.v5+json"

# JupyterLab 4.x rendermime ranks (@jupyterlab/rendermime standardRendererFactories,
# json-extension rank 0, vega5-extension rank 57).
LAB_RANKS = {
    "application/json": 0, "text/html": 50, VEGA_LITE: 57, "text/markdown": 60, "text/latex": 70,
    "image/svg+xml": 80, "image/png": 90, "image/jpeg": 90, "application/javascript": 110, "text/plain": 120,
}

VSCODE_IPYNB_ORDER = [
    "application/vnd.*", "application/vdom.*", "application/geo+json", "application/x-nteract-model-debug+json",
    "text/html", "application/javascript", "image/gif", "text/latex", "text/markdown", "image/png",
    "image/svg+xml", "image/jpeg", "application/json", "text/plain",
]
VSCODE_DISPLAY_ORDER = ["application/json", "application/javascript", "text/html", "image/svg+xml", "text/latex",
                        "text/markdown", "image/png", "image/jpeg", "text/plain"]
VSCODE_RENDERERS = {"application/json", "text/html", "image/svg+xml", "text/latex", "text/markdown", "image/png",
                    "image/jpeg", "image/gif", "text/plain", VEGA_LITE, "application/javascript"}


def lab_ranks() -> dict[str, int]:
    """The ranks in the installed JupyterLab's core bundle (the table above where not found)."""
    ranks = dict(LAB_RANKS)
    static = os.path.join(sys.prefix, "share", "jupyter", "lab", "static")
    for path in glob.glob(os.path.join(static, "jlab_core.*.js")):
        text = open(path, encoding="utf-8", errors="replace").read()
        for mimes, rank in re.findall(r'mimeTypes:\[([^\]]*)\],defaultRank:(\d+)', text):
            for mime in re.findall(r'"([^"]+)"', mimes):
                ranks[mime] = int(rank)
        for name, rank in re.findall(r'@jupyterlab/(json|vega5)-extension:factory"[^}]*?rank:(\d+)', text):
            if name == "json":
                ranks["application/json"] = int(rank)
            else:
                ranks[VEGA_LITE] = int(rank)
    return ranks


def jupyterlab_choice(data: dict, ranks: dict[str, int] | None = None) -> str | None:
    ranks = ranks or LAB_RANKS
    known = [m for m in data if m in ranks]
    return min(known, key=lambda m: ranks[m]) if known else None


def vscode_choice(data: dict) -> str | None:
    def ipynb_index(m: str) -> int:
        for i, pattern in enumerate(VSCODE_IPYNB_ORDER):
            if m.startswith(pattern[:-2] if pattern.endswith(".*") else pattern):
                return i
        return 100
    items = sorted(data, key=ipynb_index)
    items = sorted(items, key=lambda m: VSCODE_DISPLAY_ORDER.index(m) if m in VSCODE_DISPLAY_ORDER else -1)
    for m in items:
        if m in VSCODE_RENDERERS:
            return m
    return None


def nbconvert_choice(data: dict) -> str | None:
    from nbconvert import HTMLExporter
    for m in HTMLExporter().default_config["NbConvertBase"]["display_data_priority"]:
        if m in data:
            return m
    return None


def kind(data: dict, mime: str | None) -> str:
    """What a person sees: drawing, report (table + drawing), table, chart, progress, image, text or json-tree."""
    if mime in JSON_TYPES:
        return "json-tree"
    if mime == VEGA_LITE:
        return "chart"
    if mime == "text/html":
        html = data[mime]
        if "gs-progress" in html:
            return "progress"
        if "gs-report" in html and "gs-view" in html and "<table" in html:
            return "report"  # a table whose node cells link into the drawing under it (`check`)
        if "gs-view" in html or html.lstrip().startswith("<svg"):
            return "drawing"
        return "table" if "<table" in html else "html"
    if mime == "image/svg+xml":
        return "image"
    return "text" if mime == "text/plain" else str(mime)
