/// GraphPasses: transformations of whole graphs and what they did.
///
/// It owns the `Pass` protocol (name, doc, what a pass requires and ensures), the pass manager
/// (pipelines, presets, fixed points, timing, print-before/after), the pattern rewriter (root op,
/// benefit, match-and-rewrite through GraphEditing's `Transaction`, so every created node carries
/// provenance), one file per built-in pass under `Passes/`, external compilers as plugins under
/// `Plugins/`, and the computed diff of two versions under `Diff/`.
/// It reads GraphOps for schemas and inference and GraphRuntime for folding constants; it knows no
/// notebook and no file format (plugins hand it bytes through a closure).
