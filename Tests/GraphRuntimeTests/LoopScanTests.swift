/// Loop and Scan keep their iteration memory between calls (`LoopScan.swift`): carried values
/// go into two sets of buffers used in turn, a Loop's scan outputs grow in a kept buffer and
/// Scan writes its scan outputs straight into its outputs. These tests hold the cases where
/// that can go wrong: a body that returns its inputs swapped or unchanged, trip counts that
/// change between runs, an unbounded trip count ended by the body's condition, reversed scan
/// directions, results kept by the caller across later runs, and a scan output whose shape
/// changes between iterations.
import GraphIR
import XCTest
@testable import GraphRuntime

final class LoopScanTests: XCTestCase {
    let opset = [OpsetImport(version: 17)]

    func scalar(_ name: String, _ type: ElementType) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(type, TensorShape(static: [])))
    }

    func int64(_ v: Int64) -> RuntimeTensor { RuntimeTensor(int64s: [v], shape: []) }

    /// (a, b) -> (b, a + b) each iteration, with a scanned: Fibonacci rows. The body returns its
    /// input b as its output a, so results must never be written into the buffers it reads
    /// (with one set of buffers, a's would be overwritten before the scanned a is copied).
    func fibonacciLoop() throws -> Interpreter {
        // The body's outputs name its inputs directly (no node): it hands back the very tensors
        // it was fed, b as the new a and a as the scanned value.
        let body = Graph(name: "body", nodes: [
            Node(opType: "Add", inputs: ["a_in", "b_in"], outputs: ["b_out"]),
        ], inputs: [scalar("i", .int64), scalar("cond_in", .bool),
                    ValueInfo(name: "a_in", type: .tensor(.float, TensorShape(static: [2]))),
                    ValueInfo(name: "b_in", type: .tensor(.float, TensorShape(static: [2])))],
           outputs: [ValueInfo(name: "cond_in"), ValueInfo(name: "b_in"), ValueInfo(name: "b_out"), ValueInfo(name: "a_in")])
        let loop = Node(opType: "Loop", inputs: ["m", "", "a0", "b0"], outputs: ["a", "b", "as"],
                        attributes: [Attribute("body", .graph(body))])
        let g = Graph(nodes: [loop],
                      inputs: [scalar("m", .int64), ValueInfo(name: "a0", type: .tensor(.float, TensorShape(static: [2]))),
                               ValueInfo(name: "b0", type: .tensor(.float, TensorShape(static: [2])))],
                      outputs: [ValueInfo(name: "a"), ValueInfo(name: "b"), ValueInfo(name: "as")])
        return try Interpreter(model: Model(graph: g, opsetImports: opset))
    }

    func testLoopCarriedValuesTheBodySwapsAcrossRunsOfDifferentLengths() throws {
        let interpreter = try fibonacciLoop()
        func expected(_ a0: [Float], _ b0: [Float], _ m: Int) -> (a: [Float], b: [Float], seen: [Float]) {
            var a = a0, b = b0, seen: [Float] = []
            for _ in 0..<m { seen += a; (a, b) = (b, zip(a, b).map { $0 + $1 }) }
            return (a, b, seen)
        }
        var kept: [(RunResult, (a: [Float], b: [Float], seen: [Float]))] = []
        for (m, a0, b0) in [(6, [1, 0.5], [1, 2]), (3, [2, -1], [0.25, 4]), (6, [1, 0.5], [1, 2]), (1, [3, 3], [5, 5])] as [(Int, [Float], [Float])] {
            let r = try interpreter.run(["m": int64(Int64(m)), "a0": t(a0, [2]), "b0": t(b0, [2])])
            let e = expected(a0, b0, m)
            XCTAssertEqual(r.outputs[0].tensor.floatValues(), e.a, "m=\(m)")
            XCTAssertEqual(r.outputs[1].tensor.floatValues(), e.b, "m=\(m)")
            XCTAssertEqual(r.outputs[2].tensor.shape, [m, 2])
            XCTAssertEqual(r.outputs[2].tensor.floatValues(), e.seen, "m=\(m)")
            kept.append((r, e))
        }
        // Results handed back are the caller's: later runs do not change them.
        for (r, e) in kept {
            XCTAssertEqual(r.outputs[0].tensor.floatValues(), e.a)
            XCTAssertEqual(r.outputs[2].tensor.floatValues(), e.seen)
        }
        // No iteration: the carried values come back as given, a scan output has no shape.
        XCTAssertThrowsError(try interpreter.run(["m": int64(0), "a0": t([1, 2], [2]), "b0": t([3, 4], [2])])) {
            XCTAssertTrue("\($0)".contains("no iterations"), "\($0)")
        }
    }

    /// Trip count Int64.max (ONNX's "no limit"), ended by the body's condition `i < 4`: five
    /// iterations, the iteration numbers scanned.
    func testAnUnboundedLoopEndsOnTheBodysCondition() throws {
        let body = Graph(name: "body", nodes: [
            Node(opType: "Less", inputs: ["i", "four"], outputs: ["cond_out"]),
            Node(opType: "Add", inputs: ["v_in", "one"], outputs: ["v_out"]),
            Node(opType: "Cast", inputs: ["i"], outputs: ["fi"], attributes: [Attribute("to", .int(1))]),
        ], inputs: [scalar("i", .int64), scalar("cond_in", .bool), ValueInfo(name: "v_in", type: .tensor(.float, TensorShape(static: [3])))],
           outputs: [ValueInfo(name: "cond_out"), ValueInfo(name: "v_out"), ValueInfo(name: "fi")],
           initializers: [Tensor(name: "four", int64s: [4], dims: []), Tensor(name: "one", floats: [1], dims: [1])])
        let loop = Node(opType: "Loop", inputs: ["m", "c", "v0"], outputs: ["v", "is"], attributes: [Attribute("body", .graph(body))])
        let g = Graph(nodes: [loop],
                      inputs: [scalar("m", .int64), scalar("c", .bool), ValueInfo(name: "v0", type: .tensor(.float, TensorShape(static: [3])))],
                      outputs: [ValueInfo(name: "v"), ValueInfo(name: "is")])
        let interpreter = try Interpreter(model: Model(graph: g, opsetImports: opset))
        let yes = RuntimeTensor(zeros: .bool, shape: [])
        yes.setDouble(1, at: 0)
        for _ in 0..<2 {
            let r = try interpreter.run(["m": int64(.max), "c": yes, "v0": t([0, 10, 20], [3])])
            XCTAssertEqual(r.outputs[0].tensor.floatValues(), [5, 15, 25])
            XCTAssertEqual(r.outputs[1].tensor.floatValues(), [0, 1, 2, 3, 4])
        }
        let r = try interpreter.run(["m": int64(2), "c": yes, "v0": t([0, 10, 20], [3])])
        XCTAssertEqual(r.outputs[1].tensor.floatValues(), [0, 1])
    }

    /// An endless Loop (trip count Int64.max, the body's condition always true) stops when
    /// the run is cancelled: the flag reaches every iteration. Before, the interrupt button
    /// could not stop it (cancellation was checked only between the outer graph's nodes).
    func testAnEndlessLoopStopsWhenTheRunIsCancelled() throws {
        let loop = Node(opType: "Loop", name: "forever", inputs: ["m", "", "v0"], outputs: ["v"],
                        attributes: [Attribute("body", .graph(countingBody()))])
        let g = Graph(nodes: [loop], inputs: [scalar("m", .int64), ValueInfo(name: "v0", type: .tensor(.float, TensorShape(static: [1])))],
                      outputs: [ValueInfo(name: "v")])
        assertStopsWhenCancelled(try Interpreter(model: Model(graph: g, opsetImports: opset)),
                                 ["m": int64(.max), "v0": t([0], [1])], node: "forever")
    }

    /// A Loop body that adds 1 to its carried value and never clears its condition.
    func countingBody() -> Graph {
        Graph(name: "body", nodes: [Node(opType: "Add", inputs: ["v_in", "one"], outputs: ["v_out"])],
              inputs: [scalar("i", .int64), scalar("cond_in", .bool), ValueInfo(name: "v_in", type: .tensor(.float, TensorShape(static: [1])))],
              outputs: [ValueInfo(name: "cond_in"), ValueInfo(name: "v_out")],
              initializers: [Tensor(name: "one", floats: [1], dims: [1])])
    }

    /// A SequenceMap hands the run's cancellation flag to its body: an endless Loop inside the
    /// mapped body stops when the run is interrupted (the body ran without the flag before).
    func testAnEndlessLoopInsideSequenceMapStopsWhenCancelled() throws {
        let mapBody = Graph(name: "map_body", nodes: [
            Node(opType: "Loop", name: "forever", inputs: ["m", "", "e"], outputs: ["r"], attributes: [Attribute("body", .graph(countingBody()))]),
        ], inputs: [ValueInfo(name: "e", type: .tensor(.float, TensorShape(static: [1])))], outputs: [ValueInfo(name: "r")])
        let g = Graph(nodes: [
            Node(opType: "SequenceConstruct", inputs: ["x", "x"], outputs: ["s"]),
            Node(opType: "SequenceMap", name: "map", inputs: ["s"], outputs: ["out"], attributes: [Attribute("body", .graph(mapBody))]),
        ], inputs: [scalar("m", .int64), ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [1])))],
           outputs: [ValueInfo(name: "out")])
        assertStopsWhenCancelled(try Interpreter(model: Model(graph: g, opsetImports: opset)),
                                 ["m": int64(.max), "x": t([0], [1])], node: "map")
    }

    /// A scan output must keep iteration 0's shape: here it grows, which is refused by name.
    func testALoopScanOutputThatChangesShapeIsRefused() throws {
        let body = Graph(name: "body", nodes: [
            Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
            Node(opType: "Concat", inputs: ["v_in", "v_in"], outputs: ["v_out"], attributes: [Attribute("axis", .int(0))]),
        ], inputs: [scalar("i", .int64), scalar("cond_in", .bool), ValueInfo(name: "v_in", type: .tensor(.float, nil))],
           outputs: [ValueInfo(name: "cond_out"), ValueInfo(name: "v_out"), ValueInfo(name: "v_out")])
        let loop = Node(opType: "Loop", inputs: ["m", "", "v0"], outputs: ["v", "vs"], attributes: [Attribute("body", .graph(body))])
        let g = Graph(nodes: [loop], inputs: [scalar("m", .int64), ValueInfo(name: "v0", type: .tensor(.float, TensorShape(static: [1])))],
                      outputs: [ValueInfo(name: "v"), ValueInfo(name: "vs")])
        let interpreter = try Interpreter(model: Model(graph: g, opsetImports: opset))
        XCTAssertThrowsError(try interpreter.run(["m": int64(3), "v0": t([1], [1])])) {
            XCTAssertTrue("\($0)".contains("scan output 0 changes"), "\($0)")
        }
        // One iteration has nothing to disagree with; the kernel is still usable afterwards.
        let r = try interpreter.run(["m": int64(1), "v0": t([1], [1])])
        XCTAssertEqual(r.outputs[0].tensor.floatValues(), [1, 1])
        XCTAssertEqual(r.outputs[1].tensor.shape, [1, 2])
    }

    /// Scan: state s accumulates x forwards, state k passes through unchanged; x is read
    /// forwards and y backwards; scan output 0 (the running sum) is written forwards and
    /// output 1 (x * y) backwards. Run with 4 steps, 3 steps, then 4 again.
    func testScanDirectionsPassThroughStateAndKeptResults() throws {
        let row = TensorShape(static: [2])
        let body = Graph(name: "body", nodes: [
            Node(opType: "Add", inputs: ["s_in", "x_t"], outputs: ["s_out"]),
            Node(opType: "Identity", inputs: ["k_in"], outputs: ["k_out"]),
            Node(opType: "Identity", inputs: ["s_out"], outputs: ["sum_t"]),
            Node(opType: "Mul", inputs: ["x_t", "y_t"], outputs: ["xy_t"]),
        ], inputs: [ValueInfo(name: "s_in", type: .tensor(.float, row)), ValueInfo(name: "k_in", type: .tensor(.float, row)),
                    ValueInfo(name: "x_t", type: .tensor(.float, row)), ValueInfo(name: "y_t", type: .tensor(.float, row))],
           outputs: [ValueInfo(name: "s_out"), ValueInfo(name: "k_out"), ValueInfo(name: "sum_t"), ValueInfo(name: "xy_t")])
        let scan = Node(opType: "Scan", inputs: ["s0", "k0", "x", "y"], outputs: ["s", "k", "sums", "xys"],
                        attributes: [Attribute("body", .graph(body)), Attribute("num_scan_inputs", .int(2)),
                                     Attribute("scan_input_directions", .ints([0, 1])), Attribute("scan_output_directions", .ints([0, 1]))])
        let g = Graph(nodes: [scan],
                      inputs: ["s0", "k0"].map { ValueInfo(name: $0, type: .tensor(.float, row)) }
                          + ["x", "y"].map { ValueInfo(name: $0, type: .tensor(.float, TensorShape([.symbolic("T"), .known(2)]))) },
                      outputs: ["s", "k", "sums", "xys"].map { ValueInfo(name: $0) })
        let interpreter = try Interpreter(model: Model(graph: g, opsetImports: opset))
        var kept: [(RunResult, [[Float]])] = []
        for (steps, seed) in [(4, 1), (3, 2), (4, 3)] as [(Int, UInt64)] {
            let x = noise(steps * 2, seed: seed), y = noise(steps * 2, seed: seed + 10)
            let s0: [Float] = [1, -1], k0: [Float] = [7, 8]
            var s = s0, sums: [Float] = [], xys = [Float](repeating: 0, count: steps * 2)
            for step in 0..<steps {
                let back = steps - 1 - step
                let xt = Array(x[step * 2..<step * 2 + 2]), yt = Array(y[back * 2..<back * 2 + 2])
                s = zip(s, xt).map { $0 + $1 }
                sums += s
                for c in 0..<2 { xys[back * 2 + c] = xt[c] * yt[c] }
            }
            let r = try interpreter.run(["s0": t(s0, [2]), "k0": t(k0, [2]), "x": t(x, [steps, 2]), "y": t(y, [steps, 2])])
            let want = [s, k0, sums, xys]
            for (o, w) in zip(r.outputs, want) { XCTAssertEqual(o.tensor.floatValues(), w, "steps=\(steps) \(o.name)") }
            XCTAssertEqual(r.outputs[3].tensor.shape, [steps, 2])
            kept.append((r, want))
        }
        for (r, want) in kept {
            for (o, w) in zip(r.outputs, want) { XCTAssertEqual(o.tensor.floatValues(), w) }
        }
    }
}
