/// GraphEstimation owns the cost model: per-node MACs, FLOPs, bytes and parameters, the
/// hardware registry, roofline latency and energy, LLM memory and what-if sweeps.
