"""`optimize level=extended` wall time beside onnxsim, onnxslim and onnxruntime's offline optimizer,
in one run on one machine.

    python Benchmarks/passes/bench.py .build/release/pass-bench --corpus ../shared/corpus \
        [--synthetic /tmp/synth10k.onnx] [--runs 5] [--peer-runs 3] [--json out.json]

Ours: `pass-bench` (release build) times the extended preset to a fixed point in process, from the
checked model a session holds (the baseline check is reported apart). Peers, in this process on a
ModelProto already in memory: `onnxsim.simplify`, `onnxslim.slim`, and an onnxruntime session at
ORT_ENABLE_EXTENDED with `optimized_model_filepath` (ORT needs a session to optimize, so its figure
includes parsing the file and writing the result). Medians; node counts exclude Constant nodes.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import tempfile
import time

import onnx


def count(m):
    return sum(1 for n in m.graph.node if n.op_type != "Constant")


def timed(fn, runs):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def peers(path, runs):
    out = {}
    model = onnx.load(str(path))
    try:
        import onnxsim

        def sim():
            m = onnx.ModelProto()
            m.CopyFrom(model)
            return onnxsim.simplify(m)[0]
        ms, m = timed(sim, runs)
        out["onnxsim"] = (ms, count(m))
    except Exception as e:  # a peer that fails on a model is reported, not fatal
        out["onnxsim"] = (None, f"failed: {type(e).__name__}")
    try:
        import onnxslim

        def slim():
            m = onnx.ModelProto()
            m.CopyFrom(model)
            return onnxslim.slim(m)
        ms, m = timed(slim, runs)
        out["onnxslim"] = (ms, count(m))
    except Exception as e:
        out["onnxslim"] = (None, f"failed: {type(e).__name__}")
    try:
        import onnxruntime as ort
        target = pathlib.Path(tempfile.mkdtemp()) / "ort.onnx"

        def offline():
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            so.optimized_model_filepath = str(target)
            ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        ms, _ = timed(offline, runs)
        out["ort_extended"] = (ms, count(onnx.load(str(target), load_external_data=False)))
    except Exception as e:
        out["ort_extended"] = (None, f"failed: {type(e).__name__}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--corpus", default="../shared/corpus")
    ap.add_argument("--synthetic")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-runs", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    corpus = pathlib.Path(a.corpus)
    files = sorted((corpus / "models").glob("*.onnx")) + sorted((corpus / "models" / "light").glob("*.onnx"))
    files += sorted((corpus / "transformers").glob("*.onnx"))
    if a.synthetic:
        files.append(pathlib.Path(a.synthetic))
    ours = json.loads(subprocess.run([a.bench, *map(str, files), "--runs", str(a.runs), "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    rows = []
    print("| model | nodes | ours optimize (ms) | ours + baseline check (ms) | onnxsim (ms) | onnxslim (ms) | ORT extended (ms) "
          "| vs onnxslim | nodes after: ours / onnxsim / onnxslim / ORT ext |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for f, o in zip(files, ours):
        p = peers(f, 1 if o["nodes"] > 5000 else a.peer_runs)
        def ms(k):
            return "—" if p[k][0] is None else f"{p[k][0]:.1f}"
        slim = p["onnxslim"][0]
        ratio = f"{slim / o['optimize_ms']:.1f}×" if slim is not None and o["optimize_ms"] > 0 else "—"
        print(f"| {o['model']} | {o['nodes_before']} | {o['optimize_ms']:.1f} | {o['optimize_ms'] + o['check_ms']:.1f} | {ms('onnxsim')} "
              f"| {ms('onnxslim')} | {ms('ort_extended')} | {ratio} | {o['nodes_after']} / {p['onnxsim'][1]} / {p['onnxslim'][1]} / {p['ort_extended'][1]} |",
              flush=True)
        rows.append({"ours": o, "peers": {k: {"ms": v[0], "nodes": v[1]} for k, v in p.items()}})
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
