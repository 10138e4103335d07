/// `runtime-tool nodetests DIR`: runs the ONNX backend node tests (each DIR/<case>/model.onnx
/// with test_data_set_0/input_*.pb and output_*.pb) and classifies every case as pass, fail
/// (ran, wrong numbers or shapes, or a kernel error) or unsupported (an op, type or value kind
/// the interpreter does not implement, named). Golden values are the stored outputs.
/// One JSON line per case goes to stdout as it finishes (a driver can resume after a crash
/// with --after NAME); --json FILE writes all results and the totals at the end.
import Foundation
import GraphFormats
import GraphIR
import GraphRuntime

/// The outcome of one node test.
struct NodeTestResult {
    var name: String
    var status: String  // pass | fail | unsupported
    var op: String = ""
    var detail: String = ""
    var ms: Double = 0

    var json: [String: Any] { ["name": name, "status": status, "op": op, "detail": detail, "ms": ms] }
}

/// Why a case cannot be run at all (not a wrong number).
struct Unsupported: Error { var op: String; var detail: String }

enum NodeTests {
    static let rtol = 1e-3, atol = 1e-4

    static func run(arguments args: [String]) {
        guard args.count >= 2 else { fail("usage: runtime-tool nodetests DIR [--json FILE] [--only A,B] [--after NAME] [--match TEXT]") }
        let dir = args[1]
        guard var names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { fail("cannot list \(dir)") }
        names = names.filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/model.onnx") }.sorted()
        if let only = option(args, "--only") { let set = Set(only.split(separator: ",").map(String.init)); names = names.filter { set.contains($0) } }
        if let m = option(args, "--match") { names = names.filter { $0.contains(m) } }
        if let after = option(args, "--after"), let i = names.firstIndex(of: after) { names = Array(names[(i + 1)...]) }
        var results: [NodeTestResult] = []
        for name in names {
            FileHandle.standardError.write(Data("start \(name)\n".utf8))
            let t0 = now()
            var r = runCase(name: name, dir: "\(dir)/\(name)")
            r.ms = (now() - t0) * 1000
            results.append(r)
            print(json(r.json))
            fflush(stdout)
        }
        if let out = option(args, "--json") {
            var counts: [String: Int] = [:]
            for r in results { counts[r.status, default: 0] += 1 }
            let doc: [String: Any] = ["cases": results.map(\.json), "counts": counts, "total": results.count]
            do { try Data(json(doc).utf8).write(to: URL(fileURLWithPath: out)) } catch { fail("cannot write \(out): \(error)") }
        }
    }

    static func runCase(name: String, dir: String) -> NodeTestResult {
        var result = NodeTestResult(name: name, status: "fail")
        do {
            let model = try ONNXReader.load(path: "\(dir)/model.onnx")
            result.op = model.graph.nodes.count == 1 ? model.graph.nodes[0].opType : ""
            let data = "\(dir)/test_data_set_0"
            let initNames = Set(model.graph.initializers.map(\.name))
            let feeds = model.graph.inputs.filter { !initNames.contains($0.name) }
            var inputs: [String: RuntimeTensor] = [:]
            for (i, vi) in feeds.enumerated() {
                let path = "\(data)/input_\(i).pb"
                guard FileManager.default.fileExists(atPath: path) else { continue }
                guard case .tensor? = vi.type else { throw Unsupported(op: "", detail: "input '\(vi.name)' is not a tensor (sequence, map or optional)") }
                inputs[vi.name] = try tensor(path)
            }
            var expected: [RuntimeTensor] = []
            for (i, vo) in model.graph.outputs.enumerated() {
                guard case .tensor? = vo.type else { throw Unsupported(op: "", detail: "output '\(vo.name)' is not a tensor (sequence, map or optional)") }
                expected.append(try tensor("\(data)/output_\(i).pb"))
            }
            let interpreter = try Interpreter(model: model)
            let run = try interpreter.run(inputs)
            guard run.outputs.count == expected.count else {
                result.detail = "\(run.outputs.count) outputs, expected \(expected.count)"; return result
            }
            for (i, (o, e)) in zip(run.outputs, expected).enumerated() {
                if let problem = compare(o.tensor, e) { result.detail = "output \(i) '\(o.name)': \(problem)"; return result }
            }
            result.status = "pass"
        } catch let u as Unsupported {
            result.status = "unsupported"; result.detail = u.detail
            if !u.op.isEmpty { result.op = u.op }
        } catch let e as RuntimeError {
            result.detail = "\(e)"
            if e.message.contains("not supported") {
                result.status = "unsupported"
                result.detail = "\(e.opType ?? "?"): \(e.message)"
            }
        } catch {
            let text = "\(error)"
            result.detail = text
            if text.contains("not supported") { result.status = "unsupported" }
        }
        return result
    }

    /// A stored TensorProto as a runtime tensor (strings and exotic types are unsupported).
    static func tensor(_ path: String) throws -> RuntimeTensor {
        let t: Tensor
        do { t = try ONNXReader.loadTensor(path: path) } catch {
            throw Unsupported(op: "", detail: "\((path as NSString).lastPathComponent) is not a plain tensor: \(error)")
        }
        do { return try RuntimeTensor.from(t).tensor } catch {
            throw Unsupported(op: "", detail: "\((path as NSString).lastPathComponent): \(error)")
        }
    }

    /// nil when `got` equals `want`: same shape, same stored type, floats within
    /// rtol/atol (NaN equals NaN, infinities by sign), everything else exact.
    static func compare(_ got: RuntimeTensor, _ want: RuntimeTensor) -> String? {
        guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
        guard got.elementType == want.elementType else { return "type \(got.elementType.name), expected \(want.elementType.name)" }
        if let w = want.strings {
            guard let g = got.strings else { return "no string elements" }
            if let i = w.indices.first(where: { g[$0] != w[$0] }) {
                return "element \(i) is \"\(String(decoding: g[i], as: UTF8.self))\", expected \"\(String(decoding: w[i], as: UTF8.self))\""
            }
            return nil
        }
        let isFloat = want.elementType == .float || want.elementType == .double
        var worst = 0.0, worstAt = -1
        for i in 0..<want.count {
            let g = got.double(at: i), w = want.double(at: i)
            if g == w || (g.isNaN && w.isNaN) { continue }
            if !isFloat || !g.isFinite || !w.isFinite {
                return "element \(i) is \(g), expected \(w)"
            }
            let excess = abs(g - w) - (atol + rtol * abs(w))
            if excess > worst { worst = excess; worstAt = i }
        }
        if worstAt >= 0 {
            return "element \(worstAt) is \(got.double(at: worstAt)), expected \(want.double(at: worstAt)) (beyond rtol \(rtol), atol \(atol))"
        }
        return nil
    }
}
