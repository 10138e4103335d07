"""Recurrent layers benchmark: RNN, GRU and LSTM models made with the onnx helper (the corpus
has only silero_vad's LSTM), run by our runtime (`runtime-tool bench`) and by onnxruntime
(1 thread, ORT_ENABLE_ALL), single-threaded, median of 20 runs after 5 warm-ups, in the same
run; `--baseline OTHER_RUNTIME_TOOL` adds an older build's median. Outputs are checked against
onnxruntime (max abs diff) before timing.

usage: python Benchmarks/runtime/recurrent_bench.py RUNTIME_TOOL [--baseline OLD_TOOL] [--rounds N]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(__file__))
from bench import child_env  # noqa: E402  (single-thread environment shared with bench.py)

SEQ, BATCH, INPUT, HIDDEN = 100, 1, 64, 128

# (label, op, attributes, extra inputs): configurations users meet in speech and text models.
CASES = [
    ("rnn_tanh", "RNN", {}, []),
    ("rnn_relu_bidir", "RNN", {"activations": ["Relu", "Relu"], "direction": "bidirectional"}, []),
    ("gru", "GRU", {}, []),
    ("gru_linear_before_reset", "GRU", {"linear_before_reset": 1}, []),
    ("gru_bidir_seq_lens", "GRU", {"direction": "bidirectional"}, ["lens"]),
    ("lstm", "LSTM", {}, []),
    ("lstm_peepholes", "LSTM", {}, ["peepholes"]),
    ("lstm_clip_bidir", "LSTM", {"clip": 3.0, "direction": "bidirectional"}, []),
]


def make_model(op, attrs, extras, path, rng):
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    w = (rng.standard_normal((dirs, gates * HIDDEN, INPUT)) * 0.1).astype(np.float32)
    r = (rng.standard_normal((dirs, gates * HIDDEN, HIDDEN)) * 0.1).astype(np.float32)
    b = (rng.standard_normal((dirs, 2 * gates * HIDDEN)) * 0.1).astype(np.float32)
    inits = [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.ravel()),
             helper.make_tensor("R", TensorProto.FLOAT, r.shape, r.ravel()),
             helper.make_tensor("B", TensorProto.FLOAT, b.shape, b.ravel())]
    inputs = ["X", "W", "R", "B", "", ""]
    if "lens" in extras:
        lens = np.array([SEQ - 7] * BATCH, dtype=np.int32)
        inits.append(helper.make_tensor("lens", TensorProto.INT32, lens.shape, lens))
        inputs[4] = "lens"
    if "peepholes" in extras:
        p = (rng.standard_normal((dirs, 3 * HIDDEN)) * 0.1).astype(np.float32)
        inits.append(helper.make_tensor("P", TensorProto.FLOAT, p.shape, p.ravel()))
        inputs += ["", "P"]
    while inputs[-1] == "":
        inputs.pop()
    outputs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    node = helper.make_node(op, inputs, outputs, hidden_size=HIDDEN, **attrs)
    graph = helper.make_graph([node], op.lower(), [helper.make_tensor_value_info("X", TensorProto.FLOAT, [SEQ, BATCH, INPUT])],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, [SEQ, dirs, BATCH, HIDDEN] if o == "Y" else [dirs, BATCH, HIDDEN])
                               for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def ours(tool, model, x_path):
    out = subprocess.run([tool, "bench", model, f"X={x_path}", "--repeat", "20", "--warmup", "5"], capture_output=True,
                         text=True, timeout=600, env=child_env(), check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["median_ms"]


def ort_ms(model, x_path):
    """onnxruntime ORT_ENABLE_ALL through bench.py's own timed child (same session options)."""
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "bench.py"), "--tool", "-",
                          "--warmup", "5", "--repeat", "20", "--ort-child", model, json.dumps({"X": x_path}), "ORT_ENABLE_ALL"],
                         capture_output=True, text=True, timeout=600, env=child_env(), check=True).stdout
    return json.loads(out)["median_ms"]


def max_diff(tool, model, x_path, tmp):
    import onnxruntime as ort
    out_dir = os.path.join(tmp, "out")
    subprocess.run([tool, "run", model, f"X={x_path}", "--out", out_dir], capture_output=True, text=True, timeout=600, check=True)
    so = ort.SessionOptions()
    ref = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"]).run(None, {"X": np.load(x_path)})
    return max(float(np.max(np.abs(np.load(os.path.join(out_dir, f"out_{i}.npy")) - r))) for i, r in enumerate(ref))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--baseline")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"seq {SEQ}, batch {BATCH}, input {INPUT}, hidden {HIDDEN}; medians over {a.rounds} round(s)")
    print("| model | ours ms | ORT ENABLE_ALL ms | ours / ORT |" + (" before ms |" if a.baseline else "") + " max abs diff vs ORT |")
    print("|---|---|---|---|" + ("---|" if a.baseline else "") + "---|")
    with tempfile.TemporaryDirectory() as tmp:
        x_path = os.path.join(tmp, "x.npy")
        np.save(x_path, rng.standard_normal((SEQ, BATCH, INPUT)).astype(np.float32))
        for label, op, attrs, extras in CASES:
            path = os.path.join(tmp, label + ".onnx")
            make_model(op, attrs, extras, path, rng)
            diff = max_diff(a.tool, path, x_path, tmp)
            o, t, bl = [], [], []
            for _ in range(a.rounds):
                o.append(ours(a.tool, path, x_path))
                t.append(ort_ms(path, x_path))
                if a.baseline:
                    bl.append(ours(a.baseline, path, x_path))
            med = lambda v: sorted(v)[len(v) // 2]
            before = f" {med(bl):.3f} |" if a.baseline else ""
            print(f"| {label} | {med(o):.3f} | {med(t):.3f} | {med(o) / med(t):.2f}x |{before} {diff:.1e} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
