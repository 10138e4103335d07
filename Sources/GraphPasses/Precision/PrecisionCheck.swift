/// What a precision pass cost: the initializer bytes before and after, and how far the
/// converted model's numbers moved from the float model's on the calibration inputs. Both run
/// in our interpreter keeping every value; outputs and matched intermediate values are compared
/// with GraphRuntime's `GraphComparison` (the same figures `compare` shows), giving the max
/// error per output, the top-1 agreement of outputs with a class axis, and per-node errors for
/// the `error` overlay.
import GraphIR
import GraphRuntime

public struct PrecisionCheck: Sendable {
    /// One graph output over every input set.
    public struct Output: Sendable {
        public var name: String
        public var maxAbs: Double
        public var meanAbs: Double
        /// Fraction of rows (the last axis as classes, when it has more than one) whose argmax
        /// agrees; nil for outputs without a class axis.
        public var top1: Double?
        public var rows: Int
    }

    public var bytesBefore: Int
    public var bytesAfter: Int
    public var outputs: [Output]
    /// The largest output error over every input set.
    public var maxError: Double { outputs.map(\.maxAbs).max() ?? 0 }
    /// Per node of the converted model: the largest max-abs difference of its outputs against
    /// the float model's matching values, over every input set (the `error` overlay).
    public var nodeError: [NodeID: Double]
    /// Per node of the converted model: the smallest Pearson correlation (the `pcc` overlay).
    public var nodePCC: [NodeID: Double]
    public var inputSets: Int

    /// Size ratio after / before.
    public var sizeRatio: Double { bytesBefore > 0 ? Double(bytesAfter) / Double(bytesBefore) : 1 }

    /// Runs `float` and `converted` on every input set and compares them. Throws
    /// `RuntimeError` naming the model side that could not run.
    public static func measure(float: Model, converted: Model, inputs: [[String: RuntimeTensor]],
                               tolerance: Tolerance = Tolerance()) throws -> PrecisionCheck {
        // One table of timed conv choices: both versions run each conv shape the same way.
        let choices = ConvChoices()
        let ia = try Interpreter(model: float, convChoices: choices), ib = try Interpreter(model: converted, convChoices: choices)
        var outs: [String: Output] = [:], order: [String] = []
        var error: [NodeID: Double] = [:], pcc: [NodeID: Double] = [:]
        var agree: [String: Int] = [:]
        for set in inputs {
            let ra = try ia.run(set, keep: .all)
            let rb: RunResult
            do { rb = try ib.run(set, keep: .all) } catch let e as RuntimeError {
                throw RuntimeError("the converted model: \(e.description)")
            }
            var va = ra.kept, vb = rb.kept
            for o in ra.outputs { va[o.name] = o.tensor }
            for o in rb.outputs { vb[o.name] = o.tensor }
            for (i, o) in ra.outputs.enumerated() {
                guard let other = rb.outputs.first(where: { $0.name == o.name }) ?? (i < rb.outputs.count ? rb.outputs[i] : nil) else { continue }
                let d = TensorDiff(o.tensor, other.tensor, tolerance: tolerance)
                if outs[o.name] == nil { order.append(o.name); outs[o.name] = Output(name: o.name, maxAbs: 0, meanAbs: 0, top1: nil, rows: 0) }
                var entry = outs[o.name] ?? Output(name: o.name, maxAbs: 0, meanAbs: 0, top1: nil, rows: 0)
                entry.maxAbs = max(entry.maxAbs, d.maxAbs)
                entry.meanAbs += d.meanAbs / Double(inputs.count)
                if let (rows, same) = top1(o.tensor, other.tensor) {
                    entry.rows += rows
                    agree[o.name, default: 0] += same
                }
                outs[o.name] = entry
            }
            let (nodes, _) = GraphComparison.compareValues(float.graph, converted.graph, valuesA: va, valuesB: vb, tolerance: tolerance)
            let f = GraphComparison.nodeFields(nodes, bSide: true)
            for (id, e) in f.error { error[id] = max(error[id] ?? 0, e) }
            for (id, p) in f.pcc { pcc[id] = min(pcc[id] ?? 1, p) }
        }
        let outputs = order.compactMap { name -> Output? in
            guard var o = outs[name] else { return nil }
            if o.rows > 0 { o.top1 = Double(agree[name] ?? 0) / Double(o.rows) }
            return o
        }
        return PrecisionCheck(bytesBefore: PrecisionTensors.initializerBytes(float.graph), bytesAfter: PrecisionTensors.initializerBytes(converted.graph),
                              outputs: outputs, nodeError: error, nodePCC: pcc, inputSets: inputs.count)
    }

    /// Rows and rows whose argmax over the last axis agrees, for tensors of the same shape with
    /// a last axis longer than 1.
    static func top1(_ a: RuntimeTensor, _ b: RuntimeTensor) -> (Int, Int)? {
        guard a.shape == b.shape, let c = a.shape.last, c > 1, a.count > 0 else { return nil }
        let rows = a.count / c
        var same = 0
        for r in 0..<rows {
            var ia = 0, ib = 0
            for j in 1..<c {
                if a.double(at: r * c + j) > a.double(at: r * c + ia) { ia = j }
                if b.double(at: r * c + j) > b.double(at: r * c + ib) { ib = j }
            }
            if ia == ib { same += 1 }
        }
        return (rows, same)
    }
}
