"""DocTriage sidecar: a gRPC server that classifies documents and decides when to trust the answer."""

__version__ = "0.1.0"
