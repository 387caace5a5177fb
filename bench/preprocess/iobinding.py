"""Run an onnxruntime-gpu session on a device tensor (IOBinding): what bench/preprocess/gpu.py measures
against the host round trip. Not in serving: its batches are built on the host (sidecar/pipeline/normalizer.py),
where IOBinding saves nothing over session.run; keeping tensors on the GPU end to end would need device-side
batching and a device-side image encoder (docs/preprocessing.md)."""

from __future__ import annotations

from typing import Any

import cupy as cp
import numpy as np
import numpy.typing as npt


class IoBindingRunner:
    """Run an onnxruntime-gpu session on a device tensor: no host round trip for the input."""

    def __init__(self, session: Any, device_id: int = 0) -> None:
        self.session = session
        self.device_id = device_id
        self.provider: str = session.get_providers()[0]
        if self.provider != "CUDAExecutionProvider":
            raise RuntimeError(f"session runs on {self.provider}, not CUDA")
        self._inputs = {i.name: i for i in session.get_inputs()}
        self._outputs = [o.name for o in session.get_outputs()]

    def run(
        self, images: Any, text: npt.NDArray[np.float32] | None = None, stream: Any = None
    ) -> dict[str, npt.NDArray[np.float32]]:
        """images: cupy float32 N x C x H x W on this device → {"logits": ..., ["embedding": ...]} on the host."""
        if stream is not None:
            # ONNX Runtime uses its own stream: the preprocessing must have finished writing the input.
            stream.synchronize()
        images = cp.ascontiguousarray(images, dtype=cp.float32)
        binding = self.session.io_binding()
        binding.bind_input(
            name="image",
            device_type="cuda",
            device_id=self.device_id,
            element_type=np.float32,
            shape=tuple(images.shape),
            buffer_ptr=images.data.ptr,
        )
        if "text" in self._inputs:
            width = int(self._inputs["text"].shape[1])
            feats = text if text is not None else np.zeros((images.shape[0], width), np.float32)
            binding.bind_cpu_input("text", np.ascontiguousarray(feats, dtype=np.float32))
        wanted = [n for n in ("logits", "embedding") if n in self._outputs]
        for name in wanted:
            binding.bind_output(name, "cuda", self.device_id)
        self.session.run_with_iobinding(binding)
        values = binding.copy_outputs_to_cpu()  # in bind order
        return {n: np.asarray(v, dtype=np.float32) for n, v in zip(wanted, values, strict=True)}
