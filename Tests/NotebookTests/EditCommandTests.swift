import XCTest
import Foundation
import GraphFormats
import GraphIR
@testable import Notebook

/// The edit commands end to end through the interpreter: each edit is one history step,
/// checked (refused with the list of what it broke unless --force), undo gives back a graph
/// whose export is byte-identical, `history export` replays exactly, annotations follow clones.
final class EditCommandTests: XCTestCase {
    private var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("edit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temp) }

    private func exported(_ runner: CellRunner, _ name: String, force: Bool = false) throws -> Data {
        let url = temp.appendingPathComponent(name)
        XCTAssertNil(runner.run("export \(url.path)" + (force ? " --force" : "")).error, runner.stderr)
        return try Data(contentsOf: url)
    }

    private func entry(_ runner: CellRunner) throws -> GraphEntry { try XCTUnwrap(runner.interpreter.session.graphs.current) }

    func testAddAfterRewiresConsumersAndUndoIsByteIdentical() throws {
        let r = try CellRunner.withTourModel()
        let original = try exported(r, "a.onnx")
        let edge = try XCTUnwrap(try entry(r).graph.nodes.first { $0.opType == "Softmax" }?.outputs.first)
        let consumers = try entry(r).graph.uses(of: edge).map(\.node)
        XCTAssertNil(r.run("add Identity after=/encoder/layer.0/attention/self/Softmax name=probe").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("@1 (+1 nodes, +1 edges)"), r.stdout)
        let g = try entry(r).graph
        let probe = try XCTUnwrap(g.nodes.first { $0.name == "probe" })
        XCTAssertEqual(probe.inputs.array, [edge])
        XCTAssertEqual(Set(g.uses(of: probe.outputs[0]).map(\.node)), Set(consumers))
        XCTAssertEqual(g.uses(of: edge).map(\.node), [probe.id])
        XCTAssertEqual(probe.provenance.origin, "edit")
        XCTAssertNotEqual(try exported(r, "b.onnx"), original)
        XCTAssertNil(r.run("undo").error)
        XCTAssertEqual(try exported(r, "c.onnx"), original, "undo gives back the loaded graph byte for byte")
        XCTAssertNil(r.run("redo").error)
        XCTAssertEqual(try entry(r).graph.nodes.count, 81)
    }

    func testBreakingEditIsRefusedAndSessionUnchanged() throws {
        let r = try CellRunner.withTourModel()
        let before = try exported(r, "a.onnx")
        // MatMul's first input is required: leaving it empty breaks the schema.
        let outcome = r.run("disconnect /encoder/layer.0/attention/output/dense/MatMul:0")
        let message = try XCTUnwrap(outcome.error?.value)
        XCTAssertTrue(message.contains("refused") && message.contains("input 0 (A)") && message.contains("--force"), message)
        XCTAssertEqual(try entry(r).history.steps.count, 1, "a refused edit adds no step")
        XCTAssertEqual(try exported(r, "b.onnx"), before)
        // With --force the state is kept, check lists it and export refuses it unless forced.
        XCTAssertNil(r.run("disconnect /encoder/layer.0/attention/output/dense/MatMul:0 --force").error)
        XCTAssertTrue(r.stdout.contains("1 problem open"), r.stdout)
        let refused = r.run("export \(temp.appendingPathComponent("x.onnx").path)")
        XCTAssertTrue(refused.error?.value.contains("has 1 error") ?? false, "\(String(describing: refused.error))")
        XCTAssertNoThrow(try exported(r, "forced.onnx", force: true))
    }

    func testAttributesAreTypedBySchemaAndBadNamesSuggest() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("set /Softmax axis=1").error, r.stderr)
        XCTAssertEqual(try entry(r).graph.nodes.first { $0.name == "/Softmax" }?.attribute("axis"), .int(1))
        let bad = r.run("set /Softmax axsi=1").error?.value ?? ""
        XCTAssertTrue(bad.contains("did you mean 'axis'"), bad)
        let op = r.run("add Reul inputs=[input_ids]").error?.value ?? ""
        XCTAssertTrue(op.contains("did you mean") && op.contains("Relu"), op)
        let type = r.run("set /Softmax axis=\"x\"").error?.value ?? ""
        XCTAssertTrue(type.contains("is an int"), type)
        // A perm of the wrong rank is a shape error: refused, naming the node.
        let range = r.run("set /encoder/layer.0/attention/self/Transpose_3 perm=[0,1]").error?.value ?? ""
        XCTAssertTrue(range.contains("refused") && range.contains("not a permutation of rank 4"), range)
        let cycle = r.run("connect /encoder/layer.1/output/dense/Add_output_0 /encoder/layer.0/attention/self/query/MatMul:0").error?.value ?? ""
        XCTAssertTrue(cycle.contains("cycle"), cycle)
        let used = r.run("remove /encoder/layer.0/attention/self/Softmax").error?.value ?? ""
        XCTAssertTrue(used.contains("still used"), used)
        XCTAssertEqual(try entry(r).history.steps.count, 2, "only the first set made a step")
    }

    func testRemoveCascadeBypassAndBranchingHistory() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("remove /classifier/Gemm --cascade").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("graph outputs removed: probabilities"), r.stdout)
        XCTAssertNil(r.run("undo").error)
        XCTAssertNil(r.run("bypass /encoder/layer.0/attention/output/dense/MatMul").error, r.stderr)
        XCTAssertEqual(try entry(r).graph.nodes.count, 79)
        XCTAssertNil(r.run("history").error)
        let table = try XCTUnwrap(r.displays.first?["text/plain"]?.stringValue)
        XCTAssertTrue(table.contains("└ @2"), "the bypass after an undo is a branch:\n\(table)")
        XCTAssertNil(r.run("checkout @1").error)
        XCTAssertEqual(try entry(r).graph.nodes.count, 80 - 2)
        XCTAssertNil(r.run("undo").error)
        XCTAssertNil(r.run("redo").error)
        XCTAssertEqual(try entry(r).history.current, 1, "redo follows the branch checkout went to")
        XCTAssertNotNil(r.run("checkout @9").error)
    }

    func testHistoryExportReplaysByteIdentical() throws {
        let r = try CellRunner.withTourModel()
        for line in ["add Relu after=/encoder/layer.0/intermediate/dense/Add name=extra_relu",
                     "set /Softmax axis=-1", "rename extra_relu relu2", "annotate op=MatMul quantize=int8",
                     "dims batch=1", "initializer set classifier.bias [0.5, -1, 2]", "undo", "initializer set classifier.bias [1, 2, 3]"] {
            XCTAssertNil(r.run(line).error, "\(line): \(r.stderr)")
        }
        let edited = try exported(r, "edited.onnx")
        let script = temp.appendingPathComponent("s.gsm")
        XCTAssertNil(r.run("history export \(script.path)").error, r.stderr)
        let text = try String(contentsOf: script, encoding: .utf8)
        XCTAssertFalse(text.contains("[0.5"), "the undone step is not on the path:\n\(text)")
        let replay = CellRunner(directory: CellRunner.repo.appendingPathComponent("notebooks"))
        XCTAssertNil(replay.run(text).error, replay.stderr)
        XCTAssertEqual(try exported(replay, "replayed.onnx"), edited)
    }

    func testAnnotationsFollowCloneProvenanceAndDimsAndNpy() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("annotate /encoder/layer.0/attention/self/Softmax fuse=false note=\"keep exact\"").error, r.stderr)
        XCTAssertNotNil(r.run("annotate /Softmax quantize=int4").error, "illegal value refused")
        XCTAssertNil(r.run("clone /encoder/layer.0/attention/self/Softmax").error, r.stderr)
        let clone = try XCTUnwrap(try entry(r).graph.nodes.first { !$0.provenance.sources.isEmpty })
        XCTAssertEqual(clone.annotations["fuse"], "false")
        XCTAssertEqual(clone.provenance.sources.count, 1)
        XCTAssertNil(r.run("annotations fuse").error)
        XCTAssertEqual(r.displays.first.flatMap { $0["text/plain"]?.stringValue }?.components(separatedBy: "fuse").count, 3)
        // dims: a misspelled symbol is an error; a real one changes declarations.
        XCTAssertNotNil(r.run("dims btach=1").error)
        XCTAssertNil(r.run("dims batch=2").error, r.stderr)
        XCTAssertEqual(try entry(r).graph.inputs.first?.type?.shape?.dims.first, .known(2))
        // A .npy file with a wrong shape for its consumer is refused; a broken one is a FileError.
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        npy += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        for f in [Float(1), 2, 3] { withUnsafeBytes(of: f.bitPattern.littleEndian) { npy += $0 } }
        try Data(npy).write(to: temp.appendingPathComponent("b.npy"))
        XCTAssertNil(r.run("initializer set classifier.bias \(temp.appendingPathComponent("b.npy").path)").error, r.stderr)
        try Data(npy.prefix(132)).write(to: temp.appendingPathComponent("short.npy"))
        let short = r.run("initializer set classifier.bias \(temp.appendingPathComponent("short.npy").path)").error?.value ?? ""
        XCTAssertTrue(short.contains("needs 12 data bytes"), short)
    }

    func testDrawingFollowsTheCurrentStep() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("show all").error)
        XCTAssertNil(r.run("add Identity after=/Softmax name=marker_one").error)
        XCTAssertNil(r.run("undo").error)
        XCTAssertNil(r.run("add Identity after=/Softmax name=marker_two").error)
        XCTAssertNil(r.run("show all").error)
        let html = r.displays.compactMap { $0["text/html"]?.stringValue }.joined()
        XCTAssertTrue(html.contains("marker_two") && !html.contains("marker_one"), "the drawing is of the current step")
    }
}

/// Tab after `set NODE` and `add OP`: attribute names from the schema, and legal values.
final class EditCompletionTests: XCTestCase {
    private func matches(_ r: CellRunner, _ code: String) -> [String] {
        r.interpreter.complete(code: code, cursorPosition: code.unicodeScalars.count).matches
    }

    func testAttributeNamesAndLegalValuesComplete() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertEqual(matches(r, "set /Softmax ax"), ["axis="])
        XCTAssertTrue(matches(r, "add Resize mo").contains("mode="))
        XCTAssertEqual(Set(matches(r, "add Resize mode=")), ["\"nearest\"", "\"linear\"", "\"cubic\""])
        XCTAssertTrue(matches(r, "add Conv auto_pad=").contains("\"SAME_UPPER\""))
        XCTAssertEqual(matches(r, "annotate n12 quantize="), ["int8", "uint8", "fp16", "bf16", "none"])
        XCTAssertTrue(matches(r, "annotate n12 fu").contains("fuse="))
    }
}

final class SelectionTests: XCTestCase {
    func testFindSavesASelectionThatAnnotateTakes() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("find op=Softmax path=/encoder save=softmaxes").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("Saved 2 nodes as $softmaxes"), r.stdout)
        XCTAssertNil(r.run("annotate $softmaxes keep=true").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("Annotated 2 nodes"), r.stdout)
        let kept = r.interpreter.session.graphs.current?.graph.nodes.filter { $0.annotations["keep"] == "true" }.count
        XCTAssertEqual(kept, 2)
        XCTAssertNotNil(r.run("find op=Softmax save=\"no good\"").error)
    }
}
