"""One model version and what it reads: its manifest, its ONNX Runtime session, calibration and OOD,
the text row's lexicon and sentence encoder, the image encoder (registry, batching and routing:
sidecar/inference)."""
