"""generate, interpolate and vary on MusicVAE models: from the functions, the CLI and the
daemon. The checkpoints are small random ones made by Google's magenta (conftest's
music_vae_probe): these tests check shapes, seeds, batching and errors, not the music."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi, write_midi
from bridge.tools.latent import generate, interpolate, vary

REPO = Path(__file__).parents[2]
TRAINED = REPO / "tests" / "fixtures" / "music_vae" / "cat-mel_2bar_small" / "checkpoint"
CONFIGS = ("cat-mel_2bar_small", "cat-drums_2bar_small", "groovae_2bar_humanize")


@pytest.fixture(scope="module")
def probed(music_vae_probe) -> Path:
    return music_vae_probe(*CONFIGS)


@pytest.fixture(scope="module")
def melody_vae(probed) -> MusicVae:
    return MusicVae.load(probed / "cat-mel_2bar_small", "cat-mel_2bar_small", "cpu")


def tune(first: int, bars: int = 2) -> Clip:
    notes = [Note(first + (i * 5) % 12, i / 2, 0.5, 80) for i in range(8 * bars)]
    return Clip.from_notes(notes, length=4.0 * bars, qpm=96.0)


def test_generate_samples_the_bars_asked(melody_vae):
    clips = generate(melody_vae, count=3, bars=3, temperature=1.0, seed=5)
    assert [clip.length for clip in clips] == [12.0] * 3  # two 2-bar spans, cut to 3 bars
    assert clips == generate(melody_vae, 3, 3, 1.0, seed=5)
    assert len({clip.notes for clip in clips}) > 1


def test_interpolate_gives_the_asked_steps(melody_vae):
    done = []
    clips = interpolate(
        melody_vae, tune(60), tune(67, bars=4), 5, True, True, 0.5, 1, lambda *a: done.append(a)
    )
    assert len(clips) == 5 and all(c.length == 16.0 and c.qpm == 96.0 for c in clips)
    assert done == [(5, 5)]
    inner = interpolate(melody_vae, tune(60), tune(67), 3, False, False, 0.5, 1)
    assert len(inner) == 3


def test_vary_decodes_a_batch_around_the_clip(melody_vae):
    clips = vary(melody_vae, tune(60, bars=4), 16, 0.3, 0.5, seed=2)
    assert len(clips) == 16 and all(c.length == 16.0 for c in clips)
    assert clips == vary(melody_vae, tune(60, bars=4), 16, 0.3, 0.5, seed=2)


def test_groove_models_vary_drum_clips(probed):
    groove = MusicVae.load(probed / "groovae_2bar_humanize", "groovae_2bar_humanize", "cpu")
    beat = Clip.from_notes([Note(36 + 2 * (i % 2), i / 2, 0.25, 90) for i in range(12)], 6.0)
    clips = vary(groove, beat, 2, 0.1, 0.5, 1)
    assert all(clip.drums and clip.length == 6.0 for clip in clips), "the clip's length"
    with pytest.raises(ClipError, match="no drum hits Magenta knows"):
        vary(groove, Clip.from_notes([Note(100, 0.0, 1.0)], 4.0), 2, 0.1, 0.5, 1)


def write_config(folder: Path, probed: Path) -> Path:
    config = {
        "models": {
            "tunes": {
                "family": "music_vae",
                "config": "cat-mel_2bar_small",
                "path": str(probed / "cat-mel_2bar_small"),
            },
            "beats": {
                "family": "music_vae",
                "config": "cat-drums_2bar_small",
                "path": str(probed / "cat-drums_2bar_small"),
            },
        },
        "osc": {"port": 0},
        "data_folder": str(folder / "data"),
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def test_the_cli_varies_a_folder_and_interpolates(probed, tmp_path):
    config = write_config(tmp_path, probed)
    loops = tmp_path / "loops"
    loops.mkdir()
    for index in range(3):
        write_midi(tune(60 + index), loops / f"loop{index}.mid")
    out = tmp_path / "out"
    done = run(
        "vary",
        "--config",
        str(config),
        *map(str, sorted(loops.glob("*.mid"))),
        "--variations",
        "4",
        "--seed",
        "1",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        f"loop{i}-{v}.mid" for i in range(3) for v in range(1, 5)
    ]
    assert "vary" in done.stderr, "a progress bar for the batch"
    done = run(
        "interpolate",
        "--config",
        str(config),
        str(loops / "loop0.mid"),
        str(loops / "loop2.mid"),
        "--steps",
        "3",
        "--mode",
        "linear",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert read_midi(out / "interpolate-3.mid").length == 8.0
    bad = run(
        "vary",
        "--config",
        str(config),
        str(loops / "loop0.mid"),
        "--model",
        "beats",
        "--distance",
        "9",
        "-o",
        str(out),
    )
    assert bad.returncode == 1 and "distance must be between 0 and 4" in bad.stderr


def test_a_code_decoding_to_silence_gives_an_empty_clip():
    """Magenta's briefly trained cat-mel_2bar_small decodes the third of these prior samples
    to rests alone, nearly greedily: an empty clip of the asked length, not an error."""
    trained = MusicVae.load(TRAINED, "cat-mel_2bar_small", "cpu")
    clips = generate(trained, count=4, bars=2, temperature=0.1, seed=10)
    assert [clip.length for clip in clips] == [8.0] * 4
    assert clips[2].notes == () and all(clip.notes for clip in clips[:2])


def test_results_keep_the_clips_length_on_a_partial_last_span():
    """A 3-bar clip on a 2-bar model is read as two spans, the second half padding; results
    are cut back to 3 bars, no note sounding past them."""
    model = MusicVae.load(
        Path(__file__).parents[2] / "models/pretrained/folk_mel_2bar.safetensors",
        "cat-mel_2bar_small",
        "cpu",
    )
    notes = tuple(Note(60 + i % 5, i * 1.0, 1.0) for i in range(12))
    clip = Clip(notes, 12.0, 100.0)
    varied = vary(model, clip, 3, 0.5, 0.5, seed=2)
    assert [v.length for v in varied] == [12.0] * 3
    assert all(note.end <= 12.0 for v in varied for note in v.notes)
