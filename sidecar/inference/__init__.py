"""Serving models: the registry of loaded versions, the A/B split, and the batcher behind a breaker per version."""
