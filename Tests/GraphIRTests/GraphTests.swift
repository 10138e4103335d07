import XCTest
@testable import GraphIR

final class GraphTests: XCTestCase {
    func testProducersAndUsesAfterBuilding() throws {
        let g = try makeChain()
        assertIndexExact(g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Add", "Sigmoid"])
        XCTAssertEqual(g.producer(of: "x"), .graphInput(index: 0))
        XCTAssertEqual(g.producer(of: "w"), .initializer)
        let add = g.nodes[1]
        XCTAssertEqual(g.producer(of: "b"), .node(add.id, output: 0))
        XCTAssertEqual(g.uses(of: "a"), [ValueUse(node: add.id, inputIndex: 0)])
        XCTAssertEqual(g.value(named: "y")?.isGraphOutput, true)
        XCTAssertEqual(g.type(of: "w"), f32(2, 3))
        XCTAssertEqual(g.successors(of: g.nodes[0].id), [add.id])
        XCTAssertEqual(g.predecessors(of: g.nodes[2].id), [add.id])
        XCTAssertTrue(g.validate().isEmpty, "\(g.validate())")
    }

    func testAddNodeGoesToTopologicalPositionAndIdsAreNeverReused() throws {
        var g = try makeChain()
        let relu = g.nodes[0].id
        // A node reading only `x`, added last, can sit right after the inputs.
        let neg = try g.addNode(Node(opType: "Neg", inputs: ["a"], outputs: ["na"]))
        XCTAssertEqual(g.position(of: neg), 1)
        XCTAssertGreaterThan(neg.rawValue, relu.rawValue)
        // A consumer added before its producer: re-sorted so the producer comes first.
        let consumer = try g.addNode(Node(opType: "Exp", inputs: ["late"], outputs: ["e"]))
        let producer = try g.addNode(Node(opType: "Abs", inputs: ["x"], outputs: ["late"]))
        XCTAssertLessThan(try XCTUnwrap(g.position(of: producer)), try XCTUnwrap(g.position(of: consumer)))
        assertIndexExact(g)
        try g.removeNode(consumer)
        let again = try g.addNode(Node(opType: "Exp", inputs: ["late"], outputs: ["e2"]))
        XCTAssertNotEqual(again, consumer)
        XCTAssertGreaterThan(again.rawValue, producer.rawValue)
        assertIndexExact(g)
    }

    func testAddNodeRefusesDuplicateOutputsAndCycles() throws {
        var g = try makeChain()
        XCTAssertThrowsError(try g.addNode(Node(opType: "Relu", inputs: ["x"], outputs: ["a"]))) {
            XCTAssertEqual($0 as? GraphEditError, .valueAlreadyDefined("a"))
        }
        // c = f(y) where y's producer chain reads... make a real cycle: new node produces `q`,
        // consumed by itself.
        let before = g
        XCTAssertThrowsError(try g.addNode(Node(opType: "Add", inputs: ["q", "x"], outputs: ["q"])))
        XCTAssertEqual(g, before, "graph unchanged after a refused edit")
    }

    func testRemoveNodeKeepsIndexExact() throws {
        var g = try makeChain()
        let add = g.nodes[1].id
        XCTAssertThrowsError(try g.removeNode(add)) { e in
            XCTAssertEqual(e as? GraphEditError, .outputsStillUsed(node: add, values: ["b"]))
        }
        try g.replaceAllUses(of: "b", with: "a")
        try g.removeNode(add)
        XCTAssertEqual(g.nodes.map(\.opType), ["Relu", "Sigmoid"])
        XCTAssertEqual(g.producer(of: "b"), .none)
        XCTAssertEqual(g.uses(of: "w"), [])
        XCTAssertEqual(g.uses(of: "a").map(\.node), [g.nodes[1].id])
        assertIndexExact(g)
        XCTAssertThrowsError(try g.removeNode(add)) { XCTAssertEqual($0 as? GraphEditError, .noSuchNode(add)) }
    }

    func testReplaceAllUsesIncludingGraphOutputs() throws {
        var g = try makeChain()
        try g.replaceAllUses(of: "y", with: "b")
        XCTAssertEqual(g.outputs.map(\.name), ["b"])
        XCTAssertEqual(g.outputs.first?.type, f32(2, 3))
        XCTAssertEqual(g.uses(of: "y"), [])
        assertIndexExact(g)
        XCTAssertThrowsError(try g.replaceAllUses(of: "a", with: "nope"))
    }

    func testReplaceAllUsesRefusesCycle() throws {
        var g = try makeChain()
        let before = g
        // Replacing uses of `a` with `b` would make Add read its own output.
        XCTAssertThrowsError(try g.replaceAllUses(of: "a", with: "b"))
        XCTAssertEqual(g, before)
        assertIndexExact(g)
    }

    func testSetInputAndRename() throws {
        var g = try makeChain()
        let sig = g.nodes[2].id
        try g.setInput(of: sig, at: 0, to: "a")
        XCTAssertEqual(g.uses(of: "b"), [])
        XCTAssertEqual(Set(g.uses(of: "a").map(\.node)), [g.nodes[1].id, sig])
        XCTAssertThrowsError(try g.setInput(of: sig, at: 5, to: "a"))
        try g.renameValue("a", to: "activated")
        XCTAssertEqual(g.node(g.nodes[0].id)?.outputs, ["activated"])
        XCTAssertEqual(g.node(sig)?.inputs, ["activated"])
        try g.renameValue("w", to: "weight")
        XCTAssertEqual(g.initializer(named: "weight")?.dims, [2, 3])
        XCTAssertEqual(g.producer(of: "weight"), .initializer)
        XCTAssertThrowsError(try g.renameValue("x", to: "y"))
        assertIndexExact(g)
    }

    func testCopiesAreIndependentAndShareTensorBytes() throws {
        let g1 = try makeChain()
        var g2 = g1
        try g2.addNode(Node(opType: "Neg", inputs: ["y"], outputs: ["z"]))
        try g2.annotate(g2.nodes[0].id, key: "note", value: "hot")
        XCTAssertEqual(g1.nodes.count, 3)
        XCTAssertEqual(g2.nodes.count, 4)
        XCTAssertNil(g1.nodes[0].annotations["note"])
        XCTAssertEqual(g2.nodes[0].annotations["note"], "hot")
        guard case .raw(let a)? = g1.initializer(named: "w")?.data, case .raw(let b)? = g2.initializer(named: "w")?.data else {
            return XCTFail("expected raw data")
        }
        XCTAssertTrue(a.storage === b.storage, "weights are shared, not copied")
        // Annotations survive later wiring edits.
        try g2.setInput(of: g2.nodes[0].id, at: 0, to: "x")
        XCTAssertEqual(g2.nodes[0].annotations["note"], "hot")
    }

    func testSubgraphOuterReferencesAreLinked() throws {
        var body = Graph(name: "then", outputs: [ValueInfo(name: "t_out")], isSubgraph: true, firstNodeID: 100)
        try body.addNode(Node(opType: "Add", inputs: ["a", "w"], outputs: ["t_out"]))
        XCTAssertEqual(body.outerScopeReferences, ["a", "w"])
        XCTAssertEqual(body.producer(of: "a"), .outerScope)
        var g = try makeChain()
        let ifID = try g.addNode(Node(opType: "If", inputs: ["cond"], outputs: ["r"],
                                      attributes: [Attribute("then_branch", .graph(body)), Attribute("else_branch", .graph(body))]))
        // The If must come after Relu (producer of `a`) though its explicit input is only `cond`.
        XCTAssertGreaterThan(try XCTUnwrap(g.position(of: ifID)), try XCTUnwrap(g.position(of: g.nodes[0].id)))
        XCTAssertTrue(g.uses(of: "a").contains(ValueUse(node: ifID, slot: .subgraph(attribute: "then_branch"))))
        XCTAssertTrue(g.predecessors(of: ifID).contains(g.nodes[0].id))
        assertIndexExact(g)
        // Renaming the outer value rewrites the subgraph's reference.
        try g.renameValue("a", to: "act")
        guard case .graph(let newBody)? = g.node(ifID)?.attribute("then_branch") else { return XCTFail() }
        XCTAssertEqual(newBody.outerScopeReferences, ["act", "w"])
        XCTAssertEqual(newBody.nodes[0].inputs, ["act", "w"])
        assertIndexExact(g)
        XCTAssertEqual(g.allNodes().count, 6)
        let inner = newBody.nodes[0].id
        XCTAssertNil(g.node(inner))
        XCTAssertEqual(g.findNode(inner)?.path, [ifID])
        XCTAssertEqual(g.nodes(ofType: "If").map(\.id), [ifID])
        try g.renameNode(ifID, to: "branch")
        XCTAssertEqual(g.node(ifID)?.name, "branch")
        let issues = g.validate()
        XCTAssertEqual(issues.map(\.kind), [.danglingInput], "\(issues)")  // `cond` is undefined
        XCTAssertEqual(g.summary().totalNodeCount, 6)
        XCTAssertEqual(g.summary().subgraphCount, 2)
    }

    func testModifyNodeKeepsIdAndReindexes() throws {
        var g = try makeChain()
        let id = g.nodes[1].id
        try g.modifyNode(id) { n in
            n.name = "renamed"
            n.inputs = ["x", "w"]
            n.setAttribute("alpha", .float(0.5))
        }
        XCTAssertEqual(g.node(id)?.name, "renamed")
        XCTAssertEqual(g.node(id)?.attribute("alpha"), .float(0.5))
        XCTAssertEqual(g.uses(of: "a"), [])
        assertIndexExact(g)
    }
}
