"""Benchmarks and their committed results (never run by the tests). Each one runs as a module from the
repository root, e.g. `.venv/bin/python -m bench.soak.run --help`, so that it imports the shared
harness (harness/) and the sidecar without sys.path patches."""
