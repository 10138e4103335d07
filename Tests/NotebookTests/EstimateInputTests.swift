import XCTest
import Foundation
import GraphIR
import GraphFormats
import JupyterKernel
@testable import Notebook

/// Inputs of `estimate` / `roofline` / `sweep` that used to be accepted silently: each must now
/// bind what the user meant or fail saying what and where. The models are built here in code.
final class EstimateInputTests: XCTestCase {

    /// A ResNet-like classifier head with a fixed batch of 1 (as exported ResNet-50s declare
    /// `data[1,3,8,8]`): Conv 3->4 (3x3, pad 1), GlobalAveragePool, Reshape to [1,4] (a fixed
    /// batch in a constant, as Caffe2 exports have), Gemm 4->2.
    static func fixedBatchModel() throws -> Model {
        var g = Graph(name: "fixed", inputs: [ValueInfo(name: "data", type: .tensor(.float, TensorShape(static: [1, 3, 8, 8])))],
                      outputs: [ValueInfo(name: "y", type: .tensor(.float, TensorShape(static: [1, 2])))],
                      initializers: [Tensor(name: "w", floats: Array(repeating: 0.1, count: 4 * 3 * 3 * 3), dims: [4, 3, 3, 3]),
                                     Tensor(name: "to", int64s: [1, 4], dims: [2]),
                                     Tensor(name: "fc", floats: Array(repeating: 0.1, count: 2 * 4), dims: [2, 4]),
                                     Tensor(name: "spare", floats: [0], dims: [1, 1])])
        try g.addNode(Node(opType: "Conv", name: "conv", inputs: ["data", "w"], outputs: ["c"],
                            attributes: [Attribute("pads", .ints([1, 1, 1, 1])), Attribute("kernel_shape", .ints([3, 3]))]))
        try g.addNode(Node(opType: "GlobalAveragePool", name: "pool", inputs: ["c"], outputs: ["p"]))
        try g.addNode(Node(opType: "Reshape", name: "flatten", inputs: ["p", "to"], outputs: ["f"]))
        try g.addNode(Node(opType: "Gemm", name: "fc", inputs: ["f", "fc"], outputs: ["y"], attributes: [Attribute("transB", .int(1))]))
        return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
    }

    /// `x[DynamicDimension.0, 3, ?, ?]` -> Relu: a leading dim with a name nobody types, and unnamed dims.
    static func dynamicModel() throws -> Model {
        let shape = TensorShape([.symbolic("DynamicDimension.0"), .known(3), .unknown, .unknown])
        var g = Graph(name: "dynamic", inputs: [ValueInfo(name: "x", type: .tensor(.float, shape))],
                      outputs: [ValueInfo(name: "y", type: .tensor(.float, shape))])
        try g.addNode(Node(opType: "Relu", name: "relu", inputs: ["x"], outputs: ["y"]))
        return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
    }

    /// `x[N, 3, 8, 8]` -> Relu: a batch dimension called `N`.
    static func namedBatchModel() throws -> Model {
        let shape = TensorShape([.symbolic("N"), .known(3), .known(8), .known(8)])
        var g = Graph(name: "named", inputs: [ValueInfo(name: "x", type: .tensor(.float, shape))],
                      outputs: [ValueInfo(name: "y", type: .tensor(.float, shape))])
        try g.addNode(Node(opType: "Relu", name: "relu", inputs: ["x"], outputs: ["y"]))
        return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
    }

    /// `a[?, 4] + b[?, 4]`: two inputs with unnamed dims.
    static func twoInputModel() throws -> Model {
        let shape = TensorShape([.unknown, .known(4)])
        var g = Graph(name: "two", inputs: [ValueInfo(name: "a", type: .tensor(.float, shape)), ValueInfo(name: "b", type: .tensor(.float, shape))],
                      outputs: [ValueInfo(name: "y", type: .tensor(.float, shape))])
        try g.addNode(Node(opType: "Add", name: "add", inputs: ["a", "b"], outputs: ["y"]))
        return Model(graph: g, opsetImports: [OpsetImport(version: 17)])
    }

    var runner: CellRunner!
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gs-estimate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try ONNXWriter.save(try Self.fixedBatchModel(), to: directory.appendingPathComponent("fixed.onnx"))
        try ONNXWriter.save(try Self.dynamicModel(), to: directory.appendingPathComponent("dynamic.onnx"))
        try ONNXWriter.save(try Self.namedBatchModel(), to: directory.appendingPathComponent("named.onnx"))
        try ONNXWriter.save(try Self.twoInputModel(), to: directory.appendingPathComponent("two.onnx"))
        runner = CellRunner(directory: directory)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The machine-readable part of the cell's last display that has one (a sweep's table comes
    /// before its chart).
    var data: JSONValue? {
        runner.displays.last { $0[OutputBundle.dataMIME] != nil }?[OutputBundle.dataMIME]
    }

    func error(_ cell: String) -> (name: String, message: String)? {
        guard let e = runner.run(cell).error else { return nil }
        return (e.name, e.value)
    }

    func testBatchOnAFixedLeadingDimensionIsAnErrorThatSaysWhatToWrite() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        let e = try XCTUnwrap(error("estimate batch=256"))
        XCTAssertEqual(e.name, "ValueError")
        XCTAssertTrue(e.message.contains("fixed leading dimension 1"), e.message)
        XCTAssertTrue(e.message.contains("shape=data:256x3x8x8"), e.message)
        // What it suggests works, and the convolution's MACs scale with the batch.
        XCTAssertNil(runner.run("estimate shape=data:1x3x8x8").error)
        let one = try XCTUnwrap(data?["nodes"]?.objectValue?.values.first { $0["name"] == .string("conv") }?["macs"]?.intValue)
        XCTAssertEqual(one, 4 * 8 * 8 * 3 * 3 * 3)
        XCTAssertNil(runner.run("estimate shape=data:256x3x8x8").error)
        let many = data?["nodes"]?.objectValue?.values.first { $0["name"] == .string("conv") }?["macs"]?.intValue
        XCTAssertEqual(many, 256 * one)
        XCTAssertEqual(data?["batch"], .int(256))
        // The fixed Reshape cannot follow: a note names it rather than a silent zero.
        XCTAssertTrue(runner.displays.last?["text/plain"]?.stringValue?.contains("cannot reshape [256, 4, 1, 1] to [1, 4]") ?? false)
        // shape= with batch=: batch sets the leading dim of the shape given.
        XCTAssertNil(runner.run("estimate shape=data:1x3x8x8 batch=4").error)
        XCTAssertEqual(data?["nodes"]?.objectValue?.values.first { $0["name"] == .string("conv") }?["macs"]?.intValue, 4 * one)
    }

    func testBatchBindsALeadingDimensionWhateverItsName() throws {
        XCTAssertNil(runner.run("load dynamic.onnx").error)
        XCTAssertNil(runner.run("estimate shape=x:8x3x16x16").error)
        let eight = try XCTUnwrap(data?["totals"]?["flops"]?.intValue)
        XCTAssertEqual(eight, 8 * 3 * 16 * 16)
        // batch= binds DynamicDimension.0; the unnamed dims still need shape=, and the error says so with a working example.
        let e = try XCTUnwrap(error("estimate batch=8"))
        XCTAssertTrue(e.message.contains("shape=x:8x3x32x32"), e.message)
        XCTAssertNil(runner.run(e.message.components(separatedBy: "e.g. ").last.map { "estimate " + ($0.components(separatedBy: " ").first ?? "") } ?? "").error)
        // the leading dim is bound through batch= even with its odd name, and bound dims show in the notes
        XCTAssertNil(runner.run("estimate DynamicDimension.0=2 shape=x:2x3x16x16").error)
        XCTAssertEqual(data?["totals"]?["flops"]?.intValue, 2 * 3 * 16 * 16)
    }

    func testShapeOptionsAreChecked() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        // repeated for the same input
        var e = try XCTUnwrap(error("estimate shape=data:1x3x8x8 shape=data:2x3x8x8"))
        XCTAssertTrue(e.message.contains("twice"), e.message)
        // an input that does not exist
        e = try XCTUnwrap(error("estimate shape=image:1x3x8x8"))
        XCTAssertEqual(e.name, "ValueError")
        XCTAssertTrue(e.message.contains("\"image\"") && e.message.contains("\"data\" [1,3,8,8]"), e.message)
        // the wrong rank: no more MACs 0 with a latency
        e = try XCTUnwrap(error("estimate shape=data:1x3x8 hw=h100-sxm5"))
        XCTAssertTrue(e.message.contains("rank 3") && e.message.contains("rank 4"), e.message)
        // malformed
        XCTAssertEqual(error("estimate shape=1x3x8x8")?.name, "ValueError")
        // repeated shape= for different inputs merge: both inputs get their shapes
        XCTAssertNil(runner.run("load two.onnx").error)
        XCTAssertNil(runner.run("estimate shape=a:5x4 shape=b:5x4").error)
        XCTAssertEqual(data?["totals"]?["flops"]?.intValue, 5 * 4)
        XCTAssertNil(runner.run("estimate shape=[\"a:5x4\", \"b:5x4\"]").error)
        XCTAssertEqual(error("estimate shape=a:5x4")?.message.contains("\"b\""), true)
    }

    func testUnknownKeysAndOptionValues() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        var e = try XCTUnwrap(error("estimate frob=3"))
        XCTAssertEqual(e.name, "CommandError")
        XCTAssertTrue(e.message.contains("'frob'"), e.message)
        e = try XCTUnwrap(error("roofline hw=h100-sxm5 dpeth=3"))
        XCTAssertTrue(e.message.contains("did you mean 'depth'") || e.message.contains("no option 'dpeth'"), e.message)
        e = try XCTUnwrap(error("sweep bach=1,2 hw=h100-sxm5"))
        XCTAssertTrue(e.message.contains("did you mean 'batch'"), e.message)
        e = try XCTUnwrap(error("sweep llm=gpt2 sequence=1,2 hw=h100-sxm5"))
        XCTAssertTrue(e.message.contains("'sequence'"), e.message)
        // a repeated scalar option keeps neither silently
        XCTAssertEqual(error("estimate top=3 top=4")?.name, "CommandError")
        // top=0 lists no node; negative is an error
        XCTAssertNil(runner.run("estimate top=0").error)
        XCTAssertFalse(runner.displays.last?["text/plain"]?.stringValue?.contains("Costliest nodes") ?? true)
        XCTAssertEqual(error("estimate top=-1")?.name, "ValueError")
        // find: the same rule for limit=
        XCTAssertEqual(error("find limit=-5")?.name, "ValueError")
        XCTAssertNil(runner.run("find limit=0").error)
        XCTAssertEqual(data?["count"], .int(4))
        XCTAssertEqual(data?["nodes"]?.arrayValue?.count, 0)
    }

    func testSweepValidatesTheWholeGridFirstAndThroughputIsSamplesPerSecond() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        // every point would fail: it fails before any evaluation, with no progress bar
        let e = try XCTUnwrap(error("sweep batch=1..60000 hw=h100-sxm5"))
        XCTAssertTrue(e.message.contains("fixed leading dimension"), e.message)
        XCTAssertTrue(runner.displays.isEmpty, "no progress bar for a grid that cannot run")
        // a grid whose every point lacks the unnamed dims fails at once, saying how to give them
        XCTAssertNil(runner.run("load dynamic.onnx").error)
        let unnamed = try XCTUnwrap(error("sweep DynamicDimension.0=1..20000 hw=h100-sxm5"))
        XCTAssertTrue(unnamed.message.contains("shape=x:"), unnamed.message)
        XCTAssertTrue(runner.displays.isEmpty, "no progress bar, no evaluation")
        XCTAssertNil(runner.run("sweep batch=1,2 shape=x:1x3x8x8 hw=h100-sxm5").error)
        // a binding that shape= overrides would be ignored at some point: an error instead
        XCTAssertTrue(error("sweep DynamicDimension.0=1,2 shape=x:1x3x8x8 hw=h100-sxm5")?.message.contains("disagrees") ?? false)
        XCTAssertNil(runner.run("load fixed.onnx").error)
        // with the shape confirmed, batch sweeps
        XCTAssertNil(runner.run("sweep batch=1,8 shape=data:1x3x8x8 hw=h100-sxm5").error)
        XCTAssertEqual(data?["points"]?.arrayValue?.count, 2)
        // throughput = samples / latency, whatever the batch dimension is called (here N)
        XCTAssertNil(runner.run("load named.onnx").error)
        for axis in ["N", "batch"] {
            XCTAssertNil(runner.run("sweep \(axis)=1,8 hw=h100-sxm5 metric=throughput").error)
            let tp = data?["points"]?.arrayValue?.compactMap { $0["value"]?.doubleValue } ?? []
            XCTAssertEqual(data?["unit"], .string("samples/s"))
            XCTAssertNil(runner.run("sweep \(axis)=1,8 hw=h100-sxm5 metric=latency").error)
            let lat = data?["points"]?.arrayValue?.compactMap { $0["value"]?.doubleValue } ?? []
            XCTAssertEqual(tp.count, 2); XCTAssertEqual(lat.count, 2)
            for (i, b) in [1.0, 8.0].enumerated() where i < tp.count && i < lat.count {
                XCTAssertEqual(tp[i], b / lat[i], accuracy: tp[i] * 1e-9, "\(axis)=\(Int(b))")
            }
        }
        // an LLM sweep times one decode step: its throughput is generated tokens per second
        XCTAssertNil(runner.run("sweep llm=gpt2 batch=1,2 hw=h100-sxm5 metric=throughput").error)
        XCTAssertEqual(data?["unit"], .string("tokens/s"))
        // estimate says it too
        XCTAssertNil(runner.run("estimate N=8 hw=h100-sxm5").error)
        let latency = try XCTUnwrap(data?["totals"]?["latency_s"]?.doubleValue)
        XCTAssertEqual(data?["throughput_samples_per_s"]?.doubleValue ?? 0, 8 / latency, accuracy: 1e-6 * 8 / latency)
    }

    func testSummaryAndEstimateCountTheSameParametersOrSayWhy() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        XCTAssertNil(runner.run("summary").error)
        XCTAssertEqual(data?["parameters"]?.intValue, 108 + 8 + 1)
        XCTAssertEqual(data?["unused_parameters"]?.intValue, 1)
        XCTAssertTrue(runner.displays.last?["text/plain"]?.stringValue?.contains("1 in initializers no node reads") ?? false)
        XCTAssertNil(runner.run("estimate").error)
        XCTAssertEqual(data?["totals"]?["params"]?.intValue, 108 + 8)
    }

    func testHardwareFragmentsCompleteAndAmbiguityListsTheCandidates() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        let e = try XCTUnwrap(error("estimate hw=h100"))
        XCTAssertEqual(e.name, "LookupError")
        XCTAssertTrue(e.message.contains("ambiguous") && e.message.contains("nvidia-h100-sxm5-80gb"), e.message)
        let code = "estimate hw=h1"
        let reply = runner.interpreter.complete(code: code, cursorPosition: code.unicodeScalars.count)
        XCTAssertTrue(reply.matches.contains("nvidia-h100-sxm5-80gb"), "\(reply.matches)")
        XCTAssertTrue(reply.matches.allSatisfy { $0.lowercased().contains("h1") }, "\(reply.matches)")
    }

    func testInterruptedSweepShowsWhereItStopped() throws {
        XCTAssertNil(runner.run("load named.onnx").error)
        let flag = CancellationFlag()
        var updates: [String] = []
        let context = ExecutionContext(executionCount: 1, cancellation: flag) { output in
            if case .updateDisplay(let data, _, _) = output, let text = data["text/plain"]?.stringValue {
                updates.append(text)
                if !text.contains(" 0/") { flag.cancel() }      // interrupt once work has started
            }
        }
        let outcome = runner.interpreter.execute(ExecuteRequest(code: "sweep N=1..3000 hw=h100-sxm5"), context: context)
        XCTAssertEqual(outcome.error?.name, "KeyboardInterrupt")
        let last = try XCTUnwrap(updates.last)
        XCTAssertTrue(last.hasSuffix("— interrupted"), last)
        XCTAssertFalse(last.contains("3000/3000") || last.contains("(100%)"), last)
    }

    func testLargeSweepTablesAreCappedAndTheJSONHasEveryPoint() throws {
        XCTAssertNil(runner.run("load named.onnx").error)
        XCTAssertNil(runner.run("sweep N=1..1000 hw=h100-sxm5").error)
        let b = try XCTUnwrap(runner.displays.last { $0["text/html"] != nil })
        XCTAssertEqual(data?["points"]?.arrayValue?.count, 1000)
        let html = b["text/html"]?.stringValue ?? ""
        XCTAssertLessThanOrEqual(html.components(separatedBy: "<tr").count - 1, EstimationCommands.sweepTableRows + 1)
        XCTAssertTrue(html.contains("800 more rows"), String(html.suffix(300)))
        XCTAssertTrue(b["text/plain"]?.stringValue?.contains("800 more rows") ?? false)
        // the chart draws long series as lines: no 1,000 markers with tooltips
        let svg = runner.displays.last?["image/svg+xml"]?.stringValue ?? ""
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertLessThanOrEqual(svg.components(separatedBy: "<circle").count - 1, 500)
    }

    func testChartAxesUseOneNumberStyle() throws {
        XCTAssertNil(runner.run("load fixed.onnx").error)
        XCTAssertNil(runner.run("roofline hw=h100-sxm5").error)
        let spec = try XCTUnwrap(runner.displays.last?["application/vnd.vegalite.v5+json"])
        let expr = spec["config"]?["axisQuantitative"]?["labelExpr"]?.stringValue ?? ""
        // Log axes tick at 1..9 per decade: overlapping labels are dropped, not printed over each other.
        XCTAssertEqual(spec["config"]?["axisQuantitative"]?["labelOverlap"], .string("greedy"))
        XCTAssertEqual(spec["config"]?["legend"]?["labelLimit"], .int(400))
        XCTAssertTrue(expr.contains("'.3~s'"), expr)            // SI prefixes (10T), as the SVG's Format.si
        XCTAssertFalse(expr.contains("e+"), expr)
        let svg = runner.displays.last?["image/svg+xml"]?.stringValue ?? ""
        XCTAssertFalse(svg.contains("e+1"), "SVG ticks use SI prefixes too")
    }
}
