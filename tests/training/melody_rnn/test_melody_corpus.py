"""Melody corpus: magenta's training-pipeline rules on real MIDI files, and the .npz cache."""

import json

import mido
import numpy as np
import pytest

from bridge.training.corpus import Corpus, build_corpus, load_corpus, read_folder, save_corpus
from bridge.training.melody_rnn.corpus import ExtractionRules

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]
RULES = ExtractionRules()


def load_melodies(folder, rules=RULES) -> Corpus:
    return read_folder(folder, rules)


def write_midi(path, notes, *, time_signatures=((0, 4, 4),)):
    """Write (pitch, start_beat, beats) notes to one track at 120 qpm, 480 ticks a beat."""
    events = [
        (beat * 480, mido.MetaMessage("time_signature", numerator=n, denominator=d))
        for beat, n, d in time_signatures
    ]
    for pitch, start, beats in notes:
        events.append((int(start * 480), mido.Message("note_on", note=pitch, velocity=80)))
        events.append((int((start + beats) * 480), mido.Message("note_off", note=pitch)))
    events.sort(key=lambda e: (e[0], e[1].type != "note_off"))
    track, now = mido.MidiTrack(), 0
    track.append(mido.MetaMessage("set_tempo", tempo=500_000))
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)


def scale_run(pitches, bars, start=0.0, beats_per_bar=4):
    """Quarter notes cycling through ``pitches`` for ``bars`` bars."""
    count = bars * beats_per_bar
    return [(pitches[i % len(pitches)], start + i, 1.0) for i in range(count)]


@pytest.fixture
def folder(tmp_path):
    write_midi(tmp_path / "good.mid", scale_run(C_MAJOR, 8))
    write_midi(tmp_path / "short.mid", scale_run(C_MAJOR, 2))
    write_midi(tmp_path / "few_pitches.mid", scale_run([60, 64], 8))
    chord = [(60, 4.0, 1.0), (64, 4.0, 1.0)]  # two notes starting together
    (tmp_path / "sub").mkdir()
    write_midi(
        tmp_path / "sub" / "poly.mid", scale_run(C_MAJOR, 8)[:4] + chord + scale_run(C_MAJOR, 8)[5:]
    )
    (tmp_path / "broken.mid").write_bytes(b"MThd this is not a MIDI file")
    (tmp_path / "notes.txt").write_text("not music, not counted")
    return tmp_path


def test_load_melodies_applies_magenta_rules(folder):
    corpus = load_melodies(folder)
    assert corpus.files_read == 4
    assert list(corpus.skipped_files) == ["broken.mid"]
    assert corpus.stats == {
        "melodies_discarded_too_short": 1,
        "melodies_discarded_too_few_pitches": 1,
        "polyphonic_tracks_discarded": 1,
    }
    [melody] = corpus.sequences
    assert melody.dtype == np.int16
    assert len(melody) == 8 * 16 == corpus.steps
    expected = np.full(128, -2)
    expected[::4] = [C_MAJOR[i % 8] for i in range(32)]
    np.testing.assert_array_equal(melody, expected)


def test_polyphonic_notes_can_be_ignored_instead(folder):
    corpus = load_melodies(folder, ExtractionRules(ignore_polyphonic_notes=True))
    assert len(corpus.sequences) == 2
    assert "polyphonic_tracks_discarded" not in corpus.stats


def test_squash_transposes_to_c_and_into_range(tmp_path):
    write_midi(tmp_path / "c.mid", scale_run(C_MAJOR, 8))
    write_midi(tmp_path / "d_high.mid", scale_run([p + 26 for p in C_MAJOR], 8))  # D major
    write_midi(tmp_path / "d_high_wide.mid", scale_run([p + 26 for p in C_MAJOR] + [40], 8))
    c, d, wide = load_melodies(tmp_path).sequences
    np.testing.assert_array_equal(c, d)
    assert np.all((wide == -2) | (wide == -1) | ((wide >= 48) & (wide < 84)))


def test_gaps_truncation_and_time_signature_changes(tmp_path):
    # A 2-bar rest (gap_bars is 1) splits one track into two melodies.
    write_midi(tmp_path / "gap.mid", scale_run(C_MAJOR, 8) + scale_run(C_MAJOR, 8, start=40))
    # 40 bars are cut to max_steps = 512 steps.
    write_midi(tmp_path / "long.mid", scale_run(C_MAJOR, 40))
    # 8 bars of 4/4 then 8 of 3/4: split on the change, each part quantized alone.
    write_midi(
        tmp_path / "meter.mid",
        scale_run(C_MAJOR, 8) + scale_run(C_MAJOR, 8, start=32, beats_per_bar=3),
        time_signatures=((0, 4, 4), (32, 3, 4)),
    )
    corpus = load_melodies(tmp_path)
    lengths = sorted(len(m) for m in corpus.sequences)
    assert lengths == [8 * 12, 8 * 16, 8 * 16, 8 * 16, 512]
    assert corpus.stats == {"melodies_truncated": 1}


def test_abc_tunebooks_are_read_with_music21(tmp_path):
    pytest.importorskip("music21")
    tune = "X:{n}\nT:Scale {n}\nM:4/4\nL:1/4\nK:C\n" + "|CDEF|GABc" * 4 + "|\n\n"
    (tmp_path / "book.abc").write_text(tune.format(n=1) + tune.format(n=2))
    corpus = load_melodies(tmp_path)
    assert corpus.files_read == 1
    assert len(corpus.sequences) == 2


def test_musicxml_is_read_with_note_seq(tmp_path):
    music21 = pytest.importorskip("music21")
    part = music21.stream.Part([music21.meter.TimeSignature("4/4")])
    for pitch, _, _ in scale_run(C_MAJOR, 8):
        part.append(music21.note.Note(pitch, quarterLength=1))
    part.write("musicxml", fp=tmp_path / "scale.musicxml")
    corpus = load_melodies(tmp_path)
    assert [len(m) for m in corpus.sequences] == [128]


def test_npz_round_trip(tmp_path):
    melodies = [np.array([60, -2, -1], np.int16), np.array([], np.int16), np.array([83, 48])]
    save_corpus(tmp_path / "c.npz", melodies)
    loaded = load_corpus(tmp_path / "c.npz")
    assert [m.tolist() for m in loaded] == [m.tolist() for m in melodies]
    assert all(m.dtype == np.int16 for m in loaded)
    save_corpus(tmp_path / "empty.npz", [])
    assert load_corpus(tmp_path / "empty.npz") == []


def test_npz_with_bad_offsets_is_refused(tmp_path):
    np.savez(tmp_path / "bad.npz", events=np.zeros(4, np.int16), offsets=np.array([0, 9]))
    with pytest.raises(ValueError, match="offsets"):
        load_corpus(tmp_path / "bad.npz")


def test_build_corpus_writes_arrays_and_an_account(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "train.npz"
    corpus = build_corpus(folder, out, RULES)
    assert [m.tolist() for m in load_corpus(out)] == [m.tolist() for m in corpus.sequences]
    report = json.loads(out.with_suffix(".json").read_text())
    assert (report["kind"], report["sequences"]) == ("melodies", 1)
    assert report["steps"] == 128
    assert list(report["skipped_files"]) == ["broken.mid"]
    assert report["skipped_files"]["broken.mid"]  # the reason
    assert report["rules"]["ignore_polyphonic_notes"] is False


def test_build_corpus_can_exclude_melodies_of_another_corpus(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    write_midi(out / "d.mid", scale_run([p + 2 for p in C_MAJOR], 8))  # squashes to good.mid
    save_corpus(out / "train.npz", load_melodies(out).sequences)
    corpus = build_corpus(folder, out / "test.npz", RULES, exclude=out / "train.npz")
    assert corpus.sequences == []
    assert corpus.stats["melodies_discarded_in_excluded_corpus"] == 1
