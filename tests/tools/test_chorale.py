"""Harmonize and infill through the tool table, on a small Coconet trained by Google's
magenta (tests/fixtures/coconet), with few Gibbs steps so each run takes a moment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.coconet.model import Coconet
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS

REPO = Path(__file__).parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "coconet" / "straight-8-32"
SPEC = ModelSpec("chorales", "coconet", FIXTURE, "cpu")
FOLK = read_midi(REPO / "examples" / "folk_melody.mid")
QUICK = {"seed": 3, "gibbs_steps": 8}


@pytest.fixture(scope="module")
def model() -> Coconet:
    return Coconet.load(FIXTURE, "cpu")


def run(model: Coconet, tool: str, clip: Clip, **given: object) -> list[Clip]:
    """One call as the engine makes it: parameters parsed, the check, then the run."""
    chosen = TOOLS[tool]
    params = parse_params(chosen.params, QUICK | given, Limits())
    chosen.check(SPEC, [clip], params, Limits())
    (clips,) = chosen.run(model, SPEC, [([clip], params)], Limits(), lambda *_: None)
    return clips


def notes_of(clip: Clip) -> set[tuple[int, float, float]]:
    return {(n.pitch, n.start, n.duration) for n in clip.notes}


def test_harmonize_keeps_the_melody_on_top_of_three_new_voices(model):
    clips = run(model, "harmonize", FOLK, variations=2)
    assert len(clips) == 8, "two variations of four voices"
    for soprano, *lower in (clips[:4], clips[4:]):
        assert soprano.notes == FOLK.notes, "the melody, note for note"
        assert all(voice.notes for voice in lower), "no silent voice"
        for voice in lower:
            assert (voice.length, voice.qpm, voice.time_signature) == (32.0, FOLK.qpm, (4, 4))
            assert all((n.start * 4).is_integer() for n in voice.notes), "on the 16th grid"
    assert clips == run(model, "harmonize", FOLK, variations=2), "a seed gives the same"
    merged = run(model, "harmonize", FOLK, voices_apart=0)
    assert len(merged) == 1 and notes_of(FOLK) <= notes_of(merged[0])


def test_infill_keeps_every_note_outside_the_span(model):
    chorale = run(model, "harmonize", FOLK, voices_apart=0)[0]
    (again,) = run(model, "infill", chorale, from_bar=3, to_bar=4, voices_apart=0)
    outside = {n for n in notes_of(chorale) if n[1] + n[2] <= 8.0 or n[1] >= 16.0}
    assert outside <= notes_of(again)
    inside = {n for n in notes_of(again) if 8.0 <= n[1] < 16.0}
    assert inside, "the span is written again, not left empty"
    by_beats = run(model, "infill", chorale, start=8.0, end=16.0, voices_apart=0)
    assert by_beats == [again], "bars 3-4 are beats 8-16"
    voices = run(model, "infill", chorale, from_bar=3, to_bar=4)
    assert len(voices) == 4 and voices[0].notes


def test_what_coconet_cannot_take_is_refused_by_name(model):
    chorale = run(model, "harmonize", FOLK, voices_apart=0)[0]
    with pytest.raises(ClipError, match="must lie inside the clip"):
        run(model, "infill", chorale, from_bar=8, to_bar=9)
    crowded = Clip.from_notes([Note(p, 0, 1) for p in (40, 50, 60, 70, 80)], length=4.0)
    with pytest.raises(ClipError, match="5 notes sound together at beat 0; Coconet writes at"):
        run(model, "harmonize", crowded)


def test_a_key_and_range_hold_the_new_voices_and_keep_the_given_notes(model):
    key = "Eb:major"  # the tune is in F: its own notes stray, the new voices may not
    in_key = {3, 5, 7, 8, 10, 0, 2}
    clips = run(model, "harmonize", FOLK, key=key, pitch_low=40, pitch_high=72)
    soprano, *lower = clips
    assert soprano.notes == FOLK.notes, "the melody is kept, in key or not"
    new = [n for voice in lower for n in voice.notes]
    assert new and all(n.pitch % 12 in in_key and 40 <= n.pitch <= 72 for n in new)
    free = [n for voice in run(model, "harmonize", FOLK)[1:] for n in voice.notes]
    assert any(n.pitch % 12 not in in_key for n in free), "unlocked, voices leave the key"

    chorale = run(model, "harmonize", FOLK, voices_apart=0)[0]
    (again,) = run(model, "infill", chorale, from_bar=3, to_bar=4, voices_apart=0, key=key)
    outside = {n for n in chorale.notes if not 8 <= n.start < 16}
    written = [n for n in again.notes if n not in chorale.notes]
    assert outside <= set(again.notes) and written
    assert all(n.pitch % 12 in in_key for n in written)
    with pytest.raises(ValueError, match="leave no pitch"):
        run(model, "harmonize", FOLK, key="C:major", pitch_low=61, pitch_high=61)
