import XCTest
@testable import GraphEstimation
import GraphIR

/// A tiny builder for hand-made `OpGraph`s in tests.
struct GraphBuilder {
    var g = OpGraph()
    var names: [String: Int] = [:]

    mutating func input(_ name: String, _ shape: [Dim], bits: Int = 32, isFloat: Bool = true) {
        let i = g.addValue(ValueDesc(name: name, shape: shape, elementBits: bits, isFloat: isFloat))
        names[name] = i; g.inputs.append(i)
    }
    mutating func input(_ name: String, _ shape: [Int]) { input(name, shape.map { .known(Int64($0)) }) }
    mutating func weight(_ name: String, _ shape: [Int], values: [Double]? = nil, bits: Int = 32, isFloat: Bool = true) {
        names[name] = g.addValue(ValueDesc(name: name, shape: shape.map { .known(Int64($0)) }, elementBits: bits, isFloat: isFloat,
                                           isConstant: true, values: values))
    }
    mutating func node(_ op: String, _ ins: [String], _ outs: [String], _ attrs: [String: AttrValue] = [:],
                       name: String = "", path: [String] = []) {
        let i = ins.map { $0.isEmpty ? -1 : value($0) }
        let o = outs.map { value($0) }
        g.addNode(OpNode(opType: op, name: name.isEmpty ? op : name, path: path, attributes: attrs, inputs: i, outputs: o))
    }
    mutating func value(_ name: String) -> Int {
        if let i = names[name] { return i }
        let i = g.addValue(ValueDesc(name: name, shape: nil, elementBits: 0, isFloat: false))
        names[name] = i
        return i
    }
    mutating func output(_ name: String) { g.outputs.append(value(name)) }

    /// Runs the cost analysis and returns the costs of the nodes.
    func costs(_ bindings: [String: Int] = [:], precision: Precision? = nil) throws -> [NodeCost] {
        try CostAnalysis(graph: g, bindings: bindings, options: CostOptions(bytesPrecision: precision)).costs
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
