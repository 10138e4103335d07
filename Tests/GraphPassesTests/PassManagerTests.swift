import XCTest
import GraphEditing
import GraphIR
@testable import GraphPasses

/// A pass that breaks the graph on purpose (reads a value nothing makes).
private struct BreakingPass: Pass {
    let name = "break"
    let doc = "test only"
    func run(_ ctx: inout PassContext) throws -> Bool {
        guard let n = ctx.graph.nodes.first else { return false }
        ctx.tx.allowDangling = true
        try ctx.tx.apply(.setInput(node: n.id, index: 0, value: "nowhere"))
        return true
    }
}

final class PassManagerTests: XCTestCase {
    func testPresetsAndUnknownNames() throws {
        XCTAssertEqual(try BuiltInPasses.pipeline("basic").map(\.name), BuiltInPasses.presets["basic"])
        XCTAssertThrowsError(try BuiltInPasses.pipeline("dcee")) { XCTAssertTrue("\($0)".contains("did you mean 'dce'"), "\($0)") }
        for p in BuiltInPasses.all { XCTAssertFalse(p.doc.isEmpty, p.name) }
    }

    func testABreakingPassIsRejectedNamingTheNode() throws {
        let m = PT.model([Node(opType: "Relu", name: "r", inputs: ["x"], outputs: ["y"])], inputs: [PT.f("x", [2])], outputs: [PT.f("y", [2])])
        XCTAssertThrowsError(try PassManager(passes: [BreakingPass()]).run(m, origin: "pass break")) { e in
            XCTAssertTrue("\(e)".contains("pass break was rejected") && "\(e)".contains("'r'"), "\(e)")
        }
    }

    func testFixedPointTimingAndPrint() throws {
        let m = FuseLayerNormTests.model(opset: 17)
        let run = try PassManager(passes: BuiltInPasses.pipeline("extended"), fixedPoint: true, printBefore: true).run(m, origin: "optimize")
        XCTAssertEqual(run.transaction.model.graph.nodes.map(\.opType), ["LayerNormalization"])
        XCTAssertTrue(run.records.contains { $0.round == 2 }, "a fixed-point run repeats until nothing changes")
        XCTAssertTrue(run.records.allSatisfy { $0.seconds >= 0 })
        XCTAssertTrue(run.printed.first?.text.contains("ReduceMean") ?? false)
    }

    func testProvenanceFlattensAcrossPasses() throws {
        // Conv+BN fused, then the fused Conv and a trailing Identity: sources stay the original ids.
        let m = FuseConvBatchNormTests.model()
        let first = try PT.run("fuse-conv-bn", m)
        let second = try PassManager(passes: BuiltInPasses.pipeline("dce,identity")).run(first.transaction.model, origin: "pass x")
        let conv = try XCTUnwrap(second.transaction.model.graph.nodes.first { $0.opType == "Conv" })
        XCTAssertEqual(Set(conv.provenance.sources), Set(m.graph.nodes.map(\.id)))
    }

    func testScopeLimitsAPass() throws {
        var m = FuseConvBatchNormTests.model()
        for n in m.graph.nodes { try m.graph.modifyNode(n.id) { $0.hierarchyPath = ["a"] } }
        let out = try PassManager(passes: BuiltInPasses.pipeline("fuse-conv-bn"), options: PassOptions(scope: ["b"])).run(m, origin: "p")
        XCTAssertFalse(out.changed)
        let inScope = try PassManager(passes: BuiltInPasses.pipeline("fuse-conv-bn"), options: PassOptions(scope: ["a"])).run(m, origin: "p")
        XCTAssertTrue(inScope.changed)
    }
}
