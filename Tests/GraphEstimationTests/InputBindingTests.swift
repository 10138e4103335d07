import XCTest
import Foundation
@testable import GraphEstimation
import GraphIR

/// `InputBinding`: what `batch=`, bindings and `shape=` do to a graph's inputs.
final class InputBindingTests: XCTestCase {
    func relu(_ inputs: [(String, [Dim])]) -> OpGraph {
        var b = GraphBuilder()
        for (name, dims) in inputs { b.input(name, dims) }
        b.node("Relu", [inputs[0].0], ["y"])
        b.output("y")
        return b.g
    }

    func testBatchBindsUnnamedAndOddlyNamedLeadingDims() throws {
        // -1 and "?" are how exporters write "dynamic": both are unnamed
        let g = relu([("x", [.known(-1), .known(3)]), ("m", [.symbolic("?"), .known(4)]), ("k", [.symbolic("DynamicDimension.0"), .known(2)])])
        let r = try InputBinding.resolve(g, batch: 8)
        XCTAssertEqual(r.shapes.values.map { $0[0] }, [8, 8, 8])
        XCTAssertEqual(r.bindings["DynamicDimension.0"], 8)
        XCTAssertEqual(r.batchSize, 8)
        XCTAssertTrue(r.notes.first?.contains("\"k\" dim 0 (DynamicDimension.0)") ?? false, "\(r.notes)")
        // without batch=, the unnamed dims are an error that names both inputs and gives shape= that works
        XCTAssertThrowsError(try InputBinding.resolve(g)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("shape=x:1x3") && m.contains("shape=m:1x4"), m)
        }
    }

    func testADimNamedBatchWinsOverTheLeadingDim() throws {
        // seq-first layout: batch= must bind `batch`, not the leading `seq`
        let g = relu([("x", [.symbolic("seq"), .symbolic("batch"), .known(16)]), ("state", [.known(2), .symbolic("batch"), .known(16)])])
        let r = try InputBinding.resolve(g, batch: 4, bindings: ["seq": 10])
        XCTAssertEqual(r.shapes[g.inputs[0]], [10, 4, 16])
        XCTAssertEqual(r.shapes[g.inputs[1]], [2, 4, 16])          // fixed leading 2, batch inside: no complaint
        XCTAssertTrue(r.notes.isEmpty, "\(r.notes)")
    }

    func testFixedLeadingDimsAndUserBindingsAreNeverSilentlyOverridden() throws {
        let fixed = relu([("data", [.known(1), .known(3), .known(4), .known(4)])])
        XCTAssertThrowsError(try InputBinding.resolve(fixed, batch: 16)) { e in
            XCTAssertEqual((e as? EstimationError).map { if case .badInput(let o, _) = $0 { return o } else { return "" } }, "batch")
            XCTAssertTrue("\(e)".contains("shape=data:16x3x4x4"), "\(e)")
        }
        // shape= confirms the layout; batch= then sets its leading dim
        XCTAssertEqual(try InputBinding.resolve(fixed, batch: 16, inputShapes: ["data": [1, 3, 4, 4]]).shapes[fixed.inputs[0]], [16, 3, 4, 4])
        // batch= equal to the fixed size is consistent
        XCTAssertEqual(try InputBinding.resolve(fixed, batch: 1).batchSize, 1)
        // a user binding of the leading symbol wins, and says so; if it leaves nothing for batch=, that is an error
        let named = relu([("x", [.symbolic("N"), .known(3)])])
        XCTAssertThrowsError(try InputBinding.resolve(named, batch: 8, bindings: ["N": 2]))
        let both = relu([("x", [.symbolic("N"), .known(3)]), ("h", [.known(1), .known(1), .known(8)])])
        let r = try InputBinding.resolve(both, batch: 8)
        XCTAssertTrue(r.notes.contains { $0.contains("\"h\" keeps its fixed leading dimension 1") }, "\(r.notes)")
        // a binding that shape= contradicts
        XCTAssertThrowsError(try InputBinding.resolve(named, bindings: ["N": 2], inputShapes: ["x": [4, 3]]))
    }

    func testShapeOverridesMustNameAnInputOfTheDeclaredRank() {
        let g = relu([("x", [.symbolic("N"), .known(3)])])
        XCTAssertThrowsError(try InputBinding.resolve(g, inputShapes: ["y": [1, 3]])) { XCTAssertTrue("\($0)".contains("\"x\" [N,3]"), "\($0)") }
        XCTAssertThrowsError(try InputBinding.resolve(g, inputShapes: ["x": [1, 3, 1]])) {
            XCTAssertTrue("\($0)".contains("rank 3") && "\($0)".contains("rank 2"), "\($0)")
        }
        XCTAssertEqual(try InputBinding.resolve(g, inputShapes: ["x": [5, 3]]).batchSize, 5)
    }

    func testSweepValidationCoversEveryPointBeforeAnyWork() throws {
        let g = relu([("x", [.symbolic("N"), .known(3)])])
        var base = EstimateOptions()
        base.inputShapes = ["x": [1, 3]]
        base.hardware = testDevice()
        let sweep = GraphSweep(graph: g, registry: HardwareRegistry(targets: [testDevice()]), base: base)
        // the last point contradicts shape=: the whole sweep fails before any evaluation
        let axes = [SweepAxis(key: "N", values: (1...1).map { .int($0) } + [.int(7)])]
        XCTAssertThrowsError(try sweep.validate(axes)) { XCTAssertTrue("\($0)".contains("N=7"), "\($0)") }
        let polls = Polls()
        XCTAssertThrowsError(try sweep.run(axes: axes, isCancelled: { polls.count(); return false }))
        XCTAssertEqual(polls.value, 0, "no point was started")
        // batch is an axis of every graph with inputs, and throughput counts it; progress counts
        // the shape analyses (one per batch here) and then the points
        let batched = GraphSweep(graph: g, registry: HardwareRegistry(targets: [testDevice()]), base: base)
        let batchAxis = [SweepAxis(key: "batch", values: [.int(1), .int(4)])]
        XCTAssertEqual(try batched.validate(batchAxis), 2)
        let reports = Reports()
        let run = try batched.run(axes: batchAxis, engine: SweepEngine(concurrency: 1, chunkSize: 1), progress: { reports.add($0, $1) })
        XCTAssertEqual(reports.all.map(\.done), [1, 2, 3, 4])
        XCTAssertEqual(Set(reports.all.map(\.total)), [4])
        let figures = run.results.compactMap { $0 }
        XCTAssertEqual(figures.count, 2)
        for (f, b) in zip(figures, [1.0, 4.0]) { XCTAssertEqual(f.throughput, b / f.latency.value, accuracy: f.throughput * 1e-12) }
    }
}

/// Counts calls from worker threads.
private final class Polls: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func count() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// Records progress reports from worker threads.
private final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(done: Int, total: Int)] = []
    func add(_ done: Int, _ total: Int) { lock.lock(); items.append((done, total)); lock.unlock() }
    var all: [(done: Int, total: Int)] { lock.lock(); defer { lock.unlock() }; return items }
}
