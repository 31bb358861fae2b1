"""The scripts' own MIDI file reader and writer (pure Lua) against bridge.music.midi."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from reaper_project import LUA, REPO, SCRIPTS, lua

from bridge.music.clip import Clip, Note
from bridge.music.midi import read_midi, write_midi

pytestmark = pytest.mark.skipif(LUA is None, reason="lua5.4 missing (setup.sh installs it)")

PRELUDE = f'package.path = {lua(str(SCRIPTS))} .. "/?.lua;" .. package.path\n'
PRELUDE += 'local midi_file = require("magenta_bridge.midi_file")\n'


def run_lua(source: str) -> str:
    done = subprocess.run(
        [LUA, "-"], input=PRELUDE + source, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def lua_read(path: Path) -> tuple[list[tuple], tuple]:
    """The notes and header of a MIDI file as the Lua reader sees them."""
    out = run_lua(
        f"local clip = assert(midi_file.read({lua(str(path))}))\n"
        "print(clip.length, clip.qpm, clip.numerator, clip.denominator)\n"
        "for _, n in ipairs(clip.notes) do\n"
        "  print(n.pitch, n.start, n.duration, n.velocity, n.channel, n.muted)\n"
        "end\n"
    )
    header, *rows = [line.split("\t") for line in out.splitlines()]
    notes = [(int(p), float(s), float(d), int(v), int(c), m == "true") for p, s, d, v, c, m in rows]
    length, qpm, numerator, denominator = header
    return notes, (float(length), float(qpm), int(numerator), int(denominator))


@pytest.mark.parametrize("name", ["folk_melody", "reel_melody", "pad_chords", "rock_groove"])
def test_the_lua_reader_reads_the_examples_as_the_bridge_does(name):
    path = REPO / "examples" / f"{name}.mid"
    clip = read_midi(path)
    notes, (length, qpm, numerator, denominator) = lua_read(path)
    assert [(n[0], n[1], n[2], n[3], n[5]) for n in notes] == [
        (n.pitch, n.start, n.duration, n.velocity, n.mute) for n in clip.notes
    ]
    assert {n[4] == 9 for n in notes} == {clip.drums}
    assert (length, (numerator, denominator)) == (clip.length, clip.time_signature)
    assert qpm == pytest.approx(clip.qpm, abs=1e-4)


def test_the_lua_reader_reads_what_the_bridge_writes(tmp_path):
    """The daemon's results: 480 ticks, muted notes on their own track, a clip end marker
    when notes run past the clip."""
    clip = Clip(
        (Note(36, 0, 0.5, 90), Note(38, 1, 0.25, 60, True), Note(42, 1.5, 4.0, 70)),
        length=4,
        qpm=87.5,
        time_signature=(7, 8),
        drums=True,
    )
    write_midi(clip, tmp_path / "clip.mid")
    notes, header = lua_read(tmp_path / "clip.mid")
    assert notes == [
        (36, 0, 0.5, 90, 9, False),
        (38, 1, 0.25, 60, 9, True),
        (42, 1.5, 4.0, 70, 9, False),
    ]
    assert header == (4.0, pytest.approx(87.5, abs=1e-4), 7, 8)


def test_the_bridge_reads_what_the_lua_writer_writes(tmp_path):
    notes = [
        {"pitch": 60, "start": 0, "duration": 1, "velocity": 100, "channel": 2},
        {"pitch": 60, "start": 1, "duration": 0.5, "velocity": 80, "channel": 2},  # restruck
        {"pitch": 64, "start": 0.25, "duration": 2, "velocity": 1, "channel": 2, "muted": True},
        {"pitch": 67, "start": 2.75, "duration": 0.125, "velocity": 127, "channel": 5},
    ]
    clip = {"notes": notes, "length": 6, "qpm": 133.3, "numerator": 3, "denominator": 4}
    path = tmp_path / "lua.mid"
    run_lua(f"assert(midi_file.write({lua(str(path))}, {lua(clip)}))")
    back = read_midi(path)
    assert [(n.pitch, n.start, n.duration, n.velocity, n.mute) for n in back.notes] == [
        (60, 0, 1, 100, False),
        (64, 0.25, 2, 1, True),
        (60, 1, 0.5, 80, False),
        (67, 2.75, 0.125, 127, False),
    ]
    assert (back.length, back.qpm, back.time_signature, back.drums) == (6, 133.3, (3, 4), False)
    run_lua(
        f"assert(midi_file.write({lua(str(path))}, "
        "{ notes = { { pitch = 36, start = 0, duration = 1, velocity = 90, channel = 9 } }, "
        "length = 4, qpm = 120, numerator = 4, denominator = 4 }))"
    )
    assert read_midi(path).drums  # every note on channel 10


def test_an_item_off_the_bar_grid_keeps_its_exact_length(tmp_path):
    """The writer marks the clip's end, so the bridge does not read it on the bar grid."""
    path = tmp_path / "short.mid"
    run_lua(
        f"assert(midi_file.write({lua(str(path))}, "
        "{ notes = { { pitch = 60, start = 0, duration = 1, velocity = 90, channel = 0 } }, "
        "length = 7.75, qpm = 120, numerator = 4, denominator = 4 }))"
    )
    assert read_midi(path).length == 7.75


def test_a_file_that_is_not_midi_is_refused(tmp_path):
    (tmp_path / "bad.mid").write_bytes(b"RIFF....")
    out = run_lua(f"print(midi_file.read({lua(str(tmp_path / 'bad.mid'))}))")
    assert out.strip() == "nil\tnot a MIDI file"
