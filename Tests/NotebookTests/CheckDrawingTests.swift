import XCTest
import Foundation
import GraphFormats
import GraphIR
import JupyterKernel
@testable import Notebook

/// The drawing `check` shows under its table (problem nodes outlined, table node cells as links
/// that focus them in the same output), the neighbourhood drawing of a big graph, and `show`
/// marking the nodes `check` lists (schema errors, failed inference, dashed unknown shapes).
final class CheckDrawingTests: XCTestCase {
    var files: [URL] = []

    override func tearDown() {
        for f in files { try? FileManager.default.removeItem(at: f) }
    }

    var f32: ValueType { .tensor(.float, TensorShape(static: [1, 3, 8, 8])) }

    private func save(_ g: Graph, as name: String, _ runner: CellRunner) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).onnx")
        files.append(url)
        try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), to: url)
        XCTAssertNil(runner.run("load \(url.path) as \(name)").error)
    }

    /// x -> MaxPool "pool" (auto_pad "SAME", illegal) -> Relu "act" (a misspelled attribute) -> y,
    /// and x -> Conv2D "bad" (no such op, no inference rule) -> Relu "after" -> z.
    private func loadBadModel(_ runner: CellRunner) throws -> [String: String] {
        var g = Graph(name: "bad", inputs: [ValueInfo(name: "x", type: f32)], outputs: [ValueInfo(name: "y"), ValueInfo(name: "z")])
        var ids: [String: String] = [:]
        ids["pool"] = try g.addNode(Node(opType: "MaxPool", name: "pool", inputs: ["x"], outputs: ["p"],
                                         attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("auto_pad", .text("SAME"))])).description
        ids["act"] = try g.addNode(Node(opType: "Relu", name: "act", inputs: ["p"], outputs: ["y"],
                                        attributes: [Attribute("alpah", .float(1))])).description
        ids["bad"] = try g.addNode(Node(opType: "Conv2D", name: "bad", inputs: ["x"], outputs: ["c"])).description
        ids["after"] = try g.addNode(Node(opType: "Relu", name: "after", inputs: ["c"], outputs: ["z"])).description
        try save(g, as: "bad", runner)
        // The reader numbers nodes as the model lists them; the ids above are the writer's.
        let graph = try XCTUnwrap(runner.interpreter.session.graphs.current?.graph)
        for n in graph.nodes { ids[n.name] = n.id.description }
        return ids
    }

    private func html(_ runner: CellRunner) -> String { runner.displays.first?["text/html"]?.stringValue ?? "" }

    func testCheckDrawsTheGraphWithProblemNodesMarkedAndLinksEachRowToItsNode() throws {
        let runner = CellRunner()
        let ids = try loadBadModel(runner)
        XCTAssertNil(runner.run("check").error)
        let bundle = try XCTUnwrap(runner.displays.first)
        let h = html(runner)
        XCTAssertTrue(h.hasPrefix("<div class=\"gs-report\"><table"), "table first, in one report")
        XCTAssertTrue(h.contains("class=\"gs-view\""), "the viewer in the same output")
        XCTAssertNil(bundle["image/svg+xml"], "the drawing lives in the HTML; no second copy")
        let viewer = try XCTUnwrap(h.components(separatedBy: "<div id=\"").dropFirst().first?.prefix { $0 != "\"" })
        for name in ["pool", "act", "bad"] {
            let id = try XCTUnwrap(ids[name])
            XCTAssertTrue(h.contains("<a href=\"#\(viewer)\" class=\"gs-node-link\" data-gs-node=\"\(id)\""), "link for \(name)")
            XCTAssertTrue(h.contains("<g class=\"gs-node gs-problem\" data-id=\"\(id)\""), "\(name) is marked")
        }
        // `after` has an unknown input (Conv2D has no rule): a warning, marked in orange.
        let after = try XCTUnwrap(ids["after"])
        XCTAssertTrue(h.contains("data-gs-node=\"\(after)\""))
        XCTAssertTrue(h.contains("data-id=\"\(after)\" data-op=\"Relu\" data-category=\"activation\" data-name=\"after\" data-problem=\"warning\""), h)
        // Plain text stays readable: the table, then one sentence about the drawing.
        let text = bundle["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("Drawing: bad, all 4 nodes; the 4 with problems are outlined"), text)
        XCTAssertTrue(h.contains("shape: input 0 ("), "a shape row reads `shape: …` once")
        XCTAssertFalse(h.contains("shape shape:"))
        XCTAssertFalse(text.contains("<"), "no markup in text/plain")
        // The viewer binds the links of its report.
        XCTAssertTrue(h.contains("closest('a[data-gs-node]')"))
        // --errors: only error rows, so `after` is neither listed nor linked.
        XCTAssertNil(runner.run("check --errors").error)
        XCTAssertFalse(html(runner).contains("data-gs-node=\"\(after)\""))
    }

    func testMarkupInNamesAndMessagesStaysText() throws {
        let runner = CellRunner()
        let evil = "</script><img src=x onerror=alert(1)>\"'"
        var g = Graph(name: "evil", inputs: [ValueInfo(name: "x", type: f32)], outputs: [ValueInfo(name: "y")])
        try g.addNode(Node(opType: "Frob<b>", name: evil, inputs: ["x"], outputs: ["y"], attributes: [Attribute("a<i>", .float(1))]))
        try save(g, as: "evil", runner)
        XCTAssertNil(runner.run("check").error)
        let h = html(runner)
        XCTAssertTrue(h.contains("gs-problem"))
        XCTAssertFalse(h.contains("<img"), "names are escaped everywhere: table, tooltip, panel data")
        XCTAssertFalse(h.contains("<b>") || h.contains("<i>"))
        XCTAssertNil(runner.run("show").error)
        XCTAssertFalse(html(runner).contains("<img"))
    }

    func testACleanGraphHasNoDrawing() throws {
        let runner = try CellRunner.withTourModel()
        XCTAssertNil(runner.run("check").error)
        XCTAssertFalse(html(runner).contains("gs-view"))
    }

    func testABigGraphDrawsOnlyTheNeighbourhoodOfItsProblemsAndSaysSo() throws {
        let runner = CellRunner()
        var g = Graph(name: "long", inputs: [ValueInfo(name: "v0", type: f32)], outputs: [ValueInfo(name: "v600")])
        for i in 0..<600 {
            // One bad op in the middle of a 600-node chain.
            let op = i == 300 ? "Relu6" : "Relu"
            try g.addNode(Node(opType: op, name: "r\(i)", inputs: ["v\(i)"], outputs: ["v\(i + 1)"]))
        }
        try save(g, as: "long", runner)
        XCTAssertNil(runner.run("check --errors").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("Drawing: the 1 problem node(s) and the nodes within 2 step(s) of them, 5 of 600 nodes"), text)
        let h = html(runner)
        XCTAssertEqual(h.components(separatedBy: " data-op=\"").count - 1, 5, "five boxes, not 600")
        let bad = try XCTUnwrap(runner.interpreter.session.graphs.current?.graph.nodes.first { $0.name == "r300" }).id.description
        XCTAssertTrue(h.contains("data-gs-node=\"\(bad)\""))
        XCTAssertTrue(h.contains("<g class=\"gs-node gs-problem\" data-id=\"\(bad)\""))
        // With warnings, every node after the bad one has an unknown input: 300 problem nodes, the
        // drawing is built around the first 60 and says so; rows beyond them are not links.
        XCTAssertNil(runner.run("check").error)
        let all = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(all.contains("Drawing: the first 60 of 300 problem nodes (the others are in the table only)"), all)
        let last = try XCTUnwrap(runner.interpreter.session.graphs.current?.graph.nodes.first { $0.name == "r599" }).id.description
        XCTAssertFalse(html(runner).contains("data-gs-node=\"\(last)\""))
        XCTAssertTrue(html(runner).contains(">\(last)</td>"), "a plain cell")
        XCTAssertLessThanOrEqual(html(runner).components(separatedBy: " data-op=\"").count - 1, 200 + 2)
    }

    func testAProblemInsideABodyIsMarkedOnItsOwnerAndInTheBodysDrawing() throws {
        let runner = CellRunner()
        let f2 = ValueType.tensor(.float, TensorShape(static: [2]))
        var thenB = Graph(name: "then", outputs: [ValueInfo(name: "t", type: f2)], isSubgraph: true)
        try thenB.addNode(Node(opType: "Neg", name: "inner", inputs: ["xn"], outputs: ["t"], attributes: [Attribute("alpah", .float(1))]))
        var elseB = Graph(name: "else", outputs: [ValueInfo(name: "e", type: f2)], isSubgraph: true)
        try elseB.addNode(Node(opType: "Neg", name: "fine", inputs: ["xn"], outputs: ["e"]))
        var g = Graph(name: "ifmodel", inputs: [ValueInfo(name: "x", type: f2), ValueInfo(name: "cond", type: .tensor(.bool, TensorShape(static: [])))],
                      outputs: [ValueInfo(name: "y", type: f2)])
        try g.addNode(Node(opType: "Neg", name: "outer", inputs: ["x"], outputs: ["xn"]))
        try g.addNode(Node(opType: "If", name: "branch", inputs: ["cond"], outputs: ["y"],
                           attributes: [Attribute("then_branch", .graph(thenB)), Attribute("else_branch", .graph(elseB))]))
        try save(g, as: "ifm", runner)
        let catalog = try XCTUnwrap(runner.interpreter.session.graphs.current?.catalog)
        let owner = try XCTUnwrap(catalog.entries.first { $0.name == "branch" }).id.description
        let inner = try XCTUnwrap(catalog.entries.first { $0.name == "inner" }).id.description
        XCTAssertNil(runner.run("check").error)
        let h = html(runner)
        XCTAssertTrue(h.contains("data-gs-node=\"\(owner)\" title=\"show \(inner) in the drawing (at \(owner), which holds it)\">\(inner)</a>"), h)
        XCTAssertTrue(h.contains("<g class=\"gs-node gs-problem\" data-id=\"\(owner)\""))
        XCTAssertTrue(h.contains("in branch/then_branch: inner schema attribute alpah"), "the owner's tooltip names the body and node")
        // The body's own drawing marks the node itself.
        XCTAssertNil(runner.run("show branch/then_branch").error)
        XCTAssertTrue(html(runner).contains("<g class=\"gs-node gs-problem\" data-id=\"\(inner)\""))
        XCTAssertNil(runner.run("show branch/else_branch").error)
        XCTAssertFalse(html(runner).contains("gs-problem"), "nothing wrong in the else branch")
    }

    func testShowMarksWhatCheckListsAndDashesEdgesOfUnknownShape() throws {
        let runner = CellRunner()
        let ids = try loadBadModel(runner)
        XCTAssertNil(runner.run("show").error)
        let h = html(runner)
        for name in ["pool", "act", "bad", "after"] {
            XCTAssertTrue(h.contains("<g class=\"gs-node gs-problem\" data-id=\"\(try XCTUnwrap(ids[name]))\""), name)
        }
        XCTAssertTrue(h.contains("problems:&#10;  schema attribute auto_pad: expected one of NOTSET"), "the problem in the tooltip")
        // c (Conv2D's output) and z have no shape because inference failed at `bad`.
        XCTAssertTrue(h.contains("class=\"gs-edge gs-unknown-shape\" data-id=\"\(try XCTUnwrap(ids["bad"]))->"), "c is dashed")
        XCTAssertTrue(h.contains("data-problem=\"unknown-shape\""), "the legend says what dashed means")
        XCTAssertTrue(h.contains("data-problem=\"error\"><rect") && h.contains("data-problem=\"warning\"><rect"), "legend entries")
        // A clean model draws no marks.
        let clean = try CellRunner.withTourModel()
        XCTAssertNil(clean.run("show").error)
        XCTAssertFalse(html(clean).contains("gs-problem"))
        XCTAssertFalse(html(clean).contains("gs-legend-problems"))
    }
}
