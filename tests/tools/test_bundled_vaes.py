"""The bundled MusicVAE defaults from the command line, as a user runs them (the default
config, no --config): interpolate two real melodies, batch-vary a folder of loops, drumify a
rhythm, and each model's card beside its weights."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bridge.music.midi import read_midi

REPO = Path(__file__).parents[2]
EXAMPLES = REPO / "examples"
DEFAULT = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
VAES = [name for name, entry in DEFAULT["models"].items() if entry["family"] == "music_vae"]
BUNDLED = [name for name in VAES if not DEFAULT["models"][name].get("optional")]


def cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_three_vaes_are_bundled():
    assert BUNDLED == ["melody_vae", "drum_vae", "drumify"]


@pytest.mark.parametrize("name", BUNDLED)
def test_each_bundled_vae_has_weights_and_a_card(name):
    weights = (REPO / "config" / DEFAULT["models"][name]["path"]).resolve()
    meta = json.loads(weights.with_suffix(".json").read_text())
    assert meta["family"] == "music_vae" and meta["config"] == DEFAULT["models"][name]["config"]
    assert meta["dtype"] == "float16" and weights.stat().st_size < 12_000_000
    card = weights.with_suffix(".md").read_text()
    assert "Held-out" in card and "KL" in card and "accuracy" in card


def test_interpolate_two_melodies_vary_a_folder_and_drumify(tmp_path):
    out = tmp_path / "out"
    done = cli(
        "interpolate",
        str(EXAMPLES / "folk_melody.mid"),
        str(EXAMPLES / "reel_melody.mid"),
        "--steps",
        "8",
        "--seed",
        "1",
        "-o",
        str(out / "morph"),
    )
    assert "model melody_vae" in done.stderr
    assert len(list((out / "morph").glob("*.mid"))) == 8

    loops = tmp_path / "loops"
    loops.mkdir()
    for name in ("a.mid", "b.mid"):
        (loops / name).write_bytes((EXAMPLES / "rock_groove.mid").read_bytes())
    done = cli("vary", str(loops), "--variations", "16", "--seed", "2", "-o", str(out / "vary"))
    assert "model drum_vae" in done.stderr
    varied = sorted((out / "vary").glob("*.mid"))
    assert len(varied) == 32 and all(read_midi(path).drums for path in varied)

    done = cli("drumify", str(EXAMPLES / "folk_melody.mid"), "-o", str(out / "drums"))
    assert "model drumify" in done.stderr
    drums = [read_midi(path) for path in sorted((out / "drums").glob("*.mid"))]
    assert len(drums) == 4 and all(clip.drums and clip.notes for clip in drums)
