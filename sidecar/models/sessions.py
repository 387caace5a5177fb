"""ONNX Runtime session options shared by every model the sidecar runs (classifiers, encoders)."""

from __future__ import annotations

import onnxruntime as ort


def session_options(intra_op_threads: int = 1) -> ort.SessionOptions:
    """`intra_op_threads` threads, one inter-op thread, spinning off (spinning threads halve a serial
    caller's throughput on small machines), every graph optimisation."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options
