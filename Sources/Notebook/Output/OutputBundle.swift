// MIME bundles as commands build them, and the one place that decides which MIME types each
// output carries (docs/outputs.md lists every command's bundle).
//
// The rules follow what front ends pick (JupyterLab 4 / Notebook 7 rank their renderers;
// VS Code, nbconvert and GitHub use fixed priority lists):
// - every output has text/plain;
// - a table or report is text/html + text/plain;
// - a drawing is text/html (the viewer, which embeds the SVG) + image/svg+xml + text/plain;
// - a chart is Vega-Lite + image/svg+xml (static fallback) + text/plain, never text/html,
//   which would outrank Vega-Lite in JupyterLab; a bundle with both a table and a chart is
//   published as two outputs;
// - machine-readable results go under the vendor type `application/vnd.graphsmith.v1+json`,
//   which no front end renders, so it never competes with the rich forms (a plain
//   `application/json` has rank 0 in JupyterLab and would show as a JSON tree instead).

import JupyterKernel

/// A rich output: every bundle has text/plain, and adds richer forms where they fit.
public struct OutputBundle: Sendable {
    /// The vendor MIME type of machine-readable results.
    public static let dataMIME = "application/vnd.graphsmith.v1+json"
    /// The MIME type of Vega-Lite v5 chart specs.
    public static let vegaLiteMIME = "application/vnd.vegalite.v5+json"

    public var text: String
    public var html: String?
    public var svg: String?
    /// Machine-readable data, published as `application/vnd.graphsmith.v1+json` (an object).
    public var json: JSONValue?
    /// A chart: Vega-Lite v5 spec plus its static SVG, published as an output of its own.
    public var chart: ChartOutput?
    /// Extra MIME types (e.g. `text/markdown`, or `application/json` when the user asks for it).
    public var extra: [String: JSONValue] = [:]

    public init(text: String, html: String? = nil, svg: String? = nil, json: JSONValue? = nil) {
        self.text = text
        self.html = html
        self.svg = svg
        self.json = json
    }

    /// The outputs this bundle is published as, in order: the main one (text, HTML or SVG, data)
    /// and, when there is a chart, the chart (Vega-Lite, SVG fallback, a text line). A bundle
    /// that holds only a chart is one output.
    public var outputs: [MimeBundle] {
        guard let chart else { return [main] }
        if isChartOnly { return [chartBundle(chart, standingAlone: true)] }
        return [main, chartBundle(chart, standingAlone: false)]
    }

    /// The single bundle for places that can show one output (execute_result, inspection,
    /// display updates): the main output, or the chart when there is nothing else.
    public var primaryOutput: MimeBundle {
        if let chart, isChartOnly { return chartBundle(chart, standingAlone: true) }
        return main
    }

    /// Text, HTML or SVG, data and extra types.
    private var main: MimeBundle {
        var m: MimeBundle = ["text/plain": .string(text)]
        if let html { m["text/html"] = .string(html) }
        if let svg { m["image/svg+xml"] = .string(svg) }
        if let json { m[Self.dataMIME] = json }
        for (k, v) in extra { m[k] = v }
        return m
    }

    /// Nothing but text (and data) beside the chart: the chart is the one output.
    private var isChartOnly: Bool { html == nil && svg == nil && extra.isEmpty }

    /// The chart's own output; one standing alone carries the bundle's text and data too.
    private func chartBundle(_ chart: ChartOutput, standingAlone: Bool) -> MimeBundle {
        var c: MimeBundle = [Self.vegaLiteMIME: chart.vegaLite, "image/svg+xml": .string(chart.svg),
                             "text/plain": .string(standingAlone ? text : chart.caption)]
        if standingAlone, let json { c[Self.dataMIME] = json }
        return c
    }
}

/// A chart as an output carries it: the Vega-Lite spec, the static SVG and a one-line caption.
public struct ChartOutput: Sendable {
    public var vegaLite: JSONValue
    public var svg: String
    public var caption: String
}

/// HTML helpers.
public enum HTML {
    /// Escapes text for HTML element content and attribute values (the kernel's report writer's escaping).
    public static func escape(_ s: String) -> String { RunReport.escape(s) }
}
