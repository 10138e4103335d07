/// Control-flow bodies: outer-scope values that are constants of the enclosing plan enter a
/// body as constants, so what a body computes from them alone is folded once per plan, while
/// computed outer values are still fed on every run.
import GraphIR
import XCTest
@testable import GraphRuntime

final class ControlFlowTests: XCTestCase {
    /// then: Concat(Slice(W, 1..<3), Slice(W, 1..<3)) * x; else: x. W is an initializer of the
    /// enclosing graph, x a graph input.
    func ifModel(weights w: [Float]) -> Model {
        func ints(_ name: String, _ v: [Int64]) -> Node {
            Node(opType: "Constant", outputs: [name],
                 attributes: [Attribute("value", .tensor(Tensor(elementType: .int64, dims: [Int64(v.count)],
                                                                data: .raw(ByteSlice(copying: v.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })))))])
        }
        let thenBranch = Graph(name: "then", nodes: [
            ints("s", [1]), ints("e", [3]), ints("a", [0]),
            Node(opType: "Slice", inputs: ["W", "s", "e", "a"], outputs: ["ws"]),
            Node(opType: "Concat", inputs: ["ws", "ws"], outputs: ["wc"], attributes: [Attribute("axis", .int(0))]),
            Node(opType: "Mul", inputs: ["wc", "x"], outputs: ["yt"]),
        ], inputs: [], outputs: [ValueInfo(name: "yt")])
        let elseBranch = Graph(name: "else", nodes: [Node(opType: "Identity", inputs: ["x"], outputs: ["ye"])],
                               inputs: [], outputs: [ValueInfo(name: "ye")])
        let node = Node(opType: "If", inputs: ["c"], outputs: ["y"],
                        attributes: [Attribute("then_branch", .graph(thenBranch)), Attribute("else_branch", .graph(elseBranch))])
        let g = Graph(nodes: [node],
                      inputs: [ValueInfo(name: "c", type: .tensor(.bool, TensorShape(static: []))),
                               ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [4, 3])))],
                      outputs: [ValueInfo(name: "y")], initializers: [Tensor(name: "W", floats: w, dims: [4, 3])])
        return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
    }

    func testIfBodyReadsOuterWeightsAndFedValues() throws {
        let w = (0..<12).map { Float($0) }
        let interpreter = try Interpreter(model: ifModel(weights: w))
        func run(_ cond: Bool, _ x: [Float]) throws -> [Float] {
            let c = RuntimeTensor(zeros: .bool, shape: [])
            c.setDouble(cond ? 1 : 0, at: 0)
            return try interpreter.run(["c": c, "x": t(x, [4, 3])]).outputs[0].tensor.floatValues()
        }
        let rows = Array(w[3..<9]) + Array(w[3..<9])
        for seed in [1, 2] as [UInt64] {  // a second run with other values: x is fed each time
            let x = noise(12, seed: seed)
            assertClose(try run(true, x), zip(rows, x).map { $0 * $1 })
            assertClose(try run(false, x), x)
        }
    }

    /// The body's plan: the Slice and Concat of the outer weight are folded (with the Constant
    /// nodes), only the Mul runs; without the enclosing constants all of them would run.
    func testConstantOuterValuesFoldInsideTheBody() throws {
        let m = ifModel(weights: (0..<12).map { Float($0) })
        guard case .graph(let thenBranch)? = m.graph.nodes[0].attribute("then_branch") else { return XCTFail("no body") }
        let weight = RuntimeTensor(floats: (0..<12).map { Float($0) }, shape: [4, 3])
        let withConstants = try ControlFlowKernels.Body(thenBranch, outer: ["W", "x"], opset: 17, constants: ["W": weight])
        XCTAssertEqual(withConstants.outer, ["x"])
        let folded = try withConstants.interpreter.plan(inputShapes: ["x": [4, 3]])
        XCTAssertEqual(folded.foldedNodes, 5)
        let fedOnly = try ControlFlowKernels.Body(thenBranch, outer: ["W", "x"], opset: 17)
        XCTAssertEqual(fedOnly.outer, ["W", "x"])
        XCTAssertEqual(try fedOnly.interpreter.plan(inputShapes: ["x": [4, 3], "W": [4, 3]]).foldedNodes, 3)
    }

    /// An If copies its branch's results from the branch plan's blocks into its own outputs:
    /// a branch that returns an outer weight as is, one that computes, results kept by the
    /// caller across later runs (they are copies), and the branch taken changing every run.
    func testIfResultsSurviveLaterRunsOfTheSameBranch() throws {
        let thenBranch = Graph(name: "then", nodes: [], inputs: [], outputs: [ValueInfo(name: "W")])
        let elseBranch = Graph(name: "else", nodes: [Node(opType: "Add", inputs: ["x", "x"], outputs: ["ye"])],
                               inputs: [], outputs: [ValueInfo(name: "ye")])
        let node = Node(opType: "If", inputs: ["c"], outputs: ["y"],
                        attributes: [Attribute("then_branch", .graph(thenBranch)), Attribute("else_branch", .graph(elseBranch))])
        let w = (0..<12).map { Float($0) }
        let g = Graph(nodes: [node, Node(opType: "Relu", inputs: ["y"], outputs: ["r"])],
                      inputs: [ValueInfo(name: "c", type: .tensor(.bool, TensorShape(static: []))),
                               ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [4, 3])))],
                      outputs: [ValueInfo(name: "y"), ValueInfo(name: "r")], initializers: [Tensor(name: "W", floats: w, dims: [4, 3])])
        let interpreter = try Interpreter(model: Model(graph: g, opsetImports: [OpsetImport(version: 17)]))
        func run(_ cond: Bool, _ x: [Float]) throws -> RunResult {
            let c = RuntimeTensor(zeros: .bool, shape: [])
            c.setDouble(cond ? 1 : 0, at: 0)
            return try interpreter.run(["c": c, "x": t(x, [4, 3])])
        }
        let x1 = noise(12, seed: 3), x2 = noise(12, seed: 4)
        let first = try run(false, x1)
        let second = try run(false, x2)
        let weights = try run(true, x1)
        let third = try run(false, x1)
        XCTAssertEqual(first.outputs[0].tensor.floatValues(), x1.map { $0 + $0 })
        XCTAssertEqual(first.outputs[1].tensor.floatValues(), x1.map { max($0 + $0, 0) })
        XCTAssertEqual(second.outputs[0].tensor.floatValues(), x2.map { $0 + $0 })
        XCTAssertEqual(weights.outputs[0].tensor.floatValues(), w)
        XCTAssertEqual(weights.outputs[1].tensor.floatValues(), w)
        XCTAssertEqual(third.outputs[0].tensor.floatValues(), first.outputs[0].tensor.floatValues())
    }
}
