"""Lua drivers for the REAPER harness: a project described in Python (tempo map, tracks, MIDI
items, time selection, ExtState, dialog answers), an action run on it under lua5.4, the project
it left, and the checks every action's test makes of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.music.midi import read_midi

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "reaper_scripts"
HARNESS = Path(__file__).with_name("harness.lua")
EXAMPLES = REPO / "examples"
CLIENT = REPO / ".venv" / "bin" / "magenta-bridge"
LUA = shutil.which("lua5.4")
PPQ = 960
SECTION = "MagentaBridge"
GM_DRUMS = range(35, 82)  # General MIDI's percussion key map


@dataclass
class Item:
    start_qn: float
    end_qn: float
    # (pitch, start tick, end tick, velocity, channel[, muted]) from the take's source start
    notes: list[tuple]
    selected: bool = True
    startoffs: float = 0.0  # seconds of source before the item (a trimmed item)
    scale: tuple[int, int] | None = None  # REAPER's key snap: root, semitone bit mask


@dataclass
class Track:
    name: str
    items: list[Item] = field(default_factory=list)
    selected: bool = False


@dataclass
class Project:
    tracks: list[Track]
    tempo: list[dict[str, float]] = field(default_factory=lambda: [{"qn": 0, "bpm": 120}])
    settings: dict[str, str] = field(default_factory=dict)
    answers: list[list[str] | None] = field(default_factory=list)  # GetUserInputs dialogs
    cursor: float = 0.0  # seconds
    time_selection: tuple[float, float] = (0.0, 0.0)  # seconds; equal: none


def notes_from(midi: Path, beats: float, channel: int = 0, offset: float = 0.0) -> list[tuple]:
    """The notes of a MIDI file that start in its first `beats`, as ticks from `offset` beats,
    on `channel`."""
    clip = read_midi(midi)
    return [
        (
            n.pitch,
            round((n.start + offset) * PPQ),
            round((n.end + offset) * PPQ),
            n.velocity,
            channel,
        )
        for n in clip.notes
        if n.start < beats
    ]


def lua(value: Any) -> str:
    """A Python value as a Lua literal."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are Lua's for these strings
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(lua(v) for v in value) + "}"


def driver(project: Project, script: Path, state: Path) -> str:
    lines = [
        f"local harness = dofile({lua(str(HARNESS))})",
        f"harness.tempo_map({lua(project.tempo)})",
        f"harness.set_cursor({lua(project.cursor)})",
        f"harness.set_time_selection({lua(project.time_selection[0])}, "
        f"{lua(project.time_selection[1])})",
    ]
    for key, value in project.settings.items():
        lines.append(f"harness.set_extstate({lua(SECTION)}, {lua(key)}, {lua(value)})")
    for answer in project.answers:
        lines.append(f"harness.answer({lua(answer)})")
    for track in project.tracks:
        lines.append(
            f"do local track = harness.add_track({lua(track.name)}, {lua(track.selected)})"
        )
        for item in track.items:
            take = {"notes": item.notes, "startoffs": item.startoffs, "scale": item.scale}
            lines.append(
                f"harness.add_item(track, {lua(item.start_qn)}, {lua(item.end_qn)}, "
                f"{lua({k: v for k, v in take.items() if v is not None})}, {lua(item.selected)})"
            )
        lines.append("end")
    lines += [f"harness.run({lua(str(script))})", f"harness.dump({lua(str(state))})"]
    return "\n".join(lines) + "\n"


def run_action(project: Project, action: str, folder: Path) -> dict[str, Any]:
    """Run "Magenta Bridge - <action>.lua" on the project; what the harness saw, as a dict.
    Temporary files go to `folder` (TMPDIR), which must be left empty."""
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / "state.json"
    source = folder / "driver.lua"
    source.write_text(driver(project, SCRIPTS / f"Magenta Bridge - {action}.lua", state))
    temp = folder / "temp dir's"  # paths the job script must quote
    temp.mkdir(exist_ok=True)
    done = subprocess.run(
        [LUA, str(source)],
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(state.read_text())
    result["temp_files"] = sorted(str(p.relative_to(temp)) for p in temp.rglob("*") if p.is_file())
    return result


def last_job(daemon) -> Any:
    return daemon.store.history(1)[0]


def assert_clean(result: dict[str, Any], undo: str | None) -> None:
    """No script error, every edit in one undo block (or none), the UI never blocked, the
    temporary files removed, every take's notes sorted."""
    assert result["errors"] == []
    assert result["unblocked_edits"] == []
    assert [block["name"] for block in result["undo"]] == ([undo] if undo else [])
    assert result["refresh"] == 0 and result["undo_depth"] == 0
    assert result["longest_callback"] < 0.5  # REAPER's UI would have hung that long
    assert result["temp_files"] == []
    for track in result["tracks"]:
        for item in track["items"]:
            assert all(take["sorted"] for take in item["takes"])


def assert_inside(take: dict[str, Any], start_qn: float, end_qn: float) -> None:
    assert take["notes"], f"{take['name']} is empty"
    for note in take["notes"]:
        assert start_qn - 1e-6 <= note["start_qn"] < note["end_qn"] <= end_qn + 1e-6, note
