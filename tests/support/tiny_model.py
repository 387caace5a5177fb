"""A tiny but real ONNX model following the serving contract, for tests of the runtime itself.

It is built with onnx.helper (global average pooling of 4x4 patches → linear), so tests
that exercise loading, failure and batching do not depend on the shipped models' weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LABELS = [
    "invoice",
    "receipt",
    "bank_statement",
    "payslip",
    "identity_document",
    "utility_bill",
    "tax_form",
    "letter",
    "other",
]


def write_tiny_model(directory: Path, name: str = "tiny", version: str = "1.0", seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    target = directory / name / version
    target.mkdir(parents=True, exist_ok=True)
    pooled = 64 * 48  # 256x192 pooled by 4x4
    w = numpy_helper.from_array(rng.normal(0, 0.05, (pooled, len(LABELS))).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(len(LABELS), np.float32), "b")
    shape = numpy_helper.from_array(np.array([-1, pooled], np.int64), "shape")
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Reshape", ["pooled", "shape"], ["embedding"]),
        helper.make_node("Gemm", ["embedding", "w", "b"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 256, 192])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", len(LABELS)]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", pooled]),
        ],
        [w, b, shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, target / "model.onnx")
    manifest = {
        "name": name,
        "version": version,
        "labels": LABELS,
        "inputs": {"image": {"height": 256, "width": 192, "mean": 0.5, "std": 0.5, "preprocessing_version": "1"}},
        "calibration": {"method": "temperature", "temperature": 1.0},
        "ood": {"method": "energy", "temperature": 1.0, "threshold": 1e9},
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target
