/// What the `run` command reports about a run, computed here so any front end reports the same:
/// per-tensor statistics (shape, type, min/max/mean, NaN and Inf counts, first values),
/// seeded random inputs, wall-time statistics over repeated runs, per-node and per-op-type time
/// tables, and the first node whose output holds a NaN.
import Foundation
import GraphIR

/// A tensor's statistics as `run` shows them.
public struct TensorSummary: Sendable, Equatable {
    public var shape: [Int]
    public var elementType: ElementType
    public var count: Int
    /// Over the finite elements; nil when there are none.
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    public var nanCount: Int
    public var infCount: Int
    /// The first elements in row-major order.
    public var first: [Double]

    /// Statistics of `t`, keeping its first `firstCount` elements.
    public init(_ t: RuntimeTensor, firstCount: Int = 6) {
        shape = t.shape
        elementType = t.elementType
        count = t.count
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0, finite = 0, nans = 0, infs = 0
        if t.elementType == .float {
            let p = t.floats
            for i in 0..<t.count {
                let v = Double(p[i])
                if v.isNaN { nans += 1 } else if v.isInfinite { infs += 1 } else {
                    lo = Swift.min(lo, v); hi = Swift.max(hi, v); sum += v; finite += 1
                }
            }
        } else {
            for i in 0..<t.count {
                let v = t.double(at: i)
                if v.isNaN { nans += 1 } else if v.isInfinite { infs += 1 } else {
                    lo = Swift.min(lo, v); hi = Swift.max(hi, v); sum += v; finite += 1
                }
            }
        }
        min = finite > 0 ? lo : nil
        max = finite > 0 ? hi : nil
        mean = finite > 0 ? sum / Double(finite) : nil
        nanCount = nans
        infCount = infs
        first = (0..<Swift.min(firstCount, t.count)).map { t.double(at: $0) }
    }
}

/// SplitMix64: a small, fast, deterministic generator, statistically fine for test inputs
/// and fuzzing (`run random seed=N`, `runtime-tool fuzz`): the same seed gives the same values.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A value in 0..<n (0 when n <= 1).
    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

/// Seeded random inputs: the same seed, input name, type and shape give the same tensor in
/// every session and on every machine.
public enum RandomInput {
    /// A tensor of `type` and `shape`: floats uniform in [0, 1), integers 0 or 1 (valid as
    /// token ids, masks and indices of any graph), booleans true or false.
    public static func tensor(_ type: ElementType, shape: [Int], seed: UInt64, name: String) throws -> RuntimeTensor {
        let stored = RuntimeElement.stored(type)
        guard let size = RuntimeElement.size(stored) else {
            throw RuntimeError("cannot make random \(type.name) values; give a .npy file", input: name)
        }
        do { _ = try KernelIO.checkedBytes(shape, size, what: "the random input") } catch let e as KernelError {
            throw RuntimeError(e.message, input: name)
        }
        var rng = SplitMix64(state: seed ^ fnv1a(name))
        func next() -> UInt64 { rng.next() }
        let t = RuntimeTensor(zeros: stored, shape: shape)
        switch stored {
        case .float:
            let p = t.mutableFloats
            for i in 0..<t.count { p[i] = Float(next() >> 40) / Float(1 << 24) }
        case .double:
            for i in 0..<t.count { t.setDouble(Double(next() >> 11) / Double(UInt64(1) << 53), at: i) }
        default:
            for i in 0..<t.count { t.setDouble(Double(next() >> 63), at: i) }
        }
        return t
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// Wall-time statistics of repeated runs and where the time went.
public struct TimingSummary: Sendable {
    /// Seconds per run, in run order.
    public var runs: [Double]
    public var median: Double
    public var p90: Double
    public var min: Double
    public var mean: Double

    /// One node's mean time per run.
    public struct NodeTime: Sendable {
        public var node: String
        public var opType: String
        public var seconds: Double
        /// Of the summed node times.
        public var share: Double
    }
    /// One op type's mean time per run.
    public struct OpTime: Sendable {
        public var opType: String
        public var nodes: Int
        public var seconds: Double
        public var share: Double
    }
    /// Every node that ran, costliest first.
    public var nodes: [NodeTime]
    /// Every op type, costliest first.
    public var ops: [OpTime]

    /// Summarizes `wall` seconds per run and the per-node times each timed run recorded.
    public init(wall: [Double], nodeTimes: [[(node: String, opType: String, seconds: Double)]]) {
        runs = wall
        let sorted = wall.sorted()
        median = sorted.isEmpty ? 0 : (sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                          : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2)
        p90 = sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
        min = sorted.first ?? 0
        mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
        var order: [String] = []
        var total: [String: (op: String, seconds: Double)] = [:]
        for run in nodeTimes {
            for t in run {
                if total[t.node] == nil { order.append(t.node); total[t.node] = (t.opType, 0) }
                total[t.node]?.seconds += t.seconds
            }
        }
        let n = Double(Swift.max(nodeTimes.count, 1))
        let all = order.compactMap { k in total[k].map { (k, $0.op, $0.seconds / n) } }
        let sum = all.reduce(0) { $0 + $1.2 }
        nodes = all.map { NodeTime(node: $0.0, opType: $0.1, seconds: $0.2, share: sum > 0 ? $0.2 / sum : 0) }
            .sorted { $0.seconds > $1.seconds }
        var byOp: [String: (Int, Double)] = [:]
        for x in all { byOp[x.1, default: (0, 0)].0 += 1; byOp[x.1, default: (0, 0)].1 += x.2 }
        ops = byOp.map { OpTime(opType: $0.key, nodes: $0.value.0, seconds: $0.value.1, share: sum > 0 ? $0.value.1 / sum : 0) }
            .sorted { $0.seconds > $1.seconds || ($0.seconds == $1.seconds && $0.opType < $1.opType) }
    }
}

/// Where a NaN first appeared.
public struct NaNOrigin: Sendable, Equatable {
    /// The node (display name) whose output holds the first NaN while none of its inputs did.
    public var node: String
    public var nodeID: NodeID
    public var opType: String
    /// The output value holding it and how many of its elements are NaN.
    public var value: String
    public var nanCount: Int
}

public enum NaNSearch {
    /// The earliest node in topological order of `graph` whose output (among `values`: the
    /// kept intermediates and outputs of a run) holds a NaN while no input it read did.
    /// Values not in `values` (folded constants, graph inputs) count as NaN-free unless given.
    public static func firstOrigin(in graph: Graph, values: [String: RuntimeTensor]) -> NaNOrigin? {
        var hasNaN: [String: Int] = [:]
        func nans(_ name: String) -> Int {
            if let n = hasNaN[name] { return n }
            guard let t = values[name] else { hasNaN[name] = 0; return 0 }
            var c = 0
            if t.elementType == .float || t.elementType == .double {
                for i in 0..<t.count where t.double(at: i).isNaN { c += 1 }
            }
            hasNaN[name] = c
            return c
        }
        for node in graph.nodes {
            for out in node.outputs where !out.isEmpty {
                let c = nans(out)
                guard c > 0 else { continue }
                if node.inputs.allSatisfy({ $0.isEmpty || nans($0) == 0 }) {
                    return NaNOrigin(node: node.displayName, nodeID: node.id, opType: node.opType, value: out, nanCount: c)
                }
            }
        }
        return nil
    }
}
