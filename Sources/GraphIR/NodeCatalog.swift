/// `NodeCatalog`: every node of a graph and of its If/Loop/Scan bodies (recursively), each with
/// its display name and its place in one scope tree, and the lookups tools share: by id
/// (`n12`), by display name, by qualified path (`If_0/then_branch/Constant_37`), by scope.
///
/// A body's scope path is its owner's scope, then the owner's display name (last `/` segment),
/// then the body's label (`then_branch`, `body`); its nodes' own hierarchy paths continue below.
///
/// Ids: a loaded model, and anything `addNode`/`modifyBody` build, has ids unique across all its
/// bodies (one id space per model, NodeIDSpace.swift), so `n12` names one node. Graphs built by
/// hand from parts given the same explicit ids can still repeat one; such a lookup is
/// `.ambiguous`, never a silent pick, and an owner's body scope falls back to `If_n12`.

/// One step from a graph into one of its bodies.
public struct BodyStep: Hashable, Sendable {
    /// The node holding the body (an If, Loop or Scan, or any node with a graph attribute).
    public var owner: NodeID
    /// The attribute holding the body.
    public var attribute: String
    /// Position in a graph-list attribute (0 for a single-graph attribute).
    public var index: Int

    /// Names one body of `owner`.
    public init(owner: NodeID, attribute: String, index: Int = 0) {
        self.owner = owner
        self.attribute = attribute
        self.index = index
    }
}

extension Graph {
    /// The body reached by following `steps` from this graph (this graph for no steps), or nil
    /// when a step names no such node or attribute.
    public func body(at steps: [BodyStep]) -> Graph? {
        var g = self
        for s in steps {
            guard let owner = g.node(s.owner), let a = owner.attribute(s.attribute) else { return nil }
            let graphs = a.subgraphs
            guard graphs.indices.contains(s.index) else { return nil }
            g = graphs[s.index]
        }
        return g
    }
}

/// The nodes of a model, bodies included, for naming, listing and lookup.
public struct NodeCatalog: Sendable {
    /// One node.
    public struct Entry: Sendable {
        /// The node's id in its graph.
        public let id: NodeID
        /// `Node.displayName`.
        public let name: String
        /// Operator type.
        public let opType: String
        /// Index into `bodies` of the body holding the node; nil for a top-level node.
        public let body: Int?
        /// Full scope path: the body's path (if any), then the node's own hierarchy path.
        public let path: [String]
    }

    /// One body (subgraph).
    public struct Body: Sendable {
        /// How to reach it from the top-level graph.
        public let steps: [BodyStep]
        /// Its scope path (`["If_0", "then_branch"]`).
        public let path: [String]
        /// The body itself.
        public let graph: Graph
        /// Index into `entries` of the owning node.
        public let owner: Int
        /// The attribute label (`then_branch`, `body`, `branches.1`).
        public let label: String
        /// `path` joined with `/`.
        public var pathText: String { path.joined(separator: "/") }
    }

    /// What a node reference resolved to.
    public enum Lookup: Sendable, Equatable {
        /// Exactly one node: its index in `entries`.
        case node(Int)
        /// Several nodes answer to the text (indices in `entries`): the caller must say which.
        case ambiguous([Int])
        /// Nothing answers to it.
        case none
    }

    /// What a path given to a drawing resolved to.
    public enum Location: Sendable, Equatable {
        /// A scope: inside body `body` (nil = the top-level graph), at `path` relative to that graph.
        case scope(body: Int?, path: [String])
        /// A whole body.
        case body(Int)
        /// One node (index in `entries`).
        case node(Int)
        /// Several nodes answer to it.
        case ambiguous([Int])
        /// Nothing answers to it.
        case none
    }

    /// Every node in walk order: a node, then its bodies' nodes, then the next node.
    public private(set) var entries: [Entry] = []
    /// Every body, in walk order (an enclosing body before the bodies inside it).
    public private(set) var bodies: [Body] = []
    /// The top-level graph.
    public let graph: Graph
    /// The top-level graph's hierarchy (scopes of top-level nodes only).
    public let topLevel: Hierarchy
    private var tree = ScopeTree<Int>()
    private var byID: [NodeID: [Int]] = [:]
    private var byName: [String: [Int]] = [:]
    private var byLeaf: [String: [Int]] = [:]
    private var bodyByPath: [[String]: Int] = [:]
    private var bodyBySteps: [[BodyStep]: Int] = [:]
    /// Scopes already taken by an owner's bodies (owner scope path + component), with the owner's entry.
    private var ownerScopes: [[String]: Int] = [:]

    /// Catalogs `graph` and its bodies; `hierarchy`, when given, must be `Hierarchy(graph)`
    /// (passing it saves computing the top-level paths twice).
    public init(_ graph: Graph, hierarchy: Hierarchy? = nil) {
        self.graph = graph
        let top = hierarchy ?? Hierarchy(graph)
        topLevel = top
        // Iterative walk (bodies nest as deep as the file says): each frame is one graph and the
        // position of the next node to visit in it.
        struct Frame { let graph: Graph; let body: Int?; let steps: [BodyStep]; let base: [String]; var next: Int }
        var stack = [Frame(graph: graph, body: nil, steps: [], base: [], next: 0)]
        while !stack.isEmpty {
            let f = stack[stack.count - 1]
            guard f.next < f.graph.nodes.count else { stack.removeLast(); continue }
            stack[stack.count - 1].next += 1
            let n = f.graph.nodes[f.next]
            let own = f.body == nil ? top.path(of: n.id) : Hierarchy.path(of: n).0
            let path = f.base + own
            let index = add(Entry(id: n.id, name: n.displayName, opType: n.opType, body: f.body, path: path))
            let bodiesHere = n.labeledSubgraphs
            guard !bodiesHere.isEmpty else { continue }
            let ownerComponent = componentName(for: n, entry: index, in: path)
            // Pushed in reverse so the first body is walked first.
            var frames: [Frame] = []
            for b in bodiesHere {
                let step = BodyStep(owner: n.id, attribute: b.attribute, index: b.index)
                let bodyPath = path + [ownerComponent, b.label]
                let bi = bodies.count
                bodies.append(Body(steps: f.steps + [step], path: bodyPath, graph: b.graph, owner: index, label: b.label))
                bodyByPath[bodyPath] = bi
                bodyBySteps[f.steps + [step]] = bi
                frames.append(Frame(graph: b.graph, body: bi, steps: f.steps + [step], base: bodyPath, next: 0))
            }
            stack.append(contentsOf: frames.reversed())
        }
    }

    private mutating func add(_ e: Entry) -> Int {
        let i = entries.count
        entries.append(e)
        tree.add(i, at: e.path)
        byID[e.id, default: []].append(i)
        byName[e.name, default: []].append(i)
        // Scope path + name finds a node when the name adds nothing to the path: names without
        // `/`, and `/a/b/Op` names whose scopes are the path. Other names with `/` (`blk_0/x/Op`)
        // are found by their full name only.
        if !e.name.contains("/") { byLeaf[e.name, default: []].append(i) }
        else if e.name.hasPrefix("/") { byLeaf[NodeCatalog.leaf(of: e.name), default: []].append(i) }
        return i
    }

    /// The scope an owner's bodies hang under: the last segment of its display name, or, when
    /// another owner in the same scope already took that, the segment with its id (`If_n12`).
    private mutating func componentName(for n: Node, entry: Int, in path: [String]) -> String {
        let leaf = NodeCatalog.leaf(of: n.displayName)
        let name = ownerScopes[path + [leaf]] == nil ? leaf : "\(leaf)_\(n.id)"
        ownerScopes[path + [name]] = entry
        return name
    }

    /// The part of a name after its last `/` (the whole name when that part is empty).
    static func leaf(of name: String) -> String {
        guard let slash = name.lastIndex(of: "/") else { return name }
        let tail = name[name.index(after: slash)...]
        return tail.isEmpty ? name : String(tail)
    }

    // MARK: Names

    /// The name that finds this node from the top: its display name, prefixed with its body's
    /// path for a body node (`If_0/then_branch/Constant_37`).
    public func qualifiedName(_ i: Int) -> String {
        let e = entries[i]
        guard let b = e.body else { return e.name }
        let own = e.name.hasPrefix("/") ? String(e.name.dropFirst()) : e.name
        return bodies[b].pathText + "/" + own
    }

    /// The graph holding entry `i` (the top-level graph or a body).
    public func graph(holding i: Int) -> Graph {
        entries[i].body.map { bodies[$0].graph } ?? graph
    }

    /// The node of entry `i`.
    public func node(_ i: Int) -> Node? { graph(holding: i).node(entries[i].id) }

    /// The body reached by `steps` from the top-level graph.
    public func body(at steps: [BodyStep]) -> Int? { bodyBySteps[steps] }

    /// The body whose scope path is exactly `path`.
    public func body(atPath path: [String]) -> Int? { bodyByPath[path] }

    // MARK: Scopes

    /// Names of the child scopes directly under `path`, in first-appearance order.
    public func children(of path: [String]) -> [String] { tree.children(of: path) }

    /// Entries whose path is exactly `path`.
    public func entries(directlyIn path: [String]) -> [Int] { tree.members(directlyIn: path) }

    /// Entries at or below `path`.
    public func entries(under path: [String]) -> [Int] { tree.members(under: path) }

    /// Number of nodes at or below `path` (0 for unknown paths).
    public func count(under path: [String]) -> Int { tree.count(under: path) }

    /// `/a/b` or `a/b` as scope components, if some node is at or below that scope.
    public func scopePath(_ text: String) -> [String]? {
        let parts = NodeCatalog.components(text)
        if parts.isEmpty { return [] }
        return tree.count(under: parts) > 0 ? parts : nil
    }

    static func components(_ text: String) -> [String] { text.split(separator: "/").map(String.init) }

    // MARK: Lookup

    /// Resolves a node reference, in this order: an id (`n12`, `#12`) means that id; then an
    /// exact display name; then a body-qualified name (`If_0/then_branch/Constant_37`); then a
    /// scope path ending in a name without `/` or in the last segment of a `/a/b/Op` name. The first rule that matches decides,
    /// and several matches under it are `.ambiguous`, never a silent pick.
    public func lookup(_ text: String) -> Lookup {
        if text.isEmpty { return .none }
        if let id = NodeCatalog.parseID(text), let hits = byID[id] { return NodeCatalog.result(hits) }
        if let hits = byName[text] { return NodeCatalog.result(hits) }
        let trimmed = text.hasPrefix("/") ? String(text.dropFirst()) : text
        // The innermost body whose path the text starts with.
        var best: (body: Int, rest: String)?
        for (b, body) in bodies.enumerated() {
            let prefix = body.pathText + "/"
            guard trimmed.hasPrefix(prefix), body.path.count > (best.map { bodies[$0.body].path.count } ?? -1) else { continue }
            best = (b, String(trimmed.dropFirst(prefix.count)))
        }
        if let (b, rest) = best {
            let hits = ((byName[rest] ?? []) + (byName["/" + rest] ?? [])).filter { entries[$0].body == b }
            if !hits.isEmpty { return NodeCatalog.result(hits.sorted()) }
        }
        var parts = NodeCatalog.components(trimmed)
        guard let leaf = parts.popLast() else { return .none }
        return NodeCatalog.result((byLeaf[leaf] ?? []).filter { entries[$0].path == parts })
    }

    /// Resolves what a drawing may open: a body (`If_0/then_branch`), a scope (top-level or in a
    /// body), the owner scope of bodies (`If_0`, meaning the owner node), or else a node
    /// reference as `lookup` reads it.
    public func locate(_ text: String) -> Location {
        let parts = NodeCatalog.components(text)
        if parts.isEmpty { return .scope(body: nil, path: []) }
        if tree.count(under: parts) > 0 {
            if let b = bodyByPath[parts] { return .body(b) }
            if let owner = ownerScopes[parts] { return .node(owner) }
            var inner: Int?
            for (b, body) in bodies.enumerated() where body.path.count < parts.count && Array(parts.prefix(body.path.count)) == body.path {
                if inner.map({ bodies[$0].path.count < body.path.count }) ?? true { inner = b }
            }
            if let b = inner { return .scope(body: b, path: Array(parts.dropFirst(bodies[b].path.count))) }
            if topLevel.count(under: parts) > 0 { return .scope(body: nil, path: parts) }
        }
        switch lookup(text) {
        case .node(let i): return .node(i)
        case .ambiguous(let hits): return .ambiguous(hits)
        case .none: return .none
        }
    }

    /// `n12` or `#12` as an id.
    static func parseID(_ text: String) -> NodeID? {
        guard text.hasPrefix("n") || text.hasPrefix("#") else { return nil }
        let digits = text.dropFirst()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let raw = Int(digits) else { return nil }
        return NodeID(raw)
    }

    private static func result(_ hits: [Int]) -> Lookup {
        switch hits.count {
        case 0: return .none
        case 1: return .node(hits[0])
        default: return .ambiguous(hits)
        }
    }

    // MARK: Completion

    /// Node references starting with `prefix`: display names of top-level nodes and qualified
    /// names of body nodes, in walk order, at most `limit`.
    public func nodeNames(startingWith prefix: String, limit: Int) -> [String] {
        var out: [String] = []
        for i in entries.indices where out.count < limit {
            let name = qualifiedName(i)
            if name.hasPrefix(prefix) { out.append(name) }
        }
        return out
    }

    /// Scope paths one level below what `prefix` has typed (`/enc` gives `/encoder/`, `If_0/t`
    /// gives `If_0/then_branch`), keeping the leading `/` when typed; a path with scopes below it
    /// ends in `/`.
    public func scopeNames(startingWith prefix: String) -> [String] {
        let lead = prefix.hasPrefix("/") ? "/" : ""
        let typed = (lead.isEmpty ? prefix : String(prefix.dropFirst())).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let parent = Array(typed.dropLast())
        let last = typed.last ?? ""
        if !parent.isEmpty && tree.count(under: parent) == 0 { return [] }
        return children(of: parent).filter { $0.hasPrefix(last) }.map { child in
            let path = parent + [child]
            return lead + path.joined(separator: "/") + (children(of: path).isEmpty ? "" : "/")
        }
    }
}
