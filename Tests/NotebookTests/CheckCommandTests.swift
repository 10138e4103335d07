import XCTest
import Foundation
import GraphFormats
import GraphIR
import JupyterKernel
@testable import Notebook

/// `check`/`validate` on a clean model and on a schema-violating one (which still loads and says
/// once how many problems there are), `info`'s per-attribute legal values and defaults, and
/// `find op=` completion falling back to the registry's op types.
final class CheckCommandTests: XCTestCase {
    var file: URL?

    override func tearDown() {
        if let file { try? FileManager.default.removeItem(at: file) }
    }

    var f32: ValueType { .tensor(.float, TensorShape(static: [1, 3, 8, 8])) }

    /// x -> MaxPool "pool" (auto_pad "SAME", illegal) -> Relu "act" (a misspelled attribute) -> y,
    /// plus a Conv2D "bad" (no such op), written as ONNX and loaded.
    private func loadBadModel(_ runner: CellRunner) throws {
        var g = Graph(name: "bad", inputs: [ValueInfo(name: "x", type: f32)], outputs: [ValueInfo(name: "y"), ValueInfo(name: "z")])
        try g.addNode(Node(opType: "MaxPool", name: "pool", inputs: ["x"], outputs: ["p"],
                           attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("auto_pad", .text("SAME"))]))
        try g.addNode(Node(opType: "Relu", name: "act", inputs: ["p"], outputs: ["y"], attributes: [Attribute("alpah", .float(1))]))
        try g.addNode(Node(opType: "Conv2D", name: "bad", inputs: ["x"], outputs: ["z"]))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).onnx")
        file = url
        try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), to: url)
        XCTAssertNil(runner.run("load \(url.path) as bad").error)
    }

    func testLoadStillWorksAndSaysOnceHowManyProblems() throws {
        let runner = CellRunner()
        try loadBadModel(runner)
        XCTAssertTrue(runner.stdout.contains("Loaded bad"), runner.stdout)
        // One line for schema and shape problems together (Conv2D has no inference rule).
        XCTAssertTrue(runner.stdout.contains("The model has 3 schema error(s) and 0 warning(s); shape inference failed on "),
                      runner.stdout)
        XCTAssertEqual(runner.stdout.components(separatedBy: "The model has").count, 2, runner.stdout)
    }

    func testCheckListsEveryProblemAsATable() throws {
        let runner = CellRunner()
        try loadBadModel(runner)
        XCTAssertNil(runner.run("check").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.hasPrefix("bad: 3 error(s), 0 warning(s)"), text)
        XCTAssertTrue(text.contains("attribute auto_pad  expected one of NOTSET, SAME_UPPER, SAME_LOWER, VALID, found 'SAME'"), text)
        XCTAssertTrue(text.contains("did you mean 'Conv'"), text)
        XCTAssertTrue(runner.displays.first?["text/html"]?.stringValue?.contains("<table") ?? false)
        guard case .object(let json)? = runner.displays.first?[OutputBundle.dataMIME] else { return XCTFail("no json") }
        XCTAssertEqual(json["errors"], .int(3))
        guard case .array(let problems)? = json["problems"] else { return XCTFail("no problems") }
        // Graph order (the reader keeps a topological order): one problem per bad node.
        var byName: [String: JSONValue] = [:]
        for p in problems { if case .string(let n)? = p["name"] { byName[n] = p } }
        XCTAssertEqual(Set(byName.keys), ["pool", "act", "bad"])
        XCTAssertEqual(byName["pool"]?["kind"], .string("illegalValue"))
        XCTAssertEqual(byName["pool"]?["where"], .string("attribute auto_pad"))
        XCTAssertEqual(byName["pool"]?["found"], .string("'SAME'"))
        XCTAssertEqual(byName["pool"]?["problem"], .string("expected one of NOTSET, SAME_UPPER, SAME_LOWER, VALID, found 'SAME'"))
        XCTAssertEqual(byName["act"]?["kind"], .string("unknownAttribute"))
        XCTAssertEqual(byName["act"]?["where"], .string("attribute alpah"))
        XCTAssertEqual(byName["bad"]?["kind"], .string("unknownOp"))
        XCTAssertEqual(byName["bad"]?["op"], .string("Conv2D"))
        guard case .array(let suggestions)? = byName["bad"]?["suggestions"] else { return XCTFail("no suggestions") }
        XCTAssertEqual(suggestions.first, .string("Conv"))
        let poolID = runner.interpreter.session.graphs.current?.graph.nodes.first { $0.name == "pool" }?.id.description
        XCTAssertEqual(byName["pool"]?["node"], poolID.map(JSONValue.string))
        // `validate` is the same command.
        XCTAssertNil(runner.run("validate --errors").error)
        XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["errors"], .int(3))
    }

    func testCheckOnTheTourModelFindsNothing() throws {
        let runner = try CellRunner.withTourModel()
        XCTAssertFalse(runner.stdout.contains("check"), "a clean model loads without a problem note")
        XCTAssertNil(runner.run("check").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.hasPrefix("bert: no problems in 80 nodes (opsets ai.onnx 17)"), text)
        XCTAssertEqual(runner.displays.first?[OutputBundle.dataMIME]?["errors"], .int(0))
    }

    func testInfoShowsLegalValuesAndDefaults() throws {
        let runner = CellRunner()
        try loadBadModel(runner)
        XCTAssertNil(runner.run("info pool").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("ai.onnx::MaxPool-12 (pooling)"), text)
        XCTAssertTrue(text.contains("SAME; legal: NOTSET, SAME_UPPER, SAME_LOWER, VALID"), text)
        XCTAssertTrue(text.contains("attr ceil_mode"), text)
        XCTAssertTrue(text.contains("absent, default 0"), text)
        let json = runner.displays.first?[OutputBundle.dataMIME]?["schema"]
        XCTAssertEqual(json?["attributes"]?["auto_pad"]?["legal"],
                       .array([.string("NOTSET"), .string("SAME_UPPER"), .string("SAME_LOWER"), .string("VALID")]))
        XCTAssertEqual(json?["attributes"]?["storage_order"]?["default"], .string("0"))
        // An attribute the schema does not know is still shown, marked.
        XCTAssertNil(runner.run("info act").error)
        let act = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(act.contains("attr alpah"), act)
        XCTAssertTrue(act.contains("(not in the schema)"), act)
    }

    func testFindOpCompletionFallsBackToTheRegistry() throws {
        let runner = try CellRunner.withTourModel()
        let code = "find op=Sof"
        let inGraph = runner.interpreter.complete(code: code, cursorPosition: code.unicodeScalars.count)
        XCTAssertEqual(inGraph.matches, ["Softmax"])
        let other = "find op=FastG"
        let registry = runner.interpreter.complete(code: other, cursorPosition: other.unicodeScalars.count)
        XCTAssertEqual(registry.matches, ["FastGelu"])
    }
}
