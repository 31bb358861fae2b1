"""Coconet's hyperparameters, piano rolls, masks, network bookkeeping and sampler, checked
against what magenta's lib_hparams, lib_pianoroll, lib_mask, lib_graph and lib_sampling do
(their rules restated here; the parity tests check the numbers against magenta itself)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.coconet import masks as masks_
from bridge.models.coconet.config import CoconetConfig, config_from_dict, read_config
from bridge.models.coconet.model import Coconet
from bridge.models.coconet.network import residual_plan
from bridge.models.coconet.pianoroll import HeldNote, decode, encode, held_notes
from bridge.models.coconet.sampling import sample_pitches, torch_uniforms, yao_probability

FIXTURES = Path(__file__).parents[3] / "tests" / "fixtures" / "coconet"


@pytest.fixture(scope="module")
def model() -> Coconet:
    return Coconet.load(FIXTURES / "straight-8-32", "cpu")


def test_the_config_file_is_read_as_lib_hparams_reads_it():
    config = read_config(FIXTURES / "straight-64-16")
    stored = json.loads((FIXTURES / "straight-64-16" / "reference.json").read_text())["hparams"]
    assert config.name == "straight-64-16"
    assert (config.min_pitch, config.max_pitch, config.num_pitches) == (36, 81, 46)
    assert (config.num_instruments, config.quantization_level) == (4, 0.125)
    for field in ("num_layers", "num_filters", "mask_indicates_context", "use_residual"):
        assert getattr(config, field) == stored[field]


def test_defaults_and_architectures_follow_lib_hparams():
    default = CoconetConfig()
    assert default.name == "straight-28-256"
    assert not default.mask_indicates_context and default.batch_norm_variance_epsilon == 1e-7
    official = CoconetConfig(num_layers=64, num_filters=128)
    assert official.name == "straight-64-128"
    kernels = [layer.kernel for layer in official.layers]
    assert kernels == [(3, 3)] * 62 + [(2, 2)] * 2
    assert official.layers[0].in_channels == 8 and official.layers[-1].out_channels == 4
    assert not official.layers[-1].relu
    # dilated: per block, levels 0..max(ceil(log2 32) - 1, ceil(log2 46) - 1) = 0..5
    dilated = CoconetConfig(architecture="dilated", num_dilation_blocks=2, crop_piece_len=32)
    rates = [layer.dilation for layer in dilated.layers[1:-2]]
    assert rates == [(1, 1), (2, 2), (4, 4), (8, 8), (16, 16), (16, 32)] * 2
    assert dilated.name == "dilated-15-256"


def test_bad_configs_are_refused():
    with pytest.raises(CheckpointError, match="at least 4 layers"):
        CoconetConfig(num_layers=3)
    with pytest.raises(CheckpointError, match="architecture"):
        CoconetConfig(architecture="wavenet")
    with pytest.raises(CheckpointError, match="num_filters is '128'"):
        config_from_dict({"num_filters": "128"}, "test")
    with pytest.raises(CheckpointError, match="pitch_ranges"):
        config_from_dict({"pitch_ranges": [36, 80]}, "test")
    assert config_from_dict({"num_pitches": 46, "shortest_duration": 0.125}, "t").num_pitches == 46


def test_residual_connections_every_second_layer():
    plan = residual_plan(CoconetConfig(num_layers=8, num_filters=16))
    saves = [index for index, (save, _) in enumerate(plan) if save]
    adds = [index for index, (_, add) in enumerate(plan) if add]
    assert saves == [1, 3, 5, 7]
    assert adds == [2, 4, 6]  # never the last layer (7), whose channels differ anyway
    assert not any(add for _, add in residual_plan(CoconetConfig(use_residual=False)))


def test_pianorolls_round_trip():
    rng = np.random.default_rng(1)
    pitches = rng.integers(36, 82, size=(32, 4)).astype(float)
    pitches[rng.random(pitches.shape) < 0.2] = np.nan
    roll = encode(pitches, 36, 81)
    assert roll.shape == (32, 46, 4) and roll.dtype == np.float32
    assert (roll.sum(axis=1) == ~np.isnan(pitches)).all()
    np.testing.assert_array_equal(decode(roll, 36), pitches)
    with pytest.raises(ValueError, match="outside 36-81"):
        encode(np.array([[35.0, 60, 60, 60]]), 36, 81)


def test_held_notes_join_equal_neighbours():
    column = np.array([60, 60, 62, np.nan, 62, 62, 64], float)
    assert held_notes(column) == [
        HeldNote(60, 0, 2),
        HeldNote(62, 2, 3),
        HeldNote(62, 4, 6),
        HeldNote(64, 6, 7),
    ]
    only = np.array([False, True, True, True, True, False, True])
    assert held_notes(column, only) == [
        HeldNote(60, 1, 2),
        HeldNote(62, 2, 3),
        HeldNote(62, 4, 5),
        HeldNote(64, 6, 7),
    ]


def test_masks():
    shape = (2, 8, 46, 4)
    harmonization = masks_.harmonization_mask(shape)
    assert (harmonization[..., 0] == 0).all() and (harmonization[..., 1:] == 1).all()
    assert (masks_.voice_mask(shape, 2).sum(axis=(0, 1, 2)) == [0, 0, 2 * 8 * 46, 0]).all()
    assert (
        masks_.transition_mask(shape)[:, 2:6].all()
        and not masks_.transition_mask(shape)[:, :2].any()
    )
    roll = np.zeros(shape, np.float32)
    roll[:, :4, 10, 0] = 1
    completion = masks_.completion_mask(roll)
    assert (completion[:, :4, :, 0] == 0).all() and (completion[:, 4:, :, 0] == 1).all()
    assert (completion[..., 1:] == 1).all()
    np.testing.assert_array_equal(masks_.apply_mask(roll, completion), roll)
    rng = np.random.default_rng(0)
    for mask in (
        masks_.orderless_mask((8, 46, 4), rng),
        masks_.bernoulli_mask((8, 46, 4), 0.5, rng),
    ):
        assert (mask == mask[:, :1, :]).all()  # a (step, voice) is masked whole


def test_yao_schedule():
    assert yao_probability(0, 100) == pytest.approx(0.9)
    assert yao_probability(35, 100) == pytest.approx(0.5)
    assert yao_probability(70, 100) == pytest.approx(0.1)
    assert yao_probability(99, 100) == pytest.approx(0.1)


def test_sampling_draws_from_the_tempered_softmax():
    logits = torch.log(torch.tensor([0.7, 0.2, 0.1]))[None, None, :, None].repeat(1, 20000, 1, 1)
    uniforms = torch_uniforms(3, torch.device("cpu"))
    counts = sample_pitches(logits, 1.0, uniforms).sum(dim=(0, 1, 3))
    np.testing.assert_allclose(counts / 20000, [0.7, 0.2, 0.1], atol=0.015)
    sharp = sample_pitches(logits, 0.5, uniforms).sum(dim=(0, 1, 3)) / 20000
    np.testing.assert_allclose(sharp, np.array([49, 4, 1]) / 54, atol=0.015)
    greedy = sample_pitches(logits, 0.0, uniforms)
    assert (greedy[:, :, 0] == 1).all()


def roll_and_mask(model: Coconet, batch: int):
    rng = np.random.default_rng(5)
    pitches = np.stack(
        [rng.integers(60, 75, 16), rng.integers(55, 65, 16)] + [np.full(16, np.nan)] * 2, 1
    )
    roll = np.repeat(encode(pitches, 36, 81)[None], batch, 0)
    mask = np.zeros_like(roll)
    mask[:, 4:12, :, :2] = 1
    mask[:, :, :, 2:] = 1
    return roll, mask


def test_sampling_is_seeded_batched_and_keeps_the_context(model):
    roll, mask = roll_and_mask(model, 4)
    calls = []
    first = model.sample(roll, mask, 1.0, seed=7, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(step, 65) for step in range(1, 66)]  # one fill, then 16 x 4 steps
    np.testing.assert_array_equal(model.sample(roll, mask, 1.0, seed=7), first)
    assert not np.array_equal(model.sample(roll, mask, 1.0, seed=8), first)
    assert len({row.tobytes() for row in first}) == 4  # variations differ
    np.testing.assert_array_equal(first * (1 - mask), roll * (1 - mask))  # context kept
    assert (first.sum(axis=2)[mask[:, :, 0, :] == 1] == 1).all()  # one pitch where masked
    assert model.sample(roll, mask, 1.0, seed=7, steps=3).shape == roll.shape


def test_harmonize_and_complete_entry_points(model):
    roll, _ = roll_and_mask(model, 2)
    harmonized = model.harmonize(roll, seed=1, steps=4)
    np.testing.assert_array_equal(harmonized[..., 0], roll[..., 0])
    assert (harmonized[..., 1:].sum(axis=2) == 1).all()
    completed = model.complete(roll, seed=1, steps=4)
    np.testing.assert_array_equal(completed[..., :2], roll[..., :2])  # nothing was silent there
    assert (completed.sum(axis=2) == 1).all()


def test_bad_arrays_and_temperatures_are_refused(model):
    roll, mask = roll_and_mask(model, 1)
    with pytest.raises(ValueError, match="must both be"):
        model.predict(roll[0], mask[0])
    with pytest.raises(ValueError, match="negative"):
        model.sample(roll, mask, -1.0)
    assert model.device == "cpu"
    probabilities = model.predict(roll, mask)
    np.testing.assert_allclose(probabilities.sum(axis=2), 1.0, rtol=1e-5)
