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
                inputs[vi.name] = try value(path, type: vi.type)
            }
            var expected: [RuntimeTensor] = []
            for (i, vo) in model.graph.outputs.enumerated() {
                expected.append(try value("\(data)/output_\(i).pb", type: vo.type))
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

    /// A stored value of declared type `type`: a TensorProto, or a SequenceProto /
    /// OptionalProto of tensors (maps are unsupported).
    static func value(_ path: String, type: ValueType?) throws -> RuntimeTensor {
        switch type {
        case .sequence?, .optional?:
            guard let data = FileManager.default.contents(atPath: path) else { throw Unsupported(op: "", detail: "cannot read \(path)") }
            return try container([UInt8](data), type: type)
        case .map?:
            throw Unsupported(op: "", detail: "\((path as NSString).lastPathComponent) is a map")
        default:
            return try tensor(path)
        }
    }

    /// Decodes a SequenceProto (tensor_values = 3, sequence elem_type) or OptionalProto
    /// (tensor_value = 3, sequence_value = 5; nothing set: no value).
    static func container(_ bytes: [UInt8], type: ValueType?) throws -> RuntimeTensor {
        var fields: [(Int, [UInt8])] = []
        var i = 0
        func varint() throws -> Int {
            var v = 0, shift = 0
            while true {
                guard i < bytes.count, shift < 64 else { throw Unsupported(op: "", detail: "truncated protobuf") }
                let b = bytes[i]; i += 1
                v |= Int(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
        }
        while i < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: _ = try varint()
            case 2:
                let n = try varint()
                guard i + n <= bytes.count else { throw Unsupported(op: "", detail: "truncated protobuf") }
                fields.append((key >> 3, Array(bytes[i..<(i + n)]))); i += n
            default: throw Unsupported(op: "", detail: "unexpected protobuf wire type \(key & 7)")
            }
        }
        func elementType(_ t: ValueType?) -> ElementType {
            switch t {
            case .sequence(let inner)?: return elementType(inner)
            case .optional(let inner)?: return elementType(inner)
            default: return RuntimeElement.stored(t?.elementType ?? .float)
            }
        }
        switch type {
        case .sequence(let inner)?:
            let parts = try fields.filter { $0.0 == 3 }.map { try RuntimeTensor.from(ONNXReader.loadTensor(bytes: $0.1)).tensor }
            return RuntimeTensor(sequence: parts, elementType: parts.first?.elementType ?? elementType(inner))
        case .optional(let inner)?:
            if let t = fields.first(where: { $0.0 == 3 }) { return try RuntimeTensor.from(ONNXReader.loadTensor(bytes: t.1)).tensor }
            if let sq = fields.first(where: { $0.0 == 5 }) { return try container(sq.1, type: inner) }
            return RuntimeTensor.none(elementType(inner))
        default:
            throw Unsupported(op: "", detail: "not a sequence or optional")
        }
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
        if want.isNone || got.isNone { return want.isNone == got.isNone ? nil : (want.isNone ? "a value, expected none" : "none, expected a value") }
        if let w = want.sequence {
            guard let g = got.sequence else { return "a tensor, expected a sequence" }
            guard g.count == w.count else { return "\(g.count) sequence elements, expected \(w.count)" }
            for (k, (a, b)) in zip(g, w).enumerated() { if let p = compare(a, b) { return "sequence element \(k): \(p)" } }
            return nil
        }
        guard got.sequence == nil else { return "a sequence, expected a tensor" }
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
