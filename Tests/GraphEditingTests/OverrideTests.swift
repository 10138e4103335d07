// Overrides: the diff of two versions, the JSON form (exact floats and int64s), finding nodes
// by id then name, and validation against the op schema.
import Foundation
import GraphEditing
import GraphIR
import XCTest

/// x -> Conv(w) -> c -> LeakyRelu -> y -> Cast -> z -> acme::Thing -> t, plus a second Cast
/// that shares its name with the first.
private func overrideModel() throws -> Model {
    var g = Graph(name: "g")
    try g.addInput(ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [1, 3, 8, 8]))))
    try g.addInput(ValueInfo(name: "w", type: .tensor(.float, TensorShape(static: [4, 3, 3, 3]))))
    try g.addNode(Node(opType: "Conv", name: "conv", inputs: ["x", "w"], outputs: ["c"],
                       attributes: [Attribute("auto_pad", .string(Array("NOTSET".utf8)))]))
    try g.addNode(Node(opType: "LeakyRelu", name: "lr", inputs: ["c"], outputs: ["y"], attributes: [Attribute("alpha", .float(0.01))]))
    try g.addNode(Node(opType: "Cast", name: "cast", inputs: ["y"], outputs: ["z"], attributes: [Attribute("to", .int(10))]))
    try g.addNode(Node(opType: "Cast", name: "twin", inputs: ["y"], outputs: ["z2"], attributes: [Attribute("to", .int(1))]))
    try g.addNode(Node(opType: "Thing", domain: "acme", name: "thing", inputs: ["z"], outputs: ["t"]))
    g.setOutputs([ValueInfo(name: "t"), ValueInfo(name: "z2")])
    return Model(graph: g, opsetImports: [OpsetImport(version: 21), OpsetImport(domain: "acme", version: 1)])
}

private func id(_ m: Model, _ name: String) throws -> NodeID { try XCTUnwrap(m.graph.nodes.first { $0.name == name }).id }

final class OverrideTests: XCTestCase {
    func testDiffJSONAndPlanRebuildTheEditedModel() throws {
        let base = try overrideModel()
        var tx = Transaction(base, origin: "edit")
        try tx.apply(.setAttribute(node: try id(base, "lr"), name: "alpha", value: .float(0.1)))
        try tx.apply(.setAttribute(node: try id(base, "conv"), name: "auto_pad", value: nil))
        try tx.apply(.setAttribute(node: try id(base, "conv"), name: "strides", value: .ints([2, 2])))
        try tx.apply(.setAttribute(node: try id(base, "thing"), name: "limit", value: .ints([Int64.max, -1])))
        try tx.apply(.setAttribute(node: try id(base, "thing"), name: "scale", value: .floats([0.3, .nan])))
        try tx.apply(.annotate(try id(base, "cast"), key: "quantize", value: "int8"))
        let edited = tx.model

        let diff = Overrides.diff(from: base, to: edited, graph: "g")
        XCTAssertEqual(diff.overrides.nodes.map(\.name), ["conv", "lr", "cast", "thing"])
        let text = diff.overrides.json()
        XCTAssertTrue(text.contains("\"alpha\": 0.1}"), text)
        XCTAssertTrue(text.contains("9223372036854775807"), text)
        let parsed = try Overrides.parse(Data(text.utf8))
        // NaN does not compare equal; everything else comes back exactly.
        XCTAssertEqual(parsed.nodes.filter { $0.name != "thing" }, diff.overrides.nodes.filter { $0.name != "thing" })

        let plan = try parsed.plan(for: base)
        XCTAssertEqual(plan.changedNodes, 4)
        var replay = Transaction(base, origin: "overrides")
        try replay.apply(plan.edits)
        let rebuilt = replay.model.graph.nodes.map { [$0.name: $0.attributes.map { "\($0.name)=\($0.value.displayString)" }.joined(separator: ";")
                                                     + "|" + $0.annotations.description] }
        let wanted = edited.graph.nodes.map { [$0.name: $0.attributes.map { "\($0.name)=\($0.value.displayString)" }.joined(separator: ";")
                                                + "|" + $0.annotations.description] }
        XCTAssertEqual(rebuilt, wanted)
        XCTAssertEqual(replay.model.graph.node(try id(base, "lr"))?.attribute("alpha"), .float(0.1), "the float is exact")
        // Applying again changes nothing.
        let again = try parsed.plan(for: replay.model)
        XCTAssertTrue(again.edits.isEmpty)
        XCTAssertEqual(again.unchanged, 4)
    }

    func testValuesAreCheckedAgainstTheSchema() throws {
        let m = try overrideModel()
        func problems(_ json: String) -> [String] {
            do {
                _ = try Overrides.parse(Data(json.utf8)).plan(for: m)
                return []
            } catch let e as OverrideError { return e.problems } catch { return ["\(error)"] }
        }
        let illegal = problems(#"{"overrides": [{"name": "conv", "attributes": {"auto_pad": "SAME"}}]}"#)
        XCTAssertEqual(illegal.count, 1)
        XCTAssertTrue(illegal[0].contains("auto_pad=\"SAME\" is not legal") && illegal[0].contains("SAME_UPPER") && illegal[0].contains("'conv'"), illegal[0])
        XCTAssertTrue(problems(#"{"overrides": [{"name": "conv", "attributes": {"auto_pad": "SAME_UPPER"}}]}"#).isEmpty)
        let required = problems(#"{"overrides": [{"name": "cast", "op": "Cast", "attributes": {"to": null}}]}"#)
        XCTAssertTrue(required.first?.contains("'to' is required") == true, "\(required)")
        let kind = problems(#"{"overrides": [{"name": "lr", "attributes": {"alpha": [1, 2]}}]}"#)
        XCTAssertTrue(kind.first?.contains("attribute 'alpha' is a float; got [1, 2]") == true, "\(kind)")
        let unknown = problems(#"{"overrides": [{"name": "lr", "attributes": {"alpha": 0.2, "alpah": 1}}]}"#)
        XCTAssertTrue(unknown.first?.contains("LeakyRelu has no attribute 'alpah'; did you mean 'alpha'?") == true, "\(unknown)")
        // An op without a schema takes any attribute; the JSON decides its kind.
        let thing = try id(m, "thing")
        let plan = try Overrides.parse(Data(#"{"overrides": [{"name": "thing", "attributes": {"k": 3, "f": 2.5, "s": "x"}}]}"#.utf8)).plan(for: m)
        XCTAssertEqual(plan.edits.map(\.edit), [.setAttribute(node: thing, name: "f", value: .float(2.5)),
                                                .setAttribute(node: thing, name: "k", value: .int(3)),
                                                .setAttribute(node: thing, name: "s", value: .string(Array("x".utf8)))])
    }

    func testNodesAreFoundByIDThenByName() throws {
        let m = try overrideModel()
        let lr = try id(m, "lr"), cast = try id(m, "cast")
        // The id names the node: used.
        var p = try Overrides(graph: "g", nodes: [NodeOverride(node: lr, name: "lr", opType: "LeakyRelu", attributes: ["alpha": .number(0.5)])]).plan(for: m)
        XCTAssertEqual(p.edits.first?.edit, .setAttribute(node: lr, name: "alpha", value: .float(0.5)))
        XCTAssertTrue(p.matchedByName.isEmpty)
        // The id names another node (a file from another export): the name decides.
        p = try Overrides(graph: "g", nodes: [NodeOverride(node: cast, name: "lr", opType: "LeakyRelu", attributes: ["alpha": .number(0.5)])]).plan(for: m)
        XCTAssertEqual(p.edits.first?.edit, .setAttribute(node: lr, name: "alpha", value: .float(0.5)))
        XCTAssertEqual(p.matchedByName.count, 1)
        // No id, and a name two nodes share after a rename: refused, listing both.
        var tx = Transaction(m, origin: "edit")
        try tx.apply(.renameNode(try id(m, "twin"), to: "cast"))
        XCTAssertThrowsError(try Overrides(graph: "g", nodes: [NodeOverride(node: nil, name: "cast", opType: "Cast", attributes: ["to": .int(1)])])
            .plan(for: tx.model)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("2 nodes are named 'cast'") && text.contains(cast.description), text)
        }
        XCTAssertThrowsError(try Overrides(graph: "g", nodes: [NodeOverride(node: NodeID(999), name: "", opType: "", attributes: [:])]).plan(for: m)) { e in
            XCTAssertTrue("\(e)".contains("there is no node n999"), "\(e)")
        }
    }
}
