/// GraphRuntime: the CPU interpreter. It owns running a GraphIR model: runtime tensors (weights
/// viewed in place in the mapped model), the per-input-shape execution plan (constant folding,
/// memory plan with buffer reuse, built on GraphOps' symbolic shape inference), the executor
/// (cancellation, kept intermediates, per-node times) and the kernels (OpenBLAS for GEMMs).
/// It knows nothing of notebooks or file formats.
