/// Per-output-channel scaling of a float32 weight (axis 0: Conv's Cout), the arithmetic that
/// folding a BatchNormalization or a Mul into a Conv shares: one pass over the weight's bytes
/// into the new tensor, with no decoded copy in between (ResNet-50's kernels are 100 MB).
import GraphIR

enum ChannelScaling {
    /// `w` with every element of output channel `o` multiplied by `scale[o]`, or nil when
    /// `w` is not a float32 tensor of `scale.count` channels with readable data.
    static func scaled(_ w: Tensor, by scale: [Float]) -> Tensor? {
        let channels = scale.count
        guard w.elementType == .float, let first = w.dims.first, Int(first) == channels, channels > 0,
              let n = w.elementCount, n % channels == 0 else { return nil }
        let per = n / channels
        let out: [Float]? = try? w.withUnsafeBytes { raw -> [Float]? in
            guard raw.count >= n * 4 else { return nil }
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                for o in 0..<channels {
                    let s = scale[o], start = o * per
                    for i in start..<(start + per) {
                        buf[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) * s
                    }
                }
                count = n
            }
        } ?? nil
        return out.map { Tensor(floats: $0, dims: w.dims) }
    }
}
