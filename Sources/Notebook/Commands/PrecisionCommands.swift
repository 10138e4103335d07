// Precision commands: `quantize mode=dynamic|static` and `convert dtype=fp16|bf16`. Thin:
// GraphPasses holds the passes, the calibration and the measurement; here the calibration
// inputs are gathered (`.npz` files or seeded random inputs, as `run` makes them), the pass runs
// through the pass manager (checked like every pass) as one history step, and the report gives
// the initializer bytes before and after, the max error against the float model on the
// calibration inputs, and sets the `error`/`pcc` overlays on the new version.

import Foundation
import GraphFormats
import GraphIR
import GraphPasses
import GraphRuntime

enum PrecisionCommands {
    static let family = "Transforming"

    static let shared: [Parameter] = [
        Parameter("calibration", .list(.path), "calibration input sets: .npz files, one set each (arrays named as the graph inputs)"),
        Parameter("samples", .int, "without calibration=: this many seeded random input sets", default: "8"),
        Parameter("scope", .string, "only touch nodes under this hierarchy path (/encoder/layer.0)"),
    ] + RunInputs.sharedOptions.filter { $0.name != "threads" }

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "quantize", family: family,
            summary: "Int8 quantization (dynamic: MatMul/Gemm weights; static: QDQ calibrated) as one history step, with its error",
            usage: "quantize mode=dynamic|static [method=minmax|percentile] [percentile=99.99] [per_channel=true] [calibration=a.npz,b.npz] [samples=N] [scope=PATH]",
            options: [
                Parameter("mode", .choice(["dynamic", "static"]), "dynamic: activations quantized at run time (MatMulInteger); static: QDQ with calibrated activations", default: "static"),
                Parameter("method", .choice(["minmax", "percentile"]), "how static calibration turns observed values into ranges", default: "minmax"),
                Parameter("percentile", .float, "the percentile kept by method=percentile", default: "99.99"),
                Parameter("per_channel", .bool, "one weight scale per output channel (static default true, dynamic default false)"),
            ] + shared,
            extraOptions: .any, extraOptionsHelp: "graph inputs and dimensions of the calibration inputs, as for `run`",
            details: "dynamic writes what onnxruntime's quantize_dynamic writes: DynamicQuantizeLinear, MatMulInteger with int8 weights, "
                + "a Cast and the scale Mul. static writes QuantizeLinear/DequantizeLinear pairs: Conv/Gemm/MatMul weights int8 per "
                + "output channel, their activation inputs quantized over ranges found by running the float model in the interpreter "
                + "on the calibration inputs (MinMax or percentile). Nodes annotated quantize=none, keep=true or outside scope= are "
                + "left alone; when any node is annotated quantize=int8|uint8 only those are quantized. The report gives initializer "
                + "bytes before/after and the max error against the float model on the calibration inputs; the per-node max abs "
                + "difference becomes the overlay `error` (`show overlay=error`). `undo` reverts.",
            examples: ["quantize mode=static", "quantize mode=static method=percentile percentile=99.99 samples=16",
                       "quantize mode=dynamic batch=1 seq=16", "quantize mode=static calibration=cal/a.npz,cal/b.npz\nshow overlay=error"],
            changesState: true
        ) { session, inv, out in
            let mode = inv.string("mode") ?? "static"
            let pass: any Pass
            if mode == "dynamic" {
                pass = QuantizeDynamic(perChannel: inv.bool("per_channel") ?? false)
            } else {
                let entry = try session.currentGraph(for: "quantize")
                let sets = try inputSets(entry, session, inv)
                let method: CalibrationMethod
                if inv.string("method") == "percentile" {
                    let p = inv.double("percentile") ?? 99.99
                    guard p > 50, p <= 100 else { throw inv.error(.value, "percentile is between 50 and 100", at: "percentile") }
                    method = .percentile(p)
                } else {
                    method = .minMax
                }
                let ranges: [String: ValueRange]
                do {
                    ranges = try Calibration.ranges(of: QuantizeStatic.activations(of: entry.graph), model: entry.model, inputs: sets, method: method)
                } catch let e as RuntimeError {
                    throw inv.error(.value, "quantize: calibration could not run the float model: \(e)")
                }
                pass = QuantizeStatic(ranges: ranges, perChannel: inv.bool("per_channel") ?? true)
            }
            try apply(pass, &session, inv, out, title: "quantize mode=\(mode)")
        },
        CommandSpec(
            name: "convert", family: family,
            summary: "Convert float32 to float16 or bfloat16 (Casts where float32 must stay) as one history step, with its error",
            usage: "convert dtype=fp16|bf16 [keep_io_types=true] [samples=N] [calibration=a.npz] [scope=PATH]",
            options: [
                Parameter("dtype", .choice(["fp16", "bf16"]), "the low-precision type", default: "fp16"),
                Parameter("keep_io_types", .bool, "keep the graph's inputs and outputs float32 (Casts at the boundary)", default: "true"),
            ] + shared,
            extraOptions: .any, extraOptionsHelp: "graph inputs and dimensions of the check inputs, as for `run`",
            details: "Weights and every node whose op schema accepts the type compute in it; a node that must stay float32 (no "
                + "float16 variant in its schema, a body, a dtype attribute, quantize=none, keep=true, outside scope=) keeps it, with "
                + "a Cast wherever a value crosses. Nodes annotated quantize=fp16|bf16 select what is converted when any is. The error "
                + "is measured in the interpreter, which computes float16 values in float32 (onnxruntime rounds every op).",
            examples: ["convert dtype=fp16", "convert dtype=bf16 keep_io_types=false", "convert dtype=fp16 scope=/encoder\nshow overlay=error"],
            changesState: true
        ) { session, inv, out in
            let dtype: ElementType = inv.string("dtype") == "bf16" ? .bfloat16 : .float16
            try apply(ConvertFloat16(dtype: dtype, keepIOTypes: inv.bool("keep_io_types") ?? true), &session, inv, out,
                      title: "convert dtype=\(inv.string("dtype") ?? "fp16")")
        },
    ]

    /// The calibration (and check) input sets: one per `.npz` file, else `samples=` random sets
    /// (seeds seed, seed+1, ...; inputs given by file or literal stay the same in every set).
    static func inputSets(_ entry: GraphEntry, _ session: Session, _ inv: Invocation) throws -> [[String: RuntimeTensor]] {
        let inputs = RunInputs.runtimeInputs(entry.graph)
        let files: [String] = inv.list("calibration")?.compactMap { if case .string(let s) = $0 { return s } else { return $0.displayString } }
            ?? inv.string("calibration").map { [$0] } ?? []
        if !files.isEmpty {
            var sets: [[String: RuntimeTensor]] = []
            for file in files {
                let members: [Tensor]
                do { members = try NPZ.read(session.resolvePath(file)) } catch let e as NPYError {
                    throw inv.error(.file, "calibration: cannot read '\(file)': \(e.reason)", at: "calibration")
                } catch {
                    throw inv.error(.file, "calibration: cannot read '\(file)': \(GraphCommands.fileErrorText(error))", at: "calibration")
                }
                var set: [String: RuntimeTensor] = [:]
                for vi in inputs {
                    guard let m = members.first(where: { $0.name == vi.name }) ?? (members.count == 1 && inputs.count == 1 ? members.first : nil) else {
                        throw inv.error(.lookup, "calibration: '\(file)' has no array named '\(vi.name)' (it has: \(members.map(\.name).joined(separator: ", ")))", at: "calibration")
                    }
                    set[vi.name] = try RunInputs.runtime(m, vi.name, inv.location(of: "calibration"))
                }
                sets.append(set)
            }
            return sets
        }
        let n = inv.int("samples") ?? 8
        guard n >= 1, n <= 10_000 else { throw inv.error(.value, "samples is between 1 and 10,000", at: "samples") }
        let first = try RunInputs.tensors(for: entry.graph, session, inv)
        let given = Set(inv.extra.map(\.key))
        let seed = UInt64(truncatingIfNeeded: inv.int("seed") ?? 0)
        var sets = [first]
        for k in 1..<n {
            var set = first
            for vi in inputs where !given.contains(vi.name) {
                guard let t = first[vi.name], let type = vi.type?.elementType else { continue }
                do { set[vi.name] = try RandomInput.tensor(type, shape: t.shape, seed: seed &+ UInt64(k), name: vi.name) } catch let e as RuntimeError {
                    throw inv.error(.value, e.description)
                }
            }
            sets.append(set)
        }
        return sets
    }

    /// Runs `pass` as one history step, measures it against the float model and reports.
    static func apply(_ pass: any Pass, _ session: inout Session, _ inv: Invocation, _ out: CommandOutput, title: String) throws {
        let entry = try session.currentGraph(for: inv.name)
        var opts = PassOptions()
        if let s = inv.string("scope") {
            guard let path = entry.hierarchyPath(s), !path.isEmpty else { throw inv.error(.lookup, "no hierarchy path '\(s)'", at: "scope") }
            opts.scope = path
        }
        let sets = try inputSets(entry, session, inv)
        let firstID = entry.graph.nextNodeID.rawValue
        let result = try PassCommands.runPasses(PassManager(passes: [pass], options: opts), entry, inv)
        guard result.changed, let checked = result.checked else {
            out.print("\(title): no node to convert (selection: quantize= annotations, keep=true, scope=); no history step.")
            return
        }
        let converted = result.transaction.model
        let check: PrecisionCheck
        do { check = try PrecisionCheck.measure(float: entry.model, converted: converted, inputs: sets) } catch let e as RuntimeError {
            throw inv.error(.value, "\(inv.name): the result cannot be checked, so it is not kept: \(e)")
        }
        let version = GraphVersion(model: converted, origin: "pass", checked: checked)
        var step = 0
        let now = session.now
        session.graphs.modify(entry.name) { e in
            step = e.history.commit(version, counts: version.counts, origin: "pass", command: inv.canonicalText,
                                    edits: result.transaction.applied, time: now, firstNodeID: firstID)
            e.fields["error"] = NodeField(values: check.nodeError, rollup: .max, unit: "max abs diff")
            e.fields["pcc"] = NodeField(values: check.nodePCC, rollup: .mean, unit: "")
        }
        out.display(report(check, title: "\(title) on \(entry.name)", before: entry.current.counts.nodes, after: version.counts.nodes).bundle)
        out.print("\(entry.current.counts.nodes) -> \(version.counts.nodes) nodes — @\(step) (`undo` reverts). "
            + "Per-node max abs difference is the overlay field `error`: `show overlay=error`.")
    }

    static func report(_ c: PrecisionCheck, title: String, before: Int, after: Int) -> Table {
        var t = Table(columns: [.init("measure"), .init("value")], title: title)
        t.rows.append([Table.Cell("initializer bytes"), Table.Cell("\(Format.grouped(c.bytesBefore)) -> \(Format.grouped(c.bytesAfter)) (\(String(format: "%.1f", c.sizeRatio * 100))%)")])
        t.rows.append([Table.Cell("nodes"), Table.Cell("\(before) -> \(after)")])
        t.rows.append([Table.Cell("max abs error (\(c.inputSets) input set\(c.inputSets == 1 ? "" : "s"))"), Table.Cell(String(format: "%.4g", c.maxError))])
        for o in c.outputs {
            var text = "max \(String(format: "%.4g", o.maxAbs)), mean \(String(format: "%.4g", o.meanAbs))"
            if let top1 = o.top1 { text += ", top-1 agreement \(String(format: "%.1f", top1 * 100))% of \(o.rows)" }
            t.rows.append([Table.Cell("output \(o.name)"), Table.Cell(text)])
        }
        return t
    }
}
