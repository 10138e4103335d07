import XCTest
@testable import GraphEstimation
import GraphIR

/// A tiny builder for hand-made graphs in tests: it builds a GraphIR graph, and `g` is its
/// `OpGraph` (shapes from GraphOps' inference, as for a loaded model).
struct GraphBuilder {
    var inputs: [ValueInfo] = []
    var outputs: [ValueInfo] = []
    var initializers: [Tensor] = []
    var nodes: [Node] = []

    mutating func input(_ name: String, _ shape: [Dim], bits: Int = 32, isFloat: Bool = true) {
        inputs.append(ValueInfo(name: name, type: .tensor(Self.elementType(bits, isFloat), TensorShape(shape))))
    }
    mutating func input(_ name: String, _ shape: [Int]) { input(name, shape.map { .known(Int64($0)) }) }
    mutating func weight(_ name: String, _ shape: [Int], values: [Double]? = nil, bits: Int = 32, isFloat: Bool = true) {
        initializers.append(Self.tensor(name, shape.map { Int64($0) }, values: values, type: Self.elementType(bits, isFloat)))
    }
    mutating func node(_ op: String, _ ins: [String], _ outs: [String], _ attrs: [String: AttrValue] = [:],
                       name: String = "", path: [String] = []) {
        let attributes = attrs.sorted { $0.key < $1.key }.map { Attribute($0.key, Self.attribute($0.value)) }
        nodes.append(Node(opType: op, name: name.isEmpty ? op : name, inputs: ins, outputs: outs, attributes: attributes,
                          hierarchyPath: path.isEmpty ? nil : path))
    }
    mutating func output(_ name: String) { outputs.append(ValueInfo(name: name)) }

    /// The GraphIR graph built so far.
    var graph: Graph { Graph(nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers) }
    /// Its estimator view.
    var g: OpGraph { OpGraph(graph) }
    /// Value indices of `g` by name.
    var names: [String: Int] {
        var out: [String: Int] = [:]
        for (i, v) in g.values.enumerated() where out[v.name] == nil { out[v.name] = i }
        return out
    }

    /// Runs the cost analysis and returns the costs of the nodes.
    func costs(_ bindings: [String: Int] = [:], precision: Precision? = nil) throws -> [NodeCost] {
        try CostAnalysis(graph: g, bindings: bindings, options: CostOptions(bytesPrecision: precision)).costs
    }

    static func elementType(_ bits: Int, _ isFloat: Bool) -> ElementType {
        switch (bits, isFloat) {
        case (16, true): return .float16
        case (64, true): return .double
        case (8, true): return .float8e4m3fn
        case (64, false): return .int64
        case (32, false): return .int32
        case (16, false): return .int16
        case (8, false): return .int8
        case (1, false): return .bool
        default: return .float
        }
    }

    /// A tensor with the given contents (int64 or float32), else a stored-elsewhere one of that shape.
    static func tensor(_ name: String, _ dims: [Int64], values: [Double]?, type: ElementType) -> Tensor {
        if let values, type == .int64 {
            return Tensor(name: name, int64s: values.map { $0.isFinite ? Int64(max(min($0, 9.2e18), -9.2e18)) : 0 }, dims: dims)
        }
        if let values, type == .float { return Tensor(name: name, floats: values.map(Float.init), dims: dims) }
        return Tensor(name: name, elementType: type, dims: dims, data: .raw(ByteSlice(copying: [])),
                      external: ExternalDataInfo(location: "weights.bin"))
    }

    static func attribute(_ v: AttrValue) -> AttributeValue {
        switch v {
        case .int(let i): return .int(Int64(i))
        case .ints(let i): return .ints(i.map { Int64($0) })
        case .float(let f): return .float(Float(f))
        case .floats(let f): return .floats(f.map(Float.init))
        case .string(let s): return .text(s)
        case .strings(let s): return .strings(s.map { Array($0.utf8) })
        case .tensor(let t):
            let n = t.shape.reduce(1, *)
            return .tensor(tensor("", t.shape.map { Int64($0) }, values: Array(repeating: 0, count: n), type: elementType(t.elementBits, t.isFloat)))
        case .other: return .ints([])
        }
    }
}

/// A small synthetic device with round numbers so roofline figures can be computed by hand.
func testDevice(deviceClass: String = "cpu", units: Int? = nil, pjPerFLOP: Double? = nil) -> HardwareTarget {
    var energy = EnergyParameters()
    if let pj = pjPerFLOP { energy.picojoulesPerFLOP[.fp32] = pj }
    return HardwareTarget(id: "test-device", name: "Test Device", deviceClass: deviceClass,
                          peakOpsPerSecond: ["fp32": 100e12, "fp16": 200e12], memoryCapacityBytes: 16e9, memoryType: "HBM3",
                          memoryBandwidthBytesPerSecond: 1e12, tdpWatts: 100, computeUnits: units, launchOverheadSeconds: 0,
                          energy: energy, source: "unit test", confidence: .high)
}
