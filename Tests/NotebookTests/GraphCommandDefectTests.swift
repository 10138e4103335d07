import XCTest
import JupyterKernel
@testable import Notebook
import GraphFormats

/// Defects of issue 10 in the graph commands, each with the behaviour a user should get.
final class GraphCommandDefectTests: XCTestCase {
    var runner: CellRunner!
    var scratch: URL!

    override func setUpWithError() throws {
        runner = try CellRunner.withTourModel()
        scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gs-defects-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testExportToAFolderSaysSo() {
        let folder = scratch.path + "/"
        let error = runner.run("export \(folder) format=dot").error
        XCTAssertEqual(error?.name, "FileError")
        XCTAssertTrue(error?.value.contains("is a folder; give a file name, e.g. \(folder)bert.dot") ?? false, error?.value ?? "")
        XCTAssertFalse(error?.value.contains("NSCocoaErrorDomain") ?? true)
        // An existing folder without the slash too.
        XCTAssertTrue(runner.run("export \(scratch.path) format=dot").error?.value.contains("is a folder") ?? false)
    }

    func testExportIntoAFileAsFolderGivesTheReason() throws {
        let file = scratch.appendingPathComponent("plain")
        try Data("x".utf8).write(to: file)
        let error = runner.run("export \(file.path)/m.onnx").error
        XCTAssertEqual(error?.name, "FileError")
        XCTAssertFalse(error?.value.contains("NSCocoaErrorDomain") ?? true, error?.value ?? "")
    }

    func testExternalDataWithoutLargeInitializersWritesNoEmptyFile() {
        // The tour model's weights are initializers: they move out.
        let out = scratch.appendingPathComponent("with.onnx").path
        XCTAssertNil(runner.run("export \(out) external_data=true").error)
        XCTAssertTrue(runner.stdout.contains("External data:"), runner.stdout)
        XCTAssertGreaterThan((try? FileManager.default.attributesOfItem(atPath: out + ".data")[.size] as? Int) ?? 0, 0)
        // Weights held in Constant nodes move out too (as onnx.save's convert_attribute=True).
        let constants = CellRunner()
        XCTAssertNil(constants.run("load \(CellRunner.repo.path)/Tests/GraphFormatsTests/Fixtures/constant_weights.onnx as c").error)
        let out2 = scratch.appendingPathComponent("constants.onnx").path
        XCTAssertNil(constants.run("export \(out2) external_data=true").error)
        XCTAssertTrue(constants.stdout.contains("External data: 1 tensor(s)"), constants.stdout)
        XCTAssertGreaterThan((try? FileManager.default.attributesOfItem(atPath: out2 + ".data")[.size] as? Int) ?? 0, 1000)
        XCTAssertNil(constants.run("load \(out2) as back\nsummary").error)
        XCTAssertEqual(constants.displays.first?[OutputBundle.dataMIME]?["parameters"], .int(432))
        // Nothing of 1 KB or more: no empty side file, and the reason.
        let small = CellRunner()
        XCTAssertNil(small.run("load \(CellRunner.repo.path)/Tests/GraphFormatsTests/Fixtures/control_flow.onnx as s").error)
        let out3 = scratch.appendingPathComponent("none.onnx").path
        XCTAssertNil(small.run("export \(out3) external_data=true").error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out3 + ".data"))
        XCTAssertTrue(small.stdout.contains("No external data file written"), small.stdout)
    }

    func testLoadUnderATakenNameSaysItReplaces() {
        XCTAssertNil(runner.run("load models/tiny_bert.onnx as bert").error)
        XCTAssertTrue(runner.stdout.contains("Replaced the graph 'bert'"), runner.stdout)
        // A fresh name says nothing of the kind.
        XCTAssertNil(runner.run("load models/tiny_bert.onnx as other").error)
        XCTAssertFalse(runner.stdout.contains("Replaced"), runner.stdout)
    }

    func testFindOpTypeInTheWrongCaseHints() {
        let error = runner.run("find op=softmax").error
        XCTAssertEqual(error?.name, "LookupError")
        XCTAssertTrue(error?.value.contains("did you mean op=Softmax") ?? false, error?.value ?? "")
        XCTAssertTrue(runner.run("find op=Softmx").error?.value.contains("did you mean op=Softmax") ?? false)
        // A real op type that matches nothing under a path is an empty table, not an error.
        XCTAssertNil(runner.run("find op=Softmax path=/embeddings").error)
    }

    func testInfoShowsFiguresWithUnits() {
        XCTAssertNil(runner.run("estimate hw=h100-sxm5 batch=8 seq=128").error)
        XCTAssertNil(runner.run("info /encoder/layer.0/intermediate/dense/MatMul").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains(" µs"), text)
        XCTAssertTrue(text.contains("MAC"), text)
        XCTAssertTrue(text.contains("FLOP"), text)
        XCTAssertTrue(text.range(of: #"bytes\s+[0-9.]+ (k|M)?B"#, options: .regularExpression) != nil, text)
    }

    func testQuantityFormatting() {
        XCTAssertEqual(Format.quantity(1_230_000_000, unit: "FLOP"), "1.23 GFLOP")
        XCTAssertEqual(Format.quantity(512, unit: "MAC"), "512 MAC")
        XCTAssertEqual(Format.quantity(12_300_000, unit: "B"), "12.3 MB")
        XCTAssertEqual(Format.quantity(3.5, unit: "µs"), "3.5 µs")
    }
}

/// Files that are not ONNX are named for what they are.
final class FormatSniffingTests: XCTestCase {
    func testTFLiteAndOtherFormatsAreNamed() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gs-sniff-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A FlatBuffer header: root table offset, then the "TFL3" file identifier.
        let tflite: [UInt8] = [0x1C, 0, 0, 0] + Array("TFL3".utf8) + [UInt8](repeating: 0, count: 24)
        try Data(tflite).write(to: dir.appendingPathComponent("m.tflite"))
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 0]).write(to: dir.appendingPathComponent("m.pt"))
        try Data().write(to: dir.appendingPathComponent("empty.onnx"))
        let runner = CellRunner(directory: dir)
        let e = runner.run("load m.tflite").error
        XCTAssertEqual(e?.name, "FileError")
        XCTAssertTrue(e?.value.contains("TensorFlow Lite") ?? false, e?.value ?? "")
        XCTAssertTrue(e?.value.contains("does not read TFLite yet") ?? false)
        XCTAssertFalse(e?.value.contains("invalid field number") ?? true)
        XCTAssertTrue(runner.run("load m.pt").error?.value.contains("torch.onnx.export") ?? false)
        XCTAssertTrue(runner.run("load empty.onnx").error?.value.contains("empty file") ?? false)
        XCTAssertTrue(runner.interpreter.session.graphs.entries.isEmpty)
        // The real TFLite files of the corpus, when present.
        let corpus = CellRunner.repo.deletingLastPathComponent().appendingPathComponent("shared/corpus/models")
        for name in ["face_detection_short_range.tflite", "hand_landmark_lite.tflite"] {
            let url = corpus.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            XCTAssertEqual(ModelFileFormat.sniff(fileAt: url), .tflite, name)
        }
    }
}
