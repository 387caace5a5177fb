"""Compiled hot path (built from /_ext by setup.py); import through sidecar.hotpath only."""
