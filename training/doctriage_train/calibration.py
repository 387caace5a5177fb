"""The temperature and the OOD cut of each version: fitted on the synthetic validation pages
(`fit_calibration_and_ood`), then refitted with the real documents: the image-only models on the held-out
real documents (`fit_on_real`), v2.4 on the out-of-fold scores of cross-fitting (`fit_on_oof`). The
formulas are the sidecar's own (sidecar.models.calibration): serving computes with what is fitted here."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from doctriage_train import LABELS, OTHER
from doctriage_train.config import Array, Scored
from sidecar.models.calibration import calibrate, fit_mahalanobis, fit_temperature, ood_score, pooled_weights

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


def calibate_conf(logits: Array, calibration: dict[str, Any] | None) -> npt.NDArray[np.float64]:
    return calibrate(logits, calibration).max(axis=1)  # type: ignore[no-any-return]
