"""Helpers for the editing end-to-end tests: a graphsmith kernel driven through jupyter_client,
the same edits made with the `onnx` package, and a structural comparison of two models."""
from __future__ import annotations

import copy
import pathlib

import numpy as np
import onnx
from onnx import helper, numpy_helper

VENDOR = "application/vnd.graphsmith.v1+json"


class Kernel:
    """One graphsmith kernel: run cells, export the current graph, read `history`."""

    def __init__(self, client, scratch: pathlib.Path):
        self.kc = client
        self.scratch = scratch
        self.exports = 0

    def execute(self, code: str):
        """Runs code; returns (reply content, iopub outputs)."""
        msg_id = self.kc.execute(code)
        reply = self.kc.get_shell_msg(timeout=60)
        assert reply["parent_header"]["msg_id"] == msg_id
        outputs = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] not in ("status", "execute_input"):
                outputs.append(msg)
        return reply["content"], outputs

    def ok(self, code: str) -> str:
        """Runs code that must succeed; returns its printed text."""
        reply, outs = self.execute(code)
        assert reply["status"] == "ok", f"{code!r} failed: {reply.get('ename')}: {reply.get('evalue')}"
        return "".join(o["content"].get("text", "") for o in outs if o["msg_type"] == "stream")

    def fail(self, code: str) -> str:
        """Runs code that must be refused; returns `ENAME: message`."""
        reply, _ = self.execute(code)
        assert reply["status"] == "error", f"{code!r} was accepted"
        return f"{reply['ename']}: {reply['evalue']}"

    def export(self, force: bool = False) -> bytes:
        """The current graph's ONNX export, as bytes."""
        self.exports += 1
        path = self.scratch / f"export{self.exports}.onnx"
        self.ok(f'export "{path}"' + (" --force" if force else ""))
        data = path.read_bytes()
        path.unlink()
        return data

    def history(self) -> dict:
        """`history`'s vendor JSON: graph, current, steps (step, parent, current, ...)."""
        reply, outs = self.execute("history")
        assert reply["status"] == "ok", reply.get("evalue")
        data = [o["content"]["data"] for o in outs if o["msg_type"] in ("display_data", "execute_result")]
        return data[-1][VENDOR]


# --- the same edits with the onnx package -------------------------------------------------

def node(m: onnx.ModelProto, name: str) -> onnx.NodeProto:
    hits = [n for n in m.graph.node if n.name == name]
    assert len(hits) == 1, f"{name}: {len(hits)} nodes"
    return hits[0]


def insert_after_producers(m: onnx.ModelProto, new: onnx.NodeProto):
    """Puts `new` at the first position after every node that makes one of its inputs."""
    pos = 0
    for i, n in enumerate(m.graph.node):
        if set(n.output) & {x for x in new.input if x}:
            pos = i + 1
    m.graph.node.insert(pos, new)


def replace_uses(m: onnx.ModelProto, old: str, new: str, graph_outputs: bool = True):
    for n in m.graph.node:
        for k, x in enumerate(n.input):
            if x == old:
                n.input[k] = new
    if graph_outputs:
        for o in m.graph.output:
            if o.name == old:
                o.name = new


def rename_value(m: onnx.ModelProto, old: str, new: str):
    g = m.graph
    for n in g.node:
        for seq in (n.input, n.output):
            for k, x in enumerate(seq):
                if x == old:
                    seq[k] = new
    for coll in (g.input, g.output, g.value_info, g.initializer):
        for v in coll:
            if v.name == old:
                v.name = new


def drop_value_info(m: onnx.ModelProto, name: str):
    keep = [v for v in m.graph.value_info if v.name != name]
    del m.graph.value_info[:]
    m.graph.value_info.extend(keep)


def remove_node(m: onnx.ModelProto, n: onnx.NodeProto):
    m.graph.node.remove(n)
    for o in n.output:
        drop_value_info(m, o)


def value_type(m: onnx.ModelProto, name: str) -> onnx.TypeProto:
    for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        if v.name == name:
            return v.type
    raise KeyError(name)


def set_dim(m: onnx.ModelProto, symbol: str, value):
    for v in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        for d in v.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param == symbol:
                if isinstance(value, int):
                    d.dim_value = value
                else:
                    d.dim_param = value


# --- comparing ------------------------------------------------------------------------------

def _attribute(a: onnx.AttributeProto):
    v = helper.get_attribute_value(a)
    if isinstance(v, onnx.TensorProto):
        v = (v.data_type, tuple(v.dims), numpy_helper.to_array(v).tobytes())
    elif isinstance(v, onnx.GraphProto):
        v = v.SerializeToString()
    elif isinstance(v, list):
        v = tuple(x.SerializeToString() if hasattr(x, "SerializeToString") else x for x in v)
    return (a.name, a.type, v)


def structure(m: onnx.ModelProto) -> dict:
    """What an edit may change, in comparable form: nodes in order (op, domain, name, inputs,
    outputs, attributes), initializers (type, dims, data), inputs, outputs, value_info."""
    g = m.graph
    return {
        "nodes": [(n.op_type, n.domain, n.name, tuple(n.input), tuple(n.output),
                   tuple(sorted(_attribute(a) for a in n.attribute))) for n in g.node],
        "initializers": {t.name: (t.data_type, tuple(t.dims), numpy_helper.to_array(t).tobytes()) for t in g.initializer},
        "inputs": [(v.name, v.type.SerializeToString()) for v in g.input],
        "outputs": [(v.name, v.type.SerializeToString()) for v in g.output],
        "value_info": {v.name: v.type.SerializeToString() for v in g.value_info},
        "opsets": sorted((o.domain, o.version) for o in m.opset_import),
        "ir_version": m.ir_version,
    }


def assert_same_structure(got: onnx.ModelProto, want: onnx.ModelProto):
    a, b = structure(got), structure(want)
    for key in b:
        if a[key] == b[key]:
            continue
        if key == "nodes":
            for i, (x, y) in enumerate(zip(a[key], b[key])):
                assert x == y, f"node {i} differs:\n graphsmith: {x}\n onnx:       {y}"
            assert len(a[key]) == len(b[key]), f"{len(a[key])} nodes, onnx edit has {len(b[key])}"
        if isinstance(b[key], dict):
            only_a, only_b = set(a[key]) - set(b[key]), set(b[key]) - set(a[key])
            differ = [k for k in set(a[key]) & set(b[key]) if a[key][k] != b[key][k]]
            raise AssertionError(f"{key} differ: only graphsmith {sorted(only_a)[:5]}, only onnx {sorted(only_b)[:5]}, "
                                 f"different {sorted(differ)[:5]}")
        raise AssertionError(f"{key} differ:\n graphsmith: {a[key]}\n onnx:       {b[key]}")


def run_ort(model_bytes: bytes, feeds: dict, outputs: list[str] | None = None):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    # No fusions: whether one applies depends on which values are graph outputs, and a fused
    # kernel rounds differently, so semantics-keeping edits could differ in the last bit.
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    return [np.asarray(x) for x in sess.run(outputs, feeds)]


def edited(model_bytes: bytes, edit) -> onnx.ModelProto:
    """The model `model_bytes` holds with `edit(model)` applied by the onnx package."""
    m = onnx.load_from_string(model_bytes)
    m = copy.deepcopy(m)
    edit(m)
    return m
