#!/usr/bin/env python3
"""Times onnx-tool 1.0.1 (the peer) on the same files estimate-bench uses, the way the corpus
references were made: Model(path, {'constant_folding': True}); graph_reorder_nodes();
shape_infer(inputs); profile(). Prints a markdown table (load, infer+profile, total, MACs).

usage: peer_onnx_tool.py [--synthetic FILE.onnx] [--corpus DIR] [--runs N]
Needs onnx-tool==1.0.1 and tabulate in the venv (pip install --no-deps onnx-tool==1.0.1 tabulate).
"""
import argparse, glob, json, os, statistics, sys, time

import numpy as np


def profile(path, feeds, runs):
    import onnx_tool
    loads, infers, macs = [], [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        m = onnx_tool.Model(path, {'constant_folding': True, 'verbose': False})
        t1 = time.perf_counter()
        g = m.graph
        g.graph_reorder_nodes()
        g.shape_infer(feeds)
        g.profile()
        t2 = time.perf_counter()
        loads.append(t1 - t0); infers.append(t2 - t1)
        macs = int(round(g.macs[0]))
    return statistics.median(loads), statistics.median(infers), macs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--synthetic')
    ap.add_argument('--corpus')
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    rows = []
    if a.synthetic and os.path.exists(a.synthetic):
        feeds = {'input_ids': np.zeros((1, 128), dtype=np.int64)}
        rows.append(('synthetic 10k-node', *profile(a.synthetic, feeds, a.runs)))
    if a.corpus:
        for ref_path in sorted(glob.glob(os.path.join(a.corpus, 'reference', '*.json'))):
            ref = json.load(open(ref_path))
            if ref.get('format') != 'onnx' or ref.get('onnx_tool', {}).get('status') != 'ok':
                continue
            feeds = {i['name']: np.load(os.path.join(a.corpus, 'reference', i['file'])) for i in ref['reference_inputs']}
            rows.append((ref['name'], *profile(os.path.join(a.corpus, ref['file']), feeds, a.runs)))
    print('| model (onnx-tool 1.0.1) | load | shape_infer+profile | total | MACs |')
    print('|---|---:|---:|---:|---:|')
    for name, load, infer, macs in rows:
        print(f'| {name} | {load * 1e3:.1f} ms | {infer * 1e3:.1f} ms | {(load + infer) * 1e3:.1f} ms | {macs} |')


if __name__ == '__main__':
    sys.exit(main())
