"""Native MusicVAE/GrooVAE against stored references of small models *trained* by Google's
magenta (tests/fixtures/music_vae/, made by models/reference/make_music_vae_fixtures.py):
the decoder given magenta's own samples, magenta's near-greedy decodes, and for the melody
configs (whose inputs may be stored) the posterior and the interpolation path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.models.music_vae.checkpoint import load_tf_checkpoint
from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.model import interpolation_path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "music_vae"
CONFIGS = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())
TOLERANCE = 1e-4


def load(name: str):
    reference = np.load(FIXTURES / name / "reference.npz", allow_pickle=False)
    info = json.loads((FIXTURES / name / "reference.json").read_text())["model_reference"]
    return load_tf_checkpoint(FIXTURES / name / "checkpoint", config_named(name)), reference, info


def samples_of(reference, info, depth: int) -> torch.Tensor:
    """magenta's decoded samples as the decoder's output vectors."""
    if "decode_samples" in reference.files:  # groove: the values themselves
        return torch.from_numpy(reference["decode_samples"])
    ids = reference["decode_sample_ids"]  # [batch, steps, parts]: a class per part
    parts = [
        np.eye(width, dtype=np.float32)[ids[..., index]]
        for index, width in enumerate(info["output_depths"])
    ]
    samples = torch.from_numpy(np.concatenate(parts, axis=-1))
    assert samples.shape[-1] == depth
    return samples


def test_every_config_has_a_fixture():
    assert len(CONFIGS) == 8 and "hierdec-trio_16bar" in CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
def test_the_decoder_fed_magentas_samples_gives_magentas_outputs(name):
    network, reference, info = load(name)
    z = torch.from_numpy(reference["z"].astype(np.float32))
    samples = samples_of(reference, info, network.decoder.output_depth)
    shifted = torch.cat([torch.zeros_like(samples[:, :1]), samples[:, :-1]], dim=1)
    with torch.no_grad():
        logits = network.decoder.teacher_forced(z, shifted).numpy()
    if "decode_logits" in reference.files:
        assert np.abs(logits - reference["decode_logits"]).max() <= TOLERANCE
    # Near-greedy, magenta's samples are the most likely outputs of those logits.
    if info["decoder_kind"] == "groove":
        hits = samples[..., :9].numpy()
        assert np.array_equal(hits, (logits[..., :9] > 0).astype(np.float32))
    else:
        split = np.cumsum(info["output_depths"])[:-1]
        for part, ids in zip(
            np.split(logits, split, axis=-1),
            np.moveaxis(reference["decode_sample_ids"], -1, 0),
            strict=True,
        ):
            assert np.array_equal(part.argmax(-1), ids)


@pytest.mark.parametrize("name", [n for n in CONFIGS if "mel" in n])
def test_melody_posteriors_and_interpolation_paths(name):
    network, reference, _ = load(name)
    inputs = torch.from_numpy(reference["example_inputs"].astype(np.float32))
    with torch.no_grad():
        mu, sigma = network.encoder(inputs, torch.from_numpy(reference["example_lengths"]))
    assert np.abs(mu.numpy() - reference["mu"]).max() <= TOLERANCE
    assert np.abs(sigma.numpy() - reference["sigma"]).max() <= TOLERANCE
    if "interp_z" in reference.files:
        ends = torch.from_numpy(reference["interp_endpoint_mu"].astype(np.float64))
        path = interpolation_path(ends[0], ends[1], len(reference["interp_z"]))
        assert np.abs(path.numpy() - reference["interp_z"]).max() <= 1e-5


@pytest.mark.parametrize("name", [n for n in CONFIGS if n.startswith("hierdec")])
def test_the_conductor_gives_magentas_segment_embeddings(name):
    network, reference, _ = load(name)
    with torch.no_grad():
        embeddings = network.decoder.embeddings(torch.from_numpy(reference["z"]))
    assert np.abs(embeddings.numpy() - reference["tf_conductor_embeddings"]).max() <= TOLERANCE
