"""The compiled token hashing and its Python twin give identical counts; features are well formed."""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar import _texthash_py, texthash

compiled: Any = None
with contextlib.suppress(ImportError):  # the build may be absent
    compiled = importlib.import_module("sidecar._ext._texthash")

needs_build = pytest.mark.skipif(compiled is None, reason="sidecar._ext._texthash is not built")


@needs_build
@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.sampled_from([1, 7, 64, 4096]), st.integers(1, 3), st.integers(0, 5))
def test_compiled_and_python_twin_agree(text: str, dim: int, ngram_min: int, extra: int) -> None:
    ngram_max = ngram_min + extra
    a = compiled.hashed_counts(text, dim, ngram_min, ngram_max)
    b = _texthash_py.hashed_counts(text, dim, ngram_min, ngram_max)
    assert a.dtype == b.dtype == np.int32
    np.testing.assert_array_equal(a, b)


@needs_build
def test_twins_agree_on_multilingual_documents() -> None:
    text = "RECHNUNG Nr. 4711 — Übersicht; FACTURE n° 12 été; Factura española; 東京 Кириллица\x00\ud800"
    np.testing.assert_array_equal(
        compiled.hashed_counts(text, 4096, 3, 4), _texthash_py.hashed_counts(text, 4096, 3, 4)
    )


def test_known_value_is_stable() -> None:
    """The hashing is part of the model contract: a change here silently breaks v2.4."""
    counts = _texthash_py.hashed_counts("Invoice", 4096, 3, 3)
    # "invoice" + the 3-grams of "<invoice>": 1 + 7 features
    assert int(np.abs(counts).sum()) == 8
    assert _texthash_py._fnv1a(b"a", _texthash_py.WORD_BASIS) == 0xE40C292C  # FNV-1a 32 reference value


def test_case_and_separators_do_not_matter() -> None:
    a = texthash.text_features("Total: 12,50 EUR")
    b = texthash.text_features("total 12 50   eur")
    np.testing.assert_array_equal(a, b)


def test_features_are_unit_norm_or_zero() -> None:
    f = texthash.text_features("Kontoauszug Nr. 3 vom 01.02.2024")
    assert f.dtype == np.float32 and f.shape == (texthash.DEFAULT_DIM,)
    assert abs(float(np.linalg.norm(f)) - 1.0) < 1e-5
    assert not texthash.text_features(None).any()
    assert not texthash.text_features("").any()
    assert not texthash.text_features(" ,;: ").any()


def test_invalid_dim_is_refused() -> None:
    with pytest.raises(ValueError):
        _texthash_py.hashed_counts("x", 0, 3, 4)


@needs_build
def test_compiled_is_loaded_when_built_and_env_forces_python() -> None:
    assert texthash.COMPILED
    code = "from sidecar import texthash; print(texthash.IMPLEMENTATION)"
    env = {**os.environ, "DOCTRIAGE_NO_EXTENSIONS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "python"
