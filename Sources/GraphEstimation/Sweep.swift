import Foundation
import Dispatch

/// The what-if grid engine behind `sweep KEY=LIST... metric=...`: the cartesian product of
/// axes, evaluated in parallel across cores, with progress reports and cooperative
/// cancellation. It knows nothing about graphs or LLMs: callers pass the evaluation closure.

/// One value on a sweep axis.
public enum SweepValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int), double(Double), text(String)

    public var description: String {
        switch self { case .int(let i): return String(i); case .double(let d): return String(d); case .text(let s): return s }
    }
    /// The value as an Int when it is integral.
    public var intValue: Int? {
        switch self { case .int(let i): return i; case .double(let d): return d == d.rounded() && abs(d) < 9e18 ? Int(d) : nil; case .text(let s): return Int(s) }
    }
    public var doubleValue: Double? {
        switch self { case .int(let i): return Double(i); case .double(let d): return d; case .text(let s): return Double(s) }
    }
}

/// A named axis with its values, e.g. `batch=1,2,4,8`.
public struct SweepAxis: Sendable, Hashable {
    public var key: String
    public var values: [SweepValue]
    public init(key: String, values: [SweepValue]) { self.key = key; self.values = values }

    /// Parses `KEY=V1,V2,...`; values may be ints, numbers, words, or an int range `a..b`
    /// (inclusive) / geometric `a..b*2`. Errors name the offending text.
    public static func parse(_ text: String) throws -> SweepAxis {
        guard let eq = text.firstIndex(of: "=") else { throw EstimationError.badSweepAxis("\"\(text)\" is not KEY=LIST") }
        let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let list = String(text[text.index(after: eq)...])
        guard !key.isEmpty else { throw EstimationError.badSweepAxis("\"\(text)\" has an empty key") }
        var values: [SweepValue] = []
        for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
            let item = raw.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { throw EstimationError.badSweepAxis("\(key): empty value in \"\(list)\"") }
            if let r = item.range(of: "..") {
                let lo = item[..<r.lowerBound], rest = item[r.upperBound...]
                let parts = rest.split(separator: "*", maxSplits: 1)
                guard let a = Int(lo), let bText = parts.first, let b = Int(bText), a <= b else {
                    throw EstimationError.badSweepAxis("\(key): bad range \"\(item)\" (use a..b or a..b*factor)")
                }
                if parts.count == 2 {
                    guard let f = Int(parts[1]), f > 1, a > 0 else { throw EstimationError.badSweepAxis("\(key): bad factor in \"\(item)\"") }
                    var v = a; while v <= b { values.append(.int(v)); if v > Int.max / f { break }; v *= f }
                } else {
                    guard b - a < 100_000 else { throw EstimationError.badSweepAxis("\(key): range \"\(item)\" is too long") }
                    values += (a...b).map { .int($0) }
                }
            } else if let i = Int(item) { values.append(.int(i)) }
            else if let d = Double(item) { values.append(.double(d)) }
            else { values.append(.text(item)) }
        }
        return SweepAxis(key: key, values: values)
    }
}

/// One grid point: the value of every axis.
public struct SweepPoint: Sendable, Hashable {
    public var index: Int
    public var values: [String: SweepValue]
    public subscript(key: String) -> SweepValue? { values[key] }
}

/// Outcome of a sweep: results in grid order (nil where not evaluated because cancelled, or
/// where the evaluation threw), the errors by point, and whether it was cancelled.
public struct SweepResult<R: Sendable>: Sendable {
    public var axes: [SweepAxis]
    public var points: [SweepPoint]
    public var results: [R?]
    public var errors: [Int: String]
    public var cancelled: Bool
    /// Number of points evaluated (successfully or not).
    public var completed: Int
}

/// Evaluates a grid in parallel.
public struct SweepEngine: Sendable {
    /// Worker count; defaults to the active processor count.
    public var concurrency: Int
    /// Points per work item: small enough to balance, large enough to amortise scheduling.
    public var chunkSize: Int

    public init(concurrency: Int = ProcessInfo.processInfo.activeProcessorCount, chunkSize: Int = 8) {
        self.concurrency = max(1, concurrency); self.chunkSize = max(1, chunkSize)
    }

    /// The grid's points in row-major order (the last axis varies fastest).
    public static func grid(_ axes: [SweepAxis]) -> [SweepPoint] {
        var points: [SweepPoint] = [SweepPoint(index: 0, values: [:])]
        for axis in axes {
            var next: [SweepPoint] = []
            next.reserveCapacity(points.count * max(axis.values.count, 1))
            for p in points { for v in axis.values { var q = p; q.values[axis.key] = v; next.append(q) } }
            points = next
        }
        for i in points.indices { points[i].index = i }
        return axes.isEmpty ? [] : points
    }

    /// Runs `evaluate` on every point. `progress(done, total)` is called (serially, from
    /// worker threads) after each chunk; `isCancelled` is polled before each point, and once it
    /// returns true no new point starts.
    public func run<R: Sendable>(axes: [SweepAxis],
                                 progress: (@Sendable (Int, Int) -> Void)? = nil,
                                 isCancelled: (@Sendable () -> Bool)? = nil,
                                 evaluate: @Sendable (SweepPoint) throws -> R) -> SweepResult<R> {
        let points = SweepEngine.grid(axes)
        let total = points.count
        let box = ResultBox<R>(count: total)
        let chunks = (total + chunkSize - 1) / chunkSize
        let chunkSize = self.chunkSize
        let workers = min(concurrency, max(chunks, 1))
        let next = AtomicCounter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let c = next.increment() - 1
                if c >= chunks { return }
                let start = c * chunkSize, end = min(start + chunkSize, total)
                var local: [(Int, Result<R, Error>)] = []
                for i in start..<end {
                    if isCancelled?() == true { box.markCancelled(); break }
                    do { local.append((i, .success(try evaluate(points[i])))) } catch { local.append((i, .failure(error))) }
                }
                let done = box.store(local)
                progress?(done, total)
                if box.isCancelled { return }
            }
        }
        return box.result(axes: axes, points: points)
    }
}

/// Thread-safe storage for sweep results.
private final class ResultBox<R: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [R?]
    private var errors: [Int: String] = [:]
    private var done = 0
    private var cancelledFlag = false
    init(count: Int) { results = Array(repeating: nil, count: count) }

    func store(_ items: [(Int, Result<R, Error>)]) -> Int {
        lock.lock(); defer { lock.unlock() }
        for (i, r) in items {
            switch r {
            case .success(let v): results[i] = v
            case .failure(let e): errors[i] = String(describing: e)
            }
        }
        done += items.count
        return done
    }
    func markCancelled() { lock.lock(); cancelledFlag = true; lock.unlock() }
    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelledFlag }
    func result(axes: [SweepAxis], points: [SweepPoint]) -> SweepResult<R> {
        lock.lock(); defer { lock.unlock() }
        return SweepResult(axes: axes, points: points, results: results, errors: errors, cancelled: cancelledFlag, completed: done)
    }
}

/// A lock-based counter handing out chunk numbers.
private final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

/// What a sweep measures.
public enum SweepMetric: String, Sendable, Hashable, CaseIterable {
    case latency, memory, energy, throughput
}
