/// Three or more MatMuls reading the same input with constant 2-D float weights of the same
/// row count (attention's Q, K and V projections) become one MatMul with the weights side by
/// side and a Split of its last axis into the original outputs (as onnxsim writes it).
/// Two MatMuls would give two nodes again, so they stay.
import GraphEditing
import GraphIR

public struct FuseParallelMatMul: Pass {
    public init() {}
    public let name = "fuse-parallel-matmul"
    public let doc = "Merge 3+ MatMuls of one input and constant weights into one MatMul and a Split"

    public func run(_ ctx: inout PassContext) throws -> Bool {
        guard ctx.onnxOpset >= 11 else { return false }
        var groups: [String: [Node]] = [:]
        var order: [String] = []
        for n in ctx.graph.nodes where n.opType == "MatMul" && (n.domain.isEmpty || n.domain == "ai.onnx") && n.inputs.count == 2 {
            guard let w = ctx.constant(n.inputs[1]), w.elementType == .float, w.dims.count == 2,
                  ctx.elementType(n.inputs[0]) == .float, let r = ctx.rank(n.inputs[0]), r >= 2 else { continue }
            let key = n.inputs[0] + "\u{1}\(w.dims[0])"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(n)
        }
        var changed = false
        for key in order {
            guard let group = groups[key], group.count >= 3 else { continue }
            let members = group.filter { ctx.mayFuse($0.id) }
            guard members.count >= 3 else {
                for n in group where !ctx.mayFuse(n.id) {
                    ctx.nearMiss(pattern: "parallel-matmul", root: group[0].id, condition: "annotation fuse=false or keep=true, or outside scope", at: n.id, matched: group.map(\.id))
                }
                continue
            }
            var weights: [[Float]] = []
            var widths: [Int64] = []
            for n in members {
                guard let w = ctx.constant(n.inputs[1]), let v = try? w.floatValues() else { break }
                weights.append(v)
                widths.append(w.dims[1])
            }
            guard weights.count == members.count else { continue }
            let k = Int(ctx.constant(members[0].inputs[1])?.dims[0] ?? 0)
            let total = Int(widths.reduce(0, +))
            var joined = [Float](repeating: 0, count: k * total)
            var col = 0
            for (v, width) in zip(weights, widths.map(Int.init)) {
                for row in 0..<k { for j in 0..<width { joined[row * total + col + j] = v[row * width + j] } }
                col += width
            }
            let opset = ctx.onnxOpset
            let result = try PatternRewriter.with(&ctx, pattern: "parallel-matmul", root: members[0].id) { r in
                for n in members { r.take(n) }
                let w = r.initializer("matmul_joined_weight", Tensor(floats: joined, dims: [Int64(k), Int64(total)]))
                let y = r.freshValue("matmul_joined")
                let split: NewNode
                if opset >= 13 {
                    let sizes = r.initializer("matmul_split", Tensor(int64s: widths, dims: [Int64(widths.count)]))
                    split = NewNode(opType: "Split", inputs: [y, sizes], outputs: members.map { $0.outputs[0] }, attributes: [Attribute("axis", .int(-1))])
                } else {
                    split = NewNode(opType: "Split", inputs: [y], outputs: members.map { $0.outputs[0] },
                                    attributes: [Attribute("axis", .int(-1)), Attribute("split", .ints(widths))])
                }
                let mm = NewNode(opType: "MatMul", inputs: [members[0].inputs[0], w], outputs: [y])
                return try r.replace(members.map(\.id), with: [mm, split])
            }
            if result.applied {
                changed = true
            } else if let f = result.failure {
                ctx.nearMiss(pattern: "parallel-matmul", root: members[0].id, condition: f.condition, at: f.node, matched: result.matched)
            }
        }
        return changed
    }
}
