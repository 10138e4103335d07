/// A deterministic mutation fuzzer for the ONNX reader: flips bits, overwrites bytes with
/// boundary values, truncates, splices and inserts varints into real models, then loads each
/// mutant (and reads every tensor's data, and runs shape inference on it). Any crash kills the process (and the driver script
/// reports it); a slow case (> 2 s) counts as a hang.
import Foundation
import GraphFormats
import GraphIR
import GraphOps

/// SplitMix64: small, fast, deterministic.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

struct Fuzzer {
    let files: [String]
    let count: Int
    let seed: UInt64
    let maxSeconds: Double

    func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let rounds = 1 + rng.below(4)
        for _ in 0..<rounds {
            if b.isEmpty { b = [UInt8(rng.below(256))]; continue }
            switch rng.below(8) {
            case 0: // bit flip
                let i = rng.below(b.count); b[i] ^= UInt8(1 << rng.below(8))
            case 1: // boundary byte
                let vals: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x08, 0x0A, 0x12, 0x1A, 0x22]
                b[rng.below(b.count)] = vals[rng.below(vals.count)]
            case 2: // truncate
                b.removeLast(rng.below(b.count))
            case 3: // insert a long varint (huge length prefix)
                let at = rng.below(b.count)
                b.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], at: at)
            case 4: // delete a range
                let i = rng.below(b.count); let n = min(b.count - i, 1 + rng.below(16))
                b.removeSubrange(i..<(i + n))
            case 5: // duplicate a range
                let i = rng.below(b.count); let n = min(b.count - i, 1 + rng.below(64))
                b.insert(contentsOf: b[i..<(i + n)], at: rng.below(b.count))
            case 6: // random byte
                b[rng.below(b.count)] = UInt8(rng.below(256))
            default: // wire-type confusion: rewrite a tag's low 3 bits
                let i = rng.below(b.count); b[i] = (b[i] & 0xF8) | UInt8(rng.below(8))
            }
        }
        return b
    }

    func run() throws {
        var seeds: [[UInt8]] = []
        for f in files {
            guard let d = FileManager.default.contents(atPath: f), d.count <= 4 << 20 else { continue }
            seeds.append([UInt8](d))
        }
        guard !seeds.isEmpty else { throw ONNXError(file: "-", message: "no seed files") }
        var rng = SplitMix64(state: seed)
        var ok = 0, rejected = 0, hangs = 0, tensorErrors = 0, indexMismatches = 0, walkMismatches = 0
        var slowest = 0.0
        let start = Date()
        var done = 0
        for i in 0..<count {
            if Date().timeIntervalSince(start) > maxSeconds { break }
            let base = seeds[rng.below(seeds.count)]
            let input = mutate(base, &rng)
            let t0 = Date()
            do {
                let m = try ONNXReader.load(bytes: input, name: "mutant-\(i)")
                ok += 1
                // Touch all data and the analyses other layers run.
                for t in m.graph.initializers { if (try? t.packedBytes()) == nil { tensorErrors += 1 } }
                _ = m.graph.validate()
                _ = m.graph.summary()
                _ = Hierarchy(m.graph)
                // Both walks, which must agree (the packed one on every graph it applies to,
                // not only those the automatic choice gives it).
                let packed = ShapeInference.infer(m, walk: .packed)
                let general = ShapeInference.infer(m, walk: .general)
                if !Fuzzer.sameFacts(packed.values, general.values) || packed.problems != general.problems {
                    walkMismatches += 1
                    // Kept for replay (`onnx-tool infer FILE --walk packed --known` against `general`).
                    let path = FileManager.default.temporaryDirectory.appendingPathComponent("walk-mismatch-\(seed)-\(i).onnx")
                    _ = FileManager.default.createFile(atPath: path.path, contents: Data(input))
                    FileHandle.standardError.write(Data("walk mismatch: case \(i), saved as \(path.path)\n".utf8))
                }
                _ = try? ONNXWriter.serialize(m)
                if !Fuzzer.indexMatchesEager(m.graph) { indexMismatches += 1 }
            } catch {
                rejected += 1
            }
            let dt = Date().timeIntervalSince(t0)
            slowest = max(slowest, dt)
            if dt > 2 { hangs += 1 }
            done += 1
        }
        print("fuzz cases \(done) seed \(seed) seeds \(seeds.count) loaded \(ok) rejected \(rejected) tensor_errors \(tensorErrors) index_mismatches \(indexMismatches) walk_mismatches \(walkMismatches) hangs \(hangs) crashes 0 slowest_ms \(String(format: "%.1f", slowest * 1000)) seconds \(String(format: "%.1f", Date().timeIntervalSince(start)))")
    }

    /// Whether two tables hold the same facts, contents compared by their text so that a NaN a
    /// mutant put into a constant counts as equal to itself.
    static func sameFacts(_ a: FactTable, _ b: FactTable) -> Bool {
        guard a.count == b.count else { return false }
        for (name, f) in a {
            guard let g = b[name], f.type == g.type, String(describing: f.value) == String(describing: g.value) else {
                return false
            }
        }
        return true
    }

    /// Differential check of the reader's deferred index: the loaded graph (indexed on first
    /// query when the reader found its order topological) must answer exactly like the same
    /// parts indexed (and, if needed, re-sorted) by the public initializer.
    static func indexMatchesEager(_ g: Graph) -> Bool {
        let e = Graph(name: g.name, nodes: g.nodes, inputs: g.inputs, outputs: g.outputs, initializers: g.initializers,
                      sparseInitializers: g.sparseInitializers, valueInfo: g.valueInfo, isSubgraph: g.isSubgraph)
        guard g.nodes == e.nodes, g.valueNames == e.valueNames, g.outerScopeReferences == e.outerScopeReferences else {
            return false
        }
        for name in e.valueNames where g.producer(of: name) != e.producer(of: name) || g.uses(of: name) != e.uses(of: name) {
            return false
        }
        return true
    }
}
