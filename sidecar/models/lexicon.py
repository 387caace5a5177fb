"""Keyword-lexicon features of a page's text (a block of doc-classifier 2.4's `text` input).

A model that reads text ships a `lexicon.json` (written by training/doctriage_train/lexicon.py):
groups of document-type terms. Each group gives three features: log1p of its matches, log1p of its
distinct terms matched, and whether one matched in the title area (the first `head_chars` of the
normalised text); then four of the whole text: log1p(words) / 8, the share of numeric words, and
log1p of machine-readable-zone matches and whether there is one (with `mrz_repair`, on lines whose
OCR-misread `<` fillers are mended: sidecar.text.repair_mrz). Training and serving call the same
`Lexicon.features`.

Matching is by word n-grams over the normalised text (German umlauts transliterated, accents
stripped, lower case, anything but letters and digits a space): one dictionary lookup per word
and n-gram length, ~1 ms for a page of text.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sidecar.text import repair_mrz

_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
GLOBAL_FEATURES = ("log_words", "numeric_share", "log_mrz", "has_mrz")
PER_GROUP = ("log_count", "log_distinct", "in_head")


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces ("Grüße, Échéance" -> "gruesse echeance")."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _NON_WORD.sub(" ", ascii_only).strip()


class Lexicon:
    """Compiled lexicon: `features(text)` is one float32 row of `dim` values (zeros for no text)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if int(spec.get("format", 0)) != 1:
            raise ValueError(f"unsupported lexicon format {spec.get('format')!r}")
        self.groups: list[str] = list(spec["groups"])
        self.head_chars = int(spec.get("head_chars", 400))
        self.max_chars = int(spec.get("max_chars", 20_000))
        self._terms: dict[tuple[str, ...], list[int]] = {}
        for gi, name in enumerate(self.groups):
            for term in spec["groups"][name]:
                words = tuple(normalise(term).split())
                if words and gi not in self._terms.setdefault(words, []):
                    self._terms[words].append(gi)
        self._longest = max((len(k) for k in self._terms), default=1)
        self._mrz = [re.compile(p) for p in spec.get("mrz_patterns", [])]
        # "mrz_repair": match the MRZ patterns on OCR-mended lines; a lexicon without it matches the
        # raw text (its model was trained on that).
        self._mrz_repair = bool(spec.get("mrz_repair", False))
        self.dim = len(self.groups) * len(PER_GROUP) + len(GLOBAL_FEATURES)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        return cls(json.loads(path.read_text()))

    @property
    def feature_names(self) -> list[str]:
        return [f"{g}/{f}" for g in self.groups for f in PER_GROUP] + list(GLOBAL_FEATURES)

    def features(self, text: str | None) -> npt.NDArray[np.float32]:
        out = np.zeros(self.dim, np.float32)
        if not text:
            return out
        raw = text[: self.max_chars]
        norm = normalise(raw)
        words = norm.split()
        if not words:
            return out
        head_words = len(norm[: self.head_chars].split())
        n = len(self.groups)
        counts = [0] * n
        in_head = [False] * n
        distinct: list[set[tuple[str, ...]]] = [set() for _ in range(n)]
        terms, longest = self._terms, self._longest
        for i in range(len(words)):
            for k in range(1, min(longest, len(words) - i) + 1):
                key = tuple(words[i : i + k])
                hit = terms.get(key)
                if hit is None:
                    continue
                for gi in hit:
                    counts[gi] += 1
                    distinct[gi].add(key)
                    if i < head_words:
                        in_head[gi] = True
        for gi in range(n):
            base = gi * len(PER_GROUP)
            out[base] = math.log1p(counts[gi])
            out[base + 1] = math.log1p(len(distinct[gi]))
            out[base + 2] = 1.0 if in_head[gi] else 0.0
        numeric = sum(1 for w in words if w[0].isdigit())
        mrz_text = repair_mrz(raw) if self._mrz_repair and self._mrz else raw
        mrz = sum(len(p.findall(mrz_text)) for p in self._mrz)
        g = n * len(PER_GROUP)
        out[g] = math.log1p(len(words)) / 8.0
        out[g + 1] = numeric / len(words)
        out[g + 2] = math.log1p(mrz)
        out[g + 3] = 1.0 if mrz else 0.0
        return out
