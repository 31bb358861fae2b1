"""The tool controls of the Settings' second page (pitch range, density, polyphony, distance,
interpolation mode, keep hits, backbone) and the key lock: each action sends the ones its tool
takes (bridge/tools/registry.py) and no other, a drum part goes without key and pitch range,
and the daemon honours what arrives. A client wrapper records the arguments of every call."""

from __future__ import annotations

from pathlib import Path

import pytest
from reaper_project import (
    CLIENT,
    EXAMPLES,
    GM_DRUMS,
    LUA,
    Item,
    Project,
    Track,
    assert_clean,
    assert_inside,
    last_job,
    notes_from,
    run_action,
)

from bridge.music.scales import parse_key
from bridge.tools.registry import TOOLS

pytestmark = pytest.mark.skipif(LUA is None, reason="lua5.4 missing (setup.sh installs it)")

# Every control away from its default, as stored by the Settings dialog.
TURNED = {
    "key": "D:dorian",
    "pitch_low": "48",
    "pitch_high": "84",
    "density": "3",
    "polyphony": "2",
    "distance": "1.5",
    "mode": "linear",
    "keep_hits": "no",
    "backbone": "no",
}
# What each sends, by the daemon's parameter name: the toggles as 0.
SENT = {**TURNED, "keep_hits": "0", "backbone": "0"}
# As the daemon parsed them.
PARSED = {
    "key": "D:dorian",
    "pitch_low": 48,
    "pitch_high": 84,
    "density": 3,
    "polyphony": 2,
    "distance": 1.5,
    "mode": "linear",
    "keep_hits": False,
    "backbone": False,
}
PITCHED = {"key", "pitch_low", "pitch_high"}


def recording_client(folder: Path) -> tuple[Path, Path]:
    """A client that appends its arguments (one a line, a blank line after each call) to a
    log, then runs the real one."""
    log = folder / "calls.txt"
    wrapper = folder / "recording-magenta-bridge"
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\necho >> "{log}"\nexec "{CLIENT}" "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper, log


def calls(log: Path) -> list[list[str]]:
    return [block.split("\n") for block in log.read_text().strip("\n").split("\n\n")]


def controls_sent(call: list[str]) -> dict[str, str]:
    """The controls among a call's `--option value` pairs, by parameter name."""
    options = {}
    for index, word in enumerate(call):
        name = word.removeprefix("--").replace("-", "_")
        if word.startswith("--") and name in SENT:
            options[name] = call[index + 1]
    return options


def melody(beats: float = 8) -> list[tuple]:
    return notes_from(EXAMPLES / "folk_melody.mid", beats)


def drums() -> list[tuple]:
    return notes_from(EXAMPLES / "rock_groove.mid", 8, channel=9)


# Each action on a selection it can work on; whether its request is a drum part.
CASES = {
    "Continue": (lambda: [Track("Drums", [Item(0, 8, drums())])], True),
    "Generate": (lambda: [Track("Keys", selected=True)], False),
    "Interpolate": (
        lambda: [
            Track(
                "Lead",
                [
                    Item(0, 8, melody()),
                    Item(24, 32, notes_from(EXAMPLES / "reel_melody.mid", 8)),
                ],
            )
        ],
        False,
    ),
    "Vary": (lambda: [Track("Lead", [Item(0, 8, melody())])], False),
    "Groove": (lambda: [Track("Drums", [Item(0, 8, drums())])], True),
    "Drumify": (lambda: [Track("Lead", [Item(0, 8, melody())])], False),
    "Harmonize": (lambda: [Track("Lead", [Item(0, 8, melody())])], False),
    "Infill": (lambda: [Track("Lead", [Item(0, 8, melody())])], False),
}


@pytest.mark.parametrize("action", list(CASES))
def test_each_action_sends_the_controls_its_tool_takes_and_no_other(
    daemon, settings, tmp_path, action
):
    tool = action.lower()
    tracks, is_drums = CASES[action]
    client, log = recording_client(tmp_path)
    project = Project(
        tracks=tracks(),
        settings={
            **settings,
            **TURNED,
            "executable": str(client),
            "variations": "1",
            "bars": "1",
            "steps": "2",
            "gibbs_steps": "2",
        },
        time_selection=(1.0, 2.0),  # infill's span: beats 2 to 4
    )
    result = run_action(project, action, tmp_path / "run")
    assert_clean(result, f"Magenta Bridge: {tool}")
    assert result["messages"] == []
    (call,) = calls(log)
    assert call[call.index("client") :].count(tool) == 1
    taken = {param.name for param in TOOLS[tool].params} & set(SENT)
    if is_drums:
        taken -= PITCHED
    assert controls_sent(call) == {name: SENT[name] for name in taken}
    params = last_job(daemon).params  # and the daemon took them
    assert {name: params[name] for name in taken} == {name: PARSED[name] for name in taken}


def test_controls_at_their_defaults_are_not_sent(daemon, settings, tmp_path):
    """The dialog's defaults (blank, 0, spherical, yes) leave the daemon's own defaults."""
    client, log = recording_client(tmp_path)
    tracks = [Track("Lead", [Item(0, 8, melody())])]
    base = {**settings, "executable": str(client), "variations": "1", "bars": "1", "key": "off"}
    defaults = {"density": "0", "polyphony": "0", "mode": "spherical", "keep_hits": "yes"}
    for action in ("Continue", "Vary", "Drumify"):
        project = Project(tracks=tracks, settings={**base, **defaults, "backbone": "yes"})
        result = run_action(project, action, tmp_path / action)
        assert_clean(result, f"Magenta Bridge: {action.lower()}")
    for call in calls(log):
        assert controls_sent(call) == {}, call


def test_continue_keeps_a_melody_in_the_key_and_range_with_its_density(daemon, settings, tmp_path):
    """Key lock and pitch range hold every note of the continuation; density is sent."""
    project = Project(
        tracks=[Track("Lead", [Item(0, 8, melody())])],
        settings={
            **settings,
            "variations": "2",
            "bars": "2",
            "key": "D:dorian",
            "pitch_low": "60",
            "pitch_high": "76",
            "density": "4",
        },
    )
    result = run_action(project, "Continue", tmp_path)
    assert_clean(result, "Magenta Bridge: continue")
    assert result["messages"] == []
    job = last_job(daemon)
    assert (job.params["key"], job.params["density"], job.params["polyphony"]) == ("D:dorian", 4, 0)
    _, new = result["tracks"][0]["items"]
    dorian = parse_key("D:dorian").pitch_classes
    for take in new["takes"]:
        assert_inside(take, 8, 16)
        for note in take["notes"]:
            assert 60 <= note["pitch"] <= 76 and note["pitch"] % 12 in dorian, note


def test_polyphony_on_a_melody_model_is_refused_naming_why(daemon, settings, tmp_path):
    project = Project(
        tracks=[Track("Lead", [Item(0, 8, melody())])],
        settings={**settings, "variations": "1", "bars": "1", "key": "off", "polyphony": "2"},
    )
    result = run_action(project, "Continue", tmp_path)
    assert_clean(result, None)
    (message,) = result["messages"]
    assert "continue failed: the daemon says: polyphony applies to" in message["message"]
    assert "not to a melody_rnn model" in message["message"]
    assert len(result["tracks"][0]["items"]) == 1  # nothing written


def test_groove_draws_its_own_hits_with_a_backbone(daemon, settings, tmp_path):
    """keep_hits no: the model's own hits, a kick and a snare in every bar (backbone yes)."""
    project = Project(
        tracks=[Track("Drums", [Item(0, 8, drums())])],
        settings={**settings, "variations": "1", "keep_hits": "no"},
    )
    result = run_action(project, "Groove", tmp_path)
    assert_clean(result, "Magenta Bridge: groove")
    job = last_job(daemon)
    assert job.params["keep_hits"] is False and job.params["backbone"] is True
    (item,) = result["tracks"][0]["items"]
    take = item["takes"][1]
    for bar in (0, 1):
        pitches = {n["pitch"] for n in take["notes"] if int(n["start_qn"] // 4) == bar}
        assert {36, 38} <= pitches, f"bar {bar + 1}: {sorted(pitches)}"
        assert pitches <= set(GM_DRUMS)
