/// What the precision passes (quantize dynamic/static, convert fp16/bf16) share: which nodes
/// a pass may touch (the `quantize=` annotation, `keep=true`, `scope=`), the affine
/// quantization arithmetic (symmetric per-channel weights, asymmetric activations, as
/// onnxruntime's quantizer computes them), and builders for the small tensors they add.
import GraphIR

/// A precision a node may be annotated with (`quantize=int8|uint8|fp16|bf16|none`).
public enum PrecisionChoice: String, Sendable, CaseIterable {
    case int8, uint8, fp16, bf16, none

    /// The integer choices belong to `quantize`, the float ones to `convert`.
    public var isInteger: Bool { self == .int8 || self == .uint8 }
    public var isFloat: Bool { self == .fp16 || self == .bf16 }

    /// The ONNX element type of the choice (nil for `none`).
    public var elementType: ElementType? {
        switch self {
        case .int8: return .int8
        case .uint8: return .uint8
        case .fp16: return .float16
        case .bf16: return .bfloat16
        case .none: return nil
        }
    }
}

/// Which nodes a precision pass touches, and at which precision. The rules, in order:
/// `keep=true` nodes and nodes outside `scope=` are never touched; `quantize=none` excludes a
/// node; when any node carries another `quantize=` value, only annotated nodes are touched
/// (each at its annotated precision, when that precision is of the pass's kind); otherwise
/// every candidate gets the pass's default.
public struct PrecisionSelection {
    let annotated: Bool
    let integer: Bool
    let fallback: PrecisionChoice

    /// `integer`: the quantizer (int8/uint8) or the float converter (fp16/bf16).
    public init(_ graph: Graph, integer: Bool, fallback: PrecisionChoice) {
        self.integer = integer
        self.fallback = fallback
        annotated = graph.nodes.contains { n in
            guard let v = n.annotations["quantize"], let c = PrecisionChoice(rawValue: v) else { return false }
            return c != .none
        }
    }

    /// The precision node `n` gets, or nil when the pass leaves it alone.
    public func choice(for n: Node, in context: PassContext) -> PrecisionChoice? {
        guard n.annotations["keep"] != "true", context.inScope(n.id) else { return nil }
        let mark = n.annotations["quantize"].flatMap(PrecisionChoice.init(rawValue:))
        if mark == PrecisionChoice.none { return nil }
        if annotated {
            guard let mark else { return nil }
            return (integer ? mark.isInteger : mark.isFloat) ? mark : nil
        }
        if let mark, integer ? mark.isInteger : mark.isFloat { return mark }
        return fallback
    }
}

/// Scale and zero point of one affine quantization (per tensor or per channel).
public struct QuantParams: Sendable, Equatable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var type: ElementType

    /// The integer range of `type` (int8 weights use the symmetric [-127, 127]).
    static func range(_ type: ElementType) -> (Int32, Int32) {
        type == .uint8 ? (0, 255) : (-128, 127)
    }

    /// Symmetric int8 (zero point 0, scale max|w| / 127) or asymmetric uint8 weights, one
    /// parameter set per slice of `channels` (1: per tensor).
    static func weights(_ w: [Float], channels: Int, channelOf: (Int) -> Int, type: ElementType) -> QuantParams {
        var lo = [Float](repeating: 0, count: channels), hi = [Float](repeating: 0, count: channels)
        for (i, v) in w.enumerated() where v.isFinite {
            let c = channelOf(i)
            lo[c] = min(lo[c], v); hi[c] = max(hi[c], v)
        }
        var p = QuantParams(scales: [], zeroPoints: [], type: type)
        for c in 0..<channels {
            if type == .int8 {
                let m = max(abs(lo[c]), abs(hi[c]))
                p.scales.append(m > 0 ? m / 127 : 1)
                p.zeroPoints.append(0)
            } else {
                let (s, z) = affine(min: lo[c], max: hi[c], type: type)
                p.scales.append(s); p.zeroPoints.append(z)
            }
        }
        return p
    }

    /// Asymmetric parameters covering [min, max] and zero (zero must be exact).
    static func affine(min lo: Float, max hi: Float, type: ElementType) -> (Float, Int32) {
        let rmin = Swift.min(lo, 0), rmax = Swift.max(hi, 0)
        let (qmin, qmax) = range(type)
        let s = (rmax - rmin) / Float(qmax - qmin)
        guard s > 0, s.isFinite else { return (1, type == .uint8 ? 0 : 0) }
        let z = (Float(qmin) - rmin / s).rounded(.toNearestOrEven)
        return (s, Int32(Swift.min(Swift.max(z, Float(qmin)), Float(qmax))))
    }

    /// `w` quantized (round half to even, saturated), per element's channel.
    func quantize(_ w: [Float], channelOf: (Int) -> Int) -> [Int32] {
        let (qmin, qmax) = type == .int8 ? (Int32(-127), Int32(127)) : QuantParams.range(type)
        return w.enumerated().map { i, v in
            let c = channelOf(i)
            let q = (v / scales[c]).rounded(.toNearestOrEven) + Float(zeroPoints[c])
            guard q.isFinite else { return 0 }
            return Swift.min(Swift.max(Int32(q), qmin), qmax)
        }
    }
}

/// Small tensors the precision passes add.
enum PrecisionTensors {
    /// An int8 or uint8 tensor of `values` (already in range).
    static func integer(_ values: [Int32], type: ElementType, dims: [Int64]) -> Tensor {
        let bytes = values.map { type == .uint8 ? UInt8(truncatingIfNeeded: $0) : UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) }
        return Tensor(elementType: type, dims: dims, data: .raw(ByteSlice(copying: bytes)))
    }

    /// A float16 or bfloat16 tensor of `values` (round to nearest even).
    static func half(_ values: [Float], type: ElementType, dims: [Int64]) -> Tensor {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 2)
        for v in values {
            let bits: UInt16 = type == .bfloat16 ? bfloatBits(v) : Float16(v).bitPattern
            bytes.append(UInt8(bits & 0xFF)); bytes.append(UInt8(bits >> 8))
        }
        return Tensor(elementType: type, dims: dims, data: .raw(ByteSlice(copying: bytes)))
    }

    static func bfloatBits(_ v: Float) -> UInt16 {
        if v.isNaN { return 0x7FC0 }
        let b = v.bitPattern
        let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    /// Bytes of every initializer (what the model's weights weigh on disk).
    static func initializerBytes(_ g: Graph) -> Int {
        g.initializers.reduce(0) { $0 + ($1.byteCount ?? 0) }
    }
}

extension PassContext {
    /// A fresh node name based on `base` (names of nodes the precision passes add).
    mutating func freshNodeName(_ base: String) -> String { tx.freshNodeName(base) }

    /// Adds `t` as an initializer under a fresh name based on `base`; returns the name.
    mutating func addInitializer(_ base: String, _ t: Tensor) throws -> String {
        var t = t
        t.name = tx.freshValueName(base)
        try tx.apply(.setInitializer(t))
        return t.name
    }

    /// Removes initializer `name` when nothing reads it any more.
    mutating func dropInitializerIfUnused(_ name: String) throws {
        guard graph.initializer(named: name) != nil, graph.useCount(of: name) == 0, !isGraphOutput(name),
              !graph.inputs.contains(where: { $0.name == name }) else { return }
        try tx.apply(.removeInitializer(name))
    }

    /// Drops a constant nothing reads any more: an initializer, or the Constant node making it.
    mutating func dropConstantIfUnused(_ v: String) throws {
        guard !v.isEmpty, graph.useCount(of: v) == 0, !isGraphOutput(v) else { return }
        if graph.initializer(named: v) != nil { try dropInitializerIfUnused(v); return }
        if let c = graph.producerNode(of: v), c.opType == "Constant", mayRemove(c.id) {
            try tx.apply(.removeNode(c.id))
        }
    }

    /// Provenance sources standing for node `n` (its own sources after earlier passes).
    func sources(of n: Node) -> [NodeID] { n.provenance.sources.isEmpty ? [n.id] : n.provenance.sources }
}
