"""The training run's settings (`TrainConfig`) and what its steps pass one another: a model's raw
outputs on a set of pages (`Scored`) and the default bands every decision is taken at (`THRESHOLDS`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sidecar.decision.decide import Thresholds
from sidecar.texthash import DEFAULT_DIM

Array = npt.NDArray[np.float32]
THRESHOLDS = Thresholds(accept=0.85, review_below=0.60)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    epochs: int = 30
    lite_epochs: int = 30
    text_dim: int = DEFAULT_DIM  # hashed-token columns of v2.4's text input
    # v2.4's late fusion (train_v24): weight of v2.3's logits, scales of the hashed-token and sentence-
    # embedding columns (the lexicon's are 1), the text head's L2 penalty. Chosen by accuracy on real and
    # held-out synthetic documents, a small selection on the documents that also calibrate the acceptance
    # rule (MODEL_CARD limits); the grids and their results: training/README.md, "Tried and not adopted".
    image_weight: float = 0.1
    hash_scale: float = 0.25
    emb_scale: float = 0.5
    text_l2: float = 1e-3
    lexicon: bool = True  # the keyword lexicon block (doctriage_train.lexicon)
    # The pretrained sentence encoder v2.4 also reads text with (`make embedder`); None = hashing only.
    embedder: str | None = "text-embedder/all-minilm-l6-v2"
    # The frozen pretrained image encoder v2.4's head also reads (`make embedder`); None = text only.
    image_encoder: str | None = "image-encoder/open-nsfw"
    feature_scale: float = 2.0  # of the L2-normalised image-encoder row, against the text row's blocks
    # Real documents (crossfit.py): folds grouped by source repository, simulated photos per document,
    # and each set's share of the head's loss (synthetic training pages, real documents, their photos).
    real_folds: int = 5
    photo_shots: int = 2
    synthetic_share: float = 0.3
    real_share: float = 0.45
    photo_share: float = 0.25


@dataclass
class Scored:
    logits: Array
    embedding: Array
