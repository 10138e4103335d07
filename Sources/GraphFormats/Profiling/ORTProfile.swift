/// onnxruntime profiling files (`SessionOptions.enable_profiling = True`) read as per-node
/// times, for `profile import`: the Chrome-trace events of category `Node` named
/// `<node>_kernel_time`, averaged per node over the runs in the file, then matched to a
/// graph's nodes: by node name, else (onnxruntime names unnamed nodes `Conv@3`) by its
/// `node_index`, which counts the model's nodes without the Constant nodes it turned into
/// initializers, checked against the op type.
import Foundation
import GraphIR

/// Why a profiling file could not be read.
public struct ProfileError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}

/// One node's time in an onnxruntime profile.
public struct ORTNodeTime: Sendable, Equatable {
    /// The name onnxruntime gave the node (the model's name, or `OpType@k` for unnamed ones).
    public var name: String
    public var opType: String
    /// onnxruntime's node index (model order without Constant nodes, before fusions).
    public var nodeIndex: Int?
    /// Mean kernel time per run, in microseconds.
    public var meanMicroseconds: Double
    /// How many times the node ran in the file.
    public var runs: Int
}

public enum ORTProfile {
    /// The per-node times of the profile in `data` (a JSON array of trace events).
    public static func parse(_ data: Data) throws -> [ORTNodeTime] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ProfileError(reason: "not JSON: \(error.localizedDescription)")
        }
        guard let events = object as? [[String: Any]] else {
            throw ProfileError(reason: "not an onnxruntime profile: expected a JSON array of trace events")
        }
        var order: [String] = []
        var byName: [String: ORTNodeTime] = [:]
        var totals: [String: Double] = [:]
        for e in events where (e["cat"] as? String) == "Node" {
            guard let full = e["name"] as? String, full.hasSuffix("_kernel_time") else { continue }
            let name = String(full.dropLast("_kernel_time".count))
            let args = e["args"] as? [String: Any] ?? [:]
            let dur = (e["dur"] as? NSNumber)?.doubleValue ?? 0
            if byName[name] == nil {
                order.append(name)
                let index = (args["node_index"] as? String).flatMap(Int.init) ?? (args["node_index"] as? NSNumber)?.intValue
                byName[name] = ORTNodeTime(name: name, opType: args["op_name"] as? String ?? "", nodeIndex: index,
                                           meanMicroseconds: 0, runs: 0)
            }
            byName[name]?.runs += 1
            totals[name, default: 0] += dur
        }
        guard !order.isEmpty else {
            throw ProfileError(reason: "the profile has no node events (`*_kernel_time` of category Node); was it written "
                + "by onnxruntime with enable_profiling = True and at least one run?")
        }
        return order.compactMap { n in
            guard var t = byName[n] else { return nil }
            t.meanMicroseconds = (totals[n] ?? 0) / Double(max(t.runs, 1))
            return t
        }
    }

    /// How a profile's nodes landed on a graph's nodes.
    public struct Match: Sendable {
        /// Mean microseconds per matched node.
        public var values: [NodeID: Double]
        /// Matched by name / by node index.
        public var byName: Int
        public var byIndex: Int
        /// Profile nodes with no node here (fused by onnxruntime's optimizers, or a different graph).
        public var unmatched: [ORTNodeTime]
    }

    /// Matches `times` to the top-level nodes of `graph` (see the file comment).
    public static func match(_ times: [ORTNodeTime], to graph: Graph) -> Match {
        var named: [String: NodeID] = [:]
        for n in graph.nodes { named[n.displayName] = n.id }
        let indexed = graph.nodes.filter { !($0.opType == "Constant" && $0.domain.isEmpty) }
        var m = Match(values: [:], byName: 0, byIndex: 0, unmatched: [])
        for t in times {
            if let id = named[t.name] {
                m.values[id, default: 0] += t.meanMicroseconds
                m.byName += 1
            } else if let i = t.nodeIndex, i >= 0, i < indexed.count, indexed[i].opType == t.opType, indexed[i].name.isEmpty {
                m.values[indexed[i].id, default: 0] += t.meanMicroseconds
                m.byIndex += 1
            } else {
                m.unmatched.append(t)
            }
        }
        return m
    }
}
