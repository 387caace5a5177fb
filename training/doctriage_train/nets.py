"""The image networks: small depthwise-separable CNNs over the 1x256x192 page.

v2.4 adds a linear text head to v2.3 (train.train_text_head, export.export_fusion).

Every model returns (logits, embedding); the embedding is the penultimate feature vector the
server uses for the OOD score.
"""

from __future__ import annotations

import torch
from torch import nn


def _ds(cin: int, cout: int, stride: int) -> nn.Sequential:
    """Depthwise 3x3 + pointwise 1x1, each with batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class PageCNN(nn.Module):
    """Global pooling for texture/content plus a coarse spatial grid for layout."""

    def __init__(
        self, num_labels: int, widths: tuple[int, ...], embed: int, grid: tuple[int, int], stem_pool: int, patch: int
    ) -> None:
        super().__init__()
        self.stem_pool = nn.AvgPool2d(stem_pool) if stem_pool > 1 else nn.Identity()
        # A patchifying stem (kernel = stride) sees every pixel once: cheap at full resolution.
        layers: list[nn.Module] = [
            nn.Conv2d(1, widths[0], patch, patch, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        for i in range(1, len(widths)):
            layers.append(_ds(widths[i - 1], widths[i], 2 if widths[i] != widths[i - 1] else 1))
        self.features = nn.Sequential(*layers)
        last = widths[-1]
        self.grid_proj = nn.Sequential(nn.Conv2d(last, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.grid = nn.AdaptiveAvgPool2d(grid)
        self.neck = nn.Sequential(nn.Linear(last * 2 + 16 * grid[0] * grid[1], embed), nn.ReLU(inplace=True))
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(embed, num_labels)
        self.embed_dim = embed

    def embed(self, image: torch.Tensor) -> torch.Tensor:
        x = self.features(self.stem_pool(image))
        pooled = torch.cat(
            [x.mean(dim=(2, 3)), x.amax(dim=(2, 3)), torch.flatten(self.grid(self.grid_proj(x)), 1)], dim=1
        )
        return self.neck(pooled)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.embed(image)
        return self.head(self.drop(e)), e


def doc_cnn(num_labels: int) -> PageCNN:
    """doc-classifier v2.3 image model (~0.17 M parameters): 2x2 average, then 2x2 patches → 64x48.

    The average keeps an epoch cheap; full-resolution patches, a learned stem and test-time rotation
    were tried and not adopted (training/README.md, "Tried and not adopted")."""
    return PageCNN(num_labels, (32, 64, 128, 128, 192, 192), embed=128, grid=(4, 3), stem_pool=2, patch=2)


def lite_cnn(num_labels: int) -> PageCNN:
    """doc-classifier-lite: 4x average-pooled input, a few narrow layers (~25 k parameters)."""
    return PageCNN(num_labels, (16, 32, 64, 96), embed=48, grid=(2, 3), stem_pool=4, patch=2)
