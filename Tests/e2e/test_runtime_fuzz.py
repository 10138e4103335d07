"""Hostile numbers never take the process down (issues 11 and 13: "bad input never crashes",
"the kernel survives"): `runtime-tool fuzz` puts values no size or index can have (NaN,
+-infinity, 1e30, -1, 2^40, Int64.min/max) into the inputs, initializers, attributes and
declared dims of the ONNX backend node-test models, then runs shape inference, planning and
the interpreter on each mutant. Errors are expected; a crash fails the test and names the case
(replay it with `runtime-tool fuzz DIR --start I --count 1`). The session-15 fuzzer found 61
crashes in its first 3,000 cases (overflowing window sizes, Cast to a type code past Int32,
Tile/Reshape/Pad size arithmetic, a plan sized from a hostile attribute); this keeps them fixed.
A longer run is `python Benchmarks/runtime/fuzz.py --tool .build/release/runtime-tool --count 100000`."""
import sys

import pytest

from onnx_support import REPO, swift_tool

sys.path.insert(0, str(REPO / "Benchmarks" / "runtime"))
import fuzz  # noqa: E402

TOOL = swift_tool("runtime-tool")
pytestmark = pytest.mark.skipif(TOOL is None, reason="needs a built runtime-tool")


def test_hostile_values_never_crash(capsys):
    # Cases 3000-4999 of seed 1: every op family, under a minute on the CI machines.
    code = fuzz.main(["--tool", str(TOOL), "--count", "2000", "--start", "3000", "--seed", "1", "--chunk", "1000"])
    out = capsys.readouterr().out
    import json
    summary = json.loads(out)
    print(json.dumps({k: v for k, v in summary.items() if not isinstance(v, list)}))
    assert summary["cases"] == 2000
    assert summary["crashes"] == 0, summary["crashed_cases"]
    assert summary["hangs"] == 0, summary["hung_cases"]
    assert summary["errors"] > 0  # the mutants do reach the kernels' checks
    assert code in (0, 1)
