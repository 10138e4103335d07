/// Einsum (explicit or implicit output, ellipsis with broadcasting) by one loop over every
/// index combination, and Unique (flattened or along an axis, sorted or in first-seen order,
/// with indices, inverse indices and counts). Both in Double; meant for small operands.
import Foundation
import GraphIR

enum EinsumKernels {
    static func einsum(_ node: Node) -> Kernel {
        let equation = node.string("equation", "").replacingOccurrences(of: " ", with: "")
        return { io in
            let ops = try io.inputs.indices.map { try io.input($0) }
            let sides = equation.components(separatedBy: "->")
            var terms = sides[0].components(separatedBy: ",").map { Array($0) }
            guard terms.count == ops.count else { throw KernelError("equation '\(equation)' has \(terms.count) operands, got \(ops.count)") }
            // Ellipses become the letters "0", "1", ... right-aligned across operands.
            var ellipsisRank = 0
            for (k, t) in terms.enumerated() where String(t).contains("...") {
                ellipsisRank = max(ellipsisRank, ops[k].shape.count - (t.count - 3))
            }
            let eNames = (0..<ellipsisRank).map { Character(String($0)) }
            func expand(_ t: [Character], rank: Int) -> [Character] {
                let s = String(t)
                guard let r = s.range(of: "...") else { return t }
                let n = rank - (t.count - 3)
                return Array(s[..<r.lowerBound]) + Array(eNames.suffix(max(n, 0))) + Array(s[r.upperBound...])
            }
            terms = terms.enumerated().map { expand($0.element, rank: ops[$0.offset].shape.count) }
            var size: [Character: Int] = [:]
            for (k, t) in terms.enumerated() {
                guard t.count == ops[k].shape.count else { throw KernelError("term '\(String(t))' does not fit operand rank \(ops[k].shape.count)") }
                for (d, c) in t.enumerated() {
                    let n = ops[k].shape[d]
                    if let s = size[c], s != n, s != 1, n != 1 { throw KernelError("index '\(c)' has sizes \(s) and \(n)") }
                    size[c] = max(size[c] ?? 1, n)
                }
            }
            let out: [Character]
            if sides.count > 1 { out = expand(Array(sides[1]), rank: ellipsisRank + sides[1].count - (sides[1].contains("...") ? 3 : 0)) }
            else {
                let all = terms.flatMap { $0 }
                out = eNames + all.filter { c in !eNames.contains(c) && all.filter { $0 == c }.count == 1 }.sorted()
            }
            let letters = out + Array(Set(terms.flatMap { $0 }).subtracting(out)).sorted()
            let dims = try letters.map { c -> Int in guard let s = size[c] else { throw KernelError("output index '\(c)' is not in any operand") }; return s }
            let y = try io.output(0, ops[0].elementType, Array(dims.prefix(out.count)))
            var acc = [Double](repeating: 0, count: y.count)
            let strides = terms.enumerated().map { k, t -> [Int] in
                let st = Shapes.strides(ops[k].shape)
                return letters.map { c in
                    var s = 0
                    for (d, x) in t.enumerated() where x == c && ops[k].shape[d] != 1 { s += st[d] }
                    return s
                }
            }
            let total = dims.reduce(1, *), outCount = y.count
            var counter = [Int](repeating: 0, count: letters.count)
            for flat in 0..<total {
                var rem = flat
                for d in stride(from: letters.count - 1, through: 0, by: -1) { counter[d] = rem % dims[d]; rem /= dims[d] }
                var p = 1.0
                for k in 0..<ops.count {
                    var idx = 0
                    for d in 0..<letters.count { idx += counter[d] * strides[k][d] }
                    p *= ops[k].double(at: idx)
                }
                acc[outCount == 0 ? 0 : flat / (total / max(outCount, 1))] += p
            }
            for (i, v) in acc.enumerated() { y.setDouble(v, at: i) }
        }
    }

    static func unique(_ node: Node) -> Kernel {
        let sorted = node.int("sorted", 1) != 0, axisAttr = node.attribute("axis")?.intValue.map { Int($0) }
        return { io in
            var x = try io.input(0)
            if axisAttr == nil { x = x.reshaped([x.count]) }
            let axis = try Shapes.axis(axisAttr ?? 0, rank: x.shape.count)
            let (outer, dim, inner) = IndexKernels.split(x.shape, axis)
            let slices = (0..<dim).map { k in (0..<outer).flatMap { o in (0..<inner).map { x.double(at: (o * dim + k) * inner + $0) } } }
            var firsts: [Int] = []
            for k in 0..<dim where !firsts.contains(where: { slices[$0] == slices[k] }) { firsts.append(k) }
            if sorted { firsts.sort { slices[$0].lexicographicallyPrecedes(slices[$1]) } }
            var shape = x.shape; shape[axis] = firsts.count
            let y = try io.output(0, x.elementType, shape)
            for (j, k) in firsts.enumerated() {
                for o in 0..<outer { for i in 0..<inner {
                    ScatterKernels.copyElement(y, (o * firsts.count + j) * inner + i, x, (o * dim + k) * inner + i)
                } }
            }
            if node.outputs.count > 1 && !node.outputs[1].isEmpty {
                let t = try io.output(1, .int64, [firsts.count])
                for (j, k) in firsts.enumerated() { t.setDouble(Double(k), at: j) }
            }
            if node.outputs.count > 2 && !node.outputs[2].isEmpty {
                let t = try io.output(2, .int64, [dim])
                for k in 0..<dim { t.setDouble(Double(firsts.firstIndex { slices[$0] == slices[k] } ?? 0), at: k) }
            }
            if node.outputs.count > 3 && !node.outputs[3].isEmpty {
                let t = try io.output(3, .int64, [firsts.count])
                for (j, k) in firsts.enumerated() { t.setDouble(Double(slices.filter { $0 == slices[k] }.count), at: j) }
            }
        }
    }
}
