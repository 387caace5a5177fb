"""MODEL_CARD.md from a manifest: data, intended use, measured results, known limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_ROWS = (
    ("accuracy", "accuracy"),
    ("ece", "ECE"),
    ("auto_accept_coverage", "auto-accept coverage"),
    ("silent_failure_rate", "silent failures (of all)"),
    ("review_rate", "review rate"),
    ("other_accepted_rate", "other accepted"),
    ("ood_flagged_rate", "OOD-flagged"),
)


def _table(groups: dict[str, dict[str, Any]]) -> list[str]:
    names = list(groups)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| documents | " + " | ".join(str(groups[n]["documents"]) for n in names) + " |")
    for key, title in _ROWS:
        lines.append(f"| {title} | " + " | ".join(f"{groups[n].get(key, 0):.3f}" for n in names) + " |")
    lines.append(
        "| accuracy 95% CI | "
        + " | ".join(f"{groups[n]['accuracy_ci95'][0]:.3f}-{groups[n]['accuracy_ci95'][1]:.3f}" for n in names)
        + " |"
    )
    return lines


def write_model_card(target: Path, m: dict[str, Any]) -> Path:
    q = m["quality"]
    groups = dict(q["synthetic_test_heldout_layouts"])
    for key in ("real_docs", "real_docs_with_ocr"):
        if key in q:
            groups[key] = q[key]
    lat = q.get("cpu_latency", {})
    text = m["inputs"].get("text")
    lines = [
        f"# {m['name']} {m['version']}",
        "",
        "Document-type classifier for the DocTriage sidecar. Labels: " + ", ".join(f"`{x}`" for x in m["labels"]) + ".",
        "",
        "## Inputs and outputs",
        "",
        f"- `image`: float32 [N,1,{m['inputs']['image']['height']},{m['inputs']['image']['width']}] from "
        "`sidecar.pipeline.decode.decode_document` + `sidecar.pipeline.normalize.normalize_page` "
        f"(preprocessing version {m['inputs']['image']['preprocessing_version']}).",
    ]
    if text:
        lines.append(
            f"- `text`: float32 [N,{text['dim']}] from `sidecar.texthash.text_features` (hashing trick over word "
            "unigrams and byte 3-4-grams, L2-normalized); the PDF text layer, else OCR; all zeros = no text."
        )
    lines += [
        f"- outputs: `logits` (raw; temperature T={m['calibration']['temperature']} in the manifest) and `embedding` "
        f"(OOD: `{m['ood']['method']}`, threshold {m['ood']['threshold']}, {m['ood'].get('threshold_rule', '')}).",
        f"- {m.get('parameters', 0):,} parameters; model.onnx sha256 `{m.get('model_sha256', '')[:16]}...`.",
        "",
        "## Data",
        "",
        "Synthetic only (`training/doctriage_train`, `make models`): every class drawn in many layouts (page size, "
        "fonts, block order, tables, logos, bands), content from Faker in en/de/fr/es, rendered as born-digital PDFs "
        "and degraded into phone photos (perspective, rotation, background, uneven light, shadows, folds, crumples, "
        "blur, noise, low resolution, JPEG) and scans (skew, borders, speckles, fading, fax thresholding; JPEG, PNG "
        "and image-only PDF). `other` holds look-alikes (credit notes, delivery notes, quotations, purchase orders, "
        "order confirmations, price lists, visas) and unrelated pages (articles, slides, menus, forms, certificates, "
        "minutes, contracts, timetables, photos, blank and noise pages). Layouts are split train/val/test by layout "
        "id, so the test set holds layouts never seen in training; three document types (CVs, boarding passes, "
        "recipes) appear only in the test set (`unseen_types`).",
        f"Training data digest `{m['training_data_digest'][:16]}...`; created by `{m['created_by']['script']}`.",
        "",
        "## Intended use",
        "",
        "Routing uploads to the right workflow with honest abstention: the sidecar accepts automatically only when "
        f"the calibrated confidence is >= {m['decision_defaults']['accept']}, the label is not `other` and the OOD "
        "score is under its threshold; everything else goes to human review. Not for identity verification, fraud "
        "detection or any decision about a person.",
        "",
        "## Measured results",
        "",
        "Held-out layouts of the synthetic set (`clean` = born-digital PDFs, `degraded` = photos and scans, "
        "`unseen_types` = document types never trained on, all truly `other`), and the real documents in "
        "`../shared/real-docs` (never trained on; small, so read the confidence interval). Decisions use the "
        f"default thresholds (accept >= {m['decision_defaults']['accept']}).",
        "",
        *_table(groups),
        "",
        f"CPU inference (ONNX Runtime, 1 thread): {lat.get('batch1_ms_per_doc', '?')} ms/doc at batch 1, "
        f"{lat.get('batch32_ms_per_doc', '?')} ms/doc at batch 32 (model call only; decoding costs more).",
        "",
        "## Known limits",
        "",
        "- Trained only on synthetic pages: real documents differ (see `real_docs`); expect lower accuracy on real "
        "traffic than on the synthetic test, and calibrate thresholds on real labelled data before trusting "
        "auto-acceptance (issue 9).",
        "- Only the first page is seen, at 256x192 grey: fine print is not legible, the model relies on layout.",
        "- Latin-script content only (en/de/fr/es); other scripts and handwriting were never generated.",
        "- The OOD threshold is a quantile of synthetic validation scores, not a guarantee on real traffic.",
        "",
    ]
    path = target / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
