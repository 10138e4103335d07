// Defects the editing end-to-end tests found in the rewriter and the model check: a removed
// node's outputs keep no value_info, removing a still-read graph input or initializer names its
// readers, and before IR 4 every initializer must stay a graph input.
import GraphEditing
import GraphIR
import XCTest

final class EditHygieneTests: XCTestCase {
    func testRemovedNodeDropsTheDeclarationOfItsOutputs() throws {
        var m = try smallModel()
        let f = ValueType.tensor(.float, TensorShape([.symbolic("batch"), .known(4)]))
        m.graph.setValueInfo(ValueInfo(name: "y", type: f))
        let sig = try XCTUnwrap(m.graph.nodes.first { $0.name == "sig" }).id
        let relu = try XCTUnwrap(m.graph.nodes.first { $0.name == "relu" }).id
        var tx = Transaction(m, origin: "edit")
        try tx.apply(.replaceUses(of: "z", with: "y"))
        try tx.apply(.removeNode(sig))
        XCTAssertNotNil(tx.model.graph.type(of: "y"), "y is still a value (now the graph output)")
        // Bypassing relu too: y disappears, and so must its value_info.
        try tx.apply(.replaceUses(of: "y", with: "x"))
        try tx.apply(.removeNode(relu))
        XCTAssertFalse(tx.model.graph.valueInfo.contains { $0.name == "y" }, "a removed value keeps no value_info")
    }

    func testRemovingAReadInputOrInitializerNamesItsReaders() throws {
        var m = try smallModel()
        try m.graph.setInitializer(Tensor(name: "w", floats: [1, 2, 3, 4], dims: [4]))
        let relu = try XCTUnwrap(m.graph.nodes.first { $0.name == "relu" }).id
        try m.graph.setInput(of: relu, at: 1, to: "w")
        var tx = Transaction(m, origin: "edit")
        XCTAssertThrowsError(try tx.apply(.removeInput("x"))) { e in
            XCTAssertEqual("\(e)", "cannot remove graph input 'x': it is still used by \(relu) 'relu'")
        }
        XCTAssertThrowsError(try tx.apply(.removeInitializer("w"))) { e in
            XCTAssertEqual("\(e)", "cannot remove initializer 'w': it is still used by \(relu) 'relu'")
        }
        XCTAssertEqual(tx.model, m)
    }

    func testANodeOfANewDomainImportsIt() throws {
        let m = try smallModel()
        var tx = Transaction(m, origin: "edit")
        try tx.apply(.addNode(NewNode(opType: "Foo", domain: "com.example", inputs: ["y"], outputs: [""])))
        try tx.apply(.addNode(NewNode(opType: "Bar", domain: "com.example", inputs: ["y"], outputs: [""])))
        XCTAssertEqual(tx.model.opsetImports.map { "\($0.domain):\($0.version)" }, [":21", "com.example:1"])
        XCTAssertEqual(m.opsetImports.count, 1, "the starting model is untouched")
    }

    func testBeforeIR4EveryInitializerMustBeAGraphInput() throws {
        var m = try smallModel()
        try m.graph.setInitializer(Tensor(name: "w", floats: [1], dims: [1]))
        XCTAssertTrue(ModelCheck.problems(of: m).filter { $0.kind == "initializerNotInput" }.isEmpty, "IR 10: allowed")
        m.irVersion = 3
        let p = ModelCheck.problems(of: m).filter { $0.kind == "initializerNotInput" }
        XCTAssertEqual(p.map(\.severity), [.error])
        XCTAssertTrue(p.first?.message.contains("initializer 'w' is not a graph input; IR version 3") ?? false, "\(p)")
        try m.graph.addInput(ValueInfo(name: "w", type: .tensor(.float, TensorShape([.known(1)]))))
        XCTAssertTrue(ModelCheck.problems(of: m).filter { $0.kind == "initializerNotInput" }.isEmpty)
    }
}
