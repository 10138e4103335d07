import Foundation

/// Transformer LLM calculator: exact parameter counts, training/inference memory with a
/// line-by-line breakdown, and training/inference compute. Everything is closed-form from the
/// config (formulas in shared/hardware/estimation-formulas.md, section 1, 5, 6, 7), so it is
/// exact, instant, and sweepable without building a graph.

/// Feed-forward block kind: `mlp` (up, activation, down; GPT/BERT) or `swiglu` (gate, up, down; Llama).
public enum MLPKind: String, Sendable, Hashable, CaseIterable { case mlp, swiglu }
/// Normalization kind: LayerNorm has weight and bias (2h), RMSNorm only a weight (h).
public enum NormKind: String, Sendable, Hashable, CaseIterable { case layerNorm = "layernorm", rmsNorm = "rmsnorm" }
/// Position encoding: learned tables own parameters, rotary and none do not.
public enum PositionKind: String, Sendable, Hashable, CaseIterable { case learned, rotary, none }

/// Optimizer state model (bytes per parameter in brackets, mixed precision unless noted):
/// `adam` = bf16 weights 2 + bf16 grads 2 + fp32 master/m/v 12 (16 B/param, ZeRO's 16Ψ);
/// `adamFP32Grads` = as adam with fp32 grads (18 B/param, HF "model training anatomy");
/// `adam8bit` = 8-bit Adam: master 4 + m 1 + v 1 (2 + 2 + 6 = 10 B/param);
/// `sgdMomentum` = master 4 + momentum 4 (2 + 2 + 8 = 12 B/param);
/// `adamFP32` = pure fp32 training: weights 4 + grads 4 + m, v 8 (16 B/param);
/// `none` = inference, weights only.
public enum OptimizerKind: String, Sendable, Hashable, CaseIterable {
    case adam, adamFP32Grads = "adam-fp32-grads", adam8bit, sgdMomentum = "sgd", adamFP32 = "adam-fp32", none

    /// Bytes per parameter for (gradients, optimizer state) given the weight bytes.
    func bytesPerParam(weightBytes: Double) -> (grads: Double, optimizer: Double) {
        switch self {
        case .adam: return (weightBytes, 12)
        case .adamFP32Grads: return (4, 12)
        case .adam8bit: return (weightBytes, 6)
        case .sgdMomentum: return (weightBytes, 8)
        case .adamFP32: return (4, 8)
        case .none: return (0, 0)
        }
    }
}

/// Activation recomputation mode (Korthikanti et al. 2022).
public enum RecomputeMode: String, Sendable, Hashable, CaseIterable { case none, selective, full }

/// An LLM architecture plus the workload to price (sequence, batch, precision, training setup).
public struct LLMConfig: Sendable, Hashable {
    public var name: String
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffn: Int
    public var mlp: MLPKind
    public var norm: NormKind
    public var vocab: Int
    public var tiedEmbeddings: Bool
    public var positions: PositionKind
    /// Rows of the learned position table (ignored for rotary/none).
    public var maxPositions: Int
    /// BERT-style token-type embeddings (0 for decoder-only models).
    public var tokenTypes: Int
    /// Biases on the Q/K/V/O projections.
    public var attentionBias: Bool
    /// Biases on the MLP projections.
    public var mlpBias: Bool
    /// A LayerNorm right after the embeddings (BERT) instead of a final norm (GPT, Llama).
    public var embeddingNorm: Bool
    public var finalNorm: Bool
    /// BERT pooler (h x h dense + bias).
    public var pooler: Bool

    // Workload.
    public var seq: Int
    public var batch: Int
    public var dtype: Precision
    public var optimizer: OptimizerKind
    public var recompute: RecomputeMode
    public var flashAttention: Bool
    /// Dropout masks are stored (1 byte/element) when training with dropout on.
    public var dropout: Bool
    public var training: Bool
    /// Tokens generated after the prompt (inference KV cache holds seq + generated).
    public var generatedTokens: Int
    /// Precision of the KV cache (defaults to `dtype`).
    public var kvCacheDtype: Precision?

    public init(name: String = "custom", layers: Int, hidden: Int, heads: Int, kvHeads: Int? = nil, headDim: Int? = nil,
                ffn: Int? = nil, mlp: MLPKind = .mlp, norm: NormKind = .layerNorm, vocab: Int, tiedEmbeddings: Bool = true,
                positions: PositionKind = .learned, maxPositions: Int = 2048, tokenTypes: Int = 0,
                attentionBias: Bool = true, mlpBias: Bool = true, embeddingNorm: Bool = false, finalNorm: Bool = true,
                pooler: Bool = false, seq: Int = 2048, batch: Int = 1, dtype: Precision = .bf16,
                optimizer: OptimizerKind = .none, recompute: RecomputeMode = .none, flashAttention: Bool = false,
                dropout: Bool = false, training: Bool = false, generatedTokens: Int = 0, kvCacheDtype: Precision? = nil) {
        self.name = name; self.layers = layers; self.hidden = hidden; self.heads = heads
        self.kvHeads = kvHeads ?? heads; self.headDim = headDim ?? (heads > 0 ? hidden / heads : 0)
        self.ffn = ffn ?? 4 * hidden; self.mlp = mlp; self.norm = norm; self.vocab = vocab
        self.tiedEmbeddings = tiedEmbeddings; self.positions = positions; self.maxPositions = maxPositions
        self.tokenTypes = tokenTypes; self.attentionBias = attentionBias; self.mlpBias = mlpBias
        self.embeddingNorm = embeddingNorm; self.finalNorm = finalNorm; self.pooler = pooler
        self.seq = seq; self.batch = batch; self.dtype = dtype; self.optimizer = optimizer
        self.recompute = recompute; self.flashAttention = flashAttention; self.dropout = dropout
        self.training = training; self.generatedTokens = generatedTokens; self.kvCacheDtype = kvCacheDtype
    }

    /// Checks the config for values that make no sense, naming the field.
    public func validate() throws {
        func bad(_ f: String, _ m: String) -> LLMConfigError { LLMConfigError(field: f, message: m) }
        for (f, v) in [("layers", layers), ("hidden", hidden), ("heads", heads), ("kv_heads", kvHeads), ("head_dim", headDim),
                       ("ffn", ffn), ("vocab", vocab), ("seq", seq), ("batch", batch)] where v <= 0 {
            throw bad(f, "must be > 0, got \(v)")
        }
        if heads % kvHeads != 0 { throw bad("kv_heads", "must divide heads (\(heads)), got \(kvHeads)") }
        if generatedTokens < 0 { throw bad("generated", "must be >= 0") }
        if positions == .learned && maxPositions <= 0 { throw bad("positions", "learned positions need max_positions > 0") }
    }
}

/// A bad LLM config field.
public struct LLMConfigError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "llm: \(field): \(message)" }
}

/// Known model presets with their published parameter counts (the unit tests check these).
public enum LLMPresets {
    /// Preset names, in display order.
    public static let names = ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "bert-base", "bert-large",
                               "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "mistral-7b"]

    /// Published total parameter counts (HF `num_parameters()`, BERT including the pooler).
    public static let publishedParameterCounts: [String: Int] = [
        "gpt2": 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200,
        "bert-base": 109_482_240, "bert-large": 335_141_888,
        "llama-2-7b": 6_738_415_616, "llama-2-13b": 13_015_864_320, "llama-2-70b": 68_976_648_192,
        "llama-3-8b": 8_030_261_248, "mistral-7b": 7_241_732_096,
    ]

    /// The config of a preset (workload fields at their defaults), or nil for an unknown name.
    public static func config(_ name: String) -> LLMConfig? {
        func gpt2(_ n: String, _ l: Int, _ h: Int, _ a: Int) -> LLMConfig {
            LLMConfig(name: n, layers: l, hidden: h, heads: a, vocab: 50257, tiedEmbeddings: true, positions: .learned,
                      maxPositions: 1024, seq: 1024)
        }
        func bert(_ n: String, _ l: Int, _ h: Int, _ a: Int) -> LLMConfig {
            LLMConfig(name: n, layers: l, hidden: h, heads: a, vocab: 30522, tiedEmbeddings: true, positions: .learned,
                      maxPositions: 512, tokenTypes: 2, embeddingNorm: true, finalNorm: false, pooler: true, seq: 512)
        }
        func llama(_ n: String, _ l: Int, _ h: Int, _ a: Int, _ kv: Int, _ ff: Int, _ v: Int, _ ctx: Int) -> LLMConfig {
            LLMConfig(name: n, layers: l, hidden: h, heads: a, kvHeads: kv, ffn: ff, mlp: .swiglu, norm: .rmsNorm, vocab: v,
                      tiedEmbeddings: false, positions: .rotary, maxPositions: ctx, attentionBias: false, mlpBias: false,
                      seq: ctx)
        }
        switch name.lowercased() {
        case "gpt2", "gpt2-small", "gpt-2": return gpt2("gpt2", 12, 768, 12)
        case "gpt2-medium": return gpt2("gpt2-medium", 24, 1024, 16)
        case "gpt2-large": return gpt2("gpt2-large", 36, 1280, 20)
        case "gpt2-xl": return gpt2("gpt2-xl", 48, 1600, 25)
        case "bert-base", "bert-base-uncased": return bert("bert-base", 12, 768, 12)
        case "bert-large", "bert-large-uncased": return bert("bert-large", 24, 1024, 16)
        case "llama-2-7b", "llama2-7b": return llama("llama-2-7b", 32, 4096, 32, 32, 11008, 32000, 4096)
        case "llama-2-13b", "llama2-13b": return llama("llama-2-13b", 40, 5120, 40, 40, 13824, 32000, 4096)
        case "llama-2-70b", "llama2-70b": return llama("llama-2-70b", 80, 8192, 64, 8, 28672, 32000, 4096)
        case "llama-3-8b", "llama3-8b": return llama("llama-3-8b", 32, 4096, 32, 8, 14336, 128256, 8192)
        case "mistral-7b": return llama("mistral-7b", 32, 4096, 32, 8, 14336, 32000, 32768)
        default: return nil
        }
    }
}

/// One labelled figure (a table row / chart bar): parameter or memory breakdown lines.
public struct BreakdownRow: Sendable, Hashable {
    public var label: String
    public var value: Double
    public init(_ label: String, _ value: Double) { self.label = label; self.value = value }
}

/// Exact parameter counts by component.
public struct LLMParameterCount: Sendable, Hashable {
    public var embeddings: Int
    public var attention: Int
    public var mlp: Int
    public var norms: Int
    public var head: Int
    public var pooler: Int
    public var total: Int { embeddings + attention + mlp + norms + head + pooler }
    /// Parameters outside the embedding tables and the untied head (the PaLM "N").
    public var nonEmbedding: Int { attention + mlp + norms + pooler }
    public var rows: [BreakdownRow] {
        [BreakdownRow("embeddings", Double(embeddings)), BreakdownRow("attention", Double(attention)),
         BreakdownRow("mlp", Double(mlp)), BreakdownRow("norms", Double(norms)),
         BreakdownRow("lm head", Double(head)), BreakdownRow("pooler", Double(pooler))].filter { $0.value > 0 }
    }
}

/// Memory needed to run a config, by line, and how it fits a device.
public struct LLMMemoryReport: Sendable, Hashable {
    /// Lines in bytes: weights, gradients, optimizer state, activations, logits, KV cache, framework overhead.
    public var rows: [BreakdownRow]
    public var totalBytes: Double
    /// Device memory capacity in bytes (nil without a device or when it has none published).
    public var capacityBytes: Double?
    public var deviceName: String?
    public var fits: Bool? { capacityBytes.map { totalBytes <= $0 } }
    /// "42.1 GB / 80 GB" (decimal GB); just the total when there is no device.
    public var summary: String {
        let t = String(format: "%.1f GB", totalBytes / 1e9)
        guard let c = capacityBytes else { return t }
        return t + " / " + (c / 1e9 == (c / 1e9).rounded() ? String(format: "%.0f GB", c / 1e9) : String(format: "%.1f GB", c / 1e9))
    }
}

/// Inference speed from the decode roofline (formula 5).
public struct LLMInferenceReport: Sendable, Hashable {
    /// Time to first token (the prefill of `seq` tokens).
    public var timeToFirstToken: Estimate
    /// Inter-token latency of one decode step at context `seq + generated`.
    public var interTokenLatency: Estimate
    /// Generated tokens per second across the batch.
    public var tokensPerSecond: Double
    public var prefillFLOPs: Double
    public var decodeBoundBy: Bottleneck
}

/// The calculator: pure functions of an `LLMConfig`.
public struct LLMCalculator: Sendable {
    public var config: LLMConfig
    /// CUDA context and runtime reservation charged on GPUs (bytes).
    public var runtimeReservationBytes: Double = 0.5e9
    /// Caching-allocator slack as a fraction of everything else (5-15% observed; 8% default).
    public var allocatorSlack: Double = 0.08

    public init(_ config: LLMConfig) { self.config = config }

    /// Exact parameter count from the architecture (formula 1, generalised to GQA, SwiGLU, biases, tying).
    public func parameters() -> LLMParameterCount {
        let c = config, h = c.hidden, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim
        var emb = c.vocab * h
        if c.positions == .learned { emb += c.maxPositions * h }
        emb += c.tokenTypes * h
        let normSize = c.norm == .layerNorm ? 2 * h : h
        var attn = h * qd + 2 * h * kvd + qd * h
        if c.attentionBias { attn += qd + 2 * kvd + h }
        var mlp = c.mlp == .mlp ? 2 * h * c.ffn : 3 * h * c.ffn
        if c.mlpBias { mlp += c.mlp == .mlp ? c.ffn + h : 2 * c.ffn + h }
        var norms = c.layers * 2 * normSize
        if c.finalNorm { norms += normSize }
        if c.embeddingNorm { norms += normSize }
        return LLMParameterCount(embeddings: emb, attention: c.layers * attn, mlp: c.layers * mlp, norms: norms,
                                 head: c.tiedEmbeddings ? 0 : c.vocab * h, pooler: c.pooler ? h * h + h : 0)
    }

    /// Activation bytes of one transformer layer for training (Korthikanti et al. 2022, Table 2,
    /// generalised): attention `7sbh + 4·sb·kv·d` (+ `5as²b` unless FlashAttention or selective
    /// recompute drop the scores), MLP `3sbh + 4·sb·ff` (GELU) or `3sbh + 8·sb·ff` (SwiGLU),
    /// norms `4sbh`; with 2-byte activations these give the paper's `sbh(34 + 5as/h)` for GPT.
    /// Full recompute keeps only the layer input (`2sbh`). Scaled from 2 bytes to `dtype`.
    public func activationBytesPerLayer() -> Double {
        let c = config
        let s = Double(c.seq), b = Double(c.batch), h = Double(c.hidden), a = Double(c.heads)
        let kvd = Double(c.kvHeads * c.headDim), ff = Double(c.ffn)
        let e = c.dtype.bytesPerElement / 2 // the paper's constants assume 2-byte activations
        if c.recompute == .full { return 2 * s * b * h * e }
        let mask: Double = c.dropout ? 1 : 0
        // attention: QKV input 2sbh, Q 2sbh, K 2·sb·kvd, V 2·sb·kvd, output to O-proj 2sbh, dropout mask sbh
        var attn = (6 * s * b * h + 4 * s * b * kvd) * e + mask * s * b * h
        if !(c.flashAttention || c.recompute == .selective) {
            attn += (4 * a * s * s * b) * e + mask * a * s * s * b  // scores + softmax out (2 bytes each) + dropout mask
        }
        let mlp: Double = (c.mlp == .mlp ? (2 * s * b * h + 4 * s * b * ff) : (2 * s * b * h + 8 * s * b * ff)) * e + mask * s * b * h
        let norms = 4 * s * b * h * e
        return attn + mlp + norms
    }

    /// KV cache bytes: `2 · L · kv_heads · head_dim · bytes · batch · tokens`.
    public func kvCacheBytes(tokens: Int? = nil) -> Double {
        let c = config
        let t = Double(tokens ?? (c.seq + c.generatedTokens))
        return 2 * Double(c.layers * c.kvHeads * c.headDim) * (c.kvCacheDtype ?? c.dtype).bytesPerElement * Double(c.batch) * t
    }

    /// The memory breakdown; `target` supplies capacity and decides whether a GPU runtime reservation applies.
    public func memory(on target: HardwareTarget? = nil) -> LLMMemoryReport {
        let c = config, p = Double(parameters().total)
        let wBytes = c.optimizer == .adamFP32 ? 4 : c.dtype.bytesPerElement
        var rows = [BreakdownRow("weights", p * wBytes)]
        if c.training {
            let (g, o) = c.optimizer.bytesPerParam(weightBytes: wBytes)
            rows.append(BreakdownRow("gradients", p * g))
            rows.append(BreakdownRow("optimizer state", p * o))
            rows.append(BreakdownRow("activations", activationBytesPerLayer() * Double(c.layers)))
            // logits and their gradient / softmax copy: ≈ 2·b·s·V·bytes
            rows.append(BreakdownRow("logits", 2 * Double(c.batch * c.seq) * Double(c.vocab) * c.dtype.bytesPerElement))
        } else {
            // inference: the largest live activation is about 2 layer-sized buffers plus the logits of the prompt
            let s = Double(c.seq), b = Double(c.batch)
            let act = (2 * s * b * Double(c.hidden) + s * b * Double(max(c.ffn, c.hidden)) * (c.mlp == .swiglu ? 2 : 1)) * c.dtype.bytesPerElement
                + (c.flashAttention ? 0 : Double(c.heads) * s * s * b * c.dtype.bytesPerElement)
            rows.append(BreakdownRow("activations", act))
            rows.append(BreakdownRow("logits", b * s * Double(c.vocab) * c.dtype.bytesPerElement))
            rows.append(BreakdownRow("kv cache", kvCacheBytes()))
        }
        let subtotal = rows.reduce(0) { $0 + $1.value }
        let reservation = (target?.isGPU ?? true) ? runtimeReservationBytes : 0
        rows.append(BreakdownRow("framework overhead", reservation + allocatorSlack * subtotal))
        let total = rows.reduce(0) { $0 + $1.value }
        return LLMMemoryReport(rows: rows, totalBytes: total, capacityBytes: target?.memoryCapacityBytes, deviceName: target?.name)
    }

    /// Training FLOPs for `tokens` tokens: `6·P·D`, or `8·P·D` with full recompute (one extra forward).
    public func trainingFLOPs(tokens: Double? = nil) -> Double {
        let d = tokens ?? Double(config.batch * config.seq)
        return (config.recompute == .full ? 8 : 6) * Double(parameters().total) * d
    }

    /// Forward FLOPs of a prefill of `seq` tokens per sequence: `2·(N + V·h)·b·s` (N = non-embedding
    /// parameters, V·h = the output head) plus attention scores
    /// `4·L·b·s²·heads·head_dim` (QKᵀ and AV, no causal discount).
    public func prefillFLOPs() -> Double {
        let c = config
        let bs = Double(c.batch * c.seq)
        // every weight matrix is used once per token; the embedding lookup is a gather, the head a matmul
        return 2 * Double(parameters().nonEmbedding + c.vocab * c.hidden) * bs
            + 4 * Double(c.layers) * Double(c.batch) * Double(c.seq) * Double(c.seq) * Double(c.heads * c.headDim)
    }

    /// Time to first token, inter-token latency and throughput on a device (formula 5).
    /// Returns nil when the device has no peak for the config's dtype.
    public func inference(on t: HardwareTarget, efficiency: Efficiency = .default) -> LLMInferenceReport? {
        let c = config
        guard let peak = t.peak(c.dtype)?.opsPerSecond else { return nil }
        let bw = t.memoryBandwidthBytesPerSecond ?? .infinity
        let p = Double(parameters().total)
        let wBytes = p * c.dtype.bytesPerElement
        let launches = Double(c.layers) * 10 * t.launchOverheadSeconds
        let pre = prefillFLOPs()
        let preT = max(pre / (efficiency.matmulCompute * peak), wBytes / (efficiency.memory * bw)) + launches
        let ctx = c.seq + c.generatedTokens
        let decodeCompute = 2 * Double(parameters().nonEmbedding + c.vocab * c.hidden) * Double(c.batch) / (efficiency.matmulCompute * peak)
        let decodeMemory = (wBytes + kvCacheBytes(tokens: ctx)) / (efficiency.memory * bw)
        let itl = max(decodeCompute, decodeMemory) + launches
        let widen = t.confidence.intervalWidening
        return LLMInferenceReport(timeToFirstToken: Estimate(preT, confidence: .theoretical, widen: widen),
                                  interTokenLatency: Estimate(itl, confidence: .theoretical, widen: widen),
                                  tokensPerSecond: Double(c.batch) / itl, prefillFLOPs: pre,
                                  decodeBoundBy: decodeCompute >= decodeMemory ? .compute : .memory)
    }
}
