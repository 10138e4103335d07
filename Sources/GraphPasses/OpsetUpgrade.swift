/// Raising a model's ai.onnx opset import so a fusion may emit a newer op (LayerNormalization
/// needs 17, HardSwish 14, Gelu 20, RMSNormalization and Attention 23): ops whose meaning changed in between
/// are converted (attribute-to-input moves of opsets 12, 13 and 18; Softmax's axis where the
/// old and new meanings agree), and anything else that changed meaning is an obstacle, named,
/// so the fusion is not made rather than written into a model onnx.checker rejects.
import GraphEditing
import GraphIR
import GraphOps

public enum OpsetUpgrade {
    /// Ops whose attribute moved to an input at the given version (attribute, input index).
    static let attributeToInput: [(op: String, version: Int64, attribute: String, input: Int, isFloat: Bool)] = [
        ("Dropout", 12, "ratio", 1, true),
        ("Squeeze", 13, "axes", 1, false), ("Unsqueeze", 13, "axes", 1, false),
        ("ReduceSum", 13, "axes", 1, false), ("Split", 13, "split", 1, false),
        ("ReduceMean", 18, "axes", 1, false), ("ReduceMax", 18, "axes", 1, false), ("ReduceMin", 18, "axes", 1, false),
        ("ReduceProd", 18, "axes", 1, false), ("ReduceL1", 18, "axes", 1, false), ("ReduceL2", 18, "axes", 1, false),
        ("ReduceLogSum", 18, "axes", 1, false), ("ReduceLogSumExp", 18, "axes", 1, false), ("ReduceSumSquare", 18, "axes", 1, false),
    ]
    /// Ops whose axis changed meaning at 13 (coerced 2-D before, one axis after).
    static let softmaxLike: Set<String> = ["Softmax", "LogSoftmax", "Hardmax"]
    /// Changes this converter does not make (op, version).
    static let unconverted: [(op: String, version: Int64)] = [
        ("Upsample", 10), ("Scatter", 11), ("RoiAlign", 16), ("GridSample", 20), ("DFT", 20),
        // Scale and bias per channel instead of per group from 21 (raises to Attention's 23 pass it).
        ("GroupNormalization", 21),
    ]

    /// The ops a raise from `from` to `version` converts (attribute-to-input moves, Softmax's axis).
    static func convertedOps(from: Int64, to version: Int64) -> Set<String> {
        var ops = Set(attributeToInput.filter { from < $0.version && $0.version <= version }.map(\.op))
        if from < 13 && version >= 13 { ops.formUnion(softmaxLike) }
        return ops
    }

    /// Why the model's default opset cannot be raised to `version`, or nil when it can.
    public static func obstacle(_ model: Model, to version: Int64, inference: InferenceResult) -> String? {
        let from = model.opsetVersion(for: "") ?? 1
        guard from < version else { return nil }
        if from < 11 { return "opset \(from) is older than 11, which this converter starts from" }
        if !model.functions.isEmpty { return "the model has local functions" }
        // The ops that can stand in the way (most nodes are none of them: one set lookup each).
        var relevant = convertedOps(from: from, to: version)
        relevant.formUnion(unconverted.filter { from < $0.version && $0.version <= version }.map(\.op))
        if from < 14 && version >= 14 { relevant.insert("BatchNormalization") }
        for (path, n) in model.graph.allNodes() where (n.domain.isEmpty || n.domain == "ai.onnx") && relevant.contains(n.opType) {
            if let u = unconverted.first(where: { $0.op == n.opType && from < $0.version && $0.version <= version }) {
                return "\(n.displayName) (\(n.id)) is \(u.op), whose meaning changed at opset \(u.version)"
            }
            let moves = attributeToInput.contains { $0.op == n.opType && from < $0.version && $0.version <= version && n.attribute($0.attribute) != nil }
            if !path.isEmpty && (moves || (softmaxLike.contains(n.opType) && from < 13 && version >= 13)) {
                return "\(n.displayName) (\(n.id)) inside a body would need converting"
            }
            if n.opType == "BatchNormalization" && n.outputs.count > 1 && from < 14 && version >= 14 {
                return "\(n.displayName) (\(n.id)) is a training-mode BatchNormalization"
            }
            if softmaxLike.contains(n.opType) && from < 13 && version >= 13 {
                let axis = n.attribute("axis")?.intValue ?? 1
                guard let r = inference.type(of: n.inputs[0])?.dims?.count else {
                    return "\(n.displayName) (\(n.id)): the rank of its input is unknown, and \(n.opType)'s axis changed meaning at 13"
                }
                if (axis < 0 ? axis + Int64(r) : axis) != Int64(r - 1) {
                    return "\(n.displayName) (\(n.id)) is \(n.opType) over axes \(axis)... of a rank-\(r) input, which means something else from opset 13"
                }
            }
        }
        return nil
    }

    /// Raises the import to `version`, converting the ops that need it. Call after `obstacle`
    /// said nil.
    public static func raise(_ tx: inout Transaction, to version: Int64, inference: InferenceResult) throws {
        let from = tx.model.opsetVersion(for: "") ?? 1
        guard from < version else { return }
        if let why = obstacle(tx.model, to: version, inference: inference) { throw PassError("cannot raise the opset to \(version): \(why)") }
        // The ops this raise converts (most nodes are none of them: skipped on one set lookup).
        let converted = convertedOps(from: from, to: version)
        let ids = tx.model.graph.nodes.compactMap { n in
            (n.domain.isEmpty || n.domain == "ai.onnx") && converted.contains(n.opType) ? n.id : nil
        }
        for id in ids {
            guard let n = tx.model.graph.node(id) else { continue }
            for m in attributeToInput where m.op == n.opType && from < m.version && m.version <= version {
                guard let a = n.attribute(m.attribute) else { continue }
                let name = tx.freshValueName("\(n.displayName)_\(m.attribute)")
                let t: Tensor
                if m.isFloat {
                    var f = Tensor(floats: [a.floatValue ?? 0.5], dims: [])
                    f.name = name
                    t = f
                } else {
                    let xs = a.intsValue ?? []
                    t = Tensor(name: name, int64s: xs, dims: [Int64(xs.count)])
                }
                try tx.apply(.setInitializer(t))
                try tx.apply(.setAttribute(node: n.id, name: m.attribute, value: nil))
                let current = tx.model.graph.node(n.id)?.inputs.count ?? 1
                for k in current..<m.input { try tx.apply(.setInput(node: n.id, index: k, value: "")) }
                try tx.apply(.setInput(node: n.id, index: m.input, value: name))
            }
            if softmaxLike.contains(n.opType) && from < 13 && version >= 13 {
                try tx.apply(.setAttribute(node: n.id, name: "axis", value: .int(-1)))
            }
        }
        try tx.apply(.setOpset(domain: "", version: version))
    }
}
