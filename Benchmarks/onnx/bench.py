#!/usr/bin/env python3
"""ONNX load/save benchmark: Graphsmith's Swift reader/writer (onnx-tool, release build) side by side
with onnx.load / onnx.save (onnx 1.22 C++ protobuf) in one run.

    swift build -c release --product onnx-tool
    /work/main/.venv/bin/python Benchmarks/onnx/bench.py [--repeat 5] [--big-mb 500]

Models: every ONNX file in ../shared/corpus/models (and light/), plus a synthesized external-data
model of --big-mb MB of float32 weights (generated under Benchmarks/onnx/generated/, not committed).
Each tool runs in its own fresh process per model; times are medians of at least --repeat loads
in that process, continued until --min-seconds of loading have passed (page cache warm for both;
the same rule for both tools, so tiny models get hundreds of samples instead of a noisy handful); peak RSS is the process high-water mark (VmHWM), which includes
each runtime's baseline (Python+onnx import, Swift runtime).
"""
import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
import textwrap

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("GRAPHSMITH_SHARED", REPO / ".." / "shared")).resolve()
GEN = REPO / "Benchmarks/onnx/generated"
TOOL = REPO / ".build/release/onnx-tool"

PY_LOAD = textwrap.dedent("""
    import sys, time, statistics, json
    import onnx
    path, repeat, min_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    ts, cs, spent = [], [], 0.0
    while len(ts) < repeat or spent < min_seconds:
        t0, c0 = time.perf_counter(), time.process_time()
        m = onnx.load(path)
        t1 = time.perf_counter()
        ts.append((t1 - t0) * 1000); cs.append((time.process_time() - c0) * 1000)
        spent += t1 - t0
        del m
    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
    print(json.dumps({"ms": statistics.median(ts), "cpu_ms": statistics.median(cs), "rss": int(hwm) * 1024}))
""")

PY_SAVE = textwrap.dedent("""
    import sys, time, statistics, json, os
    import onnx
    path, out, repeat, external = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    m = onnx.load(path)
    ts = []
    for _ in range(repeat):
        for f in (out, out + ".data"):
            if os.path.exists(f): os.remove(f)
        # onnx.save with external data rewrites the proto in place, so save a fresh copy each time.
        mc = onnx.ModelProto(); mc.CopyFrom(m)
        t0 = time.perf_counter()
        if external:
            onnx.save(mc, out, save_as_external_data=True, all_tensors_to_one_file=True,
                      location=os.path.basename(out) + ".data", size_threshold=1024)
        else:
            onnx.save(mc, out)
        ts.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"ms": statistics.median(ts)}))
""")


def synthesize(mb):
    """A chain of MatMuls whose float32 weights total `mb` MB, saved with external data."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    path = GEN / f"big_{mb}mb.onnx"
    if path.exists() and (GEN / f"big_{mb}mb.onnx.data").exists():
        return path
    GEN.mkdir(parents=True, exist_ok=True)
    d = 2048
    layers = max(1, (mb * 1024 * 1024) // (d * d * 4))
    rng = np.random.default_rng(0)
    inits, nodes, x = [], [], "x"
    for i in range(layers):
        inits.append(numpy_helper.from_array(rng.standard_normal((d, d), dtype=np.float32), f"w{i}"))
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"h{i}"], name=f"/layers.{i}/MatMul"))
        x = f"h{i}"
    g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, d])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, d])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location=path.name + ".data", size_threshold=1024)
    return path


def ms(x):
    """Milliseconds with three significant digits at least (small models load in microseconds)."""
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def swift(cmd):
    r = subprocess.run([str(TOOL)] + cmd, capture_output=True, text=True, check=True)
    parts = r.stdout.split()
    return {parts[i]: float(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}


def python(script, *args):
    r = subprocess.run([sys.executable, "-c", script] + [str(a) for a in args], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="at least this many loads per model and tool")
    ap.add_argument("--min-seconds", type=float, default=0.5,
                    help="and more loads until this much load time has passed (same rule for both tools)")
    ap.add_argument("--big-mb", type=int, default=500)
    ap.add_argument("--skip-save", action="store_true")
    ap.add_argument("--only", action="append", default=[], help="model name (stem) to run; repeatable")
    a = ap.parse_args()
    if not TOOL.exists():
        sys.exit("build first: swift build -c release --product onnx-tool")
    models = sorted(glob.glob(str(SHARED / "corpus/models/*.onnx")) + glob.glob(str(SHARED / "corpus/models/light/*.onnx")))
    big = synthesize(a.big_mb)
    models.append(str(big))
    tmp = GEN / "out"
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"| model | file MB | initializer MB | load ms (ours) | load ms (onnx.load) | speed-up | load CPU ms (ours) | load CPU ms (onnx) | CPU speed-up | peak RSS MB (ours) | peak RSS MB (onnx) | save ms (ours) | save ms (onnx.save) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in models:
        name = pathlib.Path(m).stem
        if a.only and name not in a.only:
            continue
        ext = m == str(big)
        size = os.path.getsize(m) + (os.path.getsize(m + ".data") if ext else 0)
        ours = swift(["load-time", m, "--repeat", str(a.repeat), "--min-seconds", str(a.min_seconds)])
        theirs = python(PY_LOAD, m, a.repeat, a.min_seconds)
        row = [name, f"{size / 1e6:.2f}", f"{ours['weight_bytes'] / 1e6:.1f}", ms(ours['load_ms']), ms(theirs['ms']),
               f"{theirs['ms'] / max(ours['load_ms'], 1e-6):.1f}x", ms(ours['cpu_ms']), ms(theirs['cpu_ms']),
               f"{theirs['cpu_ms'] / max(ours['cpu_ms'], 1e-6):.1f}x", f"{ours['peak_rss'] / 1e6:.1f}", f"{theirs['rss'] / 1e6:.1f}"]
        if a.skip_save:
            row += ["-", "-"]
        else:
            flag = ["--external"] if ext else []
            s_ours = swift(["save-time", m, str(tmp / "ours.onnx"), "--repeat", str(a.repeat)] + flag)
            s_theirs = python(PY_SAVE, m, tmp / "theirs.onnx", a.repeat, "1" if ext else "0")
            row += [f"{s_ours['save_ms']:.2f}", f"{s_theirs['ms']:.2f}"]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
