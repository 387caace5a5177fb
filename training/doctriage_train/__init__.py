"""DocTriage training: synthetic documents, degradation, datasets through the sidecar's own preprocessing,
small CNNs, calibration, OOD, ONNX export and manifests. `python -m doctriage_train --help`."""

LABELS: tuple[str, ...] = (
    "invoice",
    "receipt",
    "bank_statement",
    "payslip",
    "identity_document",
    "utility_bill",
    "tax_form",
    "letter",
    "other",
)
OTHER = LABELS.index("other")
