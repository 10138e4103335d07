/// Fused float32 elementwise chains: a short program of elementwise instructions (the
/// Add/Clip/Mul/Div of a hardswish, Relu, Sigmoid, a scalar or per-channel affine, a residual
/// Add) run over blocks of a few hundred elements, so each intermediate stays in a small
/// cache-resident buffer instead of a full activation. `ElementwiseFusion` builds programs from
/// the plan; they run as their own step or as the epilogue of the Conv that feeds them.
import CKernels
import Foundation

/// A fused chain of float32 elementwise instructions over tensors of one shape.
struct ElementwiseProgram {
    /// Where an instruction reads an operand.
    enum Operand {
        /// The result of an earlier instruction.
        case temp(Int)
        /// External tensor `i` (same shape as the result, read at the same element).
        case input(Int)
        /// A constant.
        case scalar(Float)
        /// A per-channel constant (axis 1 of an NCHW-like result), one value per channel.
        case channel([Float])
    }

    /// The instructions' operations (the same expressions as the unfused kernels).
    enum Op {
        case add, sub, mul, div
        case clip(Float, Float)
        case relu, sigmoid, hardSwish, tanh
        case hardSigmoid(Float, Float)
        case leakyRelu(Float)
    }

    /// One instruction: `op(a)` or `op(a, b)`.
    struct Instruction {
        var op: Op
        var a: Operand
        var b: Operand?
    }

    /// The instructions in order; the last one's result is the program's output.
    var instructions: [Instruction]
    /// External tensors read.
    var inputCount: Int
    /// Op types fused, for the step's name in timings.
    var opTypes: [String]

    /// Elements per block.
    static let block = 256
    /// The intermediate blocks' memory, kept between calls (`withTemps`).
    private let temps = KernelBuffer()

    /// True when the program is one Clip/Relu/HardSwish/HardSigmoid of input 0: an output bias
    /// is then added inside that instruction's pass (the C loops' `add`).
    var foldsBias: Bool {
        guard instructions.count == 1, let i = instructions.first, i.b == nil, case .input(0) = i.a else { return false }
        switch i.op {
        case .clip, .relu, .hardSwish, .hardSigmoid: return true
        default: return false
        }
    }

    /// True when an operand varies per channel.
    var usesChannels: Bool {
        instructions.contains { i in
            if case .channel = i.a { return true }
            if case .channel? = i.b { return true }
            return false
        }
    }

    /// A resolved operand: a pointer to `block` elements, or one value.
    private enum Source {
        case pointer(UnsafePointer<Float>)
        case value(Float)
    }

    /// Runs the program on `count` elements: external tensor j is read at `inputs[j] + offset`,
    /// the output written to `out` (which may be `inputs[j] + offset` itself: each element is
    /// read before it is written). `channel` picks the per-channel constants' values.
    /// With `outputBias`, that value is first added to each block of `out` (for a Conv
    /// epilogue, where `out` is input 0: the conv's bias, added here instead of before the GEMM).
    func run(inputs: UnsafePointer<UnsafePointer<Float>>, offset: Int, count: Int, channel: Int,
             out: UnsafeMutablePointer<Float>, temps: UnsafeMutablePointer<Float>, outputBias: Float? = nil) {
        let last = instructions.count - 1, fold = outputBias != nil && foldsBias
        var start = 0
        while start < count {
            let n = Swift.min(Self.block, count - start)
            // A single activation on the conv output takes the bias inside its own pass.
            var add: Float = 0
            if let outputBias {
                if fold { add = outputBias } else { gs_binary_scalar(Int32(GS_ADD), out + start, outputBias, 0, out + start, n) }
            }
            for (t, ins) in instructions.enumerated() {
                let d = t == last ? out + start : temps + t * Self.block
                let a = source(ins.a, inputs: inputs, at: offset + start, channel: channel, temps: temps)
                if let bo = ins.b {
                    let b = source(bo, inputs: inputs, at: offset + start, channel: channel, temps: temps)
                    switch ins.op {
                    case .add: Self.binary(GS_ADD, a, b, d, n, +)
                    case .sub: Self.binary(GS_SUB, a, b, d, n, -)
                    case .mul: Self.binary(GS_MUL, a, b, d, n, *)
                    case .div: Self.binary(GS_DIV, a, b, d, n, /)
                    default: Self.unary(a, d, n) { $0 }
                    }
                    continue
                }
                if case .pointer(let p) = a {
                    switch ins.op {
                    case .clip(let lo, let hi): gs_clip(p, add, lo, hi, d, n); continue
                    case .relu: gs_clip(p, add, 0, .infinity, d, n); continue
                    case .hardSwish: gs_hard_swish(p, add, d, n); continue
                    case .hardSigmoid(let al, let be): gs_hard_sigmoid(p, add, al, be, d, n); continue
                    default: break
                    }
                }
                switch ins.op {
                case .clip(let lo, let hi): Self.unary(a, d, n) { Swift.min(Swift.max($0, lo), hi) }
                case .relu: Self.unary(a, d, n) { Swift.max($0, 0) }
                case .sigmoid:
                    if case .pointer(let p) = a { gs_sigmoid(p, d, n) } else { Self.unary(a, d, n) { 1 / (1 + Foundation.exp(-$0)) } }
                case .hardSwish: Self.unary(a, d, n, hardSwish)
                case .tanh:
                    if case .pointer(let p) = a { gs_tanh(p, d, n) } else { Self.unary(a, d, n) { Foundation.tanh($0) } }
                case .hardSigmoid(let al, let be): Self.unary(a, d, n) { Swift.min(Swift.max(al * $0 + be, 0), 1) }
                case .leakyRelu(let al): Self.unary(a, d, n) { $0 >= 0 ? $0 : al * $0 }
                default: Self.unary(a, d, n) { $0 }
                }
            }
            start += n
        }
    }

    @inline(__always)
    private func source(_ o: Operand, inputs: UnsafePointer<UnsafePointer<Float>>, at: Int, channel: Int,
                        temps: UnsafeMutablePointer<Float>) -> Source {
        switch o {
        case .temp(let t): return .pointer(UnsafePointer(temps + t * Self.block))
        case .input(let j): return .pointer(inputs[j] + at)
        case .scalar(let v): return .value(v)
        case .channel(let v): return .value(v[channel < v.count ? channel : 0])
        }
    }

    @inline(__always)
    private static func binary(_ code: Int, _ a: Source, _ b: Source, _ d: UnsafeMutablePointer<Float>, _ n: Int,
                               _ f: (Float, Float) -> Float) {
        let op = Int32(code)
        switch (a, b) {
        case let (.pointer(p), .pointer(q)): gs_binary(op, p, q, d, n)
        case let (.pointer(p), .value(s)): gs_binary_scalar(op, p, s, 0, d, n)
        case let (.value(s), .pointer(q)): gs_binary_scalar(op, q, s, 1, d, n)
        case let (.value(s), .value(t)): let v = f(s, t); for k in 0..<n { d[k] = v }
        }
    }

    @inline(__always)
    private static func unary(_ a: Source, _ d: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Float) -> Float) {
        switch a {
        case .pointer(let p): for k in 0..<n { d[k] = f(p[k]) }
        case .value(let s): let v = f(s); for k in 0..<n { d[k] = v }
        }
    }

    /// Calls `body` with scratch for the program's intermediate blocks.
    func withTemps<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try body(temps.pointer(Float.self, count: Swift.max(instructions.count, 1) * Self.block))
    }

    /// Applies the program in place over an NCHW-like `out` of `planes` planes of `planeSize`
    /// elements with `channels` channels, where external tensor 0 is `out` itself and tensors
    /// 1... are `extra` (same shape); planes in `planes` only. `bias` (one value per channel) is
    /// added to `out` first.
    func apply(out: UnsafeMutablePointer<Float>, extra: [UnsafePointer<Float>], channels: Int, planeSize: Int,
               planes: Range<Int>, temps: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil) {
        // The inputs' addresses in stack memory (no array per call).
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 1 + extra.count) { buf in
            guard let base = buf.baseAddress else { return }
            base[0] = UnsafePointer(out)
            for (i, e) in extra.enumerated() { base[1 + i] = e }
            for p in planes {
                let ch = p % Swift.max(channels, 1)
                run(inputs: base, offset: p * planeSize, count: planeSize, channel: ch,
                    out: out + p * planeSize, temps: temps, outputBias: bias.map { $0[ch] })
            }
        }
    }

    /// The kernel of a standalone fused chain: reads its external tensors (inputs 0...), all of
    /// the result's shape, and writes the result.
    func kernel() -> Kernel {
        let program = self
        let perChannel = usesChannels
        let inputs = PointerList()  // refilled every call, capacity kept
        return { io in
            let x = try io.floatInput(0)
            inputs.pointers.removeAll(keepingCapacity: true)
            for j in 0..<program.inputCount {
                let t = try io.floatInput(j)
                guard t.shape == x.shape else {
                    throw KernelError("fused \(program.opTypes.joined(separator: "+")): input \(j) is \(t.shape), expected \(x.shape)")
                }
                inputs.pointers.append(t.floats)
            }
            let pointers = inputs.pointers
            let y = try io.output(0, .float, x.shape)
            let count = x.count
            var planeSize = count, channels = 1
            if perChannel {
                guard x.shape.count >= 2 else { throw KernelError("per-channel constants need a rank >= 2 input, got \(x.shape)") }
                channels = x.shape[1]
                planeSize = 1
                for d in 2..<x.shape.count { planeSize *= x.shape[d] }
            }
            let planes = planeSize == 0 ? 0 : count / planeSize
            program.withTemps { temps in
                pointers.withUnsafeBufferPointer { buf in
                    guard let base = buf.baseAddress else { return }
                    for p in 0..<planes {
                        program.run(inputs: base, offset: p * planeSize, count: planeSize, channel: p % channels,
                                    out: y.mutableFloats + p * planeSize, temps: temps)
                    }
                }
            }
        }
    }
}
