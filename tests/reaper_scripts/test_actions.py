"""Every REAPER action end to end: the scripts run under lua5.4 in the harness of REAPER's API,
start the real `magenta-bridge client`, which asks a real daemon; the tests read the items and
takes the harness ends up with, and the inputs the daemon stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from reaper_project import (
    CLIENT,
    EXAMPLES,
    GM_DRUMS,
    LUA,
    REPO,
    Item,
    Project,
    Track,
    assert_clean,
    assert_inside,
    last_job,
    notes_from,
    run_action,
)
from tool_daemons import unused_port

from bridge.music.midi import read_midi
from bridge.music.scales import parse_key

pytestmark = pytest.mark.skipif(LUA is None, reason="lua5.4 missing (setup.sh installs it)")

MAJOR = 0b101010110101  # REAPER's scale mask: bit n = n semitones above the root


def slow_client(folder: Path, seconds: float) -> Path:
    """A client that takes `seconds` longer to start."""
    wrapper = folder / "slow-magenta-bridge"
    wrapper.write_text(f'#!/bin/sh\nsleep {seconds}\nexec "{CLIENT}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_continue_places_a_new_item_after_the_source_across_a_tempo_change(
    daemon, settings, tmp_path
):
    """The source ends where the tempo changes from 120 to 90 qpm: the continuation starts
    there, two bars long in beats (5.33 s, not 4 s), every variation a take, on the channel the
    source plays. The client takes a second longer than usual, and REAPER keeps running."""
    melody = notes_from(EXAMPLES / "folk_melody.mid", 8, channel=3)
    project = Project(
        tracks=[Track("Lead", [Item(0, 8, melody)])],
        tempo=[{"qn": 0, "bpm": 120, "num": 4, "denom": 4}, {"qn": 8, "bpm": 90}],
        settings={
            **settings,
            "variations": "3",
            "bars": "2",
            "key": "off",
            "executable": str(slow_client(tmp_path, 1.0)),
        },
    )
    result = run_action(project, "Continue", tmp_path / "run")
    assert_clean(result, "Magenta Bridge: continue")
    assert result["callbacks"] > 10  # polled while the client ran, never waited for it
    assert result["messages"] == []
    assert result["tooltips"][0] == "Magenta Bridge: continue... 0%"
    assert result["tooltips"][-1] == ""
    assert result["executed"][-1].endswith("&")  # the client runs in the background
    source, new = result["tracks"][0]["items"]
    assert [len(t["notes"]) for t in source["takes"]] == [len(melody)]  # untouched
    assert new["position"] == pytest.approx(4.0)
    assert new["length"] == pytest.approx(8 * 60 / 90)
    assert [t["name"] for t in new["takes"]] == ["continue 1", "continue 2", "continue 3"]
    assert new["active_take"] == 1
    for take in new["takes"]:
        assert_inside(take, 8, 16)
        assert {note["channel"] for note in take["notes"]} == {3}
    # What the daemon got: the item's notes, in beats from its start, and the settings.
    job = last_job(daemon)
    assert job.tool == "continue" and job.params["variations"] == 3 and job.params["bars"] == 2
    sent = read_midi(job.input_paths[0])
    expected = read_midi(EXAMPLES / "folk_melody.mid")
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in sent.notes] == [
        (n.pitch, n.start, n.duration, n.velocity) for n in expected.notes if n.start < 8
    ]
    assert sent.length == 8 and sent.qpm == 120


def test_an_item_short_of_its_bar_is_continued_from_the_bar_line(daemon, settings, tmp_path):
    """A 7.75-beat item at beat 4: the daemon hears its exact length and continues from its
    next bar line (beat 12), where the new item goes, so every note keeps its beat."""
    melody = notes_from(EXAMPLES / "folk_melody.mid", 7.75)
    project = Project(
        tracks=[Track("Lead", [Item(4, 11.75, melody)])],
        tempo=[{"qn": 0, "bpm": 120, "num": 4, "denom": 4}],
        settings={**settings, "variations": "1", "bars": "1", "key": "off"},
    )
    result = run_action(project, "Continue", tmp_path / "run")
    assert_clean(result, "Magenta Bridge: continue")
    _, new = result["tracks"][0]["items"]
    assert new["position"] == pytest.approx(12 * 60 / 120)  # seconds: beat 12
    assert_inside(new["takes"][0], 12, 16)
    assert read_midi(last_job(daemon).input_paths[0]).length == 7.75


def test_continue_reads_what_a_trimmed_item_shows_and_locks_to_its_key(daemon, settings, tmp_path):
    """The take's source starts 2 s (4 beats) before the item: only the notes that start inside
    the item are sent, cut at its end; REAPER's key snap (G major) becomes the key lock."""
    melody = notes_from(EXAMPLES / "folk_melody.mid", 16)
    item = Item(4, 12, melody, startoffs=2.0, scale=(7, MAJOR))
    project = Project(tracks=[Track("Lead", [item])], settings={**settings, "variations": "2"})
    result = run_action(project, "Continue", tmp_path)
    assert_clean(result, "Magenta Bridge: continue")
    job = last_job(daemon)
    assert job.params["key"] == "G:major" and job.params["bars"] == 4
    sent = read_midi(job.input_paths[0])
    source = read_midi(EXAMPLES / "folk_melody.mid")
    inside = [n for n in source.notes if 4 <= n.start < 12]
    assert [(n.pitch, n.start) for n in sent.notes] == [(n.pitch, n.start - 4) for n in inside]
    assert max(n.end for n in sent.notes) <= 8
    new = result["tracks"][0]["items"][1]
    assert new["start_qn"] == pytest.approx(12) and new["end_qn"] == pytest.approx(28)
    g_major = parse_key("G:major").pitch_classes
    for take in new["takes"]:
        assert_inside(take, 12, 28)
        assert {note["pitch"] % 12 for note in take["notes"]} <= g_major


def test_vary_adds_the_variations_as_takes_of_the_item(daemon, settings, tmp_path):
    melody = notes_from(EXAMPLES / "folk_melody.mid", 8)
    project = Project(
        tracks=[Track("Lead", [Item(8, 16, melody)])], settings={**settings, "variations": "4"}
    )
    result = run_action(project, "Vary", tmp_path)
    assert_clean(result, "Magenta Bridge: vary")
    (item,) = result["tracks"][0]["items"]
    names = [take["name"] for take in item["takes"]]
    assert names == ["", "vary 1", "vary 2", "vary 3", "vary 4"]
    assert item["active_take"] == 2  # the first variation plays
    assert len(item["takes"][0]["notes"]) == len(melody)
    for take in item["takes"][1:]:
        assert take["midi"]
        assert_inside(take, 8, 16)
    assert last_job(daemon).model == "melody_vae"


def test_interpolate_fills_the_gap_between_two_items(daemon, settings, tmp_path):
    """Two 2-bar items with 4 bars between them and a tempo change in the gap: two steps of
    2 bars fill it exactly, each its own item."""
    first = Item(0, 8, notes_from(EXAMPLES / "folk_melody.mid", 8))
    last = Item(24, 32, notes_from(EXAMPLES / "reel_melody.mid", 8))
    project = Project(
        tracks=[Track("Lead", [first, last])],
        tempo=[{"qn": 0, "bpm": 120}, {"qn": 12, "bpm": 100}],
        settings={**settings, "steps": "2"},
    )
    result = run_action(project, "Interpolate", tmp_path)
    assert_clean(result, "Magenta Bridge: interpolate")
    items = result["tracks"][0]["items"]
    assert [(i["start_qn"], i["end_qn"]) for i in items] == [
        pytest.approx((0, 8)),
        pytest.approx((8, 16)),
        pytest.approx((16, 24)),
        pytest.approx((24, 32)),
    ]
    assert items[2]["position"] == pytest.approx(12 * 0.5 + 4 * 0.6)  # 12 beats at 120, 4 at 100
    for item, name, (start, end) in zip(
        items[1:3], ["interpolate 1", "interpolate 2"], [(8, 16), (16, 24)], strict=True
    ):
        (take,) = item["takes"]
        assert take["name"] == name
        assert_inside(take, start, end)
    job = last_job(daemon)
    assert job.tool == "interpolate" and len(job.input_paths) == 2
    assert job.params["endpoints"] is False and job.params["steps"] == 2


def test_interpolate_steps_that_do_not_fit_the_gap_go_to_a_new_track(daemon, settings, tmp_path):
    """Three steps of 2 bars after a 1-bar gap would cover the second item: they go below."""
    first = Item(0, 8, notes_from(EXAMPLES / "folk_melody.mid", 8))
    last = Item(12, 20, notes_from(EXAMPLES / "reel_melody.mid", 8))
    project = Project(tracks=[Track("Lead", [first, last])], settings={**settings, "steps": "3"})
    result = run_action(project, "Interpolate", tmp_path)
    assert_clean(result, "Magenta Bridge: interpolate")
    lead, below = result["tracks"]
    assert [(i["start_qn"], i["end_qn"]) for i in lead["items"]] == [(0, 8), (12, 20)]
    assert below["name"] == "Interpolate"
    assert [(i["start_qn"], i["end_qn"]) for i in below["items"]] == [
        pytest.approx((8, 16)),
        pytest.approx((16, 24)),
        pytest.approx((24, 32)),
    ]
    assert [i["takes"][0]["name"] for i in below["items"]] == [
        f"interpolate {n}" for n in (1, 2, 3)
    ]


def test_groove_humanizes_a_drum_track_on_any_channel(daemon, settings, tmp_path):
    """A track named Drums with its hits on channel 1: sent as a drum part, grooved takes back
    on channel 1, every pitch a General MIDI drum."""
    groove = notes_from(EXAMPLES / "rock_groove.mid", 8, channel=0)
    project = Project(
        tracks=[Track("Drums", [Item(0, 8, groove)])], settings={**settings, "variations": "2"}
    )
    result = run_action(project, "Groove", tmp_path)
    assert_clean(result, "Magenta Bridge: groove")
    (item,) = result["tracks"][0]["items"]
    assert [take["name"] for take in item["takes"]] == ["", "groove 1", "groove 2"]
    for take in item["takes"][1:]:
        assert_inside(take, 0, 8)
        assert {note["channel"] for note in take["notes"]} == {0}
        assert {note["pitch"] for note in take["notes"]} <= set(GM_DRUMS)
    job = last_job(daemon)
    assert job.model == "humanize" and read_midi(job.input_paths[0]).drums


def test_drumify_writes_drums_on_a_new_track_below(daemon, settings, tmp_path):
    melody = notes_from(EXAMPLES / "folk_melody.mid", 8)
    project = Project(
        tracks=[Track("Lead", [Item(4, 12, melody)]), Track("Bass")],
        settings={**settings, "variations": "2"},
    )
    result = run_action(project, "Drumify", tmp_path)
    assert_clean(result, "Magenta Bridge: drumify")
    assert [track["name"] for track in result["tracks"]] == ["Lead", "Drumify", "Bass"]
    (item,) = result["tracks"][1]["items"]
    assert (item["start_qn"], item["end_qn"]) == pytest.approx((4, 12))
    assert [take["name"] for take in item["takes"]] == ["drumify 1", "drumify 2"]
    for take in item["takes"]:
        assert_inside(take, 4, 12)
        assert {note["channel"] for note in take["notes"]} == {9}  # General MIDI's drums
        assert {note["pitch"] for note in take["notes"]} <= set(GM_DRUMS)
    assert last_job(daemon).model == "drumify"


def test_generate_lands_at_the_edit_cursor_on_the_selected_track(daemon, settings, tmp_path):
    project = Project(
        tracks=[Track("Lead"), Track("Keys", selected=True)],
        tempo=[{"qn": 0, "bpm": 100}],
        cursor=3.0,  # 5 beats at 100 qpm
        settings={**settings, "variations": "2", "bars": "2"},
    )
    result = run_action(project, "Generate", tmp_path)
    assert_clean(result, "Magenta Bridge: generate")
    assert result["tracks"][0]["items"] == []
    (item,) = result["tracks"][1]["items"]
    assert item["position"] == pytest.approx(3.0)
    assert (item["start_qn"], item["end_qn"]) == pytest.approx((5, 13))
    assert [take["name"] for take in item["takes"]] == ["generate 1", "generate 2"]
    for take in item["takes"]:
        assert_inside(take, 5, 13)
    assert last_job(daemon).params["qpm"] == 100


def test_generate_on_a_drum_track_asks_for_drums(daemon, settings, tmp_path):
    project = Project(tracks=[Track("Drums", selected=True)], settings=settings)
    result = run_action(project, "Generate", tmp_path)
    assert_clean(result, "Magenta Bridge: generate")
    (item,) = result["tracks"][0]["items"]
    assert len(item["takes"]) == 4  # the default variations
    for take in item["takes"]:
        assert {note["channel"] for note in take["notes"]} == {9}
        assert {note["pitch"] for note in take["notes"]} <= set(GM_DRUMS)
    assert last_job(daemon).model == "drum_vae"


def test_a_daemon_that_is_not_running_is_said_clearly(settings, tmp_path):
    melody = notes_from(EXAMPLES / "folk_melody.mid", 8)
    project = Project(
        tracks=[Track("Lead", [Item(0, 8, melody)])],
        settings={**settings, "port": str(unused_port())},
    )
    result = run_action(project, "Continue", tmp_path)
    assert_clean(result, None)
    (message,) = result["messages"]
    assert message["title"] == "Magenta Bridge"
    assert "continue failed: no daemon answers on 127.0.0.1:" in message["message"]
    assert "magenta-bridge serve" in message["message"]
    assert len(result["tracks"][0]["items"]) == 1  # nothing written


def test_a_client_that_cannot_run_is_said_clearly(settings, tmp_path):
    """A file that is not a program, set as the client: the shell's complaint, and where to
    fix it."""
    melody = notes_from(EXAMPLES / "folk_melody.mid", 8)
    not_a_program = REPO / "README.md"
    project = Project(
        tracks=[Track("Lead", [Item(0, 8, melody)])],
        settings={**settings, "executable": str(not_a_program)},
    )
    result = run_action(project, "Vary", tmp_path)
    assert result["errors"] == [] and result["undo"] == []
    (message,) = result["messages"]
    assert f"Could not run the Magenta Bridge client ({not_a_program})" in message["message"]
    assert "Permission denied" in message["message"]
    assert "Magenta Bridge - Settings" in message["message"]


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        ("temperature", "hot", "temperature must be a number from 0.01 to 10 (got 'hot')"),
        ("variations", "0", "variations must be a whole number from 1 to 64 (got '0')"),
        ("variations", "2.5", "variations must be a whole number from 1 to 64 (got '2.5')"),
        ("key", "H:major", "key must be auto, off or a key such as C:major"),
        ("executable", "/no/such/magenta-bridge", "executable names no file"),
        ("port", "70000", "port must be a whole number from 1 to 65535"),
    ],
)
def test_bad_settings_stop_an_action_before_it_starts(
    settings, tmp_path, setting, value, complaint
):
    melody = notes_from(EXAMPLES / "folk_melody.mid", 8)
    project = Project(
        tracks=[Track("Lead", [Item(0, 8, melody)])], settings={**settings, setting: value}
    )
    result = run_action(project, "Continue", tmp_path)
    assert_clean(result, None)
    (message,) = result["messages"]
    assert complaint in message["message"]
    assert "Magenta Bridge - Settings" in message["message"]
    assert result["executed"] == []


@pytest.mark.parametrize(
    ("action", "selected", "complaint"),
    [
        ("Continue", 0, "Select one or more MIDI items to continue."),
        ("Groove", 0, "Select one or more MIDI items to groove."),
        ("Interpolate", 1, "Select two MIDI items: the start and the end of the interpolation"),
    ],
)
def test_a_missing_selection_is_said(settings, tmp_path, action, selected, complaint):
    items = [Item(8 * n, 8 * n + 8, [(60, 0, 960, 100, 0)], selected=n < selected) for n in (0, 1)]
    project = Project(tracks=[Track("Lead", items)], settings=settings)
    result = run_action(project, action, tmp_path)
    assert_clean(result, None)
    (message,) = result["messages"]
    assert message["message"].startswith(complaint)
    assert result["executed"] == []
