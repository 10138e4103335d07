// Charts as commands return them: a Vega-Lite v5 spec (JupyterLab renders it) plus a
// self-contained SVG fallback drawn here, for nbconvert, GitHub and any frontend without
// Vega. Three kinds cover the estimation commands: log-log scatter with roof lines,
// multi-series lines, horizontal bars (plain and grouped: versions side by side), and a heatmap.

import Foundation
import JupyterKernel

/// A chart in both forms.
public struct Chart: Sendable {
    public var vegaLite: JSONValue
    public var svg: String

    /// Attaches the chart to a bundle; it is published as an output of its own (Vega-Lite plus
    /// the SVG fallback), so no HTML table competes with it.
    public func attach(to bundle: inout OutputBundle) {
        let title = vegaLite["title"]?.stringValue ?? "chart"
        bundle.chart = ChartOutput(vegaLite: vegaLite, svg: svg, caption: "[chart: \(title)]")
    }

    static let schema: JSONValue = "https://vega.github.io/schema/vega-lite/v5.json"
    /// One number style on every quantitative axis, the SVG fallback's (`Format.si`): SI
    /// prefixes from 1,000 up (`10T`, `100G`), plain decimals below. Vega's default mixes
    /// `1e+13` with `100,000,000,000` on log axes. Log axes have ticks at 1..9 of each
    /// decade; `greedy` overlap removal keeps the labels that fit instead of printing them over
    /// each other (`0.030.050.09`), as the browser test's roofline screenshot showed.
    static let numberAxes: JSONValue = [
        "axisQuantitative": ["labelExpr": .string(tickExpression), "labelOverlap": "greedy", "labelSeparation": 6],
        // Series names such as `hardware=nvidia-h100-sxm5-80gb` are shown whole (Vega cuts at 160 px).
        "legend": ["labelLimit": 400],
    ]
    /// The Vega expression behind `numberAxes`.
    static let tickExpression = "abs(datum.value) >= 1000 ? format(datum.value, '.3~s') : format(datum.value, '.3~r')"

    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    /// A point of a scatter.
    public struct Point: Sendable {
        public var x: Double
        public var y: Double
        public var label: String
        public var group: String
        public init(x: Double, y: Double, label: String, group: String) {
            self.x = x; self.y = y; self.label = label; self.group = group
        }
    }

    /// A named line.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name; self.points = points
        }
    }

    // MARK: Builders

    /// Log-log scatter (one color per group) with overlaid lines, for rooflines.
    public static func scatter(_ points: [Point], lines: [Series], title: String, xTitle: String, yTitle: String) -> Chart {
        let pts = points.filter { $0.x > 0 && $0.y > 0 && $0.x.isFinite && $0.y.isFinite }
        var values: [JSONValue] = pts.map { ["x": .double($0.x), "y": .double($0.y), "label": .string($0.label), "group": .string($0.group)] }
        for l in lines {
            for p in l.points where p.x > 0 && p.y > 0 { values.append(["x": .double(p.x), "y": .double(p.y), "line": .string(l.name)]) }
        }
        let spec: JSONValue = [
            "$schema": schema, "config": numberAxes, "title": .string(title), "width": 520, "height": 340,
            "data": ["values": .array(values)],
            "layer": [
                ["transform": [["filter": "datum.line != null"]],
                 "mark": ["type": "line", "strokeDash": [6, 3], "color": "#555"],
                 "encoding": ["x": ["field": "x", "type": "quantitative", "scale": ["type": "log"], "title": .string(xTitle)],
                              "y": ["field": "y", "type": "quantitative", "scale": ["type": "log"], "title": .string(yTitle)],
                              "detail": ["field": "line"]]],
                ["transform": [["filter": "datum.label != null"]],
                 "mark": ["type": "point", "filled": true, "size": 40],
                 "encoding": ["x": ["field": "x", "type": "quantitative", "scale": ["type": "log"]],
                              "y": ["field": "y", "type": "quantitative", "scale": ["type": "log"]],
                              "color": ["field": "group", "type": "nominal"],
                              "tooltip": [["field": "label"], ["field": "group"], ["field": "x", "format": ".3g"], ["field": "y", "format": ".3g"]]]],
            ],
        ]
        let svg = SVGPlot(title: title, xTitle: xTitle, yTitle: yTitle, logX: true, logY: true,
                          xs: pts.map(\.x) + lines.flatMap { $0.points.map(\.x) },
                          ys: pts.map(\.y) + lines.flatMap { $0.points.map(\.y) })
            .render { plot in
                var body = ""
                for l in lines {
                    let path = l.points.filter { $0.x > 0 && $0.y > 0 }.map { "\(plot.px($0.x)),\(plot.py($0.y))" }.joined(separator: " L")
                    if !path.isEmpty { body += "<path d=\"M\(path)\" fill=\"none\" stroke=\"#555\" stroke-dasharray=\"6 3\"/>" }
                }
                let groups = orderedUnique(pts.map(\.group))
                for p in pts {
                    let color = palette[(groups.firstIndex(of: p.group) ?? 0) % palette.count]
                    body += "<circle cx=\"\(plot.px(p.x))\" cy=\"\(plot.py(p.y))\" r=\"3.5\" fill=\"\(color)\"><title>\(HTML.escape(p.label)) (\(HTML.escape(p.group)))</title></circle>"
                }
                body += plot.legend(groups.enumerated().map { ($1, palette[$0 % palette.count]) })
                return body
            }
        return Chart(vegaLite: spec, svg: svg)
    }

    /// Most points drawn with a marker (and a tooltip) each; longer series are drawn as lines
    /// only, which keeps a 20,000-point sweep's chart small and fast to draw.
    static let markerLimit = 500

    /// Lines over a numeric x axis (log x when the values span more than a decade).
    public static func lines(_ series: [Series], title: String, xTitle: String, yTitle: String) -> Chart {
        let xs = series.flatMap { $0.points.map(\.x) }
        let markers = xs.count <= markerLimit
        let logX = (xs.min() ?? 0) > 0 && (xs.max() ?? 1) / max(xs.min() ?? 1, 1e-300) >= 10
        let values: [JSONValue] = series.flatMap { s in s.points.map { ["x": .double($0.x), "y": .double($0.y), "series": .string(s.name)] } }
        var xEnc: [String: JSONValue] = ["field": "x", "type": "quantitative", "title": .string(xTitle)]
        if logX { xEnc["scale"] = ["type": "log"] }
        let spec: JSONValue = [
            "$schema": schema, "config": numberAxes, "title": .string(title), "width": 520, "height": 320,
            "data": ["values": .array(values)],
            "mark": ["type": "line", "point": .bool(markers)],
            "encoding": ["x": .object(xEnc), "y": ["field": "y", "type": "quantitative", "title": .string(yTitle)],
                         "color": ["field": "series", "type": "nominal", "title": ""],
                         "tooltip": [["field": "series"], ["field": "x"], ["field": "y", "format": ".4g"]]],
        ]
        let svg = SVGPlot(title: title, xTitle: xTitle, yTitle: yTitle, logX: logX, logY: false,
                          xs: xs, ys: series.flatMap { $0.points.map(\.y) } + [0])
            .render { plot in
                var body = ""
                for (i, s) in series.enumerated() {
                    let color = palette[i % palette.count]
                    let pts = s.points.filter { $0.y.isFinite }
                    let path = pts.map { "\(plot.px($0.x)),\(plot.py($0.y))" }.joined(separator: " L")
                    if !path.isEmpty { body += "<path d=\"M\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>" }
                    for p in pts where markers {
                        body += "<circle cx=\"\(plot.px(p.x))\" cy=\"\(plot.py(p.y))\" r=\"3\" fill=\"\(color)\"><title>\(HTML.escape(s.name)): \(Format.number(p.x)) → \(Format.number(p.y))</title></circle>"
                    }
                }
                if series.count > 1 { body += plot.legend(series.enumerated().map { ($1.name, palette[$0 % palette.count]) }) }
                return body
            }
        return Chart(vegaLite: spec, svg: svg)
    }

    /// Horizontal bars, one per row, in the given order.
    public static func bars(_ rows: [(label: String, value: Double)], title: String, unit: String) -> Chart {
        let values: [JSONValue] = rows.enumerated().map { ["label": .string($1.label), "value": .double($1.value), "order": .int(Int64($0))] }
        let spec: JSONValue = [
            "$schema": schema, "config": numberAxes, "title": .string(title), "width": 460,
            "data": ["values": .array(values)],
            "mark": "bar",
            "encoding": ["y": ["field": "label", "type": "nominal", "sort": ["field": "order"], "title": ""],
                         "x": ["field": "value", "type": "quantitative", "title": .string(unit)],
                         "tooltip": [["field": "label"], ["field": "value", "format": ".4g"]]],
        ]
        let rowH = 22.0, labelW = 150.0, barW = 330.0
        let maxV = max(rows.map(\.value).max() ?? 1, 1e-300)
        let height = 40 + rowH * Double(rows.count)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"560\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
        svg += "<text x=\"8\" y=\"18\" font-weight=\"bold\">\(HTML.escape(title))</text>"
        for (i, r) in rows.enumerated() {
            let y = 30 + rowH * Double(i)
            let w = max(0, r.value / maxV * barW)
            svg += "<text x=\"\(labelW - 6)\" y=\"\(y + 15)\" text-anchor=\"end\">\(HTML.escape(r.label))</text>"
            svg += "<rect x=\"\(labelW)\" y=\"\(y + 3)\" width=\"\(fmt(w))\" height=\"\(rowH - 6)\" fill=\"\(palette[i % palette.count])\"/>"
            svg += "<text x=\"\(fmt(labelW + w + 4))\" y=\"\(y + 15)\">\(HTML.escape(Format.number(r.value, digits: 3))) \(HTML.escape(unit))</text>"
        }
        return Chart(vegaLite: spec, svg: svg + "</svg>")
    }

    /// Horizontal bars grouped by category (one bar per series in each group), in the given
    /// order: several versions side by side on several metrics.
    public static func groupedBars(_ rows: [(group: String, series: String, value: Double)], title: String, xTitle: String) -> Chart {
        let groups = orderedUnique(rows.map(\.group)), series = orderedUnique(rows.map(\.series))
        let values: [JSONValue] = rows.map { r in
            ["group": .string(r.group), "series": .string(r.series), "value": .double(r.value),
             "order": .int(Int64(groups.firstIndex(of: r.group) ?? 0)), "seriesOrder": .int(Int64(series.firstIndex(of: r.series) ?? 0))]
        }
        let spec: JSONValue = [
            "$schema": schema, "config": numberAxes, "title": .string(title), "width": 420,
            "data": ["values": .array(values)],
            "mark": "bar",
            "encoding": ["y": ["field": "group", "type": "nominal", "sort": ["field": "order"], "title": ""],
                         "yOffset": ["field": "series", "type": "nominal", "sort": ["field": "seriesOrder"]],
                         "x": ["field": "value", "type": "quantitative", "title": .string(xTitle)],
                         "color": ["field": "series", "type": "nominal", "sort": ["field": "seriesOrder"], "title": "",
                                   "scale": ["range": .array(palette.map { .string($0) })]],
                         "tooltip": [["field": "group"], ["field": "series"], ["field": "value", "format": ".4g"]]],
        ]
        let barH = 14.0, gap = 10.0, labelW = 150.0, barW = 300.0
        let maxV = max(rows.map(\.value).filter(\.isFinite).max() ?? 1, 1e-300)
        let groupH = barH * Double(series.count) + gap
        let legendTop = 30 + groupH * Double(groups.count)
        let height = legendTop + 18 * Double(series.count) + 10
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
        svg += "<text x=\"8\" y=\"18\" font-weight=\"bold\">\(HTML.escape(title))</text>"
        for (g, group) in groups.enumerated() {
            let top = 30 + groupH * Double(g)
            svg += "<text x=\"\(labelW - 6)\" y=\"\(fmt(top + barH * Double(series.count) / 2 + 4))\" text-anchor=\"end\">\(HTML.escape(group))</text>"
            for (k, name) in series.enumerated() {
                guard let r = rows.first(where: { $0.group == group && $0.series == name }), r.value.isFinite else { continue }
                let y = top + barH * Double(k), w = max(0, r.value / maxV * barW)
                svg += "<rect x=\"\(labelW)\" y=\"\(fmt(y + 1))\" width=\"\(fmt(w))\" height=\"\(barH - 2)\" fill=\"\(palette[k % palette.count])\"/>"
                svg += "<text x=\"\(fmt(labelW + w + 4))\" y=\"\(fmt(y + barH - 3))\" font-size=\"10\">\(HTML.escape(Format.number(r.value, digits: 3)))</text>"
            }
        }
        for (k, name) in series.enumerated() {
            let y = legendTop + 18 * Double(k)
            svg += "<rect x=\"\(labelW)\" y=\"\(fmt(y))\" width=\"12\" height=\"12\" fill=\"\(palette[k % palette.count])\"/>"
            svg += "<text x=\"\(labelW + 18)\" y=\"\(fmt(y + 10))\">\(HTML.escape(name))</text>"
        }
        svg += "<text x=\"\(labelW)\" y=\"\(fmt(height - 2))\" font-size=\"10\" fill=\"#555\">\(HTML.escape(xTitle))</text>"
        return Chart(vegaLite: spec, svg: svg + "</svg>")
    }

    /// A heatmap of values over two categorical axes.
    public static func heatmap(x: [String], y: [String], values: [[Double?]], title: String, xTitle: String, yTitle: String,
                               valueTitle: String) -> Chart {
        var data: [JSONValue] = []
        for (j, row) in values.enumerated() {
            for (i, v) in row.enumerated() { if let v, v.isFinite { data.append(["x": .string(x[i]), "y": .string(y[j]), "v": .double(v)]) } }
        }
        let spec: JSONValue = [
            "$schema": schema, "config": numberAxes, "title": .string(title),
            "data": ["values": .array(data)],
            "mark": "rect",
            "encoding": ["x": ["field": "x", "type": "ordinal", "title": .string(xTitle), "sort": .array(x.map { .string($0) })],
                         "y": ["field": "y", "type": "ordinal", "title": .string(yTitle), "sort": .array(y.map { .string($0) })],
                         "color": ["field": "v", "type": "quantitative", "title": .string(valueTitle)],
                         "tooltip": [["field": "x"], ["field": "y"], ["field": "v", "format": ".4g"]]],
        ]
        let cellW = 70.0, cellH = 26.0, left = 110.0, top = 40.0
        let finite = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + cellW * Double(x.count) + 20))\" "
            + "height=\"\(Int(top + cellH * Double(y.count) + 40))\" font-family=\"sans-serif\" font-size=\"11\">"
        svg += "<text x=\"8\" y=\"18\" font-weight=\"bold\" font-size=\"13\">\(HTML.escape(title))</text>"
        for (i, label) in x.enumerated() {
            svg += "<text x=\"\(fmt(left + cellW * (Double(i) + 0.5)))\" y=\"\(fmt(top - 6))\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
        }
        for (j, row) in values.enumerated() {
            let yy = top + cellH * Double(j)
            svg += "<text x=\"\(left - 6)\" y=\"\(fmt(yy + cellH * 0.65))\" text-anchor=\"end\">\(HTML.escape(y[j]))</text>"
            for (i, v) in row.enumerated() {
                let t = v.map { hi > lo ? ($0 - lo) / (hi - lo) : 0.5 } ?? 0
                let color = v == nil ? "#eeeeee" : heat(t)
                svg += "<rect x=\"\(fmt(left + cellW * Double(i)))\" y=\"\(fmt(yy))\" width=\"\(cellW - 2)\" height=\"\(cellH - 2)\" fill=\"\(color)\"/>"
                svg += "<text x=\"\(fmt(left + cellW * (Double(i) + 0.5)))\" y=\"\(fmt(yy + cellH * 0.65))\" text-anchor=\"middle\">"
                    + "\(v.map { HTML.escape(Format.number($0, digits: 3)) } ?? "—")</text>"
            }
        }
        svg += "<text x=\"\(left)\" y=\"\(fmt(top + cellH * Double(y.count) + 24))\">\(HTML.escape(yTitle)) × \(HTML.escape(xTitle)): \(HTML.escape(valueTitle))</text>"
        return Chart(vegaLite: spec, svg: svg + "</svg>")
    }

    static func heat(_ t: Double) -> String {
        // Light blue to dark blue.
        let c = max(0, min(1, t))
        let r = Int(222 - 190 * c), g = Int(235 - 150 * c), b = Int(247 - 90 * c)
        return String(format: "#%02x%02x%02x", r, g, b)
    }

    static func orderedUnique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}

func fmt(_ d: Double) -> String { String(format: "%.1f", d) }

/// Axes, ticks and frame of an SVG plot; `render` adds the marks.
struct SVGPlot {
    let title: String, xTitle: String, yTitle: String
    let logX: Bool, logY: Bool
    let x0: Double, x1: Double, y0: Double, y1: Double
    let left = 70.0, top = 34.0, width = 520.0, height = 320.0

    init(title: String, xTitle: String, yTitle: String, logX: Bool, logY: Bool, xs: [Double], ys: [Double]) {
        self.title = title; self.xTitle = xTitle; self.yTitle = yTitle; self.logX = logX; self.logY = logY
        func range(_ v: [Double], log: Bool) -> (Double, Double) {
            let f = v.filter { $0.isFinite && (!log || $0 > 0) }
            guard var lo = f.min(), var hi = f.max() else { return log ? (1, 10) : (0, 1) }
            if log { lo = pow(10, floor(log10(lo))); hi = pow(10, ceil(log10(hi))); if lo == hi { hi *= 10 } }
            else { if lo == hi { hi = lo + 1 }; let pad = (hi - lo) * 0.05; lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad; hi += pad }
            return (lo, hi)
        }
        (x0, x1) = range(xs, log: logX)
        (y0, y1) = range(ys, log: logY)
    }

    func px(_ x: Double) -> String {
        let t = logX ? (log10(max(x, 1e-300)) - log10(x0)) / (log10(x1) - log10(x0)) : (x - x0) / (x1 - x0)
        return fmt(left + max(0, min(1, t)) * width)
    }

    func py(_ y: Double) -> String {
        let t = logY ? (log10(max(y, 1e-300)) - log10(y0)) / (log10(y1) - log10(y0)) : (y - y0) / (y1 - y0)
        return fmt(top + height - max(0, min(1, t)) * height)
    }

    func ticks(_ lo: Double, _ hi: Double, log: Bool) -> [Double] {
        if log {
            var out: [Double] = []
            var v = lo
            while v <= hi * 1.0001 && out.count < 30 { out.append(v); v *= 10 }
            return out
        }
        let raw = (hi - lo) / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(lo / step) * step
        while v <= hi + step * 1e-9 && out.count < 20 { out.append(v); v += step }
        return out
    }

    func legend(_ items: [(String, String)]) -> String {
        var s = ""
        for (i, item) in items.prefix(12).enumerated() {
            let y = top + 8 + Double(i) * 16
            s += "<rect x=\"\(fmt(left + width + 12))\" y=\"\(fmt(y - 8))\" width=\"10\" height=\"10\" fill=\"\(item.1)\"/>"
            s += "<text x=\"\(fmt(left + width + 26))\" y=\"\(fmt(y + 1))\">\(HTML.escape(item.0))</text>"
        }
        return s
    }

    func render(_ marks: (SVGPlot) -> String) -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 150))\" height=\"\(Int(top + height + 56))\" "
            + "font-family=\"sans-serif\" font-size=\"11\">"
        s += "<text x=\"\(left)\" y=\"20\" font-weight=\"bold\" font-size=\"13\">\(HTML.escape(title))</text>"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#999\"/>"
        for t in ticks(x0, x1, log: logX) {
            s += "<line x1=\"\(px(t))\" x2=\"\(px(t))\" y1=\"\(top)\" y2=\"\(fmt(top + height))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(px(t))\" y=\"\(fmt(top + height + 14))\" text-anchor=\"middle\">\(HTML.escape(Format.si(t)))</text>"
        }
        for t in ticks(y0, y1, log: logY) {
            s += "<line x1=\"\(left)\" x2=\"\(fmt(left + width))\" y1=\"\(py(t))\" y2=\"\(py(t))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(fmt(left - 4))\" y=\"\(py(t))\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTML.escape(Format.si(t)))</text>"
        }
        s += "<text x=\"\(fmt(left + width / 2))\" y=\"\(fmt(top + height + 34))\" text-anchor=\"middle\">\(HTML.escape(xTitle))</text>"
        s += "<text transform=\"translate(14,\(fmt(top + height / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yTitle))</text>"
        s += marks(self)
        return s + "</svg>"
    }
}
