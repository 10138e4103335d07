#!/usr/bin/env python3
"""Generates GraphOps' schema resources from the onnx and onnxruntime packages' own schemas.

Writes three files into Sources/GraphOps/Resources (all in one format, read by OpRegistry):
  onnx_schemas.json    every since-version of every op of DOMAINS (onnx.defs.get_all_schemas_with_history)
  contrib_schemas.json the com.microsoft contrib ops in CONTRIB_CATEGORIES, plus the default-domain
                       ops onnxruntime adds (ORT_DEFAULT_DOMAIN_OPS), as onnxruntime registers them
                       (onnxruntime.capi...get_all_operator_schema(); the same data as
                       onnxruntime's docs/ContribOperators.md, which is generated from it)
  tflite_schemas.json  the TFLite builtin ops in TFLITE_OPS, hand-written below from the TFLite
                       schema (tensorflow/lite/schema/schema.fbs, builtin options as attributes)
They are committed, and Tests/e2e/test_op_schemas.py regenerates them into a temp folder and
compares, so a change of onnx/onnxruntime version (or of the tables below) fails that test until
the files are regenerated:

    /work/main/.venv/bin/python scripts/gen_op_schemas.py               # rewrite the resources
    /work/main/.venv/bin/python scripts/gen_op_schemas.py --out-dir D   # write elsewhere

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
DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "Sources/GraphOps/Resources"

# The family of each ONNX op. Names must match the Swift `OpCategory` raw values.
CATEGORIES = {
    "matmul": "MatMul Gemm MatMulInteger QLinearMatMul Einsum",
    "convolution": "Conv ConvTranspose ConvInteger QLinearConv DeformConv Col2Im CausalConvWithState",
    "pooling": "MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxUnpool MaxRoiPool RoiAlign",
    "normalization": "BatchNormalization LayerNormalization InstanceNormalization GroupNormalization LRN "
                      "LpNormalization MeanVarianceNormalization RMSNormalization SimplifiedLayerNormalization",
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
# The com.microsoft contrib ops kept (the ones onnxruntime's graph optimizers and quantizer emit),
# by family. See onnxruntime docs/ContribOperators.md for each op's inputs, outputs and attributes.
CONTRIB_CATEGORIES = {
    "convolution": "FusedConv NhwcConv NhwcFusedConv QLinearConv ConvTransposeWithDynamicPads",
    "pooling": "NhwcMaxPool QLinearAveragePool QLinearGlobalAveragePool MaxpoolWithMask",
    "matmul": "FusedGemm FusedMatMul FusedMatMulActivation TransposeMatMul MatMulNBits MatMulBnb4 MatMulInteger16 "
              "MatMulIntegerToFloat DynamicQuantizeMatMul QGemm GemmFastGelu GemmFloat8",
    "attention": "Attention MultiHeadAttention GroupQueryAttention RotaryEmbedding QAttention PackedAttention "
                 "PackedMultiHeadAttention DecoderMaskedMultiHeadAttention DecoderMaskedSelfAttention SparseAttention "
                 "LongformerAttention GemmaRotaryEmbedding RelativePositionBias GatedRelativePositionBias",
    "normalization": "SkipLayerNormalization SkipSimplifiedLayerNormalization EmbedLayerNormalization GroupNorm "
                     "SkipGroupNorm QEmbedLayerNormalization",
    "activation": "Gelu FastGelu BiasGelu QuickGelu BiasSplitGelu QLinearSigmoid QLinearLeakyRelu QLinearSoftmax "
                  "BiasSoftmax",
    "elementwise": "BiasAdd QLinearAdd QLinearMul QLinearWhere BiasDropout",
    "reduction": "QLinearReduceMean",
    "shape": "QLinearConcat ExpandDims GatherBlockQuantized",
    "quantization": "QuantizeLinear DequantizeLinear",
    "recurrent": "DynamicQuantizeLSTM",
}
# Default-domain ops onnxruntime registers itself (its fusions emit them before ONNX had them).
ORT_DEFAULT_DOMAIN_OPS = ("LayerNormalization", "SimplifiedLayerNormalization")

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

# Legal values of an attribute may be checked against another op's text when the op's own schema
# has no description (onnxruntime's Conv-like contrib ops share ONNX Conv's auto_pad).
LEGAL_TEXT_FROM = {("com.microsoft", "auto_pad"): ("", "Conv")}
LEGAL_VALUES += [
    ("com.microsoft", None, "auto_pad", 1, ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]),
]

# TFLite builtin ops the corpus uses (face_detection_short_range, hand_landmark_lite), in domain
# "tflite", named as the BuiltinOperator enum; builtin options become attributes named as their
# schema.fbs fields (booleans as int 0/1, enums as strings). Inputs: (name, type constraint, option).
TFL_FLOATS = ["tensor(float)", "tensor(float16)"]
TFL_NUMERIC = TFL_FLOATS + ["tensor(int8)", "tensor(uint8)", "tensor(int16)", "tensor(int32)", "tensor(int64)"]
TFL_ACT = ("fused_activation_function", "string", False, "NONE",
           ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"])
TFL_PADDING = ("padding", "string", False, "SAME", ["SAME", "VALID"])
TFL_STRIDES = [("stride_w", "int", False, 1, None), ("stride_h", "int", False, 1, None)]
TFL_DILATIONS = [("dilation_w_factor", "int", False, 1, None), ("dilation_h_factor", "int", False, 1, None)]
TFL_CONV_IN = [("input", "T", "single"), ("filter", "T", "single"), ("bias", "B", "optional")]
TFL_CONV_TC = {"T": TFL_FLOATS + ["tensor(int8)", "tensor(uint8)", "tensor(int16)"],
               "B": TFL_FLOATS + ["tensor(int32)", "tensor(int64)"]}
TFL_UNARY_TC = {"T": TFL_FLOATS + ["tensor(int8)", "tensor(uint8)", "tensor(int16)"]}
TFLITE_OPS = {
    "ADD": {"category": "elementwise", "inputs": [("x", "T", "single"), ("y", "T", "single")],
            "outputs": [("output", "T", "single")], "tc": {"T": TFL_NUMERIC},
            "attrs": [TFL_ACT, ("pot_scale_int16", "int", False, 1, None)]},
    "CONCATENATION": {"category": "shape", "inputs": [("inputs", "T", "variadic")],
                      "outputs": [("output", "T", "single")], "tc": {"T": TFL_NUMERIC},
                      "attrs": [("axis", "int", True, None, None), TFL_ACT]},
    "CONV_2D": {"category": "convolution", "inputs": TFL_CONV_IN, "outputs": [("output", "T", "single")],
                "tc": TFL_CONV_TC, "attrs": [TFL_PADDING, *TFL_STRIDES, TFL_ACT, *TFL_DILATIONS]},
    "DEPTHWISE_CONV_2D": {"category": "convolution", "inputs": TFL_CONV_IN, "outputs": [("output", "T", "single")],
                          "tc": TFL_CONV_TC,
                          "attrs": [TFL_PADDING, *TFL_STRIDES, ("depth_multiplier", "int", False, 1, None), TFL_ACT,
                                    *TFL_DILATIONS]},
    "DEQUANTIZE": {"category": "quantization", "inputs": [("input", "T1", "single")],
                   "outputs": [("output", "T2", "single")],
                   "tc": {"T1": ["tensor(float16)", "tensor(int8)", "tensor(uint8)", "tensor(int16)"],
                          "T2": ["tensor(float)"]}, "attrs": []},
    "FULLY_CONNECTED": {"category": "matmul",
                        "inputs": [("input", "T", "single"), ("weights", "T", "single"), ("bias", "B", "optional")],
                        "outputs": [("output", "T", "single")], "tc": TFL_CONV_TC,
                        "attrs": [TFL_ACT,
                                  ("weights_format", "string", False, "DEFAULT", ["DEFAULT", "SHUFFLED4x16INT8"]),
                                  ("keep_num_dims", "int", False, 0, None),
                                  ("asymmetric_quantize_inputs", "int", False, 0, None)]},
    "LOGISTIC": {"category": "activation", "inputs": [("input", "T", "single")],
                 "outputs": [("output", "T", "single")], "tc": TFL_UNARY_TC, "attrs": []},
    "MAX_POOL_2D": {"category": "pooling", "inputs": [("input", "T", "single")],
                    "outputs": [("output", "T", "single")], "tc": TFL_UNARY_TC,
                    "attrs": [TFL_PADDING, *TFL_STRIDES, ("filter_width", "int", True, None, None),
                              ("filter_height", "int", True, None, None), TFL_ACT]},
    "MEAN": {"category": "reduction", "inputs": [("input", "T", "single"), ("axis", "tensor(int32)", "single")],
             "outputs": [("output", "T", "single")], "tc": {"T": TFL_NUMERIC},
             "attrs": [("keep_dims", "int", False, 0, None)]},
    "PAD": {"category": "shape", "inputs": [("input", "T", "single"), ("paddings", "P", "single")],
            "outputs": [("output", "T", "single")],
            "tc": {"T": TFL_NUMERIC, "P": ["tensor(int32)", "tensor(int64)"]}, "attrs": []},
    "RELU": {"category": "activation", "inputs": [("input", "T", "single")], "outputs": [("output", "T", "single")],
             "tc": {"T": TFL_FLOATS + ["tensor(int8)", "tensor(uint8)"]}, "attrs": []},
    "RESHAPE": {"category": "shape", "inputs": [("input", "T", "single"), ("shape", "tensor(int32)", "optional")],
                "outputs": [("output", "T", "single")], "tc": {"T": TFL_NUMERIC},
                "attrs": [("new_shape", "ints", False, None, None)]},
}


def tflite_schema(op, spec):
    """One TFLITE_OPS entry in the resource format."""
    def params(lst):
        out = []
        for name, tc, option in lst:
            p = {"name": name, "tc": tc}
            if option != "single":
                p["option"] = option
            out.append(p)
        return out

    def bounds(lst):
        lo = sum(1 for _, _, o in lst if o != "optional")
        hi = -1 if any(o == "variadic" for _, _, o in lst) else len(lst)
        return lo, hi

    min_in, max_in = bounds(spec["inputs"])
    min_out, max_out = bounds(spec["outputs"])
    attrs = []
    for name, kind, required, default, legal in sorted(spec["attrs"], key=lambda a: a[0]):
        a = {"name": name, "type": kind}
        if required:
            a["required"] = True
        if default is not None:
            a["default"] = default
        if legal is not None:
            a["legal"] = legal
        attrs.append(a)
    return {"domain": "tflite", "op": op, "since": 1, "category": spec["category"], "minInputs": min_in,
            "maxInputs": max_in, "minOutputs": min_out, "maxOutputs": max_out, "inputs": params(spec["inputs"]),
            "outputs": params(spec["outputs"]),
            "typeConstraints": [{"name": k, "types": v} for k, v in sorted(spec["tc"].items())],
            "attributes": attrs}


UNBOUNDED = 2147483647


def attr_kind(a):
    """onnx's and onnxruntime's AttrType enums are distinct classes; both have the ONNX names."""
    return a.type.name.lower()


def option_name(p):
    return p.option.name.lower()


def category_table():
    table = {}
    for domain, categories in (("", CATEGORIES), ("ai.onnx.preview", CATEGORIES), ("com.microsoft", CONTRIB_CATEGORIES)):
        for cat, names in categories.items():
            for name in names.split():
                if (domain, name) in table:
                    sys.exit(f"gen_op_schemas: {name} is in both {table[(domain, name)]} and {cat}")
                table[(domain, name)] = cat
    return table


def f32(x):
    """A float attribute default as the shortest decimal that round-trips through float32."""
    return float(str(np.float32(x)))


def default_value(attr):
    d = attr.default_value if hasattr(attr, "default_value") else onnx.AttributeProto.FromString(attr._default_value)
    if not d.HasField("type") and not d.name:
        return None
    kind = attr_kind(attr)
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
    ref = LEGAL_TEXT_FROM.get((schema.domain, attr_name))
    if ref is not None:
        other = defs.get_schema(ref[1], domain=ref[0])
        text += other.attributes[attr_name].description + (other.doc or "")
    for v in values:
        if v not in text:
            sys.exit(f"gen_op_schemas: {schema.domain or 'ai.onnx'}::{schema.name}-{schema.since_version} "
                     f"{attr_name}: legal value '{v}' is not in the spec text")
    return values


def formal(p):
    out = {"name": p.name, "tc": p.type_str if hasattr(p, "type_str") else p.typeStr}
    option = option_name(p)
    if option != "single":
        out["option"] = option
    if option == "variadic":
        if not (p.is_homogeneous if hasattr(p, "is_homogeneous") else p.isHomogeneous):
            out["heterogeneous"] = True
        if getattr(p, "min_arity", 1) != 1:
            out["minArity"] = p.min_arity
    return out


def schema_json(s, categories):
    cat = categories.get((s.domain, s.name)) or DOMAIN_CATEGORY.get(s.domain)
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
        entry = {"name": name, "type": attr_kind(a)}
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


def render(schemas, categories, source):
    lines = [json.dumps(schema_json(s, categories), separators=(",", ":")) for s in schemas]
    header = json.dumps(source, separators=(",", ":"))
    return '{"source":' + header + ',\n"schemas":[\n' + ",\n".join(lines) + "\n]}\n"


def generate_onnx(categories):
    schemas = [s for s in defs.get_all_schemas_with_history() if s.domain in DOMAINS]
    schemas.sort(key=lambda s: (s.domain, s.name, s.since_version))
    return render(schemas, categories, {"generator": "scripts/gen_op_schemas.py", "onnx": onnx.__version__,
                                        "domains": [d or "ai.onnx" for d in DOMAINS]})


def generate_contrib(categories):
    import onnxruntime
    from onnxruntime.capi import onnxruntime_pybind11_state as ort

    wanted = {("com.microsoft", n) for (d, n) in categories if d == "com.microsoft"}
    wanted |= {("", n) for n in ORT_DEFAULT_DOMAIN_OPS}
    onnx_known = {(s.domain, s.name, s.since_version) for s in defs.get_all_schemas_with_history()}
    schemas = [s for s in ort.get_all_operator_schema()
               if (s.domain, s.name) in wanted and (s.domain, s.name, s.since_version) not in onnx_known]
    found = {(s.domain, s.name) for s in schemas}
    if wanted - found:
        sys.exit(f"gen_op_schemas: onnxruntime {onnxruntime.__version__} has no schema for {sorted(wanted - found)}")
    schemas.sort(key=lambda s: (s.domain, s.name, s.since_version))
    return render(schemas, categories, {"generator": "scripts/gen_op_schemas.py",
                                        "onnxruntime": onnxruntime.__version__,
                                        "reference": "onnxruntime docs/ContribOperators.md"})


def generate_tflite():
    lines = [json.dumps(tflite_schema(op, spec), separators=(",", ":")) for op, spec in sorted(TFLITE_OPS.items())]
    header = json.dumps({"generator": "scripts/gen_op_schemas.py (TFLITE_OPS, hand-written)",
                         "reference": "tensorflow/lite/schema/schema.fbs"}, separators=(",", ":"))
    return '{"source":' + header + ',\n"schemas":[\n' + ",\n".join(lines) + "\n]}\n"


def generate_all():
    """File name -> contents for every resource."""
    categories = category_table()
    return {"onnx_schemas.json": generate_onnx(categories),
            "contrib_schemas.json": generate_contrib(categories),
            "tflite_schemas.json": generate_tflite()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in generate_all().items():
        (args.out_dir / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out_dir / name}")


if __name__ == "__main__":
    main()
