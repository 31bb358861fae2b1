"""The web page's JavaScript MIDI reader under node: hand-made files, and files written by
bridge.music.midi whose notes must come out as read_midi reads them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge.music.clip import Clip, Note
from bridge.music.midi import MidiPart, read_midi, write_midi, write_midi_parts

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
TESTS = Path(__file__).with_name("midi_reader.test.mjs")

pytestmark = pytest.mark.skipif(NODE is None, reason="node missing (setup.sh installs nodejs)")


def _clips() -> dict[str, tuple[Clip, int]]:
    """Clips that exercise the writer's corners, each with the ticks per beat to write it at."""
    melody = Clip.from_notes(
        [Note(60 + (i * 5) % 12, i * 0.5, 0.5, 60 + i * 4) for i in range(16)], qpm=133.33
    )
    overlapping = Clip(  # the same pitch sounding twice: the writer uses a second channel
        (Note(64, 0, 2, 90), Note(64, 1, 2, 70), Note(67, 1.25, 0.25, 100), Note(60, 3, 1, 50)),
        4.0,
    )
    chords = Clip(
        tuple(Note(p, b, 1.5, 80) for b in (0, 2, 4) for p in (60, 64, 67, 71)),
        6.0,
        qpm=97.5,
        time_signature=(3, 4),
    )
    drums = Clip(
        tuple(Note(36 if i % 4 == 0 else 42, i * 0.25, 0.25, 100 - i) for i in range(16)),
        4.0,
        drums=True,
    )
    muted = Clip((Note(60, 0, 1), Note(62, 1, 1, mute=True), Note(64, 2, 3.5)), 4.0)
    odd_length = Clip((Note(72, 0, 0.75), Note(74, 2.5, 0.25)), 3.5, time_signature=(7, 8))
    return {
        "melody at 133.33 qpm": (melody, 480),
        "same pitch overlapping": (overlapping, 480),
        "chords in 3/4": (chords, 96),
        "drums on channel 10": (drums, 220),
        "muted notes, a note past the end": (muted, 480),
        "7/8 clip of 3.5 beats": (odd_length, 960),
    }


def _case(name: str, path: Path) -> dict:
    clip = read_midi(path, allow_empty=True)
    return {
        "name": name,
        "file": str(path),
        "notes": [[n.pitch, n.start, n.duration, n.velocity, n.mute] for n in clip.notes],
        "length": clip.length,
        "qpm": clip.qpm,
        "time_signature": list(clip.time_signature),
        "drums": clip.drums,
        # One tempo throughout: the last note ends at its beat times the file's microseconds
        # per beat (whole microseconds, so not exactly 60 / qpm).
        "seconds": max((n.end for n in clip.notes), default=0) * round(60e6 / clip.qpm) / 1e6,
    }


def test_js_midi_reader_under_node(tmp_path: Path) -> None:
    cases = []
    for number, (name, (clip, ticks)) in enumerate(_clips().items()):
        path = tmp_path / f"clip{number}.mid"
        write_midi(clip, path, ticks_per_beat=ticks)
        cases.append(_case(name, path))
    parts = tmp_path / "parts.mid"  # several tracks, each its own channel and program
    write_midi_parts(
        [
            MidiPart(Clip((Note(72, 0, 1), Note(74, 1, 1)), 4.0), 73, "flute"),
            MidiPart(Clip((Note(48, 0, 4, 70),), 4.0), 32, "bass"),
            MidiPart(Clip((Note(38, 1, 0.25),), 4.0, drums=True), 0, "drums"),
        ],
        parts,
    )
    cases.append(_case("parts on three tracks", parts))
    for example in sorted((REPO / "examples").glob("*.mid")):
        cases.append(_case(f"examples/{example.name}", example))
    listing = tmp_path / "cases.json"
    listing.write_text(json.dumps(cases))

    done = subprocess.run(
        [NODE, "--test", str(TESTS)],
        env={**os.environ, "MAGENTA_BRIDGE_MIDI_CASES": str(listing)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = done.stdout[-8000:] + done.stderr[-3000:]
    assert done.returncode == 0, report
    assert "# fail 0" in done.stdout and "# skipped 0" in done.stdout, report
    for case in cases:  # every file was compared, none silently left out
        passed = rf"^ok \d+ - as read_midi reads it: {re.escape(case['name'])}$"
        assert re.search(passed, done.stdout, re.MULTILINE), (case["name"], report)


ACORN = REPO / "max_for_live" / "node_modules" / "acorn"  # installed by setup.sh (npm ci)
STATIC = REPO / "bridge" / "frontends" / "http" / "static"


def _parse_es2020_module(source: str) -> subprocess.CompletedProcess:
    if not ACORN.is_dir():
        pytest.fail("acorn is not installed: run setup.sh (npm ci --prefix max_for_live)")
    script = (
        "const acorn = require('acorn');"
        "let text = '';"
        "process.stdin.on('data', (d) => (text += d));"
        "process.stdin.on('end', () =>"
        " acorn.parse(text, { ecmaVersion: 2020, sourceType: 'module' }));"
    )
    return subprocess.run(
        [NODE, "-e", script],
        input=source,
        cwd=ACORN.parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_page_scripts_are_es2020_modules() -> None:
    """The page runs as served, with no build step: plain ES2020 modules, so any browser of
    the last few years loads them."""
    scripts = sorted(STATIC.glob("*.js"))
    assert {path.name for path in scripts} >= {"app.js", "midi.js", "pianoroll.js"}
    for path in scripts:
        done = _parse_es2020_module(path.read_text())
        assert done.returncode == 0, f"{path.name} is not an ES2020 module: {done.stderr}"
    assert _parse_es2020_module("const x = a ||= b;").returncode != 0  # ES2021: refused
