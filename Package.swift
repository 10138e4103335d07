// swift-tools-version:6.0
// Graphsmith: a Jupyter kernel for exploring and changing ML model graphs.
import PackageDescription

let package = Package(
    name: "Graphsmith",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "graphsmith", targets: ["graphsmith"]),
        .library(name: "JupyterKernel", targets: ["JupyterKernel"]),
        .library(name: "GraphIR", targets: ["GraphIR"]),
        .library(name: "GraphOps", targets: ["GraphOps"]),
        .library(name: "GraphRuntime", targets: ["GraphRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries.
        // Headers and libraries come from Debian's libzmq3-dev and libssl-dev in /usr; no
        // pkgConfig here, because libzmq's .pc adds -isystem flags SwiftPM warns about.
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // OpenBLAS (Debian libopenblas-dev) for the interpreter's matrix products; no pkgConfig either.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        // zlib (Debian zlib1g-dev) to inflate np.savez_compressed members of .npz inputs.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // The generic Jupyter kernel core: knows nothing about graphs.
        .target(name: "JupyterKernel", dependencies: ["CZMQ", "COpenSSL"]),

        // The graph model and everything built on it.
        .target(name: "GraphIR"),
        .target(name: "GraphFormats", dependencies: ["GraphIR", "CZlib"]),
        // Op schemas (registry, categories, validation) and symbolic shape inference.
        .target(name: "GraphOps", dependencies: ["GraphIR"], resources: [.copy("Resources")]),
        .target(name: "GraphRendering", dependencies: ["GraphIR", "GraphOps"]),
        // Edits as data, the rewriter, what an edit broke, the history tree, the journal.
        // Journal/ (record format, durable appends, tail recovery, snapshots) hashes with OpenSSL's SHA-256.
        .target(name: "GraphEditing", dependencies: ["GraphIR", "GraphOps", "COpenSSL"]),
        // The interpreter's hot float32 loops in C, compiled per instruction set (AVX-512, AVX2, baseline).
        .target(name: "CKernels"),
        // The CPU interpreter: tensors, memory plan, executor and kernels.
        .target(name: "GraphRuntime", dependencies: ["GraphIR", "GraphOps", "COpenBLAS", "CKernels"]),
        .target(name: "GraphEstimation", dependencies: ["GraphIR", "GraphOps"],
                resources: [.copy("Resources")]),
        // Passes, the pass manager, the pattern rewriter, external-compiler plugins and the diff.
        .target(name: "GraphPasses", dependencies: ["GraphIR", "GraphOps", "GraphEditing", "GraphRuntime"]),

        // The cell language: the only place that knows both graphs and Jupyter.
        .target(name: "Notebook", dependencies: [
            "JupyterKernel", "GraphIR", "GraphOps", "GraphFormats", "GraphRendering", "GraphEstimation", "GraphEditing",
            "GraphRuntime", "GraphPasses",
        ]),

        .executableTarget(name: "graphsmith", dependencies: [
            "Notebook", "JupyterKernel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "JupyterKernelTests", dependencies: ["JupyterKernel"]),
        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR"]),
        .testTarget(name: "GraphFormatsTests", dependencies: ["GraphFormats", "GraphIR"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "GraphOpsTests", dependencies: ["GraphOps", "GraphIR", "GraphFormats"]),
        .testTarget(name: "GraphEditingTests", dependencies: ["GraphEditing", "GraphOps", "GraphIR", "GraphFormats"]),
        .testTarget(name: "GraphRenderingTests", dependencies: ["GraphRendering", "GraphOps", "GraphIR", "GraphFormats"]),
        .testTarget(name: "GraphRuntimeTests", dependencies: ["GraphRuntime", "GraphIR"]),
        .testTarget(name: "GraphPassesTests", dependencies: ["GraphPasses", "GraphEditing", "GraphRuntime", "GraphOps", "GraphIR", "GraphFormats"]),
        .testTarget(name: "GraphEstimationTests", dependencies: ["GraphEstimation", "GraphIR", "GraphOps", "GraphFormats"]),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook", "JupyterKernel", "GraphIR", "GraphFormats", "GraphEditing"]),

        // Rendering benchmark: our layout+SVG side by side with Graphviz dot.
        .executableTarget(name: "render-bench", dependencies: ["GraphRendering", "GraphIR", "GraphFormats"],
                          path: "Benchmarks/render/Sources"),
        // ONNX load/save CLI: round-trip for the Python cross-checks, load/save benchmark, fuzzer.
        .executableTarget(name: "onnx-tool", dependencies: ["GraphFormats", "GraphIR", "GraphOps"], path: "Benchmarks/onnx/Sources"),
        // Kernel core micro-benchmark (kernel helper): cost of building and signing outputs.
        .executableTarget(name: "kernel-bench", dependencies: ["JupyterKernel"], path: "Benchmarks/kernel/Sources"),
        // Estimation benchmark: 10k-node estimate, 1,000-point sweep, MAC cross-check vs the corpus references.
        .executableTarget(name: "estimate-bench", dependencies: ["GraphEstimation", "GraphOps", "GraphIR", "GraphFormats"],
                          path: "Benchmarks/estimation/Sources"),
        // Editing benchmark: one edit + re-validation, undo/redo (Benchmarks/editing/bench_edit.py runs it beside onnx).
        .executableTarget(name: "edit-bench", dependencies: ["GraphEditing", "GraphOps", "GraphIR", "GraphFormats"],
                          path: "Benchmarks/editing/Sources"),
        // Interpreter CLI: runs a model on .npy inputs, writes .npy outputs, times runs (Benchmarks/runtime/bench.py).
        .executableTarget(name: "runtime-tool", dependencies: ["GraphRuntime", "GraphOps", "GraphFormats", "GraphIR"],
                          path: "Benchmarks/runtime/Sources"),
        // Cell language benchmark: parse + dispatch and completion, in process.
        // Journal benchmark: append+fsync latency and restore of a 1,000-step session.
        .executableTarget(name: "journal-bench", dependencies: ["Notebook", "GraphEditing", "JupyterKernel"],
                          path: "Benchmarks/journal/Sources"),
        // Diff benchmark: two 10k-node versions compared (shared ids, and read twice: signatures).
        .executableTarget(name: "diff-bench", dependencies: ["GraphPasses", "GraphEditing", "GraphIR", "GraphFormats"],
                          path: "Benchmarks/diff/Sources"),
        .executableTarget(name: "cell-bench", dependencies: ["Notebook", "JupyterKernel"], path: "Benchmarks/cell/Sources"),
        // Pass benchmark: `optimize level=extended` on ONNX files (peers beside it: Benchmarks/passes/bench.py).
        .executableTarget(name: "pass-bench", dependencies: ["GraphPasses", "GraphEditing", "GraphIR", "GraphFormats"],
                          path: "Benchmarks/passes/Sources"),
    ],
    swiftLanguageModes: [.v5]
)
