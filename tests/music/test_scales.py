"""Keys: parsing what users type, scale contents, and key estimation on real tunes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.scales import MODES, Key, estimate_key, parse_key

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("C:major", Key(0, "major")),
        ("F#:minor", Key(6, "minor")),
        ("Bb:dorian", Key(10, "dorian")),
        ("D", Key(2, "major")),
        ("bb", Key(10, "major")),
        ("Am", Key(9, "minor")),
        ("Ebm", Key(3, "minor")),
        ("E minor", Key(4, "minor")),
        (" g:Mixolydian ", Key(7, "mixolydian")),
        ("C:harmonic minor", Key(0, "harmonic_minor")),
        ("A:minor-pentatonic", Key(9, "minor_pentatonic")),
        ("B blues", Key(11, "blues")),
        ("Cb:lydian", Key(11, "lydian")),
        ("E#:aeolian", Key(5, "minor")),
        ("F♯:ionian", Key(6, "major")),
        ("C:chromatic", Key(0, "chromatic")),
    ],
)
def test_parse_key(text: str, key: Key) -> None:
    assert parse_key(text) == key


@pytest.mark.parametrize("text", ["H:major", "C:superlocrian", "", "C#b", "Bblues", "12", "C::"])
def test_unknown_keys_list_the_valid_forms(text: str) -> None:
    with pytest.raises(ClipError) as caught:
        parse_key(text)
    message = str(caught.value)
    assert message.startswith(f"unknown key {text!r}: write ROOT[:MODE], e.g. 'C:major'")
    assert all(mode in message for mode in MODES)


def test_every_required_mode_exists() -> None:
    required = {
        "major",
        "minor",
        "harmonic_minor",
        "dorian",
        "phrygian",
        "lydian",
        "mixolydian",
        "locrian",
        "major_pentatonic",
        "minor_pentatonic",
        "blues",
        "chromatic",
    }
    assert required <= set(MODES)


@pytest.mark.parametrize(
    ("key", "names"),
    [
        (Key(0, "major"), "C D E F G A B"),
        (Key(9, "minor"), "A B C D E F G"),
        (Key(9, "harmonic_minor"), "A B C D E F G#"),
        (Key(2, "dorian"), "D E F G A B C"),
        (Key(4, "phrygian"), "E F G A B C D"),
        (Key(5, "lydian"), "F G A B C D E"),
        (Key(7, "mixolydian"), "G A B C D E F"),
        (Key(11, "locrian"), "B C D E F G A"),
        (Key(7, "major_pentatonic"), "G A B D E"),
        (Key(4, "minor_pentatonic"), "E G A B D"),
        (Key(0, "blues"), "C Eb F F# G Bb"),
    ],
)
def test_pitch_classes(key: Key, names: str) -> None:
    numbers = {
        "C": 0,
        "D": 2,
        "Eb": 3,
        "E": 4,
        "F": 5,
        "F#": 6,
        "G": 7,
        "G#": 8,
        "A": 9,
        "Bb": 10,
        "B": 11,
    }
    assert key.pitch_classes == frozenset(numbers[name] for name in names.split())
    assert Key(3, "chromatic").pitch_classes == frozenset(range(12))


def test_keys_print_as_they_parse() -> None:
    for root in range(12):
        for mode in MODES:
            assert parse_key(str(Key(root, mode))) == Key(root, mode)
    assert str(Key(10, "dorian")) == "Bb:dorian"


@pytest.mark.parametrize(
    ("root", "mode", "message"),
    [
        (12, "major", "key root 12 is not a pitch class 0-11"),
        (-1, "major", "key root -1 is not a pitch class"),
        (0, "ionian", "unknown mode 'ionian'; modes: major, minor"),
    ],
)
def test_bad_keys(root: int, mode: str, message: str) -> None:
    with pytest.raises(ClipError, match=message):
        Key(root, mode)


def test_estimate_key_of_real_music() -> None:
    assert estimate_key(read_midi(EXAMPLES / "folk_melody.mid")) == Key(5, "major")  # F major
    assert estimate_key(read_midi(DATA / "bach_bwv66_6.mid")) == Key(6, "minor")  # F# minor


@pytest.mark.parametrize("text", ["C:major", "A:minor", "Eb:major", "F#:minor"])
def test_estimate_key_of_a_scale_with_tonic_weight(text: str) -> None:
    key = parse_key(text)
    degrees = [(key.root + step) % 12 for step in MODES[key.mode]]
    notes = [Note(60 + pc, float(i), 1.0) for i, pc in enumerate(degrees)]
    notes += [Note(60 + key.root, 8.0, 4.0), Note(60 + degrees[4], 12.0, 2.0)]  # tonic, dominant
    assert estimate_key(Clip.from_notes(notes)) == key


def test_estimate_key_ignores_muted_notes_and_needs_notes() -> None:
    c_major = [Note(60 + pc, float(i), 1.0) for i, pc in enumerate([0, 4, 7, 0, 5, 7, 11, 0])]
    noise = [Note(61 + 12 * i, 0.0, 50.0, mute=True) for i in range(3)]
    assert estimate_key(Clip.from_notes(c_major + noise)) == Key(0, "major")
    with pytest.raises(ClipError, match="clip has no audible notes to estimate a key from"):
        estimate_key(Clip.from_notes(noise))
