/// The estimator's per-binding view of shapes (`ShapeTable`: one concrete shape, constness and
/// element size per value, what control flow will do), and the small integer helpers the cost
/// formulas share. The shapes themselves come from GraphOps' symbolic inference, evaluated per
/// binding (see `SymbolicShapes`); nothing here infers a shape.
import GraphIR

/// Shapes of one binding: per value index.
public struct ShapeTable: Sendable {
    /// Concrete shape per value (nil when unknown).
    public var shapes: [[Int]?]
    /// Whether the value is a constant (initializer or folded).
    public var isConstant: [Bool]
    /// Bits per element per value.
    public var elementBits: [Int]
    /// Whether each value is floating point.
    public var isFloat: [Bool]
    /// Nodes that were folded (all inputs constant).
    public var folded: [Bool]
    /// Element count per value (-1 when the shape is unknown): saves re-multiplying shapes.
    public var elementCounts: [Int] = []
    /// Problems by node index, in node order.
    public var issues: [(node: Int, message: String)]
    /// What the bound graph's constants tell about each If/Loop/Scan, by node index.
    public var controlFlow: [Int: ControlFlowFacts] = [:]
    /// What `batch=` did to the inputs (see `InputBinding.notes`).
    public var inputNotes: [String] = []
    /// Samples per run of the graph (see `InputBinding.batchSize`).
    public var batchSize = 1
}

/// What an If/Loop/Scan will do at run time, as far as constants and shapes tell.
public struct ControlFlowFacts: Sendable, Hashable {
    /// If: the condition's value when known.
    public var condition: Bool?
    /// Loop: iterations (constant `M`, or a binding; with a loop condition as well, `M` is an
    /// upper bound, since the body may stop early); Scan: the sequence length; nil when unknown.
    public var trips: Int?
    /// Where `trips` came from (`M`, a binding, the scan axis), for notes.
    public var tripSource = ""
}

/// Integer helpers on concrete shapes.
enum ShapeMath {
    /// Element count (saturating).
    static func volume(_ s: [Int]) -> Int { s.reduce(1) { satMul($0, $1) } }
    /// A possibly negative axis made non-negative for `rank`.
    static func axis(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a }
}

/// A parsed einsum equation (explicit `->` form, or implicit output in alphabetical order):
/// its multiply count is cost knowledge (the product of every distinct index size).
struct EinsumSpec {
    var inputs: [[Character]]
    var output: [Character]
    init?(_ equation: String) {
        let eq = equation.replacingOccurrences(of: " ", with: "")
        if eq.contains("...") { return nil }
        let parts = eq.components(separatedBy: "->")
        inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        if parts.count > 1 { output = Array(parts[1]) } else {
            var counts: [Character: Int] = [:]
            for s in inputs { for c in s { counts[c, default: 0] += 1 } }
            output = counts.filter { $0.value == 1 }.keys.sorted()
        }
    }
    func sizes(_ shapes: [[Int]]) -> [Character: Int] {
        var m: [Character: Int] = [:]
        for (s, sh) in zip(inputs, shapes) { for (c, d) in zip(s, sh) { m[c] = max(m[c] ?? 1, d) } }
        return m
    }
    /// Product of every distinct index size: the multiply count of a direct evaluation.
    func macs(_ shapes: [[Int]]) -> Int { sizes(shapes).values.reduce(1) { satMul($0, $1) } }
}

/// Saturating multiply: shapes come from user files, so overflow must not trap.
@inline(__always) func satMul(_ a: Int, _ b: Int) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? Int.max : r
}

extension Array where Element == Int {
    subscript(safe i: Int, fallback: Int) -> Int { i >= 0 && i < count ? self[i] : fallback }
}

/// The shapes of a node's inputs or outputs read in place from the shape table, so no array
/// is built per node.
struct ShapesView: RandomAccessCollection {
    let ids: [Int]
    let shapes: [[Int]?]
    var startIndex: Int { 0 }
    var endIndex: Int { ids.count }
    subscript(i: Int) -> [Int]? { let v = ids[i]; return v >= 0 ? shapes[v] : nil }
    subscript(safe i: Int) -> [Int]? { i >= 0 && i < ids.count ? self[i] : nil }
}
