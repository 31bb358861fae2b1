"""Coconet training: lib_graph's loss on a hand-made case, batch norm in training mode, the
NLL measure and its baselines, a tiny run that learns, exports, reloads and resumes, and
the `train-coconet` command end to end."""

import json
import math

import numpy as np
import pytest
import torch

from bridge.frontends.cli import main
from bridge.models.coconet.config import CoconetConfig
from bridge.models.coconet.model import Coconet
from bridge.models.coconet.native import load_native
from bridge.models.coconet.network import CoconetNetwork
from bridge.models.coconet.pianoroll import encode
from bridge.training.coconet.baseline import VoiceMarkov
from bridge.training.coconet.batch_norm import (
    POPULATION_DECAY,
    estimate_population,
    training_logits,
)
from bridge.training.coconet.batches import Batch, held_out_batches, stack
from bridge.training.coconet.corpus import Chorales, save_chorales
from bridge.training.coconet.evaluation import harmonization_batches, network_predictor, score
from bridge.training.coconet.loss import coconet_loss
from bridge.training.coconet.train import (
    CoconetTrainingOptions,
    initialize,
    learning_rate_at,
    plateau,
    train_coconet,
)
from tests.training.coconet.test_coconet_corpus import four_voices

L3 = math.log(3)


def _hand_case():
    """Two crops, 2 steps, 3 pitches, 2 voices. Row 0 (length 2): voice 0 sings pitch 0
    twice, voice 1 pitch 2 then rests; only (step 0, voice 1) is masked. Row 1 (length 1,
    its step 1 padding): pitches 1 and 0, both masked (and its padding, which must not
    count). Uniform logits: every sounding position costs log 3."""
    rolls = torch.zeros(2, 2, 3, 2)
    rolls[0, :, 0, 0] = 1
    rolls[0, 0, 2, 1] = 1
    rolls[1, 0, 1, 0] = rolls[1, 0, 0, 1] = 1
    masks = torch.zeros(2, 2, 3, 2)
    masks[0, 0, :, 1] = 1
    masks[1] = 1
    return torch.zeros(2, 2, 3, 2), rolls, masks, torch.tensor([2, 1])


def test_the_loss_is_lib_graphs_on_a_hand_made_case():
    logits, rolls, masks, lengths = _hand_case()
    plain = coconet_loss(logits, rolls, masks, lengths, rescale=False)
    # Row 0: 3 sounding positions of 4 variables; row 1: 2 of 2. Masked: 1 + 2 variables.
    assert plain.total.item() == pytest.approx(5 * L3 / 6)
    assert plain.mask.item() == pytest.approx(3 * L3 / 3)
    assert plain.unmask.item() == pytest.approx(2 * L3 / 3)
    assert plain.masked_variables == 3 and plain.loss is plain.total
    # Rescaled by D / |mask| per crop: x4 for row 0, x1 for row 1.
    rescaled = coconet_loss(logits, rolls, masks, lengths)
    assert rescaled.total.item() == pytest.approx((3 * 4 * L3 + 2 * L3) / 6)
    assert rescaled.mask.item() == pytest.approx((4 * L3 + 2 * L3) / 3)
    assert rescaled.unmask.item() == pytest.approx(2 * 4 * L3 / 3)
    mask_only = coconet_loss(logits, rolls, masks, lengths, mask_only=True)
    assert mask_only.loss is mask_only.mask
    # The softmax is over pitch: a confident right answer at the masked note costs ~0.
    sure = logits.clone()
    sure[0, 0, 2, 1] = 50.0
    assert coconet_loss(sure, rolls, masks, lengths, rescale=False).mask.item() == pytest.approx(
        2 * L3 / 3, abs=1e-6
    )


def _network(seed=0, **changes) -> CoconetNetwork:
    config = CoconetConfig(num_layers=6, num_filters=8, mask_indicates_context=True, **changes)
    network = CoconetNetwork(config)
    initialize(network, torch.Generator().manual_seed(seed))
    return network


def _random_batch(seed=0, batch=3, steps=12):
    rng = np.random.default_rng(seed)
    pitches = rng.integers(40, 78, (batch, steps, 4)).astype(float)
    rolls = torch.from_numpy(np.stack([encode(p, 36, 81) for p in pitches]))
    masks = torch.from_numpy((rng.random((batch, steps, 1, 4)) < 0.5).astype(np.float32))
    return rolls, masks.expand_as(rolls).contiguous()


def test_batch_norm_from_the_batch_is_the_networks_forward_with_its_statistics():
    network = _network(architecture="dilated", num_dilation_blocks=1, crop_piece_len=16)
    assert all(
        torch.allclose(layer.gamma, torch.full_like(layer.gamma, 0.1)) for layer in network.layers
    )
    rolls, masks = _random_batch()
    with torch.no_grad():
        trained = training_logits(network, rolls, masks)
    first = network.layers[0]
    moved = first.popmean.clone()
    assert torch.all(moved != 0) and moved.abs().max() < 1.0  # 1% of the way
    assert estimate_population(network, [(rolls, masks)]) == 1
    with torch.no_grad():
        inferred = network(rolls, masks)
    torch.testing.assert_close(inferred, trained, atol=2e-4, rtol=1e-4)
    assert POPULATION_DECAY == 0.01


def test_the_measure_averages_masked_notes_and_rests_cost_nothing():
    roll = np.zeros((1, 2, 46, 4), np.float32)
    roll[0, 0, 10, :3] = roll[0, 1, 10, :] = 1  # the bass rests at step 0
    masks = np.zeros_like(roll)
    masks[0, 0, :, 2:] = 1  # the tenor's note and the bass's rest
    uniform = lambda batch: np.full(batch.rolls.shape, -math.log(46))  # noqa: E731
    result = score(uniform, [Batch(roll, masks, np.array([2]))])
    assert result["nll"] == pytest.approx(math.log(46) / 2)
    harmonized = harmonization_batches([Batch(roll, masks, np.array([2]))])[0]
    assert (harmonized.masks[..., 0] == 0).all() and (harmonized.masks[..., 1:] == 1).all()


def test_the_orderless_estimate_of_a_context_free_model_is_its_mean_nll():
    """For a unigram, every mask's mean is an unbiased draw of the mean over all notes."""
    rng = np.random.default_rng(3)
    pieces = tuple(rng.integers(50, 70, (64, 4)).astype(float) for _ in range(4))
    unigram = VoiceMarkov.fit(pieces, 0)
    config = CoconetConfig()
    everything = [
        stack(b.rolls, [np.ones_like(r) for r in b.rolls])
        for b in held_out_batches(pieces, config, 64, 1, 0)
    ]
    exact = score(unigram, everything)["nll"]
    estimate = score(unigram, held_out_batches(pieces, config, 64, 200, 0))["nll"]
    assert estimate == pytest.approx(exact, rel=0.03)


def test_the_markov_baseline_hears_the_same_voice_on_both_sides():
    voice = np.array([60.0, 62] * 8)
    piece = np.stack([voice, np.full(16, 55.0), np.full(16, 50.0), np.full(16, 40.0)], axis=1)
    chain, unigram = VoiceMarkov.fit((piece,), 1), VoiceMarkov.fit((piece,), 0)
    roll = encode(piece[:5], 36, 81)[None]
    masks = np.zeros_like(roll)
    masks[0, 2, :, 0] = 1  # 60 62 [?] 62 60
    batch = Batch(roll, masks, np.array([5]))
    probs = np.exp(chain(batch)[0, 2, :, 0])
    assert probs.sum() == pytest.approx(1.0) and probs[60 - 36] > 0.95
    flat = np.exp(unigram(batch)[0, 2, :, 0])
    assert flat[60 - 36] == pytest.approx(flat[62 - 36]) and flat[60 - 36] < 0.2
    everything = Batch(roll, np.ones_like(roll), np.array([5]))  # nothing known: the unigram
    np.testing.assert_allclose(chain(everything), unigram(everything), atol=1e-12)


def test_the_schedule_and_magentas_plateau_rule():
    options = CoconetTrainingOptions(steps=100, learning_rate=0.1, final_lr_fraction=0.1)
    assert learning_rate_at(0, options, 0) == pytest.approx(0.1)
    assert learning_rate_at(100, options, 1) == pytest.approx(0.005)
    assert plateau([3.0, 2.0, 2.5, 2.1, 2.2], patience=2) == (1, 0, 2.0)
    assert plateau([3.0, 2.0, 2.5, 1.0], patience=2) == (0, 0, 1.0)
    with pytest.raises(ValueError, match="mask method"):
        CoconetTrainingOptions(maskout_method="random")


def _held_chorales(count: int, seed: int) -> Chorales:
    """Four voices holding each chord for a quarter (4 steps), moving by steps: a masked
    16th is mostly its neighbours' pitch, which a tiny network learns in a few steps."""
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(count):
        soprano = 67 + np.cumsum(rng.integers(-2, 3, 12)).clip(-7, 7)
        chords = np.stack([soprano, soprano - 4, soprano - 9, soprano - 19], axis=1)
        pieces.append(np.repeat(chords, 4, axis=0).astype(np.float32))
    return Chorales(tuple(pieces), tuple(f"piece{i}" for i in range(count)))


TINY = dict(num_layers=6, num_filters=16, crop_piece_len=16, batch_size=8, eval_window=16)


def test_a_tiny_run_learns_exports_reloads_and_resumes(tmp_path, capsys):
    train, valid = _held_chorales(24, 0), _held_chorales(4, 1)
    options = CoconetTrainingOptions(**TINY, steps=60, eval_every=30)
    untrained = CoconetNetwork(options.config())
    initialize(untrained, torch.Generator().manual_seed(0))
    batches = held_out_batches(valid.pieces, options.config(), 16, 2, 123)
    before = score(network_predictor(untrained), batches)["nll"]
    export = tmp_path / "tiny"
    summary = train_coconet(train, valid, tmp_path / "run", options, export_name=str(export))
    after = summary["history"][-1]["nll"]
    assert after < 0.5 * before and summary["steps"] == 60 and len(summary["history"]) == 2

    meta = json.loads(export.with_suffix(".json").read_text())
    assert (meta["family"], meta["dtype"]) == ("coconet", "float16")
    assert meta["hparams"]["mask_indicates_context"] and meta["training"]["steps"] == 60
    model = Coconet.load(export.with_suffix(".safetensors"), "cpu")
    assert model.config.name == "straight-6-16"
    _, best = load_native(tmp_path / "run" / "best.safetensors")
    exported = score(network_predictor(model.network), batches)["nll"]
    assert exported == pytest.approx(score(network_predictor(best), batches)["nll"], abs=2e-3)
    assert exported == pytest.approx(min(h["nll"] for h in summary["history"]), abs=2e-3)
    roll = encode(valid.pieces[0][:16], 36, 81)[None]
    harmonized = model.harmonize(roll, temperature=0.5, seed=0)
    assert (harmonized[..., 0] == roll[..., 0]).all() and (harmonized.sum(axis=2) == 1).all()

    capsys.readouterr()
    longer = CoconetTrainingOptions(**TINY, steps=70, eval_every=30)
    resumed = train_coconet(train, valid, tmp_path / "run", longer)
    assert "resuming from step 60" in capsys.readouterr().out
    assert resumed["steps"] == 70 and len(resumed["history"]) == 3


def _summary(out: str) -> dict:
    """The JSON summary the command prints after its validation lines."""
    return json.loads(out[out.index("{\n") :])


def test_the_cli_trains_from_a_corpus_and_from_midi_folders(tmp_path, capsys):
    save_chorales(
        tmp_path / "chorales.npz", {"train": _held_chorales(8, 0), "valid": _held_chorales(2, 1)}
    )
    common = ["--layers", "4", "--filters", "8", "--crop", "16", "--batch-size", "4"]
    common += ["--steps", "4", "--eval-every", "2", "--no-track"]
    code = main(
        [
            *("train-coconet", str(tmp_path / "chorales.npz"), "--out", str(tmp_path / "run")),
            *common,
            *("--export", str(tmp_path / "model"), "--learning-rate", "0.01", "--transpose", "2"),
        ]
    )
    assert code == 0
    printed = _summary(capsys.readouterr().out)
    assert printed["steps"] == 4 and printed["options"]["transpose"] == 2
    assert Coconet.load(tmp_path / "model.json", "cpu").config.name == "straight-4-8"

    for split, count in (("train", 3), ("valid", 1)):
        (tmp_path / "midi" / split).mkdir(parents=True)
        for index in range(count):
            voices = [
                [(0, 2, 72), (2, 4, 74)],
                [(0, 4, 67)],
                [(0, 4, 60)],
                [(0, 2, 48), (2, 4, 43)],
            ]
            midi = four_voices(voices)
            (tmp_path / "midi" / split / f"{index}.mid").write_bytes(midi)
    (tmp_path / "midi" / "train" / "solo.mid").write_bytes(four_voices([[(0, 1, 60)]]))
    assert (
        main(["train-coconet", str(tmp_path / "midi"), "--out", str(tmp_path / "run2"), *common])
        == 0
    )
    assert _summary(capsys.readouterr().out)["train_chorales"] == 3  # solo.mid skipped
    assert main(["train-coconet", str(tmp_path / "none"), "--out", str(tmp_path / "run3")]) == 1
