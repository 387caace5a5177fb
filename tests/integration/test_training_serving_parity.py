"""Training reads real documents exactly as serving does: the rule proven on training's scores is
proven on the path it guards.

`make models` fits v2.4's head, temperature, OOD cut and acceptance rule on what
`training/doctriage_train/realdocs.py` reads from each real document through the analysis core
(decode, normalize, the text layer or the serving OCR) and turns into model inputs in batches (the
text rows, the image encoder's features). Here the same documents go through the sidecar's own
offline path (`sidecar.tools.offline.OfflineClassifier`: one document at a time, OCR read again,
`infer_batch`: calibration, OOD score) and through training's reader and the shipped model; the
answers and the decision inputs (label, confidence, OOD score) must agree. That the offline path
answers as the server does is tests/integration/test_analysis_parity.py.
Skipped without ../shared/real-docs.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.paths import REAL_DOCS, ROOT
from sidecar.config import OcrSettings, Settings
from sidecar.models.calibration import calibrate, ood_score
from sidecar.models.runtime import OnnxModel, text_rows
from sidecar.tools.offline import OfflineClassifier


@pytest.mark.realdocs
@pytest.mark.timeout(900)
def test_training_reads_real_documents_as_serving_answers_them() -> None:
    pytest.importorskip("cv2")
    from doctriage_train import LABELS
    from doctriage_train.realdocs import load

    docs = load([REAL_DOCS], with_ocr=True)
    assert docs is not None
    model_dir = ROOT / "models" / "doc-classifier" / "2.4"
    model = OnnxModel(model_dir)
    out = model.run(
        docs.x, text_rows(docs.served_text(), model.text_spec, model.text_dim, model.embedder, model.lexicon)
    )
    probs = calibrate(out.logits, model.manifest.calibration)
    scores = ood_score(out.logits, out.embedding, model.manifest.ood)
    # The serving OCR with training's page limit (a loaded test machine must not skip the fallback).
    settings = Settings(ocr=OcrSettings(page_timeout_s=60.0, workers=1))
    served = OfflineClassifier(model_dir, settings=settings, rules=False)
    try:
        compared = 0
        for i, name in enumerate(docs.files):
            rel = name.split("/", 1)[1]
            answer = served.classify((REAL_DOCS / "files" / rel).read_bytes(), rel, LABELS[int(docs.y[i])])
            if answer.prediction is None:  # refused by validation: never scored, never accepted
                continue
            best = int(np.argmax(probs[i]))
            assert answer.prediction.label == LABELS[best], name
            assert answer.prediction.confidence == pytest.approx(float(probs[i, best]), abs=1e-4), name
            assert answer.prediction.ood_score == pytest.approx(float(scores[i]), rel=1e-4, abs=1e-4), name
            compared += 1
    finally:
        served.close()
    assert compared >= len(docs.files) - 3
