"""PolyphonyRNN training end to end on real Bach chorales: magenta's polyphony pipeline, the
chorale exporter, a tiny training run, export, reload, continuation, evaluation and the CLI.
The corpus was checked against magenta's own pipeline on every exported chorale
(models/reference/check_polyphony_pipeline.py); these tests hold its rules in place.
"""

import importlib.util
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import mido
import numpy as np
import pytest
from note_seq import NoteSequence, midi_to_note_sequence, sequences_lib

from bridge.frontends.cli import main
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.polyphony_rnn.generator import continue_polyphony
from bridge.models.polyphony_rnn.model import PolyphonyRnn
from bridge.music.midi import read_midi
from bridge.music.polyphony import (
    CONTINUED_NOTE,
    END,
    NEW_NOTE,
    NUM_POLYPHONIC_EVENTS,
    START,
    STEP_END,
    PolyphonicSequence,
)
from bridge.training.corpus import read_folder, save_corpus
from bridge.training.events_rnn.evaluation import evaluate_events_rnn
from bridge.training.events_rnn.train import TrainingOptions, train_events_rnn
from bridge.training.events_rnn.trainable import family_of_checkpoint, family_of_config
from bridge.training.ngram import NGramModel, class_vocabulary
from bridge.training.polyphony_rnn.corpus import PolyphonyExtractionRules

SCRIPT = Path(__file__).resolve().parents[3] / "models" / "training" / "export_bach_chorales.py"
_spec = importlib.util.spec_from_file_location("export_bach_chorales", SCRIPT)
export_bach_chorales = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = export_bach_chorales  # dataclasses look their module up there
_spec.loader.exec_module(export_bach_chorales)

PLAIN = PolyphonyExtractionRules(transpositions=(0,))
CHORALES = {
    "train": ["bach/bwv99.6.mxl", "bach/bwv26.6.mxl", "bach/bwv40.8.mxl"],
    "valid": ["bach/bwv57.8.mxl"],
}
# A rate ten times Magenta's, so that a few steps teach the tiny model to end steps.
TINY = TrainingOptions(
    config="polyphony",
    layer_sizes=(16, 16),
    steps=40,
    batch_size=8,
    window=64,
    learning_rate=1e-2,
    eval_every=20,
)


@pytest.fixture(scope="module")
def folders(chorale_midi, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("chorales")
    for split, chorales in CHORALES.items():
        (root / split).mkdir()
        for chorale in chorales:
            (root / split / f"{Path(chorale).stem}.mid").write_bytes(chorale_midi(chorale))
    return root


@pytest.fixture(scope="module")
def tracks(folders) -> dict[str, list[np.ndarray]]:
    return {split: read_folder(folders / split, PLAIN).sequences for split in CHORALES}


@pytest.fixture(scope="module")
def trained(folders, tmp_path_factory) -> tuple[Path, dict, list[np.ndarray]]:
    out = tmp_path_factory.mktemp("trained")
    train = read_folder(folders / "train", PolyphonyExtractionRules()).sequences
    valid = read_folder(folders / "valid", PLAIN).sequences
    summary = train_events_rnn(train, valid, out / "run", TINY, export_name=str(out / "tiny"))
    return out, summary, train


def _piece(notes: list[tuple[int, int, int]], steps: int, **fields) -> NoteSequence:
    """A quantized 4/4 piece at 120 qpm: (pitch, start step, end step) per note."""
    sequence = NoteSequence(ticks_per_quarter=220, total_time=steps * 0.125)
    sequence.tempos.add(qpm=120)
    sequence.time_signatures.add(numerator=4, denominator=4)
    for pitch, start, end in notes:
        sequence.notes.add(
            pitch=pitch, velocity=80, start_time=start * 0.125, end_time=end * 0.125, **fields
        )
    return sequences_lib.quantize_note_sequence(sequence, 4)


def test_the_event_stream_of_a_small_piece():
    # A C major triad held two steps, a D starting as the triad ends, a step of silence.
    piece = _piece([(60, 0, 2), (64, 0, 2), (67, 0, 2), (62, 2, 3)], steps=4)
    stats = Counter()
    [events] = PolyphonyExtractionRules(min_steps=4, transpositions=(0,)).extract(piece, stats)
    new, held = NEW_NOTE, CONTINUED_NOTE
    assert events.tolist() == [
        START,
        *(new + 67, new + 64, new + 60, STEP_END),
        *(held + 67, held + 64, held + 60, STEP_END),
        *(new + 62, STEP_END),
        STEP_END,
        END,
    ]
    assert stats == {"transpositions_generated": 1}
    assert PolyphonyExtractionRules(min_steps=5, transpositions=(0,)).extract(piece, stats) == []
    assert stats["polyphonic_tracks_discarded_too_short"] == 1


def test_magentas_rules_for_length_pitch_range_and_programs():
    rules = PolyphonyExtractionRules(transpositions=(-2, 0, 3))
    stats = Counter()
    for steps in (79, 80, 512, 513):  # 5 bars at least, 32 at most, and never cut
        kept = rules.extract(_piece([(60, 0, 4)], steps), stats)
        assert [int(np.count_nonzero(e == STEP_END)) for e in kept] == [steps] * len(kept)
        assert len(kept) == (3 if 80 <= steps <= 512 else 0)
    assert stats["polyphonic_tracks_discarded_too_short"] == 3
    assert stats["polyphonic_tracks_discarded_too_long"] == 3
    # A transposition leaving MIDI's range is skipped; drums are never transposed.
    stats = Counter()
    high = _piece([(126, 0, 4)], 80)
    drums = _piece([(36, 0, 4)], 80, is_drum=True, instrument=9)
    assert len(rules.extract(high, stats)) == 2
    assert stats["skipped_due_to_range_exceeded"] == 1
    assert {e[1] for e in rules.extract(drums, stats)} == {NEW_NOTE + 36}
    two_programs = _piece([(60, 0, 4)], 80)
    two_programs.notes.add(pitch=64, program=40, quantized_start_step=0, quantized_end_step=4)
    assert rules.extract(two_programs, stats) == []
    assert stats["polyphonic_tracks_discarded_more_than_1_program"] == 3


def test_a_chorale_becomes_one_stream_of_its_notes(chorale_midi, tmp_path):
    (tmp_path / "bwv99.6.mid").write_bytes(chorale_midi("bach/bwv99.6.mxl"))
    [plain] = read_folder(tmp_path, PLAIN).sequences
    quantized = sequences_lib.quantize_note_sequence(
        midi_to_note_sequence(chorale_midi("bach/bwv99.6.mxl")), 4
    )
    assert plain.dtype == np.int16 and (plain[0], plain[-1]) == (START, END)
    assert np.count_nonzero(plain == STEP_END) == quantized.total_quantized_steps
    assert np.count_nonzero(plain == START) == np.count_nonzero(plain == END) == 1
    # Within a step, pitches fall (held and new notes alike), and STEP_END closes it.
    steps = np.split(plain[1:-1], np.flatnonzero(plain[1:-1] == STEP_END) + 1)[:-1]
    for step in steps:
        pitches = [(e - NEW_NOTE) % 128 for e in step[:-1]]
        assert pitches == sorted(pitches, reverse=True) and step[-1] == STEP_END
    assert max(len(step) - 1 for step in steps) == 4  # four voices
    # Decoded back, the events are the chorale's notes on the grid.
    notes = PolyphonicSequence(plain).to_notes()
    assert sorted((n.pitch, n.start * 4, n.duration * 4) for n in notes) == sorted(
        (n.pitch, n.quantized_start_step, n.quantized_end_step - n.quantized_start_step)
        for n in quantized.notes
    )
    # Magenta's nine transpositions are the same stream with every pitch moved.
    transposed = read_folder(tmp_path, PolyphonyExtractionRules()).sequences
    assert len(transposed) == 9
    for amount, events in zip(range(-4, 5), transposed, strict=True):
        moved = np.where(plain >= NEW_NOTE, plain + amount, plain)
        np.testing.assert_array_equal(events, moved)


def _tiny_corpus(root: Path) -> Path:
    """A corpus folder: two versions of one chorale, one harmonization used in two cantatas,
    a transposed copy under another number, a chorale with a horn part, a piano piece."""
    import music21

    source = Path(music21.__file__).parent / "corpus" / "bach"
    bach = root / "bach"
    bach.mkdir(parents=True)
    for name in ("bwv18.5-lz", "bwv18.5-w", "bwv41.6", "bwv171.6", "bwv1.6", "bwv99.6"):
        shutil.copy(source / f"{name}.mxl", bach / f"{name}.mxl")
    music21.converter.parse(source / "bwv99.6.mxl").transpose(3).write(
        "musicxml", bach / "bwv999.1.musicxml"
    )
    piano = music21.stream.Score([music21.stream.Part([music21.note.Note("C4")])])
    piano.parts[0].partName = "Piano"
    piano.write("musicxml", bach / "bwv998.musicxml")
    return root


def test_the_exporter_splits_by_chorale_and_skips_music_already_written(tmp_path, monkeypatch):
    pytest.importorskip("music21")
    corpus, out = _tiny_corpus(tmp_path / "corpus"), tmp_path / "out"
    manifest = export_bach_chorales.export(corpus, out, "test")
    chorales = {Path(c["file"]).stem: c for c in manifest["chorales"]}
    assert chorales["bwv18.5-lz"]["split"] == chorales["bwv18.5-w"]["split"]
    assert chorales["bwv998"]["skipped"].startswith("not a chorale")
    assert chorales["bwv1.6"]["parts_dropped"] == ["Horn 2"]
    rank = {split: i for i, split in enumerate(export_bach_chorales.SPLITS)}
    for pair in (("bwv41.6", "bwv171.6"), ("bwv99.6", "bwv999.1"), ("bwv18.5-lz", "bwv18.5-w")):
        kept, skipped = sorted(
            (chorales[name] for name in pair), key=lambda c: c["midi_file"] is None
        )
        assert kept["midi_file"] and skipped["skipped"].startswith(f"same music as {kept['file']}")
        assert rank[kept["split"]] <= rank[skipped["split"]]
    written = sorted(
        path.relative_to(out).as_posix()
        for split in export_bach_chorales.SPLITS
        for path in (out / split).glob("*.mid")
    )
    assert written == sorted(c["midi_file"] for c in chorales.values() if c["midi_file"])
    assert len(written) == 4
    midi = mido.MidiFile(out / chorales["bwv1.6"]["midi_file"])
    assert sum(any(m.type == "note_on" for m in track) for track in midi.tracks) == 4
    assert {m.program for m in midi if m.type == "program_change"} == {0}
    # Unchanged scores are not parsed again; a removed one loses its MIDI file.
    mtimes = {path: (out / path).stat().st_mtime_ns for path in written}

    def no_parsing(path: Path) -> None:
        raise AssertionError(f"{path} was rendered again")

    monkeypatch.setattr(export_bach_chorales, "render_chorale", no_parsing)
    assert export_bach_chorales.export(corpus, out, "test") == manifest
    assert {path: (out / path).stat().st_mtime_ns for path in written} == mtimes
    (corpus / "bach" / "bwv1.6.mxl").unlink()
    export_bach_chorales.export(corpus, out, "test")
    assert not (out / chorales["bwv1.6"]["midi_file"]).exists()
    assert not (out / ".renderings" / "bwv1.6.mxl.mid").exists()


def test_the_exporter_says_how_to_get_music21(monkeypatch, capsys):
    monkeypatch.setattr(export_bach_chorales.importlib.util, "find_spec", lambda name: None)
    assert export_bach_chorales.main(["--out", "unused"]) == 2
    assert "pip install music21" in capsys.readouterr().err


def test_music_is_the_same_in_any_key_but_not_with_other_notes():
    music = export_bach_chorales.Music.of
    bar = [(0, 1, 60), (0, 1, 64), (1, 2, 62), (3, 1, 67)]
    notes = [(4 * i + onset, duration, pitch) for i in range(3) for onset, duration, pitch in bar]
    assert music(notes).shared(music([(a, d, p - 5) for a, d, p in notes])) == 1.0
    changed = [*notes[:-1], (11, 1, 69)]
    assert music(notes).shared(music(changed)) == pytest.approx(11 / 12)


def test_a_tiny_training_run_continues_a_chorale(trained, tracks, chorale_midi):
    out, summary, train = trained
    assert (summary["family"], summary["steps"], len(summary["history"])) == (
        "polyphony_rnn",
        TINY.steps,
        2,
    )
    assert len(train) == 27  # three chorales in nine keys
    model = PolyphonyRnn.load(out / "tiny.safetensors", "cpu")
    assert [layer.hidden_size for layer in model.network.layers] == [16, 16]
    assert family_of_checkpoint(out / "tiny.safetensors") is family_of_config("polyphony")
    chorale = read_midi(chorale_midi("bach/bwv57.8.mxl"))
    results = continue_polyphony(
        model, chorale, bars=1, variations=2, sampling_options=SamplingOptions(seed=1)
    )
    assert [result.length for result in results] == [3.0, 3.0]  # a bar of 3/4
    assert all(0 <= note.start < 3.0 for result in results for note in result.notes)
    # Resuming a finished run trains no further.
    again = train_events_rnn(train, tracks["valid"], out / "run", TINY)
    assert (again["steps"], again["history"]) == (TINY.steps, summary["history"])


def test_evaluation_and_ngrams_over_polyphonic_events(trained, tracks):
    out, _, _ = trained
    model = PolyphonyRnn.load(out / "tiny.safetensors", "cpu")
    metrics = evaluate_events_rnn(model.network, model.encoder, tracks["valid"])
    assert metrics["event_nll_per_step"] == pytest.approx(metrics["nll_per_step"])
    [events] = tracks["valid"]
    nll = -np.log(model.softmax(events)[np.arange(len(events) - 1), events[1:]])
    assert metrics["nll_per_step"] == pytest.approx(nll.mean(), rel=1e-5)
    vocabulary = class_vocabulary(NUM_POLYPHONIC_EVENTS)
    ngram = NGramModel.fit(tracks["train"], 5, vocabulary=vocabulary)
    scores = ngram.evaluate(tracks["valid"])
    assert scores["steps"] == len(events) - 1
    assert scores["nll_per_step"] < np.log(NUM_POLYPHONIC_EVENTS)


def test_the_cli_trains_and_evaluates_polyphony(tracks, tmp_path, capsys):
    for split, sequences in tracks.items():
        save_corpus(tmp_path / f"{split}.npz", sequences)
    train_args = ["train", str(tmp_path / "train.npz"), str(tmp_path / "valid.npz")]
    tiny = ["--layers", "8", "--steps", "2", "--batch-size", "4", "--window", "32"]
    out = ["--out", str(tmp_path / "run"), "--export", str(tmp_path / "cli_poly")]
    assert main([*train_args, "--config", "polyphony", *tiny, "--eval-every", "2", *out]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed[printed.index("{") :])["family"] == "polyphony_rnn"
    evaluate = ["evaluate", str(tmp_path / "cli_poly.safetensors")]
    data = ["--test", str(tmp_path / "valid.npz"), "--train", str(tmp_path / "train.npz")]
    assert main([*evaluate, *data, "--orders", "3"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["model"]["steps"] == results["3-gram"]["steps"] == len(tracks["valid"][0]) - 1
    # Accuracy splits on STEP_END, polyphony's default event, as Magenta's metrics do.
    step_ends = int((tracks["valid"][0][1:] == STEP_END).sum())
    ngram = results["3-gram"]
    assert 0 < step_ends < ngram["steps"]
    assert 0 <= ngram["no_event_accuracy"] <= 1 and 0 <= ngram["event_accuracy"] <= 1
