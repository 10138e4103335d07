/// Node ids of loaded models: one model-wide id space over the main graph, every If/Loop/Scan
/// body and every function body (see GraphIR's NodeIDSpace.swift).
import Foundation
import XCTest
import GraphFormats
import GraphIR

final class ModelNodeIDTests: XCTestCase {
    /// Every node id of the model: main graph, bodies (any depth), function bodies.
    func allIDs(_ m: Model) -> [NodeID] {
        m.graph.allNodes().map(\.node.id) + m.functions.flatMap { $0.body.allNodes().map(\.node.id) }
    }

    /// Id -> (op type, display name) of every node, to check ids stay put under edits.
    func identities(_ g: Graph) -> [NodeID: String] {
        var out: [NodeID: String] = [:]
        for (_, n) in g.allNodes() { out[n.id] = n.opType + ":" + n.displayName }
        return out
    }

    /// Adds a node in every body of `m`'s main graph, alternately through `modifyBody` and by
    /// pulling the body out of its owner's attribute and putting it back; every new id must be
    /// fresh across the whole model and every existing id must keep its node.
    func checkBodyEdits(_ m: Model, file: StaticString = #filePath, line: UInt = #line) throws {
        var g = m.graph
        let before = identities(g)
        var used = Set(allIDs(m))
        XCTAssertEqual(used.count, allIDs(m).count, "ids repeat in the loaded model", file: file, line: line)
        let bodies = NodeCatalog(g).bodies
        XCTAssertFalse(bodies.isEmpty, file: file, line: line)
        for (k, b) in bodies.enumerated() {
            XCTAssertTrue(b.graph.sharesNodeIDs(with: g), "body \(b.pathText) has its own id space", file: file, line: line)
            let out = "idtest_\(k)"
            let node = Node(opType: "Identity", inputs: [b.graph.outputs.first?.name ?? ""], outputs: [out])
            let id: NodeID
            if k % 2 == 0 {
                id = try g.modifyBody(at: b.steps) { try $0.addNode(node) }
            } else {
                // Through the owner's attribute: the body graph alone, edited and put back.
                let outer = Array(b.steps.dropLast()), step = try XCTUnwrap(b.steps.last)
                var body = try XCTUnwrap(g.body(at: b.steps))
                id = try body.addNode(node)
                try g.modifyBody(at: outer) { parent in
                    try parent.modifyNode(step.owner) { n in
                        guard let ai = n.attributes.firstIndex(where: { $0.name == step.attribute }) else { return }
                        switch n.attributes[ai].value {
                        case .graphs(var gs): gs[step.index] = body; n.attributes[ai].value = .graphs(gs)
                        default: n.attributes[ai].value = .graph(body)
                        }
                    }
                }
            }
            XCTAssertFalse(used.contains(id), "body \(b.pathText): addNode gave \(id), already used in the model", file: file, line: line)
            used.insert(id)
        }
        // A top-level node after the body edits is fresh too.
        let top = try g.addNode(Node(opType: "Identity", inputs: [g.outputs.first?.name ?? ""], outputs: ["idtest_top"]))
        XCTAssertFalse(used.contains(top), file: file, line: line)
        // Ids already assigned never moved.
        let after = identities(g)
        for (id, what) in before { XCTAssertEqual(after[id], what, "node \(id) changed identity", file: file, line: line) }
        XCTAssertEqual(after.count, before.count + bodies.count + 1, file: file, line: line)
    }

    func testControlFlowIDsAreModelWideAndBodyEditsNeverCollide() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("control_flow.onnx"))
        let ids = allIDs(m)
        XCTAssertEqual(ids.sorted(), (0..<ids.count).map(NodeID.init), "one sequence over graph and bodies")
        XCTAssertEqual(m.graph.nextNodeID, NodeID(ids.count))
        try checkBodyEdits(m)
    }

    func testFunctionBodiesShareTheModelIDSpace() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("sparse_functions.onnx"))
        XCTAssertEqual(Set(allIDs(m)).count, allIDs(m).count)
        var f = try XCTUnwrap(m.functions.first).body
        XCTAssertTrue(f.sharesNodeIDs(with: m.graph))
        let id = try f.addNode(Node(opType: "Identity", inputs: [f.outputs.first?.name ?? ""], outputs: ["fn_extra"]))
        XCTAssertFalse(allIDs(m).contains(id))
        // ... and the main graph, edited afterwards, never hands that id out again.
        var g = m.graph
        let top = try g.addNode(Node(opType: "Identity", inputs: [g.outputs.first?.name ?? ""], outputs: ["top_extra"]))
        XCTAssertNotEqual(top, id)
        XCTAssertFalse(allIDs(m).contains(top))
    }

    func testSileroVADIDsAreModelWide() throws {
        guard let shared = TestPaths.shared else { throw XCTSkip("no shared corpus") }
        let url = shared.appendingPathComponent("corpus/models/silero_vad.onnx")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("silero_vad.onnx not in the corpus") }
        let m = try ONNXReader.load(url)
        XCTAssertGreaterThan(m.graph.allNodes().filter { !$0.path.isEmpty }.count, 0, "expected nested If bodies")
        try checkBodyEdits(m)
    }

    func testUneditedIDsAreNotWrittenSoRoundTripsStayByteIdentical() throws {
        // Edits elsewhere in the id space (a body edit on a copy) do not change what is written.
        let url = try TestPaths.fixture("control_flow.onnx")
        let original = try [UInt8](Data(contentsOf: url))
        let m = try ONNXReader.load(url)
        var copy = m.graph
        let steps = try XCTUnwrap(NodeCatalog(copy).bodies.first).steps
        try copy.modifyBody(at: steps) { try $0.addNode(Node(opType: "Identity", inputs: [$0.outputs[0].name], outputs: ["z"])) }
        XCTAssertEqual(try ONNXWriter.serialize(m), original)
    }
}
