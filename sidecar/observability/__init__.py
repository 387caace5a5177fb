"""Logs, metrics, drift and cost: how operators see into the sidecar."""
