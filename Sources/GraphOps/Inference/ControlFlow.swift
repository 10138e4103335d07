/// Rules for control flow (If, Loop, Scan: bodies inferred with the outer scope visible),
/// sequences and optionals. An If whose condition is known takes that branch (the other is
/// inferred too, for its own values); otherwise both branches are inferred and their outputs
/// merged (sizes that differ become unknown).
import GraphIR

enum ControlFlowRules {
    static func register(_ t: inout [String: InferenceRule]) {
        t["If"] = ifRule
        t["Loop"] = loop
        t["Scan"] = scan
        t["SequenceEmpty"] = sequenceEmpty
        t["SequenceConstruct"] = sequenceConstruct
        t["SequenceInsert"] = sequenceInsert
        t["SequenceErase"] = sequenceErase
        t["SequenceAt"] = sequenceAt
        t["SequenceLength"] = sequenceLength
        t["SplitToSequence"] = splitToSequence
        t["ConcatFromSequence"] = concatFromSequence
        t["Optional"] = optional
        t["OptionalHasElement"] = optionalHasElement
        t["OptionalGetElement"] = optionalGetElement
    }

    static func sequenceEmpty(_ c: RuleContext) throws -> [ValueFacts?] {
        let code = c.attrInt("dtype") ?? 1
        return [ValueFacts(type: .sequence(.tensor(ElementType(rawValue: Int32(truncatingIfNeeded: code)) ?? .float, nil)))]
    }

    static func sequenceConstruct(_ c: RuleContext) throws -> [ValueFacts?] {
        var m: SymType?
        for i in 0..<c.inputCount { let f = try c.facts(i); m = i == 0 ? f.type : merge(m, f.type) }
        return [ValueFacts(type: .sequence(m))]
    }

    static func sequenceInsert(_ c: RuleContext) throws -> [ValueFacts?] {
        guard case .sequence(let e)? = try c.facts(0).type else { throw InferenceFailure("input 0 is not a sequence") }
        return [ValueFacts(type: .sequence(merge(e, try c.facts(1).type)))]
    }

    static func sequenceErase(_ c: RuleContext) throws -> [ValueFacts?] {
        [ValueFacts(type: try c.facts(0).type)]
    }

    static func sequenceAt(_ c: RuleContext) throws -> [ValueFacts?] {
        guard case .sequence(let e)? = try c.facts(0).type else { throw InferenceFailure("input 0 is not a sequence") }
        return [ValueFacts(type: e)]
    }

    static func sequenceLength(_ c: RuleContext) throws -> [ValueFacts?] {
        _ = try c.facts(0)
        return [.tensor(.int64, [])]
    }

    static func optional(_ c: RuleContext) throws -> [ValueFacts?] {
        if c.has(0) { return [ValueFacts(type: .optional(try c.facts(0).type))] }
        if case .typeProto(let t)? = c.attr("type") { return [ValueFacts(type: .optional(SymType(t)))] }
        throw InferenceFailure("neither an input nor a 'type' attribute")
    }

    static func optionalHasElement(_ c: RuleContext) throws -> [ValueFacts?] {
        [.tensor(.bool, [])]
    }

    static func optionalGetElement(_ c: RuleContext) throws -> [ValueFacts?] {
        let f = try c.facts(0)
        if case .optional(let e)? = f.type { return [ValueFacts(type: e)] }
        return [f]
    }

    /// The common type of two values (dims that differ become unknown; different ranks give
    /// unknown rank); nil when they are of different kinds or element types.
    static func merge(_ a: SymType?, _ b: SymType?) -> SymType? {
        guard let a, let b else { return nil }
        switch (a, b) {
        case (.tensor(let ea, let da), .tensor(let eb, let db)):
            guard ea == eb else { return nil }
            guard let da, let db, da.count == db.count else { return .tensor(ea, nil) }
            return .tensor(ea, zip(da, db).map { $0 == $1 ? $0 : nil })
        case (.sequence(let x), .sequence(let y)): return .sequence(merge(x, y))
        case (.optional(let x), .optional(let y)): return .optional(merge(x, y))
        default: return a == b ? a : nil
        }
    }

    /// Contents both branches agree on: equal integer entries stay, differing ones become
    /// unknown (partly known contents).
    static func mergeValues(_ a: KnownValue?, _ b: KnownValue?) -> KnownValue? {
        if a == b { return a }
        func integral(_ v: KnownValue?) -> [SymDim?]? {
            switch v {
            case .ints(let xs)?: return xs.map { Optional($0) }
            case .partialInts(let xs)?: return xs
            default: return nil  // float contents that differ: unknown
            }
        }
        guard let x = integral(a), let y = integral(b), x.count == y.count else { return nil }
        return KnownValue.ints(partial: zip(x, y).map { $0 == $1 ? $0 : nil })
    }

    static func ifRule(_ c: RuleContext) throws -> [ValueFacts?] {
        if let cond = c.value(0)?.constantInts, cond.count == 1 {
            // The branch not taken is still inferred, for the types of its own values (a
            // viewer or an edit may look inside it); its outputs do not matter.
            let taken = cond[0] != 0 ? "then_branch" : "else_branch"
            c.inferUnusedBody(cond[0] != 0 ? "else_branch" : "then_branch", [])
            return try c.inferBody(taken, [])
        }
        let a = try c.inferBody("then_branch", [])
        let b = try c.inferBody("else_branch", [])
        guard a.count == b.count else { throw InferenceFailure("branches have \(a.count) and \(b.count) outputs") }
        return zip(a, b).map { x, y in
            guard let t = merge(x?.type, y?.type) else { return nil }
            return ValueFacts(type: t, value: mergeValues(x?.value, y?.value))
        }
    }

    static func loop(_ c: RuleContext) throws -> [ValueFacts?] {
        let carried = max(c.inputCount - 2, 0)
        var bodyInputs: [ValueFacts?] = [.tensor(.int64, []), .tensor(.bool, [])]
        for i in 0..<carried {
            // Carried values change across iterations: only their types (not contents) hold.
            bodyInputs.append(c.inputs[i + 2].map { ValueFacts(type: $0.type) })
        }
        let outs = try c.inferBody("body", bodyInputs)
        var result: [ValueFacts?] = []
        for i in 0..<carried {
            let initial = c.inputs[i + 2]?.type
            let body = i + 1 < outs.count ? outs[i + 1]?.type : nil
            result.append(merge(initial, body).map { ValueFacts(type: $0) })
        }
        // Scan outputs stack per iteration: M iterations when no condition can stop early.
        var trips: SymDim?
        if !c.has(1), let m = c.value(0)?.dims?.first { trips = m }
        for k in (1 + carried)..<max(outs.count, 1 + carried) {
            guard case .tensor(let e, let d)? = outs[k]?.type else { result.append(nil); continue }
            result.append(.tensor(e, d.map { [trips] + $0 }))
        }
        return result
    }

    /// Opset 8 Scan: input 0 is the optional `sequence_lens`, every other input and output
    /// has a leading batch axis, scan inputs and outputs have the sequence axis 1. The body
    /// sees states without the batch axis and scan slices without both.
    static func scan8(_ c: RuleContext, scanInputs m: Int) throws -> [ValueFacts?] {
        let states = c.inputCount - 1 - m
        guard states >= 0 else { throw InferenceFailure("num_scan_inputs \(m) leaves no room for sequence_lens") }
        var bodyInputs: [ValueFacts?] = []
        var batch: SymDim?, length: SymDim?
        for i in 1..<c.inputCount {
            let (e, d) = try c.tensor(i)
            let isScan = i > states
            guard let d else { bodyInputs.append(.tensor(e, nil)); continue }
            guard d.count >= (isScan ? 2 : 1) else { throw InferenceFailure("input \(i) has rank \(d.count), too small for Scan") }
            if batch == nil { batch = d[0] }
            if isScan && length == nil { length = d[1] }
            bodyInputs.append(.tensor(e, Array(d.dropFirst(isScan ? 2 : 1))))
        }
        let outs = try c.inferBody("body", bodyInputs)
        var result: [ValueFacts?] = []
        for k in 0..<max(outs.count, states) {
            guard k < outs.count, case .tensor(let e, let d)? = outs[k]?.type else {
                result.append(k < states ? c.inputs[k + 1].map { ValueFacts(type: $0.type) } : nil)
                continue
            }
            result.append(.tensor(e, d.map { (k < states ? [batch] : [batch, length]) + $0 }))
        }
        return result
    }

    static func scan(_ c: RuleContext) throws -> [ValueFacts?] {
        guard let m = c.attrInt("num_scan_inputs"), m >= 0, Int(m) <= c.inputCount else {
            throw InferenceFailure("attribute 'num_scan_inputs' is missing or too large")
        }
        guard c.opset >= 9 else { return try scan8(c, scanInputs: Int(m)) }
        let states = c.inputCount - Int(m)
        let inAxes = c.ints("scan_input_axes") ?? Array(repeating: 0, count: Int(m))
        var bodyInputs: [ValueFacts?] = []
        for i in 0..<states { bodyInputs.append(c.inputs[i].map { ValueFacts(type: $0.type) }) }
        var length: SymDim?
        for j in 0..<Int(m) {
            let (e, d) = try c.tensor(states + j)
            guard let d else { bodyInputs.append(.tensor(e, nil)); continue }
            let a = try c.axis(j < inAxes.count ? inAxes[j] : 0, rank: d.count)
            if j == 0 { length = d[a] }
            var slice = d
            slice.remove(at: a)
            bodyInputs.append(.tensor(e, slice))
        }
        let outs = try c.inferBody("body", bodyInputs)
        var result: [ValueFacts?] = []
        for i in 0..<states { result.append(merge(c.inputs[i]?.type, i < outs.count ? outs[i]?.type : nil).map { ValueFacts(type: $0) }) }
        let outAxes = c.ints("scan_output_axes") ?? []
        for k in states..<max(outs.count, states) {
            guard case .tensor(let e, let d)? = outs[k]?.type else { result.append(nil); continue }
            guard var d else { result.append(.tensor(e, nil)); continue }
            let j = k - states
            let a = try c.axis(j < outAxes.count ? outAxes[j] : 0, rank: d.count + 1)
            d.insert(length, at: a)
            result.append(.tensor(e, d))
        }
        return result
    }

    static func splitToSequence(_ c: RuleContext) throws -> [ValueFacts?] {
        let (e, d) = try c.tensor(0)
        guard let d else { return [ValueFacts(type: .sequence(.tensor(e, nil)))] }
        let axis = try c.axis(try c.int("axis"), rank: d.count)
        var part = d
        if c.has(1) {
            let (_, sd) = try c.tensor(1)
            if sd?.count == 0, let k = c.value(1)?.dims?.first, let n = d[axis]?.intValue, let kk = k.intValue, kk > 0, n % kk == 0 {
                part[axis] = k
            } else { part[axis] = sd?.count == 0 ? c.value(1)?.dims?.first : nil }
            if sd?.count != 0 { part[axis] = nil }
        } else if try c.int("keepdims") != 0 {
            part[axis] = SymDim(1)
        } else { part.remove(at: axis) }
        return [ValueFacts(type: .sequence(.tensor(e, part)))]
    }

    static func concatFromSequence(_ c: RuleContext) throws -> [ValueFacts?] {
        guard case .sequence(let el)? = try c.facts(0).type, case .tensor(let e, let d)? = el else {
            throw InferenceFailure("input 0 is not a sequence of tensors")
        }
        guard var d else { return [.tensor(e, nil)] }
        let newAxis = c.attrInt("new_axis") ?? 0
        let a = try c.axis(try c.int("axis"), rank: d.count + (newAxis != 0 ? 1 : 0))
        if newAxis != 0 { d.insert(nil, at: a) } else { d[a] = nil }
        return [.tensor(e, d)]
    }
}
