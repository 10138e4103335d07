"""ONNX backend node tests through GraphRuntime (`runtime-tool nodetests`), against the stored
expected outputs shipped in the `onnx` wheel (never onnx.reference).

Runs the tool, resuming after a case that crashes the process (recorded as a failure), then
writes a JSON summary and, with --readme, the per-op pass/fail/unsupported table into
Benchmarks/README.md (between the node-test markers).

    python Benchmarks/runtime/nodetests.py --tool .build/debug/runtime-tool [--json out.json] [--readme]
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.normpath(os.path.join(HERE, "..", "README.md"))
BEGIN = "<!-- node-tests:begin -->"
END = "<!-- node-tests:end -->"


def node_test_dir():
    import onnx
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def run_all(tool, root, extra=(), timeout=900):
    """Runs every case; returns a list of result dicts (one per case, in name order)."""
    results = {}
    after = None
    deadline = time.time() + timeout
    while True:
        cmd = [tool, "nodetests", root] + list(extra)
        if after:
            cmd += ["--after", after]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=max(1, deadline - time.time()))
        for line in p.stdout.splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                results[r["name"]] = r
        if p.returncode == 0:
            break
        started = [l[6:] for l in p.stderr.splitlines() if l.startswith("start ")]
        if not started:
            raise RuntimeError(f"runtime-tool failed before any case: {p.stderr[-2000:]}")
        crashed = started[-1]
        if crashed in results:
            raise RuntimeError(f"runtime-tool exited {p.returncode} after {crashed}: {p.stderr[-2000:]}")
        results[crashed] = {"name": crashed, "status": "fail", "op": "",
                            "detail": f"crashed the process (exit {p.returncode})", "ms": 0}
        after = crashed
    return [results[k] for k in sorted(results)]


def op_of_cases(root, names):
    """The op each case tests: the node's op for one-node models; for multi-node models (the
    `_expanded` function bodies and a few composites) the op of the sibling case without the
    suffix, else the name's longest op prefix."""
    import onnx
    ops, multi = {}, {}
    for n in names:
        m = onnx.load(os.path.join(root, n, "model.onnx"), load_external_data=False)
        nodes = list(m.graph.node)
        if len(nodes) == 1:
            nd = nodes[0]
            ops[n] = (nd.domain + "::" if nd.domain not in ("", "ai.onnx") else "") + nd.op_type
        else:
            multi[n] = [x.op_type for x in nodes]
    snake = {}
    for op in set(ops.values()):
        snake[re.sub(r"[^a-z0-9]", "", op.split("::")[-1].lower())] = op
    for n, types in multi.items():
        base = re.sub(r"_expanded.*$", "", n)
        if base != n and base in ops:
            ops[n] = ops[base]
            continue
        flat = n[5:].replace("_", "")
        best = max((k for k in snake if flat.startswith(k)), key=len, default=None)
        ops[n] = snake[best] if best else types[0]
    return ops


def table(results, ops):
    per = collections.defaultdict(collections.Counter)
    for r in results:
        per[ops.get(r["name"], r["op"] or "?")][r["status"]] += 1
    lines = ["| op | cases | pass | fail | unsupported |", "|---|---|---|---|---|"]
    for op in sorted(per, key=str.lower):
        c = per[op]
        lines.append(f"| {op} | {sum(c.values())} | {c['pass']} | {c['fail']} | {c['unsupported']} |")
    return lines, per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--json")
    ap.add_argument("--readme", action="store_true")
    a = ap.parse_args()
    root = a.dir or node_test_dir()
    t0 = time.time()
    results = run_all(a.tool, root)
    seconds = time.time() - t0
    ops = op_of_cases(root, [r["name"] for r in results])
    counts = collections.Counter(r["status"] for r in results)
    total = len(results)
    lines, per = table(results, ops)
    unsupported = sorted({ops[r["name"]] for r in results if r["status"] == "unsupported"}, key=str.lower)
    summary = {"total": total, "counts": dict(counts), "pass_rate": counts["pass"] / max(total, 1),
               "seconds": seconds, "unsupported_ops": unsupported,
               "cases": [dict(r, test_op=ops[r["name"]]) for r in results]}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)
    print(f"{counts['pass']}/{total} pass ({100 * counts['pass'] / max(total, 1):.1f}%), "
          f"{counts['fail']} fail, {counts['unsupported']} unsupported, {seconds:.1f} s")
    if a.readme:
        import onnx
        build = "release" if "release" in os.path.normpath(a.tool).split(os.sep) else "debug"
        body = [BEGIN, "",
                f"ONNX backend node tests of onnx {onnx.__version__} ({total} cases), expected outputs from the "
                "wheel, rtol 1e-3 / atol 1e-4 for floats (NaN equals NaN), exact otherwise:",
                f"**{counts['pass']} pass ({100 * counts['pass'] / max(total, 1):.1f}%), {counts['fail']} fail, "
                f"{counts['unsupported']} unsupported** (whole suite {seconds:.0f} s with a {build} build).", "",
                f"    python Benchmarks/runtime/nodetests.py --tool .build/{build}/runtime-tool --readme", "",
                "Ops with unsupported cases: " + ", ".join(unsupported) + ".", "",
                "<details><summary>Per-op table</summary>", ""] + lines + ["", "</details>", "", END]
        text = open(README).read()
        if BEGIN in text:
            text = text[:text.index(BEGIN)] + "\n".join(body) + text[text.index(END) + len(END):]
        else:
            anchor = "## Editing (issue 12)"
            block = "### ONNX backend node tests\n\n" + "\n".join(body) + "\n\n"
            text = text.replace(anchor, block + anchor) if anchor in text else text + "\n" + block
        with open(README, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
