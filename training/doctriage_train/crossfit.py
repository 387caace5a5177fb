"""v2.4's head trained on real documents, K-fold cross-fitted by source repository.

Every real document (../shared/real-train and ../shared/real-docs, 400 that the sidecar can decode)
and each of its simulated phone photos gets logits from a head that never saw its repository: those
out-of-fold logits are what the temperature, the OOD cut and the acceptance rule are fitted on, and
what the model card reports. The shipped head is then trained on everything.

Each head's training loss is shared between three sets, whatever their sizes (`Shares`): the real
documents as published, their simulated photos, and the synthetic training pages (augmentation, and
the only source of the types and captures no real document covers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from doctriage_train.train import fusion, image_feature_rows, train_text_head

Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Block:
    """One set of pages as v2.4 sees them: v2.3's outputs, the text rows, the encoder's raw features."""

    y: npt.NDArray[np.int64]
    image_logits: Array
    image_embedding: Array
    text: Array
    features: Array | None  # raw image-encoder features (None: no encoder)

    def take(self, idx: npt.NDArray[np.intp]) -> Block:
        return Block(
            self.y[idx],
            self.image_logits[idx],
            self.image_embedding[idx],
            self.text[idx],
            None if self.features is None else self.features[idx],
        )

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Head:
    weight: Array  # [text width (+ feature dim), labels]
    bias: Array
    feature_mean: Array | None
    feature_std: Array | None


@dataclass(frozen=True)
class HeadConfig:
    num_labels: int
    scale: Array  # per text column
    hash_dim: int
    image_weight: float
    l2: float
    feature_scale: float


def feature_rows(block: Block, head: Head, cfg: HeadConfig) -> Array | None:
    if block.features is None or head.feature_mean is None or head.feature_std is None:
        return None
    return image_feature_rows(block.features, head.feature_mean, head.feature_std, cfg.feature_scale)


def fit_head(blocks: Sequence[Block], shares: Sequence[float], cfg: HeadConfig) -> Head:
    """One multinomial logistic head over [text row * scale | image feature row]; set i carries
    shares[i] of the loss (sets without rows are skipped and the rest renormalised)."""
    used = [(b, s) for b, s in zip(blocks, shares, strict=True) if len(b) and s > 0]
    with_features = all(b.features is not None for b, _ in used)
    mean = std = None
    if with_features:
        stacked = np.concatenate([b.features for b, _ in used if b.features is not None])
        mean = stacked.mean(axis=0).astype(np.float32)
        std = (stacked.std(axis=0) + 1e-6).astype(np.float32)
    head = Head(np.zeros(0, np.float32), np.zeros(0, np.float32), mean, std)
    xs, ys, ws = [], [], []
    for b, share in used:
        x = b.text * cfg.scale
        feats = feature_rows(b, head, cfg) if with_features else None
        xs.append(np.concatenate([x, feats], axis=1) if feats is not None else x)
        ys.append(b.y)
        ws.append(np.full(len(b), share / len(b)))
    weight, bias = train_text_head(
        np.concatenate(xs).astype(np.float32),
        np.concatenate(ys),
        cfg.num_labels,
        l2=cfg.l2,
        sample_weight=np.concatenate(ws),
    )
    return Head(weight, bias, mean, std)


def apply_head(block: Block, head: Head, cfg: HeadConfig) -> tuple[Array, Array]:
    """(logits, embedding) of v2.4 with this head, exactly as the exported graph computes them."""
    return fusion(
        block.image_logits,
        block.image_embedding,
        block.text,
        feature_rows(block, head, cfg),
        head.weight,
        head.bias,
        cfg.scale,
        cfg.hash_dim,
        cfg.image_weight,
    )


def cross_fit(
    synthetic: Block,
    real: Block,
    photos: Block | None,
    photo_origin: npt.NDArray[np.intp] | None,
    folds: npt.NDArray[np.int64],
    shares: tuple[float, float, float],
    cfg: HeadConfig,
) -> tuple[Array, Array | None]:
    """Out-of-fold logits of the real documents and of their photos (a photo sits in its document's
    fold). `shares`: (synthetic, real, photos) shares of each fold head's loss."""
    oof_real = np.zeros((len(real), cfg.num_labels), np.float32)
    oof_photos = np.zeros((len(photos), cfg.num_labels), np.float32) if photos is not None else None
    photo_folds = folds[photo_origin] if photos is not None and photo_origin is not None else None
    for k in np.unique(folds):
        inside, held = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        blocks = [synthetic, real.take(inside)]
        if photos is not None and photo_folds is not None:
            blocks.append(photos.take(np.flatnonzero(photo_folds != k)))
        head = fit_head(blocks, shares[: len(blocks)], cfg)
        oof_real[held] = apply_head(real.take(held), head, cfg)[0]
        if photos is not None and photo_folds is not None and oof_photos is not None:
            out = np.flatnonzero(photo_folds == k)
            oof_photos[out] = apply_head(photos.take(out), head, cfg)[0]
    return oof_real, oof_photos
