/// `SchemaValidator`: checks every node of a model (main graph, If/Loop/Scan bodies, local
/// functions) against the schema in force at the opset the model imports: unknown domain or op
/// (with the closest valid names), arity, required inputs, attribute names (closest valid
/// names), kinds, required attributes and legal values, and element types against the type
/// constraints wherever the types are declared. Structural checks that need no op knowledge
/// stay in GraphIR (`Graph.validate()`).

import GraphIR

/// Checks nodes against an `OpRegistry`.
public struct SchemaValidator: Sendable {
    /// The schemas checked against.
    public var registry: OpRegistry

    /// Creates a validator over `registry` (the bundled one by default).
    public init(registry: OpRegistry = .builtIn) { self.registry = registry }

    /// Every schema problem of the model, in graph order (main graph first, then functions).
    public func validate(_ model: Model) -> [SchemaProblem] {
        let local = Set(model.functions.map { "\(OpRegistry.normalize(domain: $0.domain))::\($0.name)" })
        var out: [SchemaProblem] = []
        validate(model.graph, imports: model.opsetImports, localFunctions: local, scope: "", into: &out)
        for f in model.functions {
            let imports = f.opsetImports.isEmpty ? model.opsetImports : f.opsetImports
            validate(f.body, imports: imports, localFunctions: local, scope: "function \(f.name)", into: &out)
        }
        return out
    }

    private func validate(_ graph: Graph, imports: [OpsetImport], localFunctions: Set<String>, scope: String,
                          into out: inout [SchemaProblem]) {
        for n in graph.nodes {
            out += check(n, in: graph, imports: imports, localFunctions: localFunctions, scope: scope)
            for sub in n.labeledSubgraphs {
                let inner = (scope.isEmpty ? "" : scope + "/") + "\(n.id).\(sub.label)"
                validate(sub.graph, imports: imports, localFunctions: localFunctions, scope: inner, into: &out)
            }
        }
    }

    /// The schema problems of one node of `graph` (types are looked up in `graph`).
    /// `localFunctions` holds `domain::name` of model-local functions, whose calls have no schema.
    public func check(_ n: Node, in graph: Graph, imports: [OpsetImport], localFunctions: Set<String> = [],
                      scope: String = "") -> [SchemaProblem] {
        let domain = OpRegistry.normalize(domain: n.domain)
        if localFunctions.contains("\(domain)::\(n.opType)") { return [] }
        var out: [SchemaProblem] = []
        func problem(_ s: SchemaProblem.Severity, _ k: SchemaProblem.Kind, _ location: String, expected: String,
                     found: String, suggestions: [String] = []) {
            out.append(SchemaProblem(severity: s, kind: k, node: n, scope: scope, location: location,
                                     expected: expected, found: found, suggestions: suggestions))
        }
        guard registry.knows(domain: domain) else {
            let known = registry.domains.map(OpRegistry.displayName(domain:)).joined(separator: ", ")
            problem(.warning, .unknownDomain, "op", expected: "a domain with known schemas (\(known)); not checked",
                    found: "domain '\(n.domain)'")
            return out
        }
        let versions = registry.versions(domain: domain, opType: n.opType)
        guard let newest = versions.last else {
            problem(.error, .unknownOp, "op", expected: "an op of \(OpRegistry.displayName(domain: domain))",
                    found: "'\(n.opType)'", suggestions: registry.closestOpTypes(to: n.opType, domain: domain))
            return out
        }
        var schema = newest
        if let opset = OpRegistry.opsetVersion(for: domain, in: imports) {
            guard let s = registry.schema(domain: domain, opType: n.opType, opsetVersion: opset) else {
                problem(.error, .opNotInOpset, "op",
                        expected: "opset \(versions[0].sinceVersion) or later (\(n.opType) first appears there)",
                        found: "opset \(opset) imported for \(OpRegistry.displayName(domain: domain))")
                return out
            }
            schema = s
        } else if domain != "tflite" {
            // TFLite has no opset imports; every other domain a node uses must be imported.
            problem(.error, .missingOpsetImport, "op",
                    expected: "an opset import for \(OpRegistry.displayName(domain: domain))",
                    found: "none (checked against \(newest.qualifiedName))")
        }
        if schema.isDeprecated {
            problem(.warning, .deprecatedOp, "op", expected: "an op that is not deprecated",
                    found: "\(schema.qualifiedName), deprecated")
        }
        let report: Report = { problem($0, $1, $2, expected: $3, found: $4, suggestions: $5) }
        checkArity(n, schema, report)
        checkAttributes(n, schema, report)
        checkTypes(n, schema, graph) { severity, kind, location, expected, found, value in
            problem(severity, kind, location, expected: expected, found: found)
            out[out.count - 1].value = value
        }
        return out
    }

    /// Records a problem: severity, kind, location, expected, found, suggestions.
    private typealias Report = (SchemaProblem.Severity, SchemaProblem.Kind, String, String, String, [String]) -> Void
    /// Records a type problem: severity, kind, location, expected, found, and the value concerned.
    private typealias ValueReport = (SchemaProblem.Severity, SchemaProblem.Kind, String, String, String, String) -> Void

    private func checkArity(_ n: Node, _ s: OpSchema,
                            _ problem: Report) {
        let ins = n.inputs.count
        if ins < s.minInputs {
            problem(.error, .tooFewInputs, "inputs", "at least \(s.minInputs) (\(names(s.inputs)))", "\(ins)", [])
        } else if let m = s.maxInputs, ins > m {
            problem(.error, .tooManyInputs, "inputs", "at most \(m) (\(names(s.inputs)))", "\(ins)", [])
        }
        for (i, name) in n.inputs.enumerated() where name.isEmpty && i < s.inputs.count && s.inputs[i].option == .single {
            problem(.error, .missingRequiredInput, "input \(i) (\(s.inputs[i].name))", "a value (the input is required)",
                    "an empty name", [])
        }
        let outs = n.outputs.count
        if outs < s.minOutputs {
            problem(.error, .tooFewOutputs, "outputs", "at least \(s.minOutputs) (\(names(s.outputs)))", "\(outs)", [])
        } else if let m = s.maxOutputs, outs > m {
            problem(.error, .tooManyOutputs, "outputs", "at most \(m) (\(names(s.outputs)))", "\(outs)", [])
        }
    }

    private func names(_ params: [FormalParameter]) -> String {
        params.isEmpty ? "none" : params.map { p in
            switch p.option {
            case .single: return p.name
            case .optional: return p.name + "?"
            case .variadic: return p.name + "..."
            }
        }.joined(separator: ", ")
    }

    private func checkAttributes(_ n: Node, _ s: OpSchema,
                                 _ problem: Report) {
        for attr in n.attributes {
            let location = "attribute \(attr.name)"
            guard let a = s.attribute(attr.name) else {
                let valid = s.attributes.map(\.name)
                let expected = valid.isEmpty ? "no attributes (\(s.qualifiedName) has none)"
                    : "an attribute of \(s.qualifiedName) (\(valid.joined(separator: ", ")))"
                problem(.error, .unknownAttribute, location, expected, "'\(attr.name)'",
                        closestNames(to: attr.name, among: valid))
                continue
            }
            // A function body's reference to a caller attribute has no value of its own.
            if attr.refAttrName != nil { continue }
            if let kind = AttributeKind(of: attr.value), kind != a.kind {
                problem(.error, .attributeType, location, "a value of kind \(a.kind.rawValue)",
                        "kind \(kind.rawValue) (\(short(attr.value.displayString)))", [])
                continue
            }
            guard let legal = a.legalValues else { continue }
            let given: [String]
            switch attr.value {
            case .string: given = [attr.value.stringValue ?? ""]
            case .strings(let list): given = list.map { String(decoding: $0, as: UTF8.self) }
            default: given = []
            }
            for v in given where !legal.contains(v) {
                problem(.error, .illegalValue, location, "one of " + legal.joined(separator: ", "), "'\(short(v))'",
                        closestNames(to: v, among: legal))
            }
        }
        for a in s.attributes where a.isRequired && n.attribute(a.name) == nil {
            problem(.error, .missingAttribute, "attribute \(a.name)", "a value (required, kind \(a.kind.rawValue))",
                    "none", [])
        }
    }

    private func checkTypes(_ n: Node, _ s: OpSchema, _ graph: Graph,
                            _ problem: ValueReport) {
        var bound: [String: (type: String, value: String)] = [:]
        func visit(_ names: ValueNames, isInput: Bool) {
            for (i, name) in names.enumerated() where !name.isEmpty {
                guard let formal = isInput ? s.formalInput(at: i) : s.formalOutput(at: i),
                      let t = graph.type(of: name), let ts = onnxTypeString(t) else { continue }
                let location = "\(isInput ? "input" : "output") \(i) (\(formal.name))"
                let allowed = s.allowedTypes(of: formal)
                if !allowed.types.contains(ts) {
                    let constraint = s.typeConstraint(formal.typeConstraint) != nil ? formal.typeConstraint + " in " : ""
                    problem(.error, isInput ? .inputType : .outputType, location,
                            constraint + typeList(allowed.types), "\(ts) ('\(name)')", name)
                    continue
                }
                // A heterogeneous variadic parameter lets each value take its own type.
                guard s.typeConstraint(formal.typeConstraint) != nil,
                      formal.option != .variadic || formal.isHomogeneous else { continue }
                if let prev = bound[formal.typeConstraint] {
                    if prev.type != ts {
                        problem(.error, .typeConstraintMismatch, location,
                                "\(formal.typeConstraint) = \(prev.type), as '\(prev.value)' binds it", "\(ts) ('\(name)')", name)
                    }
                } else {
                    bound[formal.typeConstraint] = (ts, name)
                }
            }
        }
        visit(n.inputs, isInput: true)
        visit(n.outputs, isInput: false)
    }

    private func short(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }

    private func typeList(_ types: [String]) -> String {
        let shown = types.prefix(10).map { t -> String in
            t.hasPrefix("tensor(") && t.hasSuffix(")") ? String(t.dropFirst(7).dropLast()) : t
        }
        let allTensors = types.allSatisfy { $0.hasPrefix("tensor(") }
        let text = (allTensors ? "tensor of " : "") + shown.joined(separator: ", ")
        return types.count > 10 ? text + ", ... (\(types.count) types)" : text
    }
}

/// The ONNX type string of a value type (`tensor(float)`, `seq(tensor(int64))`,
/// `map(string, float)`), or nil when part of it is unknown (nothing to check then).
public func onnxTypeString(_ t: ValueType) -> String? {
    switch t {
    case .tensor(let e, _):
        return e == .undefined ? nil : "tensor(\(e.name))"
    case .sparseTensor(let e, _):
        return e == .undefined ? nil : "sparse_tensor(\(e.name))"
    case .sequence(let inner):
        return inner.flatMap(onnxTypeString).map { "seq(\($0))" }
    case .optional(let inner):
        return inner.flatMap(onnxTypeString).map { "optional(\($0))" }
    case .map, .opaque:
        // Schemas spell maps inconsistently (`map(int64, float)` for a map of float tensors);
        // left unchecked rather than guessed.
        return nil
    }
}
