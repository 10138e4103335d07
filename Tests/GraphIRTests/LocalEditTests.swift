import XCTest
@testable import GraphIR

/// Edits update the index locally (outer references for the touched names, order checked at the
/// edited node only): after any sequence of random edits the graph must equal what a full
/// re-index computes, stay topologically ordered, and a refused edit must change nothing.
final class LocalEditTests: XCTestCase {
    func testRandomEditsKeepIndexExact() throws {
        var rng = SystemRandomNumberGenerator()
        var g = Graph(name: "g", inputs: [ValueInfo(name: "x")], outputs: [ValueInfo(name: "v0")])
        try g.addNode(Node(opType: "Relu", inputs: ["x"], outputs: ["v0"]))
        var counter = 1
        for step in 0..<400 {
            let before = g
            let nodes = g.nodes
            let values = ["x", "outer_a", "outer_b"] + nodes.flatMap { $0.outputs.array }
            do {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0:
                    let ins = (0..<Int.random(in: 1...2, using: &rng)).map { _ in values.randomElement(using: &rng)! }
                    try g.addNode(Node(opType: "Add", inputs: ins, outputs: ["v\(counter)"]))
                    counter += 1
                case 1:
                    if let n = nodes.randomElement(using: &rng) { try g.removeNode(n.id, allowDangling: Bool.random(using: &rng)) }
                case 2:
                    if let n = nodes.randomElement(using: &rng) {
                        try g.setInput(of: n.id, at: Int.random(in: 0..<n.inputs.count, using: &rng), to: values.randomElement(using: &rng)!)
                    }
                case 3:
                    if let a = values.randomElement(using: &rng), let b = values.randomElement(using: &rng) {
                        try g.replaceAllUses(of: a, with: b)
                    }
                default:
                    // A new consumer of a value produced later: forces a re-sort (or a cycle).
                    if let n = nodes.randomElement(using: &rng), let o = n.outputs.first {
                        try g.addNode(Node(opType: "Neg", inputs: [o], outputs: ["w\(counter)"]))
                        counter += 1
                    }
                }
            } catch {
                XCTAssertEqual(g, before, "step \(step): a refused edit (\(error)) changed the graph")
                XCTAssertEqual(g.outerScopeReferences, before.outerScopeReferences)
            }
            XCTAssertTrue(g.isTopologicallyOrdered(), "step \(step)")
            var full = g
            full.makeUnique()
            full.reindex()
            full.recomputeOuterReferences()
            XCTAssertEqual(g.outerScopeReferences, full.outerScopeReferences, "step \(step)")
            for v in values { XCTAssertEqual(Set(g.uses(of: v)), Set(full.uses(of: v)), "uses of \(v) at step \(step)") }
        }
    }
}

/// setInitializer/removeInitializer update the index in place when they can: after random
/// additions, replacements and removals every name's initializer, producer and uses must be
/// what a full re-index computes.
final class InitializerEditTests: XCTestCase {
    func testRandomInitializerEditsKeepIndexExact() throws {
        var rng = SystemRandomNumberGenerator()
        var g = Graph(name: "g", inputs: [ValueInfo(name: "x"), ValueInfo(name: "w_in")], outputs: [ValueInfo(name: "y")])
        try g.addNode(Node(opType: "Add", inputs: ["x", "w0"], outputs: ["y"]))
        let names = (0..<12).map { "w\($0)" } + ["w_in", "y"]
        for step in 0..<400 {
            let name = names.randomElement(using: &rng) ?? "w0"
            do {
                if Bool.random(using: &rng) {
                    try g.setInitializer(Tensor(name: name, floats: [Float(step)], dims: [1]))
                } else {
                    try g.removeInitializer(named: name, allowDangling: Bool.random(using: &rng))
                }
            } catch {}
            var full = g
            full.makeUnique()
            full.reindex()
            full.recomputeOuterReferences()
            for v in names + ["x"] {
                XCTAssertEqual(g.initializer(named: v), full.initializer(named: v), "initializer \(v) at step \(step)")
                XCTAssertEqual(g.producer(of: v), full.producer(of: v), "producer of \(v) at step \(step)")
                XCTAssertEqual(Set(g.uses(of: v)), Set(full.uses(of: v)), "uses of \(v) at step \(step)")
            }
            XCTAssertEqual(g.outerScopeReferences, full.outerScopeReferences, "step \(step)")
        }
    }
}

/// addInput/removeInput, mixed with initializer edits (an IR-3 model lists each initializer as
/// an input too, and passes add and drop both), keep the index exact: producers, input
/// positions, initializer positions, declared types, uses and outer references all equal what a
/// full re-index computes.
final class InputEditTests: XCTestCase {
    func testRandomInputAndInitializerEditsKeepIndexExact() throws {
        var rng = SystemRandomNumberGenerator()
        var g = Graph(name: "g", inputs: [ValueInfo(name: "x", type: f32(1)), ValueInfo(name: "w1", type: f32(1))],
                      outputs: [ValueInfo(name: "y"), ValueInfo(name: "w2", type: f32(2))],
                      valueInfo: [ValueInfo(name: "w3", type: f32(3))])
        try g.addNode(Node(opType: "Add", inputs: ["x", "w0"], outputs: ["y"]))
        try g.addNode(Node(opType: "Mul", inputs: ["w1", "w2"], outputs: ["z"]))
        let names = (0..<8).map { "w\($0)" } + ["x"]
        for step in 0..<600 {
            let name = names.randomElement(using: &rng) ?? "w0"
            do {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: try g.setInitializer(Tensor(name: name, floats: [Float(step)], dims: [1]))
                case 1: try g.removeInitializer(named: name, allowDangling: true)
                case 2: try g.addInput(ValueInfo(name: name, type: Bool.random(using: &rng) ? f32(Int64(step % 5 + 1)) : nil))
                default: g.removeInput(named: name)
                }
            } catch {}
            var full = g
            full.makeUnique()
            full.reindex()
            full.recomputeOuterReferences()
            for v in names + ["y", "z"] {
                XCTAssertEqual(g.initializer(named: v).flatMap { try? $0.floatValues() }, full.initializer(named: v).flatMap { try? $0.floatValues() },
                               "initializer \(v) at step \(step)")
                XCTAssertEqual(g.producer(of: v), full.producer(of: v), "producer of \(v) at step \(step)")
                XCTAssertEqual(g.type(of: v), full.type(of: v), "type of \(v) at step \(step)")
                XCTAssertEqual(Set(g.uses(of: v)), Set(full.uses(of: v)), "uses of \(v) at step \(step)")
            }
            XCTAssertEqual(g.outerScopeReferences, full.outerScopeReferences, "step \(step)")
            XCTAssertEqual(g.initializers.map(\.name).count, full.initializers.count)
        }
    }
}
