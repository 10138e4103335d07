/// Model-wide node ids: one id space shared by a graph, its bodies, its copies and a model's
/// functions; ids never change under edits and are never handed out twice.
import XCTest
@testable import GraphIR

final class NodeIDSpaceTests: XCTestCase {
    func testAddNodeInABodyNeverCollidesWithTheModel() throws {
        var g = try makeIfModel()  // ids 0, 1, 100...102, 200, 201, 300, 301
        let existing = Set(g.allNodes().map(\.node.id))
        XCTAssertEqual(g.nextNodeID, NodeID(302))
        let c = NodeCatalog(g)
        var added: [NodeID] = []
        for b in c.bodies {
            added.append(try g.modifyBody(at: b.steps) { body in
                try body.addNode(Node(opType: "Identity", inputs: [body.outputs[0].name], outputs: ["extra_\(body.name)"]))
            })
        }
        // Through the owner's attribute: the body on its own still draws from the model's space.
        var elseBody = try XCTUnwrap(g.body(at: c.bodies[1].steps))
        added.append(try elseBody.addNode(Node(opType: "Neg", inputs: ["e"], outputs: ["again"])))
        try g.modifyNode(NodeID(1)) { $0.attributes[1].value = .graph(elseBody) }
        added.append(try g.addNode(Node(opType: "Neg", inputs: ["y"], outputs: ["top"])))
        XCTAssertEqual(added, (302..<307).map(NodeID.init))
        let all = g.allNodes().map(\.node.id)
        XCTAssertEqual(Set(all).count, all.count, "ids unique across the model")
        XCTAssertTrue(existing.isSubset(of: Set(all)))
        XCTAssertEqual(NodeCatalog(g).lookup("n305"), .node(NodeCatalog(g).entries.firstIndex { $0.id == NodeID(305) } ?? -1))
    }

    func testIDsStayStableAndAreNeverReused() throws {
        var g = try makeIfModel()
        let before = Dictionary(uniqueKeysWithValues: g.allNodes().map { ($0.node.id, $0.node.opType) })
        let relu = try g.modifyBody(at: [BodyStep(owner: NodeID(1), attribute: "else_branch")]) { body -> NodeID in
            try body.removeNode(NodeID(201))  // the Relu, unused
            return try body.addNode(Node(opType: "Relu", inputs: ["e"], outputs: ["r"]))
        }
        XCTAssertNotEqual(relu, NodeID(201), "a removed id is not handed out again")
        try g.renameValue("xn", to: "x_neg")
        try g.renameNode(NodeID(0), to: "first")
        let after = Dictionary(uniqueKeysWithValues: g.allNodes().map { ($0.node.id, $0.node.opType) })
        for (id, op) in before where id != NodeID(201) { XCTAssertEqual(after[id], op, "node \(id) kept its id") }
        XCTAssertNil(after[NodeID(201)])
    }

    func testCopiesShareTheSpaceSoVersionsNeverReuseAnID() throws {
        var a = try makeIfModel()
        var b = a  // e.g. the version an undo goes back to
        let fromA = try a.addNode(Node(opType: "Neg", inputs: ["y"], outputs: ["na"]))
        let fromB = try b.addNode(Node(opType: "Neg", inputs: ["y"], outputs: ["nb"]))
        XCTAssertNotEqual(fromA, fromB)
        XCTAssertTrue(a.sharesNodeIDs(with: b))
        XCTAssertFalse(a.sharesNodeIDs(with: Graph()))
    }

    func testModelJoinsFunctionBodiesToItsGraph() throws {
        var fBody = Graph(outputs: [ValueInfo(name: "o")])
        try fBody.addNode(Node(opType: "Neg", inputs: ["i"], outputs: ["o"]))  // id 0 in its own space
        var g = Graph(inputs: [ValueInfo(name: "x")], outputs: [ValueInfo(name: "y")])
        XCTAssertFalse(g.sharesNodeIDs(with: fBody))
        let m = Model(graph: g, functions: [Function(name: "F", domain: "local", body: fBody)])
        XCTAssertTrue(m.graph.sharesNodeIDs(with: m.functions[0].body))
        g = m.graph
        XCTAssertEqual(try g.addNode(Node(opType: "F", domain: "local", inputs: ["x"], outputs: ["y"])), NodeID(1))
    }

    func testModifyBodyRefusesAMissingBody() throws {
        var g = try makeIfModel()
        let copy = g
        XCTAssertThrowsError(try g.modifyBody(at: [BodyStep(owner: NodeID(1), attribute: "body")]) { _ in }) { e in
            XCTAssertEqual(e as? GraphEditError, .noSuchBody(owner: NodeID(1), attribute: "body", index: 0))
        }
        XCTAssertThrowsError(try g.modifyBody(at: [BodyStep(owner: NodeID(99), attribute: "body")]) { _ in })
        XCTAssertEqual(g, copy)
    }

    func testConcurrentAllocationsAreDistinct() {
        let space = NodeIDSpace(next: 0)
        let other = NodeIDSpace(next: 10_000)  // disjoint from `space` until the join
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: 400)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            if i == 200 { space.join(other) }
            results[i] = (i % 2 == 0 ? space : other).allocate()
        }
        XCTAssertEqual(Set(results).count, 400)
        XCTAssertTrue(space.isJoined(with: other))
    }
}
