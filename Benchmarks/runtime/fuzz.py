"""Driver of `runtime-tool fuzz` (hostile numbers in the ONNX backend node-test models, then
inference, planning and a run: see Benchmarks/runtime/Sources/Fuzz.swift). Runs the tool in
chunks; when the process dies (a crash: a trap, a signal, an allocation failure) the last
`case I ...` line it printed to stderr names the case, which is recorded and skipped, and
the run resumes after it. Prints one JSON summary; exit status 1 when any case crashed.

usage: python Benchmarks/runtime/fuzz.py --tool .build/release/runtime-tool [--count N] [--seed S] [--start I]
                                          [--chunk N] [--dir NODE_TEST_DIR] [--timeout S]
"""
import argparse
import json
import os
import subprocess
import sys
import time


def node_dir():
    import onnx
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="first case index")
    ap.add_argument("--max-tensor-bytes", type=int, default=1 << 28,
                    help="GRAPHSMITH_MAX_TENSOR_BYTES for the runs: a mutant asking for a 2^31-sample window is refused at once")
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--timeout", type=float, default=600, help="seconds per chunk before it counts as a hang")
    a = ap.parse_args(argv)
    directory = a.dir or node_dir()
    i, end = a.start, a.start + a.count
    crashes, hangs, totals = [], [], {"cases": 0, "errors": 0, "inference_problems": 0, "slow_cases": 0}
    slowest = 0.0
    slow_cases = []
    t0 = time.time()
    while i < end:
        n = min(a.chunk, end - i)
        try:
            p = subprocess.run([a.tool, "fuzz", directory, "--count", str(n), "--seed", str(a.seed), "--start", str(i)],
                               capture_output=True, text=True, timeout=a.timeout, env={**os.environ, "SWIFT_BACKTRACE": "enable=no",
                                                                                     "GRAPHSMITH_MAX_TENSOR_BYTES": str(a.max_tensor_bytes)})
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, err, rc = "", (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or ""), None
        last = [line for line in err.splitlines() if line.startswith("case ")]
        if rc == 0 and out.strip():
            r = json.loads(out.strip().splitlines()[-1])
            totals["cases"] += r["cases"]
            totals["errors"] += r["errors"]
            totals["inference_problems"] += r["inference_problems"]
            totals["slow_cases"] += r["hangs"]
            slow_cases.extend(r.get("slow_cases", []))
            slowest = max(slowest, r["slowest_ms"])
            i += n
            continue
        if not last:
            print(json.dumps({"error": f"tool failed before any case (rc {rc})", "stderr": err[-2000:]}))
            return 2
        case = last[-1]
        ci = int(case.split()[1])
        (hangs if rc is None else crashes).append({"rc": rc, "case": case[:400], "tail": err.splitlines()[-3:] if rc else []})
        totals["cases"] += ci - i + 1
        i = ci + 1
    summary = {"count": a.count, "seed": a.seed, "start": a.start, **totals, "crashes": len(crashes), "hangs": len(hangs),
               "slowest_ms": round(slowest, 1), "seconds": round(time.time() - t0, 1),
               "crashed_cases": crashes, "hung_cases": hangs, "slow_case_list": slow_cases}
    print(json.dumps(summary, indent=1))
    return 1 if crashes or hangs or slow_cases else 0


if __name__ == "__main__":
    sys.exit(main())
