/// GraphEstimation owns the cost model: per-node MACs, FLOPs, bytes and parameters, the
/// hardware registry, roofline latency and energy, LLM memory and what-if sweeps.
///
/// Map of the module (one concern per file):
/// - `OpGraph.swift`: the estimator's compact cost view of a graph (`OpGraph`, `OpNode`, `ValueDesc`,
///   `ControlRegion` for If/Loop/Scan bodies flattened in); `GraphIRAdapter.swift` builds it from
///   a `GraphIR.Graph` (`OpGraph(model)`, `OpGraph(graph)`), bodies included, with GraphOps'
///   symbolic inference of it. `OpTraits.swift`: op families from the GraphOps registry's categories.
/// - `SymbolicShapes.swift`: that inference laid out per value, evaluated per binding;
///   `ShapeBinding.swift`: one binding's shapes, constants and folding, control-flow facts
///   (`ShapeTable.swift`: `ShapeTable`, `ControlFlowFacts`). No shape rules live in this module.
/// - `CostModel.swift`: per-op formulas in five conventions (`Convention`, `OpCounts`, `NodeCost`).
/// - `GraphEstimator.swift`: the pipeline and its results (`CostAnalysis` with per-node
///   `executions` for bodies, `EstimateOptions`,
///   `GraphEstimate` with totals, per-node figures by `NodeID`, top-k, namespace and op roll-ups,
///   roofline points, overlays).
/// - `Precision.swift`: precisions and the `Estimate` figure type (value, interval, confidence).
/// - `Hardware.swift`: targets as data (`HardwareTarget`, `HardwareRegistry`, user files with
///   per-field errors).
/// - `Roofline.swift`: latency/energy per node (`RooflineModel`, `Efficiency`, `Calibration`, `RoofLines`).
/// - `LLM.swift`: LLM parameters, memory and compute (`LLMConfig`, `LLMPresets`, `LLMCalculator`).
/// - `Sweep.swift`, `GraphSweep.swift`: the parallel, cancellable grid engine and its graph/LLM uses.
