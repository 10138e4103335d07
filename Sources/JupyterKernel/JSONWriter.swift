// A fast, strict JSON writer into a byte buffer.
//
// Every outgoing Jupyter message passes through here, and a 1 MB SVG output must cost
// the kernel well under a few milliseconds, so strings are copied in runs of bytes that
// need no escaping instead of character by character, and nothing goes through
// Foundation's `JSONSerialization`. Output is strict JSON: NaN and infinities become
// `null`, control characters are escaped, `/` is left alone.

/// Appends JSON text to a growing UTF-8 byte buffer.
///
/// A value type so callers can build a frame, take `bytes`, and throw the writer away.
/// The low-level `write…` methods let message builders emit objects with a fixed key
/// order without first building a `JSONValue` tree.
public struct JSONWriter {
    /// The JSON text written so far, as UTF-8.
    public private(set) var bytes: [UInt8]

    /// - Parameter capacity: bytes to reserve up front (avoid regrowth for big outputs).
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Serialises one value to UTF-8 JSON text.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter(capacity: value.estimatedSize + 16)
        writer.write(value)
        return writer.bytes
    }

    /// Serialises one value to a `String` (convenience for tests, logs and reports).
    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Writes any JSON value. Object keys are written in sorted order so output is
    /// deterministic (tests and reports can compare text).
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let b): writeRaw(b ? "true" : "false")
        case .int(let i): writeInt(i)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                writeString(key)
                bytes.append(UInt8(ascii: ":"))
                write(member)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Writes bytes that are already valid JSON (a literal, or a frame received verbatim).
    public mutating func writeRaw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Writes bytes that are already valid JSON text.
    public mutating func writeRaw(bytes raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    /// Writes a single structural byte such as `{`, `,` or `:`.
    public mutating func writeByte(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Writes `"key":` for hand-built objects.
    public mutating func writeKey(_ key: String) {
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes an integer in decimal.
    public mutating func writeInt(_ value: Int64) {
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var magnitude = value.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            var index = count - 1
            while index >= 0 { bytes.append(buffer[index]); index -= 1 }
        }
    }

    /// Writes a double with the shortest text that round-trips; NaN and infinities
    /// (not representable in JSON) become `null`.
    public mutating func writeDouble(_ value: Double) {
        guard value.isFinite else { writeRaw("null"); return }
        if value == value.rounded(), abs(value) < 1e15 {
            // Whole numbers keep a fractional part so readers see a float, as Python does.
            writeInt(Int64(value))
            bytes.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
            return
        }
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Writes a quoted, escaped string. Runs of bytes that need no escaping are copied
    /// in one call, which keeps megabyte SVG strings cheap.
    public mutating func writeString(_ string: String) {
        if let done: Void = string.utf8.withContiguousStorageIfAvailable({ writeEscaped($0) }) {
            return done
        }
        var copy = string
        copy.withUTF8 { writeEscaped($0) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escaped length of each byte beyond 1: 0 for bytes copied as is, 1 for `\n`-style
    /// escapes, 5 for `\u00XX`.
    private static let extraLength: [UInt8] = (0..<256).map { byte in
        switch byte {
        case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: return 1
        case 0..<0x20: return 5
        default: return 0
        }
    }

    /// Two passes: measure the escaped length, grow the buffer once, then write through a
    /// raw pointer. A megabyte of SVG full of quotes then costs two linear scans and no
    /// per-escape reallocation.
    private mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        let count = utf8.count
        var extra = 0
        Self.extraLength.withUnsafeBufferPointer { table in
            for byte in utf8 { extra &+= Int(table[Int(byte)]) }
        }
        let start = bytes.count
        let total = count + extra + 2
        bytes.append(contentsOf: repeatElement(0, count: total))
        guard let source = utf8.baseAddress else {
            bytes[start] = UInt8(ascii: "\"")
            bytes[start + 1] = UInt8(ascii: "\"")
            return
        }
        bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var out = base + start
            out.pointee = UInt8(ascii: "\""); out += 1
            if extra == 0 {
                out.update(from: source, count: count)
                out += count
            } else {
                Self.hexDigits.withUnsafeBufferPointer { hex in
                    for index in 0..<count {
                        let byte = source[index]
                        if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                            out.pointee = byte; out += 1
                            continue
                        }
                        out.pointee = UInt8(ascii: "\\"); out += 1
                        switch byte {
                        case 0x22: out.pointee = 0x22
                        case 0x5C: out.pointee = 0x5C
                        case 0x0A: out.pointee = UInt8(ascii: "n")
                        case 0x0D: out.pointee = UInt8(ascii: "r")
                        case 0x09: out.pointee = UInt8(ascii: "t")
                        case 0x08: out.pointee = UInt8(ascii: "b")
                        case 0x0C: out.pointee = UInt8(ascii: "f")
                        default:
                            out[0] = UInt8(ascii: "u"); out[1] = UInt8(ascii: "0"); out[2] = UInt8(ascii: "0")
                            out[3] = hex[Int(byte >> 4)]; out[4] = hex[Int(byte & 0xF)]
                            out += 4
                        }
                        out += 1
                    }
                }
            }
            out.pointee = UInt8(ascii: "\"")
        }
    }
}

extension JSONValue {
    /// A cheap upper-bound guess of the encoded size, used to reserve buffer capacity.
    var estimatedSize: Int {
        switch self {
        case .null, .bool, .int, .double: return 24
        case .string(let s): return s.utf8.count + 8
        case .array(let items): return items.reduce(2) { $0 + $1.estimatedSize + 1 }
        case .object(let members): return members.reduce(2) { $0 + $1.key.utf8.count + 4 + $1.value.estimatedSize }
        }
    }
}
