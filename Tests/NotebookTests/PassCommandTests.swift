import XCTest
import Foundation
import GraphFormats
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

    /// A runner with ppocrv4_rec (written-out LayerNorms and HardSwishes) loaded; skips without ../shared.
    private func ppocr() throws -> CellRunner {
        let model = CellRunner.repo.deletingLastPathComponent().appendingPathComponent("shared/corpus/models/ppocrv4_rec.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "corpus missing")
        let r = CellRunner(directory: temp)
        XCTAssertNil(r.run("load \(model.path) as rec").error, r.stderr)
        return r
    }

    private func graph(_ r: CellRunner) throws -> Graph { try XCTUnwrap(r.interpreter.session.graphs.current).graph }

    func testOptimizeIsOneStepAndUndoIsByteIdentical() throws {
        let r = try ppocr()
        let original = try exported(r, "a.onnx")
        let steps = try XCTUnwrap(r.interpreter.session.graphs.current).history.steps.count
        XCTAssertNil(r.run("optimize level=extended").error, r.stderr)
        let g = try graph(r)
        XCTAssertEqual(g.nodes.filter { $0.opType == "LayerNormalization" && $0.provenance.origin.hasPrefix("pass") }.count, 5)
        XCTAssertEqual(g.nodes.filter { $0.opType == "HardSwish" }.count, 28)
        XCTAssertEqual(try XCTUnwrap(r.interpreter.session.graphs.current).history.steps.count, steps + 1)
        let table = r.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(table.contains("5× 9 nodes -> 1 LayerNormalization (fuse-layernorm)"), table)
        XCTAssertNil(r.run("undo").error)
        XCTAssertEqual(try exported(r, "b.onnx"), original, "undo gives back the loaded graph byte for byte")
    }

    func testFuseFalseIsRespectedAndWhyExplains() throws {
        let r = try ppocr()
        let sqrt = try XCTUnwrap(try graph(r).nodes.first { $0.opType == "Sqrt" })
        XCTAssertNil(r.run("annotate \(sqrt.id) fuse=false").error, r.stderr)
        XCTAssertNil(r.run("pass fuse-layernorm").error, r.stderr)
        XCTAssertNotNil(try graph(r).node(sqrt.id), "the fuse=false node is not fused")
        XCTAssertEqual(try graph(r).nodes.filter { $0.opType == "LayerNormalization" }.count, 4, "the other four are")
        XCTAssertNil(r.run("why \(sqrt.id)").error, r.stderr)
        let why = r.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(why.contains("annotation fuse=false"), why)
        XCTAssertNotNil(r.run("pass nosuchpass").error)
        XCTAssertNil(r.run("passes").error)
    }

    /// A pass that merges duplicate weights removes no node: its row says how the initializers
    /// changed instead of leaving the cell blank.
    func testAMergeOfWeightsSaysWhatItDid() throws {
        let f = ValueType.tensor(.float, TensorShape(static: [2]))
        var g = Graph(name: "g", inputs: [ValueInfo(name: "x", type: f)], outputs: [ValueInfo(name: "y", type: f)])
        try g.setInitializer(Tensor(name: "w1", floats: [1, 2], dims: [2]))
        try g.setInitializer(Tensor(name: "w2", floats: [1, 2], dims: [2]))
        try g.addNode(Node(opType: "Add", inputs: ["x", "w1"], outputs: ["a"]))
        try g.addNode(Node(opType: "Mul", inputs: ["a", "w2"], outputs: ["y"]))
        let url = temp.appendingPathComponent("dup.onnx")
        try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), to: url)
        let r = CellRunner(directory: temp)
        XCTAssertNil(r.run("load \(url.path) as m").error, r.stderr)
        XCTAssertNil(r.run("pass dedupe").error, r.stderr)
        let table = r.displays.last?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(table.contains("initializers 2 -> 1"), table)
    }
}
