"""Coconet's corpus: chorales as four voices on the 16th grid (magenta's Jsb16thSeparated
layout), whole chorales held out, held-out data never transposed, stored without pickles."""

import importlib.util
import io
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import mido
import numpy as np
import pytest

from bridge.models.coconet.config import CoconetConfig
from bridge.models.coconet.pianoroll import decode
from bridge.training.coconet.batches import (
    held_out_batches,
    random_transposition,
    training_batch,
    windows,
)
from bridge.training.coconet.corpus import (
    ChoraleError,
    Chorales,
    chorale_pitches,
    load_chorales,
    read_splits,
    save_chorales,
    save_magenta_npz,
)

REPO = Path(__file__).parents[3]
SCRIPT = REPO / "models" / "training" / "export_coconet_chorales.py"
NAN = np.nan


def four_voices(voices, ticks_per_beat=96) -> bytes:
    """A MIDI file with a conductor track, then one track per voice of (start, end, pitch)
    in quarters."""
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)]))
    for notes in voices:
        events = []
        for start, end, pitch in notes:
            events.append((round(start * ticks_per_beat), 1, pitch))
            events.append((round(end * ticks_per_beat), 0, pitch))
        track, now = mido.MidiTrack(), 0
        for tick, on, pitch in sorted(events):
            kind = "note_on" if on else "note_off"
            track.append(mido.Message(kind, note=pitch, velocity=80 if on else 0, time=tick - now))
            now = tick
        midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_voices_are_quantized_to_16ths_as_note_seq_does():
    midi = four_voices(
        [
            [(0, 1, 72), (1.13, 2, 74)],  # 1.13 quarters = 4.52 steps: past half, so step 5
            [(0, 1.1, 67), (1.1, 2, 65)],  # 4.4 steps: rounds down to step 4
            [(0, 0.05, 64), (0, 2, 60)],  # a grace note: one step, and the higher is kept
            [(0.5, 2, 48)],  # the bass rests for the first eighth
        ]
    )
    stats = Counter()
    pitches = chorale_pitches(midi, stats)
    expected = np.array(
        [[72, 67, 64, NAN]] * 1
        + [[72, 67, 60, NAN]]
        + [[72, 67, 60, 48]] * 2
        + [[NAN, 65, 60, 48]]
        + [[74, 65, 60, 48]] * 3
    )
    np.testing.assert_array_equal(pitches, expected)
    assert pitches.dtype == np.float32 and stats["steps_with_two_pitches_in_a_voice"] == 1


def test_other_voice_counts_and_ranges_are_refused():
    with pytest.raises(ChoraleError, match="3 voices"):
        chorale_pitches(four_voices([[(0, 1, 60)]] * 3))
    with pytest.raises(ChoraleError, match="leave Coconet's 36-81"):
        chorale_pitches(four_voices([[(0, 1, 84)], [(0, 1, 60)], [(0, 1, 55)], [(0, 1, 48)]]))


def test_a_real_chorale_matches_note_seqs_quantization(chorale_midi):
    from note_seq import midi_to_note_sequence, sequences_lib

    midi = chorale_midi("bach/bwv99.6.mxl")
    pitches = chorale_pitches(midi)
    quantized = sequences_lib.quantize_note_sequence(midi_to_note_sequence(midi), 4)
    tracks = sorted({note.instrument for note in quantized.notes})
    assert pitches.shape == (quantized.total_quantized_steps, 4)
    for voice, track in enumerate(tracks):
        for note in (n for n in quantized.notes if n.instrument == track):
            held = pitches[note.quantized_start_step : note.quantized_end_step, voice]
            assert (held == note.pitch).all()
    sounding = ~np.isnan(pitches).any(axis=1)
    means = np.nanmean(pitches[sounding], axis=0)
    assert list(means) == sorted(means, reverse=True), "soprano first, bass last"


def _splits() -> dict[str, Chorales]:
    rng = np.random.default_rng(0)
    pieces = [rng.integers(40, 78, (length, 4)).astype(np.float32) for length in (40, 24, 70)]
    pieces[1][3:5, 2] = NAN
    return {
        "train": Chorales((pieces[0], pieces[2]), ("bach/a.mxl", "bach/c.mxl")),
        "valid": Chorales((pieces[1],), ("bach/b.mxl",)),
        "test": Chorales((), ()),
    }


def test_the_corpus_file_round_trips_without_pickles(tmp_path):
    splits = _splits()
    save_chorales(tmp_path / "chorales.npz", splits)
    with np.load(tmp_path / "chorales.npz") as data:  # allow_pickle is False by default
        assert sorted(data.files) == sorted(
            f"{split}_{key}" for split in splits for key in ("pitches", "offsets", "names")
        )
    loaded = load_chorales(tmp_path / "chorales.npz")
    assert set(loaded) == set(splits)
    for split, chorales in splits.items():
        assert loaded[split].names == chorales.names
        for mine, theirs in zip(loaded[split].pieces, chorales.pieces, strict=True):
            np.testing.assert_array_equal(mine, theirs)
            assert not mine.flags.writeable
    assert read_splits(tmp_path / "chorales.npz")["valid"].steps == 24


def test_the_magenta_copy_holds_one_object_array_per_split(tmp_path):
    """lib_data reads `np.load(path, allow_pickle=True)[fold]`, a sequence of [time, 4]
    arrays: object arrays, which cannot be read without unpickling (nor are they here)."""
    save_magenta_npz(tmp_path / "Jsb16thSeparated.npz", _splits())
    with np.load(tmp_path / "Jsb16thSeparated.npz") as data:
        assert sorted(data.files) == ["test", "train", "valid"]
        with pytest.raises(ValueError, match="allow_pickle"):
            data["train"]


def test_training_crops_may_move_but_held_out_windows_never_do():
    config = CoconetConfig(crop_piece_len=16)
    piece = np.tile(np.array([[79.0, 67, 60, 40]]), (40, 1))
    rng = np.random.default_rng(1)
    moved = {float(random_transposition(piece, 5, rng)[0, 0] - 79) for _ in range(200)}
    assert moved == {-4, -3, -2, -1, 0, 1, 2}, "only shifts keeping 36-81 (bass 40, soprano 79)"
    assert (random_transposition(piece, 0, rng) == piece).all()
    batch = training_batch((piece,), config, 4, rng, transpose=0)
    assert batch.rolls.shape == (1, 16, 46, 4) and (decode(batch.rolls[0], 36) == piece[:16]).all()
    assert (batch.masks[0].max(axis=1) == batch.masks[0].min(axis=1)).all(), "per voice and step"
    pieces = tuple(_splits()["train"].pieces)
    held_out = held_out_batches(pieces, config, 16, 2, seed=5, batch_size=4)
    rolls = [roll for batch in held_out for roll in batch.rolls]
    lengths = [length for batch in held_out for length in batch.lengths]
    cut = windows(pieces, 16)
    assert [len(w) for w in cut] == [16, 16, 8, 16, 16, 16, 16, 6] and len(rolls) == 2 * len(cut)
    for index, window in enumerate(cut):
        for draw in (2 * index, 2 * index + 1):
            assert lengths[draw] == len(window)
            np.testing.assert_array_equal(decode(rolls[draw][: len(window)], 36), window)
    again = held_out_batches(pieces, config, 16, 2, seed=5, batch_size=4)
    assert all((a.masks == b.masks).all() for a, b in zip(held_out, again, strict=True))


def _exporter():
    spec = importlib.util.spec_from_file_location("export_coconet_chorales", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_exporter_holds_whole_chorales_out_untransposed(tmp_path):
    music21 = pytest.importorskip("music21")
    source = Path(music21.__file__).parent / "corpus" / "bach"
    bach = tmp_path / "corpus" / "bach"
    bach.mkdir(parents=True)
    names = ("bwv18.5-lz", "bwv18.5-w", "bwv26.6", "bwv227.3", "bwv99.6", "bwv40.8")
    for name in names:
        shutil.copy(source / f"{name}.mxl", bach)
    out = tmp_path / "chorales.npz"
    exporter = _exporter()
    assert (
        exporter.main(
            [
                "--corpus-dir",
                str(tmp_path / "corpus"),
                "--bach-dir",
                str(tmp_path / "bach"),
                "--out",
                str(out),
                "--magenta",
                str(tmp_path / "magenta"),
            ]
        )
        == 0
    )
    splits, account = load_chorales(out), json.loads(out.with_suffix(".json").read_text())
    manifest = json.loads((tmp_path / "bach" / "manifest.json").read_text())
    split_of = {c["chorale"]: c["split"] for c in manifest["chorales"]}
    assert (
        split_of["bwv18.5"]
        and len({c["split"] for c in manifest["chorales"] if c["chorale"] == "bwv18.5"}) == 1
    )
    written = {c["file"]: c for c in manifest["chorales"] if c["midi_file"]}
    assert "5 voices" in account["splits"][split_of["bwv227.3"]]["skipped"]["bach/bwv227.3.mxl"]
    for split, chorales in splits.items():
        for name, piece in zip(chorales.names, chorales.pieces, strict=True):
            assert split_of[Path(name).stem.split("-")[0]] == split
            midi = tmp_path / "bach" / written[name]["midi_file"]
            np.testing.assert_array_equal(piece, chorale_pitches(midi))  # as sung, in its key
    assert sum(len(c) for c in splits.values()) == len(written) - 1  # all but bwv227.3
    assert len(splits["train"]) and len(splits["valid"]), "held-out chorales are checked too"
    assert (tmp_path / "magenta" / "Jsb16thSeparated.npz").is_file()
