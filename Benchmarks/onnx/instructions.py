"""Instructions per shape inference, counted by callgrind: a figure that does not move with the
machine's minute. Wall-clock medians of `bench_infer.py` move by 20-40% between runs on the
shared 2-core VM, far more than most changes to the inference walk, so an A/B of two builds by
time needs many alternating rounds. The instruction count of the same inference, run with
deterministic hashing and without address randomization (both set here), repeats to within a few
instructions (compare counts taken with the same --repeat: a different count moves them by a few
percent, since malloc's free lists differ).

Each count is the difference between `onnx-tool infer FILE --bare --repeat N+1` and
`--repeat 1` under `valgrind --tool=callgrind`, divided by N: what one inference costs,
including freeing its result, without the process start, the model load or the one-time
decoding of the op registry.

usage: python Benchmarks/onnx/instructions.py ONNX_TOOL [--baseline OTHER_ONNX_TOOL] [--baseline-walk general]
                                              [--repeat N] [--functions K] MODEL.onnx...
`--functions K` adds, per model, the K functions with the most instructions of their own
(per inference). `--baseline` adds another build's count and the ratio (an older commit, say).
Needs valgrind (`apt-get install valgrind`) and setarch (util-linux).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile


def callgrind(tool, model, repeat, out, extra=()):
    # Deterministic hashing and no address randomization: with a random seed each process lays
    # out its tables differently, and the one-time registry decoding differs between the two
    # processes by more than a small model's whole inference.
    env = dict(os.environ, SWIFT_DETERMINISTIC_HASHING="1")
    subprocess.run(["setarch", "-R", "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", tool, "infer",
                    model, "--bare", "--repeat", str(repeat), *extra], check=True, capture_output=True, timeout=1800, env=env)
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", out], check=True,
                          capture_output=True, text=True).stdout
    total, per = 0, collections.Counter()
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([ \d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        if m.group(2).startswith("PROGRAM TOTALS"):
            total = n
        elif ":" in m.group(2):
            per[m.group(2).split(" [")[0]] += n
    return total, per


def per_inference(tool, model, repeat, extra=()):
    with tempfile.TemporaryDirectory() as d:
        one, one_per = callgrind(tool, model, 1, os.path.join(d, "a.out"), extra)
        many, many_per = callgrind(tool, model, repeat + 1, os.path.join(d, "b.out"), extra)
    functions = {k: (v - one_per.get(k, 0)) / repeat for k, v in many_per.items()}
    return (many - one) / repeat, functions


def demangle(names):
    try:
        out = subprocess.run(["swift", "demangle", "--compact", "--simplified"], input="\n".join(names),
                             capture_output=True, text=True).stdout.splitlines()
        return out if len(out) == len(names) else names
    except OSError:
        return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--baseline")
    ap.add_argument("--baseline-walk", help="`general`: the baseline is this build's general walk "
                    "(onnx-tool infer --walk general), so one build compares its two walks")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--functions", type=int, default=0)
    a = ap.parse_args()
    if a.baseline_walk and not a.baseline:
        a.baseline = a.tool
    extra = ("--walk", a.baseline_walk) if a.baseline_walk else ()
    print(f"{'model':28} {'instructions':>13}" + (f" {'baseline':>13} {'ratio':>6}" if a.baseline else ""))
    for m in a.models:
        count, functions = per_inference(a.tool, m, a.repeat)
        line = f"{os.path.basename(m).removesuffix('.onnx'):28} {count:13,.0f}"
        if a.baseline:
            before, _ = per_inference(a.baseline, m, a.repeat, extra)
            line += f" {before:13,.0f} {count / before:6.3f}"
        print(line)
        if a.functions:
            top = sorted(functions, key=lambda k: -functions[k])[: a.functions]
            for name, shown in zip(top, demangle(top)):
                print(f"    {functions[name]:11,.0f} {100 * functions[name] / count:5.1f}%  {shown[:140]}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
