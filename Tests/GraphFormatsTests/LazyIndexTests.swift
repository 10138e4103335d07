/// The reader's deferred graph index: a file whose nodes are already in topological order
/// loads into a graph that builds its producer/use index on first query. These tests hold
/// that graph to the eagerly built index of the same parts, before and after edits, from
/// several threads at once, and check that out-of-order files are still re-sorted.
import Dispatch
import Foundation
import XCTest
@testable import GraphFormats
@testable import GraphIR

final class LazyIndexTests: XCTestCase {
    /// A NodeProto with these inputs and outputs.
    private func node(_ op: String, _ inputs: [String], _ outputs: [String]) -> ProtoBuffer {
        var n = ProtoBuffer()
        for i in inputs { n.stringField(1, i) }
        for o in outputs { n.stringField(2, o) }
        n.stringField(4, op)
        return n
    }

    /// A model: graph input `x`, initializer `w` (float [1]), output `y`, the given nodes in
    /// file order.
    private func model(_ nodes: [ProtoBuffer], outputs: [String] = ["y"]) throws -> Model {
        var graph = ProtoBuffer()
        for n in nodes { graph.messageField(1, n) }
        graph.stringField(2, "g")
        var w = ProtoBuffer()
        w.int64Field(1, 1)
        w.varintField(2, 1)  // FLOAT
        w.stringField(8, "w")
        w.stringField(9, "\0\0\0\0")  // raw_data: one float 0
        graph.messageField(5, w)
        var x = ProtoBuffer()
        x.stringField(1, "x")
        graph.messageField(11, x)
        for o in outputs {
            var v = ProtoBuffer()
            v.stringField(1, o)
            graph.messageField(12, v)
        }
        var m = ProtoBuffer()
        m.int64Field(1, 9)
        m.messageField(7, graph)
        return try ONNXReader.load(bytes: m.bytes)
    }

    /// The same parts indexed eagerly by the public initializer.
    private func eager(_ g: Graph) -> Graph {
        Graph(name: g.name, nodes: g.nodes, inputs: g.inputs, outputs: g.outputs, initializers: g.initializers,
              sparseInitializers: g.sparseInitializers, valueInfo: g.valueInfo, isSubgraph: g.isSubgraph)
    }

    /// Every query answer of `g` equals that of `ref`.
    private func assertSameIndex(_ g: Graph, _ ref: Graph, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(g.nodes, ref.nodes, file: file, line: line)
        XCTAssertEqual(g.valueNames, ref.valueNames, file: file, line: line)
        XCTAssertEqual(g.outerScopeReferences, ref.outerScopeReferences, file: file, line: line)
        for name in ref.valueNames + ["never-mentioned"] {
            XCTAssertEqual(g.producer(of: name), ref.producer(of: name), "producer of \(name)", file: file, line: line)
            XCTAssertEqual(g.uses(of: name), ref.uses(of: name), "uses of \(name)", file: file, line: line)
            XCTAssertEqual(g.value(named: name), ref.value(named: name), "value \(name)", file: file, line: line)
        }
        for n in ref.nodes {
            XCTAssertEqual(g.position(of: n.id), ref.position(of: n.id), file: file, line: line)
            XCTAssertEqual(g.successors(of: n.id), ref.successors(of: n.id), file: file, line: line)
            XCTAssertEqual(g.predecessors(of: n.id), ref.predecessors(of: n.id), file: file, line: line)
        }
    }

    private func orderedNodes() -> [ProtoBuffer] {
        [node("Add", ["x", "w"], ["a"]),
         node("Relu", ["a"], ["b"]),
         node("Sum", ["a", "b", "", "outer"], ["y", ""]),
         node("Neg", ["a"], ["unused"])]
    }

    func testInOrderFileDefersIndexAndAnswersLikeEagerIndex() throws {
        let g = try model(orderedNodes()).graph
        XCTAssertFalse(g.storage.isIndexed, "an in-order file should load without building the index")
        let ref = eager(g)
        XCTAssertTrue(ref.storage.isIndexed)
        assertSameIndex(g, ref)
        XCTAssertTrue(g.storage.isIndexed)
        XCTAssertEqual(g.producer(of: "outer"), ValueProducer.none)
        XCTAssertEqual(g.uses(of: "a").map(\.node), [g.nodes[1].id, g.nodes[2].id, g.nodes[3].id])
        XCTAssertTrue(g.validate().contains { "\($0)".contains("outer") })
    }

    func testOutOfOrderFileIsSortedAsBefore() throws {
        // Relu reads `a` before Add defines it; a node reading its own output is no order either.
        let g = try model([node("Relu", ["a"], ["b"]), node("Add", ["x", "w"], ["a"]), node("Sum", ["a", "b"], ["y"])]).graph
        XCTAssertEqual(g.nodes.map(\.opType), ["Add", "Relu", "Sum"])
        assertSameIndex(g, eager(g))
        let selfLoop = try model([node("Add", ["x", "s"], ["s"]), node("Relu", ["s"], ["y"])]).graph
        XCTAssertTrue(selfLoop.storage.isIndexed, "a node reading its own output must take the checked path")
        XCTAssertEqual(selfLoop.validate().isEmpty, eager(selfLoop).validate().isEmpty)
    }

    func testEditsOnLoadedGraphKeepIndexExact() throws {
        let loaded = try model(orderedNodes()).graph
        var g = loaded
        let id = try g.addNode(Node(opType: "Exp", inputs: ["b"], outputs: ["e"]))
        assertSameIndex(g, eager(g))
        try g.setInput(of: id, at: 0, to: "a")
        assertSameIndex(g, eager(g))
        try g.modifyNode(g.nodes[1].id) { $0.inputs = ["x"] }
        assertSameIndex(g, eager(g))
        try g.replaceAllUses(of: "a", with: "x")
        assertSameIndex(g, eager(g))
        try g.removeNode(id)
        assertSameIndex(g, eager(g))
        // The shared original is untouched by the edits of its copy.
        XCTAssertEqual(loaded.nodes.count, 4)
        assertSameIndex(loaded, eager(loaded))
        // An edit as the very first operation on a fresh load.
        var h = try model(orderedNodes()).graph
        try h.removeNode(h.nodes[3].id)
        assertSameIndex(h, eager(h))
        XCTAssertEqual(h.uses(of: "a").count, 2)
    }

    func testConcurrentFirstQueriesAgree() throws {
        for _ in 0..<20 {
            let g = try model(orderedNodes()).graph
            let ref = eager(g)
            let want = ref.uses(of: "a")
            let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
            defer { results.deallocate() }
            results.initialize(repeating: false)
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                results[i] = g.uses(of: "a") == want && g.producer(of: "y") == ref.producer(of: "y")
            }
            XCTAssertTrue(results.allSatisfy { $0 })
        }
    }

    func testSavedBytesOfLazyGraphUnchanged() throws {
        var graph = ProtoBuffer()
        for n in orderedNodes() { graph.messageField(1, n) }
        var m = ProtoBuffer()
        m.int64Field(1, 9)
        m.messageField(7, graph)
        let loaded = try ONNXReader.load(bytes: m.bytes)
        XCTAssertEqual(try ONNXWriter.serialize(loaded), m.bytes)
        XCTAssertFalse(loaded.graph.storage.isIndexed, "saving needs no index")
    }
}
