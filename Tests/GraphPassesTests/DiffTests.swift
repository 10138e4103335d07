// The diff on hand-built graphs: versions of one model (ids), a fusion with provenance (and a
// fused node fused again, followed through the lineage), attribute and input changes, renames,
// and graphs without shared ids (a file read twice, a plugin's result) paired by signature.
import Foundation
import GraphEditing
import GraphIR
@testable import GraphPasses
import XCTest

/// x -> [ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div] (a written-out LayerNorm without
/// scale) -> Relu -> y.
func layerNormModel() throws -> Model {
    var g = Graph(name: "ln")
    let f = ValueType.tensor(.float, TensorShape([.known(2), .known(8)]))
    try g.addInput(ValueInfo(name: "x", type: f))
    try g.setInitializer(Tensor(name: "two", floats: [2], dims: []))
    try g.setInitializer(Tensor(name: "eps", floats: [1e-5], dims: []))
    try g.addNode(Node(opType: "ReduceMean", name: "mean", inputs: ["x"], outputs: ["m"], attributes: [Attribute("axes", .ints([-1]))]))
    try g.addNode(Node(opType: "Sub", name: "sub", inputs: ["x", "m"], outputs: ["d"]))
    try g.addNode(Node(opType: "Pow", name: "pow", inputs: ["d", "two"], outputs: ["d2"]))
    try g.addNode(Node(opType: "ReduceMean", name: "var", inputs: ["d2"], outputs: ["v"], attributes: [Attribute("axes", .ints([-1]))]))
    try g.addNode(Node(opType: "Add", name: "addeps", inputs: ["v", "eps"], outputs: ["ve"]))
    try g.addNode(Node(opType: "Sqrt", name: "sqrt", inputs: ["ve"], outputs: ["s"]))
    try g.addNode(Node(opType: "Div", name: "div", inputs: ["d", "s"], outputs: ["n"]))
    try g.addNode(Node(opType: "Relu", name: "relu", inputs: ["n"], outputs: ["y"]))
    g.setOutputs([ValueInfo(name: "y", type: f)])
    return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
}

final class DiffTests: XCTestCase {
    func id(_ g: Graph, _ name: String) throws -> NodeID { try XCTUnwrap(g.nodes.first { $0.name == name }).id }

    func testIdenticalVersionsAreUnchanged() throws {
        let m = try layerNormModel()
        let d = GraphDiff.compute(m.graph, m.graph)
        XCTAssertTrue(d.isEmpty)
        XCTAssertEqual(d.matched.count, 8)
        XCTAssertTrue(d.matched.allSatisfy { $0.kind == .id })
        XCTAssertTrue(d.groups.isEmpty)
    }

    func testAttributeChangeAndRenameByID() throws {
        let m = try layerNormModel()
        var tx = Transaction(m, origin: "edit")
        let mean = try id(m.graph, "mean")
        try tx.apply(.setAttribute(node: mean, name: "keepdims", value: .int(1)))
        try tx.apply(.renameNode(try id(m.graph, "relu"), to: "activation"))
        try tx.apply(.renameValue("d", to: "centered"))
        let d = GraphDiff.compute(m.graph, tx.model.graph)
        XCTAssertEqual(d.removed, [])
        XCTAssertEqual(d.added, [])
        // A node name and a value name are labels: only the attribute is a change.
        XCTAssertEqual(d.changed.map(\.a), [mean])
        XCTAssertEqual(d.changed.first?.change.attributes, ["keepdims"])
        XCTAssertEqual(d.changed.first?.change.summary, "attribute keepdims")
    }

    func testInputRewireIsAChangedInput() throws {
        let m = try layerNormModel()
        var tx = Transaction(m, origin: "edit")
        let relu = try id(m.graph, "relu")
        try tx.apply(.setInput(node: relu, index: 0, value: "d"))
        let d = GraphDiff.compute(m.graph, tx.model.graph)
        let c = try XCTUnwrap(d.matched.first { $0.a == relu })
        XCTAssertEqual(c.change.inputs, [0])
        XCTAssertTrue(c.change.attributes.isEmpty)
    }

    /// The 7 LayerNorm nodes fused into one by a transaction: one group "7 nodes -> 1 node"
    /// labelled with the origin the new node carries.
    func testFusionIsOneGroupWithItsOrigin() throws {
        let m = try layerNormModel()
        let parts = ["mean", "sub", "pow", "var", "addeps", "sqrt", "div"]
        let sources = try parts.map { try id(m.graph, $0) }
        var tx = Transaction(m, origin: "pass fuse-layernorm")
        try tx.apply(.setInitializer(Tensor(name: "scale", floats: Array(repeating: 1, count: 8), dims: [8])))
        let e = try tx.apply(.addNode(NewNode(opType: "LayerNormalization", inputs: ["x", "scale"], outputs: ["ln"],
                                              attributes: [Attribute("axis", .int(-1))], sources: sources)))
        try tx.apply(.setInput(node: try id(m.graph, "relu"), index: 0, value: "ln"))
        for s in sources.reversed() { try tx.apply(.removeNode(s)) }
        let d = GraphDiff.compute(m.graph, tx.model.graph)
        XCTAssertEqual(Set(d.removed), Set(sources))
        XCTAssertEqual(d.added, e.addedNodes)
        XCTAssertEqual(d.groups.count, 1)
        XCTAssertEqual(d.groups[0].summary, "7 nodes -> 1 node (pass fuse-layernorm)")
        XCTAssertEqual(d.groups[0].removedOps.first, "ReduceMean x2")
        // Relu now reads the fused output: a changed input, not a removal.
        XCTAssertEqual(d.changed.count, 1)
        XCTAssertEqual(d.changed[0].change.inputs, [0])
        let counts = d.opCounts(m.graph, tx.model.graph)
        XCTAssertEqual(counts.first { $0.op == "LayerNormalization" }?.added, 1)
        XCTAssertEqual(counts.first { $0.op == "ReduceMean" }?.removed, 2)
    }

    /// A fused node fused again in a later version: its sources are ids that exist in neither
    /// end; the lineage of the version in between leads back to the originals.
    func testProvenanceFollowedThroughLineage() throws {
        let m = try layerNormModel()
        let mean = try id(m.graph, "mean"), sub = try id(m.graph, "sub"), pow = try id(m.graph, "pow")
        // Version 1: mean+sub -> one node (provenance [mean, sub]); version 2: that node and pow -> one node.
        let n1 = NodeID(900), n2 = NodeID(901)
        var b = m.graph
        try b.removeNode(pow, allowDangling: true)
        try b.removeNode(sub, allowDangling: true)
        try b.removeNode(mean, allowDangling: true)
        let fused = try b.addNode(Node(opType: "Mul", inputs: ["x", "x"], outputs: ["d2"],
                                       provenance: Provenance(sources: [n1, pow], origin: "pass two")))
        try b.modifyNode(try id(m.graph, "div")) { $0.inputs[0] = "x" }
        let lineage: [NodeID: Provenance] = [n1: Provenance(sources: [mean, sub], origin: "pass one"), n2: Provenance()]
        let d = GraphDiff.compute(m.graph, b, lineage: lineage)
        XCTAssertEqual(d.added, [fused])
        XCTAssertEqual(d.groups.count, 1)
        XCTAssertEqual(Set(d.groups[0].removed), [mean, sub, pow])
        XCTAssertEqual(d.groups[0].origin, "pass two")
        // Without the lineage only pow is known as a source; mean and sub still join by adjacency.
        let plain = GraphDiff.compute(m.graph, b)
        XCTAssertEqual(plain.groups.count, 1)
    }

    /// The same file read twice: no shared ids, every node paired by signature, no change.
    func testIDlessGraphsPairBySignature() throws {
        let m1 = try layerNormModel(), m2 = try layerNormModel()
        XCTAssertFalse(m1.graph.sharesNodeIDs(with: m2.graph))
        let d = GraphDiff.compute(m1.graph, m2.graph)
        XCTAssertTrue(d.isEmpty, "\(d.changed.map(\.change.summary)) \(d.added) \(d.removed)")
        XCTAssertTrue(d.matched.allSatisfy { $0.kind == .signature })
        // Pairs follow structure, not names: the pairs join nodes of the same role.
        for p in d.matched {
            XCTAssertEqual(m1.graph.node(p.a)?.name, m2.graph.node(p.b)?.name)
        }
    }

    /// A plugin-like result: different ids, renamed nodes and values, one attribute changed,
    /// the LayerNorm replaced by one node. Signature pairing finds the unchanged nodes on both
    /// sides of the replacement (forward from x, backward from y) and groups the rest.
    func testIDlessFusionAndAttributeChange() throws {
        let m = try layerNormModel()
        var g = Graph(name: "other")
        let f = ValueType.tensor(.float, TensorShape([.known(2), .known(8)]))
        try g.addInput(ValueInfo(name: "x", type: f))
        try g.setInitializer(Tensor(name: "w_0", floats: Array(repeating: 1, count: 8), dims: [8]))
        try g.addNode(Node(opType: "LayerNormalization", name: "LayerNorm_fused", inputs: ["x", "w_0"], outputs: ["t0"],
                           attributes: [Attribute("axis", .int(-1))]))
        try g.addNode(Node(opType: "Relu", name: "r", inputs: ["t0"], outputs: ["y"]))
        g.setOutputs([ValueInfo(name: "y", type: f)])
        let d = GraphDiff.compute(m.graph, g, origin: "plugin ort")
        XCTAssertEqual(d.matched.count, 1)
        XCTAssertEqual(m.graph.node(d.matched[0].a)?.opType, "Relu")
        XCTAssertEqual(d.matched[0].change.inputs, [0])
        XCTAssertEqual(d.removed.count, 7)
        XCTAssertEqual(d.groups.count, 1)
        XCTAssertEqual(d.groups[0].summary, "7 nodes -> 1 node (plugin ort)")

        // An attribute change without shared ids: the looser key pairs it as changed.
        var m2 = try layerNormModel()
        try m2.graph.modifyNode(try id(m2.graph, "var")) { $0.setAttribute("axes", .ints([1])) }
        let d2 = GraphDiff.compute(m.graph, m2.graph)
        XCTAssertTrue(d2.added.isEmpty && d2.removed.isEmpty)
        XCTAssertEqual(d2.changed.count, 1)
        XCTAssertEqual(d2.changed[0].change.attributes, ["axes"])
    }

    /// A compiler that folds a BatchNormalization into the Conv before it and turns Constant
    /// nodes into initializers breaks every signature chain at the Conv; the nodes after it pair
    /// by the value names the compiler kept, and a weight moved from a Constant node to an
    /// initializer with the same contents is not a change.
    func testCompilerResultPairsByKeptValueNames() throws {
        let f = ValueType.tensor(.float, TensorShape([.known(1), .known(2), .known(4), .known(4)]))
        func constant(_ name: String, _ values: [Float], _ dims: [Int64]) -> Node {
            Node(opType: "Constant", name: name, inputs: [], outputs: [name],
                 attributes: [Attribute("value", .tensor(Tensor(name: name, floats: values, dims: dims)))])
        }
        var a = Graph(name: "a")
        try a.addInput(ValueInfo(name: "x", type: f))
        try a.addNode(constant("w", [1, 0, 0, 1], [2, 2, 1, 1]))
        for n in ["s", "bb", "m", "v"] { try a.addNode(constant(n, [1, 1], [2])) }
        try a.addNode(constant("six", [6], []))
        try a.addNode(Node(opType: "Conv", name: "conv", inputs: ["x", "w"], outputs: ["c"]))
        try a.addNode(Node(opType: "BatchNormalization", name: "bn", inputs: ["c", "s", "bb", "m", "v"], outputs: ["n"]))
        try a.addNode(Node(opType: "Relu", name: "relu", inputs: ["n"], outputs: ["r"]))
        try a.addNode(Node(opType: "Clip", name: "clip", inputs: ["r", "", "six"], outputs: ["y"]))
        a.setOutputs([ValueInfo(name: "y", type: f)])

        var b = Graph(name: "b")
        try b.addInput(ValueInfo(name: "x", type: f))
        try b.setInitializer(Tensor(name: "w_folded", floats: [0.5, 0, 0, 0.5], dims: [2, 2, 1, 1]))
        try b.setInitializer(Tensor(name: "b_folded", floats: [1, 1], dims: [2]))
        try b.setInitializer(Tensor(name: "six_init", floats: [6], dims: []))
        try b.addNode(Node(opType: "Conv", name: "conv_fused", inputs: ["x", "w_folded", "b_folded"], outputs: ["n"]))
        try b.addNode(Node(opType: "Relu", name: "relu_0", inputs: ["n"], outputs: ["r"]))
        try b.addNode(Node(opType: "Clip", name: "clip_0", inputs: ["r", "", "six_init"], outputs: ["y"]))
        b.setOutputs([ValueInfo(name: "y", type: f)])

        let d = GraphDiff.compute(a, b, origin: "plugin ort")
        let paired = Dictionary(uniqueKeysWithValues: d.matched.compactMap { p in a.node(p.a).map { ($0.name, p) } })
        XCTAssertNotNil(paired["relu"], "Relu pairs though its producer was replaced")
        let clip = try XCTUnwrap(paired["clip"])
        XCTAssertEqual(clip.change.inputs, [], "Clip's bound moved from a Constant node to an equal initializer: unchanged")
        XCTAssertTrue(d.removed.contains { a.node($0)?.opType == "BatchNormalization" })
    }

    /// Dead code removed: a group with no new nodes; initializer contents compared, names not.
    func testRemovalOnlyAndRenamedInitializer() throws {
        let m = try layerNormModel()
        var b = m.graph
        try b.addNode(Node(opType: "Identity", name: "dead", inputs: ["y"], outputs: ["unused"]))
        let d = GraphDiff.compute(b, m.graph, origin: "pass dce")
        XCTAssertEqual(d.removed.count, 1)
        XCTAssertEqual(d.groups.map(\.summary), ["1 node -> 0 nodes (pass dce)"])

        // Same contents under another name: unchanged; other contents: a changed input.
        var m2 = try layerNormModel()
        try m2.graph.setInitializer(Tensor(name: "two_renamed", floats: [2], dims: []))
        try m2.graph.modifyNode(try id(m2.graph, "pow")) { $0.inputs[1] = "two_renamed" }
        try m2.graph.removeInitializer(named: "two")
        XCTAssertTrue(GraphDiff.compute(m.graph, m2.graph).isEmpty)
        try m2.graph.setInitializer(Tensor(name: "two_renamed", floats: [3], dims: []))
        let d3 = GraphDiff.compute(m.graph, m2.graph)
        XCTAssertEqual(d3.changed.map(\.change.inputs), [[1]])
    }

    func testModelExplorerFiles() throws {
        let m = try layerNormModel()
        var b = m.graph
        try b.modifyNode(try id(m.graph, "relu")) { $0.opType = "Sigmoid" }
        let d = GraphDiff.compute(m.graph, b)
        let mapping = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(d.modelExplorerMapping().utf8)) as? [String: Any])
        XCTAssertEqual(mapping["type"] as? String, "sync_navigation")
        XCTAssertEqual((mapping["mapping"] as? [String: String])?.count, 8)
        let nd = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(d.modelExplorerNodeData(side: .new, name: "diff").utf8)) as? [String: Any])
        let results = try XCTUnwrap((nd["main"] as? [String: Any])?["results"] as? [String: Any])
        XCTAssertEqual(results.count, 8)
    }
}
