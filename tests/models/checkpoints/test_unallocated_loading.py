"""Loading builds each network on the meta device and assigns the checkpoint's arrays: no
weight is randomly initialised only to be overwritten, and none is left unallocated."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bridge.models.families import FAMILIES

REPO = Path(__file__).parents[3]
PRETRAINED = REPO / "models" / "pretrained"
MODELS = [
    ("melody_rnn", PRETRAINED / "folk_attention_rnn.safetensors", None),
    ("polyphony_rnn", PRETRAINED / "bach_polyphony.safetensors", None),
    ("coconet", PRETRAINED / "coconet_bach.safetensors", None),
    ("music_vae", PRETRAINED / "folk_mel_2bar.safetensors", "cat-mel_2bar_small"),
    ("drums_rnn", REPO / "tests/fixtures/drums_rnn/drum_kit.mag", None),
    (
        "music_vae",
        REPO / "tests/fixtures/music_vae/hierdec-mel_16bar/checkpoint",
        "hierdec-mel_16bar",
    ),
]


@pytest.mark.parametrize(("family", "path", "config"), MODELS, ids=lambda v: str(v)[-30:])
def test_loading_initialises_nothing_and_allocates_everything(family, path, config, monkeypatch):
    initialised = []
    real_uniform = torch.nn.init.uniform_

    def uniform(tensor, *args, **kwargs):
        if tensor.device.type != "meta":
            initialised.append(tuple(tensor.shape))
        return real_uniform(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.nn.init, "uniform_", uniform)
    model = FAMILIES[family].load(path, "cpu", config)
    tensors = [*model.network.parameters(), *model.network.buffers()]
    assert tensors and all(t.device.type == "cpu" for t in tensors)
    assert initialised == [], "weights were initialised, then overwritten"
