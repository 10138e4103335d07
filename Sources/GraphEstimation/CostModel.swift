/// Per-node cost: MACs and FLOPs (in every supported convention at once), bytes read
/// (activations and weights) and written, parameters owned, op class and GEMM view.
///
/// ## Graphsmith's own convention (`Convention.graphsmith`)
/// - 1 MAC = 2 FLOPs. MACs are reported only for multiply-accumulate work: Conv
///   (`N·C_out·Πout_spatial·(C_in/g)·Πk`), ConvTranspose (`N·C_in·Πin_spatial·(C_out/g)·Πk`),
///   MatMul/Gemm (`batch·M·N·K`), Einsum (product of all index sizes), LSTM/GRU/RNN
///   (`seq·batch·dirs·gates·hidden·(input+hidden)`), Attention (`B·H·Sq·Sk·(D+Dv)`, causal
///   factor `(Sk+1)/(2Sk)` when Sq = Sk and is_causal).
/// - FLOPs = 2·MACs + bias adds (1 per output element) + the op's non-MAC work:
///   element-wise ops 1 per output element per extra input (transcendentals count
///   `transcendentalFLOPs`, default 1; 8 models the hardware cost), Softmax 5/elem,
///   LayerNorm and Instance/GroupNorm 5/elem, RMSNorm 4, BatchNorm (inference) 2,
///   pooling 1 per window element per output, global pools and reductions 1 per input element,
///   linear Resize 4 / cubic 8 per output element, recurrent gate math 17 (LSTM), 14 (GRU), 3 (RNN)
///   per hidden element per step. Copies, gathers and shape ops: 0 FLOPs.
/// - Bytes: every non-constant input and every output at its element type (or a chosen
///   precision for floats), weights (constant inputs) separately; shape-only ops
///   (Reshape, Squeeze, Shape, ...) and folded constant nodes move nothing.
/// - Params: elements of float constant inputs, each tensor owned by its first consumer.
/// - If/Loop/Scan: nothing of their own; their bodies' nodes are costed per execution and
///   counted `CostAnalysis.executions` times (the taken If branch once, a Loop body per trip, a
///   Scan body per sequence element). Parameters are owned once, by a body node that runs.
///
/// ## Compatibility conventions (reproduce other tools' totals)
/// - `dense`: Conv/ConvTranspose/MatMul/Gemm/recurrent MACs only, no bias, FLOPs = 2·MACs
///   (the figure papers and model zoos quote; `dense_macs` in the corpus references).
/// - `fvcore`: MACs for Conv/ConvTranspose/MatMul/Gemm/Einsum, BatchNorm 1-2/elem,
///   Layer/Instance/GroupNorm 4-5/elem, GlobalAveragePool 1/input elem, upsample nearest 1
///   and linear 4 per output elem; everything else 0. FLOPs = 2·MACs.
/// - `deepspeed`: its FLOPs (2·MACs + conv/addmm bias, 1/elem for element-wise, activations,
///   softmax, pooling input elems, upsample output elems; norms as fvcore ×1) and its MACs
///   (GEMM-like only).
/// - `onnxTool`: onnx-tool 1.0's instruction-weighted "MACs" (ADD=MUL=CMP 1, DIV 4, EXP/POW 32,
///   LOG 43, SQRT 24, SIN/COS 39, TANH 38; Conv/Gemm/MatMul + 1 per output if biased,
///   BatchNorm 31/elem, LayerNorm 7/elem + 29/row, ...). FLOPs = 2·MACs as it prints them.
public enum Convention: String, Sendable, Hashable, CaseIterable {
    case graphsmith, dense, fvcore, deepspeed, onnxTool = "onnx-tool"

    /// Parses `dense`, `fvcore`, `deepspeed`, `onnx-tool`/`onnxtool`, `graphsmith`/`native`.
    public init?(parsing s: String) {
        switch s.lowercased() {
        case "graphsmith", "native", "default": self = .graphsmith
        case "dense": self = .dense
        case "fvcore": self = .fvcore
        case "deepspeed", "calflops": self = .deepspeed
        case "onnx-tool", "onnxtool", "onnx_tool": self = .onnxTool
        default: return nil
        }
    }
}

/// Counts of one node in every convention (computed together: it costs nothing extra).
public struct OpCounts: Sendable, Hashable {
    /// Graphsmith convention: multiply-accumulates, and FLOPs (2 per MAC plus non-MAC work).
    public var macs = 0, flops = 0
    /// Conv/ConvTranspose/MatMul/Gemm/recurrent MACs only (the `dense` convention).
    public var denseMACs = 0
    /// fvcore's count (its "flops" are MACs).
    public var fvcoreMACs = 0
    /// DeepSpeed flops profiler's MACs and FLOPs.
    public var deepspeedMACs = 0, deepspeedFLOPs = 0
    /// onnx-tool 1.0's instruction-weighted MACs.
    public var onnxToolMACs = 0

    /// (MACs, FLOPs) in a convention.
    public func figures(_ c: Convention) -> (macs: Int, flops: Int) {
        switch c {
        case .graphsmith: return (macs, flops)
        case .dense: return (denseMACs, 2 &* denseMACs)
        case .fvcore: return (fvcoreMACs, 2 &* fvcoreMACs)
        case .deepspeed: return (deepspeedMACs, deepspeedFLOPs)
        case .onnxTool: return (onnxToolMACs, 2 &* onnxToolMACs)
        }
    }
}

/// Why a node has no (or partial) figures.
public enum CostStatus: String, Sendable, Hashable {
    /// Figures computed.
    case ok
    /// All inputs constant: a runtime folds it before execution.
    case folded
    /// Some input or output shape is unknown; counts are zero.
    case unknownShape
    /// The estimator has no formula for this op; bytes only.
    case unsupportedOp
    /// If/Loop/Scan: no work of its own; its figures in a `GraphEstimate` are the roll-up of the
    /// bodies it runs (the chosen If branch, the Loop body × trips, the Scan body × length).
    case controlFlow
}

/// The cost of one node.
public struct NodeCost: Sendable, Hashable {
    /// MACs and FLOPs in every convention.
    public var counts = OpCounts()
    /// Bytes of non-constant inputs read.
    public var bytesReadActivations: Double = 0
    /// Bytes of constant inputs (weights) read.
    public var bytesReadWeights: Double = 0
    /// Bytes of outputs written.
    public var bytesWritten: Double = 0
    /// Float parameter elements owned (first consumer of each constant float tensor).
    public var params = 0
    /// All-dtype constant elements owned (onnx-tool's parameter convention).
    public var constantElements = 0
    /// Float elements moved (all categories) and the bytes of non-float tensors: lets a sweep
    /// re-price traffic at another precision without re-running the analysis.
    public var floatElementsMoved: Double = 0
    /// Bytes of non-float tensors moved (not re-priced by precision).
    public var nonFloatBytesMoved: Double = 0
    /// Kind of work, for the roofline.
    public var opClass: OpClass = .other
    /// GEMM view for tile quantization (GEMM-like ops only).
    public var gemm: GemmShape?
    /// Whether the figures are complete.
    public var status: CostStatus = .ok
    /// All bytes moved.
    public var bytes: Double { bytesReadActivations + bytesReadWeights + bytesWritten }

    /// Bytes moved if every float tensor were stored at `precision`.
    public func bytes(at precision: Precision) -> Double { floatElementsMoved * precision.bytesPerElement + nonFloatBytesMoved }
}

/// Options of the cost model.
public struct CostOptions: Sendable, Hashable {
    /// Price float tensors at this precision instead of their element types.
    public var bytesPrecision: Precision?
    /// FLOPs per element for transcendental functions (exp, tanh, erf, sigmoid...): 1 by
    /// convention, about 8 to model their real instruction cost.
    public var transcendentalFLOPs = 1
    /// Count traffic only at fusion boundaries: an element-wise node that is the only consumer
    /// of its producer's output (a GEMM/conv epilogue, or a chain of element-wise ops) reads it
    /// from registers, so neither the producer's write nor this read reaches memory. Off by
    /// default (every tensor round-trips through memory, as an unfused runtime does).
    public var fuseElementwise = false
    /// Options with the given float precision for bytes and transcendental weight.
    public init(bytesPrecision: Precision? = nil, transcendentalFLOPs: Int = 1, fuseElementwise: Bool = false) {
        self.bytesPrecision = bytesPrecision; self.transcendentalFLOPs = transcendentalFLOPs
        self.fuseElementwise = fuseElementwise
    }
}

/// The per-op formulas (see the file header for the conventions).
public enum CostModel {
    /// Views a runtime makes without a kernel or a copy, and constants materialised at load:
    /// no FLOPs, no traffic.
    static let views: Set<String> = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape", "Size",
                                     "Constant", "ConstantOfShape", "Dropout", "Optional", "OptionalGetElement"]
    /// Element-wise ops that convert or select without arithmetic: costed as copies.
    static let elementwiseCopies: Set<String> = ["Cast", "CastLike", "Where"]
    /// Functions whose FLOP weight is `CostOptions.transcendentalFLOPs` rather than 1.
    static let transcendental: Set<String> = ["Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Erf", "Gelu", "Pow", "Sin", "Cos",
                                              "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
                                              "Softplus", "Mish", "Elu", "Selu", "Celu", "Swish", "FastGelu", "QuickGelu",
                                              "BiasGelu", "Reciprocal"]
    /// Scans the registry files with reductions: one add (or multiply) per element, not per input element reduced.
    static let runningTotals: Set<String> = ["CumSum", "CumProd"]
    /// Ops the registry files with element-wise ones whose work is not per element (a
    /// determinant factorizes each matrix): no formula here.
    static let notPerElement: Set<String> = ["Det"]
    /// Random generators: a runtime never folds them.
    static let randomGenerators: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                                "Multinomial", "Bernoulli"]
    static let deepspeedArithmetic: Set<String> = ["Add", "Sub", "Mul", "Div"]
    /// Activations DeepSpeed's profiler patches (1 FLOP per element).
    static let deepspeedActivations: Set<String> = ["Gelu", "Sigmoid", "Tanh", "Elu", "Selu", "Celu", "Softplus", "Swish", "FastGelu",
                                                    "QuickGelu", "BiasGelu", "Mish", "Relu", "LeakyRelu", "PRelu", "Clip",
                                                    "HardSigmoid", "HardSwish"]
    /// Ops with a formula of their own in `cost` (MACs of matrix products, norms, pooling...).
    static let ownFormula: Set<String> = ["Conv", "ConvInteger", "QLinearConv", "NhwcConv", "FusedConv", "ConvTranspose", "MatMul",
        "MatMulInteger", "QLinearMatMul", "FusedMatMul", "Gemm", "FusedGemm", "Einsum", "LSTM", "GRU", "RNN", "Attention",
        "MultiHeadAttention", "GroupQueryAttention", "Softmax", "LogSoftmax", "LayerNormalization", "SkipLayerNormalization",
        "RMSNormalization", "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization", "BatchNormalization",
        "InstanceNormalization", "GroupNormalization", "MeanVarianceNormalization", "LRN", "MaxPool", "AveragePool", "LpPool",
        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "Resize", "Upsample", "RotaryEmbedding", "LpNormalization",
        "DynamicQuantizeLinear"]

    /// Whether the cost model has a formula for an op type.
    public static func isKnown(_ op: String) -> Bool { OpTraits.of(op).hasCostFormula }

    /// onnx-tool's per-element instruction weight for point-wise ops (nil: not point-wise there).
    static func onnxToolWeight(_ op: String, inputs: Int) -> Int? {
        let ratio = max(1, inputs - 1)
        switch op {
        case "Add", "Sub", "Mul", "Min", "Max", "Mod", "Sum": return 1 * ratio
        case "Div": return 4 * ratio
        case "Neg", "Abs", "Ceil", "Sign", "Relu", "Hardmax", "CumSum": return 1
        case "Exp", "Sigmoid", "Pow": return 32
        case "Softmax": return 36
        case "Log": return 43
        case "Sqrt": return 24
        case "Sin", "Cos": return 39
        case "Tanh": return 76
        case "Atan": return 64
        case "HardSigmoid": return 4
        case "HardSwish": return 5
        case "PRelu", "LeakyRelu", "Clip", "Relu6", "DequantizeLinear", "QuantizeLinear": return 2
        case "Reciprocal": return 4
        case "InstanceNormalization": return 14
        case "ImageScaler": return 2
        case "Less", "LessOrEqual", "Not", "And", "Or", "Xor", "Equal", "Greater", "NonZero", "Floor": return 1
        default: return nil
        }
    }

    @inline(__always)
    static func setGemm(_ k: inout OpCounts, _ macs: Int, bias: Bool, outVol: Int, otMACs: Int) {
        k.macs = macs; k.flops = 2 &* macs &+ (bias ? outVol : 0)
        k.denseMACs = macs; k.fvcoreMACs = macs
        k.deepspeedMACs = macs; k.deepspeedFLOPs = 2 &* macs &+ (bias ? outVol : 0)
        k.onnxToolMACs = otMACs
    }

    /// Counts of the per-element families (binary, unary, transcendental, reductions) and copies.
    static func perElement(_ traits: OpTraits, op: String, outVol: Int, inVol: Int, present: Int, transcendentalFLOPs tr: Int,
                           _ k: inout OpCounts, _ c: inout NodeCost) {
        let ot = traits.onnxToolPerExtraInput ? satMul(traits.onnxToolWeight, max(1, present - 1)) : traits.onnxToolWeight
        switch traits.costGroup {
        case .reduction:
            k.flops = inVol; k.deepspeedFLOPs = 0; k.onnxToolMACs = satMul(inVol, traits.onnxToolWeight)
            c.opClass = .reduction
        case .binary:
            k.flops = satMul(outVol, max(1, present - 1))
            if traits.deepspeedPerElement { k.deepspeedFLOPs = outVol }
            k.onnxToolMACs = satMul(outVol, ot)
            c.opClass = .elementwise
        case .transcendental:
            k.flops = satMul(outVol, tr)
            if traits.deepspeedPerElement { k.deepspeedFLOPs = outVol }
            k.onnxToolMACs = satMul(outVol, ot)
            c.opClass = .elementwise
        case .simpleUnary:
            k.flops = outVol
            if traits.deepspeedPerElement { k.deepspeedFLOPs = outVol }
            k.onnxToolMACs = satMul(outVol, ot)
            c.opClass = .elementwise
        case .other:
            if traits.isDataMovement { c.opClass = .dataMovement } else { c.status = .unsupportedOp; c.opClass = .other }
        }
    }

    /// onnx-tool's per-input-element weight of a reduction (0 when onnx-tool does not count it).
    static func onnxToolReductionWeight(_ op: String) -> Int {
        switch op {
        case "ReduceMean", "ReduceSum", "ReduceProd", "ReduceMin", "ReduceMax": return 1
        case "ReduceL2": return 25
        default: return 0
        }
    }

    /// Bytes of value `v` at its type (floats at `floatBytes` when given), also tallied by kind in `c`.
    @inline(__always)
    static func traffic(_ v: Int, _ t: ShapeTable, _ floatBytes: Double?, _ c: inout NodeCost) -> Double {
        let count = t.elementCounts[v]
        guard count >= 0 else { return 0 }
        let bits = t.elementBits[v] == 0 ? 32 : t.elementBits[v]
        let n = Double(count)
        if t.isFloat[v] { c.floatElementsMoved += n; return n * (floatBytes ?? Double(bits) / 8) }
        c.nonFloatBytesMoved += n * Double(bits) / 8
        return n * Double(bits) / 8
    }

    /// Computes one node's cost. `owned` tells whether each input is the first use of a constant
    /// (so its parameters belong to this node).
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    /// Costs node `n` (at `index`) given inferred shapes; `owned[k]` tells whether input k is the first
    /// use of a constant (its parameters then belong to this node).
    public static func cost(_ n: OpNode, index: Int, graph g: OpGraph, shapes t: ShapeTable, owned: ArraySlice<Bool>,
                            options: CostOptions = CostOptions()) -> NodeCost {
        var c = NodeCost()
        let op = n.opType
        let floatBytes = options.bytesPrecision?.bytesPerElement
        // params and byte traffic
        for (k, v) in n.inputs.enumerated() where v >= 0 {
            if t.isConstant[v] {
                if k < owned.count && owned[owned.startIndex + k], t.elementCounts[v] >= 0 {
                    let e = t.elementCounts[v]
                    c.constantElements &+= e
                    if t.isFloat[v] { c.params &+= e }
                }
            }
        }
        if t.folded[index] { c.status = .folded; c.opClass = .metadata; return c }
        let traits = n.traits
        if traits.isMetadata { c.opClass = .metadata; return c }
        // the work of If/Loop/Scan is in their bodies' nodes (`CostAnalysis.executions`); the node itself moves nothing
        if traits.isControlFlow { c.status = .controlFlow; c.opClass = .other; return c }
        for v in n.inputs where v >= 0 {
            let b = traffic(v, t, floatBytes, &c)
            if t.isConstant[v] { c.bytesReadWeights += b } else { c.bytesReadActivations += b }
        }
        for v in n.outputs where v >= 0 { c.bytesWritten += traffic(v, t, floatBytes, &c) }

        if !traits.hasCostFormula { c.status = .unsupportedOp; c.opClass = .other; return c }
        let ins = ShapesView(ids: n.inputs, shapes: t.shapes)
        let outs = ShapesView(ids: n.outputs, shapes: t.shapes)
        guard let y = outs.first ?? nil, let x = ins.first ?? nil else {
            c.status = .unknownShape; c.opClass = traits.isDataMovement ? .dataMovement : .other; return c
        }
        let outVol = ShapeMath.volume(y), inVol = ShapeMath.volume(x)
        var present = 0
        for v in n.inputs where v >= 0 { present += 1 }
        let tr = options.transcendentalFLOPs
        var k = c.counts


        // per-element families and plain copies skip the string switch (it compares case by case)
        if traits.costGroup != .other || (traits.isDataMovement && op != "Resize" && op != "Upsample") {
            perElement(traits, op: op, outVol: outVol, inVol: inVol, present: present, transcendentalFLOPs: tr, &k, &c)
        } else {
        switch op {
        case "Conv", "ConvInteger", "QLinearConv", "NhwcConv", "FusedConv":
            let wi = op == "QLinearConv" ? 3 : 1
            guard let w = ins[safe: wi], w.count >= 3, y.count >= 3 else { c.status = .unknownShape; break }
            let g = max(n.int("group") ?? 1, 1)
            let perOut = ShapeMath.volume(Array(w.dropFirst()))   // (C_in/g)·Πk
            let macs = satMul(outVol, perOut)
            let bias = op == "QLinearConv" ? present == 9 : (op == "Conv" || op == "NhwcConv" || op == "FusedConv") && present > 2
            setGemm(&k, macs, bias: bias, outVol: outVol, otMACs: macs &+ (bias ? outVol : 0))
            c.opClass = .matmul
            let spatial = ShapeMath.volume(Array(y.dropFirst(2)))
            c.gemm = GemmShape(batch: g, m: satMul(y[0], spatial), n: w[0] / g, k: perOut)
        case "ConvTranspose":
            guard let w = ins[safe: 1], w.count >= 3, x.count >= 3 else { c.status = .unknownShape; break }
            let g = max(n.int("group") ?? 1, 1)
            let kernel = ShapeMath.volume(Array(w.dropFirst(2)))
            let macs = satMul(satMul(inVol, w[1]), kernel)            // N·C_in·Πin·(C_out/g)·Πk
            let bias = present > 2
            setGemm(&k, macs, bias: bias, outVol: outVol, otMACs: satMul(outVol, ShapeMath.volume(Array(w.dropFirst()))) &+ (bias ? outVol : 0))
            c.opClass = .matmul
            c.gemm = GemmShape(batch: g, m: satMul(x[0], ShapeMath.volume(Array(x.dropFirst(2)))), n: w[1], k: satMul(w[0] / g, 1) * kernel)
        case "MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul":
            let bi = op == "QLinearMatMul" ? 3 : 1
            guard let b = ins[safe: bi] else { c.status = .unknownShape; break }
            // FusedMatMul's transA reads A's last two dims the other way round.
            let kDim = op == "FusedMatMul" && (n.int("transA") ?? 0) != 0 && x.count >= 2 ? x[x.count - 2] : (x.last ?? 1)
            let macs = satMul(outVol, kDim)
            let ot = satMul(outVol, b.count > 1 ? b[b.count - 2] : 1)
            setGemm(&k, macs, bias: false, outVol: outVol, otMACs: ot)
            c.opClass = .matmul
            let m = x.count >= 2 ? x[x.count - 2] : 1, nn = b.count >= 2 ? b[b.count - 1] : 1
            c.gemm = GemmShape(batch: max(outVol / max(satMul(m, nn), 1), 1), m: m, n: nn, k: kDim)
        case "Gemm", "FusedGemm":
            guard let b = ins[safe: 1], b.count == 2, x.count == 2, y.count == 2 else { c.status = .unknownShape; break }
            let kDim = (n.int("transA") ?? 0) != 0 ? x[0] : x[1]
            let macs = satMul(outVol, kDim)
            let bias = present > 2
            let otK = (n.int("transB") ?? 0) != 0 ? b[1] : b[0]
            setGemm(&k, macs, bias: bias, outVol: outVol, otMACs: satMul(outVol, otK) &+ (bias ? outVol : 0))
            c.opClass = .matmul
            c.gemm = GemmShape(batch: 1, m: y[0], n: y[1], k: kDim)
        case "Einsum":
            guard let eq = n.string("equation"), let spec = EinsumSpec(eq), ins.allSatisfy({ $0 != nil }) else { c.status = .unknownShape; break }
            let macs = spec.macs(ins.compactMap { $0 })
            k.macs = macs; k.flops = 2 &* macs; k.fvcoreMACs = macs; k.deepspeedMACs = macs; k.deepspeedFLOPs = 2 &* macs
            k.onnxToolMACs = macs
            c.opClass = .matmul
        case "LSTM", "GRU", "RNN":
            guard let w = ins[safe: 1], let r = ins[safe: 2], w.count == 3, x.count == 3 else { c.status = .unknownShape; break }
            let gates = op == "LSTM" ? 4 : (op == "GRU" ? 3 : 1)
            let layout = n.int("layout") ?? 0
            let seq = layout == 0 ? x[0] : x[1], batch = layout == 0 ? x[1] : x[0]
            let hidden = n.int("hidden_size") ?? (w[1] / gates)
            let macs = satMul(satMul(seq, batch), ShapeMath.volume(w) &+ ShapeMath.volume(r))
            let steps = satMul(satMul(seq, batch), satMul(w[0], hidden))
            let elementwise = op == "LSTM" ? 17 : (op == "GRU" ? 14 : 3)
            k.macs = macs; k.flops = 2 &* macs &+ satMul(steps, elementwise); k.denseMACs = macs
            k.deepspeedMACs = macs; k.deepspeedFLOPs = k.flops
            // onnx-tool: per (batch·seq·hidden), directions folded into W/R volumes
            let ht = satMul(satMul(batch, seq), hidden)
            let bVol = ins[safe: 3].map { ShapeMath.volume($0) } ?? 0
            let bias = satMul(satMul(bVol, batch), seq)
            switch op {
            case "LSTM": k.onnxToolMACs = macs &+ bias &+ satMul(ht, 4 + 96 + 76 + 4)
            case "GRU": k.onnxToolMACs = macs &+ bias &+ satMul(ht, 3 + 64 + 38 + 5)
            default: k.onnxToolMACs = 0
            }
            c.opClass = .matmul
            c.gemm = GemmShape(batch: seq, m: batch, n: gates * hidden, k: (w[2] + hidden))
        case "Attention", "MultiHeadAttention", "GroupQueryAttention":
            // ONNX Attention (opset 23): Q (B, H, Sq, D) or (B, Sq, H·D) with q_num_heads.
            guard let kS = ins[safe: 1], let vS = ins[safe: 2], kS.count >= 2, kS.count == x.count, !x.isEmpty else {
                c.status = .unknownShape; break
            }
            var b = x[0], h = 1, sq = 1, d = 1, sk = 1, dv = 1
            if x.count == 4 { h = x[1]; sq = x[2]; d = x[3]; sk = kS.count == 4 ? kS[2] : kS[1]; dv = vS.last ?? d }
            else if x.count == 3 {
                h = n.int("q_num_heads") ?? n.int("num_heads") ?? 1
                sq = x[1]; d = x[2] / max(h, 1); sk = kS[1]
                let kvh = n.int("kv_num_heads") ?? h
                dv = (vS.last ?? d) / max(kvh, 1)
            }
            b = max(b, 1)
            var scores = satMul(satMul(b, h), satMul(sq, sk))
            if (n.int("is_causal") ?? 0) != 0 && sq == sk && sk > 0 { scores = scores / (2 * sk) * (sk + 1) }
            let macs = satMul(scores, d &+ dv)
            k.macs = macs; k.flops = 2 &* macs &+ 5 &* scores
            k.deepspeedMACs = macs; k.deepspeedFLOPs = 2 &* macs
            c.opClass = .matmul
            c.gemm = GemmShape(batch: satMul(b, h), m: sq, n: sk, k: d)
        case "Softmax", "LogSoftmax":
            k.flops = 5 &* outVol; k.deepspeedFLOPs = outVol; k.onnxToolMACs = op == "Softmax" ? 36 &* outVol : 0
            c.opClass = .reduction
        case "LayerNormalization", "SkipLayerNormalization":
            let ax = n.int("axis") ?? -1
            let a = ax < 0 ? ax + x.count : ax
            let rows = ShapeMath.volume(Array(x.prefix(max(a, 0))))
            let affine = present > 1
            k.flops = 5 &* inVol
            k.fvcoreMACs = (affine ? 5 : 4) &* inVol; k.deepspeedFLOPs = k.fvcoreMACs
            k.onnxToolMACs = inVol &* 7 &+ rows &* 29
            c.opClass = .reduction
        case "RMSNormalization", "SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization":
            k.flops = 4 &* inVol; k.fvcoreMACs = 4 &* inVol; k.deepspeedFLOPs = 4 &* inVol
            c.opClass = .reduction
        case "BatchNormalization":
            k.flops = 2 &* outVol; k.fvcoreMACs = 2 &* outVol; k.deepspeedFLOPs = 2 &* outVol; k.onnxToolMACs = 31 &* outVol
            c.opClass = .elementwise
        case "InstanceNormalization", "GroupNormalization", "MeanVarianceNormalization":
            k.flops = 5 &* outVol; k.fvcoreMACs = 5 &* outVol; k.deepspeedFLOPs = 5 &* outVol
            k.onnxToolMACs = op == "InstanceNormalization" ? 14 &* outVol : 0
            c.opClass = .reduction
        case "RotaryEmbedding":
            // x·cos + rotate_half(x)·sin: 2 multiplies and 1 add per element
            k.flops = 3 &* outVol; k.deepspeedFLOPs = 3 &* outVol
            c.opClass = .elementwise
        case "LpNormalization":
            k.flops = 3 &* outVol                                   // square (or abs), sum, divide
            c.opClass = .reduction
        case "DynamicQuantizeLinear":
            k.flops = 4 &* inVol                                    // min, max, scale, round/saturate
            c.opClass = .elementwise
        case "LRN":
            let size = n.int("size") ?? 5
            k.flops = satMul(outVol, size &+ 3); k.onnxToolMACs = satMul(outVol, 4 + 32 + 1 + size)
            c.opClass = .reduction
        case "MaxPool", "AveragePool", "LpPool":
            let kernel = n.ints("kernel_shape") ?? []
            let window = kernel.reduce(1) { satMul($0, $1) }
            k.flops = satMul(outVol, window); k.deepspeedFLOPs = inVol
            k.onnxToolMACs = satMul(outVol, kernel.prefix(2).reduce(1) { satMul($0, $1) })
            c.opClass = .reduction
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
            k.flops = inVol; k.deepspeedFLOPs = inVol
            if op == "GlobalAveragePool" { k.fvcoreMACs = inVol; k.onnxToolMACs = inVol &+ 4 &* outVol }
            c.opClass = .reduction
        case "Resize", "Upsample":
            let mode = n.string("mode") ?? "nearest"
            let w = mode == "nearest" ? 0 : (mode == "cubic" ? 8 : 4)
            k.flops = satMul(outVol, w); k.onnxToolMACs = satMul(outVol, w)
            k.fvcoreMACs = satMul(outVol, mode == "nearest" ? 1 : 4); k.deepspeedFLOPs = outVol
            c.opClass = .dataMovement
        default:
            perElement(traits, op: op, outVol: outVol, inVol: inVol, present: present, transcendentalFLOPs: tr, &k, &c)
        }
        }
        c.counts = k
        return c
    }
}

extension Array where Element == [Int]? {
    subscript(safe i: Int) -> [Int]? { i >= 0 && i < count ? self[i] : nil }
}
