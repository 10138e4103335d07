// Op categories and their colours: the legend's vocabulary. One table maps ONNX (and common
// TFLite) operator names to ten families, so a reader sees convs, matmuls, norms, etc. at a glance.

/// The family an operator belongs to, for colouring and the legend.
public enum OpCategory: String, CaseIterable, Sendable {
    case convolution, matmul, normalization, activation, elementwise, reduction, shape, control, constant, other

    /// Legend text.
    public var title: String {
        switch self {
        case .convolution: return "conv / pool"
        case .matmul: return "matmul / gemm"
        case .normalization: return "normalization"
        case .activation: return "activation"
        case .elementwise: return "elementwise"
        case .reduction: return "reduction"
        case .shape: return "shape / layout"
        case .control: return "control flow"
        case .constant: return "constant / param"
        case .other: return "other"
        }
    }

    /// Fill colour (light, so black text stays readable).
    public var fill: String {
        switch self {
        case .convolution: return "#bbdefb"
        case .matmul: return "#d1c4e9"
        case .normalization: return "#c8e6c9"
        case .activation: return "#ffe0b2"
        case .elementwise: return "#fff9c4"
        case .reduction: return "#f8bbd0"
        case .shape: return "#e0e0e0"
        case .control: return "#ffccbc"
        case .constant: return "#f5f5f5"
        case .other: return "#d7ccc8"
        }
    }

    /// Border colour, a darker shade of the fill.
    public var stroke: String {
        switch self {
        case .convolution: return "#1e88e5"
        case .matmul: return "#5e35b1"
        case .normalization: return "#43a047"
        case .activation: return "#fb8c00"
        case .elementwise: return "#c0a000"
        case .reduction: return "#d81b60"
        case .shape: return "#757575"
        case .control: return "#e64a19"
        case .constant: return "#9e9e9e"
        case .other: return "#6d4c41"
        }
    }

    /// Category of an operator name, case-insensitive; unknown names are `.other`.
    public static func of(_ op: String) -> OpCategory {
        let key = op.lowercased()
        if let c = table[key] { return c }
        if key.contains("conv") || key.contains("pool") { return .convolution }
        if key.contains("matmul") || key.contains("gemm") || key.contains("fullyconnected") || key.contains("einsum") { return .matmul }
        if key.contains("norm") { return .normalization }
        if key.hasPrefix("reduce") { return .reduction }
        if key.hasSuffix("relu") || key.contains("sigmoid") || key.contains("swish") { return .activation }
        return .other
    }

    private static let table: [String: OpCategory] = {
        var t: [String: OpCategory] = [:]
        func put(_ c: OpCategory, _ names: [String]) { for n in names { t[n.lowercased()] = c } }
        put(.convolution, ["Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "GlobalAveragePool",
                           "GlobalMaxPool", "LpPool", "GlobalLpPool", "MaxUnpool", "DepthwiseConv2D", "Conv2D", "TransposeConv",
                           "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "Col2Im", "DeformConv"])
        put(.matmul, ["MatMul", "Gemm", "MatMulInteger", "QLinearMatMul", "FULLY_CONNECTED", "BATCH_MATMUL", "Einsum", "Attention"])
        put(.normalization, ["BatchNormalization", "LayerNormalization", "InstanceNormalization", "GroupNormalization",
                             "LRN", "LpNormalization", "MeanVarianceNormalization", "RMSNormalization", "L2_NORMALIZATION",
                             "LOCAL_RESPONSE_NORMALIZATION", "SimplifiedLayerNormalization", "SkipLayerNormalization"])
        put(.activation, ["Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Elu", "Selu", "Celu",
                          "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Gelu", "Mish", "ThresholdedRelu", "Clip",
                          "RELU", "RELU6", "LOGISTIC", "TANH", "SOFTMAX", "HARD_SWISH", "PRELU", "LEAKY_RELU", "GELU", "Hardmax"])
        put(.elementwise, ["Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal", "Max", "Min",
                           "Sum", "Mean", "Erf", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Equal", "Greater", "Less",
                           "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not", "Xor", "Where", "Mod", "BitShift", "IsNaN",
                           "IsInf", "Cast", "CastLike", "Dropout", "Identity", "QuantizeLinear", "DequantizeLinear",
                           "ADD", "SUB", "MUL", "DIV", "SQRT", "RSQRT", "EXP", "MAXIMUM", "MINIMUM", "QUANTIZE", "DEQUANTIZE"])
        put(.reduction, ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                         "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "TopK", "CumSum",
                         "MEAN", "SUM", "REDUCE_MAX", "ARG_MAX", "ARG_MIN"])
        put(.shape, ["Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather",
                     "GatherElements", "GatherND", "Scatter", "ScatterElements", "ScatterND", "Shape", "Size", "Expand",
                     "Tile", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "NonZero", "Range", "OneHot",
                     "Compress", "ReverseSequence", "Trilu", "SplitToSequence", "ConcatFromSequence",
                     "RESHAPE", "TRANSPOSE", "CONCATENATION", "SPLIT", "SLICE", "STRIDED_SLICE", "GATHER", "PAD", "PADV2",
                     "SQUEEZE", "EXPAND_DIMS", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "SHAPE", "PACK", "UNPACK"])
        put(.control, ["If", "Loop", "Scan", "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceInsert",
                       "SequenceLength", "WHILE", "IF", "CALL_ONCE"])
        put(.constant, ["Constant", "ConstantOfShape", "Initializer", "Parameter", "Input", "Output", "EyeLike",
                        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "GraphInput", "GraphOutput"])
        put(.other, ["LSTM", "GRU", "RNN", "NonMaxSuppression", "RoiAlign"])
        return t
    }()
}
