/// Values kept channel-blocked between direct convs (`ConvKernels.planAlgorithms`, the
/// GS_BLOCKED_* layouts of `gs_direct_conv`): networks of chained convs, run with constant
/// weights (planned direct and blocked) and with the weights fed as inputs (im2col + sgemm,
/// never blocked), agree; a blocked output with an NCHW residual and the reverse, stride-2 and
/// padded convs reading a blocked input, channel counts that leave padding lanes, batches,
/// MaxPools on blocks; a value read by anything but a direct conv or such a MaxPool, a graph
/// output and `keep: .all` stay NCHW.
import Foundation
import GraphIR
import XCTest
@testable import GraphRuntime

final class BlockedLayoutTests: XCTestCase {
    /// A network under construction: nodes, and weights that are initializers in one model and
    /// graph inputs in the other.
    struct Net {
        var nodes: [Node] = []
        var weights: [(name: String, values: [Float], shape: [Int])] = []
        var biases: [Tensor] = []
        var seed: UInt64 = 100

        /// A Conv `c -> m` with a k x k window, bias and the given stride and pads.
        /// A Conv `c -> m` (all groups together) with a k x k window, bias and the given stride,
        /// pads and groups.
        mutating func conv(_ x: String, _ c: Int, _ m: Int, k: Int, stride: Int = 1, pads: [Int] = [0, 0, 0, 0],
                           groups: Int = 1, _ out: String) {
            seed += 2
            let w = "\(out)_w", b = "\(out)_b", cg = c / groups
            // Scaled so sums over c*k*k products stay near 1.
            let scale = Float(2.0 / Double(cg * k * k).squareRoot())
            weights.append((w, noise(m * cg * k * k, seed: seed).map { $0 * scale }, [m, cg, k, k]))
            biases.append(Tensor(name: b, floats: noise(m, seed: seed + 1), dims: [Int64(m)]))
            nodes.append(Node(opType: "Conv", inputs: [x, w, b], outputs: [out],
                              attributes: [Attribute("kernel_shape", .ints([Int64(k), Int64(k)])),
                                           Attribute("strides", .ints([Int64(stride), Int64(stride)])),
                                           Attribute("pads", .ints(pads.map(Int64.init))),
                                           Attribute("group", .int(Int64(groups)))]))
        }

        mutating func op(_ type: String, _ inputs: [String], _ out: String, _ attributes: [Attribute] = []) {
            nodes.append(Node(opType: type, inputs: inputs, outputs: [out], attributes: attributes))
        }

        /// The model with constant weights, and the one that is fed them.
        func models(input: (String, [Int]), outputs: [String]) -> (constant: Model, fed: Model) {
            let x = (input.0, input.1.map(Int64.init))
            let constant = model(nodes, inputs: [x], outputs: outputs,
                                 initializers: weights.map { Tensor(name: $0.name, floats: $0.values, dims: $0.shape.map(Int64.init)) } + biases)
            let fed = model(nodes, inputs: [x] + weights.map { ($0.name, $0.shape.map(Int64.init)) }, outputs: outputs,
                            initializers: biases)
            return (constant, fed)
        }

        var feeds: [String: RuntimeTensor] {
            var out: [String: RuntimeTensor] = [:]
            for w in weights { out[w.name] = t(w.values, w.shape) }
            return out
        }
    }

    /// Runs both models on `x`; returns the plan of the constant one and both outputs.
    /// `preference` settles 64-127-channel 3x3 convs; fixed by default, so the layouts these
    /// tests check do not depend on the machine's timings.
    func run(_ net: Net, input: (String, [Int]), outputs: [String], keep: KeepRequest = .none,
             preference: WinogradPreference = .never, choices: ConvChoices = ConvChoices())
        throws -> (plan: ExecutionPlan, constant: [[Float]], fed: [[Float]]) {
        let (constant, fed) = net.models(input: input, outputs: outputs)
        let x = t(noise(input.1.reduce(1, *), seed: 7), input.1)
        let interp = try Interpreter(model: constant, convChoices: choices)
        interp.winogradPreference = preference
        let plan = try interp.plan(inputShapes: [input.0: input.1], keep: keep)
        let a = try interp.run([input.0: x], keep: keep).outputs.map { $0.tensor.floatValues() }
        let b = try Interpreter(model: fed).run(net.feeds.merging([input.0: x]) { a, _ in a }).outputs
            .map { $0.tensor.floatValues() }
        return (plan, a, b)
    }

    /// Runs `net` at each batch size in `batches`, checks the plan's counts (nil: not checked)
    /// and that both models agree.
    func check(_ net: Net, input: (String, [Int]), batches: [Int], outputs: [String], direct: Int? = nil,
               blocked: Int, pools: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        for n in batches {
            let r = try run(net, input: (input.0, [n] + input.1.dropFirst()), outputs: outputs)
            if let direct { XCTAssertEqual(r.plan.directConvs, direct, "n \(n)", file: file, line: line) }
            if let pools { XCTAssertEqual(r.plan.blockedPools, pools, "n \(n)", file: file, line: line) }
            XCTAssertEqual(r.plan.blockedValues, blocked, "n \(n)", file: file, line: line)
            assertAgree(r, file: file, line: line)
        }
    }

    func assertAgree(_ r: (plan: ExecutionPlan, constant: [[Float]], fed: [[Float]]), file: StaticString = #filePath,
                     line: UInt = #line) {
        XCTAssertEqual(r.constant.count, r.fed.count, file: file, line: line)
        for (a, b) in zip(r.constant, r.fed) {
            let scale = max(1, b.map(abs).max() ?? 0)
            XCTAssertLessThan(maxError(a, b, file: file, line: line), 2e-4 * scale, file: file, line: line)
        }
    }

    /// Three ResNet bottleneck blocks on [n, 256, 8, 8]: the second downsamples (a stride-2
    /// 3x3 and a stride-2 1x1 on the blocked block input), the last block's output is a graph
    /// output (so NCHW, its residual blocked) and also pooled; the first reads the graph input
    /// as its residual (NCHW) while its output stays blocked.
    func bottlenecks(relu6: Bool = false) -> Net {
        var net = Net()
        func act(_ x: String, _ out: String) {
            if relu6 {
                net.op("Clip", [x, "lo", "hi"], out)
            } else {
                net.op("Relu", [x], out)
            }
        }
        if relu6 {
            net.biases += [Tensor(name: "lo", floats: [0], dims: []), Tensor(name: "hi", floats: [6], dims: [])]
        }
        net.conv("x", 256, 64, k: 1, "a1"); act("a1", "a1r")
        net.conv("a1r", 64, 64, k: 3, pads: [1, 1, 1, 1], "b1"); act("b1", "b1r")
        net.conv("b1r", 64, 256, k: 1, "c1")
        net.op("Add", ["c1", "x"], "s1"); act("s1", "y1")

        net.conv("y1", 256, 64, k: 1, "a2"); act("a2", "a2r")
        net.conv("a2r", 64, 64, k: 3, stride: 2, pads: [1, 1, 1, 1], "b2"); act("b2", "b2r")
        net.conv("b2r", 64, 256, k: 1, "c2")
        net.conv("y1", 256, 256, k: 1, stride: 2, "d2")
        net.op("Add", ["c2", "d2"], "s2"); act("s2", "y2")

        net.conv("y2", 256, 64, k: 1, "a3"); act("a3", "a3r")
        net.conv("a3r", 64, 64, k: 3, pads: [1, 1, 1, 1], "b3"); act("b3", "b3r")
        net.conv("b3r", 64, 256, k: 1, "c3")
        net.op("Add", ["c3", "y2"], "s3"); act("s3", "y3")
        net.op("GlobalAveragePool", ["y3"], "pooled")
        return net
    }

    func testBottlenecksAgreeWithIm2col() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing blocked")
        for (n, relu6) in [(1, false), (2, false), (1, true)] {
            let r = try run(bottlenecks(relu6: relu6), input: ("x", [n, 256, 8, 8]), outputs: ["y3", "pooled"])
            XCTAssertEqual(r.plan.directConvs, 10, "n \(n) relu6 \(relu6)")
            // Blocked: a1r, b1r, y1, a2r, b2r, d2 (fused into c2's residual), y2, a3r, b3r.
            XCTAssertEqual(r.plan.blockedValues, 9, "n \(n) relu6 \(relu6)")
            assertAgree(r)
        }
    }

    func testPlainConvChainWithPaddingLanes() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing blocked")
        // 24 and 40 channels leave 8 padding lanes in their last block; asymmetric pads and a
        // stride-2 5x5 (in two chunks of input blocks) read the blocked input through a padded
        // copy; the 1x1s with no pads read it in place.
        var net = Net()
        net.conv("x", 16, 24, k: 3, pads: [1, 1, 1, 1], "a"); net.op("Relu", ["a"], "ar")
        net.conv("ar", 24, 40, k: 3, pads: [0, 1, 2, 1], "b")
        net.conv("b", 40, 64, k: 5, stride: 2, pads: [2, 2, 2, 2], "c"); net.op("Relu", ["c"], "cr")
        net.conv("cr", 64, 256, k: 1, "d")
        net.conv("d", 256, 256, k: 1, "e")
        // 16 input blocks in chunks of 7: the last chunk's tiles store through the epilogue.
        net.conv("e", 256, 256, k: 3, pads: [1, 1, 1, 1], "f"); net.op("Relu", ["f"], "fr")
        net.conv("fr", 256, 32, k: 3, "y")
        try check(net, input: ("x", [1, 16, 13, 15]), batches: [1, 3], outputs: ["y"], direct: 7, blocked: 6)
    }

    func testMaxPoolsOnBlocks() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing blocked")
        // A ResNet stem: a planar 7x7 stride-2 conv, a 3x3 stride-2 MaxPool with pads on blocks
        // (output blocked), then a ceil-mode 2x2 MaxPool whose output is a graph output (written
        // NCHW from blocks) and also read by a conv.
        var net = Net()
        net.conv("x", 3, 32, k: 7, stride: 2, pads: [3, 3, 3, 3], "s"); net.op("Relu", ["s"], "sr")
        net.op("MaxPool", ["sr"], "p", [Attribute("kernel_shape", .ints([3, 3])), Attribute("strides", .ints([2, 2])),
                                         Attribute("pads", .ints([1, 1, 1, 1]))])
        net.conv("p", 32, 48, k: 3, pads: [1, 1, 1, 1], "a"); net.op("Relu", ["a"], "ar")
        net.op("MaxPool", ["ar"], "q", [Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2])),
                                         Attribute("ceil_mode", .int(1))])
        net.conv("q", 48, 64, k: 3, pads: [1, 1, 1, 1], "y")
        // Blocked: sr, p, ar (q is a graph output).
        try check(net, input: ("x", [1, 3, 37, 41]), batches: [1, 2], outputs: ["y", "q"], direct: 3, blocked: 3, pools: 2)
    }

    func testGroupedConvsRunGroupByGroup() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs")
        // AlexNet's grouped convs: 2 groups of 48 -> 128 (5x5), 2 of 128 -> 192 (3x3) with a
        // residual-free Relu epilogue; grouped convs stay on NCHW planes.
        // A plain direct conv before them does not hand them a blocked value.
        var net = Net()
        net.conv("x", 96, 96, k: 3, pads: [1, 1, 1, 1], "p")
        net.conv("p", 96, 256, k: 5, pads: [2, 2, 2, 2], groups: 2, "a"); net.op("Relu", ["a"], "ar")
        net.conv("ar", 256, 384, k: 3, pads: [1, 1, 1, 1], groups: 2, "y")
        try check(net, input: ("x", [1, 96, 9, 11]), batches: [1, 2], outputs: ["y"], direct: 3, blocked: 0)
    }

    func testValuesOthersReadStayPlanar() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing blocked")
        // y1 is also read by an AveragePool, a2r is a graph output: both stay NCHW.
        var net = bottlenecks()
        net.op("AveragePool", ["y1"], "m", [Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2]))])
        let r = try run(net, input: ("x", [1, 256, 8, 8]), outputs: ["y3", "m", "a2r"])
        XCTAssertEqual(r.plan.blockedValues, 7)
        assertAgree(r)
        // Every value kept: nothing blocked, same numbers.
        let all = try run(bottlenecks(), input: ("x", [1, 256, 8, 8]), outputs: ["y3", "pooled"], keep: .all)
        XCTAssertEqual(all.plan.blockedValues, 0)
        assertAgree(all)
    }

    /// With threads the direct convs split their output positions into parts that run at once;
    /// each position is computed by the same instructions, so the numbers are identical to one
    /// thread's: blocked chains with residual epilogues, a planar RGB stem with a stride, and
    /// 3x3 convs whose padded input is prepared once for every part.
    func testThreadsGiveIdenticalNumbers() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs")
        var stem = Net()
        stem.conv("x", 3, 32, k: 7, stride: 2, pads: [3, 3, 3, 3], "s")
        stem.op("Relu", ["s"], "sr")
        stem.conv("sr", 32, 48, k: 3, pads: [1, 1, 1, 1], "y")
        let cases: [(Net, (String, [Int]), [String])] = [
            (bottlenecks(), ("x", [1, 256, 16, 16]), ["y3"]),
            (threeByThreeChain(64), ("x", [2, 64, 28, 28]), ["y"]),
            (stem, ("x", [1, 3, 61, 59]), ["y"]),
        ]
        for (net, input, outputs) in cases {
            let (constant, _) = net.models(input: input, outputs: outputs)
            let x = t(noise(input.1.reduce(1, *), seed: 11), input.1)
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                let interp = try Interpreter(model: constant, threads: threads)
                interp.winogradPreference = .never
                let plan = try interp.plan(inputShapes: [input.0: input.1])
                XCTAssertGreaterThan(plan.directConvs, 0)
                results.append(try interp.run([input.0: x]).outputs[0].tensor.floatValues())
            }
            XCTAssertEqual(results[1], results[0], "2 threads, input \(input.1)")
            XCTAssertEqual(results[2], results[0], "3 threads, input \(input.1)")
        }
    }

    /// A chain of two 3x3 stride-1 convs and a 1x1 conv on a 28x28 map.
    func threeByThreeChain(_ channels: Int) -> Net {
        var net = Net()
        net.conv("x", channels, channels, k: 3, pads: [1, 1, 1, 1], "a")
        net.op("Relu", ["a"], "ar")
        net.conv("ar", channels, channels, k: 3, pads: [1, 1, 1, 1], "b")
        net.op("Relu", ["b"], "br")
        net.conv("br", channels, channels, k: 1, "y")
        return net
    }

    /// With 128 or more channels the 3x3 convs stay Winograd (fewer multiplies than the direct
    /// kernel saves by staying blocked), and the 1x1 conv after them reads NCHW. With 64 they
    /// go direct and keep their values blocked, or Winograd where the machine runs it faster
    /// (`WinogradPreference`: fixed here, timed in `testTimedChoiceIsOnePerShape`).
    func testWideThreeByThreeConvsStayWinograd() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing blocked")
        // (64 channels all Winograd: the 1x1 conv has no blocked neighbour left and is one sgemm.)
        for (channels, preference, winograd, direct) in [(64, WinogradPreference.never, 0, 3), (64, .always, 2, 0),
                                                         (128, .never, 2, 1)] {
            let r = try run(threeByThreeChain(channels), input: ("x", [1, channels, 28, 28]), outputs: ["y"],
                            preference: preference)
            XCTAssertEqual(r.plan.winogradConvs, winograd, "\(channels) channels, \(preference)")
            XCTAssertEqual(r.plan.directConvs, direct, "\(channels) channels, \(preference)")
            XCTAssertEqual(r.plan.blockedValues, winograd == 0 ? 2 : 0, "\(channels) channels, \(preference)")
            assertAgree(r)
        }
    }

    /// Timed on this machine, the two 64-channel 3x3 convs of one shape get one answer (the
    /// plan times the shape once), whichever it is, and the numbers agree with im2col. The
    /// timing itself runs both kernels on the conv's geometry.
    func testTimedChoiceIsOnePerShape() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing to weigh")
        let r = try run(threeByThreeChain(64), input: ("x", [1, 64, 28, 28]), outputs: ["y"], preference: .measured)
        XCTAssertTrue([0, 2].contains(r.plan.winogradConvs), "\(r.plan.winogradConvs) Winograd convs")
        XCTAssertEqual(r.plan.directConvs, r.plan.winogradConvs == 0 ? 3 : 0)
        assertAgree(r)
        // The table: a second question about a measured shape is answered without timing.
        let g = try WindowGeometry(node: Node(opType: "Conv", inputs: [], outputs: [],
                                              attributes: [Attribute("pads", .ints([1, 1, 1, 1]))]),
                                   spatial: [28, 28], kernel: [3, 3])
        let w = t(noise(64 * 64 * 9, seed: 3), [64, 64, 3, 3])
        let choices = ConvChoices()
        // Timed on one thread whatever OpenBLAS was set to, which is restored afterwards.
        BLAS.setThreads(2)
        let first = ConvTuning.prefersWinograd(g, weight: w, inputs: 64, outputs: 64, preference: .measured, choices: choices)
        XCTAssertEqual(BLAS.threads, 2)
        BLAS.setThreads(1)
        XCTAssertEqual(choices.count, 1)
        XCTAssertEqual(choices.timings, 1)
        XCTAssertEqual(ConvTuning.prefersWinograd(g, weight: w, inputs: 64, outputs: 64, preference: .measured,
                                                  choices: choices), first)
        XCTAssertEqual(choices.timings, 1)
        choices.record(ConvTuning.Shape(g, inputs: 64, outputs: 64), winograd: !first)
        XCTAssertEqual(ConvTuning.prefersWinograd(g, weight: w, inputs: 64, outputs: 64, preference: .measured,
                                                  choices: choices), !first)
        // Under 64 channels nothing is timed.
        XCTAssertFalse(ConvTuning.prefersWinograd(g, weight: w, inputs: 32, outputs: 64, preference: .always, choices: choices))
    }

    /// Plans that hold one `ConvChoices` decide a shape the way it says, whatever a timing now
    /// would give: both answers recorded in turn give both layouts, and a second interpreter
    /// (another version of the model, as in `compare`) times nothing.
    func testPlansHoldingOneTableDecideAlike() throws {
        try XCTSkipUnless(DirectConv.available, "this CPU has no AVX-512: no direct convs, nothing to weigh")
        let g = try WindowGeometry(node: Node(opType: "Conv", inputs: [], outputs: [],
                                              attributes: [Attribute("pads", .ints([1, 1, 1, 1]))]),
                                   spatial: [28, 28], kernel: [3, 3])
        for winograd in [true, false] {
            let choices = ConvChoices()
            choices.record(ConvTuning.Shape(g, inputs: 64, outputs: 64), winograd: winograd)
            for _ in 0..<2 {
                let r = try run(threeByThreeChain(64), input: ("x", [1, 64, 28, 28]), outputs: ["y"],
                                preference: .measured, choices: choices)
                XCTAssertEqual(r.plan.winogradConvs, winograd ? 2 : 0)
                XCTAssertEqual(r.plan.directConvs, winograd ? 0 : 3)
                assertAgree(r)
            }
            XCTAssertEqual(choices.timings, 0, "recorded shapes are never timed")
            XCTAssertEqual(choices.count, 1)
        }
    }

    /// The decision reads the median ratio of paired timings: one slow call (a busy moment)
    /// does not decide; a clear case stops after three pairs, a close one takes nine.
    func testPairedTimingsDecideByTheirMedian() {
        func decide(_ ratios: [Double]) -> (winograd: Bool, pairs: Int) {
            var k = 0
            let w = ConvTuning.winogradWins(rounds: ConvTuning.maximumRounds, minimumRounds: ConvTuning.minimumRounds) {
                defer { k += 1 }
                return (UInt64(ratios[k % ratios.count] * 1_000_000), 1_000_000)
            }
            return (w, k)
        }
        // Winograd at half the direct time but one pair hit by a stall on its side.
        XCTAssertEqual(decide([0.5, 3.0, 0.55]).winograd, true)
        XCTAssertEqual(decide([0.5, 3.0, 0.55]).pairs, 3)
        // The direct kernel clearly faster, one pair stalled on the direct side.
        XCTAssertEqual(decide([1.2, 0.2, 1.1]).winograd, false)
        // Close to the margin (0.85): every pair is taken, the median decides.
        let close = decide([0.83, 0.88, 0.84, 0.86, 0.82, 0.87, 0.84, 0.9, 0.8])
        XCTAssertEqual(close.pairs, ConvTuning.maximumRounds)
        XCTAssertEqual(close.winograd, true)  // median 0.84
        XCTAssertEqual(decide([0.87, 0.84, 0.86]).winograd, false)  // median 0.86
        // A single pair (large convs) decides on its own ratio.
        XCTAssertEqual(ConvTuning.winogradWins(rounds: 1, minimumRounds: 1) { (80, 100) }, true)
    }
}
