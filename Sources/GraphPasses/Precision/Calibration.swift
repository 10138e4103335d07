/// Calibration for static quantization: runs the float model in our interpreter (GraphRuntime)
/// on every calibration input set, keeping the activations asked for, and turns what they held
/// into one [min, max] range per activation: MinMax (the extremes over every run) or a
/// percentile (the p-th and (100-p)-th percentiles of the values seen, which clips outliers the
/// way onnxruntime's percentile calibrator does).
import GraphIR
import GraphRuntime

/// The range an activation is quantized over.
public struct ValueRange: Sendable, Equatable {
    public var min: Float
    public var max: Float
    public init(min: Float, max: Float) {
        self.min = min
        self.max = max
    }
}

/// How ranges are taken from the calibration runs.
public enum CalibrationMethod: Sendable, Equatable {
    case minMax
    /// Two-sided percentile, e.g. 99.99.
    case percentile(Double)
}

public enum Calibration {
    /// Values of one tensor sampled for the percentile method (evenly strided).
    static let samplesPerRun = 1 << 16

    /// The ranges of `values` over the runs of `model` on `inputs` (each a full set of graph
    /// inputs). Throws `RuntimeError` when the interpreter cannot run the model.
    public static func ranges(of values: [String], model: Model, inputs: [[String: RuntimeTensor]],
                              method: CalibrationMethod) throws -> [String: ValueRange] {
        guard !values.isEmpty else { return [:] }
        let interpreter = try Interpreter(model: model)
        var lo: [String: Float] = [:], hi: [String: Float] = [:]
        var samples: [String: [Float]] = [:]
        let wanted = Set(values)
        for set in inputs {
            let r = try interpreter.run(set, keep: .values(wanted))
            var seen = r.kept
            for o in r.outputs where wanted.contains(o.name) { seen[o.name] = o.tensor }
            for (name, t) in set where wanted.contains(name) { seen[name] = t }
            for (name, t) in seen where t.elementType == .float && t.count > 0 {
                let p = t.floatValues()
                var a = lo[name] ?? .infinity, b = hi[name] ?? -.infinity
                for v in p where v.isFinite { a = Swift.min(a, v); b = Swift.max(b, v) }
                lo[name] = a; hi[name] = b
                if case .percentile = method {
                    let stride = Swift.max(1, p.count / samplesPerRun)
                    samples[name, default: []].append(contentsOf: Swift.stride(from: 0, to: p.count, by: stride).map { p[$0] }.filter(\.isFinite))
                }
            }
        }
        var out: [String: ValueRange] = [:]
        for name in values {
            guard let a = lo[name], let b = hi[name], a.isFinite, b.isFinite else { continue }
            switch method {
            case .minMax:
                out[name] = ValueRange(min: a, max: b)
            case .percentile(let pct):
                guard var s = samples[name], !s.isEmpty else { out[name] = ValueRange(min: a, max: b); continue }
                s.sort()
                let q = Swift.min(Swift.max(pct, 50), 100) / 100
                let top = Int((Double(s.count - 1) * q).rounded())
                let bottom = Int((Double(s.count - 1) * (1 - q)).rounded())
                out[name] = ValueRange(min: Swift.max(a, s[bottom]), max: Swift.min(b, s[top]))
            }
        }
        return out
    }
}
