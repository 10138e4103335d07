/// Static int8 quantization in QDQ form (what onnxruntime's `quantize_static` writes with
/// `QuantFormat.QDQ`): every Conv, Gemm and MatMul the selection allows reads its constant
/// weight through DequantizeLinear of an int8 copy quantized per output channel (symmetric,
/// zero point 0), and its activation inputs through a QuantizeLinear/DequantizeLinear pair whose
/// scale and zero point come from calibrated ranges (`Calibration`). Biases stay float. The
/// float weights go away when nothing else reads them, so the model shrinks to about a quarter.
/// onnxruntime fuses the pairs into integer kernels; our interpreter runs them as written.
import GraphEditing
import GraphIR

public struct QuantizeStatic: Pass {
    /// Calibrated [min, max] of the activations (by value name); an activation without a range
    /// is left in float.
    public var ranges: [String: ValueRange]
    /// One scale per output channel (needs opset 13, raised when the model allows), else one
    /// per tensor.
    public var perChannel: Bool
    /// The activation type when a node is not annotated uint8.
    public var activationType: ElementType

    public init(ranges: [String: ValueRange], perChannel: Bool = true, activationType: ElementType = .int8) {
        self.ranges = ranges
        self.perChannel = perChannel
        self.activationType = activationType
    }

    public let name = "quantize-static"
    public let doc = "Int8 QDQ for Conv/Gemm/MatMul: per-channel weights, activations from calibrated ranges"

    /// The ops quantized and which input is the weight (when constant).
    static let weightInput: [String: Int] = ["Conv": 1, "Gemm": 1, "MatMul": 1]

    /// The float activations a static quantization of `graph` would calibrate: the non-constant
    /// inputs of its Conv, Gemm and MatMul nodes.
    public static func activations(of graph: Graph) -> [String] {
        var out: [String] = [], seen = Set<String>()
        for n in graph.nodes where weightInput[n.opType] != nil && (n.domain.isEmpty || n.domain == "ai.onnx") {
            for v in n.inputs.prefix(2) where !v.isEmpty && graph.initializer(named: v) == nil && seen.insert(v).inserted {
                if let p = graph.producerNode(of: v), p.opType == "Constant" { continue }
                out.append(v)
            }
        }
        return out
    }

    public func run(_ ctx: inout PassContext) throws -> Bool {
        let selection = PrecisionSelection(ctx.graph, integer: true, fallback: .int8)
        var opset = ctx.onnxOpset
        if opset < 10 {
            if OpsetUpgrade.obstacle(ctx.model, to: 13, inference: ctx.inference) != nil { throw PassError("quantize-static needs opset 10 or later (QuantizeLinear); the model imports \(opset) and cannot be raised") }
            try OpsetUpgrade.raise(&ctx.tx, to: 13, inference: ctx.inference)
            opset = 13
        }
        var channelwise = perChannel
        if channelwise && opset < 13 {
            if OpsetUpgrade.obstacle(ctx.model, to: 13, inference: ctx.inference) == nil {
                try OpsetUpgrade.raise(&ctx.tx, to: 13, inference: ctx.inference)
            } else {
                channelwise = false
            }
        }
        var activationDQ: [String: String] = [:]
        var weightDQ: [String: String] = [:]
        var changed = false
        for id in ctx.graph.nodes.map(\.id) {
            guard let n = ctx.graph.node(id), let wIndex = Self.weightInput[n.opType], n.domain.isEmpty || n.domain == "ai.onnx",
                  let choice = selection.choice(for: n, in: ctx), n.inputs.count > wIndex else { continue }
            let actType: ElementType = choice == .uint8 ? .uint8 : activationType
            var edits: [(Int, String)] = []
            for (k, v) in n.inputs.array.prefix(2).enumerated() where !v.isEmpty {
                if let w = ctx.constant(v) {
                    guard k == wIndex, w.elementType == .float else { continue }
                    let key = "\(v)|\(n.opType)|\(n.attribute("transB")?.intValue ?? 0)"
                    if let dq = weightDQ[key] { edits.append((k, dq)); continue }
                    guard let dq = try quantizeWeight(v, w, node: n, perChannel: channelwise, &ctx) else { continue }
                    weightDQ[key] = dq
                    edits.append((k, dq))
                } else {
                    guard ctx.elementType(v) == .float, let r = ranges[v] else { continue }
                    let key = "\(v)|\(actType.rawValue)"
                    if let dq = activationDQ[key] { edits.append((k, dq)); continue }
                    let dq = try quantizeActivation(v, range: r, type: actType, node: n, &ctx)
                    activationDQ[key] = dq
                    edits.append((k, dq))
                }
            }
            guard !edits.isEmpty else { continue }
            let before = n.inputs.array
            for (k, dq) in edits { try ctx.tx.apply(.setInput(node: n.id, index: k, value: dq)) }
            for (k, _) in edits { try ctx.dropConstantIfUnused(before[k]) }
            changed = true
        }
        return changed
    }

    /// QuantizeLinear -> DequantizeLinear on activation `v`; returns the dequantized value.
    func quantizeActivation(_ v: String, range r: ValueRange, type: ElementType, node: Node, _ ctx: inout PassContext) throws -> String {
        let (s, z) = QuantParams.affine(min: r.min, max: r.max, type: type)
        let scale = try ctx.addInitializer(v + "_scale", Tensor(floats: [s], dims: []))
        let zp = try ctx.addInitializer(v + "_zero_point", PrecisionTensors.integer([z], type: type, dims: []))
        let q = ctx.tx.freshValueName(v + "_quantized")
        let dq = ctx.tx.freshValueName(v + "_dequantized")
        try ctx.tx.apply(.addNode(NewNode(opType: "QuantizeLinear", name: ctx.freshNodeName(v + "_QuantizeLinear"), inputs: [v, scale, zp],
                                          outputs: [q], sources: ctx.sources(of: node))))
        try ctx.tx.apply(.addNode(NewNode(opType: "DequantizeLinear", name: ctx.freshNodeName(v + "_DequantizeLinear"), inputs: [q, scale, zp],
                                          outputs: [dq], sources: ctx.sources(of: node))))
        return dq
    }

    /// An int8 copy of weight `w` (per output channel when asked) read through DequantizeLinear.
    func quantizeWeight(_ v: String, _ w: Tensor, node: Node, perChannel: Bool, _ ctx: inout PassContext) throws -> String? {
        guard let values = try? w.floatValues(), !w.dims.isEmpty else { return nil }
        let dims = w.dims.map(Int.init)
        // The output-channel axis: Conv [O, I, ...] axis 0; Gemm B [K, N] axis 1 ([N, K] with
        // transB); MatMul B [..., K, N] the last axis.
        var axis: Int
        switch node.opType {
        case "Conv": axis = 0
        case "Gemm": axis = (node.attribute("transB")?.intValue ?? 0) != 0 ? 0 : dims.count - 1
        default: axis = dims.count - 1
        }
        if dims.count < 2 { axis = 0 }
        let channels = perChannel && dims.count >= 2 ? dims[axis] : 1
        let inner = dims[(axis + 1)...].reduce(1, *)
        let channelOf: (Int) -> Int = channels == 1 ? { _ in 0 } : { ($0 / inner) % channels }
        let p = QuantParams.weights(values, channels: channels, channelOf: channelOf, type: .int8)
        let q = p.quantize(values, channelOf: channelOf)
        let qName = try ctx.addInitializer(v + "_quantized", PrecisionTensors.integer(q, type: .int8, dims: w.dims))
        let pDims: [Int64] = channels == 1 ? [] : [Int64(channels)]
        let scale = try ctx.addInitializer(v + "_scale", Tensor(floats: p.scales, dims: pDims))
        let zp = try ctx.addInitializer(v + "_zero_point", PrecisionTensors.integer(p.zeroPoints, type: .int8, dims: pDims))
        let dq = ctx.tx.freshValueName(v + "_dequantized")
        let attrs = channels == 1 ? [] : [Attribute("axis", .int(Int64(axis)))]
        try ctx.tx.apply(.addNode(NewNode(opType: "DequantizeLinear", name: ctx.freshNodeName(v + "_DequantizeLinear"), inputs: [qName, scale, zp],
                                          outputs: [dq], attributes: attrs, sources: ctx.sources(of: node))))
        return dq
    }
}
