"""onnxruntime's offline optimizer as a Graphsmith plugin: ort_optimize.py IN OUT LEVEL.

Runs an InferenceSession with the graph optimization level (basic, extended, all) and
`optimized_model_filepath`, which makes onnxruntime write the optimized model to OUT.
"""
import sys

import onnxruntime as ort

LEVELS = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
          "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
          "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}


def main(argv):
    if len(argv) != 3 or argv[2] not in LEVELS:
        sys.stderr.write("usage: ort_optimize.py IN OUT basic|extended|all\n")
        return 2
    options = ort.SessionOptions()
    options.graph_optimization_level = LEVELS[argv[2]]
    options.optimized_model_filepath = argv[1]
    ort.InferenceSession(argv[0], options, providers=["CPUExecutionProvider"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
