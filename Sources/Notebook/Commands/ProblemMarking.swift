// The problems `check` lists (structure, schema, shape inference) as the per-node marks a
// drawing carries (GraphRendering's `ProblemMarks`): for the top-level graph or one body, each
// problem on the node it names, or, for a node inside a body the drawing shows as one box, on
// that body's owner; and the tensors whose shape is unknown because inference failed upstream.
// Read from the version's cached schema problems and inference, never recomputed.

import GraphIR
import GraphOps
import GraphRendering

extension GraphEntry {
    /// Marks for the drawing of catalog body `body` (nil = the top-level graph), from `rows`
    /// (`CheckCommands.problems`, computed when not given).
    func problemMarks(inBody body: Int?, rows given: [CheckCommands.Row]? = nil) -> ProblemMarks {
        problemMarksAndAnchors(inBody: body, rows: given).marks
    }

    /// The marks, and per row the drawn node id that carries its mark (the node itself, or the
    /// owner of the body holding it; nil for a row without a node or outside the drawn graph).
    func problemMarksAndAnchors(inBody body: Int?, rows given: [CheckCommands.Row]? = nil)
        -> (marks: ProblemMarks, anchors: [String?]) {
        let rows = given ?? CheckCommands.problems(self)
        var marks = ProblemMarks()
        var anchors = [String?](repeating: nil, count: rows.count)
        guard !rows.isEmpty else { return (marks, anchors) }
        // Which graph each row's node lives in. Rows name their scope, so the catalog (a walk
        // over every name, which a drawing of the top level does not otherwise need) is only
        // made when a body is drawn or a problem lies in one.
        let topLevelOnly = body == nil && rows.allSatisfy { $0.scope.isEmpty }
        var bodyOf: [NodeID: Int?] = [:]
        if topLevelOnly {
            for r in rows { if let id = r.node { bodyOf[id] = .some(nil) } }
        } else {
            bodyOf.reserveCapacity(catalog.entries.count)
            for e in catalog.entries { bodyOf[e.id] = e.body }
        }
        let drawnDepth = body.map { catalog.bodies[$0].steps.count } ?? 0
        let drawnSteps = body.map { catalog.bodies[$0].steps } ?? []
        var broken = Set<NodeID>()
        for (k, r) in rows.enumerated() {
            guard let id = r.node, let home = bodyOf[id] else { continue }
            let severity: ProblemMarks.Severity = r.severity == .error ? .error : .warning
            let message = r.location == r.checker ? "\(r.checker): \(r.problem)" : "\(r.checker) \(r.location): \(r.problem)"
            if home == body {
                if severity == .error {
                    broken.insert(id)
                    let inputs = brokenInputs(of: r, node: id, inBody: body)
                    if !inputs.isEmpty { marks.brokenInputs[id.description, default: []].formUnion(inputs) }
                }
                marks.add(id.description, severity, message)
                anchors[k] = id.description
                continue
            }
            // A node deeper inside a body drawn here as its owner's box: mark that owner.
            let c = catalog
            guard let home, c.bodies[home].steps.count > drawnDepth,
                  Array(c.bodies[home].steps.prefix(drawnDepth)) == drawnSteps else { continue }
            let step = c.bodies[home].steps[drawnDepth]
            let inner = c.bodies[home].path.dropFirst(body.map { c.bodies[$0].path.count } ?? 0)
            marks.add(step.owner.description, severity, "in \(inner.joined(separator: "/")): \(r.nodeName) \(message)")
            anchors[k] = step.owner.description
        }
        marks.unknownShapes = unknownShapesDownstream(inBody: body, broken: broken)
        return (marks, anchors)
    }

    /// The inputs of node `id` an error row makes broken edges: the values the row names (a
    /// mistyped or dangling input), or, for a shape error that names none, every input the node
    /// reads (their shapes do not fit together).
    func brokenInputs(of row: CheckCommands.Row, node id: NodeID, inBody body: Int?) -> Set<String> {
        let graph = body.map { catalog.bodies[$0].graph } ?? self.graph
        guard let node = graph.node(id) else { return [] }
        let reads = Set(node.inputs.filter { !$0.isEmpty })
        if !row.values.isEmpty { return reads.intersection(row.values) }
        return row.checker == "shape" ? reads : []
    }

    /// Outputs of the drawn graph whose shape is unknown (neither declared nor inferred) because
    /// inference failed on their producer or on a node upstream of it; `broken` adds nodes with
    /// errors of other checkers (a schema error leaves the node's outputs unknown too).
    func unknownShapesDownstream(inBody body: Int?, broken: Set<NodeID> = []) -> Set<String> {
        let result = inference
        let key = body.map { inferenceKey(catalog.bodies[$0].steps) }
        var failed = broken
        for p in result.problems where (key == nil ? p.scope.isEmpty : p.scope.last == key) { failed.insert(p.node) }
        guard !failed.isEmpty else { return [] }
        let graph = body.map { catalog.bodies[$0].graph } ?? self.graph
        func shapeKnown(_ value: String) -> Bool {
            if graph.type(of: value)?.shape != nil { return true }
            return inferredType(of: value, inBody: body)?.shape != nil
        }
        var unknown = Set<String>()
        for n in graph.nodes {
            guard failed.contains(n.id) || n.inputs.contains(where: unknown.contains) else { continue }
            for o in n.outputs where !o.isEmpty && !shapeKnown(o) { unknown.insert(o) }
        }
        return unknown
    }
}
