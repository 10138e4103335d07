// The rewriter: edits applied in transactions, fresh names, provenance, listeners, and a failed
// edit leaving the model as it was.
import Foundation
import GraphEditing
import GraphIR
import XCTest

/// x -> Relu -> y -> Sigmoid -> z, with x and z declared.
func smallModel() throws -> Model {
    var g = Graph(name: "g")
    let f = ValueType.tensor(.float, TensorShape([.symbolic("batch"), .known(4)]))
    try g.addInput(ValueInfo(name: "x", type: f))
    try g.addNode(Node(opType: "Relu", name: "relu", inputs: ["x"], outputs: ["y"]))
    try g.addNode(Node(opType: "Sigmoid", name: "sig", inputs: ["y"], outputs: ["z"]))
    g.setOutputs([ValueInfo(name: "z", type: f)])
    return Model(graph: g, opsetImports: [OpsetImport(version: 21)])
}

final class Recorder: RewriteListener {
    var seen: [String] = []
    func transaction(didApply edit: ScopedEdit, effect: EditEffect) { seen.append(edit.edit.summary) }
}

final class TransactionTests: XCTestCase {
    func testAddNodeGetsFreshOutputNameAndProvenance() throws {
        let m = try smallModel()
        var tx = Transaction(m, origin: "edit add")
        let effect = try tx.apply(.addNode(NewNode(opType: "Relu", inputs: ["y"], outputs: [""])))
        let id = try XCTUnwrap(effect.addedNodes.first)
        let n = try XCTUnwrap(tx.model.graph.node(id))
        XCTAssertEqual(n.outputs.array, ["Relu_out0"])
        XCTAssertEqual(n.provenance.origin, "edit add")
        // A second one does not reuse the name.
        let e2 = try tx.apply(.addNode(NewNode(opType: "Relu", inputs: ["y"], outputs: [""])))
        XCTAssertEqual(tx.model.graph.node(e2.addedNodes[0])?.outputs.array, ["Relu_out0_1"])
        // The recorded edit carries the chosen name, so replaying it gives the same graph.
        guard case .addNode(let spec) = tx.applied[0].edit else { return XCTFail("not an add") }
        XCTAssertEqual(spec.outputs, ["Relu_out0"])
        // The starting model is untouched.
        XCTAssertEqual(m.graph.nodes.count, 2)
    }

    func testFailedEditLeavesTransactionModelUnchanged() throws {
        var tx = Transaction(try smallModel(), origin: "edit")
        let before = tx.model
        let relu = try XCTUnwrap(before.graph.nodes.first { $0.name == "relu" }).id
        XCTAssertThrowsError(try tx.apply(.removeNode(relu))) { e in
            XCTAssertTrue("\(e)".contains("still used"), "\(e)")
        }
        XCTAssertEqual(tx.model, before)
        XCTAssertTrue(tx.applied.isEmpty)
        // A cycle: Relu reading Sigmoid's output.
        XCTAssertThrowsError(try tx.apply(.setInput(node: relu, index: 0, value: "z"))) { e in
            XCTAssertTrue("\(e)".contains("cycle"), "\(e)")
        }
        XCTAssertEqual(tx.model, before)
    }

    func testListenersHearEveryEdit() throws {
        let r = Recorder()
        var tx = Transaction(try smallModel(), origin: "edit", listeners: [r])
        let sig = try XCTUnwrap(tx.model.graph.nodes.first { $0.name == "sig" }).id
        try tx.apply(.setAttribute(node: sig, name: "note", value: .int(1)))
        try tx.apply(.renameNode(sig, to: "sigmoid"))
        XCTAssertEqual(r.seen, ["set \(sig).note", "rename \(sig) to sigmoid"])
    }

    func testSetDimensionReplacesSymbolEverywhereAndRefusesUnknownSymbols() throws {
        var tx = Transaction(try smallModel(), origin: "edit")
        try tx.apply(.setDimension(from: .symbolic("batch"), to: .known(8), value: nil, axis: nil))
        XCTAssertEqual(tx.model.graph.inputs[0].type?.shape?.dims, [.known(8), .known(4)])
        XCTAssertEqual(tx.model.graph.outputs[0].type?.shape?.dims, [.known(8), .known(4)])
        XCTAssertThrowsError(try tx.apply(.setDimension(from: .symbolic("btach"), to: .known(2), value: nil, axis: nil))) { e in
            XCTAssertTrue("\(e)".contains("btach"), "\(e)")
        }
    }

    func testEditsRoundTripThroughJSON() throws {
        let edits: [ScopedEdit] = [
            ScopedEdit(.addNode(NewNode(opType: "LeakyRelu", name: "lr", inputs: ["x"], outputs: ["o"],
                                        attributes: [Attribute("alpha", .float(.nan)), Attribute("axes", .ints([0, -1]))],
                                        sources: [NodeID(3)], annotations: ["fuse": "false"]))),
            ScopedEdit(.setAttribute(node: NodeID(2), name: "mode", value: .text("linear")), in: [BodyStep(owner: NodeID(7), attribute: "then_branch")]),
            ScopedEdit(.setInitializer(Tensor(name: "W", floats: [1, -0.0, 3], dims: [3]))),
            ScopedEdit(.setDimension(from: .symbolic("seq"), to: .known(128), value: nil, axis: nil)),
            ScopedEdit(.addInput(name: "m", type: .tensor(.int64, TensorShape([.symbolic("b"), .unknown])))),
            ScopedEdit(.annotate(NodeID(1), key: "quantize", value: nil)),
        ]
        let data = try JSONEncoder().encode(edits)
        let back = try JSONDecoder().decode([ScopedEdit].self, from: data)
        XCTAssertEqual(back.count, edits.count)
        // NaN != NaN: compare the bit pattern of the float attribute, the rest with ==.
        guard case .addNode(let a) = back[0].edit, case .float(let f)? = a.attributes.first?.value else { return XCTFail() }
        XCTAssertEqual(f.bitPattern, Float.nan.bitPattern)
        XCTAssertEqual(Array(back.dropFirst()), Array(edits.dropFirst()))
        // A graph-valued attribute cannot be stored: a clear error, not a crash.
        let body = ScopedEdit(.setAttribute(node: NodeID(1), name: "then_branch", value: .graph(Graph(name: "b"))))
        XCTAssertThrowsError(try JSONEncoder().encode([body]))
    }
}

final class ProvenanceTests: XCTestCase {
    /// A node made from annotated sources (a fusion) inherits what they agree on; keys they
    /// disagree on are left off and reported.
    func testFusedNodeInheritsAgreedAnnotationsAndReportsConflicts() throws {
        var tx = Transaction(try smallModel(), origin: "pass fuse")
        let relu = try XCTUnwrap(tx.model.graph.nodes.first { $0.name == "relu" }).id
        let sig = try XCTUnwrap(tx.model.graph.nodes.first { $0.name == "sig" }).id
        try tx.apply(.annotate(relu, key: "quantize", value: "int8"))
        try tx.apply(.annotate(sig, key: "quantize", value: "int8"))
        try tx.apply(.annotate(relu, key: "fuse", value: "true"))
        try tx.apply(.annotate(sig, key: "fuse", value: "false"))
        let e = try tx.apply(.addNode(NewNode(opType: "HardSwish", inputs: ["x"], outputs: [""], sources: [relu, sig])))
        let fused = try XCTUnwrap(tx.model.graph.node(e.addedNodes[0]))
        XCTAssertEqual(fused.annotations, ["quantize": "int8"])
        XCTAssertEqual(fused.provenance, Provenance(sources: [relu, sig], origin: "pass fuse"))
        XCTAssertEqual(tx.annotationConflicts.map(\.key), ["fuse"])
        XCTAssertEqual(tx.annotationConflicts.first?.values, ["false", "true"])
    }
}

/// The batch removals of a transaction are shortcuts: the same model, the same recorded edits,
/// effects and listener calls as applying `.removeNode` / `.removeInitializer` one by one
/// (including which value_info declarations go: an output loses its declaration only once
/// nothing reads it after its own node is gone).
final class BatchTransactionTests: XCTestCase {
    /// x -> a -> b -> c (a chain, each declared), with a side reader of b and two unread weights.
    func model() throws -> Model {
        var g = Graph(name: "g")
        let f = ValueType.tensor(.float, TensorShape([.known(4)]))
        try g.addInput(ValueInfo(name: "x", type: f))
        try g.setInitializer(Tensor(name: "w0", floats: [1, 2, 3, 4], dims: [4]))
        try g.setInitializer(Tensor(name: "u0", floats: [0], dims: [1]))
        try g.setInitializer(Tensor(name: "u1", floats: [1], dims: [1]))
        try g.addNode(Node(opType: "Add", name: "A", inputs: ["x", "w0"], outputs: ["a"]))
        try g.addNode(Node(opType: "Relu", name: "B", inputs: ["a"], outputs: ["b"]))
        try g.addNode(Node(opType: "Neg", name: "C", inputs: ["b"], outputs: ["c"]))
        try g.addNode(Node(opType: "Abs", name: "D", inputs: ["b"], outputs: ["d"]))
        for v in ["a", "b", "c"] { g.setValueInfo(ValueInfo(name: v, type: f)) }
        g.setOutputs([ValueInfo(name: "d", type: f)])
        return Model(graph: g, opsetImports: [OpsetImport(version: 21)])
    }

    func testRemovingNodesInABatchEqualsOneByOne() throws {
        let m = try model()
        // A, B, C, D by name (a new node goes right after its producers: D sits before C).
        let ids = try ["A", "B", "C", "D"].map { name in try XCTUnwrap(m.graph.nodes.first { $0.name == name }?.id) }
        // Producer first (its output is still read by a later-listed node), then consumers.
        for order in [[ids[0], ids[1], ids[2]], [ids[2], ids[1], ids[0]], [ids[1], ids[2]], [ids[0], ids[2], ids[1], ids[3]]] {
            let r1 = Recorder(), r2 = Recorder()
            var one = Transaction(m, origin: "t", allowDangling: true, listeners: [r1])
            var batch = Transaction(m, origin: "t", allowDangling: true, listeners: [r2])
            for id in order { try one.apply(.removeNode(id)) }
            try batch.apply(removingNodes: order)
            XCTAssertEqual(batch.model, one.model, "order \(order)")
            XCTAssertEqual(batch.model.graph.valueInfo.map(\.name), one.model.graph.valueInfo.map(\.name), "order \(order)")
            XCTAssertEqual(batch.applied, one.applied)
            XCTAssertEqual(batch.effect, one.effect)
            XCTAssertEqual(r2.seen, r1.seen)
        }
        // Without allowDangling, removing a producer before its reader is refused both ways.
        var strict = Transaction(m, origin: "t")
        XCTAssertThrowsError(try strict.apply(removingNodes: [ids[1], ids[2]]))
        XCTAssertThrowsError(try strict.apply(.removeNode(ids[1])))
        XCTAssertThrowsError(try strict.apply(removingNodes: [ids[2], ids[1]]))  // D still reads b
        XCTAssertEqual(strict.model, m, "a refused batch changed the model")
        // Readers listed first: allowed (C reads b, B reads a; c is read by nothing).
        try strict.apply(removingNodes: [ids[2]])
        XCTAssertEqual(Set(strict.model.graph.nodes.map(\.id)), [ids[0], ids[1], ids[3]])
    }

    func testRemovingInitializersInABatchEqualsOneByOne() throws {
        let m = try model()
        var one = Transaction(m, origin: "t"), batch = Transaction(m, origin: "t")
        for name in ["u1", "u0"] { try one.apply(.removeInitializer(name)) }
        try batch.apply(removingInitializers: ["u1", "u0"])
        XCTAssertEqual(batch.model, one.model)
        XCTAssertEqual(batch.applied, one.applied)
        XCTAssertEqual(batch.effect, one.effect)
        // IR 3: the weights are inputs too; the inputs go in one batch, as one by one.
        var legacy = m
        for name in ["w0", "u0", "u1"] { try legacy.graph.addInput(ValueInfo(name: name)) }
        var oneIn = Transaction(legacy, origin: "t"), batchIn = Transaction(legacy, origin: "t")
        for name in ["u1", "u0", "w0"] { try oneIn.apply(.removeInput(name)) }
        try batchIn.apply(removingInputs: ["u1", "u0", "w0"])
        XCTAssertEqual(batchIn.model, oneIn.model)
        XCTAssertEqual(batchIn.model.graph.inputs.map(\.name), ["x"])
        XCTAssertEqual(batchIn.applied, oneIn.applied)
        XCTAssertEqual(batchIn.effect, oneIn.effect)
        // A weight still read is refused (and named), as one by one.
        XCTAssertThrowsError(try batch.apply(removingInitializers: ["u0", "w0"]))
        XCTAssertThrowsError(try one.apply(.removeInitializer("w0")))
    }
}
