import XCTest
import GraphEditing
import GraphIR
import GraphRuntime
@testable import GraphPasses

/// Small hand-built models and a numeric comparison through the interpreter.
enum PT {
    static func f(_ name: String, _ dims: [Int64]) -> ValueInfo { ValueInfo(name: name, type: .tensor(.float, TensorShape(static: dims))) }
    static func c(_ name: String, _ v: [Float], _ dims: [Int64] = []) -> Tensor { Tensor(name: name, floats: v, dims: dims) }

    static func model(_ nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo], initializers: [Tensor] = [], opset: Int64 = 12) -> Model {
        Model(graph: Graph(nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers), opsetImports: [OpsetImport(version: opset)])
    }

    static func run(_ passes: String, _ m: Model, target: PassTarget = .onnx) throws -> PassRun {
        try PassManager(passes: BuiltInPasses.pipeline(passes), options: PassOptions(target: target)).run(m, origin: "pass \(passes)")
    }

    /// Outputs of `m` on a deterministic input.
    static func outputs(_ m: Model, input: String, shape: [Int]) throws -> [Float] {
        let n = shape.reduce(1, *)
        let x = RuntimeTensor(floats: (0..<n).map { Float(($0 * 37) % 23) / 7 - 1.5 }, shape: shape)
        let r = try Interpreter(model: m).run([input: x])
        return r.outputs.flatMap { $0.tensor.floatValues() }
    }

    static func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) where abs(x - y) > tol * max(1, abs(y)) { XCTFail("\(x) vs \(y)", file: file, line: line); return }
    }
}
