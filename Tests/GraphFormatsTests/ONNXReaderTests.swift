import Foundation
import XCTest
@testable import GraphFormats
import GraphIR

final class ONNXReaderTests: XCTestCase {
    func testTransformerFixtureHierarchyFromTorchMetadata() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("transformer_like.onnx"))
        XCTAssertEqual(m.producerName, "pytorch")
        XCTAssertEqual(m.metadataProps["source"], "graphsmith fixture")
        XCTAssertEqual(m.opsetVersion(for: ""), 20)
        let g = m.graph
        XCTAssertEqual(g.nodes.count, 28)
        let h = Hierarchy(g)
        XCTAssertEqual(h.children(of: []), ["layers.0", "layers.1"])
        XCTAssertEqual(h.children(of: ["layers.0"]), ["ln1", "self_attn", "mlp"])
        XCTAssertEqual(h.children(of: ["layers.0", "self_attn"]), ["q_proj", "k_proj", "v_proj", "o_proj"])
        XCTAssertEqual(h.count(under: ["layers.1"]), 14)
        XCTAssertEqual(h.count(under: ["layers.0", "self_attn"]), 8)
        let q = try XCTUnwrap(g.nodes.first { $0.name.hasPrefix("/layers.0/self_attn/q_proj/MatMul") })
        XCTAssertEqual(h.path(of: q.id), ["layers.0", "self_attn", "q_proj"])
        XCTAssertEqual(Hierarchy.path(of: q).1, .nameScopes)
        // Same tree from node names alone.
        var stripped = q
        stripped.metadataProps = MetadataProps()
        XCTAssertEqual(Hierarchy.path(of: stripped).0, ["layers.0", "self_attn", "q_proj"])
        // Types and parameters.
        XCTAssertEqual(g.type(of: "input_ids_embedded"), .tensor(.float, TensorShape([.symbolic("seq"), .known(16)])))
        let s = g.summary()
        XCTAssertEqual(s.parameterCount, 2 * (16 + 16 + 4 * 256 + 2 * 16 * 64))
        XCTAssertEqual(s.opHistogram["MatMul"], 16)
        XCTAssertTrue(g.validate().isEmpty, "\(g.validate())")
        // Weights are views into the mapped file, not copies.
        XCTAssertTrue(try XCTUnwrap(g.initializers.first).isFileBacked)
    }

    func testExternalDataIsMappedLazily() throws {
        let url = try TestPaths.fixture("external_data.onnx")
        let m = try ONNXReader.load(url)
        let a = try XCTUnwrap(m.graph.initializer(named: "A"))
        XCTAssertEqual(a.external?.location, "external_data.onnx.data")
        guard case .raw(let slice) = a.data else { return XCTFail("external data should be a raw view") }
        XCTAssertTrue(slice.storage.origin.hasSuffix("external_data.onnx.data"))
        XCTAssertEqual(a.byteCount, 64 * 32 * 4)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: try TestPaths.fixture("external_data.expected.json"))) as? [String: Double]
        let sum = try a.floatValues().reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(sum, try XCTUnwrap(expected?["A_sum"]), accuracy: 1e-3)
        let b = try XCTUnwrap(m.graph.initializer(named: "B")).floatValues()
        XCTAssertEqual(Double(b[0]), try XCTUnwrap(expected?["B_first"]), accuracy: 1e-6)
        XCTAssertEqual(Double(b[b.count - 1]), try XCTUnwrap(expected?["B_last"]), accuracy: 1e-6)
    }

    func testEveryDtypeDecodesToExpectedValues() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("every_dtype.onnx"))
        var seen = Set<ElementType>()
        for t in m.graph.initializers {
            seen.insert(t.elementType)
            let expected = try JSONSerialization.jsonObject(with: Data(t.docString.utf8)) as? [Any]
            if t.elementType == .string {
                XCTAssertEqual(try t.stringValues().map { String(decoding: $0, as: UTF8.self) }, expected as? [String])
                continue
            }
            let want = try XCTUnwrap(expected as? [Double], t.name)
            XCTAssertEqual(try t.doubleValues(), want, t.name)
            if t.name.hasSuffix("_typed") {
                if case .lazy = t.data {} else { XCTFail("\(t.name) should be lazily decoded typed data") }
            }
        }
        XCTAssertEqual(seen.count, ElementType.allCases.count - 1, "every type but undefined is covered")
    }

    func testControlFlowSubgraphsLinkOuterValues() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("control_flow.onnx"))
        let g = m.graph
        let ifNode = try XCTUnwrap(g.nodes.first { $0.opType == "If" })
        guard case .graph(let then)? = ifNode.attribute("then_branch") else { return XCTFail() }
        XCTAssertTrue(then.isSubgraph)
        XCTAssertEqual(then.outerScopeReferences, ["bias", "x"])
        XCTAssertEqual(then.producer(of: "x"), .outerScope)
        XCTAssertTrue(g.uses(of: "bias").contains(ValueUse(node: ifNode.id, slot: .subgraph(attribute: "then_branch"))))
        let loop = try XCTUnwrap(g.nodes.first { $0.opType == "Loop" })
        XCTAssertEqual(loop.inputs, ["trip", "", "r"])
        XCTAssertEqual(g.summary().totalNodeCount, 4 + 1 + 1 + 2)
        XCTAssertTrue(g.validate().isEmpty, "\(g.validate())")
        // Node ids are unique across the model, subgraphs included.
        let ids = g.allNodes().map(\.node.id)
        XCTAssertEqual(Set(ids).count, ids.count)
        var edited = g
        let new = try edited.addNode(Node(opType: "Neg", inputs: ["final"], outputs: ["neg"]))
        XCTAssertFalse(ids.contains(new))
    }

    func testSparseFunctionsTrainingInfoAndUnknownFieldsKept() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("sparse_functions.onnx"))
        XCTAssertEqual(m.graph.sparseInitializers.count, 1)
        XCTAssertEqual(m.graph.sparseInitializers[0].dims, [2, 4])
        XCTAssertEqual(try m.graph.sparseInitializers[0].values.floatValues(), [5, 7])
        XCTAssertEqual(m.graph.producer(of: "sp"), .initializer)
        XCTAssertEqual(m.functions.count, 1)
        XCTAssertEqual(m.functions[0].body.nodes.count, 2)
        XCTAssertEqual(m.functions[0].attributeNames, ["alpha"])
        XCTAssertEqual(m.function(for: try XCTUnwrap(m.graph.nodes.first { $0.opType == "AddTwice" }))?.name, "AddTwice")
        XCTAssertEqual(m.trainingInfo.count, 1)
        let u = try ONNXReader.load(try TestPaths.fixture("unknown_fields.onnx"))
        XCTAssertEqual(u.unknownFields.bytes, [0xA0, 0x38, 0x2A])
    }

    func testModelExplorerExportIsWellFormed() throws {
        let m = try ONNXReader.load(try TestPaths.fixture("transformer_like.onnx"))
        let json = ModelExplorerExporter.export(m, label: "transformer_like")
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(obj["label"] as? String, "transformer_like")
        let graphs = try XCTUnwrap(obj["graphs"] as? [[String: Any]])
        let nodes = try XCTUnwrap(graphs[0]["nodes"] as? [[String: Any]])
        let ids = nodes.compactMap { $0["id"] as? String }
        XCTAssertEqual(Set(ids).count, nodes.count, "unique ids")
        XCTAssertEqual(nodes.count, 28 + 1 + 1)  // ops + input + output
        for n in nodes {
            let ns = try XCTUnwrap(n["namespace"] as? String)
            XCTAssertFalse(ns.hasPrefix("/") || ns.hasSuffix("/") || ns.contains("//"), ns)
            XCTAssertNotNil(n["label"] as? String)
        }
        let q = try XCTUnwrap(nodes.first { ($0["attrs"] as? [[String: Any]])?.contains { ($0["value"] as? String)?.hasPrefix("/layers.0/self_attn/q_proj") == true } == true })
        XCTAssertEqual(q["namespace"] as? String, "layers.0/self_attn/q_proj")
        let edges = try XCTUnwrap(q["incomingEdges"] as? [[String: String]])
        XCTAssertEqual(edges.count, 1)  // the weight is an initializer, not an edge
        let outs = try XCTUnwrap(q["outputsMetadata"] as? [[String: Any]])
        let attrs = try XCTUnwrap(outs[0]["attrs"] as? [[String: String]])
        XCTAssertTrue(attrs.contains { $0["key"] == "tensor_shape" && $0["value"] == "float[seq,16]" } || attrs.contains { $0["key"] == "tensor_name" })
        // Node data keyed by the same ids.
        let nd = ModelExplorerExporter.nodeData([m.graph.nodes[0].id: 2.5], name: "latency")
        let ndObj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(nd.utf8)) as? [String: [String: Any]])
        let results = try XCTUnwrap(ndObj["main"]?["results"] as? [String: [String: Double]])
        XCTAssertEqual(results[ModelExplorerExporter.nodeID(m.graph.nodes[0].id)]?["value"], 2.5)
        XCTAssertTrue(ids.contains(ModelExplorerExporter.nodeID(m.graph.nodes[0].id)))
    }
}

/// Typed repeated fields written unpacked (one tag per element, legal protobuf that some
/// writers emit) decode like packed ones and are written back verbatim.
final class ONNXUnpackedFieldTests: XCTestCase {
    func testUnpackedFloatAndInt64DataDecodeAndRoundTrip() throws {
        var f = ProtoBuffer()
        f.int64Field(1, 3)
        f.varintField(2, 1)  // FLOAT
        for v: Float in [1.5, -2, 0.25] { f.fixed32Field(4, v.bitPattern) }  // unpacked float_data
        f.stringField(8, "f")
        var i = ProtoBuffer()
        i.int64Field(1, 2)
        i.varintField(2, 7)  // INT64
        for v: Int64 in [-5, 1 << 40] { i.int64Field(7, v) }  // unpacked int64_data
        i.stringField(8, "i")
        var h = ProtoBuffer()
        h.int64Field(1, 2)
        h.varintField(2, 10)  // FLOAT16 in int32_data, unpacked
        h.varintField(5, 0x3C00)
        h.varintField(5, 0xC000)
        h.stringField(8, "h")
        var graph = ProtoBuffer()
        graph.messageField(5, f)
        graph.messageField(5, i)
        graph.messageField(5, h)
        var model = ProtoBuffer()
        model.int64Field(1, 9)
        model.messageField(7, graph)
        let bytes = model.bytes
        let m = try ONNXReader.load(bytes: bytes)
        XCTAssertEqual(try m.graph.initializer(named: "f")?.floatValues(), [1.5, -2, 0.25])
        XCTAssertEqual(try m.graph.initializer(named: "i")?.int64Values(), [-5, 1 << 40])
        XCTAssertEqual(try m.graph.initializer(named: "h")?.floatValues(), [1, -2])
        XCTAssertEqual(try ONNXWriter.serialize(m), bytes)
    }
}
