"""Cross-check of GraphOps symbolic shape inference (`onnx-tool infer FILE --json`) against
`onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)` and onnxruntime.

For every value of the main graph where onnx infers a type, ours must have the same element
type and shape: a fixed dim must be equal, a symbolic dim must be symbolic too, with onnx's
names and ours matching under one consistent renaming per model. Where onnx gives less
(no type, no shape, an unnamed dim) and ours gives more, the extra is checked against the
shape onnxruntime actually produces on the corpus reference inputs (our result with the
inputs' symbols bound to those inputs' sizes by substitution, `--input-shape`). Every model
prints one table row: values compared, agreeing, where we know more (and how many of those
onnxruntime confirmed), where we know less, disagreements.
"""
import glob
import json
import os
import pathlib
import subprocess

import numpy as np
import onnx
import onnx.shape_inference
import pytest

from onnx_support import reference_feeds, shared_dir

SHARED = shared_dir()
CORPUS = []
if SHARED:
    c = SHARED / "corpus"
    CORPUS = sorted(glob.glob(str(c / "models/*.onnx")) + glob.glob(str(c / "models/light/*.onnx"))
                    + glob.glob(str(c / "transformers/*.onnx")))
NODE_TESTS = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data/node/*/model.onnx")))

def onnx_slice_assumption(o_dim, w_dim, rename):
    """onnx's Slice inference assumes a constant end never exceeds a symbolic dim: `x[:, :128]`
    of a dim `seq` gives `seq`, though for seq > 128 the result has 128. Ours is exact:
    `min(128,seq)`. Recognized by structure (ours is min(K, S) where S is onnx's name's image)."""
    import re
    m = re.fullmatch(r"min\((\d+),(.+)\)", str(w_dim))
    return bool(m) and rename.get(o_dim) == m.group(2)

DTYPE_NAMES = {v: k for k, v in onnx.TensorProto.DataType.items()}


def ours(tool, path, input_shapes=None):
    cmd = [str(tool), "infer", str(path), "--json"]
    for name, shape in (input_shapes or {}).items():
        cmd += ["--input-shape", f"{name}={'x'.join(str(int(d)) for d in shape)}"]
    out = subprocess.run(cmd, check=True, capture_output=True, timeout=300, text=True).stdout
    return json.loads(out)


def subgraphs(graph):
    """Every If/Loop/Scan body inside `graph`, nested ones included."""
    for n in graph.node:
        for a in n.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                yield g
                yield from subgraphs(g)


def body_types(model):
    """Per body (nested ones included): name -> type of the values onnx types in it."""
    return [onnx_types(g, graph=True) for g in subgraphs(model.graph)]


def onnx_types(model, graph=False):
    """name -> (dtype name or None, dims list or None) for every main-graph value onnx types."""
    out = {}
    g = model if graph else model.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type
        if t.WhichOneof("value") != "tensor_type":
            continue
        tt = t.tensor_type
        dtype = DTYPE_NAMES.get(tt.elem_type, "").lower() if tt.elem_type else None
        dims = None
        if tt.HasField("shape"):
            dims = []
            for d in tt.shape.dim:
                if d.HasField("dim_value") and d.dim_value >= 0:
                    dims.append(int(d.dim_value))
                elif d.HasField("dim_value"):
                    # An exporter's -1 ("dynamic") that onnx carries along as if it were a size.
                    dims.append(None)
                elif d.HasField("dim_param") and d.dim_param != "?":
                    # paddle2onnx writes "?" for every dynamic dim; onnx takes it for one name
                    # (so height == width), we take it for unnamed, as the exporter means.
                    dims.append(str(d.dim_param))
                else:
                    dims.append(None)
        out[vi.name] = (dtype, dims)
    return out


ONNX_TO_OURS = {"float": "float", "float16": "float16", "double": "double", "bool": "bool", "string": "string"}


def same_dtype(onnx_name, our_name):
    return onnx_name.replace("_", "") == our_name.replace("_", "")


class Compare:
    def __init__(self):
        self.compared = self.agree = self.more = self.less = self.onnx_bugs = self.body_compared = self.body_more = 0
        self.in_body = False
        self.disagreements = []
        self.more_values = []  # names where we know more than onnx
        self.less_values = []  # (name, onnx, ours) where onnx knows more
        self.rename = {}
        self.back = {}

    def note_more(self, name):
        """We know more than onnx: main-graph values go to the onnxruntime check; body values
        (not observable as graph outputs) are counted as unverified."""
        self.more += 1
        if self.in_body:
            self.body_more += 1
        else:
            self.more_values.append(name)

    def dim(self, name, i, od, wd):
        """One dimension; returns 'agree', 'more', 'less' or a disagreement text."""
        if od is None:
            return "agree" if wd is None else "more"
        if isinstance(od, int):
            if wd == od:
                return "agree"
            return "less" if wd is None else f"dim {i}: onnx {od}, ours {wd}"
        # onnx symbolic
        if wd is None:
            # `unk__N` is a name onnx makes up for a size it does not know either.
            return "agree" if od.startswith("unk__") else "less"
        if isinstance(wd, int):
            return "more"  # we fixed a size onnx only names; checked against onnxruntime
        # Equal onnx names must be equal expressions of ours. Different onnx names assert
        # nothing (an exporter's `p2o.DynamicDimension.2` may well be `.0`; onnx's made-up
        # `unk__N` are fresh per node): ours equal where onnx's differ is knowing more.
        prev = self.rename.get(od)
        if prev is None and self.back.get(wd) not in (None, od):
            self.rename[od] = wd
            return "more"
        if prev is not None and prev != wd:
            if onnx_slice_assumption(od, wd, self.rename):
                self.onnx_bugs += 1
                return "agree"
            return f"dim {i}: onnx {od!r} is ours {prev!r} elsewhere, here {wd!r}"
        self.rename[od] = wd
        self.back[wd] = od
        return "agree"

    def value(self, name, o, w, body=False):
        self.compared += 1
        self.in_body = body
        self.last = (name, o, w)
        odt, odims = o
        if w is None or w.get("kind") != "tensor":
            self.less += 1
            self.less_values.append((name, o, w))
            return
        if odt and not same_dtype(odt, w["dtype"]):
            self.disagreements.append(f"{name}: dtype onnx {odt}, ours {w['dtype']}")
            return
        wd = w["dims"]
        if odims is None:
            if wd is not None:
                self.note_more(name)
            if wd is None:
                self.agree += 1
            return
        if wd is None:
            self.less += 1
            self.less_values.append((name, odims, wd))
            return
        if len(odims) != len(wd):
            self.disagreements.append(f"{name}: rank onnx {len(odims)} {odims}, ours {len(wd)} {wd}")
            return
        verdicts = [self.dim(name, i, a, b) for i, (a, b) in enumerate(zip(odims, wd))]
        bad = [v for v in verdicts if v not in ("agree", "more", "less")]
        if bad:
            self.disagreements.append(f"{name}: {bad[0]} (onnx {odims}, ours {wd})")
        elif "less" in verdicts:
            self.less += 1
            self.less_values.append((name, odims, wd))
        elif "more" in verdicts:
            self.note_more(name)
        else:
            self.agree += 1


def compare(tool, path, mine=None):
    model = onnx.load(path, load_external_data=False)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    theirs = onnx_types(inferred)
    mine = mine if mine is not None else ours(tool, path)
    cmp = Compare()
    for name, o in sorted(theirs.items()):
        cmp.value(name, o, mine["values"].get(name))
    # Bodies: values onnx types inside If/Loop/Scan bodies, matched by (unique) name.
    ours_bodies, counts = {}, {}
    for vals in mine.get("bodies", {}).values():
        for n, t in vals.items():
            counts[n] = counts.get(n, 0) + 1
            ours_bodies[n] = t
    # Each body is its own naming scope: exporters reuse a dim name in mutually exclusive
    # branches (silero_vad's 16 kHz and 8 kHz branches name different sizes alike), so the
    # renaming starts from the main graph's for every body.
    seen = {}
    bodies = body_types(inferred)
    for types in bodies:
        for n in types:
            seen[n] = seen.get(n, 0) + 1
    main_rename, main_back = dict(cmp.rename), dict(cmp.back)
    for types in bodies:
        cmp.rename, cmp.back = dict(main_rename), dict(main_back)
        for name, o in sorted(types.items()):
            if counts.get(name, 0) > 1 or seen[name] > 1 or name in theirs:
                continue
            cmp.body_compared += 1
            cmp.value(name, o, ours_bodies.get(name), body=True)
    cmp.rename, cmp.back = main_rename, main_back
    # Values onnx does not type at all but we do: more (checked against onnxruntime).
    for name, w in mine["values"].items():
        if name not in theirs and w and w.get("kind") == "tensor" and w.get("dims") is not None:
            if name not in {t.name for t in model.graph.initializer}:
                cmp.more += 1
                cmp.more_values.append(name)
    return model, mine, cmp


def ort_shapes(model, names, feeds):
    """Actual shapes onnxruntime produces for `names` (intermediates exposed as outputs)."""
    import onnxruntime as ort
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(onnx.ValueInfoProto(name=n))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    outs = [o.name for o in sess.get_outputs()]
    res = sess.run(outs, feeds)
    return {n: list(np.asarray(r).shape) for n, r in zip(outs, res)}


@pytest.mark.skipif(not CORPUS, reason="shared corpus not present")
def test_corpus_models_agree_with_onnx_and_onnxruntime(onnx_tool):
    rows, failures = [], []
    for path in CORPUS:
        stem = pathlib.Path(path).stem
        model, mine, cmp = compare(onnx_tool, path)
        confirmed = unverified = 0
        feeds = reference_feeds(path)
        if cmp.more_values and feeds is not None:
            bound = ours(onnx_tool, path, {n: v.shape for n, v in feeds.items()})["values"]
            actual = ort_shapes(model, cmp.more_values, feeds)
            for n in cmp.more_values:
                dims = (bound.get(n) or {}).get("dims")
                if n not in actual or dims is None:
                    unverified += 1
                elif all(d is None or isinstance(d, str) for d in dims):
                    unverified += 1  # still symbolic after binding every input
                elif len(dims) != len(actual[n]) or any(d is not None and d != a for d, a in zip(dims, actual[n])):
                    cmp.disagreements.append(f"{n}: ours {dims} after binding, onnxruntime {actual[n]}")
                else:
                    confirmed += 1
        else:
            unverified = len(cmp.more_values)
        unverified += cmp.body_more
        problems = len(mine["problems"])
        rows.append((stem, cmp.compared, cmp.agree, cmp.more, confirmed, unverified, cmp.less,
                     len(cmp.disagreements), cmp.onnx_bugs, problems))
        for d in cmp.disagreements:
            failures.append(f"{stem}: {d}")
        if cmp.less:
            failures.append(f"{stem}: {cmp.less} values onnx knows more of, first {cmp.less_values[:3]}")
        # Problems (nodes we report as not inferable) fail only through `less`: where onnx
        # knows nothing either, reporting "unknown" is the right answer.
    print()
    print("onnx: values onnx types; agree; more: we know more (ort-ok: onnxruntime confirms, unver:"
          " still symbolic after binding); less; diff: disagreements; onnx-bug: onnx's Slice"
          " assumption (see onnx_slice_assumption); probs: nodes we report as not inferable")
    print(f"{'model':34} {'onnx':>6} {'agree':>6} {'more':>5} {'ort-ok':>6} {'unver':>5} {'less':>5} {'diff':>5} {'onnx-bug':>8} {'probs':>5}")
    for r in rows:
        print(f"{r[0]:34} {r[1]:6} {r[2]:6} {r[3]:5} {r[4]:6} {r[5]:5} {r[6]:5} {r[7]:5} {r[8]:8} {r[9]:5}")
    tot = [sum(r[i] for r in rows) for i in range(1, 10)]
    print(f"{'TOTAL':34} " + " ".join(f"{t:>{w}}" for t, w in zip(tot, (6, 6, 5, 6, 5, 5, 5, 8, 5))))
    assert not failures, "\n".join(failures[:40])


def ours_many(tool, paths):
    out = subprocess.run([str(tool), "infer", *map(str, paths)], check=True, capture_output=True, timeout=900,
                         text=True).stdout
    return {r["file"]: r for r in map(json.loads, out.splitlines())}


@pytest.mark.skipif(not NODE_TESTS, reason="onnx backend node tests not installed")
def test_node_test_models_coverage(onnx_tool):
    """Every node test model: no disagreement where both infer; prints how many agree on every
    value onnx types (and of those, how many also report no problem)."""
    full, partial, failed, disagreeing, rejected, reported = 0, [], [], [], 0, []
    results = ours_many(onnx_tool, NODE_TESTS)
    for path in NODE_TESTS:
        case = pathlib.Path(path).parent.name
        mine = results.get(path)
        if mine is None or "error" in mine:
            failed.append(f"{case}: {mine and mine.get('error')}")
            continue
        try:
            _, mine, cmp = compare(onnx_tool, path, mine)
        except onnx.shape_inference.InferenceError:
            rejected += 1  # onnx itself rejects it in strict mode
            continue
        if cmp.disagreements:
            disagreeing.append(f"{case}: {cmp.disagreements[0]}")
        elif cmp.less:
            reason = mine["problems"][0]["reason"] if mine["problems"] else f"less: {cmp.less_values[0]}"
            partial.append(f"{case}: {reason}")
        else:
            full += 1
            if mine["problems"]:
                # Agrees on everything onnx infers, and reports what neither infers.
                reported.append(f"{case}: {mine['problems'][0]['reason']}")
    print(f"\nnode tests: {len(NODE_TESTS)} models, {full} agree on every value onnx infers ({full - len(reported)} of"
          f" them with no problem reported, {len(reported)} reporting values neither infers), {len(partial)} where onnx"
          f" infers more, {len(disagreeing)} disagree, {rejected} rejected by onnx strict mode, {len(failed)} not loaded")
    for d in disagreeing:
        print("  disagree:", d)
    if os.environ.get("SHAPES_VERBOSE"):
        for p in partial:
            print("  partial:", p)
        for p in reported:
            print("  reported:", p)
    assert not disagreeing, "\n".join(disagreeing[:40])


# Small models for rules no node test covers (ai.onnx.ml, training, recent opsets) and for
# partly known shape vectors: each must agree with onnx wherever onnx infers, and where
# onnxruntime runs it, every output (after binding the inputs' sizes) must be exactly the shape
# onnxruntime produces.
def _small_models():
    import onnx.helper as h
    from onnx import TensorProto as T
    V = h.make_tensor_value_info
    ml = "ai.onnx.ml"
    x = np.random.rand(5, 4).astype(np.float32)
    xi = np.arange(20, dtype=np.int64).reshape(5, 4)
    X, XI = V("X", T.FLOAT, ["N", 4]), V("X", T.INT64, ["N", 4])
    tree = dict(nodes_treeids=[0], nodes_nodeids=[0], nodes_featureids=[0], nodes_modes=["LEAF"], nodes_values=[0.0],
                nodes_truenodeids=[0], nodes_falsenodeids=[0])
    cases = [
        ("linear_classifier", [h.make_node("LinearClassifier", ["X"], ["Y", "Z"], domain=ml, coefficients=[1.0] * 12,
                                           intercepts=[0.0] * 3, classlabels_ints=[1, 2, 3])], [X], ["Y", "Z"], {"X": x}),
        ("linear_classifier_binary", [h.make_node("LinearClassifier", ["X"], ["Y", "Z"], domain=ml, coefficients=[1.0] * 4,
                                                  intercepts=[0.0], classlabels_strings=["a", "b"])], [X], ["Y", "Z"], {"X": x}),
        ("linear_regressor_row", [h.make_node("LinearRegressor", ["X"], ["Y"], domain=ml, coefficients=[1.0] * 8,
                                              intercepts=[0.0] * 2, targets=2)], [V("X", T.FLOAT, [4])], ["Y"],
         {"X": x[0]}),
        ("normalizer_scaler", [h.make_node("Normalizer", ["X"], ["A"], domain=ml, norm="L2"),
                               h.make_node("Scaler", ["A"], ["Y"], domain=ml, scale=[2.0], offset=[1.0])], [X], ["A", "Y"],
         {"X": x}),
        ("binarizer_imputer", [h.make_node("Binarizer", ["X"], ["A"], domain=ml),
                               h.make_node("Imputer", ["A"], ["Y"], domain=ml, imputed_value_floats=[0.0],
                                           replaced_value_float=1.0)], [X], ["A", "Y"], {"X": x}),
        ("one_hot_encoder", [h.make_node("OneHotEncoder", ["X"], ["Y"], domain=ml, cats_int64s=[1, 2, 3])], [XI], ["Y"],
         {"X": xi}),
        ("label_encoder_category_mapper", [h.make_node("LabelEncoder", ["X"], ["S"], domain=ml, keys_int64s=[1, 2],
                                                       values_strings=["a", "b"]),
                                          h.make_node("CategoryMapper", ["S"], ["Y"], domain=ml, cats_int64s=[1, 2],
                                                      cats_strings=["a", "b"])], [XI], ["S", "Y"], {"X": xi}),
        ("array_feature_extractor", [h.make_node("ArrayFeatureExtractor", ["X", "I"], ["Y"], domain=ml)],
         [X, V("I", T.INT64, [2])], ["Y"], {"X": x, "I": np.array([0, 3], np.int64)}),
        ("array_feature_extractor_row", [h.make_node("ArrayFeatureExtractor", ["X", "I"], ["Y"], domain=ml)],
         [V("X", T.FLOAT, [4]), V("I", T.INT64, [2])], ["Y"], {"X": x[0], "I": np.array([0, 3], np.int64)}),
        ("feature_vectorizer", [h.make_node("FeatureVectorizer", ["X", "X2"], ["Y"], domain=ml, inputdimensions=[4, 3])],
         [X, V("X2", T.FLOAT, ["N", 3])], ["Y"], {"X": x, "X2": np.ones((5, 3), np.float32)}),
        ("svm_classifier", [h.make_node("SVMClassifier", ["X"], ["Y", "Z"], domain=ml, classlabels_ints=[0, 1, 2],
                                        coefficients=[1.0] * 6, vectors_per_class=[1, 1, 1], support_vectors=[1.0] * 12,
                                        rho=[0.0] * 3, kernel_params=[0.1, 0.0, 3.0], kernel_type="RBF")],
         [X], ["Y", "Z"], {"X": x}),
        ("svm_regressor_row", [h.make_node("SVMRegressor", ["X"], ["Y"], domain=ml, coefficients=[1.0], n_supports=1,
                                           support_vectors=[1.0] * 4, rho=[0.0], kernel_params=[0.1, 0.0, 3.0])],
         [V("X", T.FLOAT, [4])], ["Y"], {"X": x[0]}),
        ("tree_ensemble_classifier", [h.make_node("TreeEnsembleClassifier", ["X"], ["Y", "Z"], domain=ml,
                                                  classlabels_int64s=[0, 1, 2], class_treeids=[0], class_nodeids=[0],
                                                  class_ids=[0], class_weights=[1.0], **tree)], [X], ["Y", "Z"], {"X": x}),
        ("tree_ensemble_regressor", [h.make_node("TreeEnsembleRegressor", ["X"], ["Y"], domain=ml, n_targets=2,
                                                 target_treeids=[0], target_nodeids=[0], target_ids=[0],
                                                 target_weights=[1.0], **tree)], [X], ["Y"], {"X": x}),
        ("dict_vectorizer", [h.make_node("DictVectorizer", ["X"], ["Y"], domain=ml, int64_vocabulary=[1, 2, 3])],
         [h.make_value_info("X", h.make_map_type_proto(T.INT64, h.make_tensor_type_proto(T.FLOAT, [])))], ["Y"],
         {"X": {1: 1.0, 2: 3.0}}),
        ("cast_map_sparse", [h.make_node("CastMap", ["X"], ["Y"], domain=ml, map_form="SPARSE", max_map=5)],
         [h.make_value_info("X", h.make_map_type_proto(T.INT64, h.make_tensor_type_proto(T.FLOAT, [])))], ["Y"],
         {"X": {1: 1.0, 2: 3.0}}),
        # onnxruntime's RMS norm in the default domain (onnx has no schema for it).
        ("simplified_layer_normalization", [h.make_node("SimplifiedLayerNormalization", ["X3", "S"], ["Y", "I"], axis=1)],
         [V("X3", T.FLOAT, ["N", 3, 4]), V("S", T.FLOAT, [3, 4])], ["Y", "I"],
         {"X3": np.ones((2, 3, 4), np.float32), "S": np.ones((3, 4), np.float32)}),
        # Partly known shape vectors: [N] of Shape(x) beside an unknown piece of known length.
        ("partial_reshape", [h.make_node("Shape", ["X"], ["s"], end=1), h.make_node("Concat", ["s", "k"], ["t"], axis=0),
                             h.make_node("Reshape", ["X", "t"], ["Y"])], [X, V("k", T.INT64, [1])], ["Y"],
         {"X": x, "k": np.array([-1], np.int64)}),
        ("partial_constant_of_shape", [h.make_node("Shape", ["X"], ["s"]),
                                       h.make_node("Concat", ["s", "k"], ["t"], axis=0),
                                       h.make_node("ConstantOfShape", ["t"], ["Y"])],
         [V("X", T.FLOAT, [None, 4]), V("k", T.INT64, [1])], ["Y"], {"X": x, "k": np.array([2], np.int64)}),
        ("partial_expand_tile", [h.make_node("Shape", ["X"], ["s"]), h.make_node("Concat", ["k", "s"], ["t"], axis=0),
                                 h.make_node("Expand", ["X", "t"], ["E"]),
                                 h.make_node("Concat", ["k", "one", "one"], ["r"], axis=0),
                                 h.make_node("Tile", ["E", "r"], ["Y"])],
         [X, V("k", T.INT64, [1])], ["E", "Y"], {"X": x, "k": np.array([3], np.int64)},
         [h.make_tensor("one", T.INT64, [1], [1])]),
        ("partial_resize_slice_pad",
         [h.make_node("Shape", ["X4"], ["s"], end=2), h.make_node("Concat", ["s", "hw"], ["sizes"], axis=0),
          h.make_node("Resize", ["X4", "", "", "sizes"], ["R"]),
          h.make_node("Concat", ["zero", "u"], ["starts"], axis=0), h.make_node("Concat", ["two", "big"], ["ends"], axis=0),
          h.make_node("Slice", ["X4", "starts", "ends", "axes12"], ["S"]),
          h.make_node("Concat", ["zero", "zero", "one", "u", "zero", "zero", "one", "zero"], ["pads"], axis=0),
          h.make_node("Pad", ["X4", "pads"], ["P"])],
         [V("X4", T.FLOAT, ["N", 3, 4, 5]), V("hw", T.INT64, [2]), V("u", T.INT64, [1])], ["R", "S", "P"],
         {"X4": np.ones((2, 3, 4, 5), np.float32), "hw": np.array([8, 10], np.int64), "u": np.array([1], np.int64)},
         [h.make_tensor("zero", T.INT64, [1], [0]), h.make_tensor("one", T.INT64, [1], [1]),
          h.make_tensor("two", T.INT64, [1], [2]), h.make_tensor("big", T.INT64, [1], [1 << 40]),
          h.make_tensor("axes12", T.INT64, [2], [1, 2])]),
        # Recent and training ops: onnx only (onnxruntime does not run them).
        ("bit_cast", [h.make_node("BitCast", ["X"], ["Y"], to=T.INT32)], [X], ["Y"], None),
        ("causal_conv_with_state", [h.make_node("CausalConvWithState", ["X", "W"], ["Y", "S"])],
         [V("X", T.FLOAT, ["B", 8, "L"]), V("W", T.FLOAT, [8, 1, 4])], ["Y", "S"], None),
        ("linear_attention", [h.make_node("LinearAttention", ["Q", "K", "V"], ["Y", "S"], q_num_heads=4, kv_num_heads=2,
                                          update_rule="linear")],
         [V("Q", T.FLOAT, ["B", "T", 64]), V("K", T.FLOAT, ["B", "T", 32]), V("V", T.FLOAT, ["B", "T", 48])], ["Y", "S"],
         None),
        ("string_ops", [h.make_node("StringSplit", ["S"], ["P", "C"]), h.make_node("RegexFullMatch", ["S"], ["M"], pattern="a.*"),
                        h.make_node("StringConcat", ["S", "S"], ["J"]), h.make_node("StringNormalizer", ["R"], ["Y"])],
         [V("S", T.STRING, ["N", 3]), V("R", T.STRING, [1, 3])], ["P", "C", "M", "J", "Y"], None),
        ("adam", [h.make_node("Adam", ["R", "T", "X", "G", "V", "H"], ["X2", "V2", "H2"], domain="ai.onnx.preview.training")],
         [V("R", T.FLOAT, []), V("T", T.INT64, []), V("X", T.FLOAT, ["a", 3]), V("G", T.FLOAT, ["a", 3]),
          V("V", T.FLOAT, ["a", 3]), V("H", T.FLOAT, ["a", 3])], ["X2", "V2", "H2"], None),
    ]
    for case in cases:
        name, nodes, inputs, outputs, feeds = case[:5]
        inits = case[5] if len(case) > 5 else []
        graph = h.make_graph(nodes, name, inputs, [onnx.ValueInfoProto(name=o) for o in outputs], initializer=inits)
        opset = 27 if feeds is None else 21
        model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset), h.make_opsetid(ml, 3 if feeds else 5),
                                                   h.make_opsetid("ai.onnx.preview.training", 1)])
        model.ir_version = 10 if feeds else 13
        yield name, model, feeds


def test_new_op_rules_agree_with_onnx_and_onnxruntime(onnx_tool, tmp_path):
    failures, checked = [], 0
    for name, model, feeds in _small_models():
        path = tmp_path / f"{name}.onnx"
        onnx.save(model, path)
        _, mine, cmp = compare(onnx_tool, path)
        failures += [f"{name}: {d}" for d in cmp.disagreements]
        if cmp.less:
            failures.append(f"{name}: onnx knows more of {cmp.less_values}")
        for o in model.graph.output:
            if (mine["values"].get(o.name) or {}).get("kind") is None:
                failures.append(f"{name}: {o.name} not inferred ({mine['problems']})")
        if feeds is None:
            continue
        shapes = {n: np.asarray(v).shape for n, v in feeds.items() if not isinstance(v, dict)}
        bound = ours(onnx_tool, path, shapes)["values"]
        actual = ort_shapes(model, [o.name for o in model.graph.output], feeds)
        for o in model.graph.output:
            dims = (bound.get(o.name) or {}).get("dims")
            known = [d for d in (dims or []) if d is not None]
            if dims is None or len(dims) != len(actual[o.name]) or any(
                    d is not None and d != a for d, a in zip(dims, actual[o.name])):
                failures.append(f"{name}: {o.name} ours {dims}, onnxruntime {actual[o.name]}")
            elif known:
                checked += 1
    print(f"\nsmall models: {checked} outputs confirmed by onnxruntime")
    assert not failures, "\n".join(failures)
