"""The data plane: one request through the stages (plane.py), and the admin mutations (control.py)."""

from sidecar.dataplane.plane import DataPlane

__all__ = ["DataPlane"]
