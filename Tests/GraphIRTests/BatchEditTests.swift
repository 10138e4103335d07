import XCTest
@testable import GraphIR

/// The batch edits (`removeNodes`, `removeInitializers`) are shortcuts for removing one by one:
/// on random graphs and random selections they must give the same graph (node order, index,
/// declarations, outer references) as the one-by-one edits, refuse exactly when those refuse,
/// and leave an index equal to a full re-index. Declarations (`setValueInfo`/`removeValueInfo`)
/// and the plain-input path of `replaceAllUses` update the index in place: checked the same way.
final class BatchEditTests: XCTestCase {
    /// A random DAG: `count` nodes reading earlier values, graph inputs, initializers and one
    /// outer name, with a few graph outputs and value_info declarations.
    func randomGraph(_ count: Int, _ rng: inout SystemRandomNumberGenerator) throws -> Graph {
        var g = Graph(name: "g", inputs: [ValueInfo(name: "x", type: f32(4))], outputs: [])
        for k in 0..<6 { try g.setInitializer(Tensor(name: "w\(k)", floats: [Float(k)], dims: [1])) }
        var values = ["x", "w0", "w1", "w2", "w3", "w4", "w5", "outer"]
        for i in 0..<count {
            let ins = (0..<Int.random(in: 1...3, using: &rng)).map { _ in values.randomElement(using: &rng)! }
            let outs = (0..<Int.random(in: 1...2, using: &rng)).map { "v\(i)_\($0)" }
            try g.addNode(Node(opType: "Add", inputs: ins, outputs: outs))
            values += outs
        }
        let produced = g.nodes.flatMap { $0.outputs.array }
        g.setOutputs(produced.shuffled(using: &rng).prefix(3).map { ValueInfo(name: $0, type: f32(4)) })
        for v in produced.shuffled(using: &rng).prefix(6) { g.setValueInfo(ValueInfo(name: v, type: f32(2))) }
        return g
    }

    func names(_ g: Graph) -> [String] {
        ["x", "outer"] + (0..<8).map { "w\($0)" } + g.nodes.flatMap { $0.outputs.array } + g.valueInfo.map(\.name)
    }

    func assertSame(_ a: Graph, _ b: Graph, _ names: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.nodes.map(\.id), b.nodes.map(\.id), what, file: file, line: line)
        XCTAssertEqual(a.initializers.map(\.name), b.initializers.map(\.name), what, file: file, line: line)
        XCTAssertEqual(a.valueInfo.map(\.name), b.valueInfo.map(\.name), what, file: file, line: line)
        XCTAssertEqual(a.outerScopeReferences, b.outerScopeReferences, what, file: file, line: line)
        for n in a.nodes { XCTAssertEqual(a.position(of: n.id), b.position(of: n.id), "\(what): position of \(n.id)", file: file, line: line) }
        for v in names {
            XCTAssertEqual(a.producer(of: v), b.producer(of: v), "\(what): producer of \(v)", file: file, line: line)
            XCTAssertEqual(a.type(of: v), b.type(of: v), "\(what): type of \(v)", file: file, line: line)
            XCTAssertEqual(Set(a.uses(of: v)), Set(b.uses(of: v)), "\(what): uses of \(v)", file: file, line: line)
            XCTAssertEqual(a.initializer(named: v)?.name, b.initializer(named: v)?.name, "\(what): initializer \(v)", file: file, line: line)
        }
    }

    func reindexed(_ g: Graph) -> Graph {
        var full = g
        full.makeUnique()
        full.reindex()
        full.recomputeOuterReferences()
        return full
    }

    func testBatchNodeRemovalEqualsOneByOne() throws {
        var rng = SystemRandomNumberGenerator()
        var refusals = 0, batches = 0
        for round in 0..<60 {
            let g = try randomGraph(Int.random(in: 5...40, using: &rng), &rng)
            let all = names(g)
            for trial in 0..<8 {
                var pick = Array(g.nodes.map(\.id).shuffled(using: &rng).prefix(Int.random(in: 1...12, using: &rng)))
                if trial == 7, let first = pick.first { pick.append(first) }  // a repeated id: refused both ways
                let dangling = Bool.random(using: &rng)
                var one = g, batch = g
                var oneError: Error?, batchError: Error?
                do { for id in pick { try one.removeNode(id, allowDangling: dangling) } } catch { oneError = error }
                do { try batch.removeNodes(pick, allowDangling: dangling) } catch { batchError = error }
                let what = "round \(round) trial \(trial) removing \(pick) dangling=\(dangling)"
                XCTAssertEqual(oneError == nil, batchError == nil, "\(what): one by one \(String(describing: oneError)), batch \(String(describing: batchError))")
                if batchError != nil {
                    refusals += 1
                    assertSame(batch, g, all, "\(what): a refused batch changed the graph")
                    continue
                }
                batches += 1
                assertSame(batch, one, all, what)
                assertSame(batch, reindexed(batch), all, "\(what) vs a full re-index")
                XCTAssertTrue(batch.isTopologicallyOrdered(), what)
            }
        }
        // Both outcomes were exercised.
        XCTAssertGreaterThan(refusals, 10)
        XCTAssertGreaterThan(batches, 100)
    }

    func testBatchInitializerRemovalEqualsOneByOne() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var g = try randomGraph(Int.random(in: 3...12, using: &rng), &rng)
            // Some initializers also listed as inputs (IR 3), some unread, one shared name.
            if Bool.random(using: &rng) { try g.addInput(ValueInfo(name: "w1", type: f32(1))) }
            try g.setInitializer(Tensor(name: "w6", floats: [6], dims: [1]))
            try g.setInitializer(Tensor(name: "w7", floats: [7], dims: [1]))
            let pick = Array(g.initializers.map(\.name).shuffled(using: &rng).prefix(Int.random(in: 2...6, using: &rng)))
            let dangling = Bool.random(using: &rng)
            var one = g, batch = g
            var oneError: Error?, batchError: Error?
            do { for name in pick { try one.removeInitializer(named: name, allowDangling: dangling) } } catch { oneError = error }
            do { try batch.removeInitializers(named: pick, allowDangling: dangling) } catch { batchError = error }
            let what = "round \(round) removing \(pick) dangling=\(dangling)"
            XCTAssertEqual(oneError == nil, batchError == nil, what)
            guard batchError == nil else { continue }
            assertSame(batch, one, names(g), what)
            assertSame(batch, reindexed(batch), names(g), "\(what) vs a full re-index")
        }
    }

    func testBatchInputRemovalEqualsOneByOne() throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var g = try randomGraph(Int.random(in: 3...12, using: &rng), &rng)
            // IR 3: every initializer is also an input (some typed, some not); x stays a plain input.
            for t in g.initializers.shuffled(using: &rng) {
                try g.addInput(ValueInfo(name: t.name, type: Bool.random(using: &rng) ? f32(1) : nil))
            }
            var pick = Array(g.inputs.map(\.name).shuffled(using: &rng).prefix(Int.random(in: 2...7, using: &rng)))
            if round % 10 == 0 { pick.append("nothing") }  // not an input: ignored both ways
            var one = g, batch = g
            for name in pick { one.removeInput(named: name) }
            batch.removeInputs(named: pick)
            let what = "round \(round) removing \(pick)"
            XCTAssertEqual(batch.inputs.map(\.name), one.inputs.map(\.name), what)
            assertSame(batch, one, names(g), what)
            assertSame(batch, reindexed(batch), names(g), "\(what) vs a full re-index")
        }
    }

    func testDeclarationAndRewiringEditsKeepIndexExact() throws {
        var rng = SystemRandomNumberGenerator()
        var g = try randomGraph(30, &rng)
        for step in 0..<300 {
            let all = names(g)
            let v = all.randomElement(using: &rng)!
            do {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: g.setValueInfo(ValueInfo(name: v, type: Bool.random(using: &rng) ? f32(Int64(step % 7 + 1)) : nil))
                case 1: g.removeValueInfo(named: v)
                default: try g.replaceAllUses(of: v, with: all.randomElement(using: &rng)!, includingGraphOutputs: Bool.random(using: &rng))
                }
            } catch {}
            XCTAssertTrue(g.isTopologicallyOrdered(), "step \(step)")
            assertSame(g, reindexed(g), all, "step \(step)")
        }
    }
}
