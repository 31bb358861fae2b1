"""Infill's span, from beats or from bars, and what is refused, before any model runs."""

import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.tools.chorale import span
from bridge.tools.params import ParamError

EIGHT_BARS = Clip.from_notes([Note(60, 0, 32)], length=32.0)
THREE_FOUR = Clip.from_notes([Note(60, 0, 12)], length=12.0, time_signature=(3, 4))
NONE = {"start": None, "end": None, "from_bar": None, "to_bar": None}


def test_a_span_in_beats_or_bars():
    assert span(EIGHT_BARS, NONE | {"start": 4.5, "end": 9.0}) == (4.5, 9.0)
    assert span(EIGHT_BARS, NONE | {"from_bar": 3, "to_bar": 4}) == (8.0, 16.0)
    assert span(THREE_FOUR, NONE | {"from_bar": 2, "to_bar": 2}) == (3.0, 6.0)
    assert span(EIGHT_BARS, NONE | {"from_bar": 1, "to_bar": 8}) == (0.0, 32.0)


@pytest.mark.parametrize(
    ("given", "error", "words"),
    [
        ({}, ParamError, "either as start and end"),
        ({"start": 1.0}, ParamError, "each pair complete"),
        ({"start": 1.0, "end": 2.0, "from_bar": 1}, ParamError, "either as start and end"),
        ({"start": 1.0, "to_bar": 2}, ParamError, "either as start and end"),
        ({"from_bar": 4, "to_bar": 3}, ParamError, r"to_bar \(3\) must not be before"),
        ({"from_bar": 8, "to_bar": 9}, ClipError, "28-36 beats must lie inside the clip"),
        ({"start": 8.0, "end": 8.0}, ClipError, "not be empty"),
    ],
)
def test_spans_that_do_not_fit_are_named(given, error, words):
    with pytest.raises(error, match=words):
        span(EIGHT_BARS, NONE | given)
