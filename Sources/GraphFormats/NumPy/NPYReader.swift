/// Reading NumPy `.npy` files (format versions 1-3) into tensors, for `initializer set NAME
/// FILE.npy`. Little-endian and single-byte dtypes of every ONNX numeric type; C order.
/// Anything else (pickled objects, Fortran order of rank > 1, big-endian, a short file) is
/// refused with a message saying what and where.
import Foundation
import GraphIR

/// Why a `.npy` file could not be read.
public struct NPYError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}

public enum NPYReader {
    /// Reads `url` as a tensor named `name`.
    public static func read(_ url: URL, name: String) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError(file: url.lastPathComponent, reason: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse([UInt8](data), name: name, file: url.lastPathComponent)
    }

    /// Parses the bytes of a `.npy` file.
    public static func parse(_ bytes: [UInt8], name: String, file: String = "<bytes>") throws -> Tensor {
        func fail(_ reason: String) -> NPYError { NPYError(file: file, reason: reason) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (no \\x93NUMPY magic at byte 0)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header length") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("format version \(major).\(bytes[7]) is not supported (1, 2 and 3 are)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("the header says \(headerLength) bytes but the file ends at \(bytes.count)") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header) else { throw fail("header has no 'descr': \(header)") }
        let fortran = field("fortran_order", in: header) == "True"
        guard let shapeText = field("shape", in: header) else { throw fail("header has no 'shape': \(header)") }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var dims: [Int64] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let d = Int64(t), d >= 0 else { throw fail("bad shape \(shapeText)") }
            dims.append(d)
        }
        guard let (type, bigEndian) = elementType(descr) else {
            throw fail("dtype '\(descr)' is not supported (numeric little-endian dtypes and bool are)")
        }
        if bigEndian { throw fail("dtype '\(descr)' is big-endian; save it little-endian (arr.astype(arr.dtype.newbyteorder('<')))") }
        if fortran && dims.count > 1 { throw fail("the array is in Fortran order; save np.ascontiguousarray(arr)") }
        var count = 1
        for d in dims {
            let (m, o) = count.multipliedReportingOverflow(by: Int(d))
            guard !o else { throw fail("shape \(shapeText) is too large") }
            count = m
        }
        guard let size = type.byteCount(forElements: count) else { throw fail("dtype '\(descr)' has no fixed size") }
        let start = headerStart + headerLength
        guard bytes.count - start >= size else {
            throw fail("shape \(shapeText) of \(descr) needs \(size) data bytes, the file has \(bytes.count - start)")
        }
        return Tensor(name: name, elementType: type, dims: dims, data: .raw(ByteSlice(copying: Array(bytes[start..<(start + size)]))))
    }

    /// The text of `'key': value` in the header dict (a tuple value kept whole).
    private static func field(_ key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        var rest = header[r.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: "'") else { return nil }
            return String(rest[..<close])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }

    private static func elementType(_ descr: String) -> (ElementType, Bool)? {
        guard let order = descr.first, "<>|=".contains(order) else { return nil }
        let code = String(descr.dropFirst())
        let table: [String: ElementType] = [
            "f2": .float16, "f4": .float, "f8": .double, "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
            "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
        ]
        guard let t = table[code] else { return nil }
        return (t, order == ">" && !code.hasSuffix("1"))
    }
}
