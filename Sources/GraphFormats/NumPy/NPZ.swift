/// NumPy `.npz` archives and `.npy` writing, for `run NAME=inputs.npz` and `run save=out.npz`.
/// An `.npz` is a zip of `.npy` members; `np.savez` stores them uncompressed and
/// `np.savez_compressed` deflates them: both are read (deflate through zlib, the CRC checked).
/// Writing stores members uncompressed and makes files `np.load` reads back exactly.
import CZlib
import Foundation
import GraphIR

/// Writes `.npy` (format 1.0) bytes.
public enum NPYWriter {
    /// The NumPy dtype string of `type`, or nil for types NumPy has no fixed-size form of.
    public static func descr(_ type: ElementType) -> String? {
        switch type {
        case .float: return "<f4"
        case .double: return "<f8"
        case .float16: return "<f2"
        case .int64: return "<i8"
        case .int32: return "<i4"
        case .int16: return "<i2"
        case .int8: return "|i1"
        case .uint8: return "|u1"
        case .uint16: return "<u2"
        case .uint32: return "<u4"
        case .uint64: return "<u8"
        case .bool: return "|b1"
        default: return nil
        }
    }

    /// A `.npy` file of a C-order array of `type` and `shape` whose little-endian bytes are `data`.
    public static func bytes(type: ElementType, shape: [Int], data: [UInt8]) throws -> [UInt8] {
        guard let d = descr(type) else {
            throw NPYError(file: "<npy>", reason: "element type \(type.name) has no .npy form")
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(d)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out += data
        return out
    }
}

/// Reads `.npz` archives (stored or deflated members) and writes them (stored).
public enum NPZ {
    /// One array of an archive: its key (the member name without `.npy`) and its `.npy` bytes.
    public struct Member: Sendable {
        public var name: String
        public var npy: [UInt8]
        public init(name: String, npy: [UInt8]) {
            self.name = name
            self.npy = npy
        }
    }

    /// The arrays of the archive at `url`, in archive order, as tensors named by key.
    public static func read(_ url: URL) throws -> [Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError(file: url.lastPathComponent, reason: "cannot read the file (\(error.localizedDescription))")
        }
        let file = url.lastPathComponent
        return try members([UInt8](data), file: file).map { try NPYReader.parse($0.npy, name: $0.name, file: "\(file):\($0.name).npy") }
    }

    /// The members of an archive's bytes (walks the central directory).
    public static func members(_ bytes: [UInt8], file: String = "<npz>") throws -> [Member] {
        func fail(_ reason: String) -> NPYError { NPYError(file: file, reason: reason) }
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        guard bytes.count >= 22 else { throw fail("not an .npz file (too short for a zip archive)") }
        // The end-of-central-directory record: its signature within the last 64 KB + 22 bytes.
        var eocd = -1
        var o = bytes.count - 22
        while o >= max(0, bytes.count - 22 - 65_535) {
            if bytes[o] == 0x50, bytes[o + 1] == 0x4B, bytes[o + 2] == 5, bytes[o + 3] == 6 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw fail("not an .npz file (no zip end-of-directory record)") }
        let count = u16(eocd + 10)
        var p = u32(eocd + 16)
        var out: [Member] = []
        for _ in 0..<count {
            guard p + 46 <= bytes.count, u32(p) == 0x0201_4B50 else { throw fail("damaged zip central directory") }
            let method = u16(p + 10), crc = u32(p + 16), compressed = u32(p + 20), size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            let local = u32(p + 42)
            guard p + 46 + nameLength <= bytes.count else { throw fail("damaged zip central directory") }
            let memberName = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            p += 46 + nameLength + extraLength + commentLength
            guard compressed != 0xFFFF_FFFF, size != 0xFFFF_FFFF else {
                throw fail("member '\(memberName)' is a zip64 entry (over 4 GB), which is not supported")
            }
            guard method == 0 || method == 8 else {
                throw fail("member '\(memberName)' uses zip compression method \(method); only stored and deflated members are read")
            }
            guard local + 30 <= bytes.count, u32(local) == 0x0403_4B50 else { throw fail("damaged zip entry '\(memberName)'") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            let stored = method == 0 ? size : compressed
            guard start + stored <= bytes.count else { throw fail("member '\(memberName)' runs past the end of the file") }
            let key = memberName.hasSuffix(".npy") ? String(memberName.dropLast(4)) : memberName
            let npy = method == 0 ? Array(bytes[start..<(start + size)])
                                  : try inflate(bytes[start..<(start + stored)], size: size, member: memberName, file: file)
            guard Int(CRC32.checksum(npy)) == crc else { throw fail("member '\(memberName)' fails its CRC check (damaged file)") }
            out.append(Member(name: key, npy: npy))
        }
        return out
    }

    /// The `size` bytes a raw-deflate stream inflates to (zlib, no header: zip's method 8).
    static func inflate(_ deflated: ArraySlice<UInt8>, size: Int, member: String, file: String) throws -> [UInt8] {
        func fail(_ reason: String) -> NPYError { NPYError(file: file, reason: "member '\(member)': \(reason)") }
        var out = [UInt8](repeating: 0, count: size)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let status: Int32 = deflated.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = output.baseAddress
                stream.avail_out = uInt(output.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw fail(status == Z_STREAM_END || status == Z_BUF_ERROR
                ? "inflates to a different size than its directory entry says (\(size) bytes)"
                : "damaged deflate data (zlib status \(status))")
        }
        return out
    }

    /// An uncompressed archive of `members` (each stored as `NAME.npy`), as `np.savez` writes.
    public static func archive(_ members: [Member]) throws -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: Int, _ a: inout [UInt8]) { le16(v & 0xFFFF, &a); le16((v >> 16) & 0xFFFF, &a) }
        for m in members {
            let name = Array((m.name + ".npy").utf8)
            guard m.npy.count < 0xFFFF_FFFF, out.count < 0xFFFF_FFFF, name.count < 0xFFFF else {
                throw NPYError(file: "<npz>", reason: "member '\(m.name)' is too large for a zip archive without zip64")
            }
            let crc = Int(CRC32.checksum(m.npy))
            let offset = out.count
            // Local header: version 2.0, no flags, stored, DOS time 0, CRC, sizes, name.
            le32(0x0403_4B50, &out); le16(20, &out); le16(0, &out); le16(0, &out); le16(0, &out); le16(0x21, &out)
            le32(crc, &out); le32(m.npy.count, &out); le32(m.npy.count, &out); le16(name.count, &out); le16(0, &out)
            out += name
            out += m.npy
            le32(0x0201_4B50, &central); le16(20, &central); le16(20, &central); le16(0, &central); le16(0, &central)
            le16(0, &central); le16(0x21, &central); le32(crc, &central); le32(m.npy.count, &central); le32(m.npy.count, &central)
            le16(name.count, &central); le16(0, &central); le16(0, &central); le16(0, &central); le16(0, &central)
            le32(0, &central); le32(offset, &central)
            central += name
        }
        let directoryStart = out.count
        out += central
        le32(0x0605_4B50, &out); le16(0, &out); le16(0, &out); le16(members.count, &out); le16(members.count, &out)
        le32(central.count, &out); le32(directoryStart, &out); le16(0, &out)
        return out
    }
}

/// CRC-32 (IEEE 802.3, as zip uses).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
