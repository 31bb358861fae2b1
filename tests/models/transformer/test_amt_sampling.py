"""The native sampler against the reference's sample.py: its logit masks, its nucleus, and
whole generation tasks (continue, infill, accompany) run with a scripted network on both
sides, so every input the network is shown and the music written must agree."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from bridge.models.transformer.arrival import between
from bridge.models.transformer.controls import split_instruments
from bridge.models.transformer.events import from_tokens, to_tokens
from bridge.models.transformer.generation import generate, prepare
from bridge.models.transformer.midi_events import read_midi_events
from bridge.models.transformer.sampling import (
    DURATION,
    NOTE,
    TIME,
    allowed_instruments,
    legal,
    nucleus,
)
from bridge.models.transformer.vocab import REST, VOCAB_SIZE

REPO = Path(__file__).parents[3]


def indices(ranges: list[list[int]]) -> set[int]:
    return {index for start, end in ranges for index in range(start, end)}


def allowed_set(mask: torch.Tensor) -> set[int]:
    return set(mask.nonzero().flatten().tolist())


def test_each_place_of_a_triple_allows_what_the_reference_allows(reference):
    """The reference leaves the rest token open as a time and as a duration too; here it
    may only stand where a note does."""
    slots = [indices(ranges) for ranges in reference["masks"]["slots"]]
    cpu = torch.device("cpu")
    for slot in (TIME, DURATION, NOTE):
        mine = allowed_set(legal(slot, VOCAB_SIZE, [0], [None], cpu)[0])
        assert mine == slots[slot] - ({REST} if slot != NOTE else set())


def test_no_time_before_the_present_and_no_sixteenth_instrument(reference):
    masks = reference["masks"]
    slots = [indices(ranges) for ranges in masks["slots"]]
    cpu = torch.device("cpu")
    future = allowed_set(legal(TIME, VOCAB_SIZE, [1234], [None], cpu)[0])
    assert future == indices(masks["future_1234"]) & slots[TIME] - {REST}
    history = from_tokens(masks["fifteen_instruments"])
    seen = {event.instrument for event in history}
    allowed = allowed_instruments(seen, None)
    notes = allowed_set(legal(NOTE, VOCAB_SIZE, [0], [allowed], cpu)[0])
    assert notes == indices(masks["fifteen_instruments_allowed"]) & slots[NOTE]
    assert allowed_instruments(set(range(14)), None) is None  # fourteen: any may join
    assert allowed_instruments(set(range(15)), {3, 40}) == {3}


def test_the_nucleus_keeps_what_the_reference_keeps(reference):
    for case in reference["masks"]["nucleus"]:
        logits = torch.tensor(case["logits"]).unsqueeze(0)
        kept = torch.isfinite(nucleus(logits, case["top_p"]))[0]
        assert kept.nonzero().flatten().tolist() == case["kept"], case["top_p"]


def expanded(shown: list) -> list[list[int]]:
    inputs: list[list[int]] = []
    for base, rest in shown:
        inputs.append((inputs[base] if base >= 0 else []) + rest)
    return inputs


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def run_task(events, spec, model):
    """The task the reference ran (amt_reference_worker.task), natively."""
    start, end = (round(100 * spec["start"]), round(100 * spec["end"]))
    controls = []
    if spec["kind"] == "continue":
        inputs = between(events, 0, start)
    elif spec["kind"] == "infill":
        inputs = [e for e in events if not start <= e.time < end]
    else:
        kept, given = split_instruments(events, spec["instruments"])
        inputs = between(kept, 0, start)
        controls = [e.as_control(False) for e in given if e.time >= 5]
    prompt = prepare(inputs, start, end, controls)
    [result] = generate(model, prompt, seed=0, slide=1)
    [decoder] = model.decoders
    shown = [call[0] for call in decoder.calls]
    return shown, to_tokens(result.events)


@pytest.mark.parametrize("index", range(10))
def test_tasks_show_the_network_what_the_reference_shows_it(
    index, reference, scripted_model, source_midi
):
    """Every input, call by call (the reference draws two more tokens of the triple that
    ends the task; here the task ends at that triple's time), and the piece written."""
    record = reference["files"][index]
    if record["source"]["kind"] == "mma" and "sha256" not in record:
        pytest.skip("no MMA fixture recorded")
    events = read_midi_events(source_midi(record["source"])).events
    for number, spec in enumerate(record["tasks"]):
        scripted_model.decoders.clear()
        shown, result = run_task(events, spec, scripted_model)
        if "sha256" in record:
            hashes = record["sha256"]["tasks"][number]
            assert digest(shown) == hashes["shown"], spec
            assert digest(result) == hashes["result"], spec
            continue
        theirs = expanded(spec["shown"])
        assert len(shown) == len(theirs) - 2, spec
        for call, (mine, expected) in enumerate(zip(shown, theirs, strict=False)):
            assert mine == expected, f"{spec['kind']}: input {call} differs"
        assert result == spec["result"], spec
