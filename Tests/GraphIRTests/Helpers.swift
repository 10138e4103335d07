/// Test helpers: small graph builders and an index checker that recomputes producers/uses
/// from scratch and compares them with what the graph maintains incrementally.
import XCTest
@testable import GraphIR

func f32(_ dims: Int64...) -> ValueType { .tensor(.float, TensorShape(static: dims)) }

/// x -> Relu(a) -> Add(a, w) = b -> Sigmoid(b) = y
func makeChain() throws -> Graph {
    var g = Graph(name: "chain", inputs: [ValueInfo(name: "x", type: f32(2, 3))],
                  outputs: [ValueInfo(name: "y", type: f32(2, 3))],
                  initializers: [Tensor(name: "w", floats: [1, 2, 3, 4, 5, 6], dims: [2, 3])])
    try g.addNode(Node(opType: "Relu", name: "/enc/layer0/Relu", inputs: ["x"], outputs: ["a"]))
    try g.addNode(Node(opType: "Add", name: "/enc/layer0/Add", inputs: ["a", "w"], outputs: ["b"]))
    try g.addNode(Node(opType: "Sigmoid", name: "/head/Sigmoid", inputs: ["b"], outputs: ["y"]))
    return g
}

/// Asserts the incremental index equals one rebuilt from the node list.
func assertIndexExact(_ g: Graph, file: StaticString = #filePath, line: UInt = #line) {
    var expectedProducer: [String: ValueProducer] = [:]
    for t in g.initializers { expectedProducer[t.name] = .initializer }
    for (i, v) in g.inputs.enumerated() { expectedProducer[v.name] = .graphInput(index: i) }
    var expectedUses: [String: Set<ValueUse>] = [:]
    for n in g.nodes {
        for (k, o) in n.outputs.enumerated() where !o.isEmpty { expectedProducer[o] = .node(n.id, output: k) }
        for (i, name) in n.inputs.enumerated() where !name.isEmpty {
            expectedUses[name, default: []].insert(ValueUse(node: n.id, inputIndex: i))
        }
        for (attr, sg) in n.subgraphs {
            for r in sg.outerScopeReferences { expectedUses[r, default: []].insert(ValueUse(node: n.id, slot: .subgraph(attribute: attr))) }
        }
    }
    var names = Set(expectedProducer.keys).union(expectedUses.keys)
    names.formUnion(g.valueNames)
    for name in names {
        let want = expectedProducer[name] ?? (g.isSubgraph ? .outerScope : .none)
        XCTAssertEqual(g.producer(of: name), want, "producer of \(name)", file: file, line: line)
        XCTAssertEqual(Set(g.uses(of: name)), expectedUses[name] ?? [], "uses of \(name)", file: file, line: line)
    }
    // Order is topological.
    var seen = Set<String>(g.inputs.map(\.name) + g.initializers.map(\.name))
    for n in g.nodes {
        for i in n.inputs where !i.isEmpty && expectedProducer[i]?.nodeID != nil {
            XCTAssertTrue(seen.contains(i), "\(n.id) reads \(i) before it is produced", file: file, line: line)
        }
        for o in n.outputs { seen.insert(o) }
    }
    XCTAssertTrue(g.isTopologicallyOrdered(), file: file, line: line)
}
