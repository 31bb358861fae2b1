"""The Ardour script end to end in a real headless Ardour 7: session.lua builds a session with
one MIDI region under ardour7-lua (Dummy audio backend), runs the script's action on it, which
starts the real `magenta-bridge client` against a real daemon, saves; the tests read the saved
session back (regions, notes, undo history) and the inputs and results the daemon stored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tool_daemons import tool_daemon, unused_port

from bridge.music.midi import read_midi

ARDOUR_LUA = shutil.which("ardour7-lua")
pytestmark = pytest.mark.skipif(
    ARDOUR_LUA is None, reason="ardour7-lua missing (Debian's `ardour` package has it)"
)

REPO = Path(__file__).resolve().parents[2]
SESSION_LUA = Path(__file__).with_name("session.lua")
SCRIPT = REPO / "ardour_scripts" / "magenta_bridge.lua"
CLIENT = REPO / ".venv" / "bin" / "magenta-bridge"
MELODY = read_midi(REPO / "examples" / "folk_melody.mid")
SOURCE = [n for n in MELODY.notes if n.start < 8]  # the region: its first two bars
CHANNEL = 3  # MIDI channel 4, counted from 0 as Ardour does: results keep it
RATE = 48000  # the session's sample rate


@pytest.fixture(scope="module")
def daemon(tmp_path_factory) -> Iterator[Any]:
    daemon = tool_daemon(tmp_path_factory.mktemp("daemon"))
    yield daemon
    daemon.close()


@pytest.fixture
def ardour(tmp_path: Path):
    """Run session.lua's steps on one session of tmp_path; Ardour's settings (its list of
    recent sessions) go to tmp_path too, not to the user's."""
    folder = tmp_path / "session"
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }

    def step(command: str, *args: object) -> str:
        done = subprocess.run(
            [ARDOUR_LUA, SESSION_LUA, command, folder, "test", *map(str, args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        return output

    step.folder = folder
    return step


def create(ardour, **options: object) -> None:
    """The session: a "Lead" MIDI track with the "melody" region at beat 4, two bars long."""
    notes = [f"{n.pitch}:{n.start}:{n.duration}:{n.velocity}" for n in SOURCE]
    extra = [f"{key}={value}" for key, value in options.items()]
    ardour("create", "at=4", "length=8", f"channel={CHANNEL}", *extra, *notes)


def run_tool(ardour, daemon, **params: object) -> str:
    settings = {"port": daemon.udp.address[1], "program": CLIENT, "seed": 7, **params}
    return ardour("run", SCRIPT, "melody", *(f"{key}={value}" for key, value in settings.items()))


def regions(ardour) -> dict[str, dict[str, Any]]:
    out = ardour.folder / "dump.json"
    ardour("dump", out)
    (track,) = json.loads(out.read_text())["tracks"]
    assert track["name"] == "Lead"
    return {region["name"]: region for region in track["regions"]}


def notes_of(region: dict[str, Any]) -> list[tuple[int, float, float, int]]:
    return sorted((n["pitch"], n["start"], n["length"], n["velocity"]) for n in region["notes"])


def clip_notes(clip) -> list[tuple[int, float, float, int]]:
    return sorted((n.pitch, n.start, n.duration, n.velocity) for n in clip.notes)


def last_undo(ardour) -> tuple[str, list[str]]:
    """The newest undo step of the saved history: its name and the regions it adds."""
    history = ET.parse(ardour.folder / "test.history").getroot()
    newest = history.findall("UndoTransaction")[-1]
    return newest.get("name"), sorted(add.get("id") for add in newest.iter("Add"))


def lua_temp_files() -> set[Path]:
    return set(Path("/tmp").glob("lua_*"))  # where Lua's os.tmpname makes its files


def assert_untouched(melody: dict[str, Any], position: float = 4.0, start: float = 0.0) -> None:
    assert (melody["position"], melody["start"]) == (position, start)
    assert notes_of(melody) == sorted((n.pitch, n.start, n.duration, n.velocity) for n in SOURCE)


def test_continue_places_the_continuations_after_the_region_across_a_tempo_change(ardour, daemon):
    """The region ends where the tempo changes from 120 to 90 qpm: its continuations start
    there, two bars in beats (5.33 s, not 4 s), layered with the first on top, on the channel
    the region plays, each a region of its own with its own source, placed in one undo step."""
    create(ardour, tempo="12:90")
    temp_files = lua_temp_files()
    output = run_tool(ardour, daemon, tool="continue", variations=3, bars=2)
    assert "Magenta Bridge:" not in output  # no message for the user
    assert lua_temp_files() <= temp_files

    found = regions(ardour)
    assert sorted(found) == ["continue 1", "continue 2", "continue 3", "melody"]
    melody = found.pop("melody")
    assert_untouched(melody)
    assert melody["length"] == 8.0
    new = [found[f"continue {i}"] for i in (1, 2, 3)]
    for region in new:
        assert (region["position"], region["length"], region["start"]) == (12.0, 8.0, 0.0)
        assert region["position_samples"] == 12 * RATE // 2  # 12 beats at 120 qpm
        assert region["length_samples"] == 8 * RATE * 60 // 90  # 8 beats at 90 qpm
        assert region["notes"], f"{region['name']} is empty"
        for note in region["notes"]:
            assert 0 <= note["start"] < note["start"] + note["length"] <= 8.0, note
            assert note["channel"] == CHANNEL
    assert [region["layer"] for region in new] == [2, 1, 0]  # the first variation plays
    sources = {region["source"] for region in [melody, *new]}
    assert len(sources) == 4  # editing a result never edits another region

    # What the daemon got (the region's notes, its tempo and metre, the settings) and gave.
    job = daemon.store.history(1)[0]
    assert job.tool == "continue" and job.status == "done"
    assert (job.params["variations"], job.params["bars"], job.params["seed"]) == (3, 2, 7)
    sent = read_midi(job.input_paths[0])
    assert clip_notes(sent) == sorted((n.pitch, n.start, n.duration, n.velocity) for n in SOURCE)
    assert (sent.length, sent.qpm, sent.time_signature) == (8.0, 120.0, (4, 4))
    assert len(job.result_paths) == 3
    for region, path in zip(new, job.result_paths, strict=True):
        assert notes_of(region) == clip_notes(read_midi(path))

    assert last_undo(ardour) == ("Magenta Bridge: continue", sorted(r["id"] for r in new))


def test_a_region_short_of_its_bar_is_continued_from_the_bar_line(ardour, daemon):
    """Trimmed a beat at its front, the region is 7 beats long from beat 5: the daemon hears
    those 7 beats and continues from their bar line, beat 13, where the regions go."""
    create(ardour, trim=1)
    output = run_tool(ardour, daemon, tool="continue", variations=1, bars=1)
    assert "Magenta Bridge:" not in output
    found = regions(ardour)
    assert found["continue 1"]["position"] == 5.0 + 8.0
    assert read_midi(daemon.store.history(1)[0].input_paths[0]).length == 7.0


def test_vary_layers_the_variations_over_a_trimmed_region(ardour, daemon):
    """The region is trimmed by a beat at its front: vary gets what it shows (notes that start
    inside it, from its start) and its variations lie over it, the first on top."""
    create(ardour, trim=1)
    output = run_tool(ardour, daemon, tool="vary", variations=2)
    assert "Magenta Bridge:" not in output

    found = regions(ardour)
    assert sorted(found) == ["melody", "vary 1", "vary 2"]
    melody = found.pop("melody")
    assert_untouched(melody, position=5.0, start=1.0)
    assert melody["length"] == 7.0
    new = [found["vary 1"], found["vary 2"]]

    job = daemon.store.history(1)[0]
    assert job.tool == "vary" and job.status == "done"
    assert (job.params["variations"], job.params["seed"]) == (2, 7)
    sent = read_midi(job.input_paths[0])
    shown = [(n.pitch, n.start - 1, n.duration, n.velocity) for n in SOURCE if n.start >= 1]
    assert clip_notes(sent) == sorted(shown) and sent.length == 7.0
    for region, path in zip(new, job.result_paths, strict=True):
        result = read_midi(path)
        assert (region["position"], region["length"]) == (5.0, result.length)
        assert notes_of(region) == clip_notes(result) and region["notes"]
        assert {note["channel"] for note in region["notes"]} == {CHANNEL}
    assert new[0]["layer"] > new[1]["layer"] > melody["layer"]
    assert last_undo(ardour) == ("Magenta Bridge: vary", sorted(r["id"] for r in new))


def test_failures_tell_the_user_and_leave_the_session_as_it_was(ardour, daemon):
    create(ardour)
    output = run_tool(ardour, daemon, tool="groove")
    assert 'The tool must be "continue" or "vary", not "groove"' in output
    port = unused_port()
    output = run_tool(ardour, daemon, tool="continue", port=port)
    assert f"continue failed on melody: no daemon answers on 127.0.0.1:{port}" in output
    output = run_tool(ardour, daemon, tool="vary", program=ardour.folder / "missing")
    assert "vary failed on melody:" in output and str(ardour.folder / "missing") in output
    found = regions(ardour)
    assert list(found) == ["melody"]
    assert_untouched(found["melody"])
    history = ardour.folder / "test.history"
    assert not history.exists() or "Magenta Bridge" not in history.read_text()  # nothing to undo
