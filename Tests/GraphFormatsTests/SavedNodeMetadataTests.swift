/// Graphsmith's node metadata in ONNX (`graphsmith.id`, `graphsmith.annotation.*`,
/// `graphsmith.provenance.*`): ids, annotations and provenance survive export → load, files
/// without them stay byte-identical, and malformed saved ids fall back to fresh ones.
import Foundation
import XCTest
@testable import GraphFormats
import GraphIR

final class SavedNodeMetadataTests: XCTestCase {
    /// Every node of the model (bodies and functions too) by id, with what identifies it.
    func identities(_ m: Model) -> [NodeID: String] {
        var out: [NodeID: String] = [:]
        let all = m.graph.allNodes().map(\.node) + m.functions.flatMap { $0.body.allNodes().map(\.node) }
        for n in all {
            XCTAssertNil(out[n.id], "id \(n.id) repeats")
            out[n.id] = "\(n.opType) \(n.displayName) \(n.outputs.joined(separator: ",")) "
                + n.annotations.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: ";")
                + " [\(n.provenance.description)]"
        }
        return out
    }

    func testUneditedLoadsWriteNoGraphsmithMetadata() throws {
        for name in ["transformer_like.onnx", "control_flow.onnx", "sparse_functions.onnx", "unknown_fields.onnx"] {
            let m = try ONNXReader.load(try TestPaths.fixture(name))
            let bytes = try ONNXWriter.serialize(m)
            XCTAssertNil(String(decoding: bytes, as: UTF8.self).range(of: GraphsmithMetadata.prefix), name)
        }
    }

    func testIDsAnnotationsAndProvenanceSurviveExportAndLoad() throws {
        var m = try ONNXReader.load(try TestPaths.fixture("control_flow.onnx"))
        var g = m.graph
        // Removing the first node breaks the id sequence: the node after it saves its id.
        let first = g.nodes[0].id
        try g.removeNode(first, allowDangling: true)
        let added = try g.addNode(Node(opType: "Identity", inputs: [g.outputs[0].name], outputs: ["persist_extra"]))
        try g.modifyNode(added) {
            $0.annotations = ["quantize": "int8", "note": "a, b = \"c\"", "device": "npu:0"]
            $0.provenance = Provenance(sources: [first, NodeID(3)], origin: "pass fuse-test")
        }
        // A node inside an If/Loop body keeps its annotation too.
        let body = try XCTUnwrap(NodeCatalog(g).bodies.first)
        let inner = try XCTUnwrap(body.graph.nodes.first?.id)
        try g.modifyBody(at: body.steps) { try $0.modifyNode(inner) { $0.annotations = ["fuse": "false"] } }
        m.graph = g

        let bytes = try ONNXWriter.serialize(m)
        // Only where the id sequence jumps: the node after the removed one (the added node,
        // last in file order with the next fresh id, follows the last body node).
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self).components(separatedBy: GraphsmithMetadata.idKey).count - 1, 1)
        let back = try ONNXReader.load(bytes: bytes, name: "edited")
        XCTAssertEqual(identities(back), identities(m))
        XCTAssertEqual(back, m, "the reloaded model differs")
        XCTAssertEqual(back.graph.node(added)?.annotations["note"], "a, b = \"c\"")
        XCTAssertEqual(back.graph.node(added)?.provenance, Provenance(sources: [first, NodeID(3)], origin: "pass fuse-test"))
        // Graphsmith's entries are not left in the node's own metadata.
        XCTAssertFalse(back.graph.allNodes().contains { $0.node.metadataProps.entries.contains { $0.key.hasPrefix("graphsmith.") } })
        // A second export is byte-identical, and new ids stay fresh model-wide.
        XCTAssertEqual(try ONNXWriter.serialize(back), bytes)
        var g2 = back.graph
        let fresh = try g2.addNode(Node(opType: "Identity", inputs: [g2.outputs[0].name], outputs: ["persist_more"]))
        XCTAssertNil(identities(back)[fresh], "new id \(fresh) collides with a restored one")
        XCTAssertGreaterThan(fresh, added)
    }

    /// A chain of Relu nodes r0...r6 with the given node metadata, written as a file.
    func chainFile(_ metadata: [Int: MetadataProps]) throws -> [UInt8] {
        let nodes = (0..<7).map { i in
            Node(opType: "Relu", name: "r\(i)", inputs: [i == 0 ? "x" : "v\(i - 1)"], outputs: ["v\(i)"],
                 metadataProps: metadata[i] ?? MetadataProps())
        }
        let t = ValueType.tensor(.float, TensorShape(static: [2]))
        let g = Graph(name: "chain", nodes: nodes, inputs: [ValueInfo(name: "x", type: t)], outputs: [ValueInfo(name: "v6", type: t)])
        return try ONNXWriter.serialize(Model(graph: g))
    }

    func testMalformedDuplicatedAndHugeSavedIDsFallBackToFreshOnes() throws {
        let bytes = try chainFile([
            0: ["graphsmith.id": "n7"],           // kept
            1: ["graphsmith.id": "bogus"],        // malformed → fresh (the next node follows n8)
            2: ["graphsmith.id": "n7"],           // taken → fresh
            3: ["graphsmith.id": "n99999999999"], // implausibly large → fresh
            6: ["graphsmith.id": "n5", "graphsmith.future": "kept"],
        ])
        let m = try ONNXReader.load(bytes: bytes, name: "malformed")
        let ids = Dictionary(uniqueKeysWithValues: m.graph.nodes.map { ($0.name, $0.id.rawValue) })
        XCTAssertEqual(ids["r0"], 7)
        // Nodes without a saved id follow the previous one: r3's wanted id was n8 (after r2's n7).
        XCTAssertEqual(ids["r4"], 9)
        XCTAssertEqual(ids["r5"], 10)
        XCTAssertEqual(ids["r6"], 5)
        // Fresh ids lie above every id in the model, in file order.
        XCTAssertEqual([ids["r1"], ids["r2"], ids["r3"]], [11, 12, 13])
        XCTAssertEqual(m.graph.nodes.first { $0.name == "r6" }?.metadataProps["graphsmith.future"], "kept")
        XCTAssertNil(m.graph.nodes.first { $0.name == "r1" }?.metadataProps["graphsmith.id"])
        var g = m.graph
        let fresh = try g.addNode(Node(opType: "Relu", inputs: ["v6"], outputs: ["v7"]))
        XCTAssertEqual(fresh.rawValue, 14)
    }

    func testSavedIDResolution() {
        let r = GraphsmithMetadata.resolveIDs(count: 3, claims: [(0, "n2"), (1, "n-1"), (2, " n2 ")])
        XCTAssertEqual(r.ids, [2, 3, 4])
        XCTAssertEqual(r.problems.count, 2)
        XCTAssertNil(GraphsmithMetadata.parseID("n"))
        XCTAssertNil(GraphsmithMetadata.parseID("12"))
        XCTAssertEqual(GraphsmithMetadata.parseID("n12"), 12)
    }
}
