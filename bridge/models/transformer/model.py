"""A loaded Anticipatory Music Transformer: a Hugging Face GPT-2 over the arrival-time
vocabulary, on its device, with what generation needs from it.

The official checkpoints (stanford-crfm/music-{small,medium,large}-800k) are loaded from a
local folder as they are downloaded; checkpoint.py checks the folder first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import torch

from bridge.models.device import resolve_device
from bridge.models.transformer.checkpoint import load_network
from bridge.models.transformer.decoding import CachedDecoder
from bridge.models.transformer.vocab import CONTEXT


@dataclass
class AnticipatoryTransformer:
    network: Any  # transformers.GPT2LMHeadModel
    device: str
    load_seconds: float = 0.0

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", dtype: str | None = None) -> Self:
        """A Hugging Face model folder (config.json and model.safetensors or
        pytorch_model.bin) on a device ("auto": CUDA, MPS, CPU); `dtype` e.g. "bfloat16"
        (None: as stored, float32 for the official weights)."""
        started = time.perf_counter()
        target = resolve_device(device)
        network = load_network(path, None if dtype is None else getattr(torch, dtype))
        return cls(network.to(target), str(target), time.perf_counter() - started)

    @classmethod
    def from_network(cls, network: Any, device: str = "cpu") -> Self:
        """Wrap a network already built (tests, training)."""
        return cls(network.to(resolve_device(device)).eval(), str(resolve_device(device)))

    @property
    def vocab_size(self) -> int:
        return int(self.network.config.vocab_size)

    @torch.inference_mode()
    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """[batch, length, vocab] logits of whole sequences, without a cache."""
        return self.network(input_ids=tokens.to(self.device)).logits

    def decoder(self) -> CachedDecoder:
        """A cached decoder for one batch of rows (decoding.py)."""
        return CachedDecoder(self.network, torch.device(self.device), CONTEXT)
