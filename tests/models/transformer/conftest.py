"""What the transformer family's tests share: the reference's recorded tokens, the scripted
network (models/reference/amt_scripted.py, the same rule the reference sampler ran with) and
a tiny random GPT-2 over the anticipatory vocabulary, saved as Hugging Face saves one."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

REPO = Path(__file__).parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "transformer"
SCRIPTED = REPO / "models" / "reference" / "amt_scripted.py"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tests run many small tensor operations: on two busy cores, torch's threads wait
    on each other far longer than the work takes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    """reference_tokens.json, made by models/reference/amt_tokens.py."""
    return json.loads((FIXTURES / "reference_tokens.json").read_text())


@pytest.fixture(scope="session")
def source_midi(chorale_midi, render_groove):
    """A factory: the MIDI bytes of a fixture record's source (committed files are read;
    chorales and MMA grooves are rendered again, as they were for the reference)."""

    def midi(source: dict[str, Any]) -> bytes:
        if "path" in source:
            return (REPO / source["path"]).read_bytes()
        if source["kind"] == "chorale":
            return chorale_midi(source["name"])
        return render_groove(source["file"], source["groove"], source["bars"], all_tracks=True)

    return midi


@pytest.fixture(scope="session")
def scripted() -> ModuleType:
    spec = importlib.util.spec_from_file_location("amt_scripted", SCRIPTED)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ScriptedDecoder:
    """A decoder (generation.Decoder) whose logits follow the scripted rule; it keeps what
    each row was shown, and every input of each call."""

    full = False

    def __init__(self, rule: ModuleType) -> None:
        self.rule = rule
        self.rows: list[list[int]] = []
        self.calls: list[list[list[int]]] = []

    def start(self, rows: Sequence[Sequence[int]]) -> torch.Tensor:
        self.rows = [list(row) for row in rows]
        return self._logits([True] * len(rows))

    def extend(self, chunks: Sequence[Sequence[int]]) -> torch.Tensor:
        for row, chunk in zip(self.rows, chunks, strict=True):
            row += chunk
        return self._logits([bool(chunk) for chunk in chunks])

    def _logits(self, fed: list[bool]) -> torch.Tensor:
        self.calls.append([list(row) if ok else [] for row, ok in zip(self.rows, fed, strict=True)])
        return torch.stack([self.rule.scripted_logits(row) for row in self.rows])


class ScriptedModel:
    vocab_size = 55_028

    def __init__(self, rule: ModuleType) -> None:
        self.rule = rule
        self.decoders: list[ScriptedDecoder] = []

    def decoder(self) -> ScriptedDecoder:
        self.decoders.append(ScriptedDecoder(self.rule))
        return self.decoders[-1]


@pytest.fixture
def scripted_model(scripted) -> ScriptedModel:
    return ScriptedModel(scripted)


def tiny_config(**overrides: Any) -> Any:
    transformers = pytest.importorskip("transformers")
    settings = dict(
        vocab_size=55_028,
        n_positions=1024,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=None,
        eos_token_id=None,
    )
    return transformers.GPT2Config(**(settings | overrides))


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory) -> Path:
    """A randomly initialised small GPT-2 of the anticipatory vocabulary, saved with
    save_pretrained (config.json + model.safetensors)."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    network = transformers.GPT2LMHeadModel(tiny_config())
    folder = tmp_path_factory.mktemp("tiny-amt")
    network.save_pretrained(folder)
    return folder
