"""Clips for the store tests, on the MIDI tick grid so a MIDI round trip gives them back exactly."""

import pytest

from bridge.music.clip import Clip, Note


@pytest.fixture
def clips() -> list[Clip]:
    """Three different clips: a muted note, an odd tempo and metre, a note past the clip end."""
    return [
        Clip.from_notes(
            [Note(60 + i, i * 0.5, 0.5, 80 + i) for i in range(8)] + [Note(48, 0, 4, 90, True)]
        ),
        Clip(
            (Note(67, 0.0, 1.5), Note(71, 1.5, 0.25, 127)),
            length=3.0,
            qpm=97.5,
            time_signature=(3, 4),
        ),
        Clip((Note(40, 0.0, 1.0), Note(52, 3.0, 2.0, 1)), length=4.0),
    ]
