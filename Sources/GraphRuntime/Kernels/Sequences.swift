/// Sequence and optional ops over the `RuntimeTensor.container` values: SequenceConstruct,
/// SequenceEmpty, SequenceInsert, SequenceAt, SequenceErase, SequenceLength, SplitToSequence,
/// ConcatFromSequence, Optional, OptionalHasElement and OptionalGetElement. Elements put
/// into a sequence are copied out of the plan's reused buffers. (SequenceMap, which has a
/// body, is with the control flow.)
import Foundation
import GraphIR

enum SequenceKernels {
    static func sequence(_ io: KernelIO, _ i: Int) throws -> (RuntimeTensor, [RuntimeTensor]) {
        let t = try io.input(i)
        guard let e = t.sequence else { throw KernelError("input \(i) is not a sequence") }
        return (t, e)
    }

    /// A position argument in [-n, n) (or [-n, n] where `end` allows n), made non-negative.
    static func position(_ t: RuntimeTensor?, count n: Int, end: Bool) throws -> Int? {
        guard let t else { return nil }
        guard t.count >= 1 else { throw KernelError("position must hold one value") }
        let p = t.saturatingInt(at: 0), q = p < 0 ? p + n : p
        guard q >= 0, q < n || (end && q == n) else { throw KernelError("position \(p) is outside a sequence of \(n)") }
        return q
    }

    static func compile(_ node: Node) throws -> Kernel? {
        switch node.opType {
        case "SequenceConstruct":
            return { io in
                let parts = try io.inputs.indices.map { try io.input($0).copied() }
                guard let first = parts.first else { throw KernelError("SequenceConstruct needs inputs") }
                io.setOutput(0, RuntimeTensor(sequence: parts, elementType: first.elementType))
            }
        case "SequenceEmpty":
            let type = ElementType(rawValue: Int32(clamping: node.int("dtype", 1))) ?? .float
            return { io in io.setOutput(0, RuntimeTensor(sequence: [], elementType: RuntimeElement.stored(type))) }
        case "SequenceInsert":
            return { io in
                let (s, e) = try sequence(io, 0)
                let t = try io.input(1).copied()
                var out = e
                out.insert(t, at: try position(io.optionalInput(2), count: e.count, end: true) ?? e.count)
                io.setOutput(0, RuntimeTensor(sequence: out, elementType: e.isEmpty ? t.elementType : s.elementType))
            }
        case "SequenceAt":
            return { io in
                let (_, e) = try sequence(io, 0)
                guard let p = try position(io.optionalInput(1), count: e.count, end: false) else { throw KernelError("position is required") }
                io.setOutput(0, e[p])
            }
        case "SequenceErase":
            return { io in
                let (s, e) = try sequence(io, 0)
                guard !e.isEmpty else { throw KernelError("cannot erase from an empty sequence") }
                var out = e
                out.remove(at: try position(io.optionalInput(1), count: e.count, end: false) ?? e.count - 1)
                io.setOutput(0, RuntimeTensor(sequence: out, elementType: s.elementType))
            }
        case "SequenceLength":
            return { io in
                let (_, e) = try sequence(io, 0)
                let y = try io.output(0, .int64, [])
                y.setDouble(Double(e.count), at: 0)
            }
        case "SplitToSequence": return splitToSequence(node)
        case "ConcatFromSequence": return concatFromSequence(node)
        case "Optional":
            let declared: ElementType
            if case .typeProto(let t)? = node.attribute("type") {
                switch t {
                case .sequence(let inner?): declared = inner.elementType ?? .float
                default: declared = t.elementType ?? .float
                }
            } else { declared = .float }
            return { io in
                if let x = io.optionalInput(0) { io.setOutput(0, x) } else { io.setOutput(0, RuntimeTensor.none(RuntimeElement.stored(declared))) }
            }
        case "OptionalHasElement":
            return { io in
                let y = try io.output(0, .bool, [])
                y.setDouble(io.optionalInput(0).map { $0.isNone ? 0 : 1 } ?? 0, at: 0)
            }
        case "OptionalGetElement":
            return { io in
                let x = try io.input(0)
                guard !x.isNone else { throw KernelError("the optional has no value") }
                io.setOutput(0, x)
            }
        default:
            return nil
        }
    }

    /// Copies `x`'s slab [start, start+len) along `axis` into a fresh tensor.
    static func slab(_ x: RuntimeTensor, axis: Int, start: Int, length: Int) -> RuntimeTensor {
        var shape = x.shape
        shape[axis] = length
        let out = RuntimeTensor(zeros: x.elementType, shape: shape)
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *) * x.elementSize
        for o in 0..<outer {
            (out.raw + o * length * inner).copyMemory(from: x.raw + (o * x.shape[axis] + start) * inner, byteCount: length * inner)
        }
        return out
    }

    static func splitToSequence(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0), keepdims = node.int("keepdims", 1) != 0
        return { io in
            let x = try io.input(0)
            let axis = try Shapes.axis(axisAttr, rank: x.shape.count)
            let n = x.shape[axis]
            var sizes: [Int]
            var squeeze = false
            if let split = io.optionalInput(1) {
                let v = split.int64Values().map(Int.init)
                if split.shape.isEmpty {
                    guard let c = v.first, c > 0 else { throw KernelError("split must be positive") }
                    sizes = Array(repeating: c, count: n / c) + (n % c > 0 ? [n % c] : [])
                } else { sizes = v }
                guard sizes.allSatisfy({ $0 >= 0 && $0 <= n }), sizes.reduce(0, +) == n else { throw KernelError("split \(v) does not sum to \(n)") }
            } else {
                sizes = Array(repeating: 1, count: n)
                squeeze = !keepdims
            }
            var parts: [RuntimeTensor] = [], start = 0
            for len in sizes {
                var part = slab(x, axis: axis, start: start, length: len)
                if squeeze { var s = part.shape; s.remove(at: axis); part = part.reshaped(s) }
                parts.append(part)
                start += len
            }
            io.setOutput(0, RuntimeTensor(sequence: parts, elementType: x.elementType))
        }
    }

    static func concatFromSequence(_ node: Node) -> Kernel {
        let axisAttr = node.int("axis", 0), newAxis = node.int("new_axis", 0) != 0
        return { io in
            let (_, e) = try sequence(io, 0)
            guard let first = e.first else { throw KernelError("ConcatFromSequence of an empty sequence") }
            let rank = first.shape.count + (newAxis ? 1 : 0)
            let axis = try Shapes.axis(axisAttr, rank: rank)
            let parts = newAxis ? e.map { t -> RuntimeTensor in var s = t.shape; s.insert(1, at: axis); return t.reshaped(s) } : e
            for p in parts where p.elementType != first.elementType || p.shape.count != rank {
                throw KernelError("sequence elements differ in type or rank")
            }
            var shape = parts[0].shape
            shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
            let y = try io.output(0, first.elementType, shape)
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *) * first.elementSize
            var offset = 0
            for p in parts {
                var q = p.shape; q[axis] = shape[axis]
                guard q == shape else { throw KernelError("sequence element \(p.shape) does not fit \(shape)") }
                let len = p.shape[axis]
                for o in 0..<outer {
                    (y.raw + (o * shape[axis] + offset) * inner).copyMemory(from: p.raw + o * len * inner, byteCount: len * inner)
                }
                offset += len
            }
        }
    }
}
