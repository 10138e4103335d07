"""Deep and long cells through the real kernel (ZeroMQ, jupyter_client): every one gets an
answer (a SyntaxError for nesting past the limit, a result or a clear error otherwise), the
kernel never crashes, and the session is unchanged by a failing cell. Nesting goes to
1,000,000 levels and cells to 10 MB, as issue 10 asks of the cell-language fuzzer."""
from __future__ import annotations

import random

import pytest
from jupyter_client import KernelManager

MB = 1 << 20


@pytest.fixture(scope="module")
def kc():
    km = KernelManager(kernel_name="graphsmith")
    km.start_kernel()
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=30)
    yield km, client
    client.stop_channels()
    km.shutdown_kernel(now=True)


def execute(client, code, timeout=120):
    """Runs a cell; returns (reply content, error outputs)."""
    errors = []

    def hook(msg):
        if msg["msg_type"] == "error":
            errors.append(msg["content"])

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    return reply["content"], errors


def deep_cells():
    for n in (1_000, 100_000, 1_000_000):
        yield f"list-{n}", "x = " + "[" * n + "]" * n
        yield f"parens-{n}", "x = " + "(" * n + "1" + ")" * n
        yield f"unary-{n}", "x = " + "-" * n + "1"
        yield f"power-{n}", "x = 2" + "**2" * n
        yield f"dict-{n}", "print " + "{1: " * n + "1" + "}" * n
    yield "sum-10MB", "x = 1" + "+1" * (5 * MB)


@pytest.mark.parametrize("name,code", list(deep_cells()), ids=[n for n, _ in deep_cells()])
def test_deep_cells_are_syntax_errors(kc, name, code):
    km, client = kc
    execute(client, "x = 'kept'")
    reply, errors = execute(client, code)
    assert reply["status"] == "error", name
    assert reply["ename"] == "SyntaxError" and "nested too deeply" in reply["evalue"], reply["evalue"]
    assert km.is_alive()
    reply, _ = execute(client, "print $x")
    assert reply["status"] == "ok"


def test_long_and_random_cells_are_answered(kc):
    km, client = kc
    rng = random.Random(20261204)
    pieces = ["(", ")", "[", "]", "{", "}", "-", "+", "**", "1", "x", "$x", "${", "'", '"', "\\", "\n", ",", ":", "#",
              "echo ", "print ", "find ", "show ", " ", "=", "é", "🙂"]
    cells = ["echo " + "a" * (10 * MB), "x = '" + "a" * (10 * MB) + "'", "#" * (10 * MB),
             "x = 1\n" * (10 * MB // 6), "echo " + "${" * MB, "find " + "[" * MB]
    # Random deep/long mixtures: long runs of one piece, so depth reaches far past the limit.
    for _ in range(20):
        cells.append("".join(rng.choice(pieces) * rng.choice([1, 10, 1000, 100_000]) for _ in range(rng.randint(1, 8))))
    for code in cells:
        reply, errors = execute(client, code, timeout=300)
        assert reply["status"] in ("ok", "error")
        assert km.is_alive(), code[:60]
        client.complete(code[:200_000], len(code[:200_000]))
        client.get_shell_msg(timeout=60)
        client.is_complete(code[:200_000])
        client.get_shell_msg(timeout=60)
    reply, _ = execute(client, "echo alive")
    assert reply["status"] == "ok"
