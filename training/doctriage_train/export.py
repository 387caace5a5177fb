"""ONNX export (dynamic batch axis) with a parity check against torch, and CPU latency measurement."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from doctriage_train.nets import ImageTextNet, PageCNN
from doctriage_train.train import set_memory_format

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


def export_fusion(net: ImageTextNet, path: Path, text_dim: int) -> float:
    net = net.eval()
    set_memory_format(net, torch.contiguous_format)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 1, 256, 192, generator=g)
    t = torch.nn.functional.normalize(torch.rand(3, text_dim, generator=g), dim=1)
    t[1] = 0.0
    t[2, : net.hash_dim] = 0.0  # a sentence embedding without hashed tokens
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (x, t),
            str(path),
            input_names=["image", "text"],
            output_names=["logits", "embedding"],
            dynamic_axes={"image": {0: "N"}, "text": {0: "N"}, "logits": {0: "N"}, "embedding": {0: "N"}},
            opset_version=OPSET,
            dynamo=False,
        )
    with torch.no_grad():
        ref = net(x, t)[0].numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"image": x.numpy(), "text": t.numpy()})[0]
    return float(np.abs(np.asarray(got) - ref).max())


def latency_ms(path: Path, text_dim: int | None, repeats: int = 60) -> dict[str, float | int | str]:
    """CPU ms per document at batch 1 and 32: ONNX Runtime, 1 intra-op thread, no spinning (as the
    sidecar runs it); median and best of the repeats (the best is the uncontended cost)."""
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
