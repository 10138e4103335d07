"""The packed inference walk (GraphOps PackedWalk.swift) against the general one, over every corpus
model, every ONNX backend node-test model and the repo's fixtures: `onnx-tool infer --walk packed`
and `--walk general` must print the same type for every value, the same known contents, the same
body tables and the same problems. The packed rules take only the plain forms of their ops and
hand everything else back; this is what says they answer as the general rules do.
"""
import glob
import json
import os
import pathlib
import subprocess

import onnx

from onnx_support import shared_dir

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = shared_dir()
MODELS = sorted(glob.glob(str(REPO / "Tests/GraphFormatsTests/Fixtures/*.onnx")))
if SHARED:
    c = SHARED / "corpus"
    MODELS += sorted(glob.glob(str(c / "models/*.onnx")) + glob.glob(str(c / "models/light/*.onnx"))
                     + glob.glob(str(c / "transformers/*.onnx")))
MODELS += sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node/*/model.onnx")))


def inferred(tool, walk):
    """file -> onnx-tool's JSON answer (types, known contents, bodies, problems) under `walk`."""
    out = {}
    for i in range(0, len(MODELS), 400):
        chunk = MODELS[i:i + 400]
        p = subprocess.run([str(tool), "infer", *chunk, *([] if len(chunk) > 1 else chunk), "--walk", walk, "--known"],
                           capture_output=True, text=True, timeout=1200, check=True)
        for line in p.stdout.splitlines():
            d = json.loads(line)
            out[d["file"]] = d
    return out


def test_packed_walk_gives_the_general_walks_facts(onnx_tool):
    packed, general = inferred(onnx_tool, "packed"), inferred(onnx_tool, "general")
    assert set(packed) == set(MODELS) == set(general)
    differ = []
    for f in MODELS:
        a, b = packed[f], general[f]
        if a == b:
            continue
        where = [k for k in ("values", "known", "bodies", "problems", "error") if a.get(k) != b.get(k)]
        detail = ""
        if "values" in where:
            names = sorted(n for n in set(a["values"]) | set(b["values"]) if a["values"].get(n) != b["values"].get(n))
            detail = f": {names[0]} packed {a['values'].get(names[0])}, general {b['values'].get(names[0])}"
        differ.append(f"{os.path.basename(os.path.dirname(f)) if f.endswith('model.onnx') else os.path.basename(f)} "
                      f"({', '.join(where)}){detail}")
    known = sum(len(packed[f].get("known", {})) for f in MODELS)
    print(f"\n{len(MODELS)} models, {sum(len(packed[f].get('values', {})) for f in MODELS)} values "
          f"({known} with known contents), {len(differ)} differ")
    assert not differ, "\n".join(differ[:20])


def test_mutated_models_get_the_same_facts_from_both_walks(onnx_tool):
    """`onnx-tool fuzz` mutates the bytes of the fixtures and node-test models and runs both walks
    on every mutant that loads: none may crash, hang or disagree (a longer run, 300,000 mutants,
    is in Benchmarks/README.md)."""
    seeds = [f for f in MODELS if not (SHARED and str(SHARED) in f)]
    p = subprocess.run([str(onnx_tool), "fuzz", "--count", "20000", "--seed", "8", *seeds],
                       capture_output=True, text=True, timeout=900, check=True)
    fields = p.stdout.split()
    stats = {fields[i]: fields[i + 1] for i in range(0, len(fields) - 1) if not fields[i][0].isdigit()}
    print("\n" + p.stdout.strip())
    assert int(stats["loaded"]) > 1000
    assert stats["walk_mismatches"] == "0" and stats["hangs"] == "0" and stats["crashes"] == "0"
