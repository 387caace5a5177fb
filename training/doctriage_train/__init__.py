"""DocTriage training: synthetic documents, degradation, datasets through the sidecar's own preprocessing,
small CNNs, calibration, OOD, ONNX export and manifests. `python -m doctriage_train --help`."""

from sidecar.tools.evaluation import CANONICAL_LABELS

# The label set every shipped manifest lists, in this order (the client's canonical list).
LABELS: tuple[str, ...] = CANONICAL_LABELS
OTHER = LABELS.index("other")
