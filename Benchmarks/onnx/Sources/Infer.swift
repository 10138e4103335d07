/// `onnx-tool infer FILE [--json] [--repeat N] [--bind name=value ...] [--walk general]`: runs GraphOps symbolic
/// shape inference on a model and prints every main-graph value's inferred type (for the
/// Python cross-check against onnx.shape_inference) or the median inference time (benchmark).
/// `--bare` runs the N inferences and nothing else (each result freed before the next): what
/// `Benchmarks/onnx/instructions.py` counts under callgrind.
import Foundation
import GraphFormats
import GraphIR
import GraphOps

/// JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

/// A type as JSON: tensors as {"dtype", "dims"} (dims null for unknown rank; each dim an
/// integer, a string for a symbolic one, null for unknown); other kinds by "kind".
func jsonType(_ t: SymType?) -> String {
    guard let t else { return "null" }
    switch t {
    case .tensor(let e, let dims):
        let d = dims.map { "[" + $0.map { x -> String in
            guard let x else { return "null" }
            if let v = x.intValue { return String(v) }
            return jsonString(x.description)
        }.joined(separator: ",") + "]" } ?? "null"
        return "{\"kind\":\"tensor\",\"dtype\":\(jsonString(e.name)),\"dims\":\(d)}"
    case .sequence(let e): return "{\"kind\":\"sequence\",\"elem\":\(jsonType(e))}"
    case .optional(let e): return "{\"kind\":\"optional\",\"elem\":\(jsonType(e))}"
    case .other(let v): return "{\"kind\":\"other\",\"text\":\(jsonString(v.description))}"
    }
}

/// `name=value` bindings from every `--bind` argument.
func bindArguments(_ args: [String]) -> [String: Int64] {
    var out: [String: Int64] = [:]
    for (i, a) in args.enumerated() where a == "--bind" && i + 1 < args.count {
        let parts = args[i + 1].split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2, let v = Int64(parts[1]) { out[parts[0]] = v } else { fail("bad --bind \(args[i + 1]) (want name=integer)") }
    }
    return out
}

/// Several files: one JSON object per line (`{"file": ..., "values": ...}` or `"error"`), so
/// the node-test cross-check starts one process for 1,500 models.
func runInferMany(_ files: [String], walk: ShapeInference.Walk, known: Bool) {
    for f in files {
        do {
            let model = try ONNXReader.load(path: f)
            print("{\"file\":\(jsonString(f)),\(inferenceJSON(ShapeInference.infer(model, walk: walk), ms: 0, known: known))}")
        } catch {
            print("{\"file\":\(jsonString(f)),\"error\":\(jsonString("\(error)"))}")
        }
    }
}

/// The body of the JSON answer (without braces).
func inferenceJSON(_ result: InferenceResult, ms: Double, known: Bool = false) -> String {
    var parts: [String] = []
    // `--known`: every main-graph value's known contents too (what the two walks must agree on
    // beyond types).
    var knownParts: [String] = []
    if known {
        for name in result.values.keys.sorted() {
            if let v = result.values[name]?.value { knownParts.append("\(jsonString(name)):\(jsonString("\(v)"))") }
        }
    }
    for name in result.values.keys.sorted() { parts.append("\(jsonString(name)):\(jsonType(result.values[name]?.type))") }
    let problems = result.problems.map { p in
        "{\"node\":\(jsonString(p.nodeName)),\"op\":\(jsonString(p.opType)),\"scope\":\(jsonString(p.scope.joined(separator: " > "))),\"reason\":\(jsonString(p.reason))}"
    }
    var bodies: [String] = []
    for key in result.bodies.keys.sorted() {
        let vals = result.bodies[key] ?? [:]
        let entries = vals.keys.sorted().map { "\(jsonString($0)):\(jsonType(vals[$0]?.type))" }
        bodies.append("\(jsonString(key)):{\(entries.joined(separator: ","))}")
    }
    return "\"values\":{\(parts.joined(separator: ","))},\"bodies\":{\(bodies.joined(separator: ","))},"
        + (known ? "\"known\":{\(knownParts.joined(separator: ","))}," : "")
        + "\"problems\":[\(problems.joined(separator: ","))],"
        + "\"infer_ms\":\(String(format: "%.4f", ms))"
}

/// `--walk packed|general`: that walk only, where the default picks one per graph (see
/// `ShapeInference.Walk` and PackedWalk.swift).
func walkArgument(_ args: [String]) -> ShapeInference.Walk {
    switch option(args, "--walk") {
    case nil, "automatic": return .automatic
    case "packed": return .packed
    case "general": return .general
    case let w?: fail("bad --walk \(w) (want automatic, packed or general)")
    }
}

func runInfer(_ args: [String], _ pos: [String]) throws {
    let walk = walkArgument(args)
    if pos.count > 1 { runInferMany(pos, walk: walk, known: args.contains("--known")); return }
    guard pos.count == 1 else { fail("usage: onnx-tool infer FILE... [--json] [--repeat N [--bare]] [--bind name=value] [--input-shape name=AxB] [--walk automatic|packed|general]") }
    let model = try ONNXReader.load(path: pos[0])
    _ = model.graph.nodes.count
    let bindings = bindArguments(args)
    // The registry is decoded once per process; load it before timing (as onnx's schemas are).
    _ = OpRegistry.builtIn.schemaCount
    let repeats = Int(option(args, "--repeat") ?? "1") ?? 1
    if args.contains("--bare") {
        for _ in 0..<max(1, repeats) { _ = ShapeInference.infer(model, walk: walk) }
        return
    }
    var times: [Double] = []
    var result = ShapeInference.infer(model, walk: walk)
    // Results stay alive until every run is timed: each run measures inference, not the
    // freeing of the previous run's result.
    var kept: [InferenceResult] = []
    kept.reserveCapacity(max(1, repeats))
    var cpuTimes: [Double] = []
    for _ in 0..<max(1, repeats) {
        let t0 = now(), c0 = cpuNow()
        let r = ShapeInference.infer(model, walk: walk)
        times.append((now() - t0) * 1000)
        cpuTimes.append((cpuNow() - c0) * 1000)
        kept.append(r)
    }
    result = kept[kept.count - 1]
    kept.removeAll()
    let floor = resultFloorMs(result, repeats: max(1, repeats))
    var all = bindings.mapValues { SymDim($0) }
    // `--input-shape x=1x3x224x224`: bind the input's symbols to those sizes (`shape=` in cells).
    for (i, a) in args.enumerated() where a == "--input-shape" && i + 1 < args.count {
        let parts = args[i + 1].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let sizes = parts.count == 2 ? parts[1].split(separator: "x").compactMap { Int64($0) } : []
        guard parts.count == 2, parts[1].isEmpty || sizes.count == parts[1].split(separator: "x").count else {
            fail("bad --input-shape \(args[i + 1]) (want name=1x3x224x224)")
        }
        for (k, v) in try result.bindings(forInput: parts[0], shape: sizes) { all[k] = v }
    }
    if !all.isEmpty { result = result.substituting(all) }
    if args.contains("--json") {
        print("{" + inferenceJSON(result, ms: median(times), known: args.contains("--known")) + "}")
    } else {
        print(String(format: "infer_ms %.4f values %d problems %d nodes %d cpu_ms %.4f min_ms %.4f floor_ms %.4f", median(times),
                     result.values.count, result.problems.count, model.graph.nodes.count, median(cpuTimes),
                     times.min() ?? 0, floor))
        for p in result.problems.prefix(20) { print("problem: \(p)") }
    }
}

/// Median ms to build a by-name table of the result: one insertion per value with a fresh shape
/// array each, results kept alive as in the timed runs. The general walk's result is such a
/// table, so it cannot go below this; the packed walk keeps facts in records by slot and can.
func resultFloorMs(_ result: InferenceResult, repeats: Int) -> Double {
    let entries = Array(result.values)
    var times: [Double] = []
    var kept: [[String: ValueFacts]] = []
    kept.reserveCapacity(repeats)
    for _ in 0..<repeats {
        let t0 = now()
        var d: [String: ValueFacts] = [:]
        d.reserveCapacity(entries.count)
        for (name, f) in entries {
            var fresh = f
            if case .tensor(let e, let dims?)? = f.type { fresh.type = .tensor(e, dims.map { $0 }) }
            d[name] = fresh
        }
        times.append((now() - t0) * 1000)
        kept.append(d)
    }
    return median(times)
}
