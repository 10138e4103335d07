/// `NodeIDSpace`: the source of fresh node ids, one per model. Owns the rule that makes node
/// ids unique across a whole model:
///
/// - Every graph of a model (the main graph, every If/Loop/Scan body at any depth, every
///   function body) draws new ids from one shared space. The ONNX reader numbers all nodes in
///   one sequence (main graph, bodies and functions) and gives every graph it builds the same
///   space; a graph built by hand gets its own, and adopting a body (`Graph.init`, `addNode`,
///   `modifyNode`, `Model.init`) joins the body's space to the graph's.
/// - The space is shared by every copy and every version of those graphs, so an id is handed
///   out once: `addNode` in a body (whether reached through the model or pulled out of its
///   owner's attribute and put back) never collides with an id used anywhere in the model, and
///   an undone edit's id is never handed out again.
/// - Ids already assigned never change under edits (`addNode` assigns one, nothing renumbers).
///
/// The space is a reference inside the value-type `Graph`, like a counter of fresh names: it
/// decides only which unused number a new node gets, never what a graph contains, so graph
/// equality ignores it. Joined spaces stay joined (a forwarding link to one root); graphs built
/// by hand from separately numbered parts may still repeat ids, which `NodeCatalog` reports as
/// ambiguous rather than guessing.
import Foundation  // NSLock

/// A model's source of fresh node ids (see the file header). `package` so readers can give all
/// the graphs they build one space.
package final class NodeIDSpace: @unchecked Sendable {
    private let lock = NSLock()
    /// The next id to hand out (meaningful only while `forward` is nil).
    private var next: Int
    /// The space this one was joined into.
    private var forward: NodeIDSpace?

    /// A space whose first fresh id is `next`.
    package init(next: Int) { self.next = max(0, next) }

    /// The root of the joined spaces (the one that counts). Links walked are pointed straight
    /// at it, so a space joined many times is still one step from its root.
    private func root() -> NodeIDSpace {
        var s = self
        while true {
            s.lock.lock()
            let f = s.forward
            s.lock.unlock()
            guard let f else { break }
            s = f
        }
        var t = self
        while t !== s {
            t.lock.lock()
            let f = t.forward
            if f != nil { t.forward = s }  // a root only ever gains a link, so `s` stays valid
            t.lock.unlock()
            guard let f else { break }
            t = f
        }
        return s
    }

    /// Runs `body` on the root's counter with the root locked (retrying if a join moved it).
    private func withRoot<R>(_ body: (inout Int) -> R) -> R {
        while true {
            let r = root()
            r.lock.lock()
            if r.forward != nil { r.lock.unlock(); continue }
            defer { r.lock.unlock() }
            return body(&r.next)
        }
    }

    /// A fresh id, never handed out before by this space (or any joined to it).
    package func allocate() -> Int { withRoot { n in defer { n += 1 }; return n } }

    /// The id `allocate` would return now.
    package var peek: Int { withRoot { $0 } }

    /// Makes sure ids below `n` are never handed out.
    package func reserve(below n: Int) { withRoot { $0 = max($0, n) } }

    /// Joins `other` to this space: afterwards both hand out ids from one counter, above
    /// everything either could have handed out.
    package func join(_ other: NodeIDSpace) {
        while true {
            let a = root(), b = other.root()
            if a === b { return }
            // Lock in a fixed (address) order so two concurrent joins cannot deadlock.
            let (first, second) = ObjectIdentifier(a) < ObjectIdentifier(b) ? (a, b) : (b, a)
            first.lock.lock()
            second.lock.lock()
            if a.forward != nil || b.forward != nil {
                second.lock.unlock(); first.lock.unlock()
                continue
            }
            // This space joins the other's root: a graph adopting bodies (or a reader's graph
            // adopting the model's space) keeps the long-lived root, so links stay short.
            b.next = max(a.next, b.next)
            a.forward = b
            second.lock.unlock(); first.lock.unlock()
            return
        }
    }

    /// Whether two spaces hand out ids from the same counter.
    package func isJoined(with other: NodeIDSpace) -> Bool { root() === other.root() }
}
