// GraphOps: what every operator accepts and produces, shared by every part of Graphsmith.
//
// This target owns the op registry (`OpRegistry`, keyed by domain, op type and opset version),
// the schema types (`OpSchema` and its parts), the one category table (`OpCategory`, read by the
// renderer's legend, the estimator and coverage reports) and validation of a graph against the
// schemas (`SchemaValidator`). Its data is generated from the onnx package's own schemas by
// `scripts/gen_op_schemas.py` (Resources/onnx_schemas.json) plus hand-written tables for the
// com.microsoft contrib ops and the TFLite builtins (Resources/contrib_schemas.json,
// Resources/tflite_schemas.json). Symbolic shape and type inference lives in `Inference/`.
// Depends on GraphIR only.
