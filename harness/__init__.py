"""What the tests and the benchmarks share: real servers, real processes, real documents.

Nothing here is a test and nothing here is shipped (the `doctriage-sidecar` distribution packages
`sidecar*` only). The tests import it through pytest's `pythonpath` (root pyproject.toml); the
benchmarks run as modules from the repository root (`python -m bench.soak.run`), which puts the root
on `sys.path`.

- `paths`: the repository root and ../shared/real-docs.
- `documents`: the one document factory (rendered pages, the sample invoice page, byte-exact builders).
- `hostile`: the generated hostile corpus (200+ malformed and adversarial documents, with their reasons).
- `settings`: `make_settings`, the Settings of a test server (loopback port, its own state, no clamd).
- `server`: `ServerThread`, the real sidecar in a background thread; `process`: `SidecarProcess`,
  `python -m sidecar serve` as a real process; `clamd`: `ClamdProcess`, a real clamd.
- `tiny_model`: a tiny but real ONNX model following the serving contract.
- `load`: closed- and open-loop load generators; `proxy`: a loopback TCP proxy that fails on demand.
- `grpc_errors`: the documented reason of a failed call.
- `engine`, `gateway`, `hotpath_impls`: helpers of the engine, gateway and hot-path tests.
"""
