import XCTest
import Foundation
import GraphFormats
import GraphIR
@testable import Notebook

/// Node ids and annotations across export → load, and `overrides export|apply` end to end:
/// applying a session's overrides to a fresh load (or to its own re-export) gives the same
/// export bytes, and bad files are refused with the entry, node and attribute named while the
/// session stays as it was.
final class OverrideCommandTests: XCTestCase {
    private var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("overrides-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temp) }

    private func path(_ name: String) -> String { temp.appendingPathComponent(name).path }

    private func exported(_ runner: CellRunner, _ name: String) throws -> Data {
        XCTAssertNil(runner.run("export \(path(name))").error, runner.stderr)
        return try Data(contentsOf: temp.appendingPathComponent(name))
    }

    private func entry(_ runner: CellRunner) throws -> GraphEntry { try XCTUnwrap(runner.interpreter.session.graphs.current) }

    /// Id -> name and annotations of every node.
    private func identities(_ g: Graph) -> [NodeID: String] {
        var out: [NodeID: String] = [:]
        for (_, n) in g.allNodes() {
            out[n.id] = n.displayName + " " + n.annotations.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        return out
    }

    private let edits = ["set /embeddings/LayerNorm/LayerNormalization epsilon=1e-5",
                         "set /encoder/layer.1/output/LayerNorm/LayerNormalization epsilon=1e-6",
                         "set /pooler/Gather axis=0",
                         "annotate op=Softmax quantize=int8 note=\"check scale\""]

    func testExportThenLoadKeepsIDsAndAnnotations() throws {
        let r = try CellRunner.withTourModel()
        for line in ["remove /encoder/layer.0/attention/self/Softmax --force", "undo",
                     "add Relu after=/encoder/layer.0/intermediate/dense/Add name=extra_relu",
                     "annotate extra_relu device=npu"] + edits {
            XCTAssertNil(r.run(line).error, "\(line): \(r.stderr)")
        }
        let before = try entry(r).graph
        let bytes = try exported(r, "edited.onnx")
        let fresh = CellRunner(directory: temp)
        XCTAssertNil(fresh.run("load edited.onnx as again").error, fresh.stderr)
        let after = try entry(fresh).graph
        XCTAssertEqual(identities(after), identities(before), "ids or annotations changed across export → load")
        XCTAssertEqual(after.nodes.first { $0.name == "extra_relu" }?.annotations["device"], "npu")
        // Commands keyed by id mean the same node after the reload, and new ids stay fresh.
        let relu = try XCTUnwrap(before.nodes.first { $0.name == "extra_relu" }).id
        XCTAssertNil(fresh.run("annotate \(relu) note=same").error, fresh.stderr)
        XCTAssertEqual(try entry(fresh).graph.node(relu)?.name, "extra_relu")
        XCTAssertNil(fresh.run("add Relu after=extra_relu name=second").error, fresh.stderr)
        let second = try XCTUnwrap(try entry(fresh).graph.nodes.first { $0.name == "second" }).id
        XCTAssertNil(identities(before)[second], "new node \(second) reuses a restored id")
        // Loading and exporting again without edits writes the same bytes.
        XCTAssertNil(fresh.run("undo 2").error, fresh.stderr)
        XCTAssertEqual(try exported(fresh, "again.onnx"), bytes)
    }

    func testOverridesApplyAfterReloadOrReExportGivesSameExportBytes() throws {
        let r = try CellRunner.withTourModel()
        for line in edits { XCTAssertNil(r.run(line).error, "\(line): \(r.stderr)") }
        XCTAssertNil(r.run("overrides").error, r.stderr)
        XCTAssertTrue(r.displays.first?["text/plain"]?.stringValue?.contains("epsilon") == true)
        XCTAssertNil(r.run("overrides export \(path("o.json"))").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("on 6 nodes"), r.stdout)
        let edited = try exported(r, "edited.onnx")

        // A fresh load of the original file: one history step, same bytes; undo reverts it.
        let fresh = try CellRunner.withTourModel()
        let original = try exported(fresh, "original.onnx")
        XCTAssertNil(fresh.run("overrides apply \(path("o.json"))").error, fresh.stderr)
        XCTAssertEqual(try entry(fresh).history.steps.count, 2, "applying is one step")
        XCTAssertEqual(try exported(fresh, "applied.onnx"), edited)
        XCTAssertNil(fresh.run("undo").error)
        XCTAssertEqual(try exported(fresh, "undone.onnx"), original)

        // The re-exported file already has them: nothing changes, the bytes stay.
        let re = CellRunner(directory: temp)
        XCTAssertNil(re.run("load edited.onnx as re").error, re.stderr)
        XCTAssertNil(re.run("overrides apply o.json").error, re.stderr)
        XCTAssertTrue(re.stdout.contains("already holds"), re.stdout)
        XCTAssertEqual(try entry(re).history.steps.count, 1)
        XCTAssertEqual(try exported(re, "re.onnx"), edited)
    }

    func testIDsThatNameOtherNodesFallBackToNames() throws {
        let r = try CellRunner.withTourModel()
        let file = temp.appendingPathComponent("byname.json")
        try Data("""
            {"format": "graphsmith-overrides", "version": 1, "overrides": [
              {"node": "n0", "name": "/pooler/Gather", "op": "Gather", "attributes": {"axis": 0}}]}
            """.utf8).write(to: file)
        XCTAssertNil(r.run("overrides apply \(file.path)").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("Found by name"), r.stdout)
        let g = try entry(r).graph
        XCTAssertEqual(g.nodes.first { $0.name == "/pooler/Gather" }?.attribute("axis"), .int(0))
    }

    func testBadOverrideFilesGiveClearErrorsAndLeaveSessionUnchanged() throws {
        let r = try CellRunner.withTourModel()
        let before = try exported(r, "before.onnx")
        let cases: [(String, [String])] = [
            (#"{"overrides": [{"node": "n6", "name": "/embeddings/LayerNorm/LayerNormalization", "op": "LayerNormalization", "attributes": {"epsilom": 1e-5}}]}"#,
             ["override 1", "n6", "no attribute 'epsilom'", "'epsilon'"]),
            (#"{"overrides": [{"name": "/pooler/Gather", "op": "Gather", "attributes": {"axis": "two"}}]}"#,
             ["/pooler/Gather", "attribute 'axis' is an int", "\"two\""]),
            (#"{"overrides": [{"name": "/embeddings/LayerNorm/LayerNormalization", "attributes": {"epsilon": 0.5}}, {"name": "/Softmaxx", "attributes": {"axis": 0}}]}"#,
             ["override 2", "no node named '/Softmaxx'", "did you mean '/Softmax'"]),
            (#"{"overrides": [{"node": "n79", "name": "/Softmax", "op": "Softmax", "annotations": {"quantize": "int4"}}]}"#,
             ["override 1", "quantize=int4 is not legal"]),
            (#"{"overrides": [{"node": "x9", "attributes": {}}]}"#, ["overrides[0].node", "'x9'"]),
            (#"{"format": "graphsmith-overrides", "version": 7, "overrides": []}"#, ["version 7", "newer"]),
            (#"{"overrides": [{"name": "/pooler/Gather", "attributes": {"axis": [1, }]}"#, ["not an overrides file"]),
        ]
        for (i, (text, expected)) in cases.enumerated() {
            let file = temp.appendingPathComponent("bad\(i).json")
            try Data(text.utf8).write(to: file)
            let outcome = r.run("overrides apply \(file.path)")
            let message = try XCTUnwrap(outcome.error?.value, "case \(i) was accepted")
            for e in expected { XCTAssertTrue(message.contains(e), "case \(i): '\(e)' missing from:\n\(message)") }
            XCTAssertTrue(message.contains("unchanged"), message)
        }
        // A value the schema allows but the graph check refuses (Gather axis out of range) is
        // refused like any edit.
        let file = temp.appendingPathComponent("breaks.json")
        try Data(#"{"overrides": [{"name": "/pooler/Gather", "attributes": {"axis": 9}}]}"#.utf8).write(to: file)
        XCTAssertNotNil(r.run("overrides apply \(file.path)").error)
        XCTAssertNotNil(r.run("overrides apply \(path("missing.json"))").error)
        XCTAssertEqual(try entry(r).history.steps.count, 1)
        XCTAssertEqual(try exported(r, "after.onnx"), before)
    }
}
