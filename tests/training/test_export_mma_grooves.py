"""The MMA groove exporter: drums only, whole bars, honest metres, real mma, splits by file."""

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from bridge.music.midi import read_midi

SCRIPT = Path(__file__).resolve().parents[2] / "models" / "training" / "export_mma_grooves.py"
_spec = importlib.util.spec_from_file_location("export_mma_grooves", SCRIPT)
export_mma_grooves = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = export_mma_grooves  # dataclasses look their module up there
_spec.loader.exec_module(export_mma_grooves)

needs_mma = pytest.mark.skipif(
    shutil.which("mma") is None, reason="mma missing (apt-get install mma)"
)


def test_rendered_grooves_hold_drums_only_and_whole_bars(render_groove):
    midi = render_groove("stdlib/8beat", "8Beat", bars=4)
    channels = {m.channel for m in mido.MidiFile(file=io.BytesIO(midi)) if hasattr(m, "channel")}
    assert channels == {9}
    clip = read_midi(midi)
    assert (clip.length, clip.time_signature, clip.qpm) == (16.0, (4, 4), 120.0)
    assert {n.pitch for n in clip.notes} >= {36, 38, 42}


def test_a_signature_the_bars_do_not_have_is_rewritten(render_groove):
    # 68march sets "Time 2" (two-quarter bars) beside "TimeSig 6 8".
    mma = shutil.which("mma")
    part = export_mma_grooves.drum_part(
        export_mma_grooves.render_groove(mma, "stdlib/68march", "68March", 3), 3
    )
    assert (part.time_signature, part.metre_fixed_from) == ("2/4", "6/8")
    assert read_midi(part.midi).length == 6.0
    waltz = read_midi(render_groove("stdlib/waltz", "Waltz", bars=3))
    assert (waltz.time_signature, waltz.length) == ((3, 4), 9.0)


@needs_mma
def test_export_splits_by_file_and_skips_repeated_drums(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--libraries", "alexis", "--bars", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "GPL-2+" in manifest["license"] and manifest["mma_version"]
    grooves = manifest["grooves"]
    assert {g["file"] for g in grooves} == {"alexis/hiphop", "alexis/teamtechno"}
    for file in ("alexis/hiphop", "alexis/teamtechno"):
        assert len({g["split"] for g in grooves if g["file"] == file}) == 1
    written = [g for g in grooves if g["midi_file"]]
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mid"))
    assert on_disk == sorted(g["midi_file"] for g in written)
    # HipHopSus only adds strings: its drums are HipHop's, so it is not written twice.
    assert {g["name"]: g["skipped"] for g in grooves}["HipHopSus"] == "duplicate drums"
    assert sum(g["drum_hits"] for g in written) == sum(
        len(read_midi(out / g["midi_file"]).notes) for g in written
    )


def test_missing_mma_is_explained(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 2
    assert "apt-get install mma" in result.stderr


@pytest.mark.parametrize(("name", "slug"), [("R&B", "R_B"), ("8Beat+", "8Beat_")])
def test_groove_names_become_safe_file_names(name, slug):
    assert export_mma_grooves._slug(name) == slug
