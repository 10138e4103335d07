// MIME bundles as commands build them: always text/plain, plus HTML, SVG, JSON and
// Vega-Lite where they fit.

import JupyterKernel

/// A rich output: every bundle has text/plain, and adds richer forms where they fit.
public struct OutputBundle: Sendable {
    public var text: String
    public var html: String?
    public var svg: String?
    /// An `application/json` object (never a bare string, as the protocol requires).
    public var json: JSONValue?
    /// An `application/vnd.vegalite.v5+json` chart spec.
    public var vegaLite: JSONValue?
    /// Extra MIME types.
    public var extra: [String: JSONValue] = [:]

    public init(text: String, html: String? = nil, svg: String? = nil, json: JSONValue? = nil,
                vegaLite: JSONValue? = nil) {
        self.text = text
        self.html = html
        self.svg = svg
        self.json = json
        self.vegaLite = vegaLite
    }

    /// The bundle keyed by MIME type.
    public var mimeBundle: MimeBundle {
        var m: MimeBundle = ["text/plain": .string(text)]
        if let html { m["text/html"] = .string(html) }
        if let svg { m["image/svg+xml"] = .string(svg) }
        if let json { m["application/json"] = json }
        if let vegaLite { m["application/vnd.vegalite.v5+json"] = vegaLite }
        for (k, v) in extra { m[k] = v }
        return m
    }
}

/// HTML helpers.
public enum HTML {
    /// Escapes text for HTML element content and attribute values (the kernel's report writer's escaping).
    public static func escape(_ s: String) -> String { RunReport.escape(s) }
}
