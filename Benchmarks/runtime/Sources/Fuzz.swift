/// `runtime-tool fuzz DIR`: a value fuzzer for shape inference and the interpreter. Byte-level
/// fuzzing of the reader (`onnx-tool fuzz`) rarely yields a model that loads *and* carries a
/// hostile number where a kernel reads a count, an index or a size; this one starts from the
/// ONNX backend node tests (one op each, with real inputs), replaces one to three numbers with
/// values no size can have (NaN, +-infinity, 1e30, -1, 0, 2^40, Int64.min/max, a rank past the
/// end) in a fed input, an initializer, an integer or float attribute or a declared input dim,
/// then infers, plans and runs the mutant (interrupted after 2 s; a run still going a second
/// later is a hang). Errors are the expected outcome; a crash ends the
/// process, and the driver (`Benchmarks/runtime/fuzz.py`) records the case it was on (printed
/// to stderr before each case) and resumes after it. Case `i` is mutated from
/// `SplitMix64(seed ^ i)` alone, so any case can be replayed with `--start i --count 1`.
import Foundation
import GraphFormats
import GraphIR
import GraphOps
import GraphRuntime

enum ValueFuzz {
    /// Integers no real count or index takes, and a few that are legal but at an edge.
    static let hostileInts: [Int64] = [-1, 0, 1, -2, 7, 1 << 40, -(1 << 40), .max, .min, 1 << 20, -(1 << 20)]
    static let hostileDoubles: [Double] = [.nan, .infinity, -.infinity, 1e30, -1e30, -1, 0, 1e-30, 4.0e9]

    /// A seed case: the model and its fed inputs.
    struct Seed {
        var name: String
        var model: Model
        var inputs: [String: RuntimeTensor]
    }

    static func run(arguments args: [String]) {
        guard args.count >= 2 else { fail("usage: runtime-tool fuzz DIR [--count N] [--seed S] [--start I] [--match TEXT]") }
        let dir = args[1]
        let count = Int(option(args, "--count") ?? "1000") ?? 1000
        let seed = UInt64(option(args, "--seed") ?? "1") ?? 1
        let start = Int(option(args, "--start") ?? "0") ?? 0
        guard var names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { fail("cannot list \(dir)") }
        names = names.filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/model.onnx") }.sorted()
        if let m = option(args, "--match") { names = names.filter { $0.contains(m) } }
        var seeds: [Seed] = []
        for name in names {
            guard let model = try? ONNXReader.load(path: "\(dir)/\(name)/model.onnx") else { continue }
            let initNames = Set(model.graph.initializers.map(\.name))
            var inputs: [String: RuntimeTensor] = [:]
            for (i, vi) in model.graph.inputs.filter({ !initNames.contains($0.name) }).enumerated() {
                let path = "\(dir)/\(name)/test_data_set_0/input_\(i).pb"
                if let t = try? NodeTests.value(path, type: vi.type) { inputs[vi.name] = t }
            }
            seeds.append(Seed(name: name, model: model, inputs: inputs))
        }
        guard !seeds.isEmpty else { fail("no node tests under \(dir)") }
        var ran = 0, errors = 0, inferenceProblems = 0, slowest = 0.0
        var slow: [String] = []
        let t0 = now()
        for i in start..<(start + count) {
            var rng = SplitMix64(state: seed ^ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            var s = seeds[rng.below(seeds.count)]
            var what: [String] = []
            for _ in 0..<(1 + rng.below(3)) { what.append(mutate(&s, &rng)) }
            FileHandle.standardError.write(Data("case \(i) \(s.name): \(what.joined(separator: "; "))\n".utf8))
            let c0 = now()
            if !ShapeInference.infer(s.model).problems.isEmpty { inferenceProblems += 1 }
            // A mutant may ask for a legitimately endless run (a Loop with a trip count of
            // 2^40): the run is interrupted after 2 s, as the notebook's interrupt button does,
            // and must then stop at once; one that does not within another second is a hang.
            let flag = CancellationFlag()
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { flag.cancel() }
            do {
                let interpreter = try Interpreter(model: s.model)
                _ = try interpreter.run(s.inputs, cancellation: flag)
            } catch {
                errors += 1
            }
            flag.cancel()
            let dt = now() - c0
            slowest = max(slowest, dt)
            if dt > 3 { slow.append("case \(i) \(s.name) \(Int(dt * 1000)) ms: \(what.joined(separator: "; "))") }
            ran += 1
        }
        print(json(["cases": ran, "start": start, "seed": Int(seed), "seeds": seeds.count, "errors": errors,
                    "inference_problems": inferenceProblems, "hangs": slow.count, "slow_cases": slow, "slowest_ms": slowest * 1000,
                    "seconds": now() - t0]))
    }

    /// Applies one mutation to `s` and says what it did.
    static func mutate(_ s: inout Seed, _ rng: inout SplitMix64) -> String {
        switch rng.below(5) {
        case 0, 1:
            // A fed input's element.
            let keys = s.inputs.keys.sorted()
            guard !keys.isEmpty else { return attribute(&s, &rng) }
            let key = keys[rng.below(keys.count)]
            guard let t = s.inputs[key], t.count > 0, !t.isNonNumeric else { return attribute(&s, &rng) }
            let copy = t.copied()
            let at = rng.below(t.count)
            let v = hostile(for: t.elementType, &rng)
            copy.setDouble(v, at: at)
            if t.elementType == .int64 { copy.raw.storeBytes(of: hostileInt(v), toByteOffset: at * 8, as: Int64.self) }
            s.inputs[key] = copy
            return "input \(key)[\(at)] = \(t.elementType == .int64 ? String(hostileInt(v)) : String(v))"
        case 2:
            return initializer(&s, &rng)
        case 3:
            return declaredDim(&s, &rng)
        default:
            return attribute(&s, &rng)
        }
    }

    static func hostile(for type: ElementType, _ rng: inout SplitMix64) -> Double {
        type.isFloatingPoint ? hostileDoubles[rng.below(hostileDoubles.count)] : Double(hostileInts[rng.below(hostileInts.count)])
    }

    /// The exact integer behind `v` (Int64.max and min do not survive a Double).
    static func hostileInt(_ v: Double) -> Int64 {
        if v >= 9.2e18 { return .max }
        if v <= -9.2e18 { return .min }
        return v.isFinite ? Int64(v) : 0
    }

    /// An integer or float attribute (one entry of a list) of a random node.
    static func attribute(_ s: inout Seed, _ rng: inout SplitMix64) -> String {
        var nodes = s.model.graph.nodes
        guard !nodes.isEmpty else { return "nothing" }
        let n = rng.below(nodes.count)
        var attrs = nodes[n].attributes
        let numeric = attrs.indices.filter {
            switch attrs[$0].value { case .int, .float, .ints, .floats: return true; default: return false }
        }
        let desc: String
        if numeric.isEmpty {
            // No numeric attribute: add one the op may read (axis), with a hostile value.
            let v = hostileInts[rng.below(hostileInts.count)]
            attrs.append(Attribute("axis", .int(v)))
            desc = "added axis=\(v)"
        } else {
            let k = numeric[rng.below(numeric.count)]
            let name = attrs[k].name
            switch attrs[k].value {
            case .int:
                let v = hostileInts[rng.below(hostileInts.count)]
                attrs[k] = Attribute(name, .int(v)); desc = "\(name)=\(v)"
            case .float:
                let v = Float(hostileDoubles[rng.below(hostileDoubles.count)])
                attrs[k] = Attribute(name, .float(v)); desc = "\(name)=\(v)"
            case .ints(var xs):
                let v = hostileInts[rng.below(hostileInts.count)]
                if xs.isEmpty || rng.below(4) == 0 { xs.append(v) } else { xs[rng.below(xs.count)] = v }
                attrs[k] = Attribute(name, .ints(xs)); desc = "\(name)=\(xs)"
            case .floats(var xs):
                let v = Float(hostileDoubles[rng.below(hostileDoubles.count)])
                if xs.isEmpty { xs.append(v) } else { xs[rng.below(xs.count)] = v }
                attrs[k] = Attribute(name, .floats(xs)); desc = "\(name)=\(xs)"
            default:
                desc = "nothing"
            }
        }
        nodes[n].attributes = attrs
        s.model.graph = rebuilt(s.model.graph, nodes: nodes)
        return "node \(n) \(desc)"
    }

    /// One element of a float or int64 initializer.
    static func initializer(_ s: inout Seed, _ rng: inout SplitMix64) -> String {
        var inits = s.model.graph.initializers
        let numeric = inits.indices.filter { [.float, .int64].contains(inits[$0].elementType) && (inits[$0].elementCount ?? 0) > 0 }
        guard !numeric.isEmpty else { return attribute(&s, &rng) }
        let k = numeric[rng.below(numeric.count)]
        let t = inits[k]
        let at = rng.below(t.elementCount ?? 1)
        if t.elementType == .float, var v = try? t.floatValues() {
            let x = Float(hostileDoubles[rng.below(hostileDoubles.count)])
            v[at] = x
            inits[k] = Tensor(name: t.name, floats: v, dims: t.dims)
            s.model.graph = rebuilt(s.model.graph, initializers: inits)
            return "initializer \(t.name)[\(at)] = \(x)"
        }
        guard var v = try? t.int64Values() else { return "nothing" }
        let x = hostileInts[rng.below(hostileInts.count)]
        v[at] = x
        inits[k] = Tensor(name: t.name, int64s: v, dims: t.dims)
        s.model.graph = rebuilt(s.model.graph, initializers: inits)
        return "initializer \(t.name)[\(at)] = \(x)"
    }

    /// A declared graph-input dim (the fed tensor keeps its shape, so the run must refuse it
    /// or infer from a type that disagrees with the data).
    static func declaredDim(_ s: inout Seed, _ rng: inout SplitMix64) -> String {
        var inputs = s.model.graph.inputs
        let shaped = inputs.indices.filter { if case .tensor(_, let sh?)? = inputs[$0].type { return !sh.dims.isEmpty } else { return false } }
        guard !shaped.isEmpty else { return attribute(&s, &rng) }
        let k = shaped[rng.below(shaped.count)]
        guard case .tensor(let e, let sh?)? = inputs[k].type else { return "nothing" }
        var dims = sh.dims
        let at = rng.below(dims.count)
        let v = hostileInts[rng.below(hostileInts.count)]
        dims[at] = .known(v)
        inputs[k].type = .tensor(e, TensorShape(dims))
        s.model.graph = rebuilt(s.model.graph, inputs: inputs)
        return "input \(inputs[k].name) dim \(at) declared \(v)"
    }

    static func rebuilt(_ g: Graph, nodes: [Node]? = nil, inputs: [ValueInfo]? = nil, initializers: [Tensor]? = nil) -> Graph {
        Graph(name: g.name, nodes: nodes ?? g.nodes, inputs: inputs ?? g.inputs, outputs: g.outputs,
              initializers: initializers ?? g.initializers, sparseInitializers: g.sparseInitializers, valueInfo: g.valueInfo)
    }
}
