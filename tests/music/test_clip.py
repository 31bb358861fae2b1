"""Clip and Note: validation, ordering, default length, AbletonOSC flat tuples."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from bridge.music.clip import MAX_NOTES, Clip, Note
from bridge.music.errors import ClipError

GOOD = Note(60, 0.0, 1.0)


def test_notes_are_sorted_by_start_then_pitch_and_stored_as_a_tuple() -> None:
    notes = [Note(64, 1.0, 1.0), Note(67, 0.0, 1.0), Note(60, 0.0, 2.0)]
    clip = Clip(notes, 4.0)  # type: ignore[arg-type]  # a list is accepted
    assert clip.notes == (Note(60, 0.0, 2.0), Note(67, 0.0, 1.0), Note(64, 1.0, 1.0))


def test_whole_floats_become_ints_as_pure_data_sends_them() -> None:
    clip = Clip((Note(60.0, 0, 1, 100.0, 1.0),), 4, 120, (3.0, 4.0))  # type: ignore[arg-type]
    note = clip.notes[0]
    assert (note.pitch, note.velocity, note.mute) == (60, 100, True)
    assert type(note.pitch) is int and type(note.velocity) is int and type(note.start) is float
    assert clip.time_signature == (3, 4) and type(clip.time_signature[0]) is int
    assert type(clip.length) is float and type(clip.qpm) is float


def test_helpers() -> None:
    clip = Clip((Note(60, 0.5, 1.0), Note(62, 2.0, 3.5, mute=True)), 8.0, 90.0, (6, 8))
    assert clip.beats_per_bar == 3.0
    assert clip.end == 5.5
    assert clip.audible_notes == (Note(60, 0.5, 1.0),)
    assert Clip((), 4.0).end == 0.0


@pytest.mark.parametrize(
    ("end", "time_signature", "length"),
    [
        (5.0, (4, 4), 8.0),
        (4.0, (4, 4), 4.0),
        (3.0, (3, 4), 3.0),
        (3.5, (6, 8), 6.0),
        (0.25, (4, 4), 4.0),
        (8.0 + 1e-12, (4, 4), 8.0),
    ],
)
def test_default_length_is_the_end_rounded_up_to_a_bar(
    end: float, time_signature: tuple[int, int], length: float
) -> None:
    clip = Clip.from_notes([Note(60, 0.0, end)], time_signature=time_signature)
    assert clip.length == length


def test_a_clip_without_notes_is_one_bar_long() -> None:
    assert Clip.from_notes([], time_signature=(3, 4)).length == 3.0
    assert Clip.from_flat([]).length == 4.0


def test_clips_are_frozen() -> None:
    clip = Clip((GOOD,), 4.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        clip.length = 8.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        clip.notes[0].pitch = 61  # type: ignore[misc]


def test_from_flat_reads_abletonosc_order() -> None:
    clip = Clip.from_flat([64.0, 1.5, 0.5, 90.0, 0.0, 60, 0, 1, 100, 1], 4.0, 100.0, (4, 4))
    assert clip.notes == (Note(60, 0.0, 1.0, 100, True), Note(64, 1.5, 0.5, 90, False))
    assert clip.qpm == 100.0


def test_to_flat_keeps_whole_fields_as_ints() -> None:
    clip = Clip((Note(60, 0.25, 1.5, 90, True),), 4.0)
    flat = clip.to_flat()
    assert flat == [60, 0.25, 1.5, 90, 1]
    assert [type(value) for value in flat] == [int, float, float, int, int]


def test_from_flat_accepts_a_numpy_array() -> None:
    clip = Clip.from_flat(np.array([60.0, 0.0, 1.0, 100.0, 0.0]))
    assert clip.notes == (GOOD,)


def test_flat_round_trip_is_exact(random_clip) -> None:
    for seed in range(50):
        clip = random_clip(seed, grid=None if seed % 2 else 480)
        again = Clip.from_flat(clip.to_flat(), clip.length, clip.qpm, clip.time_signature)
        assert again == clip


def _note(**fields: object) -> Note:
    return dataclasses.replace(GOOD, **fields)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_note(pitch=130), "note 2: pitch 130 is outside 0-127"),
        (_note(pitch=-1), "note 2: pitch -1 is outside 0-127"),
        (_note(pitch=60.5), "note 2: pitch 60.5 is not a whole number"),
        (_note(pitch="60"), "note 2: pitch '60' is not a number"),
        (_note(pitch=True), "note 2: pitch True is not a number"),
        (_note(velocity=0), "note 2: velocity 0 is outside 1-127"),
        (_note(velocity=128), "note 2: velocity 128 is outside 1-127"),
        (_note(start=-0.5), "note 2: start -0.5 is negative"),
        (_note(duration=0.0), "note 2: duration 0 is not positive"),
        (_note(duration=-1.0), "note 2: duration -1 is not positive"),
        (_note(start=math.nan), "note 2: start nan is not a finite number"),
        (_note(duration=math.inf), "note 2: duration inf is not a finite number"),
        (_note(velocity=math.nan), "note 2: velocity nan is not a finite number"),
        (_note(pitch=-math.inf), "note 2: pitch -inf is not a finite number"),
        (_note(mute=0.5), "note 2: mute 0.5 is not 0 or 1"),
        ((60, 0.0, 1.0), "note 2 is a tuple, not a Note"),
    ],
)
def test_bad_notes_are_named_by_index_and_field(bad: Note, message: str) -> None:
    with pytest.raises(ClipError) as caught:
        Clip((GOOD, GOOD, bad, GOOD), 4.0)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"length": 0.0}, "clip length 0 is not positive"),
        ({"length": -4.0}, "clip length -4 is not positive"),
        ({"length": math.nan}, "clip length nan is not a finite number"),
        ({"length": math.inf}, "clip length inf is not a finite number"),
        ({"qpm": 0.0}, "qpm 0 is not positive"),
        ({"qpm": math.nan}, "qpm nan is not a finite number"),
        ({"qpm": -math.inf}, "qpm -inf is not a finite number"),
        ({"time_signature": (4, 3)}, "time signature 4/3: the denominator must be one of"),
        ({"time_signature": (0, 4)}, "time signature numerator 0 is outside 1-99"),
        ({"time_signature": (4, 0)}, "time signature denominator 0 is outside 1-64"),
        ({"time_signature": (4, 128)}, "time signature denominator 128 is outside 1-64"),
        ({"time_signature": (4.5, 4)}, "time signature numerator 4.5 is not a whole number"),
        ({"time_signature": (4,)}, "time signature (4,) is not a (numerator, denominator) pair"),
        ({"time_signature": 4}, "time signature 4 is not a (numerator, denominator) pair"),
    ],
)
def test_bad_clip_fields_are_named(fields: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"notes": (GOOD,), "length": 4.0, **fields}
    with pytest.raises(ClipError) as caught:
        Clip(**arguments)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_too_many_notes() -> None:
    Clip((GOOD,) * MAX_NOTES, 4.0)
    with pytest.raises(ClipError, match=f"clip has {MAX_NOTES + 1} notes; at most {MAX_NOTES}"):
        Clip((GOOD,) * (MAX_NOTES + 1), 4.0)
    with pytest.raises(ClipError, match=f"clip has {MAX_NOTES + 1} notes"):
        Clip.from_flat([60, 0, 1, 100, 0] * (MAX_NOTES + 1))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([60, 0, 1, 100], "flat note list has 4 values; expected a multiple of 5"),
        ([60, 0, 1, 100, 0, 62, 1], "flat note list has 7 values; expected a multiple of 5"),
        ([60.5, 0, 1, 100, 0], "note 0: pitch 60.5 is not a whole number"),
        ([60, 0, 1, 100, 0, 60, 1, 1, 100.25, 0], "note 1: velocity 100.25 is not a whole number"),
        ([60, 0, 1, 100, 2], "note 0: mute 2 is not 0 or 1"),
    ],
)
def test_bad_flat_lists(values: list[float], message: str) -> None:
    with pytest.raises(ClipError) as caught:
        Clip.from_flat(values)
    assert str(caught.value).startswith(message)


def test_clip_error_is_a_value_error() -> None:
    assert issubclass(ClipError, ValueError)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_note(start=4.5), "note 2: start 4.5 is past the clip's end at beat 4"),
        (_note(start=1e30), "note 2: start 1e+30 is past the clip's end at beat 4"),
        (
            _note(duration=1e30),
            "note 2: duration 1e+30 is longer than 100000 beats, the longest clip",
        ),
    ],
)
def test_notes_past_the_end_or_absurdly_long_are_named(bad: Note, message: str) -> None:
    with pytest.raises(ClipError) as caught:
        Clip((GOOD, GOOD, bad, GOOD), 4.0)
    assert str(caught.value) == message


def test_flat_notes_past_the_end_or_absurd_are_refused() -> None:
    with pytest.raises(ClipError, match=r"^note 1: start 8.25 is past the clip's end at beat 8$"):
        Clip.from_flat([60, 0, 1, 100, 0, 62, 8.25, 1, 100, 0], 8.0)
    with pytest.raises(ClipError, match=r"^note 0: start 1e\+30 is past 100000 beats"):
        Clip.from_flat([60, 1e30, 1, 100, 0])  # no length given: none to compute either
    with pytest.raises(ClipError, match=r"^note 0: duration 1e\+30 is longer than 100000"):
        Clip.from_flat([60, 0, 1e30, 100, 0])
    with pytest.raises(ClipError, match=r"^clip length 1e\+30 is longer than 100000 beats"):
        Clip.from_flat([60, 0, 1, 100, 0], 1e30)


def test_notes_may_ring_past_the_end_and_start_right_at_it() -> None:
    clip = Clip((Note(60, 3.5, 2.0), Note(62, 4.0, 1.0)), 4.0)  # as Live allows
    assert clip.end == 5.5 and clip.length == 4.0
    assert Clip.from_notes([Note(60, 3.5, 2.0)]).length == 8.0  # a bar holds the whole note


@pytest.mark.parametrize(
    ("length", "time_signature", "bar_end"),
    [(7.75, (4, 4), 8.0), (8.0, (4, 4), 8.0), (8.0 + 1e-12, (4, 4), 8.0), (4.5, (6, 8), 6.0)],
)
def test_a_continuation_starts_at_the_bar_line_after_the_end(
    length: float, time_signature: tuple[int, int], bar_end: float
) -> None:
    assert Clip((GOOD,), length, time_signature=time_signature).bar_end == bar_end
