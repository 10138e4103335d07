// Estimation commands: `hardware` (the target registry), `estimate` (per-node cost and
// roofline latency and energy, attached as overlay fields), `roofline` (the chart),
// `sweep` (what-if grids; its runner is in SweepCommand.swift) and `llm` (parameter
// counts, training and inference memory, fit on a GPU).

import Foundation
import GraphEstimation
import GraphIR
import JupyterKernel

enum EstimationCommands {
    static let family = "Estimation"

    static let hardwareOption = Parameter("hw", .hardware, "hardware target id (see `hardware`)")
    static let shapeOption = Parameter("shape", .list(.string), "full shapes of graph inputs, e.g. shape=x:1x3x320x320 (or a list)")
    static let dtypeOption = Parameter("dtype", .choice(Precision.allCases.map(\.rawValue)), "compute precision and float tensor size",
                                       default: "the graph's own types")

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "hardware", family: family,
            summary: "List hardware targets, or add your own from a JSON file",
            usage: "hardware [FILTER] | hardware add PATH",
            positionals: [Parameter("filter", .string, "text to match in id, name or class, or `add`"),
                          Parameter("path", .path, "with `add`: a JSON file of targets (schema of hardware.json)")],
            examples: ["hardware", "hardware gpu", "hardware add my_chips.json"], changesState: true
        ) { session, inv, out in
            if inv.string("filter") == "add" {
                let path = try inv.requiredString("path")
                let url = session.resolvePath(path)
                let before = try session.registry()
                let after: HardwareRegistry
                do { after = try before.adding(contentsOf: url) } catch {
                    throw inv.error(.value, "cannot add hardware from '\(path)':\n\(error)", at: "path")
                }
                session.hardwareRegistry = after
                let added = after.targets.filter { t in !before.targets.contains(t) }.map(\.id)
                out.print("Added \(added.count) target(s): \(added.joined(separator: ", ")). \(after.targets.count) in the registry.")
                return
            }
            // Listing changes nothing worth journaling (`hardware add` does).
            session.journal.unchanged = true
            let filter = inv.string("filter")?.lowercased()
            let rows = try session.registry().rows().filter { r in
                filter.map { r.id.lowercased().contains($0) || r.name.lowercased().contains($0) || r.deviceClass.lowercased().contains($0) } ?? true
            }
            func cell(_ d: Double?) -> Table.Cell { d.map { .number($0, digits: 4) } ?? Table.Cell("—", value: .null) }
            var table = Table(columns: [.init("id"), .init("name"), .init("class"), .init("fp16 TFLOPS", numeric: true),
                                        .init("fp32 TFLOPS", numeric: true), .init("int8 TOPS", numeric: true),
                                        .init("memory GB", numeric: true), .init("GB/s", numeric: true), .init("TDP W", numeric: true),
                                        .init("confidence"), .init("source")],
                              title: "\(rows.count) hardware target(s)")
            table.rows = rows.map { r in
                [Table.Cell(r.id), Table.Cell(r.name), Table.Cell(r.deviceClass), cell(r.peakFP16TFLOPS), cell(r.peakFP32TFLOPS),
                 cell(r.peakINT8TOPS), cell(r.memoryGB), cell(r.bandwidthGBps), cell(r.tdpWatts),
                 Table.Cell(r.confidence.rawValue), Table.Cell(r.source)]
            }
            out.display(table.bundle)
        },
        CommandSpec(
            name: "estimate", family: family,
            summary: "Per-node MACs, FLOPs, bytes, parameters; roofline latency and energy on a target",
            usage: "estimate [hw=ID] [dtype=T] [batch=N] [convention=C] [DIM=N...]",
            options: [hardwareOption, dtypeOption,
                      Parameter("batch", .int, "binds the leading dimension of every graph input, whatever its name (N, DynamicDimension.0, ?)"),
                      Parameter("convention", .choice(Convention.allCases.map(\.rawValue)), "FLOP counting convention", default: "graphsmith"),
                      shapeOption,
                      Parameter("top", .int, "how many of the costliest nodes to list (0: none)", default: "10"),
                      Parameter("depth", .int, "hierarchy depth of the namespace rollup", default: "2")],
            extraOptions: .int, extraOptionsHelp: "binds a symbolic dimension, e.g. seq=512",
            details: "Conventions: 1 MAC = 2 FLOPs; element-wise ops cost 1 FLOP per output element; `dense` counts only "
                + "Conv/Gemm/MatMul, and `fvcore`, `deepspeed`, `onnx-tool` reproduce those tools' totals. Latency is "
                + "max(FLOPs / (η·peak), bytes / (η·bandwidth)) + launch overhead per node, summed along one stream. "
                + "The per-node figures become overlay fields: latency, flops, macs, bytes, energy, params. "
                + "`batch=` binds the leading dimension of every graph input whatever its name (N, DynamicDimension.0, ?); "
                + "an input whose leading dimension is a fixed number keeps it: give shape=NAME:8x3x224x224 to confirm it is "
                + "the batch (batch= then sets it). `shape=` gives one input's full shape and may repeat, once per input. "
                + "Throughput is batch / latency, in samples per second.",
            examples: ["estimate", "estimate hw=h100-sxm5 dtype=fp16 batch=8 seq=512", "estimate convention=onnx-tool\nshow overlay=flops"], changesState: true
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "estimate")
            let graph = OpGraph(entry.model, inference: entry.inference)
            let options = try estimateOptions(&session, inv, graph: graph)
            let result = try estimate(graph, options, entry: entry, inv)
            session.graphs.modify(entry.name) { e in
                e.fields["flops"] = NodeField(values: result.overlay(.flops), rollup: .sum, unit: "FLOP")
                e.fields["bytes"] = NodeField(values: result.overlay(.bytes), rollup: .sum, unit: "B")
                var macs: [NodeID: Double] = [:], params: [NodeID: Double] = [:]
                for n in result.nodes { if let id = n.nodeID { macs[id] = Double(n.macs); params[id] = Double(n.params) } }
                e.fields["macs"] = NodeField(values: macs, rollup: .sum, unit: "MAC")
                e.fields["params"] = NodeField(values: params, rollup: .sum, unit: "")
                if options.hardware != nil {
                    // Overlays read best in µs and mJ; the JSON output keeps SI seconds and joules.
                    e.fields["latency"] = NodeField(values: result.overlay(.latency).mapValues { $0 * 1e6 }, rollup: .sum, unit: "µs")
                    e.fields["energy"] = NodeField(values: result.overlay(.energy).mapValues { $0 * 1e3 }, rollup: .sum, unit: "mJ")
                }
            }
            out.display(estimateBundle(result, entry: entry, depth: inv.int("depth") ?? 2))
        },
        CommandSpec(
            name: "roofline", family: family,
            summary: "Roofline chart of every node on a hardware target",
            usage: "roofline hw=ID [dtype=T] [batch=N] [DIM=N...]",
            options: [Parameter("hw", .hardware, "hardware target id (see `hardware`)", required: true), dtypeOption,
                      Parameter("batch", .int, "binds the leading dimension of every graph input"), shapeOption],
            extraOptions: .int, extraOptionsHelp: "binds a symbolic dimension, e.g. seq=512",
            examples: ["roofline hw=a100-sxm4-80gb batch=8 seq=128"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "roofline")
            let graph = OpGraph(entry.model, inference: entry.inference)
            let options = try estimateOptions(&session, inv, graph: graph)
            let result = try estimate(graph, options, entry: entry, inv)
            guard let roofs = result.roofs else { throw inv.error(.value, "no roofline without a hardware target", at: "hw") }
            let points = result.rooflinePoints.map {
                Chart.Point(x: $0.arithmeticIntensity, y: $0.attainedFLOPS, label: $0.name, group: $0.opType)
            }
            let xs = points.map(\.x).filter { $0 > 0 }
            let lo = min(xs.min() ?? 0.01, roofs.ridgeIntensity / 100) / 2, hi = max(xs.max() ?? 100, roofs.ridgeIntensity * 10) * 2
            let chart = Chart.scatter(points, lines: [Chart.Series(name: "roof", points: roofs.polyline(from: lo, to: hi).map { (x: $0.intensity, y: $0.flops) })],
                                      title: "\(entry.name) on \(result.hardwareName ?? "?") (\(result.precision.rawValue))",
                                      xTitle: "arithmetic intensity (FLOP/byte)", yTitle: "attained FLOP/s")
            let compute = result.rooflinePoints.filter { $0.bottleneck == .compute }.count
            var bundle = OutputBundle(text: "Roofline of \(entry.name) on \(result.hardwareName ?? "?"): \(result.rooflinePoints.count) nodes, "
                + "\(compute) compute-bound, \(result.rooflinePoints.count - compute) memory-bound; peak \(Format.si(roofs.matrixPeakFLOPS))FLOP/s, "
                + (roofs.bandwidthBytesPerSecond.isFinite
                    ? "bandwidth \(Format.bytes(roofs.bandwidthBytesPerSecond))/s, ridge at \(Format.number(roofs.ridgeIntensity, digits: 3)) FLOP/byte"
                    : "no published memory bandwidth (memory roof not drawn)"))
            chart.attach(to: &bundle)
            // Devices without a published bandwidth have an infinite memory roof: JSON gets null.
            func number(_ d: Double) -> JSONValue { d.isFinite ? .double(d) : .null }
            bundle.json = ["ridge_intensity": number(roofs.ridgeIntensity), "peak_flops": number(roofs.matrixPeakFLOPS),
                           "bandwidth": number(roofs.bandwidthBytesPerSecond),
                           "points": .array(result.rooflinePoints.map {
                               ["name": .string($0.name), "op": .string($0.opType), "intensity": .double($0.arithmeticIntensity),
                                "flops_per_s": number($0.attainedFLOPS), "bottleneck": .string($0.bottleneck.rawValue)]
                           })]
            out.display(bundle)
        },
        CommandSpec(
            name: "sweep", family: family,
            summary: "What-if grid over dims, dtype and hardware (or an LLM's settings), in parallel",
            usage: "sweep KEY=LIST... [metric=latency|memory|energy|throughput] [hw=ID] [llm=PRESET]",
            options: [Parameter("metric", .choice(SweepMetric.allCases.map(\.rawValue)), "what to chart", default: "latency"),
                      hardwareOption, shapeOption,
                      Parameter("llm", .choice(LLMPresets.names), "sweep an LLM preset instead of the current graph")],
            extraOptions: .list(.string),
            extraOptionsHelp: "an axis: a graph dim (batch, seq...), dtype or hardware; values as [1, 8], 1,8 or 1..64*2",
            details: "Axes multiply: `batch=1,8 dtype=fp16,int8 hardware=a100-sxm4-80gb,h100-sxm5` is 8 points. "
                + "LLM sweeps take batch, seq, generated, dtype, hardware, recompute, optimizer, flash and training.",
            examples: ["sweep batch=1..64*2 hardware=a100-sxm4-80gb,h100-sxm5 metric=throughput",
                       "sweep llm=llama-2-7b seq=512,2048,8192 batch=1,8 metric=memory hw=h100-sxm5"]
        ) { session, inv, out in
            try runSweep(&session, inv, out)
        },
        CommandSpec(
            name: "llm", family: family,
            summary: "LLM parameters, training/inference memory and FLOPs, and fit on a GPU",
            usage: "llm [PRESET] [KEY=VALUE...] [hw=ID] [--training] [--flash]",
            positionals: [Parameter("preset", .choice(LLMPresets.names), "a known model to start from")],
            options: llmOptions,
            flags: [Flag("training", "training memory: gradients, optimizer state, activations"),
                    Flag("flash", "FlashAttention: no s² attention-score activations")],
            details: "Parameter counts are exact for the presets (GPT-2 small 124,439,808; Llama-2-7B 6,738,415,616). Activations "
                + "follow Korthikanti et al. 2022 per recompute mode; the KV cache is 2·L·kv_heads·head_dim·bytes·tokens; "
                + "training FLOPs are 6PD (8PD with full recompute).",
            examples: ["llm llama-2-7b hw=h100-sxm5", "llm gpt2 --training optimizer=adam batch=8 seq=1024 hw=a100-sxm4-80gb",
                       "llm layers=24 hidden=2048 heads=16 vocab=50000 mlp=swiglu ffn=5632"]
        ) { session, inv, out in
            try runLLM(&session, inv, out)
        },
    ]

    static let llmOptions: [Parameter] = [
        Parameter("layers", .int, "transformer blocks"), Parameter("hidden", .int, "model width"),
        Parameter("heads", .int, "attention heads"), Parameter("kv_heads", .int, "key/value heads (GQA)", default: "heads"),
        Parameter("ffn", .int, "MLP width", default: "4·hidden"), Parameter("mlp", .choice(MLPKind.allCases.map(\.rawValue)), "MLP kind", default: "mlp"),
        Parameter("vocab", .int, "vocabulary size"), Parameter("tied", .bool, "input and output embeddings shared"),
        Parameter("positions", .choice(PositionKind.allCases.map(\.rawValue)), "position embedding kind"),
        Parameter("seq", .int, "sequence length"), Parameter("batch", .int, "batch size", default: "1"),
        Parameter("generated", .int, "tokens generated after the prompt (KV cache)", default: "0"),
        Parameter("dtype", .choice(Precision.allCases.map(\.rawValue)), "weights and activations precision", default: "bf16"),
        Parameter("optimizer", .choice(OptimizerKind.allCases.map(\.rawValue)), "optimizer (training)", default: "adam with --training"),
        Parameter("recompute", .choice(RecomputeMode.allCases.map(\.rawValue)), "activation recomputation", default: "none"),
        Parameter("hw", .hardware, "GPU to fit on and time inference"),
    ]

    /// The largest dimension a user may bind: element counts of whole graphs stay far from overflow.
    static let maxDimension = 1 << 24

    /// Upper bounds for LLM config fields, so parameter and memory arithmetic cannot overflow.
    static let llmLimits: [String: Int] = ["layers": 10_000, "hidden": 1 << 20, "heads": 1 << 16, "kv_heads": 1 << 16,
                                           "ffn": 1 << 23, "vocab": 1 << 24, "seq": 1 << 24, "batch": 1 << 20, "generated": 1 << 24]

    // MARK: estimate

    static func estimateOptions(_ session: inout Session, _ inv: Invocation, graph: OpGraph) throws -> EstimateOptions {
        var options = EstimateOptions()
        if let hw = inv.string("hw") { options.hardware = try target(hw, &session, inv) }
        if let d = inv.string("dtype") { options.precision = Precision(parsing: d) }
        if let c = inv.string("convention") { options.convention = Convention(parsing: c) ?? .graphsmith }
        if let top = inv.int("top") {
            guard top >= 0 else { throw inv.error(.value, "top must be 0 or more, not \(top)", at: "top") }
            options.topK = top
        }
        if let b = inv.int("batch") {
            guard b > 0, b <= maxDimension else {
                throw inv.error(.value, "batch must be between 1 and \(Format.grouped(maxDimension))", at: "batch")
            }
            options.batch = b
        }
        options.inputShapes = try inputShapes(inv)
        let bindable = graph.bindableNames
        for (key, arg) in inv.extra {
            guard bindable.contains(key) else {
                let options = commands.first { $0.name == inv.name }?.options.map(\.name) ?? []
                let hint = Suggest.closest(to: key, in: options + bindable).map { "; did you mean '\($0)'?" } ?? ""
                throw CellError(.command, "\(inv.name) has no option '\(key)', and the graph has no dimension of that name\(hint) "
                    + "(options: \(options.joined(separator: ", ")); dimensions: \(bindable.isEmpty ? "none" : bindable.joined(separator: ", ")))",
                    at: arg.location)
            }
            guard case .int(let v) = arg.value, v > 0, v <= maxDimension else {
                throw CellError(.value, "\(key) must be a positive integer up to \(Format.grouped(maxDimension))", at: arg.location)
            }
            options.bindings[key] = v
        }
        return options
    }

    /// `shape=NAME:1x3x224x224` items (repeated `shape=` options merge): one per input. The
    /// name ends at the last `:`, so names holding `:` (`input:0`) work.
    static func inputShapes(_ inv: Invocation) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for item in inv.list("shape") ?? [] {
            let text = item.displayString
            guard let colon = text.lastIndex(of: ":") else {
                throw inv.error(.value, "shape must look like NAME:1x3x224x224 (the input's name, a colon, the sizes), not '\(text)'", at: "shape")
            }
            let name = String(text[..<colon])
            let dims = text[text.index(after: colon)...].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard !name.isEmpty, !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= maxDimension }) else {
                throw inv.error(.value, "shape must look like NAME:1x3x224x224 with sizes from 1 to \(Format.grouped(maxDimension)), not '\(text)'", at: "shape")
            }
            guard shapes[name] == nil else {
                throw inv.error(.value, "shape= gives input '\(name)' twice; give each input once", at: "shape")
            }
            shapes[name] = dims.compactMap { $0 }
        }
        return shapes
    }

    /// Runs the estimate, turning library errors into a `ModelError` on the command.
    static func estimate(_ graph: OpGraph, _ options: EstimateOptions, entry: GraphEntry, _ inv: Invocation) throws -> GraphEstimate {
        do { return try GraphEstimator.estimate(graph, options: options) } catch EstimationError.badInput(let option, let message) where !option.isEmpty {
            throw inv.error(.value, message, at: inv.value(option) == nil ? nil : option)
        } catch {
            throw inv.error(.model, "cannot estimate \(entry.name): \(error)")
        }
    }

    /// Looks a hardware id up; an unknown or ambiguous one is a `LookupError` at `hw`.
    static func target(_ hw: String, _ session: inout Session, _ inv: Invocation) throws -> HardwareTarget {
        guard let target = try session.registry().target(hw) else {
            throw inv.error(.lookup, hardwareMessage(hw, session), at: "hw")
        }
        return target
    }

    /// Why `text` names no single target: the candidates when it is ambiguous, else a near id.
    static func hardwareMessage(_ text: String, _ session: Session) -> String {
        let registry = session.hardwareRegistry ?? HardwareRegistry(targets: [])
        let matches = registry.candidates(text).map(\.id)
        if matches.count > 1 {
            return "hardware '\(text)' is ambiguous: it matches \(matches.prefix(8).joined(separator: ", "))"
                + (matches.count > 8 ? " and \(matches.count - 8) more" : "") + "; give more of the id"
        }
        if let close = Suggest.closest(to: text, in: registry.targets.map(\.id)) { return "unknown hardware '\(text)'; did you mean '\(close)'?" }
        return "unknown hardware '\(text)'; `hardware` lists the targets"
    }

    static func estimateBundle(_ r: GraphEstimate, entry: GraphEntry, depth: Int) -> OutputBundle {
        let t = r.totals
        var totals = Table(columns: [.init("figure"), .init("value", numeric: true), .init("range")],
                           title: "\(entry.name): estimate" + (r.hardwareName.map { " on \($0)" } ?? "") + " (\(r.precision.rawValue), \(r.convention.rawValue))")
        totals.rows = [
            ["MACs", Table.Cell(Format.si(Double(t.macs)), value: .int(Int64(t.macs))), ""],
            ["FLOPs", Table.Cell(Format.si(Double(t.flops)), value: .int(Int64(t.flops))), ""],
            ["parameters", .int(t.params), ""],
            ["bytes moved", Table.Cell(Format.bytes(t.bytes), value: .double(t.bytes)),
             Table.Cell("read \(Format.bytes(t.bytesReadActivations + t.bytesReadWeights)), written \(Format.bytes(t.bytesWritten))")],
        ]
        if let l = t.latencySeconds {
            totals.rows.append(["latency", Table.Cell(seconds(l.value), value: .double(l.value)),
                                Table.Cell("\(seconds(l.low)) – \(seconds(l.high)) (\(l.confidence.rawValue))")])
        }
        if let c = t.dependencyCriticalPathSeconds {
            totals.rows.append(["critical path (∞ streams)", Table.Cell(seconds(c), value: .double(c)), ""])
        }
        if let tp = r.throughput {
            totals.rows.append(["throughput", Table.Cell(Format.si(tp) + " samples/s", value: .double(tp)),
                                Table.Cell("batch \(r.batchSize) / latency")])
        }
        if let e = t.energyJoules {
            totals.rows.append(["energy", Table.Cell(joules(e.value), value: .double(e.value)),
                                Table.Cell("\(joules(e.low)) – \(joules(e.high)) (\(e.confidence.rawValue))")])
        }
        var top = Table(columns: [.init("node"), .init("op"), .init("FLOPs", numeric: true), .init("bytes", numeric: true),
                                  .init("latency", numeric: true), .init("bound")], title: "Costliest nodes")
        top.rows = r.topK.map { n in
            [Table.Cell(n.name), Table.Cell(n.opType), Table.Cell(Format.si(Double(n.flops)), value: .int(Int64(n.flops))),
             Table.Cell(Format.bytes(n.bytes), value: .double(n.bytes)),
             n.latency.map { Table.Cell(seconds($0.value), value: .double($0.value)) } ?? "—",
             Table.Cell(n.bottleneck?.rawValue ?? "—")]
        }
        var spaces = Table(columns: [.init("namespace"), .init("nodes", numeric: true), .init("FLOPs", numeric: true),
                                     .init("params", numeric: true), .init("latency", numeric: true)], title: "By namespace")
        spaces.rows = r.namespaces.filter { $0.depth <= depth }.map { s in
            [Table.Cell(s.path), .int(s.nodeCount), Table.Cell(Format.si(Double(s.flops)), value: .int(Int64(s.flops))),
             .int(s.params), r.hardwareID == nil ? "—" : Table.Cell(seconds(s.latencySeconds), value: .double(s.latencySeconds))]
        }
        var issues = ""
        if !r.issues.isEmpty { issues = "\nNotes:\n" + r.issues.prefix(8).map { "  " + $0 }.joined(separator: "\n") }
        let text = [totals.text, top.rows.isEmpty ? "" : top.text, spaces.rows.isEmpty ? "" : spaces.text].filter { !$0.isEmpty }.joined(separator: "\n\n") + issues
        var html = totals.html + (top.rows.isEmpty ? "" : top.html) + (spaces.rows.isEmpty ? "" : spaces.html)
        if !r.issues.isEmpty { html += "<p>Notes:</p><ul>" + r.issues.prefix(8).map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>" }

        func finite(_ d: Double?) -> JSONValue { d.map { $0.isFinite ? .double($0) : .null } ?? .null }
        var nodes: [String: JSONValue] = [:]
        for n in r.nodes {
            guard let id = n.nodeID else { continue }
            nodes[id.description] = ["name": .string(n.name), "op": .string(n.opType), "macs": .int(Int64(n.macs)),
                                     "flops": .int(Int64(n.flops)), "bytes": finite(n.bytes), "params": .int(Int64(n.params)),
                                     "latency_s": finite(n.latency?.value), "energy_j": finite(n.energy?.value),
                                     "bottleneck": n.bottleneck.map { .string($0.rawValue) } ?? .null]
        }
        let json: JSONValue = [
            "totals": ["macs": .int(Int64(t.macs)), "flops": .int(Int64(t.flops)), "params": .int(Int64(t.params)),
                       "bytes": finite(t.bytes), "latency_s": finite(t.latencySeconds?.value), "energy_j": finite(t.energyJoules?.value)],
            "hardware": r.hardwareID.map { .string($0) } ?? .null, "dtype": .string(r.precision.rawValue),
            "batch": .int(Int64(r.batchSize)), "throughput_samples_per_s": finite(r.throughput),
            "convention": .string(r.convention.rawValue),
            "confidence": r.confidence.map { .string($0.rawValue) } ?? .null,
            "latency_interval_s": t.latencySeconds.map { [finite($0.low), finite($0.high)] } ?? .null,
            "nodes": .object(nodes),
        ]
        return OutputBundle(text: text, html: "<div class=\"gs-estimate\">" + html + "</div>", json: json)
    }

    static func seconds(_ s: Double) -> String {
        if s >= 1 { return Format.number(s, digits: 3) + " s" }
        if s >= 1e-3 { return Format.number(s * 1e3, digits: 3) + " ms" }
        if s >= 1e-6 { return Format.number(s * 1e6, digits: 3) + " µs" }
        return Format.number(s * 1e9, digits: 3) + " ns"
    }

    static func joules(_ j: Double) -> String {
        j >= 1 ? Format.number(j, digits: 3) + " J" : (j >= 1e-3 ? Format.number(j * 1e3, digits: 3) + " mJ" : Format.number(j * 1e6, digits: 3) + " µJ")
    }

    // MARK: llm

    static func runLLM(_ session: inout Session, _ inv: Invocation, _ out: CommandOutput) throws {
        for (key, limit) in llmLimits {
            if let v = inv.int(key), v < 0 || v > limit {
                throw inv.error(.value, "\(key) must be between 0 and \(Format.grouped(limit))", at: key)
            }
        }
        var config: LLMConfig
        if let preset = inv.string("preset") {
            guard let c = LLMPresets.config(preset) else { throw inv.error(.lookup, "unknown preset '\(preset)'", at: "preset") }
            config = c
        } else {
            for required in ["layers", "hidden", "heads", "vocab"] where inv.int(required) == nil {
                throw inv.error(.command, "llm needs a PRESET (\(LLMPresets.names.joined(separator: ", "))) or layers=, hidden=, heads= and vocab=")
            }
            config = LLMConfig(layers: inv.int("layers") ?? 0, hidden: inv.int("hidden") ?? 0, heads: inv.int("heads") ?? 0,
                               vocab: inv.int("vocab") ?? 0)
        }
        if let v = inv.int("layers") { config.layers = v }
        if let v = inv.int("hidden") {
            config.hidden = v
            if inv.int("ffn") == nil, inv.string("preset") == nil { config.ffn = 4 * v }
            config.headDim = config.heads > 0 ? v / config.heads : 0
        }
        if let v = inv.int("heads") {
            config.heads = v
            config.headDim = v > 0 ? config.hidden / v : 0
            if inv.int("kv_heads") == nil, inv.string("preset") == nil { config.kvHeads = v }
        }
        if let v = inv.int("kv_heads") { config.kvHeads = v }
        if let v = inv.int("ffn") { config.ffn = v }
        if let v = inv.string("mlp").flatMap(MLPKind.init(rawValue:)) { config.mlp = v }
        if let v = inv.int("vocab") { config.vocab = v }
        if let v = inv.bool("tied") { config.tiedEmbeddings = v }
        if let v = inv.string("positions").flatMap(PositionKind.init(rawValue:)) { config.positions = v }
        if let v = inv.int("seq") { config.seq = v }
        if let v = inv.int("batch") { config.batch = v }
        if let v = inv.int("generated") { config.generatedTokens = v }
        if let v = inv.string("dtype").flatMap(Precision.init(parsing:)) { config.dtype = v }
        if let v = inv.string("recompute").flatMap(RecomputeMode.init(rawValue:)) { config.recompute = v }
        config.flashAttention = inv.has("flash")
        config.training = inv.has("training")
        if let v = inv.string("optimizer").flatMap(OptimizerKind.init(rawValue:)) { config.optimizer = v }
        else if config.training { config.optimizer = .adam }
        do { try config.validate() } catch {
            throw inv.error(.value, "\(error)")
        }
        var target: HardwareTarget?
        if let hw = inv.string("hw") {
            target = try self.target(hw, &session, inv)
        }
        let calc = LLMCalculator(config)
        let params = calc.parameters()
        let memory = calc.memory(on: target)
        let mode = config.training ? "training (\(config.optimizer.rawValue), recompute \(config.recompute.rawValue))" : "inference"
        var headline = "\(config.name): \(Format.grouped(params.total)) parameters; \(mode) at batch \(config.batch) × seq \(config.seq), "
            + "\(config.dtype.rawValue): \(memory.summary)"
        if let fits = memory.fits { headline += fits ? " — fits on \(memory.deviceName ?? "the device")" : " — does NOT fit on \(memory.deviceName ?? "the device")" }

        var paramTable = Table(columns: [.init("part"), .init("parameters", numeric: true)], title: "Parameters")
        paramTable.rows = params.rows.map { [Table.Cell($0.label), .int(Int($0.value))] } + [["total", .int(params.total)]]
        var memTable = Table(columns: [.init("memory"), .init("GB", numeric: true)], title: "Memory (\(mode))")
        memTable.rows = memory.rows.map { [Table.Cell($0.label), .number($0.value / 1e9, digits: 4)] }
            + [[Table.Cell("total"), Table.Cell(memory.summary, value: .double(memory.totalBytes / 1e9))]]
        var compute = Table(columns: [.init("compute"), .init("value", numeric: true)], title: "Compute")
        let tokens = Double(config.batch * config.seq)
        compute.rows = [[Table.Cell("training FLOPs per step (\(config.recompute == .full ? 8 : 6)PD)"), Table.Cell(Format.si(calc.trainingFLOPs(tokens: tokens)))],
                        ["prefill FLOPs", Table.Cell(Format.si(calc.prefillFLOPs()))],
                        ["KV cache per token", Table.Cell(Format.bytes(calc.kvCacheBytes(tokens: 1)))]]
        var inferenceJSON: JSONValue = .null
        if let t = target, let inf = calc.inference(on: t) {
            compute.rows += [["time to first token", Table.Cell(seconds(inf.timeToFirstToken.value))],
                             ["inter-token latency", Table.Cell("\(seconds(inf.interTokenLatency.value)) (\(inf.decodeBoundBy.rawValue)-bound)")],
                             ["tokens/s (batch)", .number(inf.tokensPerSecond, digits: 4)]]
            inferenceJSON = ["ttft_s": .double(inf.timeToFirstToken.value), "itl_s": .double(inf.interTokenLatency.value),
                             "tokens_per_s": .double(inf.tokensPerSecond), "decode_bound": .string(inf.decodeBoundBy.rawValue),
                             "confidence": .string(inf.interTokenLatency.confidence.rawValue)]
        }
        var bundle = OutputBundle(text: [headline, paramTable.text, memTable.text, compute.text].joined(separator: "\n\n"),
                                  html: "<div class=\"gs-llm\"><p><b>\(HTML.escape(headline))</b></p>" + paramTable.html + memTable.html + compute.html + "</div>")
        Chart.bars(memory.rows.map { ($0.label, $0.value / 1e9) }, title: "\(config.name) memory: \(memory.summary)", unit: "GB").attach(to: &bundle)
        bundle.json = ["name": .string(config.name), "parameters": .int(Int64(params.total)),
                       "parameter_breakdown": .object(Dictionary(params.rows.map { ($0.label, JSONValue.int(Int64($0.value))) }, uniquingKeysWith: { $1 })),
                       "memory_bytes": .object(Dictionary(memory.rows.map { ($0.label, JSONValue.double($0.value)) }, uniquingKeysWith: { $1 })),
                       "total_bytes": .double(memory.totalBytes), "capacity_bytes": memory.capacityBytes.map { .double($0) } ?? .null,
                       "fits": memory.fits.map { .bool($0) } ?? .null,
                       "training_flops": .double(calc.trainingFLOPs(tokens: tokens)), "inference": inferenceJSON]
        out.display(bundle)
    }
}

extension Session {

    /// The hardware registry: the bundled targets, loaded on first use, plus any the user added.
    mutating func registry() throws -> HardwareRegistry {
        if let r = hardwareRegistry { return r }
        do {
            let r = try HardwareRegistry.bundled()
            hardwareRegistry = r
            return r
        } catch {
            throw CellError(.file, "cannot read the bundled hardware registry: \(error)")
        }
    }
}
