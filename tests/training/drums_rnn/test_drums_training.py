"""DrumsRNN training end to end on real MMA grooves: the corpus, native checkpoints, a tiny
training run, evaluation, the n-gram baseline over drum steps and the CLI. Tiny networks
keep it fast; the corpus was checked against magenta's own pipeline on the whole library.
"""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from note_seq import NoteSequence, sequences_lib

from bridge.frontends.cli import main
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.drums_rnn.config import CONFIGS
from bridge.models.drums_rnn.generator import continue_drums
from bridge.models.drums_rnn.model import FAMILY as DRUMS
from bridge.models.drums_rnn.model import DrumsRnn
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.melody_rnn.model import MelodyRnn
from bridge.music.drums import NUM_DRUM_EVENTS, extract_drum_track
from bridge.music.midi import read_midi
from bridge.training.corpus import build_corpus, load_corpus, read_folder, save_corpus
from bridge.training.drums_rnn.corpus import DrumExtractionRules
from bridge.training.events_rnn.evaluation import compare_with_ngrams, evaluate_events_rnn
from bridge.training.events_rnn.train import TrainingOptions, train_events_rnn
from bridge.training.events_rnn.trainable import family_of_checkpoint, family_of_config
from bridge.training.ngram import NGramModel, class_vocabulary, melody_vocabulary

FOLK = Path(__file__).parents[3] / "models" / "pretrained" / "folk_attention_rnn.safetensors"
RULES = DrumExtractionRules()
GROOVES = {
    "train": [
        ("stdlib/8beat", "8Beat"),
        ("stdlib/popballad", "PopBallad1"),
        ("stdlib/waltz", "Waltz"),
    ],
    "valid": [("stdlib/popballad", "PopBallad2"), ("stdlib/68march", "68March")],
}
TINY = TrainingOptions(
    config="drum_kit", layer_sizes=(16, 16), steps=20, batch_size=8, window=64, eval_every=10
)


@pytest.fixture(scope="module")
def folders(render_groove, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("grooves")
    for split, grooves in GROOVES.items():
        (root / split).mkdir()
        for file, name in grooves:
            (root / split / f"{name}.mid").write_bytes(render_groove(file, name))
    return root


@pytest.fixture(scope="module")
def tracks(folders) -> dict[str, list[np.ndarray]]:
    return {split: read_folder(folders / split, RULES).sequences for split in GROOVES}


@pytest.fixture(scope="module")
def trained(tracks, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("trained")
    summary = train_events_rnn(
        tracks["train"], tracks["valid"], out / "run", TINY, export_name=str(out / "tiny_drums")
    )
    return out, summary


def test_drum_tracks_are_the_grooves_steps(render_groove, tmp_path):
    midi = render_groove("stdlib/8beat", "8Beat")
    (tmp_path / "8beat.mid").write_bytes(midi)
    corpus = read_folder(tmp_path, RULES)
    [track] = corpus.sequences
    assert track.dtype == np.int16 and 7 * 16 <= len(track) <= 8 * 16
    # The generator's reading of the same clip runs to the clip's end; the pipeline's track
    # ends after its last hit.
    primer = extract_drum_track(read_midi(midi)).events
    np.testing.assert_array_equal(track, primer[: len(track)])
    assert not primer[len(track) :].any()


def test_magentas_extraction_rules():
    # Kicks on every beat for 8 bars, 2 bars of rest, 8 bars, a 4-bar fragment after
    # another rest, and 40 bars: gaps split tracks, short ones go, long ones are cut.
    sequence = NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=120)
    sequence.time_signatures.add(numerator=4, denominator=4)
    for first_bar, bars in ((0, 8), (10, 8), (20, 4), (26, 40)):
        for beat in range(4 * first_bar, 4 * (first_bar + bars)):
            note = sequence.notes.add(pitch=36, velocity=90, is_drum=True, instrument=9)
            note.start_time, note.end_time = beat * 0.5, beat * 0.5 + 0.1
    sequence.notes.add(pitch=38, velocity=0, is_drum=True, start_time=4.0, end_time=4.1)
    sequence.total_time = 66 * 2.0
    stats = Counter()
    quantized = sequences_lib.quantize_note_sequence(sequence, RULES.steps_per_quarter)
    tracks = RULES.extract(quantized, stats)
    assert [len(t) for t in tracks] == [8 * 16 - 3, 8 * 16 - 3, 512]
    assert set(np.concatenate(tracks).tolist()) == {0, 1}  # the silent snare is left out
    assert stats == {"drum_tracks_discarded_too_short": 1, "drum_tracks_truncated": 1}


def test_build_corpus_can_exclude_tracks_of_another_corpus(folders, tmp_path):
    train = build_corpus(folders / "train", tmp_path / "train.npz", RULES)
    assert [t.tolist() for t in load_corpus(tmp_path / "train.npz")] == [
        t.tolist() for t in train.sequences
    ]
    report = json.loads((tmp_path / "train.json").read_text())
    assert (report["kind"], report["sequences"], report["rules"]["min_bars"]) == (
        "drum_tracks",
        3,
        7,
    )
    (tmp_path / "valid").mkdir()
    for name in ("8Beat", "PopBallad2"):
        split = "train" if name == "8Beat" else "valid"
        (tmp_path / "valid" / f"{name}.mid").write_bytes(
            (folders / split / f"{name}.mid").read_bytes()
        )
    valid = build_corpus(
        tmp_path / "valid", tmp_path / "valid.npz", RULES, exclude=tmp_path / "train.npz"
    )
    assert len(valid.sequences) == 1
    assert valid.stats["drum_tracks_discarded_in_excluded_corpus"] == 1


def test_native_save_and_load_round_trip(tmp_path):
    config = CONFIGS["drum_kit"].with_layers((16, 16))
    torch.manual_seed(0)
    network = DRUMS.build_network(config)
    path = DRUMS.save_native(config, network, tmp_path / "drums", half=False)
    assert json.loads(path.with_suffix(".json").read_text())["family"] == "drums_rnn"
    model = DrumsRnn.load(path, "cpu")
    assert model.config == config
    expected = network.state_dict()
    for name, value in model.network.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0)
    half = DrumsRnn.load(DRUMS.save_native(config, network, tmp_path / "half"), "cpu")
    torch.testing.assert_close(
        half.network.output.weight, network.output.weight.half().float(), rtol=0, atol=0
    )
    assert family_of_checkpoint(path) is family_of_config("drum_kit")
    with pytest.raises(CheckpointError, match="a drums_rnn model, not a MelodyRNN"):
        MelodyRnn.load(path, "cpu")
    # The bundled melody model, written before any drum could be saved, still loads.
    assert family_of_checkpoint(FOLK).checkpoints.name == "melody_rnn"
    assert MelodyRnn.load(FOLK, "cpu").config.name == "attention_rnn"


def test_a_tiny_training_run_continues_a_groove(trained, tracks, render_groove):
    out, summary = trained
    assert (summary["family"], summary["steps"], len(summary["history"])) == ("drums_rnn", 20, 2)
    assert summary["config"]["layer_sizes"] == (16, 16)
    model = DrumsRnn.load(out / "tiny_drums.safetensors", "cpu")
    assert [layer.hidden_size for layer in model.network.layers] == [16, 16]
    assert json.loads((out / "tiny_drums.json").read_text())["dtype"] == "float16"
    groove = read_midi(render_groove("stdlib/popballad", "PopBallad1", bars=4))
    options = SamplingOptions(seed=1)
    results = continue_drums(model, groove, bars=2, variations=2, sampling_options=options)
    assert [result.length for result in results] == [8.0, 8.0]
    assert all(0 <= note.start < 8.0 for result in results for note in result.notes)
    # Resuming a finished run trains no further.
    again = train_events_rnn(tracks["train"], tracks["valid"], out / "run", TINY)
    assert (again["steps"], again["history"]) == (20, summary["history"])


def test_evaluation_of_a_drum_model(trained, tracks):
    out, _ = trained
    model = DrumsRnn.load(out / "tiny_drums.safetensors", "cpu")
    metrics = evaluate_events_rnn(model.network, model.encoder, tracks["valid"])
    # One-hot families: a class is its event, so both views agree.
    assert metrics["event_nll_per_step"] == pytest.approx(metrics["nll_per_step"])
    assert metrics["event_accuracy"] == metrics["accuracy"]
    assert metrics["steps"] == sum(len(t) - 1 for t in tracks["valid"])
    nll = [
        -np.log(model.softmax(track)[np.arange(len(track) - 1), track[1:]])
        for track in tracks["valid"]
    ]
    assert metrics["nll_per_step"] == pytest.approx(np.concatenate(nll).mean(), rel=1e-5)
    vocabulary = class_vocabulary(NUM_DRUM_EVENTS)
    results = compare_with_ngrams(
        model.network, model.encoder, vocabulary, tracks["train"], tracks["valid"], (2,)
    )
    assert list(results) == ["model", "2-gram"]
    assert results["2-gram"]["steps"] == metrics["steps"]


def test_ngrams_over_drum_steps(tracks):
    vocabulary = class_vocabulary(NUM_DRUM_EVENTS)
    model = NGramModel.fit(tracks["train"], 3, vocabulary=vocabulary)
    assert model.vocabulary.tolist() == list(range(512))
    distribution = model.predict_distribution(tracks["valid"][0][:5])
    assert distribution.shape == (512,) and distribution.sum() == pytest.approx(1.0)
    metrics = model.evaluate(tracks["valid"])
    assert metrics["steps"] == sum(len(t) - 1 for t in tracks["valid"])
    assert 0 < metrics["no_event_accuracy"] <= 1  # split on the empty step, class 0
    with pytest.raises(ValueError, match="classes 0-511"):
        model.log_prob([1], 512)


def test_ngram_vocabularies_are_only_names_for_classes():
    # Melodies fitted as melody events and as their one-hot classes give the same numbers.
    rng = np.random.default_rng(0)
    melody = melody_vocabulary(60, 64)
    train = [rng.choice(melody.events, size=40) for _ in range(10)]
    test = [rng.choice(melody.events, size=30) for _ in range(3)]
    as_events = NGramModel.fit(train, 3, min_note=60, max_note=64).evaluate(test)
    classes = class_vocabulary(len(melody))
    as_classes = NGramModel.fit([melody.indices(m) for m in train], 3, vocabulary=classes)
    assert as_classes.evaluate([melody.indices(m) for m in test]) == as_events


def test_the_cli_trains_and_evaluates_drums(folders, tracks, tmp_path, capsys):
    save_corpus(tmp_path / "valid.npz", tracks["valid"])
    train_args = ["train", str(folders / "train"), str(tmp_path / "valid.npz")]
    tiny = ["--layers", "8", "--steps", "2", "--batch-size", "4", "--window", "32"]
    tiny += ["--attention-length", "0", "--dropout", "0.1"]
    out = ["--out", str(tmp_path / "run"), "--export", str(tmp_path / "cli_drums")]
    assert main([*train_args, "--config", "drum_kit", *tiny, "--eval-every", "2", *out]) == 0
    printed = capsys.readouterr().out  # validation lines, then the summary
    summary = json.loads(printed[printed.index("{") :])
    assert summary["family"] == "drums_rnn" and summary["options"]["dropout"] == 0.1
    config, network = DRUMS.load_native(tmp_path / "cli_drums.safetensors")
    assert config.attn_length == 0 and network.attention is None
    evaluate = ["evaluate", str(tmp_path / "cli_drums.safetensors")]
    data = ["--test", str(tmp_path / "valid.npz"), "--train", str(folders / "train")]
    assert main([*evaluate, *data, "--orders", "2"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["model"]["steps"] == results["2-gram"]["steps"] > 0
    assert main([*train_args, "--config", "drum_kits", *out]) == 1
    assert "unknown config 'drum_kits'" in capsys.readouterr().err
