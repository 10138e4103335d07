import XCTest
@testable import GraphIR

final class ValidationTests: XCTestCase {
    func testReportsDanglingDuplicateMissingAndTypeMismatch() {
        let g = Graph(nodes: [
            Node(id: NodeID(0), opType: "Add", name: "add", inputs: ["x", "ghost"], outputs: ["s"]),
            Node(id: NodeID(1), opType: "Add", inputs: ["x", "i"], outputs: ["s"]),
        ], inputs: [ValueInfo(name: "x", type: f32(2)), ValueInfo(name: "i", type: .tensor(.int64, TensorShape(static: [2])))],
           outputs: [ValueInfo(name: "s"), ValueInfo(name: "s"), ValueInfo(name: "missing")])
        let kinds = g.validate().map(\.kind)
        XCTAssertTrue(kinds.contains(.danglingInput))
        XCTAssertTrue(kinds.contains(.duplicateDefinition))
        XCTAssertTrue(kinds.contains(.duplicateOutputName))
        XCTAssertTrue(kinds.contains(.missingGraphOutput))
        // Mixed element types on Add need the op's schema: GraphOps' SchemaValidator reports them.
        XCTAssertFalse(kinds.contains(.typeMismatch))
        let dangling = g.validate().first { $0.kind == .danglingInput }
        XCTAssertEqual(dangling?.message, "node n0 (Add 'add') input 1 reads 'ghost', which nothing defines")
    }

    func testInitializerDeclaredWithAnotherTypeIsAMismatch() {
        let g = Graph(nodes: [Node(id: NodeID(0), opType: "Relu", inputs: ["w"], outputs: ["y"])],
                      outputs: [ValueInfo(name: "y")],
                      initializers: [Tensor(name: "w", floats: [1, 2], dims: [2])],
                      valueInfo: [ValueInfo(name: "w", type: .tensor(.int64, TensorShape(static: [2])))])
        let issue = g.validate().first { $0.kind == .typeMismatch }
        XCTAssertEqual(issue?.message, "'w' is declared tensor(int64)[2] but its initializer is float")
    }

    func testCycleIsReportedAndOrderKept() {
        let g = Graph(nodes: [
            Node(id: NodeID(0), opType: "Relu", inputs: ["b"], outputs: ["a"]),
            Node(id: NodeID(1), opType: "Relu", inputs: ["a"], outputs: ["b"]),
        ], outputs: [ValueInfo(name: "b")])
        XCTAssertEqual(g.nodes.map(\.id), [NodeID(0), NodeID(1)])
        XCTAssertTrue(g.validate().contains { $0.kind == .cycle })
    }

    func testUnsortedInputIsSortedStably() {
        let g = Graph(nodes: [
            Node(id: NodeID(0), opType: "Sigmoid", inputs: ["a"], outputs: ["y"]),
            Node(id: NodeID(1), opType: "Relu", inputs: ["x"], outputs: ["a"]),
            Node(id: NodeID(2), opType: "Neg", inputs: ["x"], outputs: ["z"]),
        ], inputs: [ValueInfo(name: "x")])
        XCTAssertEqual(g.nodes.map(\.id.rawValue), [1, 0, 2])
    }
}

final class HierarchyTests: XCTestCase {
    func testTorchNameScopesThenNamespaceThenNodeNames() {
        var a = Node(opType: "MatMul", name: "node_MatMul_1")
        a.metadataProps["pkg.torch.onnx.name_scopes"] = "['', 'layers.0', 'layers.0.self_attn', 'layers.0.self_attn.q_proj', 'linear']"
        var b = Node(opType: "Add", name: "x")
        b.metadataProps["namespace"] = "layers.0: Block/layers.0.mlp: MLP/add: aten.add.Tensor"
        let c = Node(opType: "Relu", name: "/encoder/layer.1/Relu")
        let d = Node(opType: "Relu", name: "plain")
        XCTAssertEqual(Hierarchy.path(of: a).0, ["layers.0", "self_attn", "q_proj"])
        XCTAssertEqual(Hierarchy.path(of: a).1, .nameScopes)
        XCTAssertEqual(Hierarchy.path(of: b).0, ["layers.0", "mlp"])
        XCTAssertEqual(Hierarchy.path(of: c).0, ["encoder", "layer.1"])
        XCTAssertEqual(Hierarchy.path(of: d).0, [])
        XCTAssertEqual(Hierarchy.parsePythonStringList("['a', \"b'c\", 'd\\'e']"), ["a", "b'c", "d'e"])
        XCTAssertNil(Hierarchy.parsePythonStringList("['a'"))
    }

    func testQueries() throws {
        let g = try makeChain()
        let h = Hierarchy(g)
        XCTAssertEqual(h.children(of: []), ["enc", "head"])
        XCTAssertEqual(h.children(of: ["enc"]), ["layer0"])
        XCTAssertEqual(h.count(under: []), 3)
        XCTAssertEqual(h.count(under: ["enc"]), 2)
        XCTAssertEqual(h.nodes(under: ["enc"]), [g.nodes[0].id, g.nodes[1].id])
        XCTAssertEqual(h.nodes(directlyIn: ["head"]), [g.nodes[2].id])
        XCTAssertEqual(h.allPaths, [["enc"], ["enc", "layer0"], ["head"]])
        XCTAssertFalse(h.isFlat)
    }

    func testSummaryCountsParametersOnce() throws {
        var g = try makeChain()
        try g.addNode(Node(opType: "Constant", outputs: ["c"],
                           attributes: [Attribute("value", .tensor(Tensor(floats: [1, 2], dims: [2])))]))
        try g.setInitializer(Tensor(name: "idx", int64s: [0, 1], dims: [2]))
        let s = g.summary()
        XCTAssertEqual(s.parameterCount, 8)        // 6 (w) + 2 (Constant); int64 idx excluded
        XCTAssertEqual(s.parameterBytes, 32)
        XCTAssertEqual(s.initializerCount, 2)
        XCTAssertEqual(s.initializerBytes, 24 + 16)
        XCTAssertEqual(s.opHistogram["Relu"], 1)
        XCTAssertEqual(s.opHistogramRows.first?.count, 1)
    }
}
