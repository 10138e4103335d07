/// Per-output-channel scaling of a float32 weight (axis 0: Conv's Cout), the arithmetic that
/// folding a BatchNormalization or a Mul into a Conv shares: one pass over the weight's bytes
/// into the new tensor, with no decoded copy in between (ResNet-50's kernels are 100 MB).
import GraphIR

enum ChannelScaling {
    /// Scalings made so far in one pass run, by the weight's bytes (where they live) and the
    /// scale: convolutions that share one weight buffer and get the same scale (placeholder
    /// weights folded from identical ConstantOfShape nodes, a model's repeated blocks) share
    /// one scaled buffer instead of writing the same bytes again. Each entry keeps its source
    /// tensor alive, so an address in a key is never reused by other bytes while cached.
    struct Cache {
        struct Key: Hashable {
            var address: Int
            var count: Int
            var scale: [UInt32]
        }
        var entries: [Key: (source: Tensor, scaled: Tensor)] = [:]
    }

    /// `scaled(w, by:)`, reusing the result for the same bytes and scale.
    static func scaled(_ w: Tensor, by scale: [Float], cache: inout Cache) -> Tensor? {
        guard let (address, count) = try? w.withUnsafeBytes({ ($0.baseAddress.map { Int(bitPattern: $0) } ?? 0, $0.count) }), address != 0 else {
            return scaled(w, by: scale)
        }
        let key = Cache.Key(address: address, count: count, scale: scale.map(\.bitPattern))
        if let hit = cache.entries[key], hit.source.elementType == w.elementType, hit.source.dims == w.dims { return hit.scaled }
        guard let out = scaled(w, by: scale) else { return nil }
        cache.entries[key] = (w, out)
        return out
    }

    /// `w` with every element of output channel `o` multiplied by `scale[o]`, or nil when
    /// `w` is not a float32 tensor of `scale.count` channels with readable data.
    static func scaled(_ w: Tensor, by scale: [Float]) -> Tensor? {
        let channels = scale.count
        guard w.elementType == .float, let first = w.dims.first, Int(first) == channels, channels > 0,
              let n = w.elementCount, n % channels == 0 else { return nil }
        let per = n / channels
        // Written straight into the new tensor's buffer: one allocation, one pass over the bytes
        // (a second buffer of ResNet-50's size costs more in page faults than the arithmetic).
        let storage: ByteStorage? = try? w.withUnsafeBytes { raw -> ByteStorage? in
            guard raw.count >= n * 4 else { return nil }
            return ByteStorage(count: n * 4) { out in
                // Channel by channel: copy the row (the source may sit at any offset of a mapped
                // file), then scale the aligned copy in place while it is still in cache (a loop
                // the compiler vectorizes): one pass over memory, not two.
                let buf = out.bindMemory(to: Float.self)
                for o in 0..<channels {
                    let bytes = (o * per * 4)..<((o + 1) * per * 4)
                    UnsafeMutableRawBufferPointer(rebasing: out[bytes]).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[bytes]))
                    let s = scale[o]
                    let row = UnsafeMutableBufferPointer(rebasing: buf[(o * per)..<((o + 1) * per)])
                    #if _endian(little)
                    for i in row.indices { row[i] *= s }
                    #else
                    for i in row.indices { row[i] = Float(bitPattern: (Float(bitPattern: UInt32(littleEndian: row[i].bitPattern)) * s).bitPattern.littleEndian) }
                    #endif
                }
            }
        } ?? nil
        return storage.map { Tensor(name: "", elementType: .float, dims: w.dims, data: .raw(ByteSlice(storage: $0, offset: 0, count: n * 4))) }
    }
}
