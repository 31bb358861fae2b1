"""Every tool of the registry end to end over REST, on a daemon with a model for each
(tests/tool_daemons.py): MIDI files uploaded as a form, or notes sent as JSON, the job followed
by its events, every result downloaded and read back as MIDI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from http_clients import EXAMPLES, Http, client_of, notes_of
from tool_daemons import tool_daemon

from bridge.music.midi import read_midi
from bridge.tools.registry import TOOLS

# Per tool: its input files, its params, the model that answers, how many results come back.
CASES: dict[str, tuple[list[str], dict[str, Any], str, int]] = {
    "continue": (["folk_melody"], {"bars": 2, "variations": 3}, "folk", 3),
    "generate": ([], {"variations": 2, "bars": 2, "content": "drums"}, "drum_vae", 2),
    "interpolate": (["folk_melody", "reel_melody"], {"steps": 3}, "melody_vae", 3),
    "vary": (["folk_melody"], {"variations": 2}, "melody_vae", 2),
    "groove": (["rock_groove"], {"variations": 2}, "humanize", 2),
    "drumify": (["folk_melody"], {"variations": 2}, "drumify", 2),
    "harmonize": (["folk_melody"], {"gibbs_steps": 2, "variations": 1}, "chorales", 4),
    "infill": (
        ["folk_melody"],
        {"from_bar": 2, "to_bar": 3, "gibbs_steps": 2, "voices_apart": 0},
        "chorales",
        1,
    ),
}


@pytest.fixture(scope="module")
def http(tmp_path_factory) -> Iterator[Http]:
    daemon = tool_daemon(tmp_path_factory.mktemp("daemon"))
    yield client_of(daemon)
    daemon.close()


def test_every_tool_of_the_registry_has_a_case_here():
    assert set(CASES) == set(TOOLS)


@pytest.mark.parametrize("tool", list(CASES))
def test_each_tool_runs_from_uploaded_midi_files(http: Http, tool: str):
    inputs, params, model, count = CASES[tool]
    files = {f"clip{n}": (EXAMPLES / f"{name}.mid").read_bytes() for n, name in enumerate(inputs)}
    fields = {"tool": tool, "params": json.dumps({**params, "seed": 3})}
    reply = http.post_form("/v1/jobs", fields, files)
    assert reply.status == 202, reply.body
    assert reply.json["model"] == model
    name, done = list(http.events(reply.json["events_url"]))[-1]
    assert name == "done", done
    assert (done["tool"], done["model"], done["status"]) == (tool, model, "done")
    assert len(done["results"]) == count
    for result in done["results"]:
        midi = http.get(result["midi_url"])
        assert midi.status == 200 and midi.content_type == "audio/midi"
        clip = read_midi(midi.body, allow_empty=True)
        assert (len(clip.notes), clip.length) == (result["notes_count"], result["length"])
        assert clip.drums == result["drums"]
    assert any(result["notes_count"] for result in done["results"])


@pytest.mark.parametrize("tool", ["continue", "vary", "interpolate"])
def test_json_notes_give_what_the_same_midi_files_give(http: Http, tool: str):
    inputs, params, _, _ = CASES[tool]
    clips = []
    for name in inputs:
        clip = read_midi(EXAMPLES / f"{name}.mid")
        clips.append({"notes": notes_of(EXAMPLES / f"{name}.mid"), "length": clip.length})
    _, events = http.run({"tool": tool, "params": {**params, "seed": 11}, "clips": clips})
    files = {f"clip{n}": (EXAMPLES / f"{name}.mid").read_bytes() for n, name in enumerate(inputs)}
    fields = {"tool": tool, "params": json.dumps({**params, "seed": 11})}
    uploaded = list(http.events(http.post_form("/v1/jobs", fields, files).json["events_url"]))
    pairs = zip(events[-1][1]["results"], uploaded[-1][1]["results"], strict=True)
    for a, b in pairs:
        assert http.get(a["midi_url"]).body == http.get(b["midi_url"]).body


def test_a_json_drum_part_goes_to_the_drum_model_and_comes_back_drums(http: Http):
    hits = [(36, 0.0), (42, 0.0), (42, 0.5), (38, 1.0), (42, 1.0), (42, 1.5)]
    notes = [[pitch, start + at, 0.25, 100, False] for at in (0, 2, 4, 6) for pitch, start in hits]
    clip = {"notes": notes, "length": 8.0, "drums": True}
    accepted, events = http.run({"tool": "continue", "params": {"bars": 1}, "clips": [clip]})
    assert accepted["model"] == "drums"
    assert accepted["model_reason"].startswith("drums: it is a drum part")
    (result,) = events[-1][1]["results"]
    assert result["drums"] is True
