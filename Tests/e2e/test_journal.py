"""Crash test of the session journal (issue 12): a kernel runs a scripted session and is
killed with SIGKILL at 20 random moments -- while idle, right after a cell was sent (often
during its journal write: loads write a snapshot, some cells carry 200 KB), and during
`restore` itself. After each kill a new kernel of the same notebook runs `restore`, and
its state must be exactly the acknowledged one, compared with a reference kernel (no
journal) that ran the acknowledged cells: `graphs`, `vars` and the exported bytes of every
graph. The one cell in flight at the kill may be there or not (its records can be durable
before its reply could be sent), but only whole (a cell's steps are one frame), nothing else
unacknowledged may appear, and nothing acknowledged may be lost.

GRAPHSMITH_CRASH_SEED picks another script; the seed is in every failure message."""
from __future__ import annotations

import hashlib
import os
import pathlib
import queue
import random
import shutil
import signal
import time
import zlib

import pytest
from jupyter_client import KernelManager

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = {
    "bert": REPO / "notebooks" / "models" / "tiny_bert.onnx",
    "tl": REPO / "Tests" / "GraphFormatsTests" / "Fixtures" / "transformer_like.onnx",
    "cf": REPO / "Tests" / "GraphFormatsTests" / "Fixtures" / "control_flow.onnx",
    "dt": REPO / "Tests" / "GraphFormatsTests" / "Fixtures" / "every_dtype.onnx",
}
KILLS = 20


class Kernel:
    """One graphsmith kernel started by jupyter_client in `cwd` with extra environment."""

    def __init__(self, cwd: pathlib.Path, env: dict[str, str]):
        self.km = KernelManager(kernel_name="graphsmith")
        self.km.start_kernel(cwd=str(cwd), env={**os.environ, **env})
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=30)
        self.pid = self.km.provisioner.process.pid

    def send(self, code: str) -> str:
        return self.kc.execute(code)

    def collect(self, msg_id: str, timeout: float = 60) -> tuple[str, list[dict], str]:
        """Waits for a sent cell: (status, its display_data bundles, its stdout and errors)."""
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=timeout)
        displays, stdout = [], []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "display_data":
                displays.append(content["data"])
            elif kind == "stream" and content["name"] == "stdout":
                stdout.append(content["text"])
            elif kind == "error":
                stdout.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                break
        return reply["content"]["status"], displays, "".join(stdout)

    def run(self, code: str) -> tuple[str, list[dict], str]:
        return self.collect(self.send(code))

    def reply_if_any(self, msg_id: str) -> str | None:
        """The status of `msg_id`'s reply if it reached the client before the kill."""
        deadline = time.time() + 0.3
        while time.time() < deadline:
            try:
                reply = self.kc.get_shell_msg(timeout=0.05)
            except queue.Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]["status"]
        return None

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        self.km.provisioner.process.wait()

    def close(self):
        self.kc.stop_channels()
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass


def journal_sizes(state: pathlib.Path) -> dict:
    sizes = {}
    for j in (state / "journals").glob("*/*.gsj"):
        try:
            sizes[j] = j.stat().st_size
        except FileNotFoundError:
            pass
    return sizes


def torn_tail(path: pathlib.Path) -> bool:
    """Reads a journal's frames (length, CRC-32, payload) independently of the kernel: True
    when it ends in a frame cut short or failing its checksum, as a kill mid-write leaves it."""
    data = path.read_bytes()
    magic = b"GRAPHSMITH-JOURNAL\n"
    assert data.startswith(magic), path
    offset = len(magic)
    while offset < len(data):
        if len(data) - offset < 8:
            return True
        length = int.from_bytes(data[offset:offset + 4], "little")
        crc = int.from_bytes(data[offset + 4:offset + 8], "little")
        payload = data[offset + 8:offset + 8 + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            return True
        offset += 8 + length
    return False


def fingerprint(k: Kernel, out: pathlib.Path, tag: str) -> tuple:
    """What must survive: the graphs table (names, current, step counts, sources), every graph's
    history tree (steps, parents, what made them, commands, counts, current step; not the
    wall-clock column, since the reference ran each cell a moment later), the exported bytes
    of every graph's current step, the variables table and each variable's full value."""
    status, shown, text = k.run("graphs\nvars")
    assert status == "ok", text
    graphs_text, vars_text = (d["text/plain"] for d in shown)
    rows = [line.split() for line in graphs_text.splitlines()[2:] if line.strip()] if "No graphs" not in graphs_text else []
    names = [r[0] for r in rows]
    current = next((r[0] for r in rows if r[1] == "*"), None)
    exported, histories = {}, {}
    if names:
        # One cell: each graph's export and history (`use` changes state, on both kernels alike;
        # the current graph is put back at the end).
        paths = {name: out / f"{tag}-{name}.onnx" for name in names}
        lines = [f"export {paths[name]} graph={name} --force\nuse {name}\nhistory" for name in names]
        status, shown, text = k.run("\n".join(lines + ([f"use {current}"] if current else [])))
        assert status == "ok", text
        for name, bundle in zip(names, shown):
            exported[name] = hashlib.sha256(paths[name].read_bytes()).hexdigest()
            paths[name].unlink()
            steps = bundle["application/vnd.graphsmith.v1+json"]["steps"]
            histories[name] = [{key: v for key, v in step.items() if key != "time"} for step in steps]
    variables = [line.split()[0] for line in vars_text.splitlines()[2:] if line.strip()] if "No variables" not in vars_text else []
    values = k.run("\n".join(f"echo {v} ${{len(str({v}))}} ${{str({v})[-40:]}}" for v in variables))[2] if variables else ""
    return graphs_text, vars_text, exported, histories, values


def script(rng: random.Random):
    """An endless session: loads, switches, closes, variables (some 200 KB), deletes, looks, edits,
    annotations, passes, history moves, and cells that fail (which must leave no trace)."""
    graphs, names = list(MODELS), ["a", "b", "c"]
    variables = ["x", "y", "z"]
    n = 0
    while True:
        n += 1
        kind = rng.choices(["load", "use", "close", "assign", "big", "del", "multi", "look", "fail", "edit", "history", "pass"],
                           weights=[3, 2, 1, 4, 1, 1, 2, 2, 1, 6, 3, 2])[0]
        if kind == "load":
            yield f"load models/{rng.choice(graphs)}.onnx as {rng.choice(names)}"
        elif kind == "use":
            yield f"use {rng.choice(names)}"
        elif kind == "close":
            yield f"close {rng.choice(names)}"
        elif kind == "assign":
            v = rng.choice(variables)
            yield rng.choice([f"{v} = {n}", f"{v} = [{n}, \"s{n}\", {n / 7:.3f}]", f"{v} = {{\"k\": {n}}}",
                              f"{v} = {rng.choice(variables)} + 1"])
        elif kind == "big":
            yield f'big = "{n}-' + "x" * 200_000 + '"'
        elif kind == "del":
            yield f"del {rng.choice(variables + ['big'])}"
        elif kind == "multi":
            yield f"p = {n}\nq = p * 2\nload models/{rng.choice(graphs)}.onnx as {rng.choice(names)}\nuse {rng.choice(names)}"
        elif kind == "edit":
            node = f"n{rng.randint(0, 3)}"
            yield rng.choice([f"rename {node} r{n}", f"annotate {node} note=\"c{n}\"", f"annotate {node} fuse=true",
                              f"bypass {node} --force", f"remove {node} --force", f"annotate {node} keep=true"])
        elif kind == "pass":
            yield rng.choice(["optimize", "optimize level=basic", "pass dce,identity", "pass fuse-conv-bn,fuse-hardswish fixed=true"])
        elif kind == "history":
            yield rng.choice(["undo", "undo 2", "redo", f"checkout @{rng.randint(0, 4)}", "history"])
        elif kind == "look":
            yield rng.choice(["graphs", "summary", "vars", "print 1 + 1"])
        else:
            yield rng.choice(["load models/missing.onnx as a", "x = undefined_name + 1", "close nothing_here"])


def test_restore_after_sigkill_brings_back_exactly_the_acknowledged_state(tmp_path):
    seed = int(os.environ.get("GRAPHSMITH_CRASH_SEED", "20261204"))
    rng = random.Random(seed)
    work = tmp_path / "work"
    (work / "models").mkdir(parents=True)
    for name, src in MODELS.items():
        shutil.copy(src, work / "models" / f"{name}.onnx")
    out = tmp_path / "out"
    out.mkdir()
    state = tmp_path / "state"
    env = {"GRAPHSMITH_STATE_DIR": str(state), "JPY_SESSION_NAME": str(work / "crash.ipynb"), "GRAPHSMITH_JOURNAL": "on"}
    reference = Kernel(work, {"GRAPHSMITH_JOURNAL": "off", "GRAPHSMITH_STATE_DIR": str(tmp_path / "unused")})
    cells = script(rng)
    in_flight: str | None = None     # the cell sent to the last kernel whose reply never came
    acknowledged_cells = 0
    stats = {"idle": 0, "in flight": 0, "mid-write": 0, "during restore": 0, "torn tails": 0, "in-flight kept": 0, "restores": 0}
    torn: set[pathlib.Path] = set()      # journals a kill left with a torn last frame
    started = time.time()
    try:
        kills = 0
        while kills < KILLS:
            k = Kernel(work, env)
            try:
                mode = rng.choice(["idle", "in flight", "in flight", "mid-write", "during restore"])
                if acknowledged_cells or in_flight:
                    if mode == "during restore":
                        msg = k.send("restore")
                        time.sleep(rng.uniform(0, 0.05))
                        k.kill()
                        kills += 1
                        stats[mode] += 1
                        continue
                    status, shown, text = k.run("restore")
                    # Nothing to restore is fine only if no state-changing cell was acknowledged
                    # (the fingerprints below decide); any other failure is a defect.
                    assert status == "ok" or "no journal of this notebook" in text, f"seed {seed}: restore failed: {text}"
                    if status == "ok":
                        assert "Run `restore`" in text and "Restored" in text, f"seed {seed}: no notice in the first reply: {text}"
                        stats["restores"] += 1
                mine = fingerprint(k, out, "k")
                expected = fingerprint(reference, out, "r")
                if mine != expected and in_flight is not None:
                    # The in-flight cell's record was durable before its reply: it must be whole.
                    reference.run(in_flight)
                    expected = fingerprint(reference, out, "r")
                    stats["in-flight kept"] += 1
                assert mine == expected, (f"seed {seed}, kill {kills}: restored state differs from the acknowledged one "
                                          f"(in flight: {(in_flight or '')[:80]!r})\n{mine[:2]}\n{expected[:2]}\n{text if acknowledged_cells else ''}")
                in_flight = None
                if mode == "during restore":
                    mode = "idle"
                for _ in range(rng.randint(1, 5)):
                    cell = next(cells)
                    status, shown, _ = k.run(cell)
                    ref_status, ref_shown, _ = reference.run(cell)
                    assert status == ref_status, f"seed {seed}: `{cell[:80]}`: {status} vs reference {ref_status}"
                    acknowledged_cells += 1
                if mode in ("in flight", "mid-write"):
                    if mode == "mid-write":
                        # A 512 KB record: kill the moment the journal starts to grow, inside the write.
                        cell = f'big = "w{kills}-' + "y" * (1 << 19) + '"'
                        before = journal_sizes(state)
                        msg = k.send(cell)
                        deadline = time.time() + 30
                        while journal_sizes(state) == before and time.time() < deadline:
                            pass
                    else:
                        cell = next(cells)
                        msg = k.send(cell)
                        time.sleep(rng.choice([0, 0, rng.uniform(0, 0.002), rng.uniform(0, 0.03)]))
                    k.kill()
                    reply = k.reply_if_any(msg)
                    if reply is not None:
                        reference.run(cell)        # acknowledged after all
                        acknowledged_cells += 1
                    else:
                        in_flight = cell
                else:
                    time.sleep(rng.uniform(0, 0.02))
                    k.kill()
                kills += 1
                stats[mode] += 1
                torn |= {j for j in (state / "journals").glob("*/*.gsj") if torn_tail(j)}
            finally:
                k.close()
        # The last kill's state must come back too.
        k = Kernel(work, env)
        try:
            status, shown, text = k.run("restore")
            assert status == "ok" or "no journal of this notebook" in text, f"seed {seed}: {text}"
            mine = fingerprint(k, out, "k")
            expected = fingerprint(reference, out, "r")
            if mine != expected and in_flight is not None:
                reference.run(in_flight)
                expected = fingerprint(reference, out, "r")
            assert mine == expected, f"seed {seed}: final restore differs"
            status, shown, _ = k.run("journal list")
            assert status == "ok" and "crash.ipynb" in shown[0]["text/plain"], shown
        finally:
            k.close()
    finally:
        reference.close()
    elapsed = time.time() - started
    stats["torn tails"] = len(torn)
    print(f"seed {seed}: {KILLS} kills {stats}, {acknowledged_cells} acknowledged cells, {elapsed:.1f} s")
