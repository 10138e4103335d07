/// `ScopeTree`: the tree of named scopes (paths of strings) over a set of members, with member
/// counts per scope. The one structure under both `Hierarchy` (top-level nodes by `NodeID`) and
/// `NodeCatalog` (every node of a model, bodies included).

/// Scopes and their members, in first-appearance order. Members are added once, in order.
/// (Internal: `Hierarchy` and `NodeCatalog` expose the queries their callers need.)
struct ScopeTree<Member: Hashable & Sendable>: Sendable {
    private var childIndex: [[String]: [String]] = [:]
    private var directMembers: [[String]: [Member]] = [:]
    private var counts: [[String]: Int] = [:]

    /// An empty tree.
    init() {}

    /// Adds `member` at `path` (empty = root), creating the scopes on the way.
    mutating func add(_ member: Member, at path: [String]) {
        directMembers[path, default: []].append(member)
        for k in 0...path.count {
            let prefix = Array(path.prefix(k))
            counts[prefix, default: 0] += 1
            if k < path.count {
                let child = path[k]
                if !(childIndex[prefix]?.contains(child) ?? false) { childIndex[prefix, default: []].append(child) }
            }
        }
    }

    /// Names of the child scopes directly under `path`, in first-appearance order.
    func children(of path: [String]) -> [String] { childIndex[path] ?? [] }

    /// Members whose path is exactly `path`.
    func members(directlyIn path: [String]) -> [Member] { directMembers[path] ?? [] }

    /// All members at or below `path`: direct members first, then each child scope in order.
    func members(under path: [String]) -> [Member] {
        var out: [Member] = []
        // Iterative: scopes can nest as deep as a model's names do.
        var stack: [[String]] = [path]
        while let p = stack.popLast() {
            out.append(contentsOf: directMembers[p] ?? [])
            for c in children(of: p).reversed() { stack.append(p + [c]) }
        }
        return out
    }

    /// Number of members at or below `path` (0 for unknown paths).
    func count(under path: [String]) -> Int { counts[path] ?? 0 }

    /// Every scope path with members at or below it (root excluded), parents before children.
    var allPaths: [[String]] {
        var out: [[String]] = []
        var stack: [[String]] = children(of: []).reversed().map { [$0] }
        while let p = stack.popLast() {
            out.append(p)
            for c in children(of: p).reversed() { stack.append(p + [c]) }
        }
        return out
    }

    /// True when no member has a non-empty path.
    var isFlat: Bool { childIndex[[]]?.isEmpty ?? true }
}
