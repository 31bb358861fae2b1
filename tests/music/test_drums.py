"""Magenta's drum map, the user's kit, and drum tracks read from clips as note_seq reads them."""

import note_seq
import numpy as np
import pytest
from drum_files import sequencer_drums
from note_seq.drums_encoder_decoder import DEFAULT_DRUM_TYPE_PITCHES

from bridge.music.clip import Clip, Note
from bridge.music.drums import (
    DRUM_CLASS_PITCHES,
    DrumKit,
    DrumTrack,
    drum_class,
    encode_hits,
    extract_drum_track,
)
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi

GROOVES = [
    ("stdlib/popballad", "PopBallad1"),
    ("stdlib/modernjazzwaltz", "ModernJazzWaltz"),  # 3/4, with MMA's random timing
    ("stdlib/afro-cuban", "Afro-Cuban"),  # 6/8
    ("stdlib/68march", "68March"),  # triplets on a 16th grid
    ("stdlib/bvfunk", "BVFunkIntro"),  # first hit in the second bar
]


def test_the_map_is_note_seqs():
    assert [list(pitches) for pitches in DRUM_CLASS_PITCHES] == DEFAULT_DRUM_TYPE_PITCHES
    one_hot = note_seq.MultiDrumOneHotEncoding()
    for pitch in range(128):
        assert encode_hits([pitch]) == one_hot.encode_event(frozenset([pitch]))
        assert (drum_class(pitch) is None) == (encode_hits([pitch]) == 0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        hits = frozenset(int(p) for p in rng.integers(20, 90, size=rng.integers(1, 6)))
        assert encode_hits(hits) == one_hot.encode_event(hits)
    for event in range(512):
        kit_pitches = {note.pitch for note in DrumKit().notes(event, 0.0, 0.25)}
        assert kit_pitches == set(one_hot.decode_event(event))


@pytest.mark.parametrize(("file", "name"), GROOVES)
def test_extraction_matches_note_seq(render_groove, file, name):
    midi = render_groove(file, name)
    quantized = note_seq.quantize_note_sequence(note_seq.midi_to_note_sequence(midi), 4)
    magenta = note_seq.DrumTrack()
    magenta.from_quantized_sequence(quantized, gap_bars=float("inf"), ignore_is_drum=True)
    clip = read_midi(midi)
    track = extract_drum_track(clip)
    assert (track.start_step, track.steps_per_bar) == (magenta.start_step, magenta.steps_per_bar)
    one_hot = note_seq.MultiDrumOneHotEncoding()
    expected = [one_hot.encode_event(event) for event in magenta]
    np.testing.assert_array_equal(track.events[: len(expected)], expected)
    assert not track.events[len(expected) :].any()  # Magenta pads to the clip end with rests
    assert track.start_step + len(track) == 8 * track.steps_per_bar  # the clip's 8 bars


def _pushed_loop() -> bytes:
    """A 2-bar loop as a sequencer writes it, whose last hit, a hat pushed to 7.9 beats, rounds
    onto the bar line where the file ends (its note-off)."""
    hits = [(36, 0.0), (38, 1.0), (36, 2.0), (38, 3.0), (36, 4.0), (38, 5.0), (36, 6.0), (42, 7.9)]
    return sequencer_drums(hits, hit_beats=0.1)


def test_a_last_hit_rounding_onto_the_end_is_kept_as_note_seq_keeps_it():
    midi = _pushed_loop()
    clip = read_midi(midi)
    assert clip.length == 8.0
    quantized = note_seq.quantize_note_sequence(note_seq.midi_to_note_sequence(midi), 4)
    magenta = note_seq.DrumTrack()
    magenta.from_quantized_sequence(quantized, gap_bars=float("inf"), ignore_is_drum=True)
    one_hot = note_seq.MultiDrumOneHotEncoding()
    track = extract_drum_track(clip)
    assert track.events.tolist() == [one_hot.encode_event(event) for event in magenta]
    assert len(track) == 33 and track.events[32] == encode_hits([42])  # step 31.6 rounds to 32


def test_the_users_kit_is_kept():
    clip = Clip.from_notes(
        [
            Note(35, 0.0, 0.25, 120),  # kick: the clip's second kick pitch
            Note(35, 1.0, 0.25, 100),
            Note(44, 0.5, 0.25, 60),  # closed hi-hat, pedal
            Note(42, 1.5, 0.25, 80),  # then a plain one, once each: the first wins
            Note(60, 2.0, 0.25, 10),  # mid tom (bongo)
            Note(61, 3.0, 0.25, 1, mute=True),  # muted: unheard
        ]
    )
    kit = DrumKit.from_clip(clip)
    assert kit.pitches == (35, 38, 44, 46, 45, 60, 50, 49, 51)
    assert kit.velocities == (110, 100, 70, 100, 100, 10, 100, 100, 100)
    notes = DrumTrack([0b1, 0, 0b100000101]).to_notes(kit, start_beat=4.0)
    assert notes == [
        Note(35, 4.0, 0.25, 110),
        Note(35, 4.5, 0.25, 110),
        Note(44, 4.5, 0.25, 70),
        Note(51, 4.5, 0.25, 100),
    ]


def test_a_track_starts_at_the_bar_of_its_first_hit_and_runs_to_the_clip_end():
    clip = Clip.from_notes([Note(38, 5.0, 0.25), Note(36, 9.5, 1.0), Note(42, 12.0, 0.5)], 12.0)
    track = extract_drum_track(clip)
    assert (track.start_step, len(track), track.steps_per_bar) == (16, 32, 16)
    assert track.events[4] == 0b10 and track.events[22] == 0b1
    assert np.count_nonzero(track.events) == 2  # the hit at the clip's end is left out


@pytest.mark.parametrize(
    ("notes", "message"),
    [
        ([Note(36, 0.0, 1.0, mute=True)], "no drum hits: it has no audible notes"),
        ([Note(36, 4.0, 1.0)], "no drum hits: it has no audible notes within"),
        ([Note(90, 0.0, 1.0), Note(92, 2.0, 1.0)], "pitches 90, 92 are not General MIDI"),
    ],
)
def test_clips_without_drums_are_refused_clearly(notes, message):
    with pytest.raises(ClipError, match=message):
        extract_drum_track(Clip.from_notes(notes, length=4.0))
