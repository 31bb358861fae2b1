"""Harmonize and Infill end to end (Coconet's tools): the scripts under lua5.4 in the harness of
REAPER's API, the real client, a real daemon with a small Coconet ("chorales"), few Gibbs
steps so that it is quick."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from reaper_project import (
    EXAMPLES,
    LUA,
    PPQ,
    Item,
    Project,
    Track,
    assert_clean,
    assert_inside,
    last_job,
    notes_from,
    run_action,
)

from bridge.music.midi import read_midi

pytestmark = pytest.mark.skipif(LUA is None, reason="lua5.4 missing (setup.sh installs it)")

VOICES = ["soprano", "alto", "tenor", "bass"]


@pytest.fixture
def chorale_settings(settings) -> dict[str, str]:
    return {**settings, "gibbs_steps": "2"}


def note_key(note: dict[str, Any]) -> tuple:
    """A note as the take holds it: ticks from the source's start and everything else."""
    return (
        note["pitch"],
        note["start_tick"],
        note["end_tick"],
        note["velocity"],
        note["channel"],
        note["muted"],
    )


def beats(note: dict[str, Any], item_start_qn: float) -> tuple[float, float]:
    """Where a note lies in beats from its item's start, to a millionth."""
    return round(note["start_qn"] - item_start_qn, 6), round(note["end_qn"] - item_start_qn, 6)


def test_harmonize_writes_four_voices_on_tracks_below_the_melody(
    daemon, chorale_settings, tmp_path
):
    """Two items of a melody on channel 3, one note a tick off the 16th grid, across a tempo
    change: four tracks below the melody's, one per voice from the top, each with an item where
    each melody item lies and the variations as its takes; the soprano is the melody note for
    note, tick for tick; the other voices play one note at a time on the melody's channel."""
    melody = notes_from(EXAMPLES / "folk_melody.mid", 16, channel=3)
    pitch, start, end, velocity, channel = melody[2]
    melody[2] = (pitch, start + 1, end, velocity, channel)  # played a tick late
    first = [n for n in melody if n[1] < 8 * PPQ]
    second = [(p, s - 8 * PPQ, e - 8 * PPQ, v, c) for p, s, e, v, c in melody if s >= 8 * PPQ]
    project = Project(
        tracks=[Track("Lead", [Item(4, 12, first), Item(12, 20, second)]), Track("Bass")],
        tempo=[{"qn": 0, "bpm": 120}, {"qn": 10, "bpm": 90}],
        settings={**chorale_settings, "variations": "2"},
    )
    result = run_action(project, "Harmonize", tmp_path)
    assert_clean(result, "Magenta Bridge: harmonize")
    assert result["messages"] == []
    names = [track["name"] for track in result["tracks"]]
    assert names == ["Lead", *(f"Lead {voice}" for voice in VOICES), "Bass"]
    lead, *voices, bass = result["tracks"]
    assert bass["items"] == [] and len(lead["items"]) == 2
    sources = [take for item in lead["items"] for take in item["takes"]]  # one each: untouched
    for track in voices:
        assert [(i["start_qn"], i["end_qn"]) for i in track["items"]] == [
            pytest.approx((4, 12)),
            pytest.approx((12, 20)),
        ]
        for item in track["items"]:
            assert [take["name"] for take in item["takes"]] == ["harmonize 1", "harmonize 2"]
            assert item["active_take"] == 1
    soprano, *lower = voices
    for item, source in zip(soprano["items"], sources, strict=True):
        for take in item["takes"]:
            assert [note_key(n) for n in take["notes"]] == [note_key(n) for n in source["notes"]]
    for track in lower:
        for item in track["items"]:
            for take in item["takes"]:
                assert_inside(take, item["start_qn"], item["end_qn"])
                assert {note["channel"] for note in take["notes"]} == {3}
                ends = [n["end_qn"] for n in take["notes"]]
                starts = [n["start_qn"] for n in take["notes"]]
                assert all(e <= s + 1e-6 for e, s in zip(ends, starts[1:], strict=False))
    # What the daemon got and gave, a job per item (they run side by side): its melody; per
    # variation the melody again, then alto, tenor and bass, the takes of the voices' items.
    melodies = [[note[0] for note in notes] for notes in (first, second)]  # told by pitches
    found = []
    for job in daemon.store.history(2):
        assert job.tool == "harmonize" and job.model == "chorales"
        assert job.params["gibbs_steps"] == 2 and job.params["variations"] == 2
        assert job.params["voices_apart"] is True
        sent = read_midi(job.input_paths[0])
        index = melodies.index([n.pitch for n in sent.notes])
        found.append(index)
        assert len(job.result_paths) == 2 * 4
        for variation in range(2):
            for voice, track in enumerate(voices):
                clip = read_midi(job.result_paths[variation * 4 + voice])
                if voice == 0:
                    assert [(n.pitch, n.start, n.end) for n in clip.notes] == [
                        (n.pitch, n.start, n.end) for n in sent.notes
                    ]
                else:
                    take = track["items"][index]["takes"][variation]
                    assert sorted(
                        (n["pitch"], *beats(n, 4 + 8 * index)) for n in take["notes"]
                    ) == sorted((n.pitch, n.start, n.end) for n in clip.notes)
    assert sorted(found) == [0, 1]


# A chorale of four voices over 8 beats (pitch, start, end in beats), and a muted note.
CHORALE = [
    *[(72, 0, 1), (74, 1, 2), (76, 2, 3), (77, 3, 4), (76, 4, 6), (74, 6, 7), (72, 7, 8)],
    *[(67, 0, 2), (69, 2, 3), (71, 3, 4), (72, 4, 8)],
    *[(64, 0, 2), (65, 2, 4), (67, 4, 8)],
    *[(48, 0, 1.5), (53, 1.5, 2.5), (55, 2.5, 4), (48, 4, 8)],  # 53 rings into the span
]
MUTED = (60, 2.5, 3)
HIDDEN = (60, -2, -1)  # before the item, in the part of its take the trim hides
SPAN = (2, 4)  # beats of the item: its project QN 6 to 8
TRIM = 2  # beats of the take before the item (1 s at 120 qpm)


def chorale_notes() -> list[tuple]:
    """The take's notes as REAPER holds them (see Item.notes), in order."""

    def ticks(pitch, start, end, muted=False):
        return (pitch, round((start + TRIM) * PPQ), round((end + TRIM) * PPQ), 90, 1, muted)

    notes = [ticks(*HIDDEN), *(ticks(*n) for n in CHORALE), ticks(*MUTED, muted=True)]
    return sorted(notes, key=lambda n: (n[1], n[0]))


def chorale_item() -> Item:
    """The chorale in an item from QN 4 to 12, its take trimmed by TRIM beats."""
    return Item(4, 12, chorale_notes(), startoffs=1.0)


def rewritten(pitch: int, start: float, end: float, muted: bool) -> bool:
    """Whether infill writes a note again: played, and wholly inside the span (beats)."""
    return not muted and start >= SPAN[0] - 1e-6 and end <= SPAN[1] + 1e-6


def test_infill_writes_the_time_selection_again_and_keeps_every_other_note(
    daemon, chorale_settings, tmp_path
):
    """The time selection covers beats 2-4 of a trimmed item across a tempo change (120 to 90
    qpm at QN 7): in the item's own take the notes wholly inside it are replaced by new ones
    there, and every other note (before, after, ringing across its start, muted, hidden by the
    trim) is left exactly as it was; the second variation is a new take of the whole item."""
    project = Project(
        tracks=[Track("Choir", [chorale_item()])],
        tempo=[{"qn": 0, "bpm": 120}, {"qn": 7, "bpm": 90}],
        time_selection=(3.0, 3.5 + 60 / 90),  # QN 6 to 8
        settings={**chorale_settings, "variations": "2"},
    )
    result = run_action(project, "Infill", tmp_path)
    assert_clean(result, "Magenta Bridge: infill")
    assert result["messages"] == []
    (choir,) = result["tracks"]
    (item,) = choir["items"]
    assert [take["name"] for take in item["takes"]] == ["", "infill 2"]
    assert item["active_take"] == 1  # the item's own take, written again
    own, second = item["takes"]

    def in_beats(note):  # (pitch, start, end, muted), beats from the item's start
        return (note[0], note[1] / PPQ - TRIM, note[2] / PPQ - TRIM, note[5])

    kept = Counter(n for n in chorale_notes() if not rewritten(*in_beats(n)))
    assert sum(kept.values()) == len(CHORALE) + 2 - 6  # six notes lie wholly in the span
    now = Counter(note_key(n) for n in own["notes"])
    assert now & kept == kept  # every other note, tick for tick
    new = [n for n in own["notes"] if note_key(n) in now - kept]
    for note in new:
        assert 6 - 1e-6 <= note["start_qn"] < note["end_qn"] <= 8 + 1e-6, note
        assert note["channel"] == 1 and not note["muted"]
    # What the daemon got: the span in beats from the item's start; and gave: per variation
    # one clip of every voice, the kept notes and the new ones, which are exactly those added
    # to the item's take (the first variation) and to the new take (the second).
    job = last_job(daemon)
    assert job.tool == "infill" and job.model == "chorales"
    assert (job.params["start"], job.params["end"]) == pytest.approx(SPAN)
    assert job.params["voices_apart"] is False and job.params["gibbs_steps"] == 2
    sent = read_midi(job.input_paths[0])
    assert sorted((n.pitch, n.start, n.end, n.mute) for n in sent.notes) == sorted(
        [(p, s, e, False) for p, s, e in CHORALE] + [(*MUTED, True)]
    )
    heard = Counter((p, s, e) for p, s, e, m in map(in_beats, kept) if s >= 0 and not m)
    first, again = (
        Counter((n.pitch, n.start, n.end) for n in read_midi(path).notes) - heard
        for path in job.result_paths
    )
    assert first, "nothing written in the span"
    assert Counter((n["pitch"], *beats(n, 4)) for n in new) == first
    # The second variation: the notes the item shows but those written again, and its new ones.
    shown = Counter(note for note in map(in_beats, kept.elements()) if note[1] >= 0)
    notes = Counter((n["pitch"], *beats(n, 4), n["muted"]) for n in second["notes"])
    assert notes - shown == Counter((*note, False) for note in again.elements())
    assert shown - notes == Counter()


@pytest.mark.parametrize(
    ("time_selection", "complaint"),
    [
        ((0.0, 0.0), "Make a time selection over the part of the items to infill."),
        ((8.0, 9.0), "The time selection does not overlap the item on track 'Choir'"),
    ],
)
def test_infill_needs_a_time_selection_over_the_item(
    chorale_settings, tmp_path, time_selection, complaint
):
    project = Project(
        tracks=[Track("Choir", [chorale_item()])],
        time_selection=time_selection,
        settings=chorale_settings,
    )
    result = run_action(project, "Infill", tmp_path)
    assert_clean(result, None)
    (message,) = result["messages"]
    assert message["message"].startswith(complaint)
    assert result["executed"] == []


def test_infill_of_five_voices_is_refused_clearly(daemon, chorale_settings, tmp_path):
    """A five-note chord: the daemon says Coconet writes four voices; nothing changes."""
    chord = [(pitch, 0, 4 * PPQ, 90, 0) for pitch in (48, 55, 64, 67, 72)]
    melody = [(74, 4 * PPQ, 8 * PPQ, 90, 0)]
    project = Project(
        tracks=[Track("Keys", [Item(0, 8, chord + melody)])],
        time_selection=(2.0, 4.0),  # beats 4-8
        settings=chorale_settings,
    )
    result = run_action(project, "Infill", tmp_path)
    assert_clean(result, None)
    (message,) = result["messages"]
    text = message["message"]
    assert text.startswith("infill failed: ")
    assert "5 notes sound together at beat 0; Coconet writes at most 4 voices" in text
    ((item,),) = [track["items"] for track in result["tracks"]]
    (take,) = item["takes"]
    assert len(take["notes"]) == 6
