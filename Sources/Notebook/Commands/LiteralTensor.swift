// Tensors written in a cell: `[1, 2, 3]`, `[[1, 2], [3, 4]]` or a scalar, with an element type
// (`dtype=int64`, or the type of the initializer being replaced). Nested lists must be
// rectangular; values must fit the element type.

import GraphIR

enum LiteralTensor {
    static func tensor(from value: CellValue, name: String, elementType: ElementType?, _ inv: Invocation, at parameter: String) throws -> Tensor {
        var dims: [Int64] = []
        var flat: [CellValue] = []
        func walk(_ v: CellValue, depth: Int) throws {
            if case .list(let items) = v {
                if depth == dims.count { dims.append(Int64(items.count)) }
                else if dims[depth] != Int64(items.count) {
                    throw inv.error(.value, "the nested lists are not rectangular (\(items.count) items where \(dims[depth]) were expected)", at: parameter)
                }
                for item in items { try walk(item, depth: depth + 1) }
            } else {
                guard depth == dims.count else { throw inv.error(.value, "the nested lists are not rectangular", at: parameter) }
                flat.append(v)
            }
        }
        try walk(value, depth: 0)
        let allInts = flat.allSatisfy { if case .int = $0 { return true }; if case .bool = $0 { return true }; return false }
        let type = elementType ?? (allInts ? .int64 : .float)
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        for v in flat {
            guard let d = v.numericValue ?? (v.isTruthy ? 1 : (v.typeName == "bool" ? 0 : nil)) else {
                throw inv.error(.type, "tensor elements must be numbers; got \(v.typeName) \(v.literal)", at: parameter)
            }
            func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
                guard d == d.rounded(), let i = T(exactly: d) else {
                    throw inv.error(.value, "\(v.literal) does not fit \(type.name)", at: parameter)
                }
                return i
            }
            switch type {
            case .float: put(Float(d).bitPattern)
            case .double: put(d.bitPattern)
            case .float16: put(Float16(Float(d)).bitPattern)
            case .int8: put(try int(Int8.self))
            case .int16: put(try int(Int16.self))
            case .int32: put(try int(Int32.self))
            case .int64: put(try int(Int64.self))
            case .uint8: put(try int(UInt8.self))
            case .uint16: put(try int(UInt16.self))
            case .uint32: put(try int(UInt32.self))
            case .uint64: put(try int(UInt64.self))
            case .bool: put(UInt8(d != 0 ? 1 : 0))
            default: throw inv.error(.value, "cannot write \(type.name) tensors from a cell; use a .npy file", at: parameter)
            }
        }
        return Tensor(name: name, elementType: type, dims: dims, data: .raw(ByteSlice(copying: bytes)))
    }
}
