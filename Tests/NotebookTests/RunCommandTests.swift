import XCTest
import Foundation
import GraphFormats
import GraphIR
import GraphRuntime
import JupyterKernel
@testable import Notebook

/// `run`, `compare`, `profile import` and node-data export end to end through cells, on the
/// notebooks' ppocr classifier and small hand-made models: outputs and JSON, the overlays they
/// attach, and every refusal (unbound dim, missing file, wrong shape or dtype, unsupported op,
/// huge dim) naming what is wrong while leaving the session unchanged.
final class RunCommandTests: XCTestCase {
    private var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temp) }

    private func classifier() throws -> CellRunner {
        let model = CellRunner.repo.appendingPathComponent("notebooks/models/ppocr_mobile_v2_cls.onnx")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: model.path), "ppocr classifier missing")
        let r = CellRunner(directory: temp)
        XCTAssertNil(r.run("load \(model.path) as cls").error, r.stderr)
        return r
    }

    private func data(_ r: CellRunner) -> JSONValue? { r.displays.last?[OutputBundle.dataMIME] }

    private func entry(_ r: CellRunner) throws -> GraphEntry { try XCTUnwrap(r.interpreter.session.graphs.current) }

    /// A model file made here, loaded as `m`.
    private func load(_ m: Model, _ r: CellRunner) throws {
        let url = temp.appendingPathComponent("m-\(UUID().uuidString).onnx")
        _ = try ONNXWriter.save(m, to: url)
        XCTAssertNil(r.run("load \(url.path) as m").error, r.stderr)
    }

    func testRunShowsOutputsWithStatisticsAndData() throws {
        let r = try classifier()
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=3").error, r.stderr)
        let bundle = try XCTUnwrap(r.displays.last)
        XCTAssertNotNil(bundle["text/html"])
        let text = bundle["text/plain"]?.stringValue ?? ""
        XCTAssertTrue(text.contains("save_infer_model/scale_0.tmp_1") && text.contains("1×2"), text)
        let out = try XCTUnwrap(data(r)?["outputs"]?.arrayValue?.first)
        XCTAssertEqual(out["dtype"]?.stringValue, "float")
        // Softmax over two classes: the two values sum to one.
        let first = try XCTUnwrap(out["first"]?.arrayValue?.compactMap(\.doubleValue))
        XCTAssertEqual(first.reduce(0, +), 1, accuracy: 1e-5)
        // The same seed gives the same numbers; another seed does not.
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=3").error)
        XCTAssertEqual(data(r)?["outputs"]?.arrayValue?.first?["first"], out["first"])
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=4").error)
        XCTAssertNotEqual(data(r)?["outputs"]?.arrayValue?.first?["first"], out["first"])
    }

    /// A second run of a version reuses its interpreter (plans, folded constants); an edit makes a
    /// new version with its own; `compare @0 @1` finds both kept; the numbers are the same either way.
    func testInterpretersAreKeptPerVersion() throws {
        let r = try classifier()
        let cache = r.interpreter.session.interpreters
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=3").error, r.stderr)
        let first = data(r)?["outputs"]
        XCTAssertEqual(cache.builds, 1)
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=3 threads=2").error, r.stderr)
        if Interpreter.threadsGiveIdenticalNumbers {
            XCTAssertEqual(data(r)?["outputs"], first)
        } else {
            // OpenBLAS's AVX2 kernels split a product across threads with other roundings.
            let one = first?.arrayValue?.first?["first"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            let two = data(r)?["outputs"]?.arrayValue?.first?["first"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            XCTAssertEqual(one.count, two.count)
            for (a, b) in zip(one, two) { XCTAssertEqual(a, b, accuracy: 1e-5, Interpreter.blasCoreName) }
        }
        XCTAssertEqual(cache.builds, 1)
        XCTAssertEqual(cache.hits, 1)
        XCTAssertNil(r.run("set BatchNormalization@3 epsilon=0.5").error, r.stderr)
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=3").error, r.stderr)
        XCTAssertNotEqual(data(r)?["outputs"], first, "the edited version runs its own plan")
        XCTAssertEqual(cache.builds, 2)
        XCTAssertNil(r.run("compare @0 @1 shape=x:1x3x48x192 seed=3").error, r.stderr)
        XCTAssertEqual(cache.builds, 2)
        XCTAssertEqual(cache.hits, 3)
        XCTAssertNil(r.run("undo").error, r.stderr)
        XCTAssertNil(r.run("run shape=x:1x3x48x192 seed=3").error, r.stderr)
        XCTAssertEqual(data(r)?["outputs"], first)
        XCTAssertEqual(cache.builds, 2, "undo returns to version @0, whose interpreter is kept")
    }

    /// Every version of a session reads one table of timed conv choices: a 64-channel 3x3 conv
    /// shape (where the machine decides Winograd or direct) is timed once, not once per version,
    /// so `compare @0 @1` never times the two versions with different kernels for one shape.
    func testVersionsShareTheirTimedConvChoices() throws {
        let r = CellRunner(directory: temp)
        let w = Array(repeating: Float(0.01), count: 64 * 64 * 9)
        let g = Graph(nodes: [Node(opType: "Conv", name: "c1", inputs: ["x", "w1"], outputs: ["a"],
                                   attributes: [Attribute("pads", .ints([1, 1, 1, 1]))]),
                              Node(opType: "LeakyRelu", name: "act", inputs: ["a"], outputs: ["ar"],
                                   attributes: [Attribute("alpha", .float(0.1))]),
                              Node(opType: "Conv", name: "c2", inputs: ["ar", "w2"], outputs: ["y"],
                                   attributes: [Attribute("pads", .ints([1, 1, 1, 1]))])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [1, 64, 28, 28])))],
                      outputs: [ValueInfo(name: "y")],
                      initializers: [Tensor(name: "w1", floats: w, dims: [64, 64, 3, 3]),
                                     Tensor(name: "w2", floats: w, dims: [64, 64, 3, 3])])
        try load(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), r)
        let choices = r.interpreter.session.interpreters.convChoices
        XCTAssertNil(r.run("run seed=1").error, r.stderr)
        let timed = choices.timings
        XCTAssertEqual(timed, Interpreter.hasDirectConvs ? 1 : 0, "one conv shape, timed where both kernels run")
        XCTAssertNil(r.run("set act alpha=0.2").error, r.stderr)
        XCTAssertNil(r.run("compare @0 @1 seed=1").error, r.stderr)
        XCTAssertEqual(r.interpreter.session.interpreters.builds, 2)
        XCTAssertEqual(choices.timings, timed, "the edited version reads the session's table")
        XCTAssertEqual(choices.count, timed)
    }

    /// A symbolic dim bound by name (`seq=8`) sizes the random inputs; a non-number is refused.
    func testSymbolicDimsBindByName() throws {
        let r = try CellRunner.withTourModel()
        XCTAssertNil(r.run("run batch=1 seq=8").error, r.stderr)
        XCTAssertTrue(r.displays.last?["text/plain"]?.stringValue?.contains("input_ids: 1×8") ?? false, "\(r.displays)")
        let wrong = r.run("run batch=1 seq=x").error?.value ?? ""
        XCTAssertTrue(wrong.contains("seq must be a positive integer"), wrong)
    }

    func testUnboundDimIsNamedAndSessionUnchanged() throws {
        let r = try classifier()
        let message = try XCTUnwrap(r.run("run").error?.value)
        XCTAssertTrue(message.contains("input 'x'") && message.contains("dim 2") && message.contains("shape=x:"), message)
        XCTAssertTrue(try entry(r).fields.isEmpty)
        let key = r.run("run y=random").error?.value ?? ""
        XCTAssertTrue(key.contains("'y' is not an input") && key.contains("inputs: x"), key)
    }

    func testRepeatTimesNodesAndTheTimeOverlayDraws() throws {
        let r = try classifier()
        XCTAssertNil(r.run("run shape=x:1x3x48x192 repeat=2").error, r.stderr)
        let timing = try XCTUnwrap(data(r)?["timing"])
        XCTAssertEqual(timing["runs"]?.intValue, 2)
        XCTAssertGreaterThan(timing["median_s"]?.doubleValue ?? 0, 0)
        let ops = timing["ops"]?.arrayValue?.compactMap { $0["op"]?.stringValue } ?? []
        XCTAssertTrue(ops.contains("Conv"), "\(ops)")
        let field = try XCTUnwrap(try entry(r).fields["time"])
        XCTAssertGreaterThan(field.values.count, 100)
        XCTAssertNil(r.run("show overlay=time").error, r.stderr)
        XCTAssertTrue(r.displays.last?["text/html"]?.stringValue?.contains("time") ?? false)
        // Exported as Model Explorer node data, keyed like the model export.
        let file = temp.appendingPathComponent("time.json")
        XCTAssertNil(r.run("export \(file.path) format=model-explorer-node-data field=time").error, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let results = try XCTUnwrap((json["main"] as? [String: Any])?["results"] as? [String: Any])
        XCTAssertEqual(results.count, field.values.count)
        let missing = r.run("export \(file.path) format=model-explorer-node-data field=nope").error?.value ?? ""
        XCTAssertTrue(missing.contains("no overlay field 'nope'") && missing.contains("time"), missing)
    }

    func testFilesSaveAndWrongInputsNameTheInput() throws {
        let r = try classifier()
        let npz = temp.appendingPathComponent("out.npz")
        XCTAssertNil(r.run("run shape=x:1x3x48x192 keep=Softmax@0 save=\(npz.path)").error, r.stderr)
        let saved = try NPZ.read(npz)
        XCTAssertEqual(Set(saved.map(\.name)).contains("save_infer_model/scale_0.tmp_1"), true, "\(saved.map(\.name))")
        XCTAssertGreaterThanOrEqual(saved.count, 1)
        // An input from a file (an .npy written here).
        let x = [Float](repeating: 0.5, count: 3 * 48 * 192)
        let bytes = try NPYWriter.bytes(type: .float, shape: [1, 3, 48, 192], data: x.withUnsafeBytes { Array($0) })
        let xf = temp.appendingPathComponent("x.npy")
        try Data(bytes).write(to: xf)
        XCTAssertNil(r.run("run x=\(xf.path)").error, r.stderr)
        let missing = r.run("run x=\(temp.path)/nope.npy").error?.value ?? ""
        XCTAssertTrue(missing.contains("input 'x'") && missing.contains("cannot read"), missing)
        let shape = r.run("run x=[1, 2]").error?.value ?? ""
        XCTAssertTrue(shape.contains("input 'x'") && shape.contains("rank"), shape)
        let ints = try NPYWriter.bytes(type: .int64, shape: [1, 3, 48, 192], data: [UInt8](repeating: 0, count: 8 * 3 * 48 * 192))
        let xi = temp.appendingPathComponent("xi.npy")
        try Data(ints).write(to: xi)
        let dtype = r.run("run x=\(xi.path)").error?.value ?? ""
        XCTAssertTrue(dtype.contains("input 'x'") && dtype.contains("int64") && dtype.contains("float"), dtype)
        XCTAssertTrue(try entry(r).fields.isEmpty, "failed runs attach nothing")
    }

    func testHugeDimensionIsRefusedFromTheMemoryPlan() throws {
        let r = try classifier()
        let message = try XCTUnwrap(r.run("run shape=x:1x3x16000000x16000").error?.value)
        XCTAssertTrue(message.contains("available") && message.contains("nothing was run"), message)
        XCTAssertNil(r.run("run shape=x:1x3x48x192").error, "the kernel still runs afterwards")
    }

    func testUnsupportedOpNamesTheNode() throws {
        let r = CellRunner(directory: temp)
        let g = Graph(nodes: [Node(opType: "Frobnicate", domain: "com.example", name: "frob", inputs: ["x"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [2])))], outputs: [ValueInfo(name: "y")])
        try load(Model(graph: g, opsetImports: [OpsetImport(version: 17), OpsetImport(domain: "com.example", version: 1)]), r)
        let message = try XCTUnwrap(r.run("run").error?.value)
        XCTAssertTrue(message.contains("node 'frob'") && message.contains("not supported"), message)
    }

    func testFirstNaNIsTracedWithKeepAll() throws {
        let r = CellRunner(directory: temp)
        let g = Graph(nodes: [Node(opType: "Relu", name: "relu", inputs: ["x"], outputs: ["a"]),
                              Node(opType: "Sqrt", name: "root", inputs: ["x"], outputs: ["b"]),
                              Node(opType: "Add", name: "sum", inputs: ["a", "b"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: .tensor(.float, TensorShape(static: [3])))], outputs: [ValueInfo(name: "y")])
        try load(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), r)
        XCTAssertNil(r.run("run x=[1.0, -4.0, 9.0] keep=all").error, r.stderr)
        let nan = try XCTUnwrap(data(r)?["first_nan"])
        XCTAssertEqual(nan["node"]?.stringValue, "root")
        XCTAssertEqual(nan["count"]?.intValue, 1)
        XCTAssertNil(r.run("run x=[1.0, -4.0, 9.0]").error)
        XCTAssertTrue(r.displays.last?["text/plain"]?.stringValue?.contains("keep=all") ?? false)
    }

    /// Inputs named the Caffe2 way (`gpu_0/data_0`) and the TensorFlow way (`input:0`) are keys too.
    func testInputNamesWithSlashAndColonAreKeys() throws {
        let r = CellRunner(directory: temp)
        let g = Graph(nodes: [Node(opType: "Add", name: "sum", inputs: ["gpu_0/data_0", "input:0"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "gpu_0/data_0", type: .tensor(.float, TensorShape(static: [2]))),
                               ValueInfo(name: "input:0", type: .tensor(.float, TensorShape(static: [2])))],
                      outputs: [ValueInfo(name: "y")])
        try load(Model(graph: g, opsetImports: [OpsetImport(version: 17)]), r)
        XCTAssertNil(r.run("run gpu_0/data_0=[1.0, 2.0] input:0=[10.0, 20.0]").error, r.stderr)
        let out = try XCTUnwrap(data(r)?["outputs"]?.arrayValue?.first)
        XCTAssertEqual(out["first"]?.arrayValue?.compactMap(\.doubleValue), [11, 22])
        let wrong = r.run("run gpu_0/data_1=[1.0, 2.0]").error?.value ?? ""
        XCTAssertTrue(wrong.contains("did you mean 'gpu_0/data_0'"), wrong)
        // A URL with '=' in it stays one positional word.
        XCTAssertNil(r.run("echo https://example.com/a?b=c").error)
        XCTAssertEqual(r.stdout, "https://example.com/a?b=c\n")
    }

    func testCompareNamesTheFirstDivergingNodeAndDrawsTheErrorOverlay() throws {
        let r = try classifier()
        XCTAssertNil(r.run("compare @0 @0 shape=x:1x3x48x192").error, r.stderr)
        XCTAssertEqual(data(r)?["pass"], .bool(true))
        XCTAssertEqual(data(r)?["first_diverging"], .null)
        XCTAssertNil(r.run("set BatchNormalization@3 epsilon=0.5").error, r.stderr)
        XCTAssertNil(r.run("compare @0 @1 shape=x:1x3x48x192").error, r.stderr)
        let d = try XCTUnwrap(data(r))
        XCTAssertEqual(d["pass"], .bool(false))
        XCTAssertEqual(d["first_diverging"]?["node"]?.stringValue, "BatchNormalization@3")
        XCTAssertGreaterThan(d["nodes"]?.arrayValue?.count ?? 0, 200)
        let field = try XCTUnwrap(try entry(r).fields["error"])
        XCTAssertGreaterThan(field.values.count, 200)
        XCTAssertNil(r.run("show overlay=error").error, r.stderr)
        let bad = r.run("compare @0 @9").error?.value ?? ""
        XCTAssertTrue(bad.contains("no step '@9'"), bad)
        let graph = r.run("compare nope @0").error?.value ?? ""
        XCTAssertTrue(graph.contains("no graph 'nope'"), graph)
    }

    func testProfileImportMatchesByNameAndIndex() throws {
        let r = try classifier()
        let events: [[String: Any]] = [
            ["cat": "Node", "name": "Conv@0_kernel_time", "dur": 40, "args": ["op_name": "Conv", "node_index": "0"]],
            ["cat": "Node", "name": "Conv@0_kernel_time", "dur": 60, "args": ["op_name": "Conv", "node_index": "0"]],
            ["cat": "Node", "name": "Fused_kernel_time", "dur": 7, "args": ["op_name": "FusedConv", "node_index": "999"]],
            ["cat": "Session", "name": "model_run", "dur": 500],
        ]
        let file = temp.appendingPathComponent("prof.json")
        try JSONSerialization.data(withJSONObject: events).write(to: file)
        XCTAssertNil(r.run("profile import \(file.path)").error, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 node(s)") && r.stdout.contains("1 profiled node(s) have no node here"), r.stdout)
        let field = try XCTUnwrap(try entry(r).fields["ort_time"])
        XCTAssertEqual(field.values.values.first ?? 0, 50, accuracy: 1e-9)
        XCTAssertNil(r.run("run shape=x:1x3x48x192 repeat=1").error)
        XCTAssertTrue(r.displays.last?["text/plain"]?.stringValue?.contains("onnxruntime") ?? false)
        try Data("[]".utf8).write(to: file)
        let empty = r.run("profile import \(file.path)").error?.value ?? ""
        XCTAssertTrue(empty.contains("no node events"), empty)
    }

    func testInterruptStopsARepeatedRunQuickly() throws {
        let r = try classifier()
        let flag = JupyterKernel.CancellationFlag()
        let context = ExecutionContext(executionCount: 1, cancellation: flag) { _ in }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { flag.cancel() }
        let start = Date()
        let outcome = r.interpreter.execute(ExecuteRequest(code: "run shape=x:1x3x48x192 repeat=100000", stopOnError: true), context: context)
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertTrue(outcome.error?.value.contains("interrupted") ?? false, "\(String(describing: outcome.error))")
        XCTAssertLessThan(elapsed, 0.5 + 1.0, "stopped soon after the interrupt (the load of a debug build included)")
        XCTAssertNil(try entry(r).fields["time"], "an interrupted run attaches nothing")
    }

    func testCompletionOffersInputsRandomAndVersions() throws {
        let r = try classifier()
        XCTAssertNil(r.run("set BatchNormalization@3 epsilon=0.5").error)
        let i = r.interpreter
        XCTAssertTrue(i.complete(code: "run ", cursorPosition: 4).matches.contains("x="))
        XCTAssertEqual(i.complete(code: "run x=ra", cursorPosition: 8).matches, ["random"])
        XCTAssertEqual(i.complete(code: "compare @", cursorPosition: 9).matches, ["@0", "@1"])
        XCTAssertEqual(i.complete(code: "compare @0 @", cursorPosition: 12).matches, ["@0", "@1"])
        XCTAssertTrue(i.complete(code: "run re", cursorPosition: 6).matches.contains("repeat="))
    }
}
