import XCTest
import GraphIR
@testable import GraphPasses

final class FuseGeluTests: XCTestCase {
    static func model() -> Model {
        PT.model([Node(opType: "Div", inputs: ["x", "r2"], outputs: ["d"]),
                  Node(opType: "Erf", inputs: ["d"], outputs: ["e"]),
                  Node(opType: "Add", inputs: ["e", "one"], outputs: ["a"]),
                  Node(opType: "Mul", inputs: ["x", "a"], outputs: ["m"]),
                  Node(opType: "Mul", inputs: ["m", "half"], outputs: ["y"])],
                 inputs: [PT.f("x", [2, 4])], outputs: [PT.f("y", [2, 4])],
                 initializers: [PT.c("r2", [1.4142135]), PT.c("one", [1]), PT.c("half", [0.5])], opset: 17)
    }

    func testOnnxTargetEmitsGeluAtOpset20() throws {
        let run = try PT.run("fuse-gelu,dce", Self.model())
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.qualifiedOpType), ["Gelu"])
        XCTAssertEqual(run.transaction.model.opsetVersion(for: ""), 20)
    }

    func testOrtTargetEmitsContribGeluWithoutRaisingTheOpset() throws {
        let run = try PT.run("fuse-gelu,dce", Self.model(), target: .ort)
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.qualifiedOpType), ["com.microsoft::Gelu"])
        XCTAssertEqual(run.transaction.model.opsetVersion(for: ""), 17)
        XCTAssertEqual(run.transaction.model.opsetVersion(for: "com.microsoft"), 1)
    }
}
