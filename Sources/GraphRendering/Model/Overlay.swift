// Per-node numeric overlays (estimated latency, measured time, error...) in Model Explorer's
// node-data model: values keyed by node id (or output tensor name), coloured by a gradient or
// by thresholds, and rolled up onto collapsed groups by sum, max or mean.

import Foundation

/// A per-node number to colour the drawing by.
public struct Overlay: Sendable {
    /// How a collapsed group summarises its members' values.
    public enum Rollup: String, Sendable, CaseIterable {
        case sum, max, mean
        /// Combines the values present below a group (nil when none have a value).
        public func combine(_ values: [Double]) -> Double? {
            guard let first = values.first else { return nil }
            switch self {
            case .sum: return values.reduce(0, +)
            case .max: return values.reduce(first, Swift.max)
            case .mean: return values.reduce(0, +) / Double(values.count)
            }
        }
    }
    /// A gradient stop: `stop` in 0...1 over the value range.
    public struct Stop: Sendable, Equatable {
        /// Position in 0...1 over the value range (0 = minimum, 1 = maximum).
        public var stop: Double
        /// `#rrggbb` or a CSS colour name.
        public var color: String
        /// A stop at `stop` with colour `color`.
        public init(stop: Double, color: String) { self.stop = stop; self.color = color }
    }
    /// A threshold bucket: values <= `value` (first match in list order) get `color`.
    public struct Threshold: Sendable, Equatable {
        /// Upper bound (inclusive) of the bucket.
        public var value: Double
        /// `#rrggbb` or a CSS colour name.
        public var color: String
        /// A bucket for values up to `value`.
        public init(value: Double, color: String) { self.value = value; self.color = color }
    }
    /// How figures become colours: a continuous gradient (wins in Model Explorer when both are
    /// given) or first-match thresholds.
    public enum Coloring: Sendable, Equatable {
        case gradient([Stop])
        case thresholds([Threshold])
    }

    /// Display name, e.g. "estimated latency (us)".
    public var name: String
    /// Values keyed by node id, node name or output tensor name.
    public var values: [String: Double]
    /// Explicit per-key colours (Model Explorer's per-result `bgColor`), winning over the scale.
    public var colors: [String: String]
    /// The colour scale.
    public var coloring: Coloring
    /// How collapsed groups summarise their members (shown in the legend).
    public var rollup: Rollup

    /// The default gradient: green (low) to yellow to red (high).
    public static let defaultGradient: [Stop] = [Stop(stop: 0, color: "#e8f5e9"), Stop(stop: 0.5, color: "#fff59d"), Stop(stop: 1, color: "#e53935")]

    /// An overlay from code. `rollup` nil picks one from the name (`defaultRollup(forName:)`).
    public init(name: String, values: [String: Double], coloring: Coloring = .gradient(Overlay.defaultGradient),
                rollup: Rollup? = nil, colors: [String: String] = [:]) {
        self.name = name; self.values = values; self.coloring = coloring; self.colors = colors
        self.rollup = rollup ?? Overlay.defaultRollup(forName: name)
    }

    /// Errors and utilisation-like figures are summarised by their worst case, times and counts add up.
    public static func defaultRollup(forName name: String) -> Rollup {
        let n = name.lowercased()
        if n.contains("error") || n.contains("diff") || n.contains("util") || n.contains("ratio") || n.contains("max") { return .max }
        if n.contains("mean") || n.contains("avg") || n.contains("average") { return .mean }
        return .sum
    }

    /// Reads Model Explorer node data (single-graph form, or model form keyed by graph id; the
    /// first entry is used unless `graphID` picks one). Our extension: an optional top-level
    /// `"rollup": "sum"|"max"|"mean"`.
    public init(modelExplorerJSON data: Data, graphID: String? = nil) throws {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw RenderError.invalidOverlay("node data is not JSON: \(error.localizedDescription)")
        }
        guard let top = parsed as? [String: Any] else { throw RenderError.invalidOverlay("node data must be a JSON object") }
        var body: [String: Any]
        if top["results"] is [String: Any] {
            body = top
        } else if let id = graphID {
            guard let b = top[id] as? [String: Any] else { throw RenderError.invalidOverlay("node data has no entry for graph '\(id)'") }
            body = b
        } else if let key = top.keys.sorted().first(where: { (top[$0] as? [String: Any])?["results"] != nil }),
                  let b = top[key] as? [String: Any] {
            body = b
        } else {
            throw RenderError.invalidOverlay("node data has no 'results' (neither single-graph nor model form)")
        }
        guard let results = body["results"] as? [String: Any] else { throw RenderError.invalidOverlay("'results' must be an object") }
        var values: [String: Double] = [:]
        var colors: [String: String] = [:]
        for (key, raw) in results {
            guard let r = raw as? [String: Any] else { throw RenderError.invalidOverlay("result '\(key)' must be an object") }
            if let v = r["value"] as? NSNumber { values[key] = v.doubleValue }
            if let c = r["bgColor"] as? String { colors[key] = c }
        }
        var coloring: Coloring = .gradient(Overlay.defaultGradient)
        if let g = body["gradient"] as? [[String: Any]], !g.isEmpty {
            var stops: [Stop] = []
            for (i, s) in g.enumerated() {
                guard let stop = (s["stop"] as? NSNumber)?.doubleValue else { throw RenderError.invalidOverlay("gradient item \(i) has no numeric 'stop'") }
                stops.append(Stop(stop: stop, color: (s["bgColor"] as? String) ?? "#ffffff"))
            }
            coloring = .gradient(stops.sorted { $0.stop < $1.stop })
        } else if let t = body["thresholds"] as? [[String: Any]], !t.isEmpty {
            var list: [Threshold] = []
            for (i, s) in t.enumerated() {
                guard let v = (s["value"] as? NSNumber)?.doubleValue else { throw RenderError.invalidOverlay("threshold item \(i) has no numeric 'value'") }
                list.append(Threshold(value: v, color: (s["bgColor"] as? String) ?? "#ffffff"))
            }
            coloring = .thresholds(list)
        }
        var rollup: Rollup? = nil
        if let r = (body["rollup"] ?? top["rollup"]) as? String {
            guard let parsedRollup = Rollup(rawValue: r.lowercased()) else { throw RenderError.invalidOverlay("rollup '\(r)' is not sum, max or mean") }
            rollup = parsedRollup
        }
        self.init(name: (body["name"] as? String) ?? "node data", values: values, coloring: coloring, rollup: rollup, colors: colors)
    }

    /// Colour of `value` on this overlay's scale, where `range` is the (min, max) the gradient spans.
    /// Returns nil when thresholds leave the value uncoloured.
    public func color(for value: Double, range: (Double, Double)) -> String? {
        switch coloring {
        case .thresholds(let list):
            return list.first(where: { value <= $0.value })?.color
        case .gradient(let stops):
            guard let first = stops.first, let last = stops.last else { return nil }
            let span = range.1 - range.0
            let t = span > 0 ? Swift.min(1, Swift.max(0, (value - range.0) / span)) : 0
            if t <= first.stop { return normalizedHex(first.color) }
            for i in 1..<stops.count where t <= stops[i].stop {
                let a = stops[i - 1], b = stops[i]
                let f = b.stop > a.stop ? (t - a.stop) / (b.stop - a.stop) : 1
                return mixColors(a.color, b.color, f)
            }
            return normalizedHex(last.color)
        }
    }
}

/// Parses "#rrggbb", "#rgb" or a common CSS colour name into RGB components.
func parseColor(_ text: String) -> (Double, Double, Double)? {
    let s = text.trimmingCharacters(in: .whitespaces).lowercased()
    if s.hasPrefix("#") {
        let hex = Array(s.dropFirst())
        func v(_ chars: ArraySlice<Character>) -> Double? { Int(String(chars), radix: 16).map(Double.init) }
        if hex.count == 6, let r = v(hex[0..<2]), let g = v(hex[2..<4]), let b = v(hex[4..<6]) { return (r, g, b) }
        if hex.count == 3, let r = v(hex[0..<1]), let g = v(hex[1..<2]), let b = v(hex[2..<3]) { return (r * 17, g * 17, b * 17) }
        return nil
    }
    let names: [String: (Double, Double, Double)] = [
        "white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255),
        "yellow": (255, 255, 0), "orange": (255, 165, 0), "gray": (128, 128, 128), "grey": (128, 128, 128),
        "lightgray": (211, 211, 211), "lightgreen": (144, 238, 144), "pink": (255, 192, 203), "purple": (128, 0, 128),
        "cyan": (0, 255, 255), "magenta": (255, 0, 255), "lime": (0, 255, 0), "navy": (0, 0, 128), "gold": (255, 215, 0),
    ]
    return names[s]
}

private func hex(_ c: (Double, Double, Double)) -> String {
    func h(_ x: Double) -> String {
        let v = Int(Swift.max(0, Swift.min(255, x.rounded())))
        let digits = Array("0123456789abcdef")
        return String([digits[v / 16], digits[v % 16]])
    }
    return "#" + h(c.0) + h(c.1) + h(c.2)
}

func normalizedHex(_ color: String) -> String { parseColor(color).map(hex) ?? "#ffffff" }

func mixColors(_ a: String, _ b: String, _ f: Double) -> String {
    let ca = parseColor(a) ?? (255, 255, 255), cb = parseColor(b) ?? (255, 255, 255)
    return hex((ca.0 + (cb.0 - ca.0) * f, ca.1 + (cb.1 - ca.1) * f, ca.2 + (cb.2 - ca.2) * f))
}

/// Black or white text, whichever reads better on `background`.
func textColor(on background: String) -> String {
    guard let c = parseColor(background) else { return "#000000" }
    let luminance = 0.299 * c.0 + 0.587 * c.1 + 0.114 * c.2
    return luminance < 140 ? "#ffffff" : "#111111"
}
