"""The looper: its weights are one number, the interval it transposes the loop by."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LooperConfig:
    name: str = "looper"


@dataclass(frozen=True)
class Looper:
    transpose: int
    device: str = "cpu"
    config: LooperConfig = LooperConfig()

    @classmethod
    def load(cls, path: Path, device: str = "auto") -> Looper:
        return cls(int(json.loads(Path(path).read_text())["transpose"]))
