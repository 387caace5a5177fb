"""`make models`: data → v2.3, lite, v2.4 → calibration, OOD, metrics → ONNX + manifest + MODEL_CARD."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from doctriage_train import LABELS, OTHER
from doctriage_train.crossfit import Block, HeadConfig, apply_head, cross_fit, fit_head
from doctriage_train.dataset import SPEC, DataConfig, Dataset, build
from doctriage_train.export import FeatureNorm, export_fusion, export_image, latency_ms
from doctriage_train.generator import UNSEEN_GENRES
from doctriage_train.lexicon import write as write_lexicon
from doctriage_train.modelcard import write_model_card
from doctriage_train.nets import doc_cnn, lite_cnn
from doctriage_train.realdocs import group_folds
from doctriage_train.train import column_scale, predict_image, train_image
from sidecar.decision.decide import Thresholds, decide
from sidecar.domain import PREPROCESSING_VERSION, Prediction
from sidecar.models.calibration import (
    DRIFT_DEFINITIONS,
    DRIFT_FEATURES,
    calibrate,
    expected_calibration_error,
    fit_mahalanobis,
    fit_temperature,
    histogram,
    ood_score,
    pooled_weights,
)
from sidecar.models.embedder import TextEmbedder, locate
from sidecar.models.image_encoder import ImageEncoder
from sidecar.models.lexicon import Lexicon
from sidecar.models.manifest import (
    Calibration,
    CreatedBy,
    DecisionDefaults,
    DriftReference,
    EmbeddingInput,
    ImageFeaturesInput,
    ImageInput,
    Inputs,
    LexiconInput,
    Manifest,
    Ood,
    Outputs,
    OutputSpec,
    TextInput,
)
from sidecar.models.runtime import text_rows
from sidecar.texthash import DEFAULT_DIM, HASHING_SPEC
from sidecar.tools.evaluation import Result, evaluate

Array = npt.NDArray[np.float32]
THRESHOLDS = Thresholds(accept=0.85, review_below=0.60)
OOD_QUANTILE = 0.95
# The OOD cut refitted on real documents (fit_on_real): stranger than this share of real in-scope pages.
REAL_OOD_QUANTILE = 0.8
# fit_on_oof (v2.4, which learns from real documents): the OOD cut is this quantile of the in-scope real
# documents' scores, the same share the synthetic cut keeps (OOD_QUANTILE); the acceptance rule's own
# confidence cut does the rest. At 0.8, the cut alone would send a fifth of them to review.
OOF_OOD_QUANTILE = 0.95
# fit_on_real: the real documents' share of the pooled temperature NLL (the synthetic validation's: the rest).
REAL_SHARE = 0.5
# fit_on_real pools the two sets only when the model is about as accurate on both (at most this far apart):
# one temperature cannot suit a model right 80 % of the time on one set and 25 % on the other.
POOL_MAX_ACCURACY_GAP = 0.15
DRIFT_EDGES: dict[str, list[float]] = {
    "brightness": [float(v) for v in np.linspace(0, 256, 17)],
    "contrast": [float(v) for v in np.linspace(0, 128, 17)],
    "sharpness": [0, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, 1e7],
    "aspect": [0.2, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 2.0, 3.0, 10.0],
    "text_length": [0, 1, 50, 200, 500, 1000, 2000, 4000, 8000, 1e7],
    "confidence": [float(v) for v in np.linspace(0, 1, 21)],
}


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


def decisions(
    probs: npt.NDArray[np.float64], ood: npt.NDArray[np.float64], cuts: npt.NDArray[np.float64]
) -> list[tuple[int, float, str]]:
    """(predicted index, confidence, decision name) per row, through the sidecar's own decide();
    `cuts`: each row's OOD threshold."""
    out = []
    for row, score, cut in zip(probs, ood, cuts, strict=True):
        best = int(np.argmax(row))
        pred = Prediction(
            label=LABELS[best],
            confidence=float(row[best]),
            scores={},
            model_name="",
            model_version="",
            ood_score=float(score),
            is_ood=bool(score > cut),
        )
        out.append((best, float(row[best]), decide(pred, THRESHOLDS).kind.value))
    return out


def metrics(
    y: npt.NDArray[np.int64],
    scored: Scored,
    calibration: dict[str, Any],
    ood: dict[str, Any],
    ood_cuts: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]:
    """`ood_cuts`: per-row OOD thresholds (cross-validated ones) instead of the manifest's."""
    probs = calibrate(scored.logits, calibration)
    scores = ood_score(scored.logits, scored.embedding, ood)
    cuts = ood_cuts if ood_cuts is not None else np.full(len(scores), float(ood["threshold"]))
    dec = decisions(probs, scores, cuts)
    results: list[Result] = [(LABELS[t], LABELS[p], c, d, {}) for t, (p, c, d) in zip(y.tolist(), dec, strict=True)]
    rep = evaluate(results, labels=LABELS)
    keep = (
        "documents",
        "accuracy",
        "accuracy_ci95",
        "auto_accept_coverage",
        "in_scope_coverage",
        "silent_failure_rate",
        "review_rate",
        "other_documents",
        "other_accepted_rate",
        "ece",
        "accepted_accuracy",
    )
    out = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rep.items() if k in keep}
    out["accuracy_ci95"] = [round(v, 4) for v in rep["accuracy_ci95"]]
    out["ood_flagged_rate"] = round(float((scores > cuts).mean()), 4) if len(scores) else 0.0
    out["per_class_recall"] = {k: round(float(v["recall"]), 3) for k, v in rep["per_class"].items()}
    out["confusion_matrix"] = rep["confusion_matrix"]
    return out


def fit_calibration_and_ood(
    train: Scored, y_train: npt.NDArray[np.int64], val: Scored, y_val: npt.NDArray[np.int64]
) -> tuple[dict[str, Any], dict[str, Any]]:
    t = fit_temperature(val.logits, y_val)
    calibration = {
        "method": "temperature",
        "temperature": round(t, 5),
        "fitted_on": f"synthetic validation layouts (n={len(y_val)})",
    }
    fit = fit_mahalanobis(train.embedding, y_train, len(LABELS))
    ood: dict[str, Any] = {
        "method": "mahalanobis_diag",
        "formula": fit["formula"],
        "means": np.round(fit["means"], 5).astype(float).tolist(),
        "var": np.round(fit["var"], 6).astype(float).tolist(),
    }
    in_dist = ood_score(val.logits, val.embedding, ood)
    ood["threshold"] = round(float(np.quantile(in_dist, OOD_QUANTILE)), 5)
    ood["threshold_rule"] = f"{OOD_QUANTILE:.0%} quantile of the score on the synthetic validation layouts"
    return calibration, ood


def fit_on_real(
    calibration: dict[str, Any],
    ood: dict[str, Any],
    real: Scored,
    y: npt.NDArray[np.int64],
    val: Scored | None = None,
    y_val: npt.NDArray[np.int64] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Any], Array, npt.NDArray[np.float64]]:
    """The temperature and the OOD cut refitted with the real documents.

    Temperature: synthetic validation pages (`val`) are cleaner than real uploads, and their temperature
    leaves real answers over-confident (ECE ~0.2-0.4); the real documents alone are few (~90), and their
    temperature, pulled up by a handful of confident mistakes, leaves the synthetic held-out pages
    under-confident. The temperature minimizes the NLL of both sets pooled, each
    carrying half of it (REAL_SHARE) whatever its size, when the model is about as accurate on both
    (POOL_MAX_ACCURACY_GAP). Otherwise (the image-only models: ~80 % right on synthetic pages, ~25 % on
    real documents) or without `val`, the real documents' alone: pooled, such a model would be left
    over-confident on the documents it will actually see.

    OOD cut: the synthetic 95 % quantile flags about half the real documents of known types as out of
    distribution (with no more of the wrong answers among them); the cut becomes the REAL_OOD_QUANTILE
    quantile of the real in-scope documents' scores. The synthetic values stay beside the new ones.

    Returns the calibration, the OOD parameters and, for honest reporting, each real document's logits
    rescaled and its OOD cut as fitted without its fold (`folds`-fold cross-validation, stratified by
    label; the synthetic set stays in every fold's fit)."""
    scores = ood_score(real.logits, real.embedding, ood)
    in_scope = y != OTHER
    v_logits = val.logits if val is not None else np.zeros((0, real.logits.shape[1]), np.float32)
    v_y = y_val if y_val is not None else np.zeros(0, np.int64)
    real_accuracy = float((real.logits.argmax(1) == y).mean())
    val_accuracy = float((v_logits.argmax(1) == v_y).mean()) if len(v_y) else None
    pooled = val_accuracy is not None and abs(val_accuracy - real_accuracy) <= POOL_MAX_ACCURACY_GAP
    if not pooled:
        v_logits, v_y = v_logits[:0], v_y[:0]

    def temperature(rows: npt.NDArray[np.bool_]) -> float:
        weights = pooled_weights((len(v_y), int(rows.sum())), (1.0 - REAL_SHARE, REAL_SHARE))
        logits = np.concatenate([v_logits, real.logits[rows]])
        return fit_temperature(logits, np.concatenate([v_y, y[rows]]), weights=weights)

    t = temperature(np.ones(len(y), bool))
    t_real = fit_temperature(real.logits, y) if pooled else t
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), np.int64)
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        fold[idx] = np.arange(len(idx)) % folds
    scaled = np.array(real.logits, np.float32, copy=True)
    cuts = np.zeros(len(y), np.float64)
    for k in range(folds):
        out = fold == k
        scaled[out] = real.logits[out] * (t / temperature(~out))
        cuts[out] = np.quantile(scores[~out & in_scope], REAL_OOD_QUANTILE)
    where = f"real documents (../shared/real-docs, n={len(y)}, OCR where a page has no text layer)"
    gap = (
        f"accuracy {val_accuracy:.3f} on the synthetic validation layouts against {real_accuracy:.3f} on the real "
        f"documents: {'within' if pooled else 'more than'} {POOL_MAX_ACCURACY_GAP} apart"
        if val_accuracy is not None
        else None
    )
    fitted_on = (
        f"{calibration['fitted_on']} and {where} pooled, the real documents carrying {REAL_SHARE:.0%} of the NLL"
        if pooled
        else f"{where} alone" + (f" ({gap}, not pooled)" if gap else "")
    )
    calibration = {
        "method": "temperature",
        "temperature": round(t, 5),
        "fitted_on": fitted_on,
        "synthetic_temperature": calibration["temperature"],
        "synthetic_fitted_on": calibration["fitted_on"],
        "real_only_temperature": round(t_real, 5),
        "pooled": pooled,
    }
    if gap:
        calibration["pooling_rule"] = gap
    ood = {
        **ood,
        "threshold": round(float(np.quantile(scores[in_scope], REAL_OOD_QUANTILE)), 5),
        "threshold_rule": f"{REAL_OOD_QUANTILE:.0%} quantile of the score on the in-scope {where}",
        "synthetic_threshold": ood["threshold"],
        "synthetic_threshold_rule": ood["threshold_rule"],
    }
    return calibration, ood, scaled, cuts


def drift_reference(ds: Dataset, idx: npt.NDArray[np.intp], confidence: npt.NDArray[np.float64]) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for j, name in enumerate(DRIFT_FEATURES):
        features[name] = {**histogram(ds.drift[idx, j], DRIFT_EDGES[name]), "definition": DRIFT_DEFINITIONS[name]}
    features["confidence"] = {
        **histogram(confidence, DRIFT_EDGES["confidence"]),
        "definition": DRIFT_DEFINITIONS["confidence"],
    }
    return {
        "computed_on": f"synthetic validation split (n={len(idx)}), clean and degraded; "
        "features by sidecar.pipeline.features.tracked_tuple",
        "features": features,
    }


def _groups(ds: Dataset, idx: npt.NDArray[np.intp]) -> dict[str, npt.NDArray[np.intp]]:
    unseen = np.isin(ds.genre[idx], UNSEEN_GENRES)
    clean = (ds.variant[idx] == "pdf") & ~unseen
    return {
        "clean": idx[clean],
        "degraded": idx[(ds.variant[idx] != "pdf") & ~unseen],
        "unseen_types": idx[unseen],
        "all": idx,
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _base_manifest(
    name: str, version: str, embed_dim: int, cfg: TrainConfig, data_cfg: DataConfig, ds: Dataset
) -> Manifest:
    return Manifest(
        name=name,
        version=version,
        labels=tuple(LABELS),
        inputs=Inputs(
            image=ImageInput(
                height=SPEC.height,
                width=SPEC.width,
                mean=SPEC.mean,
                std=SPEC.std,
                autocontrast=SPEC.autocontrast,
                crop_page=SPEC.crop_page,
                preprocessing_version=PREPROCESSING_VERSION,
                dtype="float32",
                shape=("N", 1, SPEC.height, SPEC.width),
            ),
        ),
        outputs=Outputs(
            logits=OutputSpec(shape=("N", len(LABELS)), note="raw, uncalibrated: apply `calibration`"),
            embedding=OutputSpec(shape=("N", embed_dim), note="penultimate features, used by `ood`"),
        ),
        needs_text=False,
        decision_defaults=DecisionDefaults(accept=THRESHOLDS.accept, review_below=THRESHOLDS.review_below),
        training_data_digest=ds.digest,
        training_data_config=dict(data_cfg.__dict__),
        created_by=CreatedBy(
            script=f"python -m doctriage_train all --seed {cfg.seed}  (make models)",
            seed=cfg.seed,
            torch=torch.__version__,
            train_config=dict(cfg.__dict__),
        ),
    )


def _trained(
    base: Manifest,
    calibration: dict[str, Any],
    ood: dict[str, Any],
    drift: dict[str, Any],
    quality: dict[str, Any],
    parameters: int,
    parity: float,
    onnx: Path,
) -> Manifest:
    """`base` with what training measured: the fitted calibration and OOD cut, the drift reference,
    the quality report, and the exported graph's size, parity and digest."""
    return replace(
        base,
        calibration=Calibration.from_dict(calibration),
        ood=Ood.from_dict(ood),
        drift_reference=DriftReference.from_dict(drift),
        quality=quality,
        parameters=parameters,
        onnx_parity_max_abs=parity,
        model_sha256=sha256(onnx),
    )


def run(
    data_dir: Path,
    models_dir: Path,
    cfg: TrainConfig,
    data_cfg: DataConfig,
    real: Any = None,
    workers: int = 2,
    log: Callable[[str], None] = print,
    rebuild: bool = False,
    photos: Any = None,
    rule_file: Path | None = None,
) -> dict[str, Any]:
    # Never more threads than an inherited OMP_THREAD_LIMIT allows: asking OpenMP for more stalls.
    limit = int(os.environ.get("OMP_THREAD_LIMIT") or 0) or max(1, workers)
    torch.set_num_threads(max(1, min(workers, limit)))
    t0 = time.time()
    meta = data_dir / "meta.json"
    if rebuild or not meta.is_file() or json.loads(meta.read_text()).get("digest") != data_cfg.digest():
        log(f"generating data ({data_cfg}) ...")
        build(data_cfg, data_dir, workers=workers)
    ds = Dataset.load(data_dir)
    tr, va, te = ds.where("train"), ds.where("val"), ds.where("test")
    log(f"data: train {len(tr)} val {len(va)} test {len(te)} ({time.time() - t0:.0f}s)")
    summary: dict[str, Any] = {}

    # ---- image models: v2.3 and lite ----
    # Each model's (logits, embedding) on every page and on the real documents: v2.4 builds on 2.3's.
    outputs: dict[str, tuple[tuple[Array, Array], tuple[Array, Array] | None]] = {}
    # The image-only models never train on real documents; their temperature and OOD cut are fitted on
    # the held-out validation set (../shared/real-docs) alone, as before v2.4 learnt from real documents.
    held_out = np.flatnonzero(np.array(real.sets) == "real-docs") if real is not None else np.zeros(0, np.intp)
    photo_image: tuple[Array, Array] | None = None
    for name, version, factory, epochs in (
        ("doc-classifier", "2.3", doc_cnn, cfg.epochs),
        ("doc-classifier-lite", "1.0", lite_cnn, cfg.lite_epochs),
    ):
        log(f"training {name} {version} ({epochs} epochs) ...")
        model = train_image(factory(len(LABELS)), ds.x[tr], ds.y[tr], epochs, cfg.seed, log=log)
        logits, emb = predict_image(model, ds.x)
        scored_all = Scored(logits, emb)

        def part(i: npt.NDArray[np.intp], s: Scored = scored_all) -> Scored:
            return Scored(s.logits[i], s.embedding[i])

        calibration, ood = fit_calibration_and_ood(part(tr), ds.y[tr], part(va), ds.y[va])
        quality: dict[str, Any] = {}
        real_all = predict_image(model, real.x.astype(np.float16)) if real is not None else None
        if real_all is not None and len(held_out):
            real_out = (real_all[0][held_out], real_all[1][held_out])
            synthetic, synthetic_ood = calibration, ood
            calibration, ood, real_cv, cuts = fit_on_real(
                calibration, ood, Scored(*real_out), real.y[held_out], part(va), ds.y[va]
            )
            quality["real_docs"] = metrics(real.y[held_out], Scored(real_cv, real_out[1]), calibration, ood, cuts)
            quality["synthetic_test_heldout_layouts_synthetic_temperature"] = _image_groups(
                ds, te, scored_all, synthetic, synthetic_ood
            )
        quality["synthetic_test_heldout_layouts"] = _image_groups(ds, te, scored_all, calibration, ood)
        val_probs = calibate_conf(scored_all.logits[va], calibration)
        quality["val_ece_before_calibration"] = round(
            expected_calibration_error(
                calibate_conf(scored_all.logits[va], None), ds.y[va] == scored_all.logits[va].argmax(1)
            ),
            4,
        )
        target = models_dir / name / version
        target.mkdir(parents=True, exist_ok=True)
        diff = export_image(model, target / "model.onnx")
        lat = latency_ms(target / "model.onnx", None)
        quality["cpu_latency"] = lat
        manifest = _trained(
            _base_manifest(name, version, model.embed_dim, cfg, data_cfg, ds),
            calibration,
            ood,
            drift_reference(ds, va, val_probs),
            quality,
            int(sum(p.numel() for p in model.parameters())),
            diff,
            target / "model.onnx",
        )
        manifest.write(target / "manifest.json")
        write_model_card(target, manifest)
        outputs[name] = ((logits, emb), real_all)
        if name == "doc-classifier" and photos is not None:
            photo_image = predict_image(model, photos.x.astype(np.float16))
        summary[f"{name}/{version}"] = quality
        log(f"{name} {version}: {json.dumps(_short(quality))} ({time.time() - t0:.0f}s)")

    # ---- v2.4: v2.3 + a text head ----
    image, real_image = outputs["doc-classifier"]
    summary["doc-classifier/2.4"] = train_v24(
        ds,
        image,
        models_dir,
        cfg,
        data_cfg,
        real=real,
        real_image=real_image,
        workers=workers,
        log=log,
        t0=t0,
        photos=photos,
        photo_image=photo_image,
        rule_file=rule_file,
    )
    return summary


def train_v24(
    ds: Dataset,
    image: tuple[Array, Array],
    models_dir: Path,
    cfg: TrainConfig,
    data_cfg: DataConfig,
    real: Any = None,
    real_image: tuple[Array, Array] | None = None,
    workers: int = 2,
    log: Callable[[str], None] = print,
    t0: float | None = None,
    photos: Any = None,
    photo_image: tuple[Array, Array] | None = None,
    rule_file: Path | None = None,
) -> dict[str, Any]:
    """doc-classifier 2.4 = the exported v2.3 graph + one linear head (late fusion):

        logits = image_weight * v2.3 logits + [text row * scale | image-encoder feature row] @ W + b

    `image` is v2.3's (logits, embedding) for every page of `ds`. The text row: hashed tokens, the
    keyword lexicon, the pretrained sentence encoder; the image-encoder row: the frozen pretrained
    image encoder's pooled features (sidecar.models.image_encoder), standardised and L2-normalised.

    With real documents (`real`, and `photos`: simulated phone photos of them), the head learns from
    them as well as from the synthetic training pages (each set carries its `cfg.*_share` of the loss),
    cross-fitted by source repository (crossfit.py): the temperature, the OOD cut, the quality figures
    and the acceptance rule written to `rule_file` all come from out-of-fold scores. Without them, the
    head is trained and calibrated on synthetic pages alone.

    A head, not a jointly trained fusion network: such a network leans on v2.3's features, which
    separate synthetic pages almost perfectly and real ones poorly; the head reads v2.3's logits only at
    `image_weight`, and the frozen encoder stands in for the image side (training/README.md).
    """
    t0 = time.time() if t0 is None else t0
    log("training doc-classifier 2.4 (v2.3 + text and image-encoder head) ...")
    tr, va, te = ds.where("train"), ds.where("val"), ds.where("test")
    image_logits, image_emb = image
    target = models_dir / "doc-classifier" / "2.4"
    target.mkdir(parents=True, exist_ok=True)
    text_spec = TextInput.from_dict({**HASHING_SPEC, "dim": cfg.text_dim, "hash_dim": cfg.text_dim})
    lexicon = None
    if cfg.lexicon:
        # The keyword lexicon ships with the model (its lexicon.json), the serving code reads it from there.
        write_lexicon(target / "lexicon.json")
        lexicon = Lexicon.load(target / "lexicon.json")
        text_spec = replace(
            text_spec,
            lexicon=LexiconInput(
                file="lexicon.json",
                dim=lexicon.dim,
                columns=f"[{cfg.text_dim}:{cfg.text_dim + lexicon.dim}]",
                features="per group: log1p(matches), log1p(distinct terms), term in the title area; then "
                "log1p(words)/8, numeric share, log1p(MRZ matches), has MRZ (sidecar.models.lexicon)",
            ),
        )
    lex_dim = lexicon.dim if lexicon is not None else 0
    embedder = None
    if cfg.embedder:
        embedder = TextEmbedder(locate(models_dir, cfg.embedder), intra_op_threads=max(1, workers))
        embedder.verify()
        start = cfg.text_dim + lex_dim
        text_spec = replace(
            text_spec,
            embedding=EmbeddingInput(
                embedder=cfg.embedder,
                dim=embedder.dim,
                max_tokens=embedder.max_tokens,
                columns=f"[{start}:{start + embedder.dim}]",
                note="L2-normalised mean-pooled sentence embedding (sidecar.models.embedder)",
            ),
        )
    width = cfg.text_dim + lex_dim + (embedder.dim if embedder is not None else 0)
    text_spec = replace(text_spec, dim=width)
    scale = column_scale(width, cfg.text_dim, lex_dim, cfg.hash_scale, cfg.emb_scale)
    encoder = None
    if cfg.image_encoder:
        encoder = ImageEncoder(locate(models_dir, cfg.image_encoder), intra_op_threads=max(1, workers))
        encoder.verify()

    def rows(texts: Sequence[str]) -> Array:
        return text_rows(list(texts), text_spec, width, embedder, lexicon)

    def features(x: npt.NDArray[Any]) -> Array | None:
        if encoder is None:
            return None
        return (
            np.concatenate([encoder.encode(x[i : i + 256].astype(np.float32)) for i in range(0, len(x), 256)])
            if len(x)
            else np.zeros((0, encoder.dim), np.float32)
        )

    text_in = [o or t for t, o in zip(ds.text, ds.ocr, strict=True)]  # OCR read-back where made, else text layer
    t_text = time.time()
    t_all = rows(text_in)
    f_syn = features(ds.x)
    log(f"text and image features for {len(text_in)} pages ({time.time() - t_text:.0f}s)")
    hc = HeadConfig(len(LABELS), scale, cfg.text_dim, cfg.image_weight, cfg.text_l2, cfg.feature_scale)
    synthetic = Block(ds.y, image_logits, image_emb, t_all, f_syn)
    shares = (cfg.synthetic_share, cfg.real_share, cfg.photo_share)
    real_block = photo_block = None
    oof_real = oof_photos = None
    folds = None
    if real is not None and real_image is not None:
        real_block = Block(real.y, real_image[0], real_image[1], rows(real.served_text()), features(real.x))
        if photos is not None and photo_image is not None:
            photo_block = Block(
                photos.y, photo_image[0], photo_image[1], rows(photos.served_text()), features(photos.x)
            )
        folds = group_folds(real.groups(), real.y, cfg.real_folds, cfg.seed)
        oof_real, oof_photos = cross_fit(
            synthetic.take(tr),
            real_block,
            photo_block,
            photos.origin if photo_block is not None else None,
            folds,
            shares,
            hc,
        )
        log(f"cross-fitted {cfg.real_folds} folds ({time.time() - t0:.0f}s)")
    blocks = [synthetic.take(tr)] + [b for b in (real_block, photo_block) if b is not None]
    head = fit_head(blocks, shares[: len(blocks)], hc)

    def fuse(block: Block) -> Scored:
        return Scored(*apply_head(block, head, hc))

    f_all = fuse(synthetic)
    f_none = fuse(Block(ds.y, image_logits, image_emb, np.zeros_like(t_all), f_syn))  # the same pages, no text

    def both(i: npt.NDArray[np.intp]) -> Scored:
        return Scored(
            np.concatenate([f_all.logits[i], f_none.logits[i]]),
            np.concatenate([f_all.embedding[i], f_none.embedding[i]]),
        )

    calibration, ood = fit_calibration_and_ood(
        both(tr), np.concatenate([ds.y[tr], ds.y[tr]]), both(va), np.concatenate([ds.y[va], ds.y[va]])
    )
    quality: dict[str, Any] = {}
    rule_summary: dict[str, Any] | None = None
    if real_block is not None and oof_real is not None:
        synthetic_cal, synthetic_ood = calibration, ood
        served = fuse(real_block)
        real_oof = Scored(oof_real, served.embedding)
        photo_oof = (
            Scored(oof_photos, fuse(photo_block).embedding)
            if photo_block is not None and oof_photos is not None
            else None
        )
        calibration, ood = fit_on_oof(synthetic_cal, ood, real_oof, real.y, photo_oof, photos.y if photos else None)
        quality["real_docs_crossfit"] = metrics(real.y, real_oof, calibration, ood)
        sets = np.array(real.sets)
        for name in sorted(set(real.sets)):
            i = np.flatnonzero(sets == name)
            quality[f"real_docs_crossfit_{name.replace('-', '_')}"] = metrics(
                real.y[i], Scored(real_oof.logits[i], real_oof.embedding[i]), calibration, ood
            )
        if photo_oof is not None:
            quality["real_photos_crossfit"] = metrics(photos.y, photo_oof, calibration, ood)
        quality["crossfit"] = {
            "folds": cfg.real_folds,
            "grouped_by": "source repository",
            "documents": len(real.y),
            "repositories": len(set(real.repos)),
            "photos_per_document": cfg.photo_shots,
            "loss_shares": {"synthetic": shares[0], "real": shares[1], "photos": shares[2]},
            "not_decodable": len(real.failed),
        }
        quality["synthetic_test_heldout_layouts_synthetic_temperature"] = _v24_groups(
            ds, te, f_all, f_none, synthetic_cal, synthetic_ood
        )
        if rule_file is not None:
            rule_summary = prove_rule(real, real_oof, photos, photo_oof, calibration, ood, rule_file, log)
            quality["acceptance_rule"] = rule_summary
    quality["synthetic_test_heldout_layouts"] = _v24_groups(ds, te, f_all, f_none, calibration, ood)
    quality["note"] = (
        "real_docs_crossfit / real_photos_crossfit: every real document (and each simulated phone photo of "
        "it) scored by a head that never saw its source repository, at the default bands; clean = "
        "born-digital PDFs with their text layer; degraded = synthetic photos and scans with the text the "
        "sidecar's OCR reads back from them (none when it reads nothing), as served; degraded_image_only = "
        "the same photos and scans with no text"
    )
    norm = None
    if head.feature_mean is not None and head.feature_std is not None:
        norm = FeatureNorm(head.feature_mean, head.feature_std, cfg.feature_scale)
    diff = export_fusion(
        models_dir / "doc-classifier" / "2.3" / "model.onnx",
        target / "model.onnx",
        head.weight,
        head.bias,
        scale,
        cfg.text_dim,
        cfg.image_weight,
        norm,
    )
    quality["cpu_latency"] = latency_ms(target / "model.onnx", width, feature_dim=encoder.dim if encoder else None)
    if encoder is not None:
        quality["image_encoder_cpu_latency"] = encoder_latency_ms(encoder)
    base = _base_manifest("doc-classifier", "2.4", f_all.embedding.shape[1], cfg, data_cfg, ds)
    text_input = replace(
        text_spec,
        dtype="float32",
        shape=("N", width),
        function="sidecar.models.runtime.text_rows(texts, spec, dim, embedder, lexicon)",
        source="PDF text layer, else OCR; an all-zero row = no text",
    )
    image_features = None
    if encoder is not None and cfg.image_encoder:
        image_features = ImageFeaturesInput(
            encoder=cfg.image_encoder,
            dim=encoder.dim,
            dtype="float32",
            shape=("N", encoder.dim),
            source="the image encoder's `features` of the `image` input (sidecar.models.image_encoder), "
            "computed by the runtime; the graph standardises and L2-normalises them",
            scale=cfg.feature_scale,
        )
    base = replace(
        base,
        inputs=replace(base.inputs, text=text_input, image_features=image_features),
        needs_text=True,
        architecture=(
            f"late fusion: logits = {cfg.image_weight} x doc-classifier 2.3 logits + linear([text row: hashed "
            f"columns x {cfg.hash_scale}, lexicon x 1, sentence embedding x {cfg.emb_scale}"
            + (f" | image-encoder features standardised, L2-normalised, x {cfg.feature_scale}" if encoder else "")
            + "]); embedding = [2.3 embedding | lexicon | sentence embedding]; the image part is v2.3's graph, "
            "unchanged"
        ),
    )
    val_conf = calibate_conf(both(va).logits, calibration)
    v23 = Manifest.load(models_dir / "doc-classifier" / "2.3" / "manifest.json")
    manifest = _trained(
        base,
        calibration,
        ood,
        drift_reference(ds, va, val_conf),
        quality,
        (v23.parameters or 0) + int(head.weight.size + head.bias.size),
        diff,
        target / "model.onnx",
    )
    manifest.write(target / "manifest.json")
    write_model_card(target, manifest)
    log(f"doc-classifier 2.4: {json.dumps(_short(quality))} ({time.time() - t0:.0f}s)")
    return quality


def fit_on_oof(
    synthetic: dict[str, Any],
    ood: dict[str, Any],
    real: Scored,
    y: npt.NDArray[np.int64],
    photos: Scored | None,
    y_photos: npt.NDArray[np.int64] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """v2.4's temperature and OOD cut from the real documents' out-of-fold scores: the temperature
    minimises the NLL of the documents as published and of their simulated photos, each set carrying
    half of it; the OOD cut is the OOF_OOD_QUANTILE quantile of the in-scope documents' scores (the
    score itself is fitted on synthetic training pages only, so it is out-of-sample for every real one)."""
    logits, labels, sizes = [real.logits], [y], [len(y)]
    if photos is not None and y_photos is not None:
        logits.append(photos.logits)
        labels.append(y_photos)
        sizes.append(len(y_photos))
    weights = pooled_weights(tuple(sizes), tuple([1.0 / len(sizes)] * len(sizes)))
    t = fit_temperature(np.concatenate(logits), np.concatenate(labels), weights=weights)
    where = f"out-of-fold scores of the real documents (n={len(y)}" + (
        f") and of their simulated phone photos (n={sizes[1]}), each set carrying half of the NLL"
        if len(sizes) > 1
        else ")"
    )
    calibration = {
        "method": "temperature",
        "temperature": round(t, 5),
        "fitted_on": where,
        "synthetic_temperature": synthetic["temperature"],
        "synthetic_fitted_on": synthetic["fitted_on"],
    }
    scores = ood_score(real.logits, real.embedding, ood)
    ood = {
        **ood,
        "threshold": round(float(np.quantile(scores[y != OTHER], OOF_OOD_QUANTILE)), 5),
        "threshold_rule": f"{OOF_OOD_QUANTILE:.0%} quantile of the score of the in-scope real documents "
        f"(n={int((y != OTHER).sum())}); the score's parameters are fitted on synthetic training pages only",
        "synthetic_threshold": ood["threshold"],
        "synthetic_threshold_rule": ood["threshold_rule"],
    }
    return calibration, ood


def _records(docs: Any, scored: Scored, calibration: dict[str, Any], ood: dict[str, Any]) -> list[Any]:
    """Each document's CalibrationRecord as the sidecar would decide on it: calibrated confidence,
    OOD score, and the business rules of the predicted label on the text serving reads."""
    from sidecar.config import RulesSettings
    from sidecar.pipeline.rules import DocumentFacts, RuleBook
    from sidecar.risk.ltt import CalibrationRecord

    book = RuleBook.load(RulesSettings().path)
    probs = calibrate(scored.logits, calibration)
    scores = ood_score(scored.logits, scored.embedding, ood)
    out = []
    for i, text in enumerate(docs.served_text()):
        best = int(np.argmax(probs[i]))
        label = LABELS[best]
        passed = None
        if book.has_rules(label):
            facts = DocumentFacts(text or None, docs.page_count[i], docs.aspect[i])
            findings = book.evaluate(label, facts)
            passed = all(f.passed for f in findings) if findings else None
        out.append(
            CalibrationRecord(LABELS[int(docs.y[i])], label, float(probs[i, best]), float(scores[i]), None, passed)
        )
    return out


# The α values tried for v2.4's acceptance rule, smallest first; the smallest one proven is shipped.
RULE_ALPHAS = (0.005, 0.01, 0.02, 0.03, 0.05)
RULE_DELTA = 0.10


def prove_rule(
    real: Any,
    real_oof: Scored,
    photos: Any,
    photo_oof: Scored | None,
    calibration: dict[str, Any],
    ood: dict[str, Any],
    rule_file: Path,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """v2.4's acceptance rule (Learn-then-Test) from the out-of-fold scores, one document one draw
    (ltt.fit_rule_per_document: a document fails when it, or any simulated photo of it, would be
    wrongly accepted), for each α of RULE_ALPHAS; the smallest α proven is written to `rule_file`
    (the other versions' rules there are kept). Returns what each α gives on the documents as
    published and on the photos."""
    from sidecar.risk.ltt import evaluate, fit_rule_per_document
    from sidecar.risk.rulefile import write_config

    clean = _records(real, real_oof, calibration, ood)
    shots = _records(photos, photo_oof, calibration, ood) if photos is not None and photo_oof is not None else []
    versions: list[list[Any]] = [[r] for r in clean]
    for j, rec in enumerate(shots):
        versions[int(photos.origin[j])].append(rec)
    in_scope = [r for r in clean if r.true_label != "other"]
    shots_in = [r for r in shots if r.true_label != "other"]
    tried: dict[str, Any] = {}
    chosen = None
    for alpha in RULE_ALPHAS:
        rule = fit_rule_per_document(
            versions,
            alpha,
            RULE_DELTA,
            ood_threshold=float(ood["threshold"]),
            gate_options=((False, False), (False, True)),
            model_version="2.4",
        )
        row: dict[str, Any] = {"proven": rule.proven, "rule": rule.describe()}
        for name, recs, scope in (("clean", clean, in_scope), ("photos", shots, shots_in)):
            if not recs:
                continue
            ev = evaluate(rule, recs)
            row[name] = {
                "documents": len(recs),
                "accepted": int(ev["accepted"]),
                "wrong_and_accepted": int(ev["silent_failures"]),
                "silent_failure_rate": round(ev["silent_failure_rate"], 4),
                "coverage": round(ev["coverage"], 4),
                "in_scope_coverage": round(evaluate(rule, scope)["coverage"], 4) if scope else 0.0,
                "other_accepted": int(evaluate(rule, [r for r in recs if r.true_label == "other"])["accepted"]),
            }
        tried[f"{alpha:g}"] = row
        log(f"  rule at alpha {alpha:g}: {json.dumps(row)}")
        if chosen is None and rule.proven:
            chosen = (alpha, rule)
    summary: dict[str, Any] = {
        "delta": RULE_DELTA,
        "unit": "document (as published or any simulated photo)",
        "by_alpha": tried,
    }
    if chosen is not None:
        alpha, rule = chosen
        source = {
            "mode": "crossfit",
            "model": "doc-classifier",
            "dir": "../shared/real-train + ../shared/real-docs",
            "files": len(clean),
            "photos": len(shots),
            "folds": "by source repository (make models)",
        }
        write_config(rule_file, {"2.4": rule}, 0.01, source)
        summary["shipped_alpha"] = alpha
        log(f"  shipped rule: {rule.describe()}")
    return summary


def encoder_latency_ms(encoder: Any, repeats: int = 20) -> dict[str, float | str]:
    """The image encoder's CPU ms per page at batch 1 (median and best), as serving runs it."""
    from sidecar.models.image_encoder import reference_pages

    page = reference_pages()[1][1:2]
    for _ in range(2):
        encoder.encode(page)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        encoder.encode(page)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "batch1_ms_per_doc": round(float(np.median(times)), 2),
        "batch1_ms_per_doc_min": round(float(np.min(times)), 2),
        "note": "ONNX Runtime CPU, as configured for training (models.intra_op_threads in serving)",
    }


def _image_groups(
    ds: Dataset, te: npt.NDArray[np.intp], scored: Scored, calibration: dict[str, Any], ood: Any
) -> dict[str, Any]:
    """An image model's test groups (clean, degraded, unseen types, all)."""
    return {
        g: metrics(ds.y[i], Scored(scored.logits[i], scored.embedding[i]), calibration, ood)
        for g, i in _groups(ds, te).items()
    }


def _v24_groups(
    ds: Dataset, te: npt.NDArray[np.intp], f_all: Scored, f_none: Scored, calibration: dict[str, Any], ood: Any
) -> dict[str, Any]:
    """v2.4's test groups: every page with its text (text layer or OCR read-back) as served, and the
    photos/scans once more without any text."""
    groups = _groups(ds, te)
    has_ocr = np.array([bool(o) for o in ds.ocr])
    deg = groups["degraded"]

    def m(s: Scored, i: npt.NDArray[np.intp]) -> dict[str, Any]:
        return metrics(ds.y[i], Scored(s.logits[i], s.embedding[i]), calibration, ood)

    return {
        "clean": m(f_all, groups["clean"]),
        "degraded": m(f_all, deg),
        "degraded_with_ocr": m(f_all, deg[has_ocr[deg]]),
        "degraded_image_only": m(f_none, deg),
        "unseen_types": m(f_all, groups["unseen_types"]),
        "all": m(f_all, te),
    }


def onnx_image_outputs(path: Path, x: npt.NDArray[Any], batch: int = 256) -> tuple[Array, Array]:
    """(logits, embedding) of an exported image model: what train_v24 needs, from the shipped v2.3."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    parts = [
        sess.run(["logits", "embedding"], {"image": x[i : i + batch].astype(np.float32)})
        for i in range(0, len(x), batch)
    ]
    return (
        np.concatenate([p[0] for p in parts]).astype(np.float32),
        np.concatenate([p[1] for p in parts]).astype(np.float32),
    )


def calibate_conf(logits: Array, calibration: dict[str, Any] | None) -> npt.NDArray[np.float64]:
    return calibrate(logits, calibration).max(axis=1)  # type: ignore[no-any-return]


def _short(quality: dict[str, Any]) -> dict[str, Any]:
    keys: Sequence[str] = (
        "accuracy",
        "ece",
        "auto_accept_coverage",
        "in_scope_coverage",
        "silent_failure_rate",
        "other_accepted_rate",
    )
    out: dict[str, Any] = {}
    for group, m in quality.get("synthetic_test_heldout_layouts", {}).items():
        out[group] = {k: m[k] for k in keys}
    if "real_docs" in quality:
        out["real_docs"] = {k: quality["real_docs"][k] for k in keys}
    return out


__all__ = ["OTHER", "TrainConfig", "run"]
