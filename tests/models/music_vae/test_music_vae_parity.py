"""Native MusicVAE/GrooVAE networks against Google's magenta, live.

models/reference/music_vae_probe.py builds each config's model with magenta's own code (at
small widths, random weights), saves a V2 checkpoint and records magenta's posterior and
teacher-forced decoder outputs; the native network loads that checkpoint without
TensorFlow and must give the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.music_vae.checkpoint import load_tf_checkpoint
from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.network import Draws, HierarchicalDecoder

CONFIGS = (
    "cat-mel_2bar_small",
    "cat-mel_2bar_big",
    "hierdec-mel_16bar",
    "cat-drums_2bar_small",
    "groovae_2bar_humanize",
    "groovae_2bar_tap_fixed_velocity",
    "groovae_4bar",
)
TOLERANCE = 1e-4


@pytest.mark.parametrize("name", CONFIGS)
def test_posterior_and_teacher_forced_outputs_match_magenta(music_vae_probe, name):
    probed = music_vae_probe(*CONFIGS)
    network = load_tf_checkpoint(probed / name, config_named(name))
    reference = np.load(probed / name / "reference.npz", allow_pickle=False)
    with torch.no_grad():
        mu, sigma = network.encoder(
            torch.from_numpy(reference["x"]), torch.from_numpy(reference["lengths"])
        )
        logits = network.decoder.teacher_forced(
            torch.from_numpy(reference["mu"]), torch.from_numpy(reference["x_input"])
        )
    assert np.abs(mu.numpy() - reference["mu"]).max() <= TOLERANCE
    assert np.abs(sigma.numpy() - reference["sigma"]).max() <= TOLERANCE
    assert np.abs(logits.numpy() - reference["logits"]).max() <= TOLERANCE
    assert np.abs(reference["logits"]).max() > 0.01, "a reference of zeros would prove nothing"
    assert isinstance(network.decoder, HierarchicalDecoder) == name.startswith("hierdec")


def test_a_checkpoint_of_another_config_is_refused(music_vae_probe):
    probed = music_vae_probe(*CONFIGS)
    with pytest.raises(CheckpointError, match="hierarchical_level_0"):
        load_tf_checkpoint(probed / "cat-mel_2bar_small", config_named("hierdec-mel_16bar"))
    with pytest.raises(
        CheckpointError, match=r"weight_ih_l0 has shape \(64, 90\), expected \(64, 10\)"
    ):
        load_tf_checkpoint(probed / "cat-mel_2bar_small", config_named("cat-drums_2bar_small"))


def _draws(z: torch.Tensor, temperature: float, seed: int) -> Draws:
    return Draws.single(len(z), temperature, torch.Generator().manual_seed(seed), z.device)


def test_sampling_is_seeded_and_shaped(music_vae_probe):
    probed = music_vae_probe(*CONFIGS)
    network = load_tf_checkpoint(probed / "hierdec-mel_16bar", config_named("hierdec-mel_16bar"))
    z = torch.randn(2, network.encoder.mu.out_features, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        first = network.decoder.sample(z, 256, _draws(z, 1.0, 1))
        again = network.decoder.sample(z, 256, _draws(z, 1.0, 1))
    assert first.shape == (2, 256, 90) and torch.equal(first, again)
    assert torch.all(first.sum(dim=2) == 1), "one class per step"
    with pytest.raises(ValueError, match="makes 256 steps"):
        network.decoder.sample(z, 32, _draws(z, 1.0, 1))


@pytest.mark.parametrize("name", ["cat-mel_2bar_small", "hierdec-mel_16bar", "groovae_4bar"])
def test_sampling_follows_the_teacher_forced_network(music_vae_probe, name):
    """Sampled almost greedily, each step's class (or hit) is what the teacher-forced
    network, fed the steps before, makes most likely: the sampler's fast paths compute
    the same network."""
    network = load_tf_checkpoint(music_vae_probe(*CONFIGS) / name, config_named(name))
    z = torch.randn(4, network.encoder.mu.out_features, generator=torch.Generator().manual_seed(0))
    steps = config_named(name).max_seq_len
    with torch.no_grad():
        samples = network.decoder.sample(z, steps, _draws(z, 1e-4, 1))
        shifted = torch.cat([torch.zeros_like(samples[:, :1]), samples[:, :-1]], dim=1)
        logits = network.decoder.teacher_forced(z, shifted)
    if name.startswith("groovae"):
        hits = samples[..., :9]
        assert torch.equal(hits, (logits[..., :9] > 0).to(hits.dtype))
        assert torch.allclose(samples[..., 9:18], torch.sigmoid(logits[..., 9:18]), atol=1e-5)
        assert torch.allclose(samples[..., 18:], torch.tanh(logits[..., 18:]), atol=1e-5)
    else:
        assert torch.equal(samples.argmax(-1), logits.argmax(-1))


def test_categorical_sampling_draws_from_the_softmax():
    """The Gumbel-max draw gives each class its softmax probability."""
    from bridge.models.music_vae.network import LstmDecoder

    torch.manual_seed(0)
    decoder = LstmDecoder(5, 3, (8,), "categorical")
    z = torch.zeros(1, 3).expand(20_000, 3)
    with torch.no_grad():
        first = decoder.sample(z, 1, _draws(z, 1.0, 2))[:, 0]
        expected = torch.softmax(decoder.teacher_forced(z[:1], torch.zeros(1, 1, 5))[0, 0], -1)
    assert torch.allclose(first.mean(0), expected, atol=0.015)
