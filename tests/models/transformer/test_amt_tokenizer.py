"""The native arrival-time tokenizer against the reference's own (github.com/jthickstun/
anticipation, run by models/reference/amt_tokens.py): the same tokens for real MIDI, the
same decoding, the same training splits and interleavings. Chorales (music21) and MMA
grooves are rendered again here and checked by digest: their music is never committed."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bridge.models.transformer.arrival import anticipate, with_rests
from bridge.models.transformer.controls import split_instruments, split_random, split_spans
from bridge.models.transformer.events import Event, from_tokens, to_tokens
from bridge.models.transformer.midi_events import read_midi_events
from bridge.models.transformer.parts import events_to_parts, parts_to_events
from bridge.models.transformer.vocab import (
    ANTICIPATE,
    AUTOREGRESS,
    CONTROL_OFFSET,
    REST,
    SEPARATOR,
    VOCAB_SIZE,
    note_index,
)
from bridge.music.midi import midi_parts_bytes, read_midi_parts

REPO = Path(__file__).parents[3]


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def decoded(events: list[Event]) -> list[list[int]]:
    """What the reference's events_to_compound keeps of a note: time, duration, pitch and
    instrument (its velocity is a constant)."""
    return [[e.time, e.duration, e.pitch, e.instrument] for e in events if not e.is_rest]


def native_split(events: list[Event], spec: dict) -> dict:
    """The split the reference recorded, made natively, in the reference's record's shape."""
    rng = np.random.RandomState(spec["seed"])  # np.random.seed(s) draws these numbers
    if spec["kind"] == "spans":
        kept, controls = split_spans(events, spec["rate"], rng)
    elif spec["kind"] == "random":
        spec = dict(spec, rate=int(rng.randint(1, 10)))
        kept, controls = split_random(events, spec["rate"], rng)
    else:
        kept, controls = split_instruments(events, spec["instruments"])
    end = max(event.time for event in events)
    interleaved, left = anticipate(with_rests(kept, end), controls)
    return dict(
        spec,
        events=to_tokens(kept),
        controls=to_tokens(controls),
        interleaved=to_tokens(interleaved),
        left=to_tokens(left),
    )


def sources(reference) -> list[dict]:
    return reference["files"]


def test_the_vocabulary_is_the_released_models():
    assert (REST, CONTROL_OFFSET, SEPARATOR, AUTOREGRESS, ANTICIPATE, VOCAB_SIZE) == (
        27_512,
        27_513,
        55_025,
        55_026,
        55_027,
        55_028,
    )


def test_the_fixture_covers_what_the_issue_names(reference):
    kinds = [record["source"]["kind"] for record in reference["files"]]
    assert kinds.count("example") == 4 and "fixture" in kinds and kinds.count("chorale") == 2
    assert reference["reference"]["commit"]


@pytest.mark.parametrize("index", range(10))
def test_midi_reads_as_the_reference_reads_it(index, reference, source_midi):
    record = reference["files"][index]
    source = record["source"]
    if source["kind"] == "mma" and "sha256" not in record:
        pytest.skip("no MMA fixture recorded")
    midi = source_midi(source)
    events = read_midi_events(midi).events
    tokens = to_tokens(events)
    splits = [native_split(events, spec) for spec in record["splits"]]
    if "sha256" in record:  # restricted music: digests only
        hashes = record["sha256"]
        assert len(events) == record["notes"]
        assert digest(tokens) == hashes["tokens"], "tokens differ from the reference's"
        assert digest(decoded(from_tokens(tokens))) == hashes["decoded"]
        assert [digest(split) for split in splits] == hashes["splits"]
        return
    assert tokens == record["tokens"]
    assert len(record["tokens"]) > 0
    assert decoded(from_tokens(tokens)) == record["decoded"]
    for mine, theirs in zip(splits, record["splits"], strict=True):
        assert mine == theirs, f"{theirs['kind']} split (seed {theirs['seed']}) differs"


@pytest.mark.parametrize("index", range(10))
def test_the_bridge_parts_give_the_same_notes(index, reference, source_midi):
    """Through bridge.music (beats, MidiPart): the same events, in the same order, for files
    the bridge wrote. Other writers order simultaneous notes their own way, which parts do
    not keep, and music21 puts all four voices on one channel: where two voices sound one
    pitch at once, the reference (as MIDI itself) lets a note-off end the older note of the
    channel, the bridge the note of its own track. Those notes keep their onsets only."""
    record = reference["files"][index]
    if record["source"]["kind"] == "mma" and "sha256" not in record:
        pytest.skip("no MMA fixture recorded")
    midi = source_midi(record["source"])
    native = read_midi_events(midi).events
    mine = parts_to_events(read_midi_parts(midi))
    if record["source"]["kind"] in ("example", "fixture"):
        assert mine == native
    onsets = Counter((e.time, e.note) for e in mine)
    native_onsets = Counter((e.time, e.note) for e in native)
    # The bridge drops notes whose note-off comes at their note-on's tick (MMA has some).
    dropped = native_onsets - onsets
    assert not onsets - native_onsets
    assert all(e.duration == 0 for e in native if (e.time, e.note) in dropped)
    unisons = overlapping(mine) | overlapping(native) | set(dropped)
    assert sorted(e for e in mine if (e.time, e.note) not in unisons) == sorted(
        e for e in native if (e.time, e.note) not in unisons
    )


def overlapping(events: list[Event]) -> set[tuple[int, int]]:
    """(time, note) of notes that sound while an earlier note of the same pitch and
    instrument still sounds, and of those earlier notes."""
    found = set()
    last: dict[int, Event] = {}
    for event in sorted(events):
        before = last.get(event.note)
        if before is not None and event.time < before.time + before.duration:
            found |= {(before.time, before.note), (event.time, event.note)}
        if before is None or event.time + event.duration > before.time + before.duration:
            last[event.note] = event
    return found


def test_events_go_back_to_the_same_notes(reference):
    """Decoded to parts, written as MIDI and read again: the same events (120 qpm: a tick is
    a fiftieth of a beat, exact on the MIDI file's tick grid)."""
    for record in reference["files"]:
        if "tokens" not in record:
            continue
        events = from_tokens(record["tokens"])
        parts = events_to_parts(events, qpm=120.0)
        again = read_midi_events(midi_parts_bytes(parts, ticks_per_beat=480)).events
        assert sorted(again) == sorted(playable(events)), record["id"]
        drums = [part for part in parts if part.clip.drums]
        assert all(part.program == 0 for part in drums)


def playable(events: list[Event]) -> list[Event]:
    """What a MIDI part can hold of events: each note at least a tick long, and ending where
    its instrument plays its pitch again."""
    out = []
    ordered = sorted(events, key=lambda e: (e.note, e.time))
    for event, following in zip(ordered, [*ordered[1:], None], strict=True):
        end = event.time + max(event.duration, 1)
        if following is not None and following.note == event.note:
            if following.time == event.time:
                continue  # examples have none struck twice at once
            end = min(end, following.time)
        out.append(event._replace(duration=end - event.time))
    return out


def test_overlapping_unisons_end_where_the_pitch_plays_again():
    events = [
        Event(0, 300, 60),
        Event(100, 50, 60),
        Event(100, 20, 61),
        Event(200, 0, 61),
        Event(500, 10, 62),
        Event(500, 30, 62),
    ]
    notes = [(n.pitch, n.start, n.duration) for n in events_to_parts(events)[0].clip.notes]
    # 120 qpm: a tick is 0.02 beats. One of two notes struck together: the longer.
    assert notes == [
        (60, 0.0, 2.0),
        (60, 2.0, 1.0),
        (61, 2.0, 0.4),
        (61, 4.0, 0.02),
        (62, 10.0, 0.6),
    ]


def test_tokens_and_events_round_trip_with_controls_and_rests():
    events = [
        Event(0, 50, note_index(0, 60)),
        Event(150, 0, 16_512),
        Event(700, 999, note_index(128, 36), True),
    ]
    tokens = to_tokens(events)
    assert tokens[3:6] == [150, 10_000, REST]
    assert tokens[6] == CONTROL_OFFSET + 700
    assert from_tokens(tokens) == events
    with pytest.raises(ValueError, match="not a note"):
        from_tokens([SEPARATOR] * 3)
    with pytest.raises(ValueError, match="mixes"):
        from_tokens([0, 5, 11_000])
