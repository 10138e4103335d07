import XCTest
import JupyterKernel
@testable import Notebook

/// Drives the graph commands on the tour model that ships in notebooks/models.
final class GraphCommandTests: XCTestCase {
    static let repo = CellRunner.repo
    var runner: CellRunner!

    override func setUpWithError() throws {
        runner = try CellRunner.withTourModel()
    }

    func testLoadReportsAndBecomesCurrent() {
        XCTAssertTrue(runner.stdout.hasPrefix("Loaded bert from models/tiny_bert.onnx: 80 nodes"), runner.stdout)
        XCTAssertEqual(runner.interpreter.session.graphs.currentName, "bert")
    }

    func testSummaryJSONHasExactKeysAndFigures() throws {
        XCTAssertNil(runner.run("summary").error)
        guard case .object(let json)? = runner.displays.first?[OutputBundle.dataMIME] else { return XCTFail("no json") }
        XCTAssertEqual(Set(json.keys), ["nodes", "nodes_total", "op_histogram", "parameters", "parameter_bytes", "inputs", "outputs", "opsets",
                                        "stored_parameters", "generated_parameters", "unused_parameters"])
        XCTAssertEqual(json["nodes"], .int(80))
        XCTAssertEqual(json["nodes_total"], .int(80))
        // 176,659 weights from the model script plus the 11 float scalar/shape constants it also stores.
        XCTAssertEqual(json["op_histogram"]?["MatMul"], .int(16))
        XCTAssertEqual(json["inputs"], .array([["name": "input_ids", "dtype": "int64", "shape": ["batch", "seq"]]]))
        XCTAssertEqual(json["outputs"], .array([["name": "probabilities", "dtype": "float32", "shape": ["batch", 3]]]))
        XCTAssertEqual(json["opsets"], .object(["ai.onnx": .int(17)]))
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("Op histogram"))
        XCTAssertTrue(runner.displays.first?["text/html"]?.stringValue?.contains("<table") ?? false)
    }

    func testTreeInfoFind() {
        XCTAssertNil(runner.run("tree depth=2").error)
        let tree = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(tree.contains("encoder"), tree)
        XCTAssertTrue(tree.contains("layer.0"), tree)
        XCTAssertNil(runner.run("tree /encoder/layer.1 depth=1").error)
        XCTAssertNil(runner.run("info /encoder/layer.0/attention/self/Softmax").error)
        let info = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(info.contains("Softmax"))
        XCTAssertTrue(info.contains("attr axis"))
        XCTAssertNil(runner.run("find op=Softmax").error)
        XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["count"], .int(3))
        XCTAssertNil(runner.run("find *query* path=/encoder/layer.1").error)
        XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["count"], .int(2))
    }

    func testErrorsNameWhatAndWhere() {
        XCTAssertEqual(runner.run("info nosuchnode").error?.name, "LookupError")
        XCTAssertEqual(runner.run("tree /nope").error?.name, "LookupError")
        XCTAssertEqual(runner.run("use nope").error?.name, "LookupError")
        XCTAssertEqual(runner.run("load missing.onnx").error?.name, "FileError")
        // A broken file: a ModelError naming the file; the session keeps its graph.
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).onnx")
        XCTAssertTrue(FileManager.default.createFile(atPath: broken.path, contents: Data([0x08, 0x07, 0x12, 0xff, 0x01])))
        defer { try? FileManager.default.removeItem(at: broken) }
        let e = runner.run("load \(broken.path)").error
        XCTAssertEqual(e?.name, "ModelError")
        XCTAssertTrue(e?.value.contains(broken.lastPathComponent) ?? false, e?.value ?? "")
        XCTAssertEqual(runner.interpreter.session.graphs.currentName, "bert")
    }

    func testExportRoundTripsAndModelExplorer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gs-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(runner.run("export \(dir.path)/copy.onnx\nload \(dir.path)/copy.onnx as copy\nsummary").error)
        XCTAssertEqual(runner.displays.last?[OutputBundle.dataMIME]?["nodes"], .int(80))
        XCTAssertNil(runner.run("export \(dir.path)/g.json graph=bert").error)
        let data = try Data(contentsOf: dir.appendingPathComponent("g.json"))
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: data))
        XCTAssertNil(runner.run("graphs\nclose copy\nuse bert").error)
        XCTAssertNil(runner.run("export \(dir.path)/g.svg\nexport \(dir.path)/g.dot").error)
        let svg = try String(contentsOf: dir.appendingPathComponent("g.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("data-id=\"n22\""))
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("g.dot"), encoding: .utf8).contains("digraph"))
    }

    func testCompletionKnowsGraphsNodesAndPaths() {
        let i = runner.interpreter
        XCTAssertEqual(i.complete(code: "use be", cursorPosition: 6).matches, ["bert"])
        XCTAssertEqual(i.complete(code: "tree /enc", cursorPosition: 9).matches, ["/encoder/"])
        XCTAssertEqual(i.complete(code: "tree /encoder/la", cursorPosition: 16).matches, ["/encoder/layer.0/", "/encoder/layer.1/"])
        XCTAssertEqual(Set(i.complete(code: "find op=Soft", cursorPosition: 12).matches), ["Softmax"])
        XCTAssertEqual(i.complete(code: "export x.onnx format=mo", cursorPosition: 23).matches, ["model-explorer", "model-explorer-node-data"])
        XCTAssertTrue(i.complete(code: "info /pooler/", cursorPosition: 13).matches.contains("/pooler/Gather"))
        XCTAssertTrue(i.inspect(code: "info /pooler/Gather", cursorPosition: 10, detailLevel: 0).found)
    }
}

extension GraphCommandTests {
    func testShowDrawsSVGAndHTMLAndRejectsUnknownOverlay() {
        XCTAssertNil(runner.run("show").error)
        let b = runner.displays.first
        XCTAssertTrue(b?["image/svg+xml"]?.stringValue?.hasPrefix("<svg") ?? false)
        XCTAssertTrue(b?["text/html"]?.stringValue?.contains("<svg") ?? false)
        // The model's 80 nodes; its input and output boxes are counted apart (issue 10: "0 of 1502
        // nodes" on a 1,493-node graph).
        XCTAssertEqual(b?[OutputBundle.dataMIME]?["nodes"], .int(80))
        XCTAssertEqual(b?[OutputBundle.dataMIME]?["boundary_nodes"], .int(2))
        XCTAssertTrue(b?["text/plain"]?.stringValue?.contains(" of 80 nodes drawn singly") ?? false, b?["text/plain"]?.stringValue ?? "")
        XCTAssertNil(runner.run("show /encoder/layer.0 depth=2 direction=LR highlight=[/pooler/Gather]").error)
        XCTAssertNil(runner.run("show all").error)
        XCTAssertEqual(runner.run("show overlay=latency").error?.name, "LookupError")
        XCTAssertEqual(runner.run("show /nope").error?.name, "LookupError")
    }
}
