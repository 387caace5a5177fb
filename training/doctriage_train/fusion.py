"""doc-classifier 2.4: the exported v2.3 graph plus one linear head over the text row and the pretrained
image encoder's features (`train_v24`), cross-fitted on the real documents when they are there; and
v2.3's outputs read back from its exported graph (`onnx_image_outputs`, for `python -m doctriage_train v24`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from doctriage_train import LABELS
from doctriage_train.acceptance import prove_rule
from doctriage_train.calibration import calibate_conf, fit_calibration_and_ood, fit_on_oof
from doctriage_train.config import Array, Scored, TrainConfig
from doctriage_train.crossfit import Block, HeadConfig, apply_head, cross_fit, fit_head
from doctriage_train.dataset import DataConfig, Dataset
from doctriage_train.export import FeatureNorm, export_fusion, latency_ms
from doctriage_train.lexicon import write as write_lexicon
from doctriage_train.manifest import base_manifest, drift_reference, trained
from doctriage_train.modelcard import write_model_card
from doctriage_train.realdocs import group_folds
from doctriage_train.report import encoder_latency_ms, headline, metrics, v24_groups
from doctriage_train.train import column_scale
from sidecar.models.embedder import TextEmbedder, locate
from sidecar.models.image_encoder import ImageEncoder
from sidecar.models.lexicon import Lexicon
from sidecar.models.manifest import EmbeddingInput, ImageFeaturesInput, LexiconInput, Manifest, TextInput
from sidecar.models.runtime import text_rows
from sidecar.texthash import HASHING_SPEC


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
        quality["synthetic_test_heldout_layouts_synthetic_temperature"] = v24_groups(
            ds, te, f_all, f_none, synthetic_cal, synthetic_ood
        )
        if rule_file is not None:
            rule_summary = prove_rule(real, real_oof, photos, photo_oof, calibration, ood, rule_file, log)
            quality["acceptance_rule"] = rule_summary
    quality["synthetic_test_heldout_layouts"] = v24_groups(ds, te, f_all, f_none, calibration, ood)
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
    base = base_manifest("doc-classifier", "2.4", f_all.embedding.shape[1], cfg, data_cfg, ds)
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
    manifest = trained(
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
    log(f"doc-classifier 2.4: {json.dumps(headline(quality))} ({time.time() - t0:.0f}s)")
    return quality


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
