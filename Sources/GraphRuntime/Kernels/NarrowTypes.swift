/// Rounding into the element types the interpreter keeps widened (see `RuntimeElement.stored`):
/// float16, bfloat16, the float8 variants, float8e8m0 and float4e2m1 are held as float32 values,
/// int4/int2 as int8 and uint4/uint2 as uint8. A Cast or QuantizeLinear to one of them must
/// still produce only values of that type, so these functions round a Double to the nearest
/// representable value the way the ONNX spec says (round to nearest even; float8 saturation
/// per the `saturate` attribute; 4- and 2-bit integers wrap on Cast).
import GraphIR

enum NarrowTypes {
    /// The non-negative finite values of a small float type in code order (code i has value
    /// values[i]; codes rise with value), and how it handles overflow.
    struct FloatTable {
        let values: [Double]
        /// Overflow without saturation gives infinity (e5m2) rather than NaN.
        let hasInfinity: Bool
        /// -0 exists (false for the fnuz variants, which map -0 to +0).
        let hasNegativeZero: Bool
        /// Saturation applies whatever the attribute says (float4e2m1 has neither inf nor NaN).
        let alwaysSaturates: Bool
        /// What NaN becomes (NaN where the type has one; float4e2m1 has none and gives -0).
        let nanValue: Double
    }

    static let e4m3fn = table(.float8e4m3fn, codes: 0x7E, inf: false, negZero: true)
    static let e4m3fnuz = table(.float8e4m3fnuz, codes: 0x7F, inf: false, negZero: false)
    static let e5m2 = table(.float8e5m2, codes: 0x7B, inf: true, negZero: true)
    static let e5m2fnuz = table(.float8e5m2fnuz, codes: 0x7F, inf: false, negZero: false)
    static let e2m1 = FloatTable(values: (0...7).map { ElementDecoding.float4e2m1ToDouble(UInt8($0)) },
                                 hasInfinity: false, hasNegativeZero: true, alwaysSaturates: true, nanValue: -0.0)

    private static func table(_ t: ElementType, codes last: Int, inf: Bool, negZero: Bool) -> FloatTable {
        FloatTable(values: (0...last).map { ElementDecoding.float8ToDouble(UInt8($0), type: t) },
                   hasInfinity: inf, hasNegativeZero: negZero, alwaysSaturates: false, nanValue: .nan)
    }

    static func floatTable(_ t: ElementType) -> FloatTable? {
        switch t {
        case .float8e4m3fn: return e4m3fn
        case .float8e4m3fnuz: return e4m3fnuz
        case .float8e5m2: return e5m2
        case .float8e5m2fnuz: return e5m2fnuz
        case .float4e2m1: return e2m1
        default: return nil
        }
    }

    /// True for the types held widened whose values a cast must round.
    static func isNarrow(_ t: ElementType) -> Bool {
        switch t {
        case .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0,
             .float4e2m1, .int4, .uint4, .int2, .uint2:
            return true
        default:
            return false
        }
    }

    /// The (min, max) of a 4- or 2-bit integer type.
    static func intRange(_ t: ElementType) -> (Double, Double)? {
        switch t {
        case .int4: return (-8, 7)
        case .uint4: return (0, 15)
        case .int2: return (-2, 1)
        case .uint2: return (0, 3)
        default: return nil
        }
    }

    /// `v` rounded to the nearest value of the float table `t` (ties to the even code).
    /// Magnitudes past the largest value saturate to it when `saturate`, else become
    /// infinity (types that have one) or NaN, except those a round to nearest would still
    /// bring down to the largest value.
    static func round(_ v: Double, _ t: FloatTable, saturate: Bool) -> Double {
        if v.isNaN { return t.nanValue }
        let negative = v.sign == .minus
        let a = abs(v)
        let vals = t.values
        let last = vals.count - 1
        let sat = saturate || t.alwaysSaturates
        var r: Double
        if a.isInfinite {
            r = sat ? vals[last] : (t.hasInfinity ? .infinity : .nan)
        } else if a >= vals[last] {
            let half = (vals[last] - vals[last - 1]) / 2
            // The code after the largest value is even when the largest is odd: a tie goes up.
            let tieUp = last % 2 == 1
            if a < vals[last] + half || (a == vals[last] + half && !tieUp) || sat {
                r = vals[last]
            } else {
                r = t.hasInfinity ? .infinity : .nan
            }
        } else {
            // Largest i with vals[i] <= a.
            var lo = 0, hi = last
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if vals[mid] <= a { lo = mid } else { hi = mid }
            }
            let below = vals[lo], above = vals[lo + 1]
            if a - below < above - a { r = below }
            else if a - below > above - a { r = above }
            else { r = lo % 2 == 0 ? below : above }
        }
        if negative && !r.isNaN { r = (r == 0 && !t.hasNegativeZero) ? 0 : -r }
        return r
    }

    /// float8e8m0 (a bare power of two, 0xFF NaN) from `v` as the ONNX Cast does: the float32
    /// exponent field, rounded up, down or to nearest by `roundMode`, kept below NaN when
    /// `saturate`. The sign is dropped (the type has none).
    static func e8m0(_ v: Double, saturate: Bool, roundMode: String) -> Double {
        let bits = Float(v).bitPattern
        var exponent = Int((bits >> 23) & 0xFF)
        if exponent == 0xFF { return .nan }
        let roundUp: Bool
        switch roundMode {
        case "nearest":
            let g = bits & 0x40_0000 != 0, r = bits & 0x20_0000 != 0, s = bits & 0x1F_FFFF != 0
            roundUp = g && (r || s || exponent > 0)
        case "down": roundUp = false
        default: roundUp = bits & 0x7F_FFFF != 0
        }
        if roundUp && !(saturate && exponent == 0xFE) { exponent += 1 }
        return ElementDecoding.float8ToDouble(UInt8(exponent & 0xFF), type: .float8e8m0)
    }

    /// `v` converted as an ONNX Cast to `to` converts it, as the value the interpreter stores
    /// for that type. Types held as they are come back unchanged (the store converts them).
    static func cast(_ v: Double, to: ElementType, saturate: Bool, roundMode: String) -> Double {
        if let t = floatTable(to) { return round(v, t, saturate: saturate) }
        switch to {
        case .float16: return Double(Float(halfRound: Float(v)))
        case .bfloat16: return Double(Float(bfloatRound: Float(v)))
        case .float8e8m0: return e8m0(v, saturate: saturate, roundMode: roundMode)
        case .int4, .uint4, .int2, .uint2:
            // Integers wrap to the low bits (as numpy/ml_dtypes casts do).
            guard v.isFinite, let (lo, hi) = intRange(to) else { return 0 }
            let span = hi - lo + 1
            var r = v.rounded(.towardZero).truncatingRemainder(dividingBy: span)
            if r < lo { r += span }
            if r > hi { r -= span }
            return r
        default: return v
        }
    }

    /// `v` rounded to nearest even and clamped into `to`, as QuantizeLinear saturates; float
    /// targets round to their grid (saturating unless `saturate` is false).
    static func quantize(_ v: Double, to: ElementType, saturate: Bool) -> Double? {
        if let t = floatTable(to) { return round(v, t, saturate: saturate) }
        guard let (lo, hi) = intRange(to) else { return nil }
        return min(max(v.rounded(.toNearestOrEven), lo), hi)
    }
}
