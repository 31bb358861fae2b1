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
from bridge.models.music_vae.network import HierarchicalDecoder

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


def test_sampling_is_seeded_and_shaped(music_vae_probe):
    probed = music_vae_probe(*CONFIGS)
    network = load_tf_checkpoint(probed / "hierdec-mel_16bar", config_named("hierdec-mel_16bar"))
    z = torch.randn(2, network.encoder.mu.out_features, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        first = network.decoder.sample(z, 256, 1.0, torch.Generator().manual_seed(1))
        again = network.decoder.sample(z, 256, 1.0, torch.Generator().manual_seed(1))
    assert first.shape == (2, 256, 90) and torch.equal(first, again)
    assert torch.all(first.sum(dim=2) == 1), "one class per step"
    with pytest.raises(ValueError, match="makes 256 steps"):
        network.decoder.sample(z, 32, 1.0, None)
