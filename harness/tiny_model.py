"""A tiny but real ONNX model following the serving contract, for tests of the runtime itself.

It is built with onnx.helper (global average pooling of 4x4 patches → linear), so tests
that exercise loading, failure and batching do not depend on the shipped models' weights.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from harness.paths import ROOT
from sidecar.config import DEPLOYMENT_FILE
from sidecar.tools.evaluation import CANONICAL_LABELS

LABELS = list(CANONICAL_LABELS)
# The pretrained encoders the shipped v2.4 reads (`make embedder` exports them into the checkout's models/).
ENCODERS = ("text-embedder/all-minilm-l6-v2", "image-encoder/open-nsfw")


def link_encoders(models_root: Path, *relatives: str) -> None:
    """Link the checkout's exported encoders into a test's models root: the sidecar finds them under
    its models root only (`sidecar.models.embedder.locate`), as an installed one does. One that the
    checkout lacks (not exported) or the root already has is left as it is."""
    for relative in relatives or ENCODERS:
        source, target = ROOT / "models" / relative, models_root / relative
        if (source / "model.onnx").is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source, target_is_directory=True)


def write_tiny_model(
    directory: Path,
    name: str = "tiny",
    version: str = "1.0",
    seed: int = 0,
    *,
    text_dim: int = 0,
    temperature: float = 1.0,
    fails_on_white: bool = False,
    favour: str = "",
    bias: float = 5.0,
    embedder: str = "",
    embedder_dim: int = 384,
) -> Path:
    """`text_dim` > 0 adds a `text` input [N, text_dim] (like v2.4, `needs_text`); `temperature` goes
    into the manifest's calibration; `fails_on_white` makes inference raise in ONNX Runtime on any page
    with a white pixel (an out-of-range Gather) while the mid-grey warm-up input passes; `favour` adds
    `bias` to that label's logit (a model that predicts it, more or less confidently); `embedder` (a
    path under the models root, e.g. "text-embedder/all-minilm-l6-v2") makes the last `embedder_dim`
    columns of `text` a sentence embedding, as in the shipped v2.4 (the checkout's export, linked in)."""
    if not (directory / DEPLOYMENT_FILE).exists():
        # The tiny tree stands in for the shipped release (same names and versions): its deployment file.
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "models" / DEPLOYMENT_FILE, directory / DEPLOYMENT_FILE)
    rng = np.random.default_rng(seed)
    target = directory / name / version
    target.mkdir(parents=True, exist_ok=True)
    pooled = 64 * 48  # 256x192 pooled by 4x4
    w = numpy_helper.from_array(rng.normal(0, 0.05, (pooled, len(LABELS))).astype(np.float32), "w")
    bias_row = np.zeros(len(LABELS), np.float32)
    if favour:
        bias_row[LABELS.index(favour)] = bias
    b = numpy_helper.from_array(bias_row, "b")
    shape = numpy_helper.from_array(np.array([-1, pooled], np.int64), "shape")
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Reshape", ["pooled", "shape"], ["embedding"]),
    ]
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 256, 192])]
    initializers = [w, b, shape]
    logits = "logits"
    if text_dim or fails_on_white:
        logits = "image_logits"
    nodes.append(helper.make_node("Gemm", ["embedding", "w", "b"], [logits]))
    if text_dim:
        inputs.append(helper.make_tensor_value_info("text", TensorProto.FLOAT, ["N", text_dim]))
        wt = rng.normal(0, 0.5, (text_dim, len(LABELS))).astype(np.float32)
        initializers.append(numpy_helper.from_array(wt, "wt"))
        nodes += [
            helper.make_node("MatMul", ["text", "wt"], ["text_logits"]),
            helper.make_node("Add", [logits, "text_logits"], ["logits" if not fails_on_white else "mixed"]),
        ]
        logits = "mixed"
    if fails_on_white:
        # index = floor(max(image) + 1): 1 for the all-zero warm-up input, 2 (out of range) for white pixels.
        initializers += [
            numpy_helper.from_array(np.zeros(2, np.float32), "table"),
            numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        ]
        nodes += [
            helper.make_node("ReduceMax", ["image"], ["peak"], keepdims=0),
            helper.make_node("Add", ["peak", "one"], ["shifted"]),
            helper.make_node("Floor", ["shifted"], ["floored"]),
            helper.make_node("Cast", ["floored"], ["index"], to=TensorProto.INT64),
            helper.make_node("Gather", ["table", "index"], ["picked"]),
            helper.make_node("Add", [logits, "picked"], ["logits"]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        inputs,
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(LABELS)]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", pooled]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, target / "model.onnx")
    manifest: dict[str, Any] = {
        "name": name,
        "version": version,
        "labels": LABELS,
        "inputs": {"image": {"height": 256, "width": 192, "mean": 0.5, "std": 0.5, "preprocessing_version": "1"}},
        "calibration": {"method": "temperature", "temperature": temperature},
        "ood": {"method": "energy", "temperature": 1.0, "threshold": 1e9},
    }
    if text_dim:
        manifest["needs_text"] = True
        manifest["inputs"]["text"] = {"dim": text_dim, "ngram_min": 3, "ngram_max": 4}
        if embedder:
            link_encoders(directory, embedder)
            manifest["inputs"]["text"].update(
                hash_dim=text_dim - embedder_dim, embedding={"embedder": embedder, "dim": embedder_dim}
            )
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target
