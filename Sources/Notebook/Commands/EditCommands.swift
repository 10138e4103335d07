// Edit commands: add, remove, bypass, clone, connect, disconnect, set, rename. Each builds
// `GraphEdit`s through a transaction (GraphEditing) and commits them as one history step,
// checked against the op schemas and re-inferred; an edit that breaks the graph is refused
// with the list of what it broke, unless `--force`.

import Foundation
import GraphEditing
import GraphIR
import GraphOps

enum EditCommands {
    static let family = "Editing"
    static let force = Flag("force", "keep the result even if it breaks the graph (`check` then lists what is open)")

    /// The specs, with attribute completion attached to `set` and `add`.
    static let commands: [CommandSpec] = specs.map { spec in
            var s = spec
            if s.name == "set" {
                s.extraCompletion = EditSupport.attributeCompletion { session, word in
                    guard let e = session.graphs.current, case .node(let i) = e.catalog.lookup(word), let n = e.catalog.node(i) else { return nil }
                    return (n.opType, OpRegistry.normalize(domain: n.domain))
                }
            } else if s.name == "add" {
                s.extraCompletion = EditSupport.attributeCompletion { _, word in (word, "") }
            }
            return s
        }

    static let specs: [CommandSpec] = [
        CommandSpec(
            name: "add", family: family,
            summary: "Add a node (attributes as key=value; after=NODE inserts it on that node's output)",
            usage: "add OP [inputs=[...]] [outputs=[...]] [name=NAME] [domain=D] [after=NODE] [ATTR=VALUE ...] [--force]",
            positionals: [Parameter("op", .opType, "the operator type, e.g. Relu", required: true)],
            options: [Parameter("inputs", .list(.string), "input values in order (\"\" omits an optional one)"),
                      Parameter("outputs", .list(.string), "output value names", default: "fresh names"),
                      Parameter("name", .string, "the node name", default: "none (drawn as OP_ID)"),
                      Parameter("domain", .string, "the operator domain", default: "ai.onnx"),
                      Parameter("after", .node, "insert on this node's first output: the new node reads it and takes over its consumers")],
            extraOptions: .any, extraOptionsHelp: "an attribute of the op, typed by its schema (alpha=0.2, perm=[0,2,1])",
            flags: [force],
            details: "The node is placed after its producers. Output names default to fresh ones (OP_out0, ...). "
                + "The schema checks the attributes and the inputs' types; shapes are re-inferred downstream.",
            examples: ["add Relu after=conv1", "add LeakyRelu inputs=[x] alpha=0.1", "add Add inputs=[a, b] outputs=[sum] name=residual"], changesState: true
        ) { session, inv, out in
            let op = try inv.requiredString("op")
            let domain = OpRegistry.normalize(domain: inv.string("domain") ?? "")
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let schema = EditSupport.schema(op, domain: domain, entry.model)
                guard schema != nil || OpRegistry.builtIn.latest(domain: domain, opType: op) != nil || !domain.isEmpty else {
                    let names = OpRegistry.builtIn.opTypes(in: domain)
                    let near = closestNames(to: op, among: names)
                    throw inv.error(.value, "unknown op '\(op)'" + (near.isEmpty ? "; `help add` and Tab list ops"
                        : "; did you mean " + near.map { "'\($0)'" }.joined(separator: ", ") + "?"), at: "op")
                }
                var attributes: [Attribute] = []
                for (key, arg) in inv.extra {
                    if let v = try EditSupport.attributeValue(key, arg.value, schema: schema, op: op, inv) { attributes.append(Attribute(key, v)) }
                }
                var inputs = inv.list("inputs")?.map(\.displayString) ?? []
                var consumers: [ValueUse] = []
                var edge = ""
                if inv.value("after") != nil {
                    let t = try EditSupport.target("after", entry, inv)
                    guard t.scope.isEmpty else { throw inv.error(.value, "after= takes a node of the main graph", at: "after") }
                    guard let first = t.node.outputs.first(where: { !$0.isEmpty }) else {
                        throw inv.error(.value, "\(t.id) has no output to insert after", at: "after")
                    }
                    edge = first
                    if inputs.isEmpty { inputs = [first] }
                    consumers = t.graph.uses(of: first)
                }
                let outputs = inv.list("outputs")?.map(\.displayString) ?? []
                let effect = try tx.apply(.addNode(NewNode(opType: op, domain: domain, name: inv.string("name") ?? "", inputs: inputs,
                                                           outputs: outputs, attributes: attributes)))
                guard let id = effect.addedNodes.first, let added = tx.model.graph.node(id) else { throw EditError("the node was not added") }
                for use in consumers where use.node != id {
                    guard case .input(let k) = use.slot else { continue }
                    try tx.apply(.setInput(node: use.node, index: k, value: added.outputs[0]))
                }
                return "Added \(id) \(added.displayName) (\(op))" + (edge.isEmpty ? "" : " on '\(edge)'")
                    + ": \(added.inputs.array.joined(separator: ", ")) -> \(added.outputs.array.joined(separator: ", "))"
            }
        },
        CommandSpec(
            name: "remove", family: family,
            summary: "Remove a node (--cascade: and everything downstream of it)",
            usage: "remove NODE [--cascade] [--force]",
            positionals: [Parameter("node", .node, "a node name or id (n12)", required: true)],
            flags: [Flag("cascade", "also remove every node that reads its outputs, transitively, and graph outputs they made"), force],
            details: "Without --cascade a node whose outputs are still used is refused (they would dangle); `bypass` "
                + "removes a node and connects its input to its consumers.",
            examples: ["remove n12", "remove /head/Softmax --cascade"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let t = try EditSupport.target("node", entry, inv)
                guard inv.has("cascade") else {
                    try tx.apply(.removeNode(t.id), in: t.scope)
                    return "Removed \(t.id) \(t.node.displayName)"
                }
                // Everything downstream, removed consumers first so no step leaves a dangling use.
                var doomed: [NodeID] = [t.id]
                var seen: Set<NodeID> = [t.id]
                var i = 0
                while i < doomed.count {
                    for s in t.graph.successors(of: doomed[i]) where seen.insert(s).inserted { doomed.append(s) }
                    i += 1
                }
                let order = doomed.sorted { (t.graph.position(of: $0) ?? 0) > (t.graph.position(of: $1) ?? 0) }
                var outputsGone: [String] = []
                for id in order {
                    for o in t.graph.node(id)?.outputs.array ?? [] where t.graph.outputs.contains(where: { $0.name == o }) {
                        outputsGone.append(o)
                        try tx.apply(.removeOutput(o), in: t.scope)
                    }
                }
                for id in order { try tx.apply(.removeNode(id), in: t.scope) }
                return "Removed \(t.id) \(t.node.displayName) and \(order.count - 1) node\(order.count == 2 ? "" : "s") downstream"
                    + (outputsGone.isEmpty ? "" : " (graph outputs removed: \(outputsGone.joined(separator: ", ")))")
            }
        },
        CommandSpec(
            name: "bypass", family: family,
            summary: "Remove a node and connect its input to its consumers",
            usage: "bypass NODE [input=K] [--force]",
            positionals: [Parameter("node", .node, "a node name or id", required: true)],
            options: [Parameter("input", .int, "which input takes the node's place", default: "0")],
            flags: [force],
            details: "Every use of the node's first output (graph outputs included) reads the chosen input instead. "
                + "Types must agree, or the edit is refused (Cast, Identity and Dropout are typical candidates).",
            examples: ["bypass /dropout/Dropout", "bypass n7 input=1"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let t = try EditSupport.target("node", entry, inv)
                let k = inv.int("input") ?? 0
                guard t.node.inputs.indices.contains(k), !t.node.inputs[k].isEmpty else {
                    throw inv.error(.value, "\(t.id) \(t.node.displayName) has no input \(k) (it has \(t.node.inputs.count))", at: "input")
                }
                let outputs = t.node.outputs.array.filter { !$0.isEmpty }
                guard let o = outputs.first else { throw inv.error(.value, "\(t.id) has no output to bypass", at: "node") }
                let graphOutputs = Set(t.graph.outputs.map(\.name))
                let extra = outputs.dropFirst().filter { t.graph.useCount(of: $0) != 0 || graphOutputs.contains($0) }
                guard extra.isEmpty else {
                    throw inv.error(.value, "\(t.id) \(t.node.displayName): outputs \(extra.joined(separator: ", ")) are used too; bypass connects one", at: "node")
                }
                let source = t.node.inputs[k]
                try tx.apply(.replaceUses(of: o, with: source), in: t.scope)
                try tx.apply(.removeNode(t.id), in: t.scope)
                return "Bypassed \(t.id) \(t.node.displayName): its consumers read '\(source)'"
            }
        },
        CommandSpec(
            name: "clone", family: family,
            summary: "Copy a node or a whole module with fresh names",
            usage: "clone NODE|PATH [--force]",
            positionals: [Parameter("target", .nodeOrPath, "a node, or a hierarchy path such as /encoder/layer.0", required: true)],
            flags: [force],
            details: "The copy reads the same inputs from outside; values made inside get fresh names, so the copy's outputs "
                + "are new values nothing reads yet (connect them with `connect`). Each copied node's provenance names its original.",
            examples: ["clone n12", "clone /encoder/layer.0"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let text = try inv.requiredString("target")
                let g = entry.graph
                var originals: [Node]
                if let path = entry.hierarchyPath(text), !path.isEmpty, entry.catalog.lookup(text) == .none {
                    let ids = Set(entry.hierarchy.nodes(under: path))
                    originals = g.nodes.filter { ids.contains($0.id) }
                    guard !originals.isEmpty else { throw inv.error(.value, "'\(text)' holds no nodes of the main graph", at: "target") }
                } else {
                    let t = try EditSupport.target("target", entry, inv)
                    guard t.scope.isEmpty else { throw inv.error(.value, "clone takes nodes of the main graph", at: "target") }
                    originals = [t.node]
                }
                var renamed: [String: String] = [:]
                var made: [NodeID] = []
                for n in originals {
                    let outs = n.outputs.array.map { o -> String in
                        guard !o.isEmpty else { return "" }
                        let fresh = tx.freshValueName(o + "_clone")
                        renamed[o] = fresh
                        return fresh
                    }
                    let ins = n.inputs.array.map { renamed[$0] ?? $0 }
                    let name = n.name.isEmpty ? "" : tx.freshNodeName(n.name + "_clone")
                    let e = try tx.apply(.addNode(NewNode(opType: n.opType, domain: n.domain, name: name, inputs: ins, outputs: outs,
                                                          attributes: n.attributes, sources: [n.id], annotations: n.annotations)))
                    made += e.addedNodes
                }
                let outs = originals.flatMap(\.outputs.array).compactMap { renamed[$0] }
                    .filter { v in tx.model.graph.useCount(of: v) == 0 }
                return "Cloned \(originals.count) node\(originals.count == 1 ? "" : "s") as \(made.first.map(\.description) ?? "")"
                    + (made.count > 1 ? "...\(made.last!.description)" : "") + "; new outputs: " + outs.prefix(6).joined(separator: ", ")
                    + (outs.count > 6 ? ", ..." : "")
            }
        },
        CommandSpec(
            name: "connect", family: family,
            summary: "Make a node's input read a value",
            usage: "connect VALUE NODE:INPUT [--force]",
            positionals: [Parameter("value", .string, "the value to read", required: true),
                          Parameter("target", .string, "NODE:INPUT, e.g. n12:1 or /attn/MatMul:0 (INPUT = count appends)", required: true)],
            flags: [force],
            examples: ["connect x n12:0", "connect /encoder/out /head/MatMul:0"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let value = try inv.requiredString("value")
                let (t, k) = try inputSlot(entry, inv)
                guard t.graph.producer(of: value) != .none || inv.has("force") else {
                    throw inv.error(.lookup, "no value '\(value)' in \(entry.name)"
                        + (Suggest.closest(to: value, in: t.graph.valueNames).map { "; did you mean '\($0)'?" } ?? ""), at: "value")
                }
                let old = k < t.node.inputs.count ? t.node.inputs[k] : ""
                try tx.apply(.setInput(node: t.id, index: k, value: value), in: t.scope)
                return "Connected '\(value)' to \(t.id) \(t.node.displayName) input \(k)" + (old.isEmpty ? "" : " (was '\(old)')")
            }
        },
        CommandSpec(
            name: "disconnect", family: family,
            summary: "Leave a node's input empty (an omitted optional input)",
            usage: "disconnect NODE:INPUT [--force]",
            positionals: [Parameter("target", .string, "NODE:INPUT, e.g. n12:2", required: true)],
            flags: [force],
            details: "A required input cannot be left empty unless --force is given (a mid-rewiring state).",
            examples: ["disconnect n12:2", "disconnect /attn/Softmax:0 --force"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let (t, k) = try inputSlot(entry, inv)
                guard k < t.node.inputs.count else { throw inv.error(.value, "\(t.id) has \(t.node.inputs.count) inputs", at: "target") }
                try tx.apply(.setInput(node: t.id, index: k, value: ""), in: t.scope)
                return "Disconnected \(t.id) \(t.node.displayName) input \(k) (was '\(t.node.inputs[k])')"
            }
        },
        CommandSpec(
            name: "set", family: family,
            summary: "Set node attributes (None removes one)",
            usage: "set NODE ATTR=VALUE ... [--force]",
            positionals: [Parameter("node", .node, "a node name or id", required: true)],
            extraOptions: .any, extraOptionsHelp: "an attribute, typed by the op's schema; Tab lists legal values",
            flags: [force],
            examples: ["set n12 alpha=0.2", "set /Resize mode=\"linear\"", "set n3 pads=[1,1,1,1]", "set n5 axis=None"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let t = try EditSupport.target("node", entry, inv)
                guard !inv.extra.isEmpty else { throw inv.error(.command, "set needs ATTR=VALUE; usage: set NODE ATTR=VALUE ...") }
                let schema = EditSupport.schema(t.node.opType, domain: t.node.domain, entry.model)
                var changes: [String] = []
                for (key, arg) in inv.extra {
                    let v = try EditSupport.attributeValue(key, arg.value, schema: schema, op: t.node.opType, inv)
                    try tx.apply(.setAttribute(node: t.id, name: key, value: v), in: t.scope)
                    changes.append(v.map { "\(key)=\($0.displayString)" } ?? "\(key) removed")
                }
                return "Set \(t.id) \(t.node.displayName): " + changes.joined(separator: ", ")
            }
        },
        CommandSpec(
            name: "rename", family: family,
            summary: "Rename a node or a value",
            usage: "rename NODE|VALUE NEW [kind=node|value]",
            positionals: [Parameter("target", .string, "a node (name or id) or a value name", required: true),
                          Parameter("new", .string, "the new name", required: true)],
            options: [Parameter("kind", .choice(["node", "value"]), "what TARGET names, when a node and a value share the name")],
            examples: ["rename n12 attention_scores", "rename logits scores kind=value"], changesState: true
        ) { session, inv, out in
            try EditSupport.commit(&session, inv, out) { tx, entry in
                let text = try inv.requiredString("target"), new = try inv.requiredString("new")
                let isValue = entry.graph.isValueNameInUse(text) || entry.graph.initializer(named: text) != nil
                let isNode = entry.catalog.lookup(text) != .none
                let kind = inv.string("kind") ?? (isNode && !isValue ? "node" : (isValue && !isNode ? "value" : ""))
                switch kind {
                case "node":
                    let t = try EditSupport.target("target", entry, inv)
                    try tx.apply(.renameNode(t.id, to: new), in: t.scope)
                    return "Renamed node \(t.id) to '\(new)'"
                case "value":
                    guard isValue else { throw inv.error(.lookup, "no value '\(text)' in \(entry.name)", at: "target") }
                    try tx.apply(.renameValue(text, to: new))
                    return "Renamed value '\(text)' to '\(new)'"
                default:
                    if !isNode && !isValue {
                        throw inv.error(.lookup, "no node or value '\(text)' in \(entry.name)", at: "target")
                    }
                    throw inv.error(.lookup, "'\(text)' names both a node and a value; add kind=node or kind=value", at: "target")
                }
            }
        },
    ]

    /// `NODE:INPUT` of connect/disconnect: the node and the input index.
    static func inputSlot(_ entry: GraphEntry, _ inv: Invocation) throws -> (EditTarget, Int) {
        let text = try inv.requiredString("target")
        guard let colon = text.lastIndex(of: ":"), let k = Int(text[text.index(after: colon)...]), k >= 0 else {
            throw inv.error(.value, "'\(text)' is not NODE:INPUT (e.g. n12:0)", at: "target")
        }
        let t = try EditSupport.target(text: String(text[..<colon]), entry, inv, at: "target")
        guard k <= t.node.inputs.count else {
            throw inv.error(.value, "\(t.id) \(t.node.displayName) has \(t.node.inputs.count) inputs; input \(k) is out of range", at: "target")
        }
        return (t, k)
    }
}
