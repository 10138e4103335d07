import XCTest
import Foundation
@testable import Notebook

/// Defects the editing end-to-end tests (Tests/e2e/test_editing.py) found in the commands:
/// `set NODE attr=None` as the help shows it, `output add` without type=, unknown nodes with
/// the closest names, and `initializer set` from a relative .npy path replaying elsewhere.
final class EditDefectTests: XCTestCase {
    private func entry(_ r: CellRunner) throws -> GraphEntry { try XCTUnwrap(r.interpreter.session.graphs.current) }

    func testBareNoneRemovesAnAttribute() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("set /Softmax axis=None").error, r.stderr)
        XCTAssertNil(try entry(r).graph.nodes.first { $0.name == "/Softmax" }?.attribute("axis"))
        XCTAssertTrue(r.stdout.contains("axis removed"), r.stdout)
    }

    func testOutputAddDeclaresTheValuesType() throws {
        let r = try CellRunner.withTourModel()
        let v = "/encoder/layer.0/attention/output/dense/Add_output_0"
        XCTAssertNil(r.run("output add \(v)").error, r.stderr)
        let out = try XCTUnwrap(try entry(r).graph.outputs.last)
        XCTAssertEqual(out.name, v)
        XCTAssertEqual(out.type?.description, try entry(r).graph.type(of: v)?.description)
        XCTAssertNotNil(out.type, "an ONNX graph output needs a type")
    }

    func testNegativeDimensionsAreRefused() throws {
        let r = try CellRunner.withTourModel()
        for line in ["dims batch=-3", "dims on=input_ids axis=0 to=-1", "input add x type=float32[-2,3]"] {
            let message = r.run(line).error?.value ?? ""
            XCTAssertTrue(message.contains("a dimension is a size of 0 or more"), "\(line): \(message)")
        }
        XCTAssertEqual(try entry(r).history.steps.count, 1)
    }

    func testHistoryWordsWithDollarSignsReplayAsThemselves() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("rename /Softmax 'cost $x'").error, r.stderr)
        XCTAssertNil(r.run("add Identity inputs=[probabilities] outputs=['v$y']").error, r.stderr)
        let h = try entry(r).history
        let script = h.path(to: h.current).map { h.steps[$0].command }.joined(separator: "\n")
        let replay = CellRunner(directory: CellRunner.repo.appendingPathComponent("notebooks"))
        XCTAssertNil(replay.run(script).error, "\(script)\n\(replay.stderr)")
        let g = try XCTUnwrap(replay.interpreter.session.graphs.current).graph
        XCTAssertTrue(g.nodes.contains { $0.name == "cost $x" })
        XCTAssertTrue(g.isValueNameInUse("v$y"))
    }

    func testUnknownNodeSuggestsTheClosestNames() throws {
        let r = try CellRunner.withTourModel()
        let message = r.run("remove /Sofmax").error?.value ?? ""
        XCTAssertTrue(message.contains("did you mean '/Softmax'"), message)
    }

    func testInitializerFromARelativeNpyIsRecordedWithItsAbsolutePath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        npy += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        for f in [Float(1), 2, 3] { withUnsafeBytes(of: f.bitPattern.littleEndian) { npy += $0 } }
        try Data(npy).write(to: folder.appendingPathComponent("bias.npy"))
        let r = CellRunner(directory: folder)
        XCTAssertNil(r.run("load \(CellRunner.repo.appendingPathComponent("notebooks/models/tiny_bert.onnx").path) as b").error)
        XCTAssertNil(r.run("initializer set classifier.bias bias.npy").error, r.stderr)
        let command = try entry(r).history.currentStep.command
        XCTAssertTrue(command.contains(folder.appendingPathComponent("bias.npy").path), command)
        // Replayed from another folder, the script still finds the file.
        let replay = CellRunner(directory: FileManager.default.temporaryDirectory)
        let script = try entry(r).history.path(to: try entry(r).history.current).map { try entry(r).history.steps[$0].command }
        XCTAssertNil(replay.run(script.joined(separator: "\n")).error, replay.stderr)
    }
}
