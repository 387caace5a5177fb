"""Model versions: registry, ONNX Runtime sessions (and later batching, traffic split, fallbacks)."""
