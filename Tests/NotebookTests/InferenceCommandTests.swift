import XCTest
import Foundation
import GraphFormats
import GraphIR
import GraphRendering
import JupyterKernel
@testable import Notebook

/// What users see of shape inference: `info` (declared next to inferred types), `check`
/// (shape problems in the same table, `kind` column), `load` (one line when inference fails),
/// `export shapes=true` (value_info from inference on a copy) and drawings (symbolic edge
/// labels where the model declares none).
final class InferenceCommandTests: XCTestCase {
    var files: [URL] = []

    override func tearDown() {
        for f in files { try? FileManager.default.removeItem(at: f) }
    }

    private func temporary(_ ext: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("infer-\(UUID().uuidString).\(ext)")
        files.append(url)
        return url
    }

    /// The tour model with its value_info dropped, written to a temporary file and loaded as `bare`.
    private func loadBareTourModel() throws -> CellRunner {
        let source = CellRunner.repo.appendingPathComponent("notebooks/models/tiny_bert.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: source.path), "tour model missing")
        var model = try ONNXReader.load(source)
        XCTAssertFalse(model.graph.valueInfo.isEmpty, "the tour model declares value_info")
        let g = model.graph
        model.graph = Graph(name: g.name, nodes: g.nodes, inputs: g.inputs, outputs: g.outputs,
                            initializers: g.initializers, valueInfo: [])
        let url = temporary("onnx")
        try ONNXWriter.save(model, to: url)
        let runner = CellRunner()
        XCTAssertNil(runner.run("load \(url.path) as bare").error)
        return runner
    }

    /// x[1,3,8,8] + w[1,4,8,8] cannot broadcast; the Relu after it has no shape to work with.
    private func loadConflictModel(_ runner: CellRunner) throws {
        let x = ValueType.tensor(.float, TensorShape(static: [1, 3, 8, 8]))
        let w = ValueType.tensor(.float, TensorShape(static: [1, 4, 8, 8]))
        var g = Graph(name: "conflict", inputs: [ValueInfo(name: "x", type: x), ValueInfo(name: "w", type: w)],
                      outputs: [ValueInfo(name: "y")])
        try g.addNode(Node(opType: "Add", name: "add", inputs: ["x", "w"], outputs: ["s"]))
        try g.addNode(Node(opType: "Relu", name: "act", inputs: ["s"], outputs: ["y"]))
        let url = temporary("onnx")
        try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), to: url)
        XCTAssertNil(runner.run("load \(url.path) as conflict").error)
    }

    func testInfoShowsDeclaredAndInferredTypes() throws {
        let runner = try CellRunner.withTourModel()
        XCTAssertNil(runner.run("info /embeddings/word_embeddings/Gather").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("float32[batch,seq,64] (declared and inferred)"), text)
        let json = runner.displays.first?[OutputBundle.dataMIME]
        XCTAssertEqual(json?["output_types"]?.arrayValue?.first?["inferred"], .string("float32[batch,seq,64]"))

        let bare = try loadBareTourModel()
        XCTAssertNil(bare.run("info /embeddings/word_embeddings/Gather").error)
        let bareText = bare.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(bareText.contains("float32[batch,seq,64] inferred (not declared)"), bareText)
        XCTAssertEqual(bare.displays.first?[OutputBundle.dataMIME]?["output_types"]?.arrayValue?.first?["declared"], .null)
    }

    /// Nodes inside If bodies (silero_vad keeps 684 of its nodes there) get their inferred
    /// types from the body's own inference results.
    func testInfoShowsInferredTypesInsideBodies() throws {
        let model = CorpusCommandTests.corpus.appendingPathComponent("models/silero_vad.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "../shared/corpus is absent")
        let runner = CellRunner()
        XCTAssertNil(runner.run("load \(model.path) as vad").error)
        guard let entry = runner.interpreter.session.graphs.current else { return XCTFail("no graph") }
        let c = entry.catalog
        var typed = 0
        var example: (id: String, value: String, type: ValueType)?
        for e in c.entries {
            guard let b = e.body, let node = c.bodies[b].graph.node(e.id), let out = node.outputs.first, !out.isEmpty,
                  let t = entry.inferredType(of: out, inBody: b), t.shape != nil else { continue }
            typed += 1
            if example == nil, c.bodies[b].graph.type(of: out) == nil { example = (e.id.description, out, t) }
        }
        XCTAssertGreaterThan(typed, 600, "most body nodes have an inferred shape")
        guard let example else { return XCTFail("no undeclared body value with an inferred type") }
        let path = c.qualifiedName(c.entries.firstIndex { $0.id.description == example.id && $0.body != nil } ?? 0)
        XCTAssertNil(runner.run("info \(path)").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("\(example.value): \(GraphCommands.typeText(example.type)) inferred (not declared)"), text)

        // export shapes=true types the bodies' values too.
        let url = temporary("onnx")
        XCTAssertNil(runner.run("export \(url.path) shapes=true").error)
        let written = try ONNXReader.load(url)
        func typedValues(inBodiesOf g: Graph) -> Int {
            g.nodes.flatMap { $0.labeledSubgraphs.map(\.graph) }.reduce(0) { n, body in
                n + body.valueInfo.filter { $0.type?.shape != nil }.count + typedValues(inBodiesOf: body)
            }
        }
        let typedInBodies = typedValues(inBodiesOf: written.graph)
        var expected = 0
        for b in c.bodies {
            let facts = entry.inference.bodies[entry.inferenceKey(b.steps)] ?? [:]
            let outs = Set(b.graph.outputs.map(\.name))
            for n in b.graph.nodes {
                for o in n.outputs where !o.isEmpty && !outs.contains(o) && facts[o]?.type?.valueType.shape != nil { expected += 1 }
            }
        }
        XCTAssertGreaterThan(expected, 500)
        XCTAssertEqual(typedInBodies, expected)
    }

    func testInferenceRunsOncePerVersion() throws {
        let runner = try CellRunner.withTourModel()
        guard let entry = runner.interpreter.session.graphs.current else { return XCTFail("no graph") }
        let first = entry.inference
        XCTAssertEqual(first.type(of: "/embeddings/word_embeddings/Gather_output_0")?.description,
                       entry.current.inference.type(of: "/embeddings/word_embeddings/Gather_output_0")?.description)
        // A copy of the entry shares the cached result (same version), and a new version gets its own.
        var copy = entry
        let empty = GraphVersion(model: Model(graph: Graph(name: "empty")), origin: "test")
        copy.history.commit(empty, counts: empty.counts, origin: "test", command: "test", edits: [])
        XCTAssertTrue(copy.inference.values.isEmpty)
        XCTAssertFalse(entry.inference.values.isEmpty)
    }

    func testCheckListsShapeProblemsWithTheirKind() throws {
        let runner = CellRunner()
        try loadConflictModel(runner)
        XCTAssertNil(runner.run("check").error)
        let text = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("kind"), text)
        guard case .array(let problems)? = runner.displays.first?[OutputBundle.dataMIME]?["problems"] else {
            return XCTFail("no problems: \(text)")
        }
        let add = problems.first { $0["name"] == .string("add") }
        XCTAssertEqual(add?["checker"], .string("shape"), text)
        XCTAssertEqual(add?["severity"], .string("error"), text)
        XCTAssertEqual(add?["kind"], .string("inconsistentShape"), text)
        XCTAssertTrue(text.contains("shape"), text)
        // A schema error on a node replaces its shape row (the schema row is the cause).
        let bad = CellRunner()
        var g = Graph(name: "bad", inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [2])))],
                      outputs: [ValueInfo(name: "z")])
        try g.addNode(Node(opType: "Conv2D", name: "bad", inputs: ["x"], outputs: ["z"]))
        let url = temporary("onnx")
        try ONNXWriter.save(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), to: url)
        XCTAssertNil(bad.run("load \(url.path)").error)
        XCTAssertNil(bad.run("check").error)
        guard case .array(let badProblems)? = bad.displays.first?[OutputBundle.dataMIME]?["problems"] else { return XCTFail() }
        XCTAssertEqual(badProblems.map { $0["checker"] }, [.string("schema")])
    }

    func testLoadSaysOnceWhenInferenceFails() throws {
        let runner = CellRunner()
        try loadConflictModel(runner)
        let out = runner.stdout
        XCTAssertTrue(out.contains("Loaded conflict"), out)
        XCTAssertTrue(out.contains("shape inference failed on 1 node(s), 2 value(s) unknown; `check` lists them."), out)
        XCTAssertEqual(out.components(separatedBy: "shape inference").count, 2, out)
        // The graph is usable, and `info` marks the node inference failed on.
        XCTAssertNil(runner.run("info act").error)
        XCTAssertFalse(runner.displays.first?["text/plain"]?.stringValue?.contains("shape problem") ?? true)
        XCTAssertNil(runner.run("info add").error)
        let add = runner.displays.first?["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(add.contains("shape problem") && add.contains("do not broadcast"), add)
    }

    func testExportShapesWritesValueInfoOnACopy() throws {
        let runner = try loadBareTourModel()
        let url = temporary("onnx")
        XCTAssertNil(runner.run("export \(url.path) shapes=true").error)
        XCTAssertTrue(runner.stdout.contains("with inferred value_info for"), runner.stdout)
        let written = try ONNXReader.load(url)
        let outputs = Set(written.graph.outputs.map(\.name))
        let intermediates = Set(written.graph.nodes.flatMap { $0.outputs }.filter { !$0.isEmpty && !outputs.contains($0) })
        XCTAssertEqual(Set(written.graph.valueInfo.map(\.name)), intermediates)
        let gather = written.graph.valueInfo.first { $0.name == "/embeddings/word_embeddings/Gather_output_0" }
        XCTAssertEqual(gather?.type?.shape?.dims, [.symbolic("batch"), .symbolic("seq"), .known(64)])
        XCTAssertEqual(runner.interpreter.session.graphs.current?.graph.valueInfo.count, 0, "the session's graph is unchanged")
        XCTAssertNotNil(runner.run("export out.svg shapes=true").error, "shapes=true is for ONNX only")
    }

    func testDrawingsLabelEdgesWithInferredShapes() throws {
        let runner = try loadBareTourModel()
        guard let entry = runner.interpreter.session.graphs.current else { return XCTFail("no graph") }
        let without = RenderGraph(entry.graph)
        XCTAssertFalse(without.edges.contains { $0.shape == "batch×seq×64" }, "nothing declared, nothing drawn")
        let with = RenderGraph(entry.graph, inferred: entry.inferredTypes(inBody: nil))
        XCTAssertTrue(with.edges.contains { $0.shape == "batch×seq×64" })
        XCTAssertNil(runner.run("show all").error)
        let svg = runner.displays.first?["image/svg+xml"]?.stringValue ?? runner.displays.first?["text/html"]?.stringValue ?? ""
        XCTAssertTrue(svg.contains("batch×seq×64"), String(svg.prefix(400)))
    }
}
