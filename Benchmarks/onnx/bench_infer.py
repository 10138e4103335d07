"""Shape inference benchmark: GraphOps symbolic inference (`onnx-tool infer FILE --repeat N`,
release build, median and minimum ms of in-process runs after loading) side by side with
`onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)` (median ms, model
already loaded), in the same run, on the 10k-node synthetic transformer and every corpus model.

usage: python Benchmarks/onnx/bench_infer.py ONNX_TOOL [--synthetic FILE.onnx] [--corpus DIR] [--repeat N]
                                             [--baseline OTHER_ONNX_TOOL]
(the synthetic model comes from `estimate-bench --write-synthetic FILE.onnx`). `onnx rt` is one
protobuf round trip of the model (serialize + parse; `infer_shapes` does two, Python -> C++ and
back). `floor ms` is the median time to build a by-name table of the result (one dictionary entry
and one fresh shape array per value): what the result cost before the packed walk
(GraphOps PackedWalk.swift), which keeps CNN-like graphs' facts in records by slot instead and so
goes below it; the general walk, which the others take, still builds such a table. `--baseline`
adds the median of another build (an older commit), same run.
"""
import argparse
import glob
import os
import subprocess
import sys
import time

import onnx
import onnx.shape_inference


def ours_ms(tool, path, repeat):
    out = subprocess.run([tool, "infer", path, "--repeat", str(repeat)], check=True, capture_output=True,
                         text=True, timeout=600).stdout
    first = out.splitlines()[0].split()
    field = lambda k: first[first.index(k) + 1]
    floor = float(field("floor_ms")) if "floor_ms" in first else float("nan")
    return float(first[1]), int(field("problems")), int(field("nodes")), float(field("min_ms")), floor


def onnx_ms(path, repeat):
    model = onnx.load(path, load_external_data=False)
    times, kept = [], []
    spent = 0.0
    while len(times) < repeat or (spent < 1.0 and len(times) < 50):
        t0 = time.perf_counter()
        # Kept alive (as the Swift side does): the timing excludes freeing the result.
        kept.append(onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True))
        dt = time.perf_counter() - t0
        times.append(dt * 1000)
        spent += dt
    times.sort()
    return times[len(times) // 2]


def onnx_roundtrip_ms(path, repeat):
    """Median ms of one protobuf round trip of the model (serialize + parse in Python).
    `infer_shapes` does two (Python -> C++ and back), so this says how much of onnx's time is
    moving the model rather than inferring."""
    model = onnx.load(path, load_external_data=False)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        onnx.ModelProto.FromString(model.SerializeToString())
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--synthetic")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "../../../shared/corpus"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--baseline")
    a = ap.parse_args()
    files = []
    if a.synthetic:
        files.append(a.synthetic)
    c = a.corpus
    files += sorted(glob.glob(f"{c}/models/*.onnx") + glob.glob(f"{c}/models/light/*.onnx") + glob.glob(f"{c}/transformers/*.onnx"))
    print(f"{'model':28} {'nodes':>6} {'ours ms':>9} {'ours min':>9} {'floor ms':>9} {'onnx ms':>9} {'onnx rt':>8} {'speed-up':>9} {'problems':>8}"
          + (f" {'before ms':>9}" if a.baseline else ""))
    for f in files:
        ours, problems, nodes, best, floor = ours_ms(a.tool, f, a.repeat)
        theirs = onnx_ms(f, max(3, a.repeat // 4))
        rt = onnx_roundtrip_ms(f, max(3, a.repeat // 4))
        before = f" {ours_ms(a.baseline, f, a.repeat)[0]:9.3f}" if a.baseline else ""
        name = os.path.basename(f).removesuffix(".onnx")
        print(f"{name:28} {nodes:6} {ours:9.3f} {best:9.3f} {floor:9.3f} {theirs:9.2f} {rt:8.2f} {theirs / ours:8.1f}x {problems:8}{before}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
