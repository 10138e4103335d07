"""Editing benchmark: one edit plus re-validation, and undo/redo, in Graphsmith (`edit-bench`,
release build: the same Transaction + IncrementalCheck the edit commands run) side by side with
the same edit done as a Python user does it today (onnx.load, insert an Identity on a node's
output and rewire its consumers, onnx.shape_inference.infer_shapes, onnx.save), in one run,
on the 10k-node synthetic transformer and layout_cdla.

usage: python Benchmarks/editing/bench_edit.py EDIT_BENCH --synthetic FILE.onnx [--corpus DIR] [--runs N]
(the synthetic model comes from `estimate-bench --write-synthetic FILE.onnx`)
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import onnx
import onnx.helper
import onnx.shape_inference


def python_edit_ms(path, runs):
    """Median ms of load + edit + infer_shapes + save, the whole round a Python user pays per edit."""
    times = []
    out = os.path.join(tempfile.mkdtemp(), "edited.onnx")
    for r in range(runs):
        t0 = time.perf_counter()
        model = onnx.load(path)
        g = model.graph
        used = {i for n in g.node for i in n.input}
        candidates = [n for n in g.node if n.output and n.output[0] in used]
        target = candidates[(len(candidates) // 2 + r * 7919) % len(candidates)]
        edge = target.output[0]
        new = f"{edge}_probe{r}"
        for n in g.node:
            for k, name in enumerate(n.input):
                if name == edge:
                    n.input[k] = new
        g.node.append(onnx.helper.make_node("Identity", [edge], [new]))
        # Keep topological order as onnx's checker wants: move the node after its producer.
        nodes = list(g.node)
        ident = nodes.pop()
        nodes.insert(nodes.index(target) + 1, ident)
        del g.node[:]
        g.node.extend(nodes)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        onnx.save(model, out)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--synthetic", required=True)
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "../../../shared/corpus"))
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    files = [a.synthetic]
    cdla = os.path.join(a.corpus, "models", "layout_cdla.onnx")
    if os.path.exists(cdla):
        files.append(cdla)
    ours = json.loads(subprocess.run([a.bench, *files, "--runs", str(a.runs), "--json"], check=True,
                                     capture_output=True, text=True, timeout=1200).stdout)
    print("| model | nodes | edit (ms) | re-check (ms) | edit + re-check p50 (ms) | p99 | full re-check (ms) | undo/redo (ms) "
          "| Python onnx load+edit+infer+save (ms) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row, path in zip(ours, files):
        py = python_edit_ms(path, max(3, min(a.runs, 10)))
        total = row["edit_plus_check_p50_ms"]
        print(f"| {row['model']} | {row['nodes']} | {row['edit_p50_ms']:.3f} | {row['check_p50_ms']:.3f} | {total:.3f} "
              f"| {row['edit_plus_check_p99_ms']:.3f} | {row['full_recheck_p50_ms']:.2f} | {row['undo_redo_p50_ms']:.5f} "
              f"| {py:.1f} | {py / total:.0f}x |")


if __name__ == "__main__":
    main()
