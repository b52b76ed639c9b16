"""The embedding model on ONNX Runtime: exported once from the packaged weights, no torch to query.

The export (torch → ONNX, and a dynamically quantised int8 copy) runs once per model folder and
is cached under the export directory; nothing is downloaded. Inference needs only
``onnxruntime`` and ``tokenizers``: the same tokenizer, truncation and mean pooling as the
sentence-transformers model, so fp32 vectors match torch's to ~1e-7.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_LOCK = threading.Lock()
INT8_FILE = "model-int8-pc.onnx"
"""The int8 recipe's file: dynamic quantisation with per-channel weights (a new recipe gets a
new name, so an export of an older one is never reused)."""


def _fingerprint(model_path: Path) -> str:
    """Names the export after the weights it came from, so new weights get a new export."""
    digest = hashlib.sha1(usedforsecurity=False)
    for name in sorted(p.name for p in model_path.iterdir() if p.is_file()):
        stat = (model_path / name).stat()
        digest.update(f"{name}:{stat.st_size}".encode())
    return f"{model_path.name}-{digest.hexdigest()[:12]}"


def export(model_path: Path, export_dir: Path, int8: bool) -> Path:
    """The ONNX file for ``model_path`` (fp32, or int8 weights), exported on first use."""
    folder = export_dir / _fingerprint(model_path)
    target = folder / (INT8_FILE if int8 else "model.onnx")
    with _EXPORT_LOCK:
        if target.exists():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        fp32 = folder / "model.onnx"
        if not fp32.exists():
            _export_fp32(model_path, fp32)
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            partial = target.with_suffix(f".{os.getpid()}.partial")
            # Per-channel weight scales: one scale per output column keeps the vectors at a
            # cosine of ~0.995 with fp32's, where one scale per tensor gave ~0.94.
            quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            partial.rename(target)
    return target


def _export_fp32(model_path: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class _Encoder(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = _Encoder(AutoModel.from_pretrained(str(model_path)).eval())
    sample = torch.ones(1, 8, dtype=torch.long)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (sample, sample, torch.zeros_like(sample)),
            str(partial),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*_INPUTS, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    partial.rename(target)


class OnnxEncoder:
    """Mean-pooled, L2-normalised sentence vectors from an exported model."""

    def __init__(
        self, model_path: Path, onnx_file: Path, device: str, threads: int | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = model_path / "sentence_bert_config.json"
        max_len = (
            json.loads(config.read_text()).get("max_seq_length", 256) if config.exists() else 256
        )
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(max_len))
        self.tokenizer.enable_padding()
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        if threads is not None:
            # One thread, no spinning: for a few short texts per call (queries), where idle
            # worker threads spinning between calls burn the CPU Elasticsearch needs.
            options.intra_op_num_threads = threads
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(onnx_file), sess_options=options, providers=providers
        )
        self.device = "cuda" if providers[0].startswith("CUDA") else "cpu"

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, **_: Any
    ) -> npt.NDArray[np.float32]:
        # Like sentence-transformers: batches of similar lengths pad least.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        vectors: dict[int, npt.NDArray[np.float32]] = {}
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self.session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(
                mask.sum(axis=1, keepdims=True), 1
            )
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for i, row in zip(chunk, pooled, strict=True):
                vectors[i] = row.astype(np.float32)
        if not texts:
            return out
        return np.stack([vectors[i] for i in range(len(texts))])
