import XCTest
import GraphIR
import GraphRuntime
@testable import GraphPasses

final class FuseAttentionTests: XCTestCase {
    static let w = (0..<320).map { Float((($0 * 29) % 17)) / 17 - 0.5 }

    /// BERT's self-attention as the legacy exporter writes it: Q, K, V projections of x
    /// [2, 5, 16], Reshape [0, 0, 4, 4] + Transpose into 4 heads (K straight to [0,2,3,1]),
    /// scores / 2 + mask, Softmax, · V, Transpose + Reshape back to [2, 5, 16].
    static func block(mask: [Float]? = (0..<50).map { $0 % 7 == 3 ? -10000 : 0 }, maskDims: [Int64] = [2, 1, 5, 5],
                      axis: Int64 = -1, guardValue: Float? = nil, opset: Int64 = 17, merge: String = "3d") -> Model {
        var nodes: [Node] = []
        var inits = [Tensor(name: "hs", int64s: [0, 0, 4, 4], dims: [4]), Tensor(name: "os", int64s: [0, 0, 16], dims: [3]), PT.c("two", [2])]
        for (k, p) in ["q", "k", "v"].enumerated() {
            inits.append(PT.c("W\(p)", Array(w[(k * 16)..<(k * 16 + 256)]), [16, 16]))
            inits.append(PT.c("b\(p)", (0..<16).map { Float($0 + k) / 32 }, [16]))
            nodes.append(Node(opType: "MatMul", inputs: ["x", "W\(p)"], outputs: ["\(p)m"]))
            nodes.append(Node(opType: "Add", inputs: ["\(p)m", "b\(p)"], outputs: ["\(p)3"]))
            nodes.append(Node(opType: "Reshape", inputs: ["\(p)3", "hs"], outputs: ["\(p)r"]))
            nodes.append(Node(opType: "Transpose", inputs: ["\(p)r"], outputs: ["\(p)4"],
                              attributes: [Attribute("perm", .ints(p == "k" ? [0, 2, 3, 1] : [0, 2, 1, 3]))]))
        }
        nodes.append(Node(opType: "MatMul", inputs: ["q4", "k4"], outputs: ["s"]))
        nodes.append(Node(opType: "Div", inputs: ["s", "two"], outputs: ["ss"]))
        var scores = "ss"
        if let mask {
            inits.append(PT.c("mask", mask, maskDims))
            nodes.append(Node(opType: "Add", inputs: ["ss", "mask"], outputs: ["sm"]))
            scores = "sm"
        }
        nodes.append(Node(opType: "Softmax", inputs: [scores], outputs: ["p"], attributes: [Attribute("axis", .int(axis))]))
        var probs = "p"
        if let g = guardValue {
            inits.append(PT.c("g", [g]))
            nodes.append(Node(opType: "IsNaN", inputs: ["p"], outputs: ["nan"]))
            nodes.append(Node(opType: "Where", inputs: ["nan", "g", "p"], outputs: ["pg"]))
            probs = "pg"
        }
        nodes.append(Node(opType: "MatMul", inputs: [probs, "v4"], outputs: ["a"]))
        nodes.append(Node(opType: "Transpose", inputs: ["a"], outputs: ["at"], attributes: [Attribute("perm", .ints([0, 2, 1, 3]))]))
        // GPT-2 also (or only) reshapes the merged heads to [B·S, E] for its projection.
        inits.append(Tensor(name: "flat", int64s: [-1, 16], dims: [2]))
        var outputs: [ValueInfo] = []
        if merge != "flat" {
            nodes.append(Node(opType: "Reshape", inputs: ["at", "os"], outputs: ["y"]))
            outputs.append(PT.f("y", [2, 5, 16]))
        }
        if merge != "3d" {
            nodes.append(Node(opType: "Reshape", inputs: ["at", "flat"], outputs: ["y2"]))
            outputs.append(PT.f("y2", [10, 16]))
        }
        return PT.model(nodes, inputs: [PT.f("x", [2, 5, 16])], outputs: outputs, initializers: inits, opset: opset)
    }

    func testTheWrittenOutBlockBecomesOneAttentionOnThe3DProjections() throws {
        let m = Self.block()
        let run = try PT.run("fuse-attention,dce", m)
        let out = run.transaction.model
        let att = try XCTUnwrap(out.graph.nodes.first { $0.opType == "Attention" })
        XCTAssertEqual(out.opsetVersion(for: ""), 23, "the opset is raised for Attention")
        XCTAssertEqual(Array(att.inputs.array), ["q3", "k3", "v3", "mask"])
        XCTAssertEqual(att.attribute("q_num_heads")?.intValue, 4)
        XCTAssertEqual(att.attribute("kv_num_heads")?.intValue, 4)
        XCTAssertEqual(att.attribute("scale")?.floatValue ?? 0, 0.5, accuracy: 1e-7)
        XCTAssertEqual(run.records.first?.groups.first?.description, "13 nodes -> 1 Attention (fuse-attention)")
        XCTAssertEqual(out.graph.nodes.filter { $0.opType == "Attention" }.count, 1)
        XCTAssertEqual(out.graph.nodes.count, 7, "the six projection nodes stay")
        // Provenance: the original nodes of the block, the pass name.
        XCTAssertEqual(att.provenance.sources.count, 13)
        XCTAssertEqual(att.provenance.origin, "pass fuse-attention")
        PT.assertClose(try PT.outputs(out, input: "x", shape: [2, 5, 16]), try PT.outputs(m, input: "x", shape: [2, 5, 16]))
    }

    func testOrtGetsMultiHeadAttentionAndTheFiniteNaNGuardIsDropped() throws {
        let m = Self.block(guardValue: 0)
        let run = try PT.run("fuse-attention,dce", m, target: .ort)
        let out = run.transaction.model
        let mha = try XCTUnwrap(out.graph.nodes.first { $0.opType == "MultiHeadAttention" })
        XCTAssertEqual(mha.domain, "com.microsoft")
        XCTAssertEqual(Array(mha.inputs.array), ["q3", "k3", "v3", "", "", "mask"])
        XCTAssertEqual(mha.attribute("num_heads")?.intValue, 4)
        XCTAssertEqual(out.opsetVersion(for: ""), 17, "MultiHeadAttention needs no opset raise")
        XCTAssertFalse(out.graph.nodes.contains { $0.opType == "IsNaN" || $0.opType == "Where" })
        PT.assertClose(try PT.outputs(out, input: "x", shape: [2, 5, 16]), try PT.outputs(m, input: "x", shape: [2, 5, 16]))
    }

    func testAnInfiniteMaskWithTheNaNGuardStaysOnAttentionForOrt() throws {
        // -inf can mask a whole row; the guard makes that row 0, as ONNX Attention in
        // onnxruntime does, while MultiHeadAttention would give NaN.
        let m = Self.block(mask: (0..<50).map { $0 % 5 == 4 ? -.infinity : 0 }, guardValue: 0)
        let run = try PT.run("fuse-attention,dce", m, target: .ort)
        let ops = run.transaction.model.graph.nodes.map(\.opType)
        XCTAssertTrue(ops.contains("Attention") && !ops.contains("MultiHeadAttention"), "\(ops)")
        PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 5, 16]), try PT.outputs(m, input: "x", shape: [2, 5, 16]))
    }

    func testTheCoreFormOn4DHeadsBecomesAttentionOn4DInputs() throws {
        // Heads already split: Mul(Q, s) · Transpose(K) with the scale on K too, Softmax, · V.
        let nodes = [Node(opType: "Mul", inputs: ["q", "s1"], outputs: ["qs"]),
                     Node(opType: "Transpose", inputs: ["k"], outputs: ["kt"], attributes: [Attribute("perm", .ints([0, 1, 3, 2]))]),
                     Node(opType: "Mul", inputs: ["kt", "s2"], outputs: ["kts"]),
                     Node(opType: "MatMul", inputs: ["qs", "kts"], outputs: ["sc"]),
                     Node(opType: "Softmax", inputs: ["sc"], outputs: ["p"], attributes: [Attribute("axis", .int(3))]),
                     Node(opType: "MatMul", inputs: ["p", "v"], outputs: ["y"])]
        let m = PT.model(nodes, inputs: [PT.f("q", [1, 2, 3, 4]), PT.f("k", [1, 2, 6, 4]), PT.f("v", [1, 2, 6, 5])],
                         outputs: [PT.f("y", [1, 2, 3, 5])], initializers: [PT.c("s1", [0.5]), PT.c("s2", [0.75])], opset: 13)
        let run = try PT.run("fuse-attention", m)
        let out = run.transaction.model
        XCTAssertEqual(out.graph.nodes.map(\.opType), ["Attention"])
        XCTAssertEqual(Array(out.graph.nodes[0].inputs.array), ["q", "k", "v"])
        XCTAssertEqual(out.graph.nodes[0].attribute("scale")?.floatValue ?? 0, 0.375, accuracy: 1e-7)
        let feeds = ["q": Self.tensor([1, 2, 3, 4], 1), "k": Self.tensor([1, 2, 6, 4], 2), "v": Self.tensor([1, 2, 6, 5], 3)]
        PT.assertClose(try Interpreter(model: out).run(feeds).outputs.flatMap { $0.tensor.floatValues() },
                       try Interpreter(model: m).run(feeds).outputs.flatMap { $0.tensor.floatValues() })
    }

    func testOtherReshapesOfTheMergedHeadsAreRemadeOnTheAttentionOutput() throws {
        for merge in ["both", "flat"] {
            let m = Self.block(merge: merge)
            let run = try PT.run("fuse-attention,dce", m)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.filter { $0.opType == "Attention" }.count, 1, merge)
            XCTAssertFalse(g.nodes.contains { $0.opType == "Transpose" || $0.opType == "Softmax" }, merge)
            let flat = try XCTUnwrap(g.nodes.first { $0.outputs.first == "y2" })
            XCTAssertEqual(flat.opType, "Reshape")
            XCTAssertEqual(g.producerNode(of: flat.inputs[0])?.opType, "Attention", "the projection's Reshape reads the merged value")
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 5, 16]), try PT.outputs(m, input: "x", shape: [2, 5, 16]))
        }
    }

    func testRepeatedKeyValueHeadsBecomeGroupedQueryAttention() throws {
        // transformers' repeat_kv: [1, 2, 6, 4] -> Unsqueeze(2) -> Expand [1, 2, 2, 6, 4] -> Reshape [1, 4, 6, 4].
        var nodes: [Node] = []
        for p in ["k", "v"] {
            nodes += [Node(opType: "Unsqueeze", inputs: [p, "ax"], outputs: ["\(p)u"]),
                      Node(opType: "Expand", inputs: ["\(p)u", "es"], outputs: ["\(p)e"]),
                      Node(opType: "Reshape", inputs: ["\(p)e", "rs"], outputs: ["\(p)r"])]
        }
        nodes += [Node(opType: "Transpose", inputs: ["kr"], outputs: ["kt"], attributes: [Attribute("perm", .ints([0, 1, 3, 2]))]),
                  Node(opType: "MatMul", inputs: ["q", "kt"], outputs: ["sc"]),
                  Node(opType: "Mul", inputs: ["sc", "s"], outputs: ["ss"]),
                  Node(opType: "Softmax", inputs: ["ss"], outputs: ["p"]),
                  Node(opType: "MatMul", inputs: ["p", "vr"], outputs: ["y"])]
        let m = PT.model(nodes, inputs: [PT.f("q", [1, 4, 3, 4]), PT.f("k", [1, 2, 6, 4]), PT.f("v", [1, 2, 6, 4])],
                         outputs: [PT.f("y", [1, 4, 3, 4])],
                         initializers: [Tensor(name: "ax", int64s: [2], dims: [1]), Tensor(name: "es", int64s: [1, 2, 2, 6, 4], dims: [5]),
                                        Tensor(name: "rs", int64s: [1, 4, 6, 4], dims: [4]), PT.c("s", [0.5])], opset: 13)
        let run = try PT.run("fuse-attention", m)
        let out = run.transaction.model
        XCTAssertEqual(out.graph.nodes.map(\.opType), ["Attention"])
        XCTAssertEqual(Array(out.graph.nodes[0].inputs.array), ["q", "k", "v"], "K and V at their 2 kv heads")
        let feeds = ["q": Self.tensor([1, 4, 3, 4], 1), "k": Self.tensor([1, 2, 6, 4], 2), "v": Self.tensor([1, 2, 6, 4], 3)]
        PT.assertClose(try Interpreter(model: out).run(feeds).outputs.flatMap { $0.tensor.floatValues() },
                       try Interpreter(model: m).run(feeds).outputs.flatMap { $0.tensor.floatValues() })
    }

    func testPackedQKVAsSVTRWritesItBecomesASplitAndOneAttention() throws {
        // [2, 5, 24] -> Reshape [0, 0, 3, 2, 4] -> Transpose [2, 0, 3, 1, 4] -> Q, K by Slice + Squeeze, V by Gather.
        var nodes = [Node(opType: "MatMul", inputs: ["x", "W"], outputs: ["qkv"]),
                     Node(opType: "Reshape", inputs: ["qkv", "s5"], outputs: ["r5"]),
                     Node(opType: "Transpose", inputs: ["r5"], outputs: ["t5"], attributes: [Attribute("perm", .ints([2, 0, 3, 1, 4]))])]
        for (i, p) in ["q", "k"].enumerated() {
            nodes += [Node(opType: "Slice", inputs: ["t5", "i\(i)", "i\(i + 1)", "i0"], outputs: ["\(p)s"]),
                      Node(opType: "Squeeze", inputs: ["\(p)s", "i0"], outputs: ["\(p)4"])]
        }
        nodes += [Node(opType: "Gather", inputs: ["t5", "two"], outputs: ["v4"], attributes: [Attribute("axis", .int(0))]),
                  Node(opType: "Mul", inputs: ["q4", "half"], outputs: ["qh"]),
                  Node(opType: "Transpose", inputs: ["k4"], outputs: ["kt"], attributes: [Attribute("perm", .ints([0, 1, 3, 2]))]),
                  Node(opType: "MatMul", inputs: ["qh", "kt"], outputs: ["sc"]),
                  Node(opType: "Softmax", inputs: ["sc"], outputs: ["p"]),
                  Node(opType: "MatMul", inputs: ["p", "v4"], outputs: ["a"]),
                  Node(opType: "Transpose", inputs: ["a"], outputs: ["at"], attributes: [Attribute("perm", .ints([0, 2, 1, 3]))]),
                  Node(opType: "Reshape", inputs: ["at", "s3"], outputs: ["y"])]
        let inits = [PT.c("W", Array(Self.w[0..<192]), [8, 24]), Tensor(name: "s5", int64s: [0, 0, 3, 2, 4], dims: [5]),
                     Tensor(name: "s3", int64s: [0, 0, 8], dims: [3]), Tensor(name: "i0", int64s: [0], dims: [1]),
                     Tensor(name: "i1", int64s: [1], dims: [1]), Tensor(name: "i2", int64s: [2], dims: [1]),
                     Tensor(name: "two", int64s: [2], dims: []), PT.c("half", [0.5])]
        let m = PT.model(nodes, inputs: [PT.f("x", [2, 5, 8])], outputs: [PT.f("y", [2, 5, 8])], initializers: inits, opset: 13)
        for (target, op) in [(PassTarget.onnx, "Attention"), (.ort, "MultiHeadAttention")] {
            let run = try PT.run("fuse-attention,dce", m, target: target)
            let g = run.transaction.model.graph
            XCTAssertEqual(g.nodes.map(\.opType), ["MatMul", "Split", op], "\(target)")
            XCTAssertEqual(run.records.first?.groups.first?.removed.count, 14)
            PT.assertClose(try PT.outputs(run.transaction.model, input: "x", shape: [2, 5, 8]), try PT.outputs(m, input: "x", shape: [2, 5, 8]))
        }
    }

    static func tensor(_ shape: [Int], _ seed: Int) -> RuntimeTensor {
        RuntimeTensor(floats: (0..<shape.reduce(1, *)).map { Float((($0 + seed * 11) * 37) % 23) / 9 - 1.2 }, shape: shape)
    }

    func testNearMissesNameTheFailedCondition() throws {
        let cases: [(Model, String)] = [
            (Self.block(axis: 2), "Softmax is not over the last axis (axis 2)"),
            (Self.block(mask: (0..<10).map { Float($0 % 3) }, maskDims: [2, 1, 1, 5]), "the mask is not proven to cover [query, key] exactly"),
        ]
        for (m, condition) in cases {
            let run = try PT.run("fuse-attention", m)
            XCTAssertFalse(run.changed, condition)
            XCTAssertTrue(run.nearMisses.contains { $0.pattern == "attention" && $0.condition.hasPrefix(condition) }, "\(run.nearMisses)")
        }
        // A second reader of the scores: the block cannot disappear.
        var m = Self.block()
        m.graph = Graph(nodes: m.graph.nodes, inputs: m.graph.inputs, outputs: m.graph.outputs + [PT.f("ss", [2, 4, 5, 5])],
                        initializers: m.graph.initializers)
        let run = try PT.run("fuse-attention", m)
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition == "'ss' is a graph output" && $0.matched.count >= 8 }, "\(run.nearMisses)")
    }

    func testAnnotationsAndScopeAreRespected() throws {
        var m = Self.block()
        let softmax = try XCTUnwrap(m.graph.nodes.first { $0.opType == "Softmax" })
        try m.graph.modifyNode(softmax.id) { $0.annotations["fuse"] = "false" }
        let run = try PT.run("fuse-attention", m)
        XCTAssertFalse(run.changed)
        XCTAssertTrue(run.nearMisses.contains { $0.condition == "annotation fuse=false" && $0.failedAt == softmax.id }, "\(run.nearMisses)")

        var kept = Self.block()
        let mm = try XCTUnwrap(kept.graph.nodes.first { $0.opType == "MatMul" && $0.inputs[0] == "q4" })
        try kept.graph.modifyNode(mm.id) { $0.annotations["keep"] = "true" }
        XCTAssertFalse(try PT.run("fuse-attention", kept).changed)

        var scoped = Self.block()
        for n in scoped.graph.nodes { try scoped.graph.modifyNode(n.id) { $0.hierarchyPath = n.opType == "Softmax" ? ["b"] : ["a"] } }
        let outside = try PassManager(passes: BuiltInPasses.pipeline("fuse-attention"), options: PassOptions(scope: ["a"])).run(scoped, origin: "p")
        XCTAssertFalse(outside.changed, "the Softmax is outside scope=a")
    }
}
