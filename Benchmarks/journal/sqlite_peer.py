"""The peer figure for a durable journal append: one SQLite row committed per record, WAL with
synchronous=FULL (what a Python tool would reach for to make each step durable; IPython's own
history database commits without fsync per cell). Same record text and count as journal-bench.

    python Benchmarks/journal/sqlite_peer.py [--dir FOLDER] [--appends N]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sqlite3
import statistics
import time

parser = argparse.ArgumentParser()
parser.add_argument("--dir", default=".build/journal-bench")
parser.add_argument("--appends", type=int, default=2000)
args = parser.parse_args()
folder = pathlib.Path(args.dir)
folder.mkdir(parents=True, exist_ok=True)
path = folder / "peer.sqlite"
if path.exists():
    path.unlink()
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE steps (k INTEGER PRIMARY KEY, record TEXT)")
times = []
for k in range(args.appends):
    record = json.dumps({"kind": "step", "command": f"set n{k} alpha=0.5", "graph": "bert", "time": time.time()})
    t = time.perf_counter()
    db.execute("BEGIN")
    db.execute("INSERT INTO steps (record) VALUES (?)", (record,))
    db.execute("COMMIT")
    times.append(time.perf_counter() - t)
times.sort()
p = lambda q: times[min(len(times) - 1, int((len(times) - 1) * q + 0.5))] * 1000
print(f"sqlite WAL synchronous=FULL commit ({args.appends} rows): p50 {p(0.5):.3f} ms, p99 {p(0.99):.3f} ms, max {times[-1] * 1000:.3f} ms")
