import XCTest
import GraphIR
@testable import GraphEstimation

/// The GraphIR → OpGraph conversion: symbols, initializers, Constant nodes, hierarchy, NodeIDs.
final class GraphIRAdapterTests: XCTestCase {
    func makeGraph() -> Graph {
        let x = ValueInfo(name: "x", type: .tensor(.float, TensorShape([.symbolic("batch"), .known(4)])))
        let y = ValueInfo(name: "y", type: .tensor(.float, nil))
        let w = Tensor(name: "w", floats: Array(repeating: 0.5, count: 12), dims: [4, 3])
        let shape = Tensor(name: "shape", int64s: [-1, 3], dims: [2])
        let nodes = [
            Node(opType: "MatMul", name: "/layer1/MatMul", inputs: ["x", "w"], outputs: ["h"]),
            Node(opType: "Constant", name: "/layer1/Constant", outputs: ["k"],
                 attributes: [Attribute("value", .tensor(Tensor(name: "", floats: [2], dims: [])))]),
            Node(opType: "Mul", name: "/layer1/Mul", inputs: ["h", "k"], outputs: ["m"]),
            Node(opType: "Reshape", name: "/layer2/Reshape", inputs: ["m", "shape"], outputs: ["r"]),
            Node(opType: "Relu", name: "/layer2/Relu", inputs: ["r"], outputs: ["y"]),
        ]
        return Graph(name: "g", nodes: nodes, inputs: [x], outputs: [y], initializers: [w, shape])
    }

    /// Unnamed nodes are reported under GraphIR's display name (`Relu_1`), the one the drawing
    /// shows and node lookups accept, not as an empty name.
    func testUnnamedNodesCarryTheirDisplayName() throws {
        let x = ValueInfo(name: "x", type: .tensor(.float, TensorShape([.known(2)])))
        let graph = Graph(name: "g", nodes: [Node(opType: "Neg", name: "neg", inputs: ["x"], outputs: ["a"]),
                                             Node(opType: "Relu", inputs: ["a"], outputs: ["y"])],
                          inputs: [x], outputs: [ValueInfo(name: "y")])
        let est = try GraphEstimator.estimate(graph: graph, options: EstimateOptions())
        let relu = graph.nodes[1]
        XCTAssertEqual(relu.displayName, "Relu_\(relu.id.rawValue)")
        XCTAssertEqual(est.byNode[relu.id]?.name, relu.displayName)
        XCTAssertEqual(est.byNode[graph.nodes[0].id]?.name, "neg")
    }

    func testConversionAndEstimateByNodeID() throws {
        let graph = makeGraph()
        let og = OpGraph(graph)
        XCTAssertEqual(og.nodes.count, 5)
        XCTAssertEqual(og.symbols, ["batch"])
        XCTAssertEqual(og.nodes[0].path, ["layer1"])
        // the Reshape's shape initializer is a constant; its contents are GraphOps' business (not decoded here)
        XCTAssertTrue(og.values[og.nodes[3].inputs[1]].isConstant)
        XCTAssertEqual(og.values[og.nodes[3].inputs[1]].shape, [.known(2)])
        var o = EstimateOptions(bindings: ["batch": 2])
        o.topK = 2
        let est = try GraphEstimator.estimate(graph: graph, options: o)
        // MatMul [2,4]x[4,3]: 24 MACs; Mul 6; Relu 6
        XCTAssertEqual(est.totals.macs, 24)
        XCTAssertEqual(est.totals.flops, 48 + 6 + 6)
        XCTAssertEqual(est.totals.params, 12 + 1)     // w and the Constant scalar (float), not the int64 shape
        let ids = graph.nodes.map(\.id)
        XCTAssertEqual(est.byNode[ids[0]]?.macs, 24)
        XCTAssertEqual(est.byNode[ids[1]]?.status, .folded)
        XCTAssertEqual(est.overlay(.flops)[ids[4]], 6)
        XCTAssertEqual(est.namespaces.map(\.path), ["layer1", "layer2"])
        XCTAssertEqual(est.topK.count, 2)
        XCTAssertTrue(est.issues.isEmpty, "\(est.issues)")
        XCTAssertThrowsError(try GraphEstimator.estimate(graph: graph, options: EstimateOptions()))
    }

    func testBundledHardwareEstimateCarriesConfidence() throws {
        let reg = try HardwareRegistry.bundled()
        var o = EstimateOptions(bindings: ["batch": 64], hardware: reg.target("nvidia-a100-sxm4-80gb"))
        o.precision = .fp16
        let est = try GraphEstimator.estimate(graph: makeGraph(), options: o)
        XCTAssertEqual(est.confidence, .theoretical)
        let lat = try XCTUnwrap(est.totals.latencySeconds)
        XCTAssertGreaterThan(lat.value, 0)
        XCTAssertLessThan(lat.low, lat.value); XCTAssertGreaterThan(lat.high, lat.value)
        // three kernels (MatMul, Mul, Relu; Constant and Reshape are free) each pay the 4 µs launch overhead
        XCTAssertGreaterThanOrEqual(lat.value, 3 * 4e-6)
        XCTAssertLessThan(lat.value, 3 * 4e-6 + 1e-6)
        XCTAssertEqual(est.hardwareID, "nvidia-a100-sxm4-80gb")
        XCTAssertNotNil(est.roofs)
        // no bf16 on V100
        var v = o; v.hardware = reg.target("nvidia-v100-sxm2-32gb"); v.precision = .bf16
        XCTAssertNoThrow(try GraphEstimator.estimate(graph: makeGraph(), options: v))  // falls back to the fp16 rate
        v.precision = .int8
        XCTAssertThrowsError(try GraphEstimator.estimate(graph: makeGraph(), options: v))
    }
}

final class ScopePathTests: XCTestCase {
    /// The adapter's cached name split must give the same paths as `Hierarchy.path(of:)`.
    func testScopePathsMatchHierarchy() {
        let names = ["/a/b/MatMul", "/a/b/Add", "/a//c/Relu", "/x/", "/Op", "plain", "/a/b/Mul", "/a/Sub", "//z/Op"]
        let nodes = names.map { Node(opType: "Relu", name: $0) }
        var cache = ScopeCache()
        nodes.withUnsafeBufferPointer { buf in
            for i in buf.indices { XCTAssertEqual(cache.path(buf, i), Hierarchy.path(of: buf[i]).0, names[i]) }
        }
    }
}
