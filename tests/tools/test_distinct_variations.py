"""vary returns as many distinct patterns as asked, none of them the clip itself: variations
that repeat are drawn again; when no more can be found, fewer come back with a word why."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.tools import latent
from bridge.tools.latent import vary
from bridge.tools.registry import VARY

REPO = Path(__file__).parents[2]
LOOP = read_midi(REPO / "examples" / "rock_groove.mid")  # 2 bars of rock drums


@pytest.fixture(scope="module")
def drums() -> MusicVae:
    weights = REPO / "models" / "pretrained" / "mma_drums_2bar.safetensors"
    return MusicVae.load(weights, "cat-drums_2bar_small", "cpu")


def pattern(clip: Clip) -> frozenset:
    return frozenset((round(note.start * 4), note.pitch) for note in clip.notes)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sixteen_variations_of_a_two_bar_loop_are_sixteen_patterns(drums, seed):
    results = vary(drums, LOOP, 16, 0.5, 0.5, seed)  # the tool's default distance and temperature
    patterns = [pattern(clip) for clip in results]
    assert len(results) == 16 and len(set(patterns)) == 16
    assert pattern(LOOP) not in patterns
    assert VARY.warn([LOOP], {"variations": 16}, results) == ""


def test_a_seed_whose_first_draw_is_distinct_gives_what_it_always_gave(drums, monkeypatch):
    redrawn = vary(drums, LOOP, 4, 2.0, 0.5, 11)
    monkeypatch.setattr(latent, "REDRAWS", 0)  # the first draw alone, as before redrawing
    first = vary(drums, LOOP, 4, 2.0, 0.5, 11)
    assert len({pattern(clip) for clip in first}) == 4
    assert [clip.notes for clip in redrawn] == [clip.notes for clip in first]


def test_when_no_more_differ_fewer_come_back_and_the_reply_says_how_many(drums):
    # No distance, almost no randomness: every draw decodes the same pattern or two.
    results = vary(drums, LOOP, 8, 0.0, 0.01, 0)
    assert 1 <= len(results) < 8
    assert len({pattern(clip) for clip in results}) == len(results)
    warning = VARY.warn([LOOP], {"variations": 8}, results)
    assert warning.startswith(f"{len(results)} distinct variations of the 8 asked")


def test_variations_that_all_repeat_the_clip_are_an_error_not_silence(drums):
    decoded = vary(drums, LOOP, 1, 0.0, 0.01, 0)[0]  # what the model makes of the loop
    echo = Clip(decoded.notes, LOOP.length, LOOP.qpm, LOOP.time_signature, drums=True)
    with pytest.raises(ClipError, match="every variation repeated the clip itself"):
        vary(drums, echo, 4, 0.0, 0.01, 0)
