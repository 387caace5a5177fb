"""`make models`: data → v2.3, lite, v2.4 → calibration, OOD, metrics → ONNX + manifest + MODEL_CARD.

`run` builds the data when it is not up to date, trains the image models (v2.3 and lite) here, then
v2.4 over v2.3 (fusion.py). The steps: config.py (TrainConfig), calibration.py (temperature, OOD cut),
report.py (metrics), manifest.py (manifest.json), acceptance.py (v2.4's acceptance rule)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from doctriage_train import LABELS
from doctriage_train.calibration import calibate_conf, fit_calibration_and_ood, fit_on_real
from doctriage_train.config import Array, Scored, TrainConfig
from doctriage_train.dataset import DataConfig, Dataset, build
from doctriage_train.export import export_image, latency_ms
from doctriage_train.fusion import train_v24
from doctriage_train.manifest import base_manifest, drift_reference, trained
from doctriage_train.modelcard import write_model_card
from doctriage_train.nets import doc_cnn, lite_cnn
from doctriage_train.report import headline, image_groups, metrics
from doctriage_train.train import predict_image, train_image
from sidecar.models.calibration import expected_calibration_error


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
            quality["synthetic_test_heldout_layouts_synthetic_temperature"] = image_groups(
                ds, te, scored_all, synthetic, synthetic_ood
            )
        quality["synthetic_test_heldout_layouts"] = image_groups(ds, te, scored_all, calibration, ood)
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
        manifest = trained(
            base_manifest(name, version, model.embed_dim, cfg, data_cfg, ds),
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
        log(f"{name} {version}: {json.dumps(headline(quality))} ({time.time() - t0:.0f}s)")

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


__all__ = ["run"]
