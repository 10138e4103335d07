/// GraphEditing: changes to graphs as data, and everything that follows a change.
///
/// It owns `GraphEdit` (one change, Codable, so it can be journaled and replayed), the
/// `Rewriter` through which every change flows (transactions, a name authority, provenance
/// stamps, listeners), the check that says what an edit broke (`EditCheck`, reading GraphOps'
/// schemas and inference), the version tree behind undo/redo/checkout (`History`), annotations
/// that follow provenance, overrides, and the journal that survives a killed kernel.
/// It knows no file format (snapshots are opaque bytes) and no UI.
