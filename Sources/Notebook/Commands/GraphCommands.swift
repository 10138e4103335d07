// Graph commands: loading and switching graphs, and looking at them (`summary`, `tree`,
// `info`, `find`) and writing them out (`export`).

import Foundation
import GraphFormats
import GraphIR
import GraphRendering
import JupyterKernel

enum GraphCommands {
    static let family = "Graphs"

    static let commands: [CommandSpec] = [
        CommandSpec(
            name: "load", family: family,
            summary: "Load an ONNX model into the session",
            usage: "load PATH [as NAME]",
            positionals: [Parameter("path", .path, "the .onnx file, relative to the kernel's folder", required: true),
                          Parameter("as", .keyword("as"), ""),
                          Parameter("name", .string, "the name to use in the session", default: "the file name")],
            details: "External data files are found next to the model and mapped, not read. The new graph becomes current. "
                + "Loading under a name already in use replaces that graph and says so (re-running a cell is common).",
            examples: ["load models/tiny_bert.onnx", "load resnet50.onnx as r50"], changesState: true
        ) { session, inv, out in
            let path = try inv.requiredString("path")
            let url = session.resolvePath(path)
            // Restore hands over the bytes this load read the first time (the file may have
            // changed or gone since); external data is still found next to the original path.
            let snapshot = session.journal.replaySnapshot
            if snapshot == nil {
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw inv.error(.file, "no such file '\(path)' (looked in \(session.workingDirectory.path))", at: "path")
                }
                if let format = ModelFileFormat.sniff(fileAt: url), !format.isReadable, let advice = format.advice {
                    throw inv.error(.file, "'\(path)' is a \(format.displayName), not an ONNX model: \(advice)", at: "path")
                }
            }
            let started = Date()
            let model: Model
            do {
                if let snapshot {
                    model = try ONNXReader.load(bytes: snapshot, name: url.path, baseDirectory: url.deletingLastPathComponent().path)
                } else {
                    model = try ONNXReader.load(url)
                    session.journal.keep = SnapshotSource(file: url, ext: "onnx")
                }
            } catch let e as ONNXError {
                throw inv.error(.model, "cannot load '\(path)': \(e)", at: "path")
            } catch {
                throw inv.error(.file, "cannot load '\(path)': \(error)", at: "path")
            }
            let seconds = Date().timeIntervalSince(started)
            let name = inv.string("name") ?? session.graphs.freeName(for: url)
            guard name.unicodeScalars.first.map(LineParser.isIdentifierStart) ?? false else {
                throw inv.error(.value, "graph name '\(name)' must start with a letter or _", at: "name")
            }
            let replaced = session.graphs[name]
            let entry = GraphEntry(name: name, source: url, model: model, command: "load \(CellValue.string(path).word) as \(name)",
                                   time: session.now)
            session.graphs.put(entry)
            if let replaced {
                out.print("Replaced the graph '\(name)' (from \(replaced.source.lastPathComponent)).")
            }
            let s = model.graph.summary()
            out.print("Loaded \(name) from \(path): \(Format.grouped(s.nodeCount)) nodes"
                + (s.totalNodeCount != s.nodeCount ? " (\(Format.grouped(s.totalNodeCount)) with subgraphs)" : "")
                + ", \(Format.si(Double(s.totalParameterCount))) parameters, opset "
                + (model.opsetVersion(for: "").map(String.init) ?? "?") + " in \(Format.number(seconds * 1000, digits: 3)) ms")
            // A schema-violating model, or one inference fails on, still loads; say once how
            // much `check` would list.
            if let note = CheckCommands.loadNote(entry) { out.print(note) }
        },
        CommandSpec(
            name: "graphs", family: family,
            summary: "List the loaded graphs",
            usage: "graphs",
            examples: ["graphs"]
        ) { session, _, out in
            var table = Table(columns: [.init("name"), .init("current"), .init("nodes", numeric: true),
                                        .init("versions", numeric: true), .init("source")])
            for e in session.graphs.entries {
                table.rows.append([Table.Cell(e.name), Table.Cell(e.name == session.graphs.currentName ? "*" : ""),
                                   .int(e.graph.nodes.count), .int(e.history.steps.count), Table.Cell(e.source.path)])
            }
            out.display(table.rows.isEmpty ? OutputBundle(text: "No graphs loaded. Use `load PATH`.") : table.bundle)
        },
        CommandSpec(
            name: "use", family: family,
            summary: "Make a loaded graph the current one",
            usage: "use NAME",
            positionals: [Parameter("name", .graphName, "a loaded graph", required: true)],
            examples: ["use r50"], changesState: true
        ) { session, inv, out in
            let name = try inv.requiredString("name")
            guard session.graphs.use(name) else { throw unknownGraph(name, session, inv) }
            out.print("Current graph: \(name)")
        },
        CommandSpec(
            name: "close", family: family,
            summary: "Remove a graph from the session",
            usage: "close NAME",
            positionals: [Parameter("name", .graphName, "a loaded graph", required: true)],
            examples: ["close r50"], changesState: true
        ) { session, inv, out in
            let name = try inv.requiredString("name")
            guard session.graphs.close(name) else { throw unknownGraph(name, session, inv) }
            out.print("Closed \(name)." + (session.graphs.currentName.map { " Current graph: \($0)" } ?? ""))
        },
        CommandSpec(
            name: "summary", family: family,
            summary: "Counts, op histogram, parameters, inputs and outputs of a graph",
            usage: "summary [GRAPH]",
            positionals: [Parameter("graph", .graphName, "a loaded graph", default: "the current graph")],
            examples: ["summary", "summary r50"]
        ) { session, inv, out in
            let entry = try graphArgument(session, inv, "summary")
            out.display(summaryBundle(entry))
        },
        CommandSpec(
            name: "tree", family: family,
            summary: "Show the module hierarchy with node counts",
            usage: "tree [PATH] [depth=N]",
            positionals: [Parameter("path", .nodeOrPath, "a hierarchy path such as /encoder/layer.0", default: "/")],
            options: [Parameter("depth", .int, "levels to show below PATH", default: "3")],
            details: "If/Loop/Scan bodies are scopes too: the owner's name, then the attribute (If_0/then_branch, "
                + "/encoder/Loop/body), then the body's own hierarchy. `show`, `info` and `find` take the same paths.",
            examples: ["tree", "tree /encoder depth=1"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "tree")
            let text = inv.string("path") ?? "/"
            guard let root = entry.hierarchyPath(text) else {
                throw inv.error(.lookup, "no hierarchy path '\(text)' in \(entry.name); `tree` shows the paths", at: "path")
            }
            let depth = inv.int("depth") ?? 3
            guard depth >= 0 else { throw inv.error(.value, "depth must be 0 or more", at: "depth") }
            out.display(treeBundle(entry, root: root, depth: depth))
        },
        CommandSpec(
            name: "info", family: family,
            summary: "Everything about one node: op, attributes, inputs, outputs, hierarchy",
            usage: "info NODE",
            positionals: [Parameter("node", .node, "a node name (as drawn: Constant_37 for an unnamed one), a body path "
                                    + "such as If_0/then_branch/NAME, or its id as n12", required: true)],
            examples: ["info /encoder/layer.0/attention/self/Softmax", "info n12", "info If_0/then_branch/Constant_37"]
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "info")
            let text = try inv.requiredString("node")
            out.display(nodeBundle(try nodeIndex(text, in: entry, inv, at: "node"), entry))
        },
        CommandSpec(
            name: "find", family: family,
            summary: "Find nodes by name pattern, op type or hierarchy path",
            usage: "find [PATTERN] [op=TYPE] [path=PATH] [limit=N] [save=NAME]",
            positionals: [Parameter("pattern", .string, "text in the node name; * and ? are wildcards", default: "any")],
            options: [Parameter("op", .opType, "only nodes of this op type"),
                      Parameter("path", .nodeOrPath, "only nodes under this hierarchy path"),
                      Parameter("limit", .int, "at most this many rows (0: only the count)", default: "50"),
                      Parameter("save", .string, "save every match (not only the rows shown) as a selection: a variable "
                                + "holding their ids, which `annotate $NAME ...` and other node arguments take")],
            examples: ["find attention", "find op=Softmax", "find *query* path=/encoder/layer.1", "find op=Conv save=convs"], changesState: true
        ) { session, inv, out in
            let entry = try session.currentGraph(for: "find")
            // Only save= changes the session (a variable); a plain find is not journaled.
            if inv.string("save") == nil { session.journal.unchanged = true }
            let catalog = entry.catalog
            var candidates: [Int] = Array(catalog.entries.indices)
            if let p = inv.string("path") {
                guard let path = entry.hierarchyPath(p) else {
                    throw inv.error(.lookup, "no hierarchy path '\(p)' in \(entry.name)", at: "path")
                }
                candidates = catalog.entries(under: path).sorted()
            }
            let matcher = inv.string("pattern").map(NamePattern.init)
            let op = inv.string("op")
            let limit = inv.int("limit") ?? 50
            guard limit >= 0 else { throw inv.error(.value, "limit must be 0 or more, not \(limit)", at: "limit") }
            // Names are matched as drawn and qualified (`If_0/then_branch/Constant_37`), bodies included.
            let found = candidates.filter { i in
                (op == nil || catalog.entries[i].opType == op) && (matcher?.matches(catalog.qualifiedName(i)) ?? true)
            }
            if let op, found.isEmpty, !catalog.entries.contains(where: { $0.opType == op }) {
                throw unknownOpType(op, entry, inv)
            }
            var table = Table(columns: [.init("id"), .init("name"), .init("op"), .init("outputs")],
                              title: "\(found.count) node(s)" + (found.count > limit ? ", first \(limit) shown" : ""))
            var rows: [JSONValue] = []
            for i in found.prefix(limit) {
                guard let n = catalog.node(i) else { continue }
                let g = catalog.graph(holding: i)
                // Declared types, else inferred ones (the same the drawing labels edges with).
                let body = catalog.entries[i].body
                table.rows.append([Table.Cell(n.id.description), Table.Cell(catalog.qualifiedName(i)), Table.Cell(n.qualifiedOpType),
                                   Table.Cell(n.outputs.map { typeText(g.type(of: $0) ?? entry.inferredType(of: $0, inBody: body)) }
                                       .joined(separator: ", "))])
                rows.append(["id": .string(n.id.description), "name": .string(catalog.qualifiedName(i)), "op": .string(n.qualifiedOpType),
                             "body": .string(catalog.entries[i].body.map { catalog.bodies[$0].pathText } ?? "")])
            }
            var bundle = table.bundle
            bundle.json = ["count": .int(Int64(found.count)), "nodes": .array(rows)]
            out.display(bundle)
            if let name = inv.string("save") {
                guard name.unicodeScalars.first.map(LineParser.isIdentifierStart) ?? false,
                      name.unicodeScalars.allSatisfy(LineParser.isIdentifierChar) else {
                    throw inv.error(.value, "selection name '\(name)' must be an identifier", at: "save")
                }
                session.variables[name] = .list(found.map { .string(catalog.entries[$0].id.description) })
                out.print("Saved \(found.count) node\(found.count == 1 ? "" : "s") as $\(name).")
            }
        },
        CommandSpec(
            name: "export", family: family,
            summary: "Write the current graph as ONNX, Model Explorer JSON, SVG or Graphviz DOT",
            usage: "export PATH [format=onnx|model-explorer|model-explorer-node-data|svg|dot] [field=FIELD] [external_data=true] [shapes=true]",
            positionals: [Parameter("path", .path, "the file to write", required: true)],
            options: [Parameter("format", .choice(["onnx", "model-explorer", "model-explorer-node-data", "svg", "dot"]),
                                "file format (svg and dot: fully expanded drawing; model-explorer-node-data: one overlay field)",
                                default: "from the extension, else onnx"),
                      Parameter("field", .string, "with format=model-explorer-node-data: the overlay field to write (time, error, "
                                + "ort_time, latency, flops, ...)"),
                      Parameter("external_data", .bool, "ONNX only: write large tensors to PATH.data", default: "false"),
                      Parameter("shapes", .bool, "ONNX only: write value_info for every intermediate value (bodies included) from shape "
                                + "inference (symbolic dims as dim_param), like onnx.shape_inference; the session's graph "
                                + "is unchanged", default: "false"),
                      Parameter("graph", .graphName, "which graph", default: "the current graph")],
            flags: [Flag("force", "write the model even if `check` reports errors in it")],
            details: "A graph with errors (what `check` lists as errors, e.g. after an edit kept with --force) is refused unless "
                + "--force is given: a broken file would fail later, far from the edit that broke it. ONNX files keep annotations, "
                + "provenance and (where the id sequence jumps) node ids in node metadata_props (`graphsmith.*`), so `load` gives the same "
                + "ids and annotations back; an unedited graph gets none and is written byte for byte as loaded.",
            examples: ["export out/tiny.onnx", "export big.onnx external_data=true", "export typed.onnx shapes=true",
                       "export tiny.json format=model-explorer", "export time.json format=model-explorer-node-data field=time"]
        ) { session, inv, out in
            let entry = try graphArgument(session, inv, "export")
            let path = try inv.requiredString("path")
            let url = session.resolvePath(path)
            let byExtension = ["json": "model-explorer", "svg": "svg", "dot": "dot", "gv": "dot"]
            let format = inv.string("format") ?? byExtension[url.pathExtension.lowercased()] ?? "onnx"
            if format == "model-explorer-node-data" || inv.value("field") != nil {
                try exportNodeData(entry, url: url, path: path, format: format, inv, out)
                return
            }
            if format == "onnx" || format == "model-explorer", !inv.has("force") {
                let errors = entry.current.problems.filter { $0.severity == .error }
                if !errors.isEmpty {
                    throw inv.error(.model, "\(entry.name) has \(errors.count) error\(errors.count == 1 ? "" : "s"); `check` lists them, "
                        + "`undo` reverts the last edit, --force writes it anyway:\n" + EditSupport.problemLines(errors, limit: 5), at: "path")
                }
            }
            var isFolder: ObjCBool = false
            if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue) {
                let ext = format == "model-explorer" ? "json" : format
                throw inv.error(.file, "'\(path)' is a folder; give a file name, e.g. \(path.hasSuffix("/") ? path : path + "/")\(entry.name).\(ext)", at: "path")
            }
            let folder = url.deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw inv.error(.file, "cannot create the folder '\(folder.path)': \(fileErrorText(error))", at: "path")
            }
            var report: ONNXWriteReport?
            var typedValues: Int?
            if inv.bool("shapes") == true && format != "onnx" {
                throw inv.error(.value, "shapes=true applies to ONNX files only, not \(format)", at: "shapes")
            }
            do {
                if format == "model-explorer" {
                    let json = ModelExplorerExporter.export(entry.model, label: entry.name)
                    try Data(json.utf8).write(to: url)
                } else if format == "svg" || format == "dot" {
                    var options = RenderOptions()
                    options.expandAll = true
                    let renderer = try GraphRenderer(entry.graph, hierarchy: entry.hierarchy, inferred: entry.inferredTypes(inBody: nil))
                    let text = format == "svg" ? try renderer.render(options).svg : try renderer.dot(options)
                    try Data(text.utf8).write(to: url)
                } else if inv.bool("shapes") == true {
                    let typed = entry.modelWithInferredValueInfo()
                    typedValues = typed.written
                    report = try ONNXWriter.save(typed.model, to: url, externalData: inv.bool("external_data") ?? false)
                } else {
                    report = try ONNXWriter.save(entry.model, to: url, externalData: inv.bool("external_data") ?? false)
                }
            } catch let e as ONNXError {
                throw inv.error(.file, "cannot write '\(path)': \(e)", at: "path")
            } catch {
                throw inv.error(.file, "cannot write '\(path)': \(fileErrorText(error))", at: "path")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            out.print("Wrote \(entry.name) as \(format) to \(path) (\(Format.bytes(Double(size))))"
                + (typedValues.map { ", with inferred value_info for \($0) value(s)" } ?? ""))
            if inv.bool("external_data") == true, let report {
                if report.externalTensors > 0 {
                    out.print("External data: \(report.externalTensors) tensor(s), \(Format.bytes(Double(report.externalBytes))) in "
                        + ((report.externalFile ?? "") as NSString).lastPathComponent)
                } else {
                    out.print("No external data file written: no initializer or Constant tensor holds 1 KB or more.")
                }
            }
        },
    ]

    // MARK: Helpers

    /// `export FILE.json format=model-explorer-node-data field=F`: one overlay field as Model
    /// Explorer node data, keyed by the node ids `format=model-explorer` writes.
    static func exportNodeData(_ entry: GraphEntry, url: URL, path: String, format: String, _ inv: Invocation, _ out: CommandOutput) throws {
        guard format == "model-explorer-node-data" else {
            throw inv.error(.value, "field= applies to format=model-explorer-node-data, not \(format)", at: "field")
        }
        guard let name = inv.string("field") else {
            let known = entry.fields.keys.sorted().joined(separator: ", ")
            throw inv.error(.command, "format=model-explorer-node-data needs field=NAME (fields: "
                + (known.isEmpty ? "none yet; `run repeat=N`, `compare` or `estimate` make them" : known) + ")", at: "format")
        }
        guard let field = entry.fields[name] else {
            let known = entry.fields.keys.sorted()
            throw inv.error(.lookup, "\(entry.name) has no overlay field '\(name)'; "
                + (known.isEmpty ? "`run repeat=N` makes time, `compare` makes error, `estimate` makes latency and flops"
                    : "fields: \(known.joined(separator: ", "))"), at: "field")
        }
        let json = ModelExplorerExporter.nodeData(field.values, name: field.unit.isEmpty ? name : "\(name) (\(field.unit))")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(json.utf8).write(to: url, options: .atomic)
        } catch {
            throw inv.error(.file, "cannot write '\(path)': \(fileErrorText(error))", at: "path")
        }
        out.print("Wrote overlay field \(name) of \(entry.name) (\(field.values.count) nodes) as Model Explorer node data to \(path).")
    }

    /// A file error as a sentence: the POSIX reason when Foundation wraps one (Foundation on
    /// Linux reports many failures as "NSCocoaErrorDomain error 512" otherwise).
    static func fileErrorText(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if ns.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "no space left on the device"
            case .fileWriteVolumeReadOnly: return "the volume is read-only"
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
            case .fileWriteFileExists: return "a file of that name is in the way"
            default: break
            }
        }
        return ns.localizedDescription
    }

    static func graphArgument(_ session: Session, _ inv: Invocation, _ command: String) throws -> GraphEntry {
        if let name = inv.string("graph") {
            guard let e = session.graphs[name] else { throw unknownGraph(name, session, inv) }
            return e
        }
        return try session.currentGraph(for: command)
    }

    static func unknownGraph(_ name: String, _ session: Session, _ inv: Invocation) -> CellError {
        let names = session.graphs.entries.map(\.name)
        let hint = Suggest.closest(to: name, in: names).map { "; did you mean '\($0)'?" }
            ?? (names.isEmpty ? "; none is loaded" : "; loaded: \(names.joined(separator: ", "))")
        let parameter = inv.value("graph") != nil ? "graph" : "name"
        return inv.error(.lookup, "no graph named '\(name)'\(hint)", at: parameter)
    }

    /// An op type no node has: the same name in another case first (op types are
    /// case-sensitive), else the closest one, else the list.
    static func unknownOpType(_ op: String, _ entry: GraphEntry, _ inv: Invocation) -> CellError {
        let ops = Set(entry.catalog.entries.map(\.opType)).sorted()
        let hint: String
        if let same = ops.first(where: { $0.lowercased() == op.lowercased() }) {
            hint = "; op types are case-sensitive: did you mean op=\(same)?"
        } else if let near = Suggest.closest(to: op, in: ops) {
            hint = "; did you mean op=\(near)?"
        } else {
            hint = "; its op types: \(ops.prefix(12).joined(separator: ", "))\(ops.count > 12 ? ", ..." : "")"
        }
        return inv.error(.lookup, "no node in \(entry.name) has op type '\(op)'\(hint)", at: "op")
    }

    /// numpy-style dtype names (`float32`, not ONNX's `float`), as users of both read them.
    static func dtypeName(_ e: ElementType) -> String {
        switch e {
        case .float: return "float32"
        case .double: return "float64"
        default: return e.name
        }
    }

    /// `float32[batch,seq,64]` style text for a value type.
    static func typeText(_ type: ValueType?) -> String {
        guard let type else { return "?" }
        if case .tensor(let e, let shape) = type {
            return dtypeName(e) + (shape.map { "[" + $0.dims.map(\.description).joined(separator: ",") + "]" } ?? "[...]")
        }
        return type.description
    }

    static func shapeJSON(_ type: ValueType?) -> JSONValue {
        guard let shape = type?.shape else { return .null }
        return .array(shape.dims.map { d in
            switch d {
            case .known(let v): return .int(v)
            case .symbolic(let s): return .string(s)
            case .unknown: return .string("?")
            }
        })
    }

    static func pathText(_ path: [String]) -> String { "/" + path.joined(separator: "/") }

    // MARK: Bundles

    static func summaryBundle(_ entry: GraphEntry) -> OutputBundle {
        let model = entry.model
        let g = model.graph
        let s = g.summary()
        var facts = Table(columns: [.init("property"), .init("value")], title: "\(entry.name): \(entry.source.lastPathComponent)")
        facts.rows = [
            ["nodes", Table.Cell(Format.grouped(s.nodeCount))],
            ["nodes incl. subgraphs", Table.Cell(Format.grouped(s.totalNodeCount))],
            ["parameters", Table.Cell(parameterText(s))],
            ["initializers", Table.Cell("\(Format.grouped(s.initializerCount)) (\(Format.bytes(Double(s.initializerBytes))))")],
            ["opsets", Table.Cell(model.opsetImports.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", "))],
            ["ir version", Table.Cell(String(model.irVersion))],
            ["producer", Table.Cell([model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " "))],
            ["hierarchy", Table.Cell(entry.hierarchy.isFlat ? "flat" : "\(entry.hierarchy.children(of: []).count) top-level scopes")],
        ]
        var io = Table(columns: [.init("kind"), .init("name"), .init("type")], title: "Inputs and outputs")
        for v in g.inputs where g.initializer(named: v.name) == nil { io.rows.append(["input", Table.Cell(v.name), Table.Cell(typeText(v.type))]) }
        for v in g.outputs { io.rows.append(["output", Table.Cell(v.name), Table.Cell(typeText(v.type))]) }
        var ops = Table(columns: [.init("op"), .init("count", numeric: true)], title: "Op histogram")
        ops.rows = s.opHistogramRows.map { [Table.Cell($0.op), .int($0.count)] }

        func ioJSON(_ infos: [ValueInfo]) -> JSONValue {
            .array(infos.map { v in
                ["name": .string(v.name), "dtype": v.type?.elementType.map { .string(dtypeName($0)) } ?? .null, "shape": shapeJSON(v.type)]
            })
        }
        var histogram: [String: JSONValue] = [:]
        for (op, count) in s.opHistogram { histogram[op] = .int(Int64(count)) }
        var opsets: [String: JSONValue] = [:]
        for o in model.opsetImports { opsets[o.domain.isEmpty ? "ai.onnx" : o.domain] = .int(o.version) }
        let json: JSONValue = .object([
            "nodes": .int(Int64(s.nodeCount)), "nodes_total": .int(Int64(s.totalNodeCount)),
            "op_histogram": .object(histogram),
            "parameters": .int(Int64(s.totalParameterCount)), "parameter_bytes": .int(Int64(s.totalParameterBytes)),
            "stored_parameters": .int(Int64(s.parameterCount)), "generated_parameters": .int(Int64(s.generatedParameterCount)),
            "unused_parameters": .int(Int64(s.unusedParameterCount)),
            "inputs": ioJSON(g.inputs.filter { g.initializer(named: $0.name) == nil }), "outputs": ioJSON(g.outputs),
            "opsets": .object(opsets),
        ])
        return OutputBundle(text: [facts.text, io.text, ops.text].joined(separator: "\n\n"),
                            html: "<div class=\"gs-summary\">" + facts.html + io.html + ops.html + "</div>", json: json)
    }

    /// The parameter figure, split where it has parts: stored tensors, tensors ConstantOfShape
    /// makes, and stored ones no node reads (which `estimate`, counting what nodes read, leaves out).
    static func parameterText(_ s: GraphSummary) -> String {
        var text = "\(Format.grouped(s.totalParameterCount)) (\(Format.bytes(Double(s.totalParameterBytes))))"
        var parts: [String] = []
        if s.generatedParameterCount > 0 {
            parts.append("\(Format.grouped(s.parameterCount)) in initializers/Constant nodes + \(Format.grouped(s.generatedParameterCount)) "
                + "from \(s.generatingNodeCount) ConstantOfShape node\(s.generatingNodeCount == 1 ? "" : "s")")
        }
        if s.unusedParameterCount > 0 { parts.append("\(Format.grouped(s.unusedParameterCount)) in initializers no node reads (estimate leaves those out)") }
        if !parts.isEmpty { text += ": " + parts.joined(separator: "; ") }
        return text
    }

    static func treeBundle(_ entry: GraphEntry, root: [String], depth: Int) -> OutputBundle {
        let h = entry.catalog
        // A body's root scope says whose body it is (`then_branch  113  [If body]`).
        func bodyNote(_ path: [String]) -> String {
            guard let b = h.body(atPath: path) else { return "" }
            return "  [\(h.entries[h.bodies[b].owner].opType) body]"
        }
        var lines: [String] = ["\(pathText(root))  (\(Format.grouped(h.count(under: root))) nodes)"]
        var html = "<div class=\"gs-tree\" style=\"font-family:monospace\"><details open><summary>\(HTML.escape(pathText(root))) "
            + "<span style=\"color:#777\">(\(h.count(under: root)) nodes)</span></summary>"
        var json: [JSONValue] = []
        // Iterative walk: (path, level, isClosingMarker).
        var stack: [([String], Int, Bool)] = h.children(of: root).reversed().map { (root + [$0], 1, false) }
        while let (path, level, closing) = stack.popLast() {
            if closing { html += "</details></div>"; continue }
            let count = h.count(under: path)
            let direct = h.entries(directlyIn: path).count
            let kids = h.children(of: path)
            let indent = String(repeating: "  ", count: level)
            let note = bodyNote(path)
            lines.append("\(indent)\(path.last ?? "")  \(Format.grouped(count))" + (kids.isEmpty || direct == 0 ? "" : " (\(direct) direct)") + note)
            json.append(["path": .string(pathText(path)), "nodes": .int(Int64(count)), "children": .int(Int64(kids.count)),
                         "body": .bool(!note.isEmpty)])
            html += "<div style=\"margin-left:1.2em\"><details\(level < 2 ? " open" : "")><summary>\(HTML.escape(path.last ?? "")) "
                + "<span style=\"color:#777\">\(count)\(HTML.escape(note))</span></summary>"
            stack.append((path, level, true))
            if level < depth {
                for child in kids.reversed() { stack.append((path + [child], level + 1, false)) }
            } else if !kids.isEmpty {
                lines.append(indent + "  … \(kids.count) more scope(s)")
            }
        }
        html += "</details></div>"
        return OutputBundle(text: lines.joined(separator: "\n"), html: html,
                            json: ["root": .string(pathText(root)), "nodes": .int(Int64(h.count(under: root))), "paths": .array(json)])
    }
}

/// A node-name pattern: plain text matches anywhere; `*` and `?` are wildcards.
struct NamePattern {
    let text: String
    init(_ text: String) { self.text = text }

    func matches(_ name: String) -> Bool {
        if text == "any" || text == "*" { return true }
        if !text.contains("*") && !text.contains("?") { return name.localizedCaseInsensitiveContains(text) }
        return NamePattern.glob(Array(text.lowercased().unicodeScalars), Array(name.lowercased().unicodeScalars))
    }

    /// Iterative glob match with backtracking on the last `*`.
    static func glob(_ p: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> Bool {
        var (pi, si) = (0, 0)
        var star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) { pi += 1; si += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = si; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; si = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
