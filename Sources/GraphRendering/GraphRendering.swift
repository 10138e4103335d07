/// GraphRendering owns drawings of graphs: a layered (Sugiyama-style) layout that respects the
/// module hierarchy, collapse and expansion of groups, overlays, and self-contained SVG and
/// HTML output.
