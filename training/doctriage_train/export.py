"""ONNX export (dynamic batch axis) with a parity check against torch, and CPU latency measurement."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from doctriage_train.nets import PageCNN
from doctriage_train.train import fusion, image_feature_rows, set_memory_format

OPSET = 17


def export_image(model: PageCNN, path: Path) -> float:
    """Export an image-only model; returns the max |onnx - torch| on a random batch."""
    model = model.eval()
    set_memory_format(model, torch.contiguous_format)
    x = torch.randn(3, 1, 256, 192, generator=torch.Generator().manual_seed(1))
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (x,),
            str(path),
            input_names=["image"],
            output_names=["logits", "embedding"],
            dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}, "embedding": {0: "N"}},
            opset_version=OPSET,
            dynamo=False,
        )
    with torch.no_grad():
        ref = model(x)[0].numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], {"image": x.numpy()})[0]
    return float(np.abs(np.asarray(got) - ref).max())


@dataclass(frozen=True)
class FeatureNorm:
    """How v2.4's head reads the image encoder's features (train.image_feature_rows)."""

    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]
    scale: float


def _v23_graph(image_onnx: Path) -> tuple[onnx.ModelProto, int]:
    """The exported v2.3 graph, unchanged, its outputs renamed image_logits / image_embedding."""
    model = onnx.load(str(image_onnx))
    graph = model.graph
    rename = {"logits": "image_logits", "embedding": "image_embedding"}
    image_dim = next(o for o in graph.output if o.name == "embedding").type.tensor_type.shape.dim[1].dim_value
    for node in graph.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
    del graph.output[:]
    return model, image_dim


def export_fusion(
    image_onnx: Path,
    path: Path,
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    scale: npt.NDArray[np.float32],
    hash_dim: int,
    image_weight: float,
    features: FeatureNorm | None = None,
) -> float:
    """v2.4 = the exported v2.3 graph, unchanged, plus one linear head (train.fusion in ONNX):

    - without `features`: a text head, `logits = image_weight * v2.3 logits + [row has text] *
      head(text * scale)` (train.late_fusion);
    - with them: a third input `image_features` (the pretrained image encoder's output, which serving
      computes: the encoder is too large to commit) and one head over [text row * scale |
      standardised, L2-normalised features * scale].

    `embedding` = [v2.3 embedding | text row without its hashed columns]. Returns the max
    |onnx - numpy| on random inputs, with and without text."""
    model, image_dim = _v23_graph(image_onnx)
    graph = model.graph
    width = len(scale)
    labels = weight.shape[1]
    graph.initializer.extend(
        [
            numpy_helper.from_array(weight.astype(np.float32), "head_w"),
            numpy_helper.from_array(bias.astype(np.float32), "head_b"),
            numpy_helper.from_array(scale.astype(np.float32), "text_scale"),
            numpy_helper.from_array(np.array(image_weight, np.float32), "image_weight"),
            numpy_helper.from_array(np.array([1], np.int64), "axis1"),
            numpy_helper.from_array(np.array([hash_dim], np.int64), "sem_start"),
            numpy_helper.from_array(np.array([width], np.int64), "sem_end"),
        ]
    )
    graph.input.append(helper.make_tensor_value_info("text", TensorProto.FLOAT, ["N", width]))
    graph.node.append(helper.make_node("Mul", ["text", "text_scale"], ["text_scaled"]))
    if features is None:
        graph.initializer.append(numpy_helper.from_array(np.array(0.0, np.float32), "zero"))
        graph.node.extend(
            [
                helper.make_node("Abs", ["text"], ["text_abs"]),
                helper.make_node("ReduceSum", ["text_abs", "axis1"], ["text_mass"], keepdims=1),
                helper.make_node("Greater", ["text_mass", "zero"], ["has_text_bool"]),
                helper.make_node("Cast", ["has_text_bool"], ["has_text"], to=TensorProto.FLOAT),
                helper.make_node("MatMul", ["text_scaled", "head_w"], ["head_mm"]),
                helper.make_node("Add", ["head_mm", "head_b"], ["head_raw"]),
                helper.make_node("Mul", ["head_raw", "has_text"], ["head_logits"]),
            ]
        )
    else:
        graph.initializer.extend(
            [
                numpy_helper.from_array(features.mean.astype(np.float32), "feature_mean"),
                numpy_helper.from_array(features.std.astype(np.float32), "feature_std"),
                numpy_helper.from_array(np.array(features.scale, np.float32), "feature_scale"),
                numpy_helper.from_array(np.array(1e-12, np.float32), "feature_eps"),
            ]
        )
        graph.input.append(
            helper.make_tensor_value_info("image_features", TensorProto.FLOAT, ["N", len(features.mean)])
        )
        graph.node.extend(
            [
                helper.make_node("Sub", ["image_features", "feature_mean"], ["feature_centred"]),
                helper.make_node("Div", ["feature_centred", "feature_std"], ["feature_z"]),
                # axes as an attribute: the v2.3 graph's opset (< 18) has no axes input for ReduceL2
                helper.make_node("ReduceL2", ["feature_z"], ["feature_norm_raw"], axes=[1], keepdims=1),
                helper.make_node("Max", ["feature_norm_raw", "feature_eps"], ["feature_norm"]),
                helper.make_node("Div", ["feature_z", "feature_norm"], ["feature_unit"]),
                helper.make_node("Mul", ["feature_unit", "feature_scale"], ["feature_row"]),
                helper.make_node("Concat", ["text_scaled", "feature_row"], ["head_in"], axis=1),
                helper.make_node("MatMul", ["head_in", "head_w"], ["head_mm"]),
                helper.make_node("Add", ["head_mm", "head_b"], ["head_logits"]),
            ]
        )
    graph.node.extend(
        [
            helper.make_node("Mul", ["image_logits", "image_weight"], ["image_logits_weighted"]),
            helper.make_node("Add", ["image_logits_weighted", "head_logits"], ["logits"]),
            helper.make_node("Slice", ["text", "sem_start", "sem_end", "axis1"], ["text_semantic"]),
            helper.make_node("Concat", ["image_embedding", "text_semantic"], ["embedding"], axis=1),
        ]
    )
    graph.output.extend(
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", labels]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", image_dim + width - hash_dim]),
        ]
    )
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))

    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 1, 256, 192)).astype(np.float32)
    t = np.abs(rng.standard_normal((3, width))).astype(np.float32)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    t[1] = 0.0
    t[2, :hash_dim] = 0.0
    feeds = {"image": x, "text": t}
    rows = None
    if features is not None:
        f = np.abs(rng.standard_normal((3, len(features.mean)))).astype(np.float32)
        feeds["image_features"] = f
        rows = image_feature_rows(f, features.mean, features.std, features.scale)
    image = ort.InferenceSession(str(image_onnx), providers=["CPUExecutionProvider"])
    il, ie = image.run(["logits", "embedding"], {"image": x})
    want_l, want_e = fusion(il, ie, t, rows, weight, bias, scale, hash_dim, image_weight)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got_l, got_e = sess.run(["logits", "embedding"], feeds)
    return float(max(np.abs(got_l - want_l).max(), np.abs(got_e - want_e).max()))


def latency_ms(
    path: Path, text_dim: int | None, repeats: int = 60, feature_dim: int | None = None
) -> dict[str, float | int | str]:
    """CPU ms per document at batch 1 and 32: ONNX Runtime, 1 intra-op thread, no spinning (as the
    sidecar runs it); median and best of the repeats (the best is the uncontended cost). The image
    encoder a model reads (`feature_dim`) is not in its graph: its cost is measured separately."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    out: dict[str, float | int | str] = {}
    rng = np.random.default_rng(0)
    for batch in (1, 32):
        feeds = {"image": rng.standard_normal((batch, 1, 256, 192)).astype(np.float32)}
        if text_dim:
            feeds["text"] = (np.abs(rng.standard_normal((batch, text_dim))) / np.sqrt(text_dim)).astype(np.float32)
        if feature_dim:
            feeds["image_features"] = np.abs(rng.standard_normal((batch, feature_dim))).astype(np.float32)
        for _ in range(3):
            sess.run(None, feeds)
        times = []
        for _ in range(repeats if batch == 1 else max(3, repeats // 5)):
            t0 = time.perf_counter()
            sess.run(None, feeds)
            times.append((time.perf_counter() - t0) * 1000 / batch)
        out[f"batch{batch}_ms_per_doc"] = round(float(np.median(times)), 3)
        out[f"batch{batch}_ms_per_doc_min"] = round(float(np.min(times)), 3)
    out["threads"] = 1
    out["note"] = (
        "ONNX Runtime CPU, 1 intra-op thread, no spinning; 2-core machine shared with other jobs "
        "(median and best of repeats)"
    )
    return out
