"""Which family a clip's content calls for: drums, polyphony or melody, and why."""

from __future__ import annotations

from pathlib import Path

from bridge.music.clip import Clip, Note
from bridge.music.content import guess_content
from bridge.music.midi import read_midi

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples"


def _clip(*notes: tuple[int, float, float], drums: bool = False) -> Clip:
    return Clip.from_notes([Note(p, s, d) for p, s, d in notes], drums=drums)


def test_a_drum_part_is_drums_whatever_its_pitches() -> None:
    guess = guess_content(_clip((60, 0, 1), (64, 0, 1), drums=True))
    assert guess.content == "drums" and "channel 10" in guess.reason


def test_general_midi_kick_and_hats_without_the_channel_are_drums() -> None:
    groove = [(36, b, 0.25) for b in (0, 2)] + [(42, b / 2, 0.25) for b in range(8)]
    assert guess_content(_clip(*groove)).content == "drums"
    assert guess_content(_clip(*groove, (38, 1, 0.25))).content == "drums"


def test_low_notes_without_a_kit_are_not_drums() -> None:
    # A bass line in the drum key range: no hi-hat or snare key, and not flagged.
    bass = _clip((36, 0, 1), (43, 1, 1), (41, 2, 1), (36, 3, 1))
    assert guess_content(bass).content == "melody"
    # A kick and hi-hat key, but also a pitch no General MIDI kit has.
    assert guess_content(_clip((36, 0, 1), (42, 1, 1), (90, 2, 1))).content != "drums"


def test_notes_sounding_together_are_polyphony() -> None:
    chord = _clip((60, 0, 2), (64, 0, 2), (67, 0, 2))
    guess = guess_content(chord)
    assert guess.content == "polyphony" and "beat 0" in guess.reason
    held = _clip((48, 0, 4), (60, 1, 0.5), (62, 1.5, 0.5))  # a pedal under a tune
    assert guess_content(held).content == "polyphony"


def test_legato_overlaps_shorter_than_a_sixteenth_are_still_a_melody() -> None:
    legato = _clip((60, 0, 1.1), (62, 1, 1.2), (64, 2, 1.0))
    assert guess_content(legato).content == "melody"
    # Exactly a sixteenth of overlap is a chord.
    assert guess_content(_clip((60, 0, 1.25), (62, 1, 1))).content == "polyphony"


def test_muted_notes_are_not_heard() -> None:
    clip = Clip.from_notes([Note(60, 0, 1), Note(64, 0, 1, mute=True), Note(62, 1, 1)])
    assert guess_content(clip).content == "melody"


def test_real_files() -> None:
    assert guess_content(read_midi(EXAMPLES / "folk_melody.mid")).content == "melody"
    assert guess_content(read_midi(DATA / "bach_bwv66_6.mid")).content == "polyphony"
