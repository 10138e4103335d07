import XCTest
import Foundation
import GraphIR
@testable import Notebook

/// The pass commands end to end: one history step per run, a table of what each pass did,
/// undo gives back a byte-identical export, fuse=false respected, `why` lists near misses.
final class PassCommandTests: XCTestCase {
    private var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("pass-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temp) }

    private func exported(_ r: CellRunner, _ name: String) throws -> Data {
        let url = temp.appendingPathComponent(name)
        XCTAssertNil(r.run("export \(url.path)").error, r.stderr)
        return try Data(contentsOf: url)
    }

    private func graph(_ r: CellRunner) throws -> Graph { try XCTUnwrap(r.interpreter.session.graphs.current).graph }

    func testOptimizeIsOneStepAndUndoIsByteIdentical() throws {
        let r = try CellRunner.withTourModel()
        let original = try exported(r, "a.onnx")
        let steps = try XCTUnwrap(r.interpreter.session.graphs.current).history.steps.count
        XCTAssertNil(r.run("optimize level=extended").error, r.stderr)
        let g = try graph(r)
        XCTAssertTrue(g.nodes.contains { $0.opType == "LayerNormalization" && $0.provenance.origin.hasPrefix("pass") }, "tiny_bert's LayerNorms fuse")
        XCTAssertEqual(try XCTUnwrap(r.interpreter.session.graphs.current).history.steps.count, steps + 1)
        XCTAssertTrue(r.stdout.contains("LayerNormalization (fuse-layernorm)"), r.stdout)
        XCTAssertNil(r.run("undo").error)
        XCTAssertEqual(try exported(r, "b.onnx"), original, "undo gives back the loaded graph byte for byte")
    }

    func testFuseFalseIsRespectedAndWhyExplains() throws {
        let r = try CellRunner.withTourModel()
        let sqrt = try XCTUnwrap(try graph(r).nodes.first { $0.opType == "Sqrt" })
        XCTAssertNil(r.run("annotate \(sqrt.id) fuse=false").error, r.stderr)
        XCTAssertNil(r.run("pass fuse-layernorm").error, r.stderr)
        XCTAssertNotNil(try graph(r).node(sqrt.id), "the fuse=false node is not fused")
        XCTAssertNil(r.run("why \(sqrt.id)").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("fuse=false"), r.stdout)
        XCTAssertNotNil(r.run("pass nosuchpass").error)
        XCTAssertNil(r.run("passes").error)
    }
}
