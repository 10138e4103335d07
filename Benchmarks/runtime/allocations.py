"""Heap allocations per run in the steady state of a repeated run: `runtime-tool bench` on
each model under the LD_PRELOAD counter `alloc_count.c`; the tool reads the counter before and
after its timed runs (after the warm-ups), so the figure is exactly what a run allocates,
including the output tensors it hands back. Allocations made inside OpenBLAS (its sgemm
packing buffers) are reported apart from ours.

    python Benchmarks/runtime/allocations.py --tool .build/release/runtime-tool [--models all|a,b] [--json out.json]
    python Benchmarks/runtime/allocations.py --tool ... --model FILE.onnx NAME=IN.npy ...

Linux with glibc only (the counter wraps glibc's allocator)."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (model list, reference inputs, single-thread environment)

HERE = os.path.dirname(os.path.abspath(__file__))


def build_counter(out_dir):
    """Compiles alloc_count.c into out_dir; returns the .so path."""
    cc = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    if cc is None:
        raise SystemExit("no C compiler (cc, clang or gcc) to build the allocation counter")
    so = os.path.join(out_dir, "alloc_count.so")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", so, os.path.join(HERE, "alloc_count.c"), "-ldl"], check=True)
    return so


def per_run(tool, so, model, inputs, warmup=3, repeat=20):
    """Allocations per timed run, ours (everything but OpenBLAS's) and OpenBLAS's, as
    `runtime-tool bench` reads them from the preloaded counter around its timed runs."""
    cmd = [tool, "bench", model] + [f"{k}={v}" for k, v in inputs.items()] + ["--warmup", str(warmup), "--repeat", str(repeat)]
    env = bench.child_env()
    env["LD_PRELOAD"] = so
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
    info = json.loads(p.stdout.strip().splitlines()[-1])
    if "allocations_per_run" not in info:
        raise RuntimeError("runtime-tool found no allocation counter (LD_PRELOAD ignored?)")
    return info["allocations_per_run"], info["blas_allocations_per_run"], info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--corpus", default=bench.CORPUS)
    ap.add_argument("--models", default="all")
    ap.add_argument("--model", nargs="+", metavar=("FILE", "NAME=IN"), help="one model file and its inputs")
    ap.add_argument("--json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        so = build_counter(tmp)
        jobs = []
        if a.model:
            jobs.append((os.path.basename(a.model[0]), a.model[0], dict(x.split("=", 1) for x in a.model[1:])))
        else:
            names = bench.every_model(a.corpus) if a.models == "all" else a.models.split(",")
            for name in names:
                ref, model, inputs_dir = bench.reference(name, a.corpus)
                jobs.append((name, model, {i["name"]: os.path.join(inputs_dir, i["file"]) for i in ref["reference_inputs"]}))
        rows = []
        print("| model | steps | ours per run | OpenBLAS per run |")
        print("|---|---:|---:|---:|")
        for name, model, inputs in jobs:
            ours, blas, info = per_run(a.tool, so, model, inputs)
            rows.append({"model": name, "steps": info.get("steps"), "ours": ours, "openblas": blas})
            print(f"| {name} | {info.get('steps')} | {ours:.1f} | {blas:.1f} |", flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
