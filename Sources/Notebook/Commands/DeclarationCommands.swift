// Editing a graph's interface and data: `input add|remove`, `output add|remove`,
// `initializer set|remove` (from a .npy file or a literal list) and `dims` (make a dimension
// fixed or symbolic). Each is one history step, checked like any edit.

import Foundation
import GraphEditing
import GraphFormats
import GraphIR

enum DeclarationCommands {
    static let family = "Editing"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "input", family: family,
            summary: "Add or remove a graph input",
            usage: "input add|remove NAME [type=float32[batch,3,224,224]] [--force]",
            positionals: [Parameter("action", .choice(["add", "remove"]), "add or remove", required: true),
                          Parameter("name", .string, "the input's name", required: true)],
            options: [Parameter("type", .string, "element type and shape, e.g. float32[batch,3,224,224] (dims: numbers, symbols or ?)")],
            flags: [EditCommands.force],
            examples: ["input add mask type=int64[batch,seq]", "input remove mask"], changesState: true
        ) { session, inv, out in
            let action = try inv.requiredString("action"), name = try inv.requiredString("name")
            let type = try inv.string("type").map { try parseType($0, inv, at: "type") }
            try EditSupport.commit(&session, inv, out) { tx, _ in
                if action == "add" {
                    guard type != nil else { throw inv.error(.command, "input add needs type=, e.g. type=float32[batch,3,224,224]", at: "name") }
                    try tx.apply(.addInput(name: name, type: type))
                    return "Added graph input '\(name)'"
                }
                try tx.apply(.removeInput(name))
                return "Removed graph input '\(name)'"
            }
        },
        CommandSpec(
            name: "output", family: family,
            summary: "Make a value a graph output, or stop it being one",
            usage: "output add|remove VALUE [type=...] [--force]",
            positionals: [Parameter("action", .choice(["add", "remove"]), "add or remove", required: true),
                          Parameter("name", .string, "the value", required: true)],
            options: [Parameter("type", .string, "declared type, e.g. float32[batch,1000]", default: "the value's declared or inferred type")],
            flags: [EditCommands.force],
            examples: ["output add /encoder/layer.0/Add_1_output_0", "output remove logits"], changesState: true
        ) { session, inv, out in
            let action = try inv.requiredString("action"), name = try inv.requiredString("name")
            let type = try inv.string("type").map { try parseType($0, inv, at: "type") }
            try EditSupport.commit(&session, inv, out) { tx, entry in
                if action == "add" {
                    // A graph output needs a type (the ONNX checker refuses one without): the declared or inferred one.
                    guard entry.graph.producer(of: name) != .none || inv.has("force") else { throw GraphEditError.noSuchValue(name) }
                    guard let type = type ?? entry.graph.type(of: name) ?? entry.inferredType(of: name, inBody: nil) else {
                        throw inv.error(.value, "the type of '\(name)' is not known; give it, e.g. type=float32[batch,1000]", at: "name")
                    }
                    try tx.apply(.addOutput(name: name, type: type))
                    return "'\(name)' is a graph output"
                }
                try tx.apply(.removeOutput(name))
                return "'\(name)' is no longer a graph output"
            }
        },
        CommandSpec(
            name: "initializer", family: family,
            summary: "Set an initializer from a .npy file or a literal, or remove one",
            usage: "initializer set|remove NAME [FILE.npy|[literal]] [dtype=float32] [--force]",
            positionals: [Parameter("action", .choice(["set", "remove"]), "set or remove", required: true),
                          Parameter("name", .string, "the initializer's name", required: true),
                          Parameter("data", .any, "a .npy file, or a (nested) list such as [[1,2],[3,4]]")],
            options: [Parameter("dtype", .string, "element type of a literal", default: "the replaced initializer's, else int64 or float32")],
            flags: [EditCommands.force],
            details: "Replacing an initializer may change its shape; consumers are re-checked and re-inferred, and a shape "
                + "that no longer fits is refused (or kept with --force).",
            examples: ["initializer set conv1.weight w.npy", "initializer set axes [0, 2] dtype=int64", "initializer remove unused_bias"], changesState: true
        ) { session, inv, out in
            let action = try inv.requiredString("action"), name = try inv.requiredString("name")
            let entry = try session.currentGraph(for: "initializer")
            var tensor: Tensor?
            var command: String?
            if action == "set" {
                guard let data = inv.value("data") else { throw inv.error(.command, "initializer set needs FILE.npy or a literal", at: "name") }
                if case .string(let path) = data {
                    let url = session.resolvePath(path)
                    do {
                        // Restore uses the bytes read the first time (the file may have changed since).
                        if let snapshot = session.journal.replaySnapshot {
                            tensor = try NPYReader.parse(snapshot, name: name, file: url.path)
                        } else {
                            tensor = try NPYReader.read(url, name: name)
                            session.journal.keep = SnapshotSource(file: url, ext: "npy")
                        }
                    } catch let e as NPYError {
                        throw inv.error(.file, "cannot read '\(path)': \(e.reason)", at: "data")
                    }
                    // History records the absolute path, so `history export` replays from any folder.
                    command = "initializer set \(CellValue.string(name).word) \(CellValue.string(url.path).word)"
                        + (inv.has("force") ? " --force" : "")
                } else {
                    var dtype = entry.graph.initializer(named: name)?.elementType
                    if let d = inv.string("dtype") {
                        guard let e = ElementType(name: d) ?? ElementType(name: d.replacingOccurrences(of: "float32", with: "float")) else {
                            throw inv.error(.value, "unknown dtype '\(d)'", at: "dtype")
                        }
                        dtype = e
                    }
                    tensor = try LiteralTensor.tensor(from: data, name: name, elementType: dtype, inv, at: "data")
                }
            }
            try EditSupport.commit(&session, inv, out, command: command) { tx, _ in
                if let tensor {
                    let old = tx.model.graph.initializer(named: name)
                    try tx.apply(.setInitializer(tensor))
                    return (old == nil ? "Added" : "Replaced") + " initializer '\(name)': \(tensor.elementType.name)\(tensor.dims)"
                        + (old.map { $0.dims != tensor.dims || $0.elementType != tensor.elementType ? " (was \($0.elementType.name)\($0.dims))" : "" } ?? "")
                }
                try tx.apply(.removeInitializer(name))
                return "Removed initializer '\(name)'"
            }
        },
        CommandSpec(
            name: "dims", family: family,
            summary: "Make a dimension fixed or symbolic (seq=128, batch=N; on=VALUE axis=K to=SYM for one axis)",
            usage: "dims SYMBOL=VALUE ... | dims on=VALUE axis=K to=DIM",
            options: [Parameter("on", .string, "one value whose declared shape changes"),
                      Parameter("axis", .int, "the axis of that value"),
                      Parameter("to", .any, "the new dimension: a number or a symbol")],
            extraOptions: .any, extraOptionsHelp: "a symbolic dimension and its new value: a number fixes it, a name renames it",
            flags: [EditCommands.force],
            details: "The change is made in every declared shape (inputs, outputs, value_info); inference then carries it to "
                + "every value downstream. Fixing `seq` lets estimates and the runtime use concrete shapes.",
            examples: ["dims seq=128", "dims batch=1 seq=tokens", "dims on=input axis=0 to=batch"], changesState: true
        ) { session, inv, out in
            func dim(_ v: CellValue, at parameter: String) throws -> Dim {
                let d: Dim
                if case .int(let i) = v { d = .known(Int64(i)) } else if let i = Int64(v.displayString) { d = .known(i) }
                else { d = v.displayString == "?" ? .unknown : .symbolic(v.displayString) }
                if case .known(let n) = d, n < 0 {
                    throw inv.error(.value, "a dimension is a size of 0 or more, a symbol or ?; got \(n)", at: parameter)
                }
                return d
            }
            try EditSupport.commit(&session, inv, out) { tx, _ in
                if let on = inv.string("on") {
                    guard let to = inv.value("to") else { throw inv.error(.command, "dims on= needs to=DIM", at: "on") }
                    let d = try dim(to, at: "to")
                    try tx.apply(.setDimension(from: .unknown, to: d, value: on, axis: inv.int("axis")))
                    return "'\(on)' axis \(inv.int("axis").map(String.init) ?? "?") is now \(d)"
                }
                guard !inv.extra.isEmpty else { throw inv.error(.command, "dims needs SYMBOL=VALUE; usage: \(inv.name) seq=128") }
                var done: [String] = []
                for (key, arg) in inv.extra {
                    let d = try dim(arg.value, at: key)
                    try tx.apply(.setDimension(from: .symbolic(key), to: d, value: nil, axis: nil))
                    done.append("\(key) -> \(d)")
                }
                return "Dimensions: " + done.joined(separator: ", ")
            }
        },
    ]

    /// `float32[batch,3,224,224]`, `int64[?]`, `float` (no shape), `float32[]` (a scalar).
    static func parseType(_ text: String, _ inv: Invocation, at parameter: String) throws -> ValueType {
        let t = text.trimmingCharacters(in: .whitespaces)
        let open = t.firstIndex(of: "[")
        let elementText = String(open.map { t[..<$0] } ?? t[...])
        let aliases = ["float32": "float", "float64": "double", "f32": "float", "f16": "float16", "i64": "int64", "i32": "int32"]
        guard let element = ElementType(name: aliases[elementText] ?? elementText) else {
            throw inv.error(.value, "unknown element type '\(elementText)' in '\(text)' (float32, float16, int64, bool, ...)", at: parameter)
        }
        guard let open else { return .tensor(element, nil) }
        guard t.hasSuffix("]") else { throw inv.error(.value, "'\(text)' has no closing ]", at: parameter) }
        let inner = t[t.index(after: open)..<t.index(before: t.endIndex)]
        let dims: [Dim] = try inner.split(separator: ",").map { part in
            let p = part.trimmingCharacters(in: .whitespaces)
            if let v = Int64(p) {
                guard v >= 0 else { throw inv.error(.value, "'\(text)': a dimension is a size of 0 or more, a symbol or ?; got \(v)", at: parameter) }
                return .known(v)
            }
            return p == "?" ? .unknown : .symbolic(p)
        }
        return .tensor(element, TensorShape(dims))
    }
}
