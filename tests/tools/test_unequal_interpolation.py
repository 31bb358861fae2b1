"""Interpolating clips of unequal length: the shorter is looped to the longer, as a DAW loops
a clip, so no bar of the path is made from silence; the reply says what was done."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip, Note
from bridge.music.midi import read_midi
from bridge.tools.latent import interpolate, looped
from bridge.tools.registry import INTERPOLATE

REPO = Path(__file__).parents[2]


def bars(clip: Clip, count: int) -> Clip:
    """The clip's first `count` bars of 4/4."""
    notes = [n for n in clip.notes if n.start < 4 * count]
    return Clip.from_notes(notes, 4.0 * count, clip.qpm)


@pytest.fixture(scope="module")
def melody_vae() -> MusicVae:
    weights = REPO / "models" / "pretrained" / "folk_mel_2bar.safetensors"
    return MusicVae.load(weights, "cat-mel_2bar_small", "cpu")


def test_a_clip_is_looped_as_a_daw_loops_it_and_cut_at_the_end():
    clip = Clip((Note(60, 0.0, 1.0, 90), Note(62, 7.0, 2.0, 90)), 8.0, 100.0)
    longer = looped(clip, 20.0)
    assert longer.length == 20.0 and longer.qpm == 100.0
    assert [(n.pitch, n.start, n.duration) for n in longer.notes] == [
        (60, 0.0, 1.0), (62, 7.0, 2.0), (60, 8.0, 1.0), (62, 15.0, 2.0), (60, 16.0, 1.0)
    ]  # fmt: skip
    assert looped(clip, 8.0) is clip and looped(longer, 8.0) is longer


def test_four_bars_with_two_interpolate_with_no_empty_bar(melody_vae):
    start = bars(read_midi(REPO / "examples" / "folk_melody.mid"), 4)
    end = bars(read_midi(REPO / "examples" / "reel_melody.mid"), 2)
    clips = interpolate(melody_vae, start, end, 5, True, True, 0.5, 3)
    assert len(clips) == 5
    for clip in clips:
        assert clip.length == 16.0
        sounding = {int(note.start // 4) for note in clip.notes}
        assert sounding == {0, 1, 2, 3}, f"every bar plays, got bars {sorted(sounding)}"
    warning = INTERPOLATE.warn([start, end], {}, clips)
    assert warning.startswith("the 8-beat clip was looped to 16 beats")
    assert INTERPOLATE.warn([start, start], {}, clips) == ""
