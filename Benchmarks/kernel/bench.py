#!/usr/bin/env python3
"""Kernel benchmark: Graphsmith's Swift kernel next to ipykernel, in one run, same client.

1. Round trips through jupyter_client (../shared/bench/kernel_roundtrip.py, skipped when
   absent): cold start to kernel_info_reply, trivial execute p50/p99 and executes/s
   (sequential and 32 in flight), 1 MB output delivery, complete and inspect p50.
2. Kernel-side cost of one 1 MB SVG display_data (serialize + sign + frame), Swift
   (`kernel-bench`) next to jupyter_client's own Session.serialize (what ipykernel does).

Usage (from the repo root, after `swift build -c release`):
    .venv/bin/python Benchmarks/kernel/bench.py [--quick] [--no-ipykernel]
Figures go to stdout as a table; raw JSON to Benchmarks/kernel/generated/.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROUNDTRIP = ROOT.parent / "shared" / "bench" / "kernel_roundtrip.py"
OUT = ROOT / "Benchmarks" / "kernel" / "generated"

RECT = '<rect x=\\"1\\" y=\\"2\\" width=\\"1\\" height=\\"1\\" fill=\\"#123456\\"/>'
GRAPHSMITH_ARGS = [
    "--trivial-code", "x = 1",
    "--setup-code", f'svg = "<svg xmlns=\\"http://www.w3.org/2000/svg\\">" + "{RECT}" * 18000 + "</svg>"',
    "--large-code", "display $svg mime=image/svg+xml",
    "--complete-code", "ech",
    "--inspect-code", "echo",
]


def sh(cmd, **kw):
    print("+", " ".join(map(str, cmd)), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def install_kernelspecs(prefix: pathlib.Path, binary: pathlib.Path) -> None:
    sh([str(binary), "install", "--prefix", str(prefix)], stdout=subprocess.DEVNULL)
    spec = prefix / "share" / "jupyter" / "kernels" / "bench-ipykernel"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "ipykernel (bench)", "language": "python"}))


def roundtrip(kernel: str, extra: list[str], quick: bool) -> dict | None:
    if not ROUNDTRIP.exists():
        print(f"(skipping round trips: {ROUNDTRIP} not found)", file=sys.stderr)
        return None
    sizes = ["-n", "300", "--pipeline-n", "300", "--large-n", "15", "--small-n", "100", "--starts", "3"] if quick else []
    result = sh([sys.executable, str(ROUNDTRIP), kernel, *sizes, *extra], capture_output=True, text=True)
    sys.stderr.write(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def python_serialize_cost(n: int) -> dict:
    """What jupyter_client (and so ipykernel) spends on the same 1 MB display_data."""
    from jupyter_client.session import Session
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1000">'
           + "".join('<rect x="%d" y="%d" width="1" height="1" fill="#123456"/>' % (i % 1000, i // 1000)
                     for i in range(18000)) + "</svg>")
    session = Session(key=os.urandom(16).hex().encode())
    content = {"data": {"image/svg+xml": svg, "text/plain": "<Graph view>"}, "metadata": {}, "transient": {}}
    samples = []
    for i in range(n + 5):
        t = time.perf_counter()
        msg = session.msg("display_data", content)
        session.serialize(msg)
        if i >= 5:
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"svg_chars": len(svg), "p50_ms": round(statistics.median(samples), 3),
            "p99_ms": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 3)}


def fmt(value, unit=""):
    return "n/a" if value is None else f"{value}{unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke run)")
    ap.add_argument("--no-ipykernel", action="store_true")
    args = ap.parse_args()

    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
    binary = pathlib.Path(bin_dir) / "graphsmith"
    bench = pathlib.Path(bin_dir) / "kernel-bench"
    if not binary.exists() or not bench.exists():
        sh(["swift", "build", "-c", "release", "--product", "graphsmith"], cwd=ROOT)
        sh(["swift", "build", "-c", "release", "--product", "kernel-bench"], cwd=ROOT)

    prefix = pathlib.Path(tempfile.mkdtemp(prefix="graphsmith-bench-"))
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ.setdefault("JUPYTER_RUNTIME_DIR", str(prefix / "runtime"))
    try:
        install_kernelspecs(prefix, binary)
        results = {"graphsmith": roundtrip("graphsmith", GRAPHSMITH_ARGS, args.quick)}
        if not args.no_ipykernel:
            results["ipykernel"] = roundtrip("bench-ipykernel", [], args.quick)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)

    swift_cost = json.loads(sh([str(bench), "50" if args.quick else "200"], capture_output=True, text=True).stdout)
    py_cost = python_serialize_cost(20 if args.quick else 100)

    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (OUT / f"kernel-{stamp}.json").write_text(json.dumps(
        {"roundtrip": results, "kernel_side_1mb": {"swift": swift_cost, "jupyter_client": py_cost}}, indent=1))

    rows = []

    def get(r, *path):
        for key in path:
            if not isinstance(r, dict) or key not in r:
                return None
            r = r[key]
        return r

    def row(label, *path, scale=1.0, nd=1):
        vals = []
        for name in ("graphsmith", "ipykernel"):
            v = get(results.get(name), *path)
            vals.append(v if v is None or isinstance(v, bool) else round(v * scale, nd))
        rows.append((label, *vals))

    row("cold start to kernel_info_reply, median (ms)", "cold_start_ms", "precise", "median")
    row("cold start, libzmq default reconnect (ms)", "cold_start_ms", "zmq_default_reconnect", "median")
    row("shutdown_request -> process exit (ms)", "cold_start_ms", "precise", "shutdown_exit_median")
    row("trivial execute p50 (us)", "exec_us", "p50")
    row("trivial execute p99 (us)", "exec_us", "p99")
    row("sequential executes/s", "exec_per_s_sequential")
    row("pipelined executes/s (32 in flight)", "exec_pipelined", "exec_per_s")
    row("pipelined stalled", "exec_pipelined", "stalled")
    row("1 MB output delivery p50 (ms)", "large_output_ms", "p50", nd=2)
    row("complete_request p50 (us)", "complete_us", "p50")
    row("inspect_request p50 (us)", "inspect_us", "p50")
    row("kernel RSS after run (MB)", "kernel_rss_mb_after_pipeline")

    print(f"{'figure':48} {'graphsmith':>12} {'ipykernel':>12}")
    for label, a, b in rows:
        print(f"{label:48} {fmt(a):>12} {fmt(b):>12}")
    print()
    print("kernel-side cost of one 1 MB SVG display_data (serialize + sign + frames):")
    print(f"  Swift kernel (kernel-bench):        p50 {swift_cost['large_display_data_build_and_sign']['p50_ms']} ms, "
          f"p99 {swift_cost['large_display_data_build_and_sign']['p99_ms']} ms "
          f"(serialize {swift_cost['large_serialize_only']['p50_ms']} ms, sign {swift_cost['large_sign_only']['p50_ms']} ms, "
          f"parse {swift_cost['large_parse']['p50_ms']} ms)")
    print(f"  jupyter_client Session.serialize:   p50 {py_cost['p50_ms']} ms, p99 {py_cost['p99_ms']} ms")
    print(f"  trivial execute_reply build+sign (Swift): p50 {swift_cost['trivial_reply_build_and_sign']['p50_ms'] * 1000:.1f} us")


if __name__ == "__main__":
    main()
