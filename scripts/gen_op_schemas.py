#!/usr/bin/env python3
"""Generates Sources/GraphOps/Resources/onnx_schemas.json from the onnx package's own schemas.

Graphsmith's op registry (the GraphOps target) reads this file; it is committed, and
Tests/e2e/test_op_schemas.py regenerates it into a temp file and compares, so a change of
onnx version (or of the tables below) shows up as a failing test until the file is regenerated:

    /work/main/.venv/bin/python scripts/gen_op_schemas.py            # rewrite the resource
    /work/main/.venv/bin/python scripts/gen_op_schemas.py --out F    # write elsewhere

Covers the domains in DOMAINS, every since-version of every op (get_all_schemas_with_history).
Doc strings are left out to keep the file small. Two hand-kept tables live here and only here:
CATEGORIES (the family of each op, read by the renderer's legend, the estimator and reports)
and LEGAL_VALUES (the enumerations the spec states in prose; the schema objects don't list
them). Each legal value is checked against the attribute's description or the op's doc text,
so a value that the spec does not mention stops the generator.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import defs

DOMAINS = ("", "ai.onnx.ml", "ai.onnx.preview.training", "ai.onnx.preview")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "Sources/GraphOps/Resources/onnx_schemas.json"

# The family of each ONNX op. Names must match the Swift `OpCategory` raw values.
CATEGORIES = {
    "matmul": "MatMul Gemm MatMulInteger QLinearMatMul Einsum",
    "convolution": "Conv ConvTranspose ConvInteger QLinearConv DeformConv Col2Im CausalConvWithState",
    "pooling": "MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxUnpool MaxRoiPool RoiAlign",
    "normalization": "BatchNormalization LayerNormalization InstanceNormalization GroupNormalization LRN "
                     "LpNormalization MeanVarianceNormalization RMSNormalization",
    "activation": "Relu LeakyRelu PRelu Sigmoid Tanh Softmax LogSoftmax Elu Selu Celu HardSigmoid HardSwish Softplus "
                  "Softsign Gelu Mish ThresholdedRelu Clip Hardmax Shrink Swish",
    "elementwise": "Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Max Min Sum Mean Erf Floor Ceil Round Sign "
                   "Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Equal Greater Less GreaterOrEqual "
                   "LessOrEqual And Or Not Xor Where Mod BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor IsNaN "
                   "IsInf Cast CastLike BitCast Dropout Identity Det",
    "reduction": "ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp "
                 "ReduceSumSquare ArgMax ArgMin TopK CumSum CumProd",
    "shape": "Reshape Transpose Flatten Squeeze Unsqueeze Concat Split Slice Gather GatherElements GatherND Scatter "
             "ScatterElements ScatterND Shape Size Expand Tile Pad Resize Upsample DepthToSpace SpaceToDepth NonZero "
             "Range OneHot Compress ReverseSequence Trilu CenterCropPad GridSample AffineGrid Unique TensorScatter",
    "attention": "Attention RotaryEmbedding LinearAttention FlexAttention",
    "quantization": "QuantizeLinear DequantizeLinear DynamicQuantizeLinear",
    "recurrent": "LSTM GRU RNN",
    "control": "If Loop Scan SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength "
               "SequenceMap SplitToSequence ConcatFromSequence Optional OptionalGetElement OptionalHasElement",
    "constant": "Constant ConstantOfShape EyeLike RandomNormal RandomUniform RandomNormalLike RandomUniformLike "
                "Bernoulli Multinomial",
    "other": "NonMaxSuppression DFT STFT BlackmanWindow HammingWindow HannWindow MelWeightMatrix ImageDecoder "
             "RegexFullMatch StringConcat StringNormalizer StringSplit TfIdfVectorizer NegativeLogLikelihoodLoss "
             "SoftmaxCrossEntropyLoss",
}
# Domains whose ops are all one family unless CATEGORIES names them.
DOMAIN_CATEGORY = {"ai.onnx.ml": "other", "ai.onnx.preview.training": "other"}

# Enumerations the spec states in its text: (domain, op or None for any op, attribute, from since-version,
# values). For a schema, the entry for its op (else the wildcard) with the greatest from-version <= its
# since-version applies.
POST_TRANSFORM = ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"]
LEGAL_VALUES = [
    ("", None, "auto_pad", 1, ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]),
    ("", "Resize", "mode", 10, ["nearest", "linear"]),
    ("", "Resize", "mode", 11, ["nearest", "linear", "cubic"]),
    ("", "Resize", "coordinate_transformation_mode", 11,
     ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"]),
    ("", "Resize", "coordinate_transformation_mode", 13,
     ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]),
    ("", "Resize", "coordinate_transformation_mode", 19,
     ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]),
    ("", "Resize", "nearest_mode", 11, ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]),
    ("", "Resize", "keep_aspect_ratio_policy", 18, ["stretch", "not_larger", "not_smaller"]),
    ("", "Upsample", "mode", 1, ["nearest", "bilinear"]),
    ("", "Upsample", "mode", 7, ["nearest", "linear"]),
    ("", "Pad", "mode", 1, ["constant", "reflect", "edge"]),
    ("", "Pad", "mode", 19, ["constant", "reflect", "edge", "wrap"]),
    ("", "GridSample", "mode", 16, ["bilinear", "nearest", "bicubic"]),
    ("", "GridSample", "mode", 20, ["linear", "nearest", "cubic"]),
    ("", "GridSample", "padding_mode", 16, ["zeros", "border", "reflection"]),
    ("", "RoiAlign", "mode", 10, ["avg", "max"]),
    ("", "RoiAlign", "coordinate_transformation_mode", 16, ["half_pixel", "output_half_pixel"]),
    ("", "DepthToSpace", "mode", 11, ["DCR", "CRD"]),
    ("", "LSTM", "direction", 1, ["forward", "reverse", "bidirectional"]),
    ("", "GRU", "direction", 1, ["forward", "reverse", "bidirectional"]),
    ("", "RNN", "direction", 1, ["forward", "reverse", "bidirectional"]),
    ("", "BitShift", "direction", 11, ["LEFT", "RIGHT"]),
    ("", "Gelu", "approximate", 20, ["none", "tanh"]),
    ("", "ScatterElements", "reduction", 16, ["none", "add", "mul"]),
    ("", "ScatterElements", "reduction", 18, ["none", "add", "mul", "max", "min"]),
    ("", "ScatterND", "reduction", 16, ["none", "add", "mul"]),
    ("", "ScatterND", "reduction", 18, ["none", "add", "mul", "max", "min"]),
    ("", "NegativeLogLikelihoodLoss", "reduction", 12, ["none", "sum", "mean"]),
    ("", "SoftmaxCrossEntropyLoss", "reduction", 12, ["none", "sum", "mean"]),
    ("", "StringNormalizer", "case_change_action", 10, ["LOWER", "UPPER", "NONE"]),
    ("", "TfIdfVectorizer", "mode", 9, ["TF", "IDF", "TFIDF"]),
    ("", "TensorScatter", "mode", 24, ["linear", "circular"]),
    ("", "ImageDecoder", "pixel_format", 20, ["RGB", "BGR", "Grayscale"]),
    ("", "Cast", "round_mode", 24, ["up", "down", "nearest"]),
    ("", "CastLike", "round_mode", 24, ["up", "down", "nearest"]),
    ("", "CausalConvWithState", "activation", 1, ["silu", "swish", "none"]),
    ("", "LinearAttention", "update_rule", 1, ["linear", "gated", "delta", "gated_delta"]),
    ("ai.onnx.ml", None, "post_transform", 1, POST_TRANSFORM),
    ("ai.onnx.ml", "TreeEnsembleRegressor", "aggregate_function", 1, ["AVERAGE", "SUM", "MIN", "MAX"]),
    *[("ai.onnx.ml", op, "nodes_modes", 1, ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ",
                                            "BRANCH_NEQ", "LEAF"])
      for op in ("TreeEnsembleClassifier", "TreeEnsembleRegressor")],
    *[("ai.onnx.ml", op, "kernel_type", 1, ["LINEAR", "POLY", "RBF", "SIGMOID"])
      for op in ("SVMClassifier", "SVMRegressor")],
    ("ai.onnx.ml", "Normalizer", "norm", 1, ["MAX", "L1", "L2"]),
    ("ai.onnx.ml", "CastMap", "cast_to", 1, ["TO_FLOAT", "TO_STRING", "TO_INT64"]),
    ("ai.onnx.ml", "CastMap", "map_form", 1, ["DENSE", "SPARSE"]),
    ("ai.onnx.preview.training", "Momentum", "mode", 1, ["nesterov", "standard"]),
]

# Defaults the spec itself misspells (kept as onnx has them; not checked against LEGAL_VALUES).
SPEC_TYPOS = {("GRU", 1, "direction")}  # default "foward"

A = defs.OpSchema.AttrType
ATTR_TYPES = {
    A.FLOAT: "float", A.INT: "int", A.STRING: "string", A.TENSOR: "tensor", A.GRAPH: "graph",
    A.SPARSE_TENSOR: "sparse_tensor", A.TYPE_PROTO: "type_proto", A.FLOATS: "floats", A.INTS: "ints",
    A.STRINGS: "strings", A.TENSORS: "tensors", A.GRAPHS: "graphs", A.SPARSE_TENSORS: "sparse_tensors",
    A.TYPE_PROTOS: "type_protos",
}
O = defs.OpSchema.FormalParameterOption
OPTIONS = {O.Single: "single", O.Optional: "optional", O.Variadic: "variadic"}
UNBOUNDED = 2147483647


def category_table():
    table = {}
    for cat, names in CATEGORIES.items():
        for name in names.split():
            if name in table:
                sys.exit(f"gen_op_schemas: {name} is in both {table[name]} and {cat}")
            table[name] = cat
    return table


def f32(x):
    """A float attribute default as the shortest decimal that round-trips through float32."""
    return float(str(np.float32(x)))


def default_value(attr):
    if not attr.default_value.HasField("type") and not attr.default_value.name:
        return None
    d = attr.default_value
    kind = ATTR_TYPES[attr.type]
    if kind == "int":
        return d.i
    if kind == "float":
        return f32(d.f)
    if kind == "string":
        return d.s.decode("utf-8")
    if kind == "ints":
        return list(d.ints)
    if kind == "floats":
        return [f32(v) for v in d.floats]
    if kind == "strings":
        return [s.decode("utf-8") for s in d.strings]
    return None  # tensors, graphs, type protos: not kept


def legal_values(schema, attr_name):
    best = None
    for dom, op, name, since, values in LEGAL_VALUES:
        if dom != schema.domain or name != attr_name or since > schema.since_version:
            continue
        if op is not None and op != schema.name:
            continue
        rank = (op is not None, since)
        if best is None or rank > best[0]:
            best = (rank, values)
    if best is None:
        return None
    values = best[1]
    text = schema.attributes[attr_name].description + (schema.doc or "")
    for v in values:
        if v not in text:
            sys.exit(f"gen_op_schemas: {schema.domain or 'ai.onnx'}::{schema.name}-{schema.since_version} "
                     f"{attr_name}: legal value '{v}' is not in the spec text")
    return values


def formal(p):
    out = {"name": p.name, "tc": p.type_str}
    if p.option != O.Single:
        out["option"] = OPTIONS[p.option]
    if p.option == O.Variadic:
        if not p.is_homogeneous:
            out["heterogeneous"] = True
        if p.min_arity != 1:
            out["minArity"] = p.min_arity
    return out


def schema_json(s, categories):
    cat = categories.get(s.name) or DOMAIN_CATEGORY.get(s.domain)
    if cat is None:
        sys.exit(f"gen_op_schemas: no category for {s.domain or 'ai.onnx'}::{s.name}; add it to CATEGORIES")
    out = {"domain": s.domain, "op": s.name, "since": s.since_version, "category": cat}
    if s.deprecated:
        out["deprecated"] = True
    out["minInputs"] = s.min_input
    out["maxInputs"] = -1 if s.max_input >= UNBOUNDED else s.max_input
    out["minOutputs"] = s.min_output
    out["maxOutputs"] = -1 if s.max_output >= UNBOUNDED else s.max_output
    out["inputs"] = [formal(p) for p in s.inputs]
    out["outputs"] = [formal(p) for p in s.outputs]
    out["typeConstraints"] = [{"name": t.type_param_str, "types": list(t.allowed_type_strs)}
                              for t in s.type_constraints]
    attrs = []
    for name in sorted(s.attributes):
        a = s.attributes[name]
        entry = {"name": name, "type": ATTR_TYPES[a.type]}
        if a.required:
            entry["required"] = True
        dv = default_value(a)
        if dv is not None:
            entry["default"] = dv
        lv = legal_values(s, name)
        if lv is not None:
            if isinstance(dv, str) and dv not in lv and (s.name, s.since_version, name) not in SPEC_TYPOS:
                sys.exit(f"gen_op_schemas: {s.name}-{s.since_version} {name}: default '{dv}' is not a legal value")
            entry["legal"] = lv
        attrs.append(entry)
    out["attributes"] = attrs
    return out


def generate():
    categories = category_table()
    schemas = [s for s in defs.get_all_schemas_with_history() if s.domain in DOMAINS]
    schemas.sort(key=lambda s: (s.domain, s.name, s.since_version))
    lines = [json.dumps(schema_json(s, categories), separators=(",", ":"), sort_keys=False) for s in schemas]
    header = json.dumps({"generator": "scripts/gen_op_schemas.py", "onnx": onnx.__version__,
                         "domains": [d or "ai.onnx" for d in DOMAINS]}, separators=(",", ":"))
    return '{"source":' + header + ',\n"schemas":[\n' + ",\n".join(lines) + "\n]}\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(generate(), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
