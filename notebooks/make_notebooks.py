"""Writes the Graphsmith notebooks (tour.ipynb, sweep.ipynb) from the cell lists below.

Keeping the sources here means the notebooks stay valid nbformat and easy to review.
Run: python notebooks/make_notebooks.py   (then execute them with nbclient / papermill)
"""
import os
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELSPEC = {"name": "graphsmith", "display_name": "Graphsmith", "language": "graphsmith"}
LANGUAGE_INFO = {"name": "graphsmith", "file_extension": ".gsm", "mimetype": "text/x-graphsmith"}


def notebook(cells):
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating changes only what changed
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = LANGUAGE_INFO
    return nb


def md(text):
    return new_markdown_cell(text.strip())


def code(text, tags=None):
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


tour = notebook([
    md("""
# A tour of Graphsmith

Graphsmith is a notebook kernel for ML model graphs: each cell holds commands that act on a live
session of loaded graphs. This tour uses `models/tiny_bert.onnx`, a 2-layer BERT-style text
classifier with real weights, made by `models/make_models.py`.

Start with `help`: every command, one line each. `help CMD` explains one.
"""),
    code("help"),
    code("help load"),
    md("## Load a model\n`load PATH [as NAME]` maps the file (weights are not copied) and makes it the current graph."),
    code("load models/tiny_bert.onnx as bert"),
    md("## Summary\nCounts, parameters, inputs and outputs, and the op histogram. The output also carries `application/vnd.graphsmith.v1+json` for programs (front ends do not render it)."),
    code("summary"),
    md("## The module hierarchy\nExporters write scopes like `/encoder/layer.0/attention/...` into node names; Graphsmith turns them into a tree."),
    code("tree depth=2"),
    code("tree /encoder/layer.0 depth=3"),
    md("## Drawings\n`show` draws the graph as SVG, collapsing scopes when there are more than about 150 boxes. "
       "Drag to pan, use the wheel to zoom, and search for a node by name. `show PATH depth=N` opens one scope."),
    code("show"),
    code("show /encoder/layer.0/attention depth=2 direction=LR"),
    md("## One node, and searching\n`info NODE` takes a node name (or its id, `n12`); `find` searches names, op types and scopes."),
    code("info /encoder/layer.0/attention/self/Softmax"),
    code("find op=Softmax"),
    code("find *query* path=/encoder/layer.1"),
    md("## Shapes and checks\nGraphsmith infers every value's type symbolically, in the input's own names (`batch`, `seq`): "
       "`info` shows the declared type next to the inferred one, and drawings label edges with inferred shapes where the "
       "model declares none. Here the exporter only knew `unk__0`; inference knows it is `seq`."),
    code("info /embeddings/position_embeddings/Gather"),
    md("`check` lists every schema, shape and structural problem as a table; its `kind` column says which checker found it. "
       "A model with problems still loads and says so once. `broken.onnx` has an illegal attribute value, a misspelled "
       "attribute and an Add that cannot broadcast."),
    code("load models/broken.onnx as broken\ncheck"),
    code("use bert\nclose broken"),
    md("## Variables\n`NAME = EXPR` sets a variable (EXPR is Python-like); `$NAME` and `${EXPR}` work in any "
       "command argument; `print` shows a value."),
    code("""
layer = 1
scope = "/encoder/layer." + str(layer) + "/attention"
print scope
tree $scope depth=1
echo layer $layer has ${2 * 4} attention ops per head group
vars
"""),
    md("## Export\nWrite ONNX (optionally with weights in a side file) or Model Explorer's graph JSON."),
    code("""
export out/tiny_bert_copy.onnx
export out/tiny_bert_external.onnx external_data=true
export out/tiny_bert.json format=model-explorer
load out/tiny_bert_copy.onnx as copy
graphs
"""),
    code("use bert\nclose copy"),
    md("## How fast, how big, how hungry\n`hardware` lists the targets (with sources and confidence). `estimate` binds the "
       "symbolic dims, counts MACs, FLOPs, bytes and parameters per node, and prices each node on the roofline of a target. "
       "The per-node figures become overlay fields for `show`."),
    code("hardware gpu"),
    code("estimate hw=h100-sxm5 dtype=fp16 batch=8 seq=128"),
    code("show overlay=latency"),
    code("roofline hw=a100-sxm4-80 batch=8 seq=128"),
    md("## What if?\n`sweep` evaluates a grid in parallel; `llm` sizes a language model and fits it on a GPU."),
    code("sweep batch=1..64*2 hardware=a100-sxm4-80,h100-sxm5 seq=128 metric=throughput"),
    code("llm llama-2-7b hw=h100-sxm5"),
    code("llm gpt2 --training optimizer=adam batch=8 seq=1024 hw=a100-sxm4-80"),
])

sweep = notebook([
    md("""
# A parameterized notebook

The cell tagged `parameters` holds defaults; papermill injects new values after it:

    papermill sweep.ipynb out.ipynb -p batch 8 -p model models/tiny_bert.onnx
"""),
    code('model = "models/tiny_bert.onnx"\nbatch = 1\nseq = 128\nhw = "h100-sxm5"', tags=["parameters"]),
    code("load $model as m\nsummary"),
    code('echo batch=$batch seq=$seq tokens=${batch * seq}\nprint batch * seq'),
    code("estimate hw=$hw batch=$batch seq=$seq"),
    code("sweep batch=[1, $batch, ${batch * 4}] seq=[$seq, ${seq * 2}] hw=$hw metric=latency"),
])

editing = notebook([
    md("""
# Editing a graph by hand

Graphsmith edits graphs the way a compiler engineer works: change something, see what it broke,
undo, try something else, annotate what passes should do, and export. Every edit is checked
against the op schemas and shapes are re-inferred downstream; an edit that breaks the graph is
refused with the list of what it broke, unless you insist with `--force`.

The model is a real one: PP-OCR's mobile text-direction classifier (`models/ppocr_mobile_v2_cls.onnx`,
Apache-2.0, from the `rapidocr-onnxruntime` wheel), exported by paddle2onnx.
"""),
    code("load models/ppocr_mobile_v2_cls.onnx as cls"),
    md("""
## Make the input shape concrete

The exporter declared the input as `float32[-1,3,?,?]`, so inference cannot say much. `dims` makes a
dimension symbolic or fixed; inference then carries it to every value. Each `dims` is one step of the
history (`@1`, `@2`, ...).
"""),
    code("dims on=x axis=0 to=batch\ndims on=x axis=2 to=48\ndims on=x axis=3 to=192\ninfo HardSigmoid@0"),
    md("""
## An edit that breaks the graph is refused

Leaving a Conv's data input empty breaks its schema: `disconnect Conv@1:0` alone is refused with a message
naming the node, the input and what was expected. With `--force` the broken state is kept (mid-rewiring),
`check` lists what is open, the drawing marks the node, and `export` refuses the graph until it is fixed.
"""),
    code("disconnect Conv@1:0 --force\ncheck"),
    code("undo\ninfo Conv@1"),
    md("""
## Edit, undo, branch

`set` changes attributes (typed by the op's schema; Tab lists the attribute names and legal values),
`add ... after=NODE` inserts a node on a node's output, `bypass` removes a node and connects its input to
its consumers. A new edit after an `undo` starts a branch; `history` shows the tree.
"""),
    code("set HardSigmoid@0 alpha=0.25\nundo\nadd Relu after=Conv@0 name=extra_relu\nbypass Identity@0\nhistory"),
    code("checkout @5\ninfo HardSigmoid@0\ncheckout @7"),
    md("""
## Annotate

Annotations are hints passes read (`fuse`, `quantize`, `keep`, `device`, free `note`s). They are a
history step like any edit, are inherited by nodes a pass makes from annotated ones, and are saved in
the exported file.
"""),
    code('annotate op=HardSigmoid quantize=int8\nannotate Softmax@0 keep=true note="classifier head"\nannotations'),
    md("""
## Export, and replay the history

`export` writes the current step. `history export` writes the commands that rebuild it; running that
script with `graphsmith run` on the same model file gives a byte-identical export.
"""),
    code("export out/cls_edited.onnx\nhistory export out/cls_edits.gsm\nload out/cls_edited.onnx as edited\nsummary"),
])

run_and_compare = notebook([
    md("""
# Running graphs and comparing versions

Graphsmith runs any version of a graph on the CPU with its own interpreter (GraphRuntime: OpenBLAS for
GEMMs, a memory plan that reuses buffers). This notebook uses `models/ppocr_mobile_v2_cls.onnx`, the
PP-OCR text-direction classifier (MobileNetV3-small style): run it, time every node, change a number
with an edit, and find where the outputs start to differ.
"""),
    code("load models/ppocr_mobile_v2_cls.onnx as cls\nsummary"),
    md("""
## Run

`run` runs the current version. Inputs not given are random and seeded (`seed=`); the classifier's
input `x` has unnamed dims (`[-1, 3, ?, ?]`), so its shape is given with `shape=`. Each output is shown
with its shape, type, min/max/mean and first values; `x=image.npy` or `x=inputs.npz` reads real data,
and `save=FILE.npz` writes the outputs for NumPy.
"""),
    code("run shape=x:1x3x48x192 seed=1 save=out/cls_outputs.npz"),
    md("""
## Time every node

`repeat=N` runs N more times and reports the wall-time median and p90, the costliest nodes and the
share of each op type. The per-node times become the overlay field `time` (µs), which `show` colours by.
"""),
    code("run shape=x:1x3x48x192 repeat=20"),
    code("show overlay=time"),
    md("""
Overlay fields belong to the version they were measured on (an edit starts without them). Any field
can be written as Model Explorer node data, to colour the same graph in Model Explorer
(`export ... format=model-explorer` writes the graph itself):
"""),
    code("export out/cls_time.json format=model-explorer-node-data field=time"),
    md("""
## An edit that changes the numbers

`set` changes an attribute; here the epsilon of one BatchNormalization, far larger than trained. The
graph still checks clean, but it computes something else.
"""),
    code("set BatchNormalization@3 epsilon=0.5\nhistory"),
    md("""
## Compare the versions

`compare @0 @1` runs both versions on the same (seeded random) inputs, compares every output (max abs
and relative difference, cosine similarity, PCC, pass/fail against `tolerance=`/`rtol=`) and every
value of @0 that @1 still computes, matched by name, node id or provenance. The first diverging node is
the earliest node whose output is out of tolerance while all its inputs are within it: the edited one.
"""),
    code("compare @0 @1 shape=x:1x3x48x192"),
    md("The per-node difference is the overlay field `error`: everything downstream of the edit lights up."),
    code("show overlay=error"),
    md("The error overlay as node data too:"),
    code("export out/cls_error.json format=model-explorer-node-data field=error"),
    md("""
Undo the edit and the two versions agree again:
"""),
    code("undo\ncompare @0 @0 shape=x:1x3x48x192"),
])

compiler_loop = notebook([
    md("""
# The compiler loop: annotate, transform, diff, compare, keep or undo, export

This is the loop Graphsmith is built for: change a graph by hand or with a pass, see exactly what
changed, run both versions to check the numbers still agree, then keep the change or take it back.
It uses `models/ppocr_mobile_v2_cls.onnx`, the PP-OCR text-direction classifier (566 nodes: Conv,
BatchNormalization, and HardSwish written out as `x*Clip(x+3,0,6)/6`).
"""),
    code("load models/ppocr_mobile_v2_cls.onnx as cls\nsummary"),
    md("""
## Annotate

Annotations are hints that passes read and carry onto the nodes they make. `keep=true` protects a node
from removal, `fuse=false` keeps it out of every fusion. Here one HardSwish pattern is kept unfused on
purpose (its `Add` is the first node of the pattern), and the convolutions are marked for int8: once any
node carries `quantize=`, the quantizer touches only the annotated ones.
"""),
    code("annotate op=Conv quantize=int8\nannotate Add@0 fuse=false\nannotations"),
    md("""
## The passes

Each pass lives in its own file with what it requires and ensures; presets chain them.
"""),
    code("passes"),
    code("pass fuse-hardswish"),
    md("""
## What changed

`diff` pairs the nodes of two versions by stable id, then by the provenance the pass recorded, then
by structure; it lists counts per op, the replacement groups (which nodes became which) and draws the
first group side by side (removed red, added green).
"""),
    code("diff @2 @3"),
    md("""
## Did the numbers change?

`compare` runs both versions on the same seeded inputs and compares every output and every value the
new version still computes. A fusion that is exact up to rounding passes.
"""),
    code("compare @2 @3 shape=x:1x3x48x192"),
    md("""
## Why did one pattern not fuse?

`why NODE` re-runs the pipeline without keeping it and lists the patterns that reached the node and
the condition that stopped them: the `fuse=false` annotation.
"""),
    code("why Add@0"),
    md("""
## The rest of the pipeline

`optimize` runs the extended preset (cleanup, Conv+BatchNormalization folding, the fusions) as one
more history step. Compare it with the loaded model.
"""),
    code("optimize"),
    code("diff @3 @4 focus=2"),
    code("compare @0 @4 shape=x:1x3x48x192"),
    md("""
## Keep or undo

Every pass run is one history step: `undo` takes it back byte for byte, `redo` (or `checkout @N`)
restores it, and a new step after an undo starts a branch.
"""),
    code("undo\nhistory"),
    md("""
## Against other compilers

External compilers run as plugins (`plugins` lists them): the current version goes out as an ONNX file and
their result comes back as one more history step, paired with ours node by node. Start each from the
annotated model (@2), so the history tree holds our pipeline and theirs side by side.
"""),
    code("plugins"),
    code("checkout @2\ncompile ort level=extended"),
    code("checkout @2\ncompile onnxslim"),
    md("""
`compare` with more than two versions sets them side by side: nodes and op changes, parameters, the
estimated latency on a hardware target, the measured interpreter time, and the output error against the
first version, then a chart of each relative to it.
"""),
    code("compare @2 @4 @5 @6 shape=x:1x3x48x192 hw=a100-sxm4-80gb"),
    md("""
## Precision

`quantize mode=static` writes QuantizeLinear/DequantizeLinear pairs with per-channel int8 weights and
activation ranges calibrated by running the interpreter on `samples=N` seeded inputs (or `.npz` files);
`mode=dynamic` quantizes MatMul/Gemm weights, and `convert dtype=fp16|bf16` halves the float weights.
Each reports the size and the error against the float model, and is one more step.
"""),
    code("checkout @4\nquantize mode=static samples=4 shape=x:1x3x48x192"),
    md("`compare` with a tolerance of 0.05: the outputs stay within it, and inside the graph it names the first node whose output moves beyond it while its inputs stay within."),
    code("compare @4 @7 shape=x:1x3x48x192 tolerance=0.05"),
    md("Keep our float optimized version and export it; the file passes onnx's checker and onnxruntime gives the loaded model's outputs (the notebook test checks both)."),
    code("checkout @4\nexport out/cls_optimized.onnx\nsummary"),
])

compiler_workflow = notebook([
    md("""
# Compiler workflow on PP-OCRv4 recognition

The full loop on `models/ppocrv4_rec.onnx`, the PP-OCRv4 text recognizer (860 nodes: a convolutional backbone
with HardSwish written out, then a small transformer with LayerNorm written out). The model is not shipped: it is
a link into the test corpus (`../shared/corpus/models`, next to the repository).
Annotate, optimize, see the diff, compare with onnxruntime's optimizer and onnxslim, quantize, compare the
numbers, undo, export.
"""),
    code("load models/ppocrv4_rec.onnx as rec\nsummary"),
    md("""
## Annotate

The convolutions are marked for int8, and the first LayerNorm pattern (it starts at `p2o.ReduceMean.0`) is kept
unfused on purpose.
"""),
    code("annotate op=Conv quantize=int8\nannotate p2o.ReduceMean.0 fuse=false\nannotations"),
    md("## Optimize\nThe extended preset: cleanup (identity, constant folding, dedupe), Conv+BatchNormalization and per-channel Mul/Add folding, LayerNorm, HardSwish and attention fusions (the two SVTR attention blocks become ONNX Attention). One history step."),
    code("optimize"),
    md("## What changed\nReplacement groups name the pass that made each new node; the drawing shows the first group side by side."),
    code("diff @2 @3"),
    md("## Why one LayerNorm was not fused"),
    code("why p2o.ReduceMean.0"),
    md("## The numbers\nBoth versions run on the same seeded input; every output and every value still present is compared."),
    code("compare @2 @3 shape=x:1x3x48x320"),
    md("## Against onnxruntime's optimizer and onnxslim\nEach compiler starts from the annotated model (@2); `compare` with several versions sets them side by side."),
    code("checkout @2\ncompile ort level=extended"),
    code("checkout @2\ncompile onnxslim"),
    code("compare @2 @3 @4 @5 shape=x:1x3x48x320 hw=a100-sxm4-80gb repeat=2"),
    md("## Quantize\nStatic int8 on the annotated convolutions of our optimized version, calibrated on two seeded inputs."),
    code("checkout @3\nquantize mode=static samples=2 shape=x:1x3x48x320"),
    code("compare @3 @6 shape=x:1x3x48x320 tolerance=0.05"),
    md("## Undo and export\n`undo` takes the quantization back; the float optimized version is exported (the notebook test checks it with onnx's checker and onnxruntime)."),
    code("undo\nhistory"),
    code("export out/rec_optimized.onnx\nsummary"),
])

for name, nb in [("tour.ipynb", tour), ("sweep.ipynb", sweep), ("editing.ipynb", editing),
                 ("run-and-compare.ipynb", run_and_compare), ("compiler-loop.ipynb", compiler_loop),
                 ("compiler-workflow.ipynb", compiler_workflow)]:
    nbformat.validate(nb)
    with open(os.path.join(HERE, name), "w") as f:
        nbformat.write(nb, f)
    print("wrote", name)
