/// Dynamic int8 quantization of MatMul and Gemm with constant weights, in the form
/// onnxruntime's `quantize_dynamic` writes: the activation is quantized at run time by
/// DynamicQuantizeLinear (uint8, its own scale and zero point per run), the weight is stored
/// as int8 (symmetric; uint8 asymmetric for nodes annotated `quantize=uint8`), MatMulInteger
/// multiplies in integers, and the int32 result is cast to float and scaled by the product of
/// the two scales. Gemm's alpha folds into the weight scale, its bias (times beta) is added
/// after. The float weights go away when nothing else reads them.
import GraphEditing
import GraphIR

public struct QuantizeDynamic: Pass {
    /// One weight scale per output column (MatMulInteger's per-column zero point) instead of
    /// one per tensor (onnxruntime's default).
    public var perChannel: Bool

    public init(perChannel: Bool = false) { self.perChannel = perChannel }

    public let name = "quantize-dynamic"
    public let doc = "Int8 weights for MatMul/Gemm: DynamicQuantizeLinear + MatMulInteger + scale (as onnxruntime's quantize_dynamic)"

    public func run(_ ctx: inout PassContext) throws -> Bool {
        let selection = PrecisionSelection(ctx.graph, integer: true, fallback: .int8)
        if ctx.onnxOpset < 11 {
            if let why = OpsetUpgrade.obstacle(ctx.model, to: 11, inference: ctx.inference) {
                throw PassError("quantize-dynamic needs opset 11 (DynamicQuantizeLinear); the model imports \(ctx.onnxOpset) and cannot be raised: \(why)")
            }
            try OpsetUpgrade.raise(&ctx.tx, to: 11, inference: ctx.inference)
        }
        var quantizedInputs: [String: (q: String, scale: String, zp: String)] = [:]
        var changed = false
        let dangling = ctx.tx.allowDangling
        ctx.tx.allowDangling = true
        defer { ctx.tx.allowDangling = dangling }
        for id in ctx.graph.nodes.map(\.id) {
            guard let n = ctx.graph.node(id), n.opType == "MatMul" || n.opType == "Gemm", n.domain.isEmpty || n.domain == "ai.onnx",
                  let choice = selection.choice(for: n, in: ctx), ctx.mayRemove(n.id), n.inputs.count >= 2, n.outputs.count == 1 else { continue }
            let a = n.inputs[0], b = n.inputs[1]
            guard ctx.elementType(a) == .float, ctx.constant(a) == nil, let w = ctx.constant(b), w.elementType == .float,
                  w.dims.count == 2, var wv = try? w.floatValues() else { continue }
            var k = Int(w.dims[0]), cols = Int(w.dims[1])
            var alpha: Float = 1, bias: String?
            if n.opType == "Gemm" {
                guard (n.attribute("transA")?.intValue ?? 0) == 0, ctx.rank(a) == 2 else { continue }
                alpha = n.attribute("alpha")?.floatValue ?? 1
                if (n.attribute("transB")?.intValue ?? 0) != 0 {
                    // Stored [N, K]; MatMulInteger wants [K, N].
                    var t = [Float](repeating: 0, count: wv.count)
                    for r in 0..<k { for c in 0..<cols { t[c * k + r] = wv[r * cols + c] } }
                    wv = t
                    swap(&k, &cols)
                }
                if n.inputs.count > 2, !n.inputs[2].isEmpty {
                    let beta = n.attribute("beta")?.floatValue ?? 1
                    if beta == 1 { bias = n.inputs[2] } else {
                        guard let c = ctx.constant(n.inputs[2]), let cv = try? c.floatValues() else { continue }
                        bias = try ctx.addInitializer(n.inputs[2] + "_beta", Tensor(floats: cv.map { $0 * beta }, dims: c.dims))
                    }
                }
            }
            let wType: ElementType = choice == .uint8 ? .uint8 : .int8
            let channels = perChannel ? cols : 1
            let channelOf: (Int) -> Int = channels == 1 ? { _ in 0 } : { $0 % cols }
            let p = QuantParams.weights(wv, channels: channels, channelOf: channelOf, type: wType)
            let q = p.quantize(wv, channelOf: channelOf)
            let pDims: [Int64] = channels == 1 ? [] : [Int64(channels)]
            let sources = ctx.sources(of: n)
            let base = n.name.isEmpty ? n.outputs[0] : n.name
            let wq = try ctx.addInitializer(b + "_quantized", PrecisionTensors.integer(q, type: wType, dims: [Int64(k), Int64(cols)]))
            let ws = try ctx.addInitializer(b + "_scale", Tensor(floats: p.scales.map { $0 * alpha }, dims: pDims))
            let wz = try ctx.addInitializer(b + "_zero_point", PrecisionTensors.integer(p.zeroPoints, type: wType, dims: pDims))
            let output = n.outputs[0]
            try ctx.tx.apply(.removeNode(n.id))
            let aq: (q: String, scale: String, zp: String)
            if let shared = quantizedInputs[a] { aq = shared } else {
                aq = (ctx.tx.freshValueName(a + "_quantized"), ctx.tx.freshValueName(a + "_scale"), ctx.tx.freshValueName(a + "_zero_point"))
                try ctx.tx.apply(.addNode(NewNode(opType: "DynamicQuantizeLinear", name: ctx.freshNodeName(a + "_QuantizeLinear"), inputs: [a],
                                                  outputs: [aq.q, aq.scale, aq.zp], sources: sources)))
                quantizedInputs[a] = aq
            }
            let product = ctx.tx.freshValueName(base + "_MatMulInteger")
            let cast = ctx.tx.freshValueName(base + "_cast")
            let scale = ctx.tx.freshValueName(base + "_scale")
            let scaled = bias == nil ? output : ctx.tx.freshValueName(base + "_scaled")
            var made: [NewNode] = [
                NewNode(opType: "MatMulInteger", name: ctx.freshNodeName(base + "_MatMulInteger"), inputs: [aq.q, wq, aq.zp, wz], outputs: [product]),
                NewNode(opType: "Cast", name: ctx.freshNodeName(base + "_cast"), inputs: [product], outputs: [cast],
                        attributes: [Attribute("to", .int(Int64(ElementType.float.rawValue)))]),
                NewNode(opType: "Mul", name: ctx.freshNodeName(base + "_scale"), inputs: [aq.scale, ws], outputs: [scale]),
                NewNode(opType: "Mul", name: ctx.freshNodeName(base + "_output_scale"), inputs: [cast, scale], outputs: [scaled]),
            ]
            if let bias {
                made.append(NewNode(opType: "Add", name: ctx.freshNodeName(base + "_bias"), inputs: [scaled, bias], outputs: [output]))
            }
            for var m in made {
                m.sources = sources
                try ctx.tx.apply(.addNode(m))
            }
            try ctx.dropConstantIfUnused(b)
            if n.opType == "Gemm", n.inputs.count > 2, bias != n.inputs[2] { try ctx.dropConstantIfUnused(n.inputs[2]) }
            changed = true
        }
        return changed
    }
}
