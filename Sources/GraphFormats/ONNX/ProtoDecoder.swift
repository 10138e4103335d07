/// A bounds-checked protobuf wire-format cursor over mapped bytes. It never copies payloads
/// (length-delimited fields come back as offsets into the storage), never reads past its
/// limit, and reports failures with the current field path and absolute byte offset.

import GraphIR

/// Protobuf wire types.
enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// One path step for error messages: `graph`, `node[12]`, ...
struct PathStep {
    var name: StaticString
    var index: Int
}

/// The field path being decoded, as a plain growable buffer: a push and a pop happen around
/// every nested message, and an Array's uniqueness and capacity checks (or a method call on
/// the context class, which retains it) were a visible cost there.
struct PathStack {
    private var steps: UnsafeMutablePointer<PathStep>
    private var capacity = 32
    private var depth = 0

    init() { steps = UnsafeMutablePointer<PathStep>.allocate(capacity: capacity) }

    /// Frees the buffer (the owner calls it once).
    func deallocate() { steps.deallocate() }

    @inline(__always)
    mutating func push(_ step: PathStep) {
        if depth == capacity { grow() }
        (steps + depth).initialize(to: step)
        depth += 1
    }

    @inline(__always)
    mutating func pop() { depth -= 1 }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<PathStep>.allocate(capacity: capacity * 2)
        bigger.initialize(from: steps, count: depth)
        steps.deallocate()
        steps = bigger
        capacity *= 2
    }

    func pathString(rootName: String) -> String {
        var s = rootName
        for i in 0..<depth {
            let p = steps[i]
            s += "." + p.name.description
            if p.index >= 0 { s += "[\(p.index)]" }
        }
        return s
    }
}

/// What every cursor of one decoding pass shares: the bytes, the file name (for errors), the
/// name of the root message and the path being decoded.
struct DecodeState {
    let storage: ByteStorage
    let file: String
    let rootName: String
    var path = PathStack()
}

/// Owns one decoding pass's `DecodeState` at a fixed address for its whole life, so cursors
/// can refer to it with a plain pointer (no reference counting as they are copied for every
/// nested message; single-threaded, never accessed overlapping).
final class DecodeContext {
    let state: UnsafeMutablePointer<DecodeState>
    let base: UnsafePointer<UInt8>
    /// Stand-in base for empty storage: never read, since every read is bounds-checked.
    static let emptyByte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    init(storage: ByteStorage, file: String, rootName: String) {
        // A zero-length file has no base address; use a dummy pointer that is never read.
        base = storage.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(DecodeContext.emptyByte)
        state = UnsafeMutablePointer<DecodeState>.allocate(capacity: 1)
        state.initialize(to: DecodeState(storage: storage, file: file, rootName: rootName))
    }

    var storage: ByteStorage { state.pointee.storage }

    /// A cursor over the whole storage.
    var root: ProtoCursor { ProtoCursor(base: base, state: state, start: 0, end: storage.count) }

    /// A cursor over `start..<end` of the storage.
    func cursor(start: Int, end: Int) -> ProtoCursor { ProtoCursor(base: base, state: state, start: start, end: end) }

    deinit {
        state.pointee.path.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }
}

/// A growable list of Int64 the cursor can read repeated `ints` into: an array, or the
/// decoder's inline small list.
protocol Int64Appending {
    var count: Int { get }
    var isEmpty: Bool { get }
    mutating func append(_ value: Int64)
    mutating func reserveCapacity(_ n: Int)
}

extension Array: Int64Appending where Element == Int64 {}

/// A cursor over [start, end) of a decoding pass's storage. Four plain words, copied for
/// every nested message: whoever makes the root cursor (the decoder, through its
/// `DecodeContext`) keeps the state alive for every cursor's life. (A cursor that also held
/// the context object and a `StaticString` was twice the size, and copying it was a visible
/// cost: its odd-sized tail defeated store forwarding.)
struct ProtoCursor {
    /// The storage's first byte, so the hot read paths never leave the cursor.
    let base: UnsafePointer<UInt8>
    /// The pass's shared state (storage, file name, path).
    let state: UnsafeMutablePointer<DecodeState>
    var pos: Int
    let end: Int

    @inline(__always)
    init(base: UnsafePointer<UInt8>, state: UnsafeMutablePointer<DecodeState>, start: Int, end: Int) {
        self.base = base
        self.state = state
        self.pos = start
        self.end = end
    }

    var atEnd: Bool { pos >= end }

    func error(_ message: String, at offset: Int? = nil) -> ONNXError {
        let s = state.pointee
        return ONNXError(file: s.file, fieldPath: s.path.pathString(rootName: s.rootName), offset: offset ?? pos, message: message)
    }

    /// Reads a varint; the one-byte case (most tags and lengths) is inlined, longer ones
    /// take the general path.
    @inline(__always)
    mutating func readVarint() throws -> UInt64 {
        if pos < end {
            let b = base[pos]
            if b < 0x80 {
                pos += 1
                return UInt64(b)
            }
        }
        return try readVarintSlow()
    }

    mutating func readVarintSlow() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = pos
        while true {
            guard pos < end else { throw error("truncated varint", at: start) }
            let b = base[pos]
            pos += 1
            if shift == 63 && b > 1 { throw error("varint overflows 64 bits", at: start) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error("varint longer than 10 bytes", at: start) }
        }
    }

    /// Reads a field key; returns (field number, wire type).
    @inline(__always)
    mutating func readTag() throws -> (Int, WireType) {
        let start = pos
        let key = try readVarint()
        let field = key >> 3
        guard field > 0, field <= 536_870_911 else { throw error("invalid field number \(field)", at: start) }
        let w = key & 7
        guard w <= 5 else { throw error("invalid wire type \(w) for field \(field)", at: start) }
        // 0...5 are exactly the WireType cases.
        return (Int(field), unsafeBitCast(UInt8(w), to: WireType.self))
    }

    mutating func readFixed32() throws -> UInt32 {
        guard end - pos >= 4 else { throw error("truncated fixed32") }
        let v = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt32.self)
        pos += 4
        return UInt32(littleEndian: v)
    }

    mutating func readFixed64() throws -> UInt64 {
        guard end - pos >= 8 else { throw error("truncated fixed64") }
        let v = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
        pos += 8
        return UInt64(littleEndian: v)
    }

    /// Reads a length prefix and returns the payload range, checking it fits.
    @inline(__always)
    mutating func readLengthDelimited() throws -> Range<Int> {
        let start = pos
        let len = try readVarint()
        guard len <= UInt64(end - pos) else {
            throw error("length \(len) runs past the end of the enclosing message (\(end - pos) bytes left)", at: start)
        }
        let r = pos..<(pos + Int(len))
        pos += Int(len)
        return r
    }

    func string(_ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(start: base + r.lowerBound, count: r.count), as: UTF8.self)
    }

    func bytes(_ r: Range<Int>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: base + r.lowerBound, count: r.count))
    }

    func slice(_ r: Range<Int>) -> ByteSlice {
        ByteSlice(storage: state.pointee.storage, offset: r.lowerBound, count: r.count)
    }

    @inline(__always)
    func sub(_ r: Range<Int>) -> ProtoCursor {
        ProtoCursor(base: base, state: state, start: r.lowerBound, end: r.upperBound)
    }

    /// Skips a field's payload after its tag, returning the whole field's byte range
    /// (tag included, given the tag's start) so unknown fields can be kept verbatim.
    mutating func skip(_ wt: WireType, field: Int, depth: Int = 0) throws {
        switch wt {
        case .varint: _ = try readVarint()
        case .fixed64: guard end - pos >= 8 else { throw error("truncated fixed64") }; pos += 8
        case .fixed32: guard end - pos >= 4 else { throw error("truncated fixed32") }; pos += 4
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup:
            guard depth < 64 else { throw error("groups nested too deeply") }
            while true {
                let (f, w) = try readTag()
                if w == .endGroup {
                    guard f == field else { throw error("mismatched end-group for field \(field)") }
                    return
                }
                try skip(w, field: f, depth: depth + 1)
            }
        case .endGroup: throw error("unexpected end-group")
        }
    }

    /// Counts occurrences of up to three field numbers (0: unused) in the rest of this
    /// message, so callers can size their lists once. Never throws: on malformed bytes it
    /// returns what it counted so far and the real pass reports the error.
    func countFields(_ a: Int, _ b: Int, _ c: Int, from start: Int? = nil) -> (Int, Int, Int) {
        var na = 0, nb = 0, nc = 0
        var p = start ?? pos
        let end = self.end, base = self.base
        while p < end {
            // Key: almost always one byte.
            var key = UInt64(base[p])
            p += 1
            if key >= 0x80 {
                guard let k = ProtoCursor.scanVarint(base, &p, end, first: key) else { break }
                key = k
            }
            let field = Int(truncatingIfNeeded: key >> 3)
            if field == a { na += 1 } else if field == b { nb += 1 } else if field == c { nc += 1 }
            switch key & 7 {
            case 0:
                guard p < end else { return (na, nb, nc) }
                let first = UInt64(base[p])
                p += 1
                if first >= 0x80 && ProtoCursor.scanVarint(base, &p, end, first: first) == nil { return (na, nb, nc) }
            case 1: p += 8
            case 5: p += 4
            case 2:
                guard p < end else { return (na, nb, nc) }
                var len = UInt64(base[p])
                p += 1
                if len >= 0x80 {
                    guard let l = ProtoCursor.scanVarint(base, &p, end, first: len) else { return (na, nb, nc) }
                    len = l
                }
                guard len <= UInt64(end - p) else { return (na, nb, nc) }
                p += Int(len)
            default: return (na, nb, nc)  // groups are rare: stop counting
            }
        }
        return (na, nb, nc)
    }

    /// How many length-delimited fields with the one-byte tag `tag` follow one another from
    /// `start` (repeated fields are normally written together), for sizing a list once.
    /// Never throws: it stops at anything else, including malformed bytes.
    func countRun(tag: UInt8, from start: Int) -> Int { run(tag: tag, from: start).count }

    /// The run counted by `countRun`, with the offset just past its last field.
    func run(tag: UInt8, from start: Int) -> (count: Int, end: Int) {
        var p = start, n = 0, endOfRun = start
        while p < end && base[p] == tag {
            p += 1
            guard p < end else { break }
            var len = UInt64(base[p])
            p += 1
            if len >= 0x80 {
                guard let l = ProtoCursor.scanVarint(base, &p, end, first: len) else { break }
                len = l
            }
            guard len <= UInt64(end - p) else { break }
            p += Int(len)
            n += 1
            endOfRun = p
        }
        return (n, endOfRun)
    }

    /// True when every field left in this message is well formed and its number is in
    /// `allowed` (bit n = field n, n < 64). Never throws: callers use it to pick a fast path
    /// and fall back to the general decoder, which reports errors, when it says false.
    func onlyFields(in allowed: UInt64) -> Bool {
        var p = pos
        let end = self.end, base = self.base
        while p < end {
            var key = UInt64(base[p])
            p += 1
            if key >= 0x80 {
                guard let k = ProtoCursor.scanVarint(base, &p, end, first: key) else { return false }
                key = k
            }
            let field = key >> 3
            guard field > 0, field < 64, allowed & (1 << field) != 0 else { return false }
            switch key & 7 {
            case 0:
                guard p < end else { return false }
                let first = UInt64(base[p])
                p += 1
                if first >= 0x80 && ProtoCursor.scanVarint(base, &p, end, first: first) == nil { return false }
            case 1: p += 8
            case 5: p += 4
            case 2:
                guard p < end else { return false }
                var len = UInt64(base[p])
                p += 1
                if len >= 0x80 {
                    guard let l = ProtoCursor.scanVarint(base, &p, end, first: len) else { return false }
                    len = l
                }
                guard len <= UInt64(end - p) else { return false }
                p += Int(len)
            default: return false
            }
        }
        return p == end
    }

    /// The rest of a multi-byte varint whose first byte (high bit set) was already read;
    /// nil when truncated or too long. Used only by the tolerant counting scan.
    static func scanVarint(_ base: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int, first: UInt64) -> UInt64? {
        var result = first & 0x7F
        var shift: UInt64 = 7
        while p < end && shift < 64 {
            let byte = base[p]
            p += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// Checks a field has the expected wire type.
    @inline(__always)
    func expect(_ wt: WireType, _ want: WireType, _ name: StaticString, at tagStart: Int) throws {
        if wt != want {
            throw error("field '\(name)' has wire type \(wt.rawValue), expected \(want.rawValue)", at: tagStart)
        }
    }

    /// Reads an embedded message field: checks its wire type, names it in the field path
    /// (with `index` for repeated fields, -1 for singular ones) and decodes it with `read`.
    @inline(__always)
    mutating func message<T>(_ name: StaticString, _ index: Int, _ wt: WireType, _ tagStart: Int,
                             _ read: (ProtoCursor) throws -> T) throws -> T {
        try expect(wt, .lengthDelimited, name, at: tagStart)
        push(name, index)
        let value = try read(sub(try readLengthDelimited()))
        pop()
        return value
    }

    /// Appends one element of AttributeProto's repeated `floats` (field 7), which writers send
    /// packed or one per tag: protobuf parsers must accept both.
    @inline(__always)
    mutating func appendFloats(_ floats: inout [Float], field: Int, wireType wt: WireType, tagStart: Int) throws {
        push("floats", floats.count)
        if wt == .lengthDelimited {
            let r = try readLengthDelimited()
            floats.reserveCapacity(floats.count + r.count / 4)
            var p = sub(r)
            while !p.atEnd { floats.append(Float(bitPattern: try p.readFixed32())) }
        } else {
            if floats.isEmpty { floats.reserveCapacity(countFields(field, 0, 0, from: tagStart).0) }
            try expect(wt, .fixed32, "floats", at: tagStart)
            floats.append(Float(bitPattern: try readFixed32()))
        }
        pop()
    }

    /// Appends one element of AttributeProto's repeated `ints` (field 8), packed or one per tag.
    @inline(__always)
    mutating func appendInt64s<L: Int64Appending>(_ ints: inout L, field: Int, wireType wt: WireType, tagStart: Int) throws {
        push("ints", ints.count)
        if wt == .lengthDelimited {
            var p = sub(try readLengthDelimited())
            while !p.atEnd { ints.append(Int64(bitPattern: try p.readVarint())) }
        } else {
            if ints.isEmpty { ints.reserveCapacity(countFields(field, 0, 0, from: tagStart).0) }
            try expect(wt, .varint, "ints", at: tagStart)
            ints.append(Int64(bitPattern: try readVarint()))
        }
        pop()
    }

    @inline(__always)
    mutating func push(_ name: StaticString, _ index: Int = -1) { state.pointee.path.push(PathStep(name: name, index: index)) }
    @inline(__always)
    mutating func pop() { state.pointee.path.pop() }
}
