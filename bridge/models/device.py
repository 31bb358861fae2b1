"""Choosing where models run: `device: auto` means CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """Turn a config value into a torch device, failing clearly if it is not available."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} requested but MPS is not available here")
    return device


@contextmanager
def subnormals_flushed() -> Iterator[None]:
    """Run CPU arithmetic on this thread with subnormal floats flushed to zero, as
    TensorFlow's CPU kernels do. A deep network's activations can decay into subnormals,
    which x86 CPUs compute many times slower (a random-weight Coconet ran 30% slower);
    values below 1.2e-38 make no audible difference. The flag is per thread, so it is set
    around the work, on the thread doing it."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
