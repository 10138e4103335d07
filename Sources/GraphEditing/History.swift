/// The version tree behind `undo`, `redo`, `checkout` and `history`. Every edit, pass or
/// plugin result is one step holding the resulting state; states are values that share
/// storage (copy-on-write graphs), so moving between steps is O(1) and re-runs nothing. A new
/// step made after an undo starts a branch: the tree keeps every step ever made.
import Foundation

/// Node, edge and parameter counts of a state, for a step's deltas.
public struct GraphCounts: Sendable, Equatable, Codable {
    public var nodes: Int
    public var edges: Int
    public var parameters: Int64

    public init(nodes: Int, edges: Int, parameters: Int64) {
        self.nodes = nodes
        self.edges = edges
        self.parameters = parameters
    }
}

/// One step of the tree.
public struct HistoryStep<State: Sendable>: Sendable {
    /// `@N`: steps are numbered in the order they were made; 0 is the loaded graph.
    public let number: Int
    /// The step this one was made from (nil for the root).
    public let parent: Int?
    /// What made it: `load`, `edit`, `pass NAME`, `plugin NAME`.
    public let origin: String
    /// The command that made it, as `history export` writes it.
    public let command: String
    /// The edits of the step (empty for loads and for results stored as snapshots).
    public let edits: [ScopedEdit]
    /// Counts after the step, and the counts of its parent (for deltas).
    public let counts: GraphCounts
    public let parentCounts: GraphCounts?
    public let time: Date
    /// The model-wide next node id when the step began: a replay reserves ids below it, so the
    /// nodes it adds get the same ids even though undone branches used some in between.
    public let firstNodeID: Int?
    /// The state after the step.
    public var state: State
}

/// Why a history move was refused.
public struct HistoryError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// The tree of steps of one graph and the step the user is on.
public struct History<State: Sendable>: Sendable {
    public private(set) var steps: [HistoryStep<State>]
    /// The step the graph is at now.
    public private(set) var current: Int
    /// For each step, the child `redo` goes to: the one made or visited last.
    private var redoChild: [Int: Int] = [:]

    /// A history whose root (step 0) is `state`, made by `command` (`load PATH`).
    public init(root state: State, counts: GraphCounts, command: String, origin: String = "load", time: Date = Date()) {
        steps = [HistoryStep(number: 0, parent: nil, origin: origin, command: command, edits: [], counts: counts,
                             parentCounts: nil, time: time, firstNodeID: nil, state: state)]
        current = 0
    }

    /// The state of the current step.
    public var state: State {
        get { steps[current].state }
        set { steps[current].state = newValue }
    }

    /// The current step.
    public var currentStep: HistoryStep<State> { steps[current] }

    /// Adds a step made from the current one and moves to it; returns its number. O(1).
    @discardableResult
    public mutating func commit(_ state: State, counts: GraphCounts, origin: String, command: String, edits: [ScopedEdit],
                                time: Date = Date(), firstNodeID: Int? = nil) -> Int {
        let n = steps.count
        steps.append(HistoryStep(number: n, parent: current, origin: origin, command: command, edits: edits, counts: counts,
                                 parentCounts: steps[current].counts, time: time, firstNodeID: firstNodeID, state: state))
        redoChild[current] = n
        current = n
        return n
    }

    /// Moves `count` steps toward the root; returns the new current step.
    @discardableResult
    public mutating func undo(_ count: Int = 1) throws -> Int {
        guard count >= 1 else { throw HistoryError(message: "undo takes a count of 1 or more") }
        var at = current
        for done in 0..<count {
            guard let p = steps[at].parent else {
                throw HistoryError(message: done == 0 ? "nothing to undo: the graph is at @0 (as loaded)"
                                   : "only \(done) step\(done == 1 ? "" : "s") to undo (then @0, as loaded)")
            }
            redoChild[p] = at
            at = p
        }
        current = at
        return at
    }

    /// Moves `count` steps back along the branch last undone or visited; returns the new step.
    @discardableResult
    public mutating func redo(_ count: Int = 1) throws -> Int {
        guard count >= 1 else { throw HistoryError(message: "redo takes a count of 1 or more") }
        var at = current
        for done in 0..<count {
            guard let c = redoChild[at] else {
                throw HistoryError(message: done == 0 ? "nothing to redo at @\(at)"
                                   : "only \(done) step\(done == 1 ? "" : "s") to redo")
            }
            at = c
        }
        current = at
        return at
    }

    /// Moves to any step of the tree; the branch through it becomes the one `redo` follows.
    public mutating func checkout(_ number: Int) throws {
        guard steps.indices.contains(number) else {
            throw HistoryError(message: "no step @\(number); steps are @0...@\(steps.count - 1) (`history` lists them)")
        }
        var child = number
        while let p = steps[child].parent {
            redoChild[p] = child
            child = p
        }
        current = number
    }

    /// Step numbers from the root to `number` (the commands that rebuild it).
    public func path(to number: Int) -> [Int] {
        var out: [Int] = []
        var at: Int? = number
        while let a = at {
            out.append(a)
            at = steps[a].parent
        }
        return out.reversed()
    }

    /// Children of a step, in creation order.
    public func children(of number: Int) -> [Int] {
        steps.filter { $0.parent == number }.map(\.number)
    }

    /// The tree in display order (depth-first, older branches first) with each step's depth
    /// of branching (the main line has depth 0, a branch from it depth 1, ...) and whether it
    /// starts a branch (the second or later child of its parent).
    public var treeOrder: [(step: Int, depth: Int, startsBranch: Bool)] {
        var childrenOf: [Int: [Int]] = [:]
        for s in steps { if let p = s.parent { childrenOf[p, default: []].append(s.number) } }
        var out: [(Int, Int, Bool)] = []
        var stack: [(Int, Int, Bool)] = [(0, 0, false)]
        while let (s, d, b) = stack.popLast() {
            out.append((s, d, b))
            let kids = childrenOf[s] ?? []
            // The first child continues the line; later ones are branches, one level deeper.
            for (i, k) in kids.enumerated().reversed() { stack.append((k, i == 0 ? d : d + 1, i > 0)) }
        }
        return out
    }

    /// True when `number` lies on the path from the root to the current step.
    public func isOnCurrentPath(_ number: Int) -> Bool { path(to: current).contains(number) }
}
