import XCTest
import Foundation
import GraphFormats
import GraphIR
import JupyterKernel
@testable import Notebook

/// If/Loop/Scan bodies in the commands: `tree`, `find`, `info`, completion and `show` reach them
/// by paths like `If_1/then_branch/...`, names drawn for unnamed nodes are accepted everywhere,
/// a name several nodes share is an error listing them, and `estimate` names nodes as drawn.
final class SubgraphCommandTests: XCTestCase {
    var runner: CellRunner!
    var file: URL!

    /// x, cond -> Neg "Neg" -> If (unnamed) { then: Constant (unnamed), Add "/blk/Add";
    /// else: Neg "Neg" } -> y, written as ONNX and loaded like any model.
    override func setUpWithError() throws {
        var thenB = Graph(name: "then", outputs: [ValueInfo(name: "t", type: f32)], isSubgraph: true)
        try thenB.addNode(Node(opType: "Constant", outputs: ["c"],
                               attributes: [Attribute("value", .tensor(Tensor(floats: [1, 2], dims: [2])))]))
        try thenB.addNode(Node(opType: "Add", name: "/blk/Add", inputs: ["xn", "c"], outputs: ["t"]))
        var elseB = Graph(name: "else", outputs: [ValueInfo(name: "e", type: f32)], isSubgraph: true)
        try elseB.addNode(Node(opType: "Neg", name: "Neg", inputs: ["xn"], outputs: ["e"]))
        var g = Graph(name: "ifmodel", inputs: [ValueInfo(name: "x", type: f32),
                                                ValueInfo(name: "cond", type: .tensor(.bool, TensorShape(static: [])))],
                      outputs: [ValueInfo(name: "y", type: f32)])
        try g.addNode(Node(opType: "Neg", name: "Neg", inputs: ["x"], outputs: ["xn"]))
        try g.addNode(Node(opType: "If", inputs: ["cond"], outputs: ["y"],
                           attributes: [Attribute("then_branch", .graph(thenB)), Attribute("else_branch", .graph(elseB))]))
        file = FileManager.default.temporaryDirectory.appendingPathComponent("ifmodel-\(UUID().uuidString).onnx")
        try ONNXWriter.save(Model(graph: g), to: file)
        runner = CellRunner()
        XCTAssertNil(runner.run("load \(file.path) as m").error)
    }

    override func tearDown() {
        if let file { try? FileManager.default.removeItem(at: file) }
    }

    let f32 = ValueType.tensor(.float, TensorShape(static: [2]))
    var catalog: NodeCatalog { runner.interpreter.session.graphs.current!.catalog }
    var json: JSONValue? { runner.displays.first?[OutputBundle.dataMIME] }
    var text: String { runner.displays.first?["text/plain"]?.stringValue ?? "" }

    /// The display names the reader's ids give the unnamed If and Constant.
    func names() throws -> (ifNode: String, constant: String) {
        let ifNode = try XCTUnwrap(catalog.entries.first { $0.opType == "If" }).name
        let constant = try XCTUnwrap(catalog.entries.first { $0.opType == "Constant" }).name
        XCTAssertTrue(ifNode.hasPrefix("If_") && Int(ifNode.dropFirst(3)) != nil, ifNode)
        XCTAssertTrue(constant.hasPrefix("Constant_") && Int(constant.dropFirst(9)) != nil, constant)
        return (ifNode, constant)
    }

    func testBodiesAppearInTreeFindInfoAndCompletion() throws {
        let (ifNode, constant) = try names()
        XCTAssertNil(runner.run("tree").error)
        XCTAssertTrue(text.contains("then_branch  2 (1 direct)  [If body]"), text)
        XCTAssertEqual(json?["nodes"]?.intValue, 5)
        let paths = json?["paths"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        XCTAssertEqual(paths, ["/\(ifNode)", "/\(ifNode)/then_branch", "/\(ifNode)/then_branch/blk", "/\(ifNode)/else_branch"])

        XCTAssertNil(runner.run("find op=Constant").error)
        XCTAssertEqual(json?["count"]?.intValue, 1)
        XCTAssertEqual(json?["nodes"]?.arrayValue?.first?["name"]?.stringValue, "\(ifNode)/then_branch/\(constant)")
        XCTAssertEqual(json?["nodes"]?.arrayValue?.first?["body"]?.stringValue, "\(ifNode)/then_branch")
        XCTAssertNil(runner.run("find path=\(ifNode)/else_branch").error)
        XCTAssertEqual(json?["count"]?.intValue, 1)

        // The drawn name of an unnamed node, its qualified path and its id all reach it.
        let id = catalog.entries.first { $0.opType == "Constant" }!.id
        for ref in [constant, "\(ifNode)/then_branch/\(constant)", id.description] {
            XCTAssertNil(runner.run("info \(ref)").error, ref)
            XCTAssertEqual(json?["id"]?.stringValue, id.description, ref)
            XCTAssertTrue(text.contains("then_branch of"), text)
        }
        XCTAssertNil(runner.run("info \(ifNode)/then_branch/blk/Add").error)
        XCTAssertTrue(text.contains("from the enclosing graph"), text)   // xn comes from the top level
        XCTAssertNil(runner.run("info \(ifNode)").error)

        let i = runner.interpreter
        let typed = "tree \(ifNode)/th"
        XCTAssertEqual(i.complete(code: typed, cursorPosition: typed.count).matches.first, "\(ifNode)/then_branch/")
        let typedInfo = "info \(ifNode)/th"
        XCTAssertEqual(i.complete(code: typedInfo, cursorPosition: typedInfo.count).matches,
                       ["\(ifNode)/then_branch/\(constant)", "\(ifNode)/then_branch/blk/Add"])
        let typedNode = "info \(ifNode)/then_branch/C"
        XCTAssertEqual(i.complete(code: typedNode, cursorPosition: typedNode.count).matches, ["\(ifNode)/then_branch/\(constant)"])
        let typedShow = "show \(ifNode)/e"
        XCTAssertTrue(i.complete(code: typedShow, cursorPosition: typedShow.count).matches.contains("\(ifNode)/else_branch"))
        XCTAssertTrue(i.complete(code: "find op=Con", cursorPosition: 11).matches.contains("Constant"))
        XCTAssertTrue(i.inspect(code: "info \(constant)", cursorPosition: 6, detailLevel: 0).found)
    }

    func testASharedNameIsAnErrorThatListsTheNodes() throws {
        let error = runner.run("info Neg").error
        XCTAssertEqual(error?.name, "LookupError")
        let ids = catalog.entries.filter { $0.name == "Neg" }.map(\.id.description)
        XCTAssertEqual(ids.count, 2)
        for id in ids { XCTAssertTrue(error?.value.contains(id) ?? false, error?.value ?? "") }
        XCTAssertTrue(error?.value.contains("else_branch/Neg") ?? false, error?.value ?? "")
        XCTAssertEqual(runner.run("show highlight=[Neg]").error?.name, "LookupError")
        // Each one is still reachable without ambiguity.
        XCTAssertNil(runner.run("info \(ids[0])").error)
        XCTAssertNil(runner.run("info \(try names().ifNode)/else_branch/Neg").error)
    }

    func testShowOpensABodyAndFocusesNodesInside() throws {
        let (ifNode, constant) = try names()
        let constantID = catalog.entries.first { $0.opType == "Constant" }!.id.description
        // Constants are drawn as boxes here (by default they fold into their consumers).
        XCTAssertNil(runner.run("show \(ifNode)/then_branch constants=boxes").error)
        XCTAssertTrue(text.hasPrefix("m \(ifNode)/then_branch:"), text)
        let svg = runner.displays.first?["image/svg+xml"]?.stringValue ?? ""
        XCTAssertTrue(svg.contains("data-id=\"\(constantID)\""), "the body's nodes are drawn")
        XCTAssertTrue(svg.contains("data-id=\"outer:xn\""), "the outer value the body reads is an input")
        XCTAssertFalse(svg.contains("data-id=\"input:x\""), "the top level is not drawn")

        XCTAssertNil(runner.run("show \(ifNode)/then_branch/\(constant)").error)
        XCTAssertTrue(text.hasPrefix("m \(ifNode)/then_branch:"), text)
        XCTAssertNil(runner.run("show \(ifNode)/then_branch highlight=[\(constant)]").error)
        // Outlining needs the node's own graph drawn, and the error says which one that is.
        let e = runner.run("show highlight=[\(constant)]").error
        XCTAssertEqual(e?.name, "LookupError")
        XCTAssertTrue(e?.value.contains("\(ifNode)/then_branch") ?? false, e?.value ?? "")
        // The scope the bodies hang under is their owner, drawn in the top level.
        XCTAssertNil(runner.run("show \(ifNode)").error)
        XCTAssertTrue(text.hasPrefix("m:"), text)
        XCTAssertEqual(runner.run("show \(ifNode)/nowhere").error?.name, "LookupError")
    }

    func testEstimateAndDrawingAgreeOnNodeNames() throws {
        let (ifNode, constant) = try names()
        XCTAssertNil(runner.run("estimate").error)
        let nodes = try XCTUnwrap(json?["nodes"]?.objectValue)
        XCTAssertEqual(nodes.count, catalog.entries.count, "every node, bodies included")
        for (id, figures) in nodes {
            guard case .node(let i) = catalog.lookup(id) else { return XCTFail("estimate id \(id) is not a node") }
            XCTAssertEqual(figures["name"]?.stringValue, catalog.entries[i].name, id)
        }
        let names = Set(nodes.values.compactMap { $0["name"]?.stringValue })
        XCTAssertTrue(names.isSuperset(of: [ifNode, constant]), "\(names)")
        XCTAssertNil(runner.run("show").error)
        XCTAssertTrue(runner.displays.first?["image/svg+xml"]?.stringValue?.contains(">\(ifNode)<") ?? false)
        XCTAssertNil(runner.run("show \(ifNode)/then_branch constants=boxes").error)
        XCTAssertTrue(runner.displays.first?["image/svg+xml"]?.stringValue?.contains(">\(constant)<") ?? false)
    }

    /// silero_vad: 689 nodes, 684 of them in If branches (skips when ../shared is absent).
    func testSileroBodiesAreReachable() throws {
        let model = CorpusCommandTests.corpus.appendingPathComponent("models/silero_vad.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "../shared/corpus is absent")
        XCTAssertNil(runner.run("load \(model.path) as s").error)
        XCTAssertEqual(catalog.entries.count, 689)
        XCTAssertNil(runner.run("tree If_0 depth=1").error)
        XCTAssertEqual(json?["nodes"]?.intValue, 684)
        XCTAssertTrue(text.contains("then_branch") && text.contains("else_branch"), text)
        XCTAssertNil(runner.run("find op=LSTM").error)
        XCTAssertEqual(json?["count"]?.intValue, 4)
        XCTAssertNil(runner.run("show If_0/else_branch").error)
        XCTAssertGreaterThan(json?["nodes"]?.intValue ?? 0, 100)
        XCTAssertNil(runner.run("estimate shape=[\"input:1x576\",\"state:2x1x128\"] sr=16000").error)
        let nodes = try XCTUnwrap(json?["nodes"]?.objectValue)
        XCTAssertEqual(nodes.count, 689)
        for (id, figures) in nodes {
            guard case .node(let i) = catalog.lookup(id) else { return XCTFail("estimate id \(id) is not a node") }
            XCTAssertEqual(figures["name"]?.stringValue, catalog.entries[i].name, id)
        }
        // Every unnamed node's drawn name is accepted by `info`.
        for i in catalog.entries.indices where catalog.node(i)?.name.isEmpty ?? false {
            XCTAssertNil(runner.run("info \(catalog.entries[i].name)").error, catalog.entries[i].name)
        }
    }
}
