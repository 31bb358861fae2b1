"""MusicVAE training: the loss against magenta's own numbers, the 2-bar windows its converters
cut, a tiny training run end to end (export, reload, resume) and the CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.frontends.cli import main
from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.music_vae.checkpoint import load_tf_checkpoint
from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.model import MusicVae
from bridge.models.music_vae.native import load_native
from bridge.models.music_vae.network import NetworkSizes, build_network
from bridge.music.clip import Clip, Note
from bridge.music.midi import write_midi
from bridge.training.corpus import load_corpus, read_folder, save_corpus
from bridge.training.music_vae.corpus import SliceRules, Slices, drum_slice_rules
from bridge.training.music_vae.evaluation import evaluate_music_vae, majority_accuracy
from bridge.training.music_vae.loss import (
    decoder_outputs,
    kl_divergence,
    reconstruction_loss,
    sampling_probability,
)
from bridge.training.music_vae.train import VaeTrainingOptions, train_music_vae

FIXTURES = Path(__file__).parents[2] / "fixtures" / "music_vae"
MELODY = config_named("cat-mel_2bar_small")
TINY = NetworkSizes(encoder=(16,), decoder=(16, 16), z=8)


def test_the_reconstruction_loss_is_magentas():
    """magenta's reconstruction_loss of its own teacher-forced logits (a trained fixture)."""
    reference = np.load(FIXTURES / "cat-mel_2bar_small" / "reference.npz")
    network = load_tf_checkpoint(FIXTURES / "cat-mel_2bar_small" / "checkpoint", MELODY)
    targets = reference["example_outputs"][reference["tf_target_index"]].astype(np.float32)
    loss = reconstruction_loss(
        network.decoder, torch.from_numpy(reference["tf_logits"]), torch.from_numpy(targets)
    )
    assert np.abs(loss.numpy() - reference["tf_r_loss"]).max() <= 1e-4


def test_the_kl_is_the_closed_form_of_a_diagonal_gaussian():
    mu, sigma = torch.randn(5, 8), torch.rand(5, 8) + 0.1
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    assert torch.allclose(kl_divergence(mu, sigma), expected, atol=1e-5)


def test_scheduled_sampling_follows_the_inverse_sigmoid():
    assert sampling_probability(5000, 0.0) == 0.0
    assert sampling_probability(0, 1000.0) == pytest.approx(1 - 1000 / 1001)
    assert sampling_probability(10_000, 1000.0) == pytest.approx(1 - 1000 / (1000 + np.e**10))
    assert sampling_probability(10**9, 1000.0) == 1.0


def test_stepwise_decoding_with_no_sampling_is_teacher_forcing():
    torch.manual_seed(0)
    decoder = build_network(MELODY, TINY).decoder.eval()
    targets = torch.nn.functional.one_hot(torch.randint(0, 90, (3, 32)), 90).float()
    z = torch.randn(3, 8)
    with torch.no_grad():
        stepwise = decoder_outputs(decoder, z, targets, 1e-30)
        forced = decoder_outputs(decoder, z, targets, 0.0)
        free = decoder_outputs(decoder, z, targets, 1.0)
    assert torch.allclose(stepwise, forced, atol=1e-5)
    assert not torch.allclose(free, forced, atol=1e-3), "probability 1 reads the samples"


def _tune(folder: Path, name: str, bars: int, time_signature=(4, 4)) -> None:
    beats = time_signature[0] * 4 / time_signature[1]
    pitches = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = [Note(pitches[i % 8] + (i // 8), i / 2, 0.5, 90) for i in range(int(2 * beats * bars))]
    notes.append(Note(120, 0.0, 1.0, 90))  # above the piano: left out
    write_midi(Clip.from_notes(notes, bars * beats, time_signature=time_signature), folder / name)


def test_melody_windows_slide_a_bar_at_a_time_over_4_4_pieces(tmp_path):
    _tune(tmp_path, "four_bars.mid", 4)
    _tune(tmp_path, "waltz.mid", 4, (3, 4))
    corpus = read_folder(tmp_path, SliceRules())
    assert corpus.stats["sequences_discarded_not_4_4"] == 1
    assert [len(w) for w in corpus.sequences] == [32, 32, 32]  # ending at bars 2, 3 and 4
    first, second = corpus.sequences[:2]
    assert np.array_equal(first[16:], second[:16])
    assert first[0] == 60 and 120 not in first


def test_drum_windows_of_real_grooves(render_groove, tmp_path):
    (tmp_path / "8beat.mid").write_bytes(render_groove("stdlib/8beat", "8Beat"))
    windows = read_folder(tmp_path, drum_slice_rules()).sequences
    assert windows and all(len(w) == 32 for w in windows)
    assert len({w.tobytes() for w in windows}) == len(windows), "distinct windows only"
    assert max(int(w.max()) for w in windows) < 512 and any(w.any() for w in windows)


def _melody_windows(count: int, seed: int) -> np.ndarray:
    """Rising and falling 2-bar figures on random roots: easy to learn."""
    rng = np.random.default_rng(seed)
    windows = np.full((count, 32), -2, dtype=np.int16)
    for row, root in enumerate(rng.integers(55, 75, count)):
        step = 1 if row % 2 else -1
        windows[row, ::4] = root + step * np.arange(8)
    return windows


def test_a_tiny_run_learns_exports_reloads_and_resumes(tmp_path, capsys):
    train = Slices(MELODY, _melody_windows(256, 0))
    valid = Slices(MELODY, _melody_windows(64, 1))
    options = VaeTrainingOptions(sizes=TINY, steps=60, batch_size=32, eval_every=30)
    untrained = build_network(MELODY, TINY)
    before = evaluate_music_vae(untrained, valid)
    export = tmp_path / "exported"
    summary = train_music_vae(train, valid, tmp_path / "run", options, str(export))
    after = summary["history"][-1]
    assert after["r_loss"] < 0.8 * before["r_loss"]
    assert after["kl_bits"] >= 0 and 0 <= after["greedy_accuracy"] <= 1

    meta = json.loads(export.with_suffix(".json").read_text())
    assert meta["config"] == "cat-mel_2bar_small" and meta["dtype"] == "float16"
    assert meta["training"]["steps"] == 60
    model = MusicVae.load(export.with_suffix(".safetensors"), "cat-mel_2bar_small", "cpu")
    _, _, best = load_native(tmp_path / "run" / "best.safetensors")
    inputs = Slices(MELODY, _melody_windows(4, 2)).tensors(np.arange(4))[0]
    lengths = torch.full((4,), 32)
    with torch.no_grad():
        exported_mu, _ = model.network.encoder(inputs, lengths)
        best_mu, _ = best.eval().encoder(inputs, lengths)
    assert torch.allclose(exported_mu, best_mu, atol=2e-2), "the fp16 export stays close"
    with pytest.raises(CheckpointError, match="cat-mel_2bar_small model, configured as"):
        MusicVae.load(export.with_suffix(".safetensors"), "cat-drums_2bar_small", "cpu")

    capsys.readouterr()
    longer = VaeTrainingOptions(sizes=TINY, steps=70, batch_size=32, eval_every=30)
    resumed = train_music_vae(train, valid, tmp_path / "run", longer)
    assert "resuming from step 60" in capsys.readouterr().out
    assert resumed["steps"] == 70 and len(resumed["history"]) == len(summary["history"]) + 1


def test_the_cli_trains_a_drum_vae_from_a_corpus(tmp_path, capsys):
    rng = np.random.default_rng(0)
    windows = [rng.choice([0, 1, 2, 5, 64], 32).astype(np.int16) for _ in range(40)]
    save_corpus(tmp_path / "train.npz", windows[:32])
    save_corpus(tmp_path / "valid.npz", windows[32:])
    assert len(load_corpus(tmp_path / "valid.npz")) == 8
    code = main(
        [
            "train-vae",
            str(tmp_path / "train.npz"),
            str(tmp_path / "valid.npz"),
            "--out",
            str(tmp_path / "run"),
            "--config",
            "cat-drums_2bar_small",
            "--steps",
            "2",
            "--eval-every",
            "2",
            "--export",
            str(tmp_path / "drums"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{") :])
    assert summary["steps"] == 2 and summary["train_windows"] == 32
    config, sizes, _ = load_native(tmp_path / "drums.safetensors")
    assert config.name == "cat-drums_2bar_small" and sizes.z == 256


def test_training_refuses_configs_it_does_not_know():
    with pytest.raises(ValueError, match="training knows the MusicVAE configs"):
        VaeTrainingOptions(config="hierdec-mel_16bar").hparams()


def test_evaluate_reports_a_vae_beside_the_majority_class(tmp_path, capsys):
    windows = _melody_windows(48, 3)
    save_corpus(tmp_path / "train.npz", list(windows[:32]))
    save_corpus(tmp_path / "test.npz", list(windows[32:]))
    train_music_vae(
        Slices(MELODY, windows[:32]),
        Slices(MELODY, windows[32:]),
        tmp_path / "run",
        VaeTrainingOptions(sizes=TINY, steps=2, eval_every=2),
        str(tmp_path / "tiny"),
    )
    capsys.readouterr()
    args = ["--test", str(tmp_path / "test.npz"), "--train", str(tmp_path / "train.npz")]
    assert main(["evaluate", str(tmp_path / "tiny.safetensors"), *args]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["config"] == "cat-mel_2bar_small" and results["test_windows"] == 16
    # Each figure holds 8 notes and 24 "no event" steps: the majority class is a quarter wrong.
    assert results["majority_accuracy"] == pytest.approx(0.75)
    expected = majority_accuracy(Slices(MELODY, windows[:32]), Slices(MELODY, windows[32:]))
    assert expected == pytest.approx(0.75)
    assert {"kl_bits", "r_loss", "accuracy", "greedy_accuracy"} <= set(results)
