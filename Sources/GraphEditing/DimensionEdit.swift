/// `dims`: making a dimension fixed or symbolic in a graph's declarations. A symbol
/// (`seq=128`, `seq=tokens`) is replaced in every declared type of the graph (inputs,
/// outputs, value_info); one axis of one value (`x:0=batch`) is set alone. Inference then
/// carries the change to every value downstream.
import GraphIR

enum DimensionEdit {
    /// Applies the change and returns the values whose declared type changed; throws when
    /// nothing matches (a misspelled symbol must not be a silent no-op).
    static func apply(from: Dim, to: Dim, value: String?, axis: Int?, to g: inout Graph) throws -> [String] {
        if let value {
            return [try setAxis(of: value, axis: axis, from: from, to: to, in: &g)]
        }
        guard case .symbolic(let symbol) = from else {
            throw EditError("only a symbolic dimension can be replaced everywhere; give VALUE:AXIS=... to change one axis")
        }
        var changed: [String] = []
        func replaced(_ info: ValueInfo) -> ValueInfo {
            guard case .tensor(let e, let shape?)? = info.type, shape.dims.contains(.symbolic(symbol)) else { return info }
            var out = info
            var s = shape
            s.dims = s.dims.map { $0 == .symbolic(symbol) ? to : $0 }
            out.type = .tensor(e, s)
            changed.append(info.name)
            return out
        }
        g.setInputs(g.inputs.map(replaced))
        g.setOutputs(g.outputs.map(replaced))
        for info in g.valueInfo {
            let r = replaced(info)
            if r != info { g.setValueInfo(r) }
        }
        guard !changed.isEmpty else {
            throw EditError("no declared shape in the graph uses the dimension '\(symbol)'"
                + (symbols(of: g).isEmpty ? "" : "; declared symbols: " + symbols(of: g).joined(separator: ", ")))
        }
        return changed
    }

    /// The symbolic dimensions the graph's declarations use, sorted (for error messages and
    /// completion).
    static func symbols(of g: Graph) -> [String] {
        var out = Set<String>()
        for info in g.inputs + g.outputs + g.valueInfo {
            for d in info.type?.shape?.dims ?? [] { if case .symbolic(let s) = d { out.insert(s) } }
        }
        return out.sorted()
    }

    private static func setAxis(of name: String, axis: Int?, from: Dim, to: Dim, in g: inout Graph) throws -> String {
        guard let type = g.type(of: name) else { throw EditError("'\(name)' has no declared type; declare it with `type` first") }
        guard case .tensor(let e, let shape?) = type else { throw EditError("'\(name)' has no declared shape") }
        var s = shape
        let axes: [Int]
        if let axis {
            let a = axis < 0 ? axis + s.rank : axis
            guard s.dims.indices.contains(a) else { throw EditError("'\(name)' has rank \(s.rank); axis \(axis) is out of range") }
            axes = [a]
        } else {
            axes = s.dims.indices.filter { s.dims[$0] == from }
            guard !axes.isEmpty else { throw EditError("'\(name)' \(shape) has no dimension \(from)") }
        }
        for a in axes { s.dims[a] = to }
        let newType = ValueType.tensor(e, s)
        if let i = g.inputs.firstIndex(where: { $0.name == name }) {
            var ins = g.inputs
            ins[i].type = newType
            g.setInputs(ins)
        } else if let i = g.outputs.firstIndex(where: { $0.name == name }) {
            var outs = g.outputs
            outs[i].type = newType
            g.setOutputs(outs)
        } else {
            g.setValueInfo(ValueInfo(name: name, type: newType))
        }
        return name
    }
}
