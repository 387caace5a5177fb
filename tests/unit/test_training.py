"""Training code on a tiny generated set: generator, degradation, dataset through the sidecar's
preprocessing, and (with torch) a tiny end-to-end train → calibrate → export → manifest run.

The generator needs the `[train]` extra (faker, fpdf2, opencv); the end-to-end test needs torch.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faker")
pytest.importorskip("fpdf")
pytest.importorskip("cv2")

from doctriage_train import LABELS
from doctriage_train.dataset import PRESETS, SPEC, Dataset, build, preprocess, simulate_ocr, split_of
from doctriage_train.degrade import encode, on_sheet, photo, render_pdf, scan
from doctriage_train.generator import OTHER_GENRES, UNSEEN_GENRES, generate

from harness.tiny_model import link_encoders


def test_generation_is_deterministic_and_has_a_text_layer() -> None:
    a, b = generate("invoice", 3, 1), generate("invoice", 3, 1)
    assert a.pdf is not None and b.pdf is not None
    t_a, page = preprocess(a.pdf)
    t_b, _ = preprocess(b.pdf)
    np.testing.assert_array_equal(t_a, t_b)
    assert t_a.shape == (1, 256, 192) and t_a.dtype == np.float32
    assert page.text and len(page.text) > 50


def test_generation_does_not_depend_on_the_day_it_runs() -> None:
    """Same seed on two days, a year and a half apart (the clock moved for real by time-machine):
    the same PDF bytes, rendered page and text layer. Faker's "today"/"now" defaults once made the
    dates, the receipt times and so the trained models depend on the day `make models` ran."""
    time_machine = pytest.importorskip("time_machine")
    made: list[list[bytes]] = []
    for day in ("2026-12-03 09:00", "2028-05-17 23:30"):
        with time_machine.travel(day, tick=False):
            docs = [generate(kind, layout, 2) for kind in ("receipt", "bank_statement", "letter") for layout in (0, 5)]
            page = render_pdf(docs[0].pdf or b"", 300)
            made.append([d.pdf or b"" for d in docs] + [page.tobytes()] + [d.text.encode() for d in docs])
    assert made[0] == made[1]


@pytest.mark.parametrize("label", LABELS)
def test_every_label_renders_in_several_layouts(label: str) -> None:
    sizes: set[tuple[int, ...]] = set()
    lengths: set[int] = set()
    for layout in range(3):
        g = generate(label, layout, 0)
        assert (g.pdf is None) != (g.image is None)
        img = render_pdf(g.pdf, 300) if g.pdf else g.image
        assert img is not None and img.dtype == np.uint8 and img.min() < 200
        sizes.add(img.shape)
        if g.pdf:
            lengths.add(len(g.pdf))
    assert len(sizes) > 1 or len(lengths) > 1  # layouts differ


def test_every_other_genre_renders() -> None:
    for genre in OTHER_GENRES + UNSEEN_GENRES:
        g = generate("other", 7, 0, genre=genre)
        assert g.genre == genre
        assert g.pdf or g.image is not None


def test_degradations_are_deterministic_and_decodable() -> None:
    g = generate("receipt", 1, 0)
    assert g.pdf is not None
    page = render_pdf(g.pdf, 500)
    for fn in (photo, scan):
        one, two = fn(page, random.Random(5)), fn(page, random.Random(5))
        np.testing.assert_array_equal(one, two)
        assert one.dtype == np.uint8 and one.ndim == 2
        for fmt in ("jpeg", "png", "pdf"):
            tensor, decoded = preprocess(encode(one, random.Random(1), fmt))
            assert tensor.shape == (1, 256, 192) and np.isfinite(tensor).all()
            assert decoded.text is None  # images and scanned PDFs carry no text layer
    card = render_pdf(generate("identity_document", 0, 0).pdf or b"", 300)
    assert on_sheet(card, random.Random(0)).shape[0] > card.shape[0]


def test_split_is_by_layout_and_covers_every_split() -> None:
    splits = [split_of(i) for i in range(20)]
    assert splits.count("train") == 14 and splits.count("val") == 3 and splits.count("test") == 3
    assert {split_of(i) for i in range(4)} == {"train", "val", "test"}


def test_simulated_ocr_loses_words() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    noisy = simulate_ocr(text, random.Random(0), 0.3)
    assert 20 < len(noisy.split()) < 120
    assert simulate_ocr(text, random.Random(0), 0.3) == noisy


def test_tiny_dataset_build(tmp_path: Path) -> None:
    cfg = PRESETS["tiny"]
    build(cfg, tmp_path, workers=1)
    ds = Dataset.load(tmp_path)
    assert ds.digest == cfg.digest()
    assert len(ds.y) == len(ds.x) == len(ds.text) == len(ds.drift)
    assert set(ds.split) == {"train", "val", "test"}
    assert set(ds.y.tolist()) == set(range(len(LABELS)))
    # no layout appears in two splits
    layouts: dict[tuple[int, int], set[str]] = {}
    meta = json.loads((tmp_path / "meta.json").read_text())
    arrays = np.load(tmp_path / "data.npz")
    for y, lay, split in zip(arrays["y"].tolist(), arrays["layout"].tolist(), meta["split"], strict=True):
        layouts.setdefault((y, lay), set()).add(split)
    assert all(len(s) == 1 for s in layouts.values())


def test_tiny_end_to_end_training_run(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from doctriage_train.config import TrainConfig
    from doctriage_train.pipeline import run

    from sidecar.models.infer import infer_batch
    from sidecar.models.runtime import OnnxModel

    cfg = TrainConfig(seed=0, epochs=1, lite_epochs=1, text_dim=256)
    link_encoders(tmp_path / "models")  # v2.4 reads the pretrained encoders from its own models root
    run(tmp_path / "data", tmp_path / "models", cfg, PRESETS["tiny"], real=None, workers=1, log=lambda _: None)
    for name, version in (("doc-classifier", "2.3"), ("doc-classifier", "2.4"), ("doc-classifier-lite", "1.0")):
        target = tmp_path / "models" / name / version
        manifest = json.loads((target / "manifest.json").read_text())
        assert manifest["labels"] == list(LABELS)
        assert manifest["inputs"]["image"]["preprocessing_version"] == "1"
        assert manifest["inputs"]["image"]["crop_page"] is True  # photos: the sheet, not the table under it
        assert manifest["calibration"]["method"] == "temperature" and manifest["calibration"]["temperature"] > 0
        assert manifest["ood"]["method"] == "mahalanobis_diag" and "formula" in manifest["ood"]
        assert set(manifest["drift_reference"]["features"]) == {
            "brightness",
            "contrast",
            "sharpness",
            "aspect",
            "text_length",
            "confidence",
        }
        assert manifest["needs_text"] == (version == "2.4")
        assert manifest["onnx_parity_max_abs"] < 1e-3
        assert (target / "MODEL_CARD.md").read_text().startswith(f"# {name} {version}")
        model = OnnxModel(target)  # the server's own loader accepts it
        assert model.manifest.input_spec == SPEC  # and normalizes pages as the training tensors were
        batch = np.zeros((2, 1, 256, 192), np.float32)
        text = None
        if manifest["needs_text"]:
            # hashed tokens, the keyword lexicon shipped beside the model, then the pretrained sentence
            # embedding (make embedder), through the serving function: a real text row, not zeros
            assert (target / "lexicon.json").is_file() and model.lexicon is not None
            lex = model.lexicon.dim
            assert model.text_dim == 256 + lex + 384 and model.embedder is not None
            text = np.stack([model.text_features("Invoice 42  Total due 120.00 EUR"), model.text_features(None)])
            assert text[0, 256 + lex :].any() and not text[1].any()
            names = model.lexicon.feature_names
            invoice_names = 256 + names.index("invoice/log_count")
            assert text[0, invoice_names] > 0 and text[0, 256 + names.index("letter/log_count")] == 0
        preds = infer_batch(model, batch, text)
        assert len(preds) == 2 and all(p.label in LABELS for p in preds)

    # v2.4 is v2.3's graph plus one head over the text row and the pretrained image encoder's features,
    # which the serving runtime computes and feeds (`image_features`): with no text, its logits are
    # image_weight x v2.3's plus the head's image part, exactly as training's numpy twin computes them.
    import onnx
    from doctriage_train.train import fusion, image_feature_rows
    from onnx import numpy_helper

    v23 = OnnxModel(tmp_path / "models" / "doc-classifier" / "2.3")
    v24 = OnnxModel(tmp_path / "models" / "doc-classifier" / "2.4")
    features_input = v24.manifest.inputs.image_features
    assert v24.image_encoder is not None and features_input is not None and features_input.dim == 1024
    page = np.random.default_rng(3).normal(size=(2, 1, 256, 192)).astype(np.float32)
    silent = v24.run(page, np.zeros((2, v24.text_dim), np.float32))
    init = {
        t.name: numpy_helper.to_array(t)
        for t in onnx.load(str(tmp_path / "models" / "doc-classifier" / "2.4" / "model.onnx")).graph.initializer
    }
    features = image_feature_rows(
        v24.image_encoder.encode(page), init["feature_mean"], init["feature_std"], float(init["feature_scale"])
    )
    v23_out = v23.run(page)
    want, _ = fusion(
        v23_out.logits,
        v23_out.embedding if v23_out.embedding is not None else np.zeros((2, 1), np.float32),
        np.zeros((2, v24.text_dim), np.float32),
        features,
        init["head_w"],
        init["head_b"],
        init["text_scale"],
        256,
        cfg.image_weight,
    )
    assert np.allclose(silent.logits, want, atol=1e-3)
    assert not np.allclose(silent.logits, cfg.image_weight * v23_out.logits, atol=1e-3)  # the encoder counts
    spoken = v24.run(page, np.stack([v24.text_features("Invoice 42  Total due 120.00 EUR")] * 2))
    assert not np.allclose(spoken.logits, silent.logits)

    # `v24` retrains only 2.4 over the exported 2.3, from the same data.
    from doctriage_train.__main__ import main

    before = (tmp_path / "models" / "doc-classifier" / "2.3" / "model.onnx").read_bytes()
    args = ["v24", "--preset", "tiny", "--data", str(tmp_path / "data"), "--models", str(tmp_path / "models")]
    assert main([*args, "--no-real-docs", "--workers", "1"]) == 0
    assert (tmp_path / "models" / "doc-classifier" / "2.3" / "model.onnx").read_bytes() == before
    manifest = json.loads((tmp_path / "models" / "doc-classifier" / "2.4" / "manifest.json").read_text())
    assert "late fusion" in manifest["architecture"] and manifest["onnx_parity_max_abs"] < 1e-4


def test_temperature_and_ood_cut_refitted_on_real_documents_are_reported_cross_validated() -> None:
    pytest.importorskip("torch")
    from doctriage_train.calibration import REAL_OOD_QUANTILE, fit_on_real
    from doctriage_train.config import Scored
    from doctriage_train.report import metrics

    from sidecar.models.calibration import calibrate, fit_temperature, ood_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, len(LABELS), 90)
    # over-confident logits: right 60 % of the time, always with a margin of 8
    pred = np.where(rng.random(90) < 0.6, y, (y + 1) % len(LABELS))
    logits = np.zeros((90, len(LABELS)), np.float32)
    logits[np.arange(90), pred] = 8.0
    embedding = rng.normal(0, 1, (90, 4)).astype(np.float32)
    synthetic = {"method": "temperature", "temperature": 1.0, "fitted_on": "synthetic validation layouts (n=9)"}
    ood = {"method": "mahalanobis_diag", "means": np.zeros((len(LABELS), 4)).tolist(), "var": [0.25] * 4}
    ood |= {"threshold": 0.5, "threshold_rule": "95% quantile of the synthetic validation scores"}
    calibration, real_ood, cv, cuts = fit_on_real(synthetic, ood, Scored(logits, embedding), y)
    assert calibration["temperature"] == pytest.approx(fit_temperature(logits, y), abs=1e-4)
    assert calibration["temperature"] > 2.0 and calibration["synthetic_temperature"] == 1.0
    assert "real documents" in calibration["fitted_on"] and "n=90" in calibration["fitted_on"]
    assert (cv.argmax(1) == pred).all() and not np.allclose(cv, logits)  # rescaled per fold, same answers
    confidence = calibrate(cv, calibration).max(axis=1)
    assert abs(confidence.mean() - 0.6) < 0.1  # honest on average, unlike the synthetic temperature's ~1.0
    # the OOD cut: the quantile of the in-scope documents' scores, per fold for the report
    scores = ood_score(logits, embedding, real_ood)
    in_scope = y != LABELS.index("other")
    assert real_ood["threshold"] == pytest.approx(np.quantile(scores[in_scope], REAL_OOD_QUANTILE), abs=1e-4)
    assert real_ood["synthetic_threshold"] == 0.5 and real_ood["means"] == ood["means"]
    assert len(set(np.round(cuts, 6))) > 1 and abs((scores[in_scope] > cuts[in_scope]).mean() - 0.2) < 0.12
    report = metrics(y, Scored(cv, embedding), calibration, real_ood, cuts)
    assert report["ood_flagged_rate"] == pytest.approx(float((scores > cuts).mean()), abs=1e-4)


def test_temperature_pooled_from_synthetic_validation_and_real_documents() -> None:
    pytest.importorskip("torch")
    from doctriage_train.calibration import REAL_SHARE, fit_on_real
    from doctriage_train.config import Scored

    from sidecar.models.calibration import calibrate, fit_temperature, pooled_weights

    rng = np.random.default_rng(1)

    def pages(n: int, right: float) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, len(LABELS), n)
        pred = np.where(rng.random(n) < right, y, (y + 1) % len(LABELS))
        logits = np.zeros((n, len(LABELS)), np.float32)
        logits[np.arange(n), pred] = 8.0
        return logits, y

    v_logits, v_y = pages(2000, 0.9)  # synthetic pages: right 90 % of the time
    r_logits, r_y = pages(90, 0.8)  # real documents: the same margins, right less often
    embedding = rng.normal(0, 1, (90, 4)).astype(np.float32)
    synthetic = {"method": "temperature", "temperature": 1.0, "fitted_on": "synthetic validation layouts (n=2000)"}
    ood = {"method": "mahalanobis_diag", "means": np.zeros((len(LABELS), 4)).tolist(), "var": [0.25] * 4}
    ood |= {"threshold": 0.5, "threshold_rule": "95% quantile of the synthetic validation scores"}
    val = Scored(v_logits, np.zeros((2000, 4), np.float32))
    calibration, _, cv, _ = fit_on_real(synthetic, ood, Scored(r_logits, embedding), r_y, val, v_y)
    weights = pooled_weights((2000, 90), (1 - REAL_SHARE, REAL_SHARE))
    expected = fit_temperature(np.concatenate([v_logits, r_logits]), np.concatenate([v_y, r_y]), weights=weights)
    assert calibration["temperature"] == pytest.approx(expected, abs=1e-4)
    synthetic_alone, real_alone = fit_temperature(v_logits, v_y), fit_temperature(r_logits, r_y)
    assert calibration["real_only_temperature"] == pytest.approx(real_alone, abs=1e-4)
    # the 90 real documents pull the fit as hard as the 2000 synthetic pages, neither all the way
    assert synthetic_alone + 0.3 < calibration["temperature"] < real_alone - 0.3
    assert "synthetic validation layouts (n=2000)" in calibration["fitted_on"] and "n=90" in calibration["fitted_on"]
    assert (cv.argmax(1) == r_logits.argmax(1)).all() and len(set(np.round(cv.max(1), 4))) > 1  # per-fold fits
    assert calibration["pooled"] and "within" in calibration["pooling_rule"]

    # a model far less accurate on the real documents than on the synthetic ones is calibrated on the real alone
    bad_logits, bad_y = pages(90, 0.3)
    calibration, _, cv, _ = fit_on_real(synthetic, ood, Scored(bad_logits, embedding), bad_y, val, v_y)
    assert not calibration["pooled"] and "not pooled" in calibration["fitted_on"]
    assert calibration["temperature"] == pytest.approx(fit_temperature(bad_logits, bad_y), abs=1e-4)
    assert calibration["temperature"] == calibration["real_only_temperature"]
    assert abs(calibrate(cv, calibration).max(axis=1).mean() - 0.3) < 0.1  # honest on the real documents
