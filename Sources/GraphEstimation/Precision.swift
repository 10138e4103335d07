/// Numeric precisions the estimator can price work at. A precision decides two things:
/// how many bytes one element occupies (memory traffic) and which peak rate of a hardware
/// target applies (compute time). Keeping both in one type stops the two from drifting apart.
public enum Precision: String, CaseIterable, Sendable, Hashable {
    case fp64, fp32, tf32, bf16, fp16, fp8, int8, int4

    /// Storage bytes of one element (tf32 is stored as fp32; int4 packs two per byte).
    public var bytesPerElement: Double {
        switch self {
        case .fp64: return 8
        case .fp32, .tf32: return 4
        case .bf16, .fp16: return 2
        case .fp8, .int8: return 1
        case .int4: return 0.5
        }
    }

    /// Whether this is an integer precision (peak quoted in TOPS rather than TFLOPS).
    public var isInteger: Bool { self == .int8 || self == .int4 }

    /// Keys of `peak_dense` in the hardware registry to try, best first, for matrix work.
    /// Later keys are fallbacks (for example a device that lists only `fp16_gpu`).
    var matrixPeakKeys: [String] {
        switch self {
        case .fp64: return ["fp64_tensor", "fp64_matrix", "fp64"]
        case .fp32: return ["fp32_matrix", "fp32", "fp32_gpu"]
        case .tf32: return ["tf32", "fp32_matrix", "fp32", "fp32_gpu"]
        case .bf16: return ["bf16", "fp16", "bf16_gpu", "fp16_gpu"]
        case .fp16: return ["fp16", "bf16", "fp16_gpu"]
        case .fp8: return ["fp8", "int8"]
        case .int8: return ["int8", "int8_neural_engine"]
        case .int4: return ["int4", "int8"]
        }
    }

    /// Keys to try for vector (non-matrix) work: element-wise ops do not run on tensor cores.
    var vectorPeakKeys: [String] {
        switch self {
        case .fp64: return ["fp64"]
        case .fp32, .tf32: return ["fp32", "fp32_gpu", "fp32_matrix"]
        case .bf16: return ["bf16_vector", "fp32", "fp32_gpu", "bf16"]
        case .fp16: return ["fp16_vector", "fp32", "fp32_gpu", "fp16_gpu", "fp16"]
        case .fp8, .int8, .int4: return ["int8_vector", "fp32", "fp32_gpu", "int8"]
        }
    }

    /// Parses user spellings (`float16`, `half`, `bfloat16`, `float32`, `f32`, ...).
    public init?(parsing text: String) {
        let t = text.lowercased()
        switch t {
        case "fp64", "float64", "double", "f64": self = .fp64
        case "fp32", "float32", "float", "f32": self = .fp32
        case "tf32": self = .tf32
        case "bf16", "bfloat16": self = .bf16
        case "fp16", "float16", "half", "f16": self = .fp16
        case "fp8", "float8", "e4m3", "e5m2": self = .fp8
        case "int8", "i8", "uint8", "u8": self = .int8
        case "int4", "i4", "uint4", "u4": self = .int4
        default: return nil
        }
    }
}

/// How much a figure can be trusted. `theoretical` comes from data sheets and formulas only,
/// `calibrated` from a model fitted to measured times on the device, `interpolated` from
/// calibrated points at nearby shapes or devices. The name travels with every figure so a
/// notebook never presents a guess as a measurement.
public enum EstimateConfidence: String, Sendable, Hashable, CaseIterable {
    case theoretical, calibrated, interpolated

    /// Default relative interval (low factor, high factor) around a point estimate.
    /// Roofline estimates are optimistic by construction, so the theoretical band is skewed up.
    public var defaultBand: (low: Double, high: Double) {
        switch self {
        case .theoretical: return (0.7, 2.5)
        case .calibrated: return (0.85, 1.2)
        case .interpolated: return (0.75, 1.5)
        }
    }
}

/// A figure with its confidence and an interval (low...high). Every latency and energy the
/// estimator reports is one of these, so calibration can later tighten intervals without
/// changing any caller.
public struct Estimate: Sendable, Hashable, CustomStringConvertible {
    /// Point estimate.
    public var value: Double
    /// Lower bound.
    public var low: Double
    /// Upper bound.
    public var high: Double
    /// How the figure was obtained.
    public var confidence: EstimateConfidence

    /// An estimate; the bounds are widened to contain the value.
    public init(value: Double, low: Double, high: Double, confidence: EstimateConfidence) {
        self.value = value; self.low = min(low, value); self.high = max(high, value); self.confidence = confidence
    }

    /// An estimate with the confidence's default band, widened by `widen` (>= 1) when the
    /// input data itself is shaky (for example a low-confidence hardware figure).
    public init(_ value: Double, confidence: EstimateConfidence, widen: Double = 1) {
        let band = confidence.defaultBand
        self.init(value: value, low: value * band.low / widen, high: value * band.high * widen, confidence: confidence)
    }

    /// Zero with no spread.
    public static let zero = Estimate(value: 0, low: 0, high: 0, confidence: .theoretical)

    /// Sums two estimates: values and bounds add; the weaker confidence wins.
    public static func + (a: Estimate, b: Estimate) -> Estimate {
        Estimate(value: a.value + b.value, low: a.low + b.low, high: a.high + b.high,
                 confidence: EstimateConfidence.weaker(a.confidence, b.confidence))
    }

    /// The figure of `k` runs: value and bounds multiplied (a Loop body's latency × trips).
    public func scaled(by k: Double) -> Estimate {
        Estimate(value: value * k, low: low * k, high: high * k, confidence: confidence)
    }

    /// `value [low, high] (confidence)`.
    public var description: String { "\(value) [\(low), \(high)] (\(confidence.rawValue))" }
}

extension EstimateConfidence {
    /// The less trustworthy of two confidences (theoretical < interpolated < calibrated).
    static func weaker(_ a: EstimateConfidence, _ b: EstimateConfidence) -> EstimateConfidence {
        func rank(_ c: EstimateConfidence) -> Int { c == .theoretical ? 0 : (c == .interpolated ? 1 : 2) }
        return rank(a) <= rank(b) ? a : b
    }
}
