/// RNN, GRU and LSTM: the float32 path (one sgemm for every step's X W^T, one or two per step
/// for H R^T, gates over rows) against the Double path the same graph takes with float64
/// inputs, over the configurations the spec allows (directions, layouts, biases, initial
/// states, sequence_lens, peepholes, input_forget, linear_before_reset, clip, activation lists
/// with alpha/beta); and bad optional inputs rejected with a clear error on both paths.
import GraphIR
import XCTest
@testable import GraphRuntime

final class RecurrentTests: XCTestCase {
    /// One recurrent node's configuration.
    struct Config: CustomStringConvertible {
        var op = "LSTM"
        var direction = "forward"
        var layout = 0
        var seq = 5, batch = 3, input = 7, hidden = 6
        var bias = true, initial = true, peephole = false
        var lens: [Int64]? = nil
        var attributes: [Attribute] = []
        var description: String {
            "\(op) \(direction) layout \(layout) lens \(lens.map { "\($0)" } ?? "-") peephole \(peephole) "
                + attributes.map(\.name).joined(separator: ",")
        }
        var dirs: Int { direction == "bidirectional" ? 2 : 1 }
        var gates: Int { op == "LSTM" ? 4 : (op == "GRU" ? 3 : 1) }
    }

    /// Runs `config` with inputs of `type` (the same values), returning every output as Doubles.
    func run(_ config: Config, _ type: ElementType) throws -> [[Double]] {
        let c = config, g = c.gates * c.hidden
        let xShape = c.layout == 0 ? [c.seq, c.batch, c.input] : [c.batch, c.seq, c.input]
        let stShape = c.layout == 0 ? [c.dirs, c.batch, c.hidden] : [c.batch, c.dirs, c.hidden]
        var shapes: [(String, [Int])] = [("x", xShape), ("w", [c.dirs, g, c.input]), ("r", [c.dirs, g, c.hidden])]
        if c.bias { shapes.append(("b", [c.dirs, 2 * g])) }
        if c.initial { shapes.append(("h0", stShape)) }
        if c.initial && c.op == "LSTM" { shapes.append(("c0", stShape)) }
        if c.peephole { shapes.append(("p", [c.dirs, 3 * c.hidden])) }
        let names = shapes.map(\.0)
        var inputNames = ["x", "w", "r", names.contains("b") ? "b" : "", c.lens == nil ? "" : "lens",
                          names.contains("h0") ? "h0" : ""]
        if c.op == "LSTM" { inputNames += [names.contains("c0") ? "c0" : "", c.peephole ? "p" : ""] }
        while inputNames.last == "" { inputNames.removeLast() }
        var infos = shapes.map { ValueInfo(name: $0.0, type: .tensor(type, TensorShape(static: $0.1.map(Int64.init)))) }
        if let lens = c.lens { infos.append(ValueInfo(name: "lens", type: .tensor(.int32, TensorShape(static: [Int64(lens.count)])))) }
        let outputs = c.op == "LSTM" ? ["y", "yh", "yc"] : ["y", "yh"]
        let node = Node(opType: c.op, inputs: inputNames, outputs: outputs,
                        attributes: [Attribute("hidden_size", .int(Int64(c.hidden))),
                                     Attribute("direction", .string(Array(c.direction.utf8))),
                                     Attribute("layout", .int(Int64(c.layout)))] + c.attributes)
        let m = Model(graph: Graph(nodes: [node], inputs: infos, outputs: outputs.map { ValueInfo(name: $0) }),
                      opsetImports: [OpsetImport(version: 14)])
        var feeds: [String: RuntimeTensor] = [:]
        for (k, (name, shape)) in shapes.enumerated() {
            let t = RuntimeTensor(zeros: type, shape: shape)
            for (j, v) in noise(shape.reduce(1, *), seed: UInt64(60 + k)).enumerated() { t.setDouble(Double(v * 1.5), at: j) }
            feeds[name] = t
        }
        if let lens = c.lens {
            let t = RuntimeTensor(zeros: .int32, shape: [lens.count])
            for (j, v) in lens.enumerated() { t.setDouble(Double(v), at: j) }
            feeds["lens"] = t
        }
        return try Interpreter(model: m).run(feeds).outputs.map { o in (0..<o.tensor.count).map { o.tensor.double(at: $0) } }
    }

    func assertFloatPathAgrees(_ c: Config, tolerance: Double = 2e-5, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try run(c, .float), d = try run(c, .double)
        XCTAssertEqual(f.count, d.count, "\(c)", file: file, line: line)
        // The float32 run took the float path: the Double path would give exactly the float64
        // results rounded to float32.
        XCTAssertTrue(zip(f, d).contains { a, b in zip(a, b).contains { Float($0) != Float($1) } },
                      "\(c): float32 took the Double path", file: file, line: line)
        for (k, (a, b)) in zip(f, d).enumerated() {
            XCTAssertEqual(a.count, b.count, "\(c) output \(k)", file: file, line: line)
            let err = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(err, tolerance, "\(c) output \(k)", file: file, line: line)
            XCTAssertTrue(a.contains { $0 != 0 }, "\(c) output \(k) is all zero", file: file, line: line)
        }
    }

    /// Every cell in every direction and layout, with and without biases and initial states,
    /// and a batch too large for the register-tile recurrence.
    func testEveryCellDirectionAndLayout() throws {
        for op in ["RNN", "GRU", "LSTM"] {
            for (direction, layout) in [("forward", 0), ("reverse", 1), ("bidirectional", 0), ("bidirectional", 1)] {
                for (bias, initial) in [(true, true), (false, false)] {
                    try assertFloatPathAgrees(Config(op: op, direction: direction, layout: layout, bias: bias, initial: initial))
                }
            }
            // A batch past the register-tile kernel's 64 rows: the recurrence through sgemm on R.
            try assertFloatPathAgrees(Config(op: op, direction: "bidirectional", seq: 3, batch: 70, input: 5, hidden: 4,
                                             lens: (0..<70).map { Int64($0 % 4) }))
        }
    }

    /// GRU's candidate both ways: reset gate applied before R_h (default) and after it
    /// (linear_before_reset, where Rb_h is scaled by the gate too).
    func testGRULinearBeforeReset() throws {
        for lbr in [0, 1] {
            for direction in ["forward", "bidirectional"] {
                try assertFloatPathAgrees(Config(op: "GRU", direction: direction,
                                                 attributes: [Attribute("linear_before_reset", .int(Int64(lbr)))]))
            }
        }
    }

    /// Shorter sequences: rows stop updating at their length (their Y entries stay zero,
    /// their final state is the last valid step's), reverse runs start at each row's end;
    /// a zero length keeps the initial state.
    func testSequenceLengths() throws {
        for op in ["RNN", "GRU", "LSTM"] {
            for (direction, layout) in [("forward", 0), ("reverse", 0), ("bidirectional", 1)] {
                try assertFloatPathAgrees(Config(op: op, direction: direction, layout: layout, lens: [5, 2, 0]))
                try assertFloatPathAgrees(Config(op: op, direction: direction, layout: layout, lens: [3, 3, 3]))
            }
        }
        // Y past a row's length is zero on the float path.
        let y = try run(Config(op: "GRU", lens: [5, 2, 0]), .float)[0]
        let hidden = 6, batch = 3
        for t in 0..<5 {
            for n in 0..<batch where t >= [5, 2, 0][n] {
                XCTAssertEqual(Array(y[((t * batch) + n) * hidden..<((t * batch) + n + 1) * hidden]), Array(repeating: 0, count: hidden))
            }
        }
    }

    /// LSTM peepholes, input_forget and clip, alone and together.
    func testLSTMPeepholesInputForgetAndClip() throws {
        try assertFloatPathAgrees(Config(peephole: true))
        try assertFloatPathAgrees(Config(direction: "bidirectional", peephole: true, lens: [4, 1, 5]))
        try assertFloatPathAgrees(Config(attributes: [Attribute("input_forget", .int(1))]))
        try assertFloatPathAgrees(Config(attributes: [Attribute("clip", .float(0.3))]))
        try assertFloatPathAgrees(Config(direction: "reverse", peephole: true,
                                         attributes: [Attribute("clip", .float(0.5)), Attribute("input_forget", .int(1))]))
    }

    /// Activation lists other than the defaults, with alpha/beta, different per direction.
    func testActivationLists() throws {
        func acts(_ names: [String], alpha: [Float] = [], beta: [Float] = []) -> [Attribute] {
            var a = [Attribute("activations", .strings(names.map { Array($0.utf8) }))]
            if !alpha.isEmpty { a.append(Attribute("activation_alpha", .floats(alpha))) }
            if !beta.isEmpty { a.append(Attribute("activation_beta", .floats(beta))) }
            return a
        }
        try assertFloatPathAgrees(Config(op: "RNN", attributes: acts(["Relu"])))
        try assertFloatPathAgrees(Config(op: "RNN", direction: "bidirectional",
                                         attributes: acts(["LeakyRelu", "ScaledTanh"], alpha: [0.1, 0.8], beta: [0, 1.3])))
        try assertFloatPathAgrees(Config(op: "GRU", attributes: acts(["HardSigmoid", "Softsign"], alpha: [0.3], beta: [0.4])))
        try assertFloatPathAgrees(Config(op: "GRU", direction: "bidirectional",
                                         attributes: acts(["Sigmoid", "Elu", "HardSigmoid", "Softplus"], alpha: [0, 0.9, 0.25], beta: [0, 0, 0.45])))
        try assertFloatPathAgrees(Config(op: "LSTM", attributes: acts(["Sigmoid", "Affine", "ThresholdedRelu"], alpha: [0, 0.7, 0.1], beta: [0, 0.2])))
    }

    /// Bad optional inputs are errors naming the input on both element types, never a read
    /// past a buffer or a crash: sequence lengths out of range or of the wrong count, a bias
    /// or peephole of the wrong size.
    func testBadOptionalInputsAreClearErrors() throws {
        for type in [ElementType.float, .double] {
            for lens in [[5, -1, 2], [6, 1, 1], [2, 2]] as [[Int64]] {
                XCTAssertThrowsError(try run(Config(op: "GRU", lens: lens), type), "\(type) \(lens)") { error in
                    XCTAssertTrue("\(error)".contains("sequence_lens"), "\(error)")
                }
            }
        }
        // A bias of the wrong size: built by hand (the helper sizes inputs correctly).
        for type in [ElementType.float, .double] {
            let node = Node(opType: "RNN", inputs: ["x", "w", "r", "b"], outputs: ["y"],
                            attributes: [Attribute("hidden_size", .int(4))])
            let shapes: [(String, [Int])] = [("x", [2, 1, 3]), ("w", [1, 4, 3]), ("r", [1, 4, 4]), ("b", [1, 5])]
            let m = Model(graph: Graph(nodes: [node], inputs: shapes.map { ValueInfo(name: $0.0, type: .tensor(type, TensorShape(static: $0.1.map(Int64.init)))) },
                                       outputs: [ValueInfo(name: "y")]), opsetImports: [OpsetImport(version: 14)])
            var feeds: [String: RuntimeTensor] = [:]
            for (name, shape) in shapes { feeds[name] = RuntimeTensor(zeros: type, shape: shape) }
            XCTAssertThrowsError(try Interpreter(model: m).run(feeds)) { error in
                XCTAssertTrue("\(error)".contains("B has 5 elements"), "\(error)")
            }
        }
    }
}
