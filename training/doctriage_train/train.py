"""Training loops (deterministic by seed on CPU): image CNNs and the v2.4 text+fusion head."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from doctriage_train.nets import PageCNN

Array = npt.NDArray[np.float32]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # Not torch.use_deterministic_algorithms: it serializes oneDNN's weight-gradient reductions (4x
    # slower on 2 cores). CPU kernels with a fixed thread count give the same result run to run.
    # Denormal gradients late in training slow CPU kernels down many times over.
    torch.set_flush_denormal(True)


def class_weights(y: npt.NDArray[np.int64], num_labels: int) -> torch.Tensor:
    """Balanced loss weights: every label counts as much in total, whatever its sample count
    (`other` has more layouts than each target class; unweighted, its prior swallows real pages)."""
    counts = np.bincount(y, minlength=num_labels).astype(np.float64)
    weights = np.where(counts > 0, len(y) / (num_labels * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def set_memory_format(model: nn.Module, fmt: torch.memory_format) -> None:
    """channels_last roughly doubles CPU training speed of depthwise convs; export wants contiguous."""
    for p in model.parameters():
        if p.dim() == 4:
            p.data = p.data.contiguous(memory_format=fmt)


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Batch jitter on top of the rendered degradations, per sample: a small rotation, zoom and shift
    (pages are never framed the same way twice), blur or sensor noise, then contrast/brightness."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=g) - 0.5) * (2 * math.pi / 180 * 4)  # +-4 degrees
    zoom = 1 + (torch.rand(n, generator=g) - 0.5) * 0.3  # 0.85-1.15
    shift = (torch.rand(n, 2, generator=g) - 0.5) * 0.12
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Outside the page: the normalised white of the paper (+1), as a zoomed-out page on a scanner.
    x = F.grid_sample(x - 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 1
    pick = torch.rand(n, generator=g)
    blurred = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    x = torch.where((pick < 0.25).view(n, 1, 1, 1), blurred, x)
    noise = torch.randn(x.shape, generator=g) * (torch.rand(n, 1, 1, 1, generator=g) * 0.08)
    x = torch.where((pick > 0.75).view(n, 1, 1, 1), x + noise, x)
    a = 1 + (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 0.4
    b = (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 0.4
    return (x * a + b).contiguous(memory_format=torch.channels_last)


def _schedule(opt: torch.optim.Optimizer, total: int, peak: float) -> Callable[[int], None]:
    warm = max(1, total // 20)

    def step(i: int) -> None:
        lr = (
            peak * (i + 1) / warm
            if i < warm
            else peak * 0.5 * (1 + math.cos(math.pi * (i - warm) / max(1, total - warm)))
        )
        for group in opt.param_groups:
            group["lr"] = lr

    return step


def train_image(
    model: PageCNN,
    x: npt.NDArray[np.float16],
    y: npt.NDArray[np.int64],
    epochs: int,
    seed: int,
    batch: int = 64,
    lr: float = 3e-3,
    log: Callable[[str], None] = print,
) -> PageCNN:
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    set_memory_format(model, torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, math.ceil(len(y) / batch))
    sched = _schedule(opt, epochs * steps_per_epoch, lr)
    labels = torch.from_numpy(y)
    weight = class_weights(y, model.head.out_features)
    it = 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=g)
        total, correct = 0.0, 0
        for s in range(steps_per_epoch):
            idx = order[s * batch : (s + 1) * batch]
            if len(idx) < 2:
                continue
            xb = torch.from_numpy(x[idx.numpy()].astype(np.float32)).contiguous(memory_format=torch.channels_last)
            xb = _augment(xb, g)
            sched(it)
            it += 1
            logits, _ = model(xb)
            loss = F.cross_entropy(logits, labels[idx], weight=weight)
            opt.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == labels[idx]).sum())
        log(f"  epoch {epoch + 1}/{epochs} loss {total / len(y):.4f} train-acc {correct / len(y):.4f}")
    return model.eval()


@torch.no_grad()
def predict_image(model: PageCNN, x: npt.NDArray[np.float16], batch: int = 256) -> tuple[Array, Array]:
    model.eval()
    logits, embeds = [], []
    for s in range(0, len(x), batch):
        xb = torch.from_numpy(x[s : s + batch].astype(np.float32)).contiguous(memory_format=torch.channels_last)
        lo, e = model(xb)
        logits.append(lo.numpy())
        embeds.append(e.numpy())
    return np.concatenate(logits).astype(np.float32), np.concatenate(embeds).astype(np.float32)


def column_scale(width: int, hash_dim: int, lex_dim: int, hash_scale: float, emb_scale: float) -> Array:
    """Per-column factor of the text row as the head reads it: hashed tokens x `hash_scale`, lexicon
    features x 1, sentence embedding x `emb_scale` (the head's one L2 penalty then weighs the blocks
    differently: the lexicon, which carries over to real pages best, is the cheapest to use)."""
    scale = np.ones(width, np.float32)
    scale[:hash_dim] = hash_scale
    scale[hash_dim + lex_dim :] = emb_scale
    return scale


def train_text_head(
    text: Array,
    y: npt.NDArray[np.int64],
    num_labels: int,
    l2: float = 1e-4,
    iterations: int = 150,
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> tuple[Array, Array]:
    """Multinomial logistic regression (class-balanced, L2) on the rows that carry text, full batch
    with L-BFGS: deterministic, and a convex problem (nothing to tune but `l2`). `sample_weight`: each
    row's weight on top of its class weight (the loss is normalised by their sum, so only ratios
    matter: how much the real documents count against the synthetic pages). Returns (W [D, L], b [L])."""
    has = np.abs(text).sum(axis=1) > 0
    x, labels = torch.from_numpy(text[has]), torch.from_numpy(y[has])
    weight = class_weights(y[has], num_labels)[labels]
    if sample_weight is not None:
        weight = weight * torch.from_numpy(np.asarray(sample_weight, np.float32)[has])
    weight = weight / weight.sum()
    torch.manual_seed(0)
    head = nn.Linear(text.shape[1], num_labels)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    opt = torch.optim.LBFGS(
        head.parameters(), lr=1, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (F.cross_entropy(head(x), labels, reduction="none") * weight).sum() + l2 * (head.weight**2).sum()
        torch.autograd.backward(loss)
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    return (
        head.weight.detach().numpy().T.astype(np.float32).copy(),
        head.bias.detach().numpy().astype(np.float32).copy(),
    )


def late_fusion(
    image_logits: Array,
    image_embedding: Array,
    text: Array,
    weight: Array,
    bias: Array,
    scale: Array,
    hash_dim: int,
    image_weight: float,
) -> tuple[Array, Array]:
    """v2.4 in numpy, exactly as export.export_fusion builds it in ONNX:
    logits = image_weight * v2.3 logits + [row has text] * head(text * scale);
    embedding = [v2.3 embedding | text row without its hashed columns (lexicon, sentence embedding)]."""
    has = (np.abs(text).sum(axis=1, keepdims=True) > 0).astype(np.float32)
    logits = image_weight * image_logits + has * ((text * scale) @ weight + bias)
    embedding = np.concatenate([image_embedding, text[:, hash_dim:]], axis=1)
    return logits.astype(np.float32), embedding.astype(np.float32)


def image_feature_rows(features: Array, mean: Array, std: Array, scale: float) -> Array:
    """The pretrained image encoder's features as v2.4's head reads them: standardised per column
    (`mean`, `std` fitted on the training rows), L2-normalised per row, times `scale`
    (export.export_fusion builds the same in ONNX)."""
    z = (features - mean) / std
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    return (z * scale).astype(np.float32)


def fusion(
    image_logits: Array,
    image_embedding: Array,
    text: Array,
    image_features: Array | None,
    weight: Array,
    bias: Array,
    scale: Array,
    hash_dim: int,
    image_weight: float,
) -> tuple[Array, Array]:
    """v2.4 with the pretrained image encoder, in numpy, exactly as export.export_fusion builds it:
    logits = image_weight * v2.3 logits + [text row * scale | image feature row] @ weight + bias
    (`image_features` already through image_feature_rows; None = a text-only head: late_fusion);
    embedding = [v2.3 embedding | text row without its hashed columns]."""
    if image_features is None:
        return late_fusion(image_logits, image_embedding, text, weight, bias, scale, hash_dim, image_weight)
    x = np.concatenate([text * scale, image_features], axis=1)
    logits = image_weight * image_logits + x @ weight + bias
    embedding = np.concatenate([image_embedding, text[:, hash_dim:]], axis=1)
    return logits.astype(np.float32), embedding.astype(np.float32)
