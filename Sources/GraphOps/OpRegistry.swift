/// `OpRegistry`: every known operator schema, keyed by (domain, op type, opset version), with
/// the lookups the rest of Graphsmith needs: the schema in force at an opset, the opset a
/// model imports for a domain, an op's category, and the closest valid names for a misspelling.

import Foundation
import GraphIR

/// All operator schemas Graphsmith knows, from the bundled resources or a given list.
///
/// A value type: build one with `init(schemas:)` (tests, tools) or use `OpRegistry.builtIn`,
/// the immutable registry decoded once from the bundled resources.
public struct OpRegistry: Sendable {
    /// domain (normalized: `""` for ai.onnx) -> op type -> versions, ascending since-version.
    private var table: [String: [String: [OpSchema]]] = [:]
    /// lowercased op type -> (domain, op type), for case-insensitive category lookups.
    private var folded: [String: (domain: String, opType: String)] = [:]
    /// Problems met while loading bundled resources (empty when all loaded).
    public internal(set) var loadProblems: [String] = []

    /// Domains searched, in order, when only an op type is known (drawings from formats
    /// without domains): the default domain wins over contrib, ML and TFLite.
    public static let domainPreference = ["", "com.microsoft", "ai.onnx.ml", "tflite",
                                          "ai.onnx.preview.training", "ai.onnx.preview"]

    /// Creates a registry from schemas (later duplicates of a (domain, op, version) replace earlier).
    public init(schemas: [OpSchema]) {
        for s in schemas { add(s) }
    }

    /// Adds (or replaces) one schema version.
    public mutating func add(_ schema: OpSchema) {
        let d = OpRegistry.normalize(domain: schema.domain)
        var versions = table[d, default: [:]][schema.opType, default: []]
        versions.removeAll { $0.sinceVersion == schema.sinceVersion }
        versions.append(schema)
        versions.sort { $0.sinceVersion < $1.sinceVersion }
        table[d, default: [:]][schema.opType] = versions
        let key = schema.opType.lowercased()
        if let prev = folded[key], rank(prev.domain) <= rank(d) { return }
        folded[key] = (d, schema.opType)
    }

    private func rank(_ domain: String) -> Int {
        OpRegistry.domainPreference.firstIndex(of: domain) ?? OpRegistry.domainPreference.count
    }

    /// `""` for the default domain however it is spelled (`""` or `ai.onnx`).
    public static func normalize(domain: String) -> String { domain == "ai.onnx" ? "" : domain }

    /// Display name of a domain (`ai.onnx` for the default one).
    public static func displayName(domain: String) -> String { domain.isEmpty ? "ai.onnx" : domain }

    // MARK: Lookups

    /// The schema in force for `opType` at `opsetVersion`: the one with the greatest
    /// since-version not above it. Nil when the domain or op is unknown or the op is newer.
    public func schema(domain: String, opType: String, opsetVersion: Int) -> OpSchema? {
        guard let versions = table[OpRegistry.normalize(domain: domain)]?[opType] else { return nil }
        return versions.last { $0.sinceVersion <= opsetVersion }
    }

    /// The newest schema of an op (for ops whose opset is unknown, e.g. a drawing).
    public func latest(domain: String, opType: String) -> OpSchema? {
        table[OpRegistry.normalize(domain: domain)]?[opType]?.last
    }

    /// Every version of an op, ascending.
    public func versions(domain: String, opType: String) -> [OpSchema] {
        table[OpRegistry.normalize(domain: domain)]?[opType] ?? []
    }

    /// True when the registry has any op in `domain`.
    public func knows(domain: String) -> Bool { table[OpRegistry.normalize(domain: domain)] != nil }

    /// Known domains (normalized), in preference order then alphabetically.
    public var domains: [String] {
        table.keys.sorted { (rank($0), $0) < (rank($1), $1) }
    }

    /// The op types of a domain, sorted.
    public func opTypes(in domain: String) -> [String] {
        (table[OpRegistry.normalize(domain: domain)].map { Array($0.keys) } ?? []).sorted()
    }

    /// Every op type across all domains, sorted and deduplicated (for completion).
    public var allOpTypes: [String] {
        Array(Set(table.values.flatMap { $0.keys })).sorted()
    }

    /// Number of schema versions held.
    public var schemaCount: Int { table.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }

    /// The category of an op type: its own schema's when the domain is given and known,
    /// else the first domain in `domainPreference` (then any) that has the name, matched
    /// exactly, then case-insensitively; unknown names fall back to `guessCategory`.
    public func category(opType: String, domain: String? = nil) -> OpCategory {
        if let d = domain, let s = latest(domain: d, opType: opType) { return s.category }
        for d in OpRegistry.domainPreference { if let s = latest(domain: d, opType: opType) { return s.category } }
        if let hit = folded[opType.lowercased()], let s = latest(domain: hit.domain, opType: hit.opType) {
            return s.category
        }
        if let pseudo = OpCategory.pseudoNode(opType) { return pseudo }
        return OpRegistry.guessCategory(opType)
    }

    /// A family for an op no table knows (custom ops), from common fragments of its name, so a
    /// drawing still colours `MyConv3x3` as a convolution. Never used for known ops.
    public static func guessCategory(_ opType: String) -> OpCategory {
        let key = opType.lowercased()
        if key.contains("attention") { return .attention }
        if key.contains("conv") { return .convolution }
        if key.contains("pool") { return .pooling }
        if key.contains("matmul") || key.contains("gemm") || key.contains("fullyconnected") || key.contains("einsum") {
            return .matmul
        }
        if key.contains("norm") { return .normalization }
        if key.hasPrefix("reduce") { return .reduction }
        if key.hasSuffix("relu") || key.contains("sigmoid") || key.contains("swish") || key.contains("gelu") {
            return .activation
        }
        if key.contains("quantize") { return .quantization }
        return .other
    }

    /// Values an attribute may take, for completion and editing: the legal values the spec
    /// enumerates for it at that opset, filtered by `prefix`; nil when the op or attribute is
    /// unknown or the attribute takes any value of its kind.
    public func legalValues(domain: String, opType: String, opsetVersion: Int, attribute: String,
                            prefix: String = "") -> [String]? {
        guard let legal = schema(domain: domain, opType: opType, opsetVersion: opsetVersion)?
            .attribute(attribute)?.legalValues else { return nil }
        return legal.filter { $0.hasPrefix(prefix) }
    }

    /// Attribute names of an op at an opset that start with `prefix` (for `key=` completion).
    public func attributeNames(domain: String, opType: String, opsetVersion: Int, prefix: String = "") -> [String] {
        (schema(domain: domain, opType: opType, opsetVersion: opsetVersion)?.attributes.map(\.name) ?? [])
            .filter { $0.hasPrefix(prefix) }
    }

    /// Up to `limit` known op types closest to `opType` by edit distance (case-insensitive),
    /// best first; searched in `domain` when it is known, else across all domains.
    public func closestOpTypes(to opType: String, domain: String? = nil, limit: Int = 3) -> [String] {
        let pool: [String]
        if let d = domain, knows(domain: d) { pool = opTypes(in: d) } else { pool = allOpTypes }
        return closestNames(to: opType, among: pool, limit: limit)
    }
}

// MARK: - Opset imports

extension OpRegistry {
    /// The version an `imports` list (a model's or a function's) gives `domain`; the default
    /// domain matches `""` and `ai.onnx`. `Model.opsetVersion(for:)` (GraphIR) is the model case.
    public static func opsetVersion(for domain: String, in imports: [OpsetImport]) -> Int? {
        let d = normalize(domain: domain)
        guard let v = imports.first(where: { normalize(domain: $0.domain) == d })?.version else { return nil }
        return Int(clamping: v)
    }
}
