/// Compiles a node into its kernel: picks the implementation for the op type (ai.onnx domain)
/// and reads its attributes once. Op schemas live in GraphOps; this only maps op types to code.
import GraphIR

enum KernelCompiler {
    /// The kernel for `node` under `opset` of the default domain; throws naming the op when
    /// the interpreter has no implementation. `declared` holds the inferred element type of
    /// each input where known: ops whose result type follows an input's type (CastLike,
    /// QuantizeLinear) need it for types held widened (float8, int4, ...).
    static func compile(_ node: Node, opset: Int, declared: [ElementType?] = []) throws -> Kernel {
        let kernel = try compileKernel(node, opset: opset, declared: declared)
        if acceptsNonNumeric.contains(node.opType) { return kernel }
        // Numeric kernels read `storage`: a string, sequence or empty optional reaching one (an
        // ill-typed graph) is refused with the op named instead of read as numbers.
        let op = node.opType
        return { io in
            for i in io.inputs.indices where io.inputs[i]?.isNonNumeric == true {
                let strings = io.inputs[i]?.strings != nil
                throw KernelError("\(op) does not take \(strings ? "string tensors" : "sequences or optionals")")
            }
            try kernel(&io)
        }
    }

    /// Ops whose kernels handle string tensors, sequences or optionals themselves.
    static let acceptsNonNumeric: Set<String> = [
        "Identity", "Equal", "StringConcat", "StringSplit", "RegexFullMatch", "StringNormalizer", "LabelEncoder",
        "TfIdfVectorizer", "SequenceConstruct", "SequenceEmpty", "SequenceInsert", "SequenceAt", "SequenceErase",
        "SequenceLength", "ConcatFromSequence", "Optional", "OptionalHasElement", "OptionalGetElement",
    ]

    static func compileKernel(_ node: Node, opset: Int, declared: [ElementType?]) throws -> Kernel {
        func declaredType(_ i: Int) -> ElementType? { i < declared.count ? declared[i] : nil }
        if node.domain == "com.microsoft" { return try ContribKernels.compile(node) }
        if node.domain == "ai.onnx.preview.training" { return try TrainingKernels.compile(node) }
        if node.domain == "ai.onnx.ml" { return try TrainingKernels.compileML(node) }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw KernelError("op \(node.domain)::\(node.opType) is not supported by the interpreter")
        }
        if let k = try SequenceKernels.compile(node) { return k }
        if let k = ElementwiseKernels.unaryKernel(node) { return k }
        if let k = ElementwiseKernels.arithmetic(node) { return k }
        if let k = ElementwiseKernels.comparison(node.opType) { return k }
        switch node.opType {
        case "Abs", "Neg": return ElementwiseKernels.signKernel(node.opType)
        case "Clip": return ElementwiseKernels.clip(node)
        case "Not": return ElementwiseKernels.not
        case "Where": return ElementwiseKernels.whereKernel()
        case "Cast": return try ElementwiseKernels.cast(node)
        case "Conv": return ConvKernels.conv(node)
        case "ConvTranspose": return ConvKernels.convTranspose(node)
        case "Gemm": return LinearKernels.gemm(node)
        case "MatMul": return LinearKernels.matmul()
        case "MaxPool": return PoolKernels.pool(node, max: true, opset: opset)
        case "AveragePool": return PoolKernels.pool(node, max: false, opset: opset)
        case "GlobalAveragePool": return PoolKernels.global(max: false)
        case "GlobalMaxPool": return PoolKernels.global(max: true)
        case "BatchNormalization": return PoolKernels.batchNorm(node)
        case "LRN": return PoolKernels.lrn(node)
        case "Softmax": return PoolKernels.softmax(node, opset: opset, log: false)
        case "LogSoftmax": return PoolKernels.softmax(node, opset: opset, log: true)
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceL2",
             "ReduceLogSum", "ReduceLogSumExp":
            return PoolKernels.reduce(node, opset: opset)
        case "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor": return BitKernels.binary(node)
        case "BitwiseNot": return BitKernels.not
        case "IsNaN", "IsInf": return BitKernels.classify(node)
        case "Sign": return BitKernels.sign
        case "PRelu": return BitKernels.prelu
        case "TopK": return ScatterKernels.topK(node)
        case "ScatterElements", "Scatter": return ScatterKernels.scatterElements(node)
        case "ScatterND": return ScatterKernels.scatterND(node)
        case "GatherND": return ScatterKernels.gatherND(node)
        case "OneHot": return ScatterKernels.oneHot(node)
        case "Compress": return ScatterKernels.compress(node)
        case "NonZero": return ScatterKernels.nonZero
        case "EyeLike": return ScatterKernels.eyeLike(node)
        case "DepthToSpace": return ScatterKernels.depthSpace(node, toSpace: true)
        case "SpaceToDepth": return ScatterKernels.depthSpace(node, toSpace: false)
        case "QuantizeLinear": return QuantKernels.quantize(node, zeroPointType: declaredType(2))
        case "DequantizeLinear": return QuantKernels.dequantize(node, inputType: declaredType(0))
        case "DynamicQuantizeLinear": return QuantKernels.dynamicQuantize
        case "MatMulInteger": return QuantKernels.matmulInteger
        case "QLinearMatMul": return QuantKernels.qlinearMatmul
        case "LpNormalization": return NormKernels.lpNorm(node)
        case "RotaryEmbedding": return NormKernels.rotary(node)
        case "LpPool": return PoolNDKernels.pool(node, mode: .lp(Double(node.int("p", 2))))
        case "HannWindow", "HammingWindow", "BlackmanWindow": return SignalKernels.window(node)
        case "Det": return SignalKernels.det
        case "CenterCropPad": return SignalKernels.centerCropPad(node)
        case "ReverseSequence": return SignalKernels.reverseSequence(node)
        case "InstanceNormalization": return NormKernels.groupNorm(node, instance: true)
        case "GroupNormalization": return NormKernels.groupNorm(node, instance: false)
        case "Einsum": return EinsumKernels.einsum(node)
        case "Unique": return EinsumKernels.unique(node)
        case "GridSample": return GridSampleKernels.gridSample(node)
        case "LSTM", "GRU", "RNN": return try RecurrentKernels.compile(node)
        case "BitCast": return try SignalKernels.bitCast(node)
        case "DFT": return SignalKernels.dft(node, opset: opset)
        case "NonMaxSuppression": return ScatterKernels.nonMaxSuppression(node)
        case "ConvInteger": return QuantKernels.convInteger(node)
        case "QLinearConv": return QuantKernels.qlinearConv(node)
        case "Attention": return AttentionKernels.attention(node)
        case "CastLike": return try IndexKernels.castLike(node, likeType: declaredType(1))
        case "GatherElements": return IndexKernels.gatherElements(node)
        case "Trilu": return IndexKernels.trilu(node)
        case "ArgMax": return IndexKernels.argExtreme(node, max: true)
        case "ArgMin": return IndexKernels.argExtreme(node, max: false)
        case "CumSum": return IndexKernels.cumulative(node, product: false)
        case "CumProd": return IndexKernels.cumulative(node, product: true)
        case "Hardmax": return IndexKernels.hardmax(node, opset: opset)
        case "LayerNormalization": return NormKernels.layerNorm(node, rms: false)
        case "RMSNormalization": return NormKernels.layerNorm(node, rms: true)
        case "NegativeLogLikelihoodLoss": return LossKernels.nll(node)
        case "SoftmaxCrossEntropyLoss": return LossKernels.softmaxCrossEntropy(node)
        case "Identity": return DataKernels.identity
        case "Dropout": return DataKernels.dropout(node)
        case "Reshape": return DataKernels.reshape(node)
        case "Flatten": return DataKernels.flatten(node)
        case "Squeeze": return DataKernels.squeeze(node, unsqueeze: false)
        case "Unsqueeze": return DataKernels.squeeze(node, unsqueeze: true)
        case "Transpose": return DataKernels.transpose(node)
        case "Concat": return DataKernels.concat(node)
        case "Split": return DataKernels.split(node)
        case "Slice": return DataKernels.slice(node, opset: opset)
        case "Gather": return DataKernels.gather(node)
        case "Shape": return DataKernels.shape(node)
        case "Size": return DataKernels.size
        case "ConstantOfShape": return try DataKernels.constantOfShape(node)
        case "Expand": return DataKernels.expand(tile: false)
        case "Tile": return DataKernels.expand(tile: true)
        case "Range": return DataKernels.range
        case "Pad": return ResampleKernels.pad(node, opset: opset)
        case "Resize", "Upsample": return ResampleKernels.resize(node, opset: opset)
        case "TfIdfVectorizer": return try StringKernels.tfidf(node)
        case "StringConcat": return StringKernels.concat
        case "StringSplit": return StringKernels.split(node)
        case "RegexFullMatch": return try StringKernels.regexFullMatch(node)
        case "StringNormalizer": return StringKernels.normalizer(node)
        case "LinearAttention": return RecurrenceKernels.linearAttention(node)
        case "CausalConvWithState": return RecurrenceKernels.causalConv(node)
        case "Col2Im": return SpatialKernels.col2im(node)
        case "AffineGrid": return SpatialKernels.affineGrid(node)
        case "MaxUnpool": return SpatialKernels.maxUnpool(node)
        case "TensorScatter": return SpatialKernels.tensorScatter(node)
        case "MeanVarianceNormalization": return SpatialKernels.mvn(node)
        default:
            throw KernelError("op \(node.opType) is not supported by the interpreter")
        }
    }
}
