"""groove and drumify on small GrooVAEs trained by Google's magenta (tests/fixtures/music_vae),
from the functions, the registry and the CLI. The models are tiny: these tests check what the
tools promise (hits kept, rhythm read, seeds, spans, errors), not the music."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bridge.config import load_config
from bridge.models.catalog import Catalog, ModelSpec
from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip, Note
from bridge.music.drums import DrumKit, drum_class
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi, write_midi
from bridge.tools.groove import drumify, groove
from bridge.tools.latent import generate, vary
from bridge.tools.registry import DRUMIFY, GROOVE, TOOLS, VARY

REPO = Path(__file__).parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "music_vae"
HUMANIZE, TAP = "groovae_2bar_humanize", "groovae_2bar_tap_fixed_velocity"
ROCK = read_midi(REPO / "examples" / "rock_groove.mid")  # 2 bars, 100 qpm, quantized


@pytest.fixture(scope="module")
def humanizer() -> MusicVae:
    return MusicVae.load(FIXTURES / HUMANIZE / "checkpoint", HUMANIZE, "cpu")


@pytest.fixture(scope="module")
def drummer() -> MusicVae:
    return MusicVae.load(FIXTURES / TAP / "checkpoint", TAP, "cpu")


def hits(clip: Clip) -> list[tuple[int, int]]:
    """(pitch, nearest 16th) of every note."""
    return sorted((n.pitch, round(n.start * 4)) for n in clip.notes)


def rhythm(first: int, velocity: int = 90) -> Clip:
    """A melody: its rhythm is what drumify reads."""
    starts = [0, 0.75, 1.5, 2, 3, 3.5, 4.25, 5, 6, 6.5, 7]
    notes = [Note(first + 2 * i, s, 0.5, velocity + i) for i, s in enumerate(starts)]
    return Clip.from_notes(notes, 8.0, qpm=132.0)


def test_groove_keeps_the_hits_and_changes_velocities_and_timing(humanizer):
    results = groove(humanizer, ROCK, 3, 1.0, seed=4)
    assert len(results) == 3
    for result in results:
        assert hits(result) == hits(ROCK), "every hit kept, on its own drum"
        assert (result.length, result.qpm, result.drums) == (8.0, 100.0, True)
        assert all(abs(n.start * 4 - round(n.start * 4)) <= 0.5 for n in result.notes)
        assert [n.velocity for n in result.notes] != [n.velocity for n in ROCK.notes]
        assert any(n.start * 4 != round(n.start * 4) for n in result.notes), "off the grid"
    assert len({r.notes for r in results}) == 3, "variations differ"
    assert results == groove(humanizer, ROCK, 3, 1.0, seed=4), "a seed gives the same grooves"
    assert results != groove(humanizer, ROCK, 3, 1.0, seed=5)


def test_groove_can_let_the_model_draw_its_hits(humanizer):
    kept = groove(humanizer, ROCK, 4, 1.0, seed=2)
    free = groove(humanizer, ROCK, 4, 1.0, seed=2, keep_hits=False)
    assert any(hits(clip) != hits(ROCK) for clip in free), "Magenta's free decode"
    assert all(hits(clip) == hits(ROCK) for clip in kept)
    assert {n.pitch for clip in free for n in clip.notes} <= set(DrumKit.from_clip(ROCK).pitches)


def test_temperature_scales_how_far_the_draws_go(humanizer):
    def spread(temperature: float) -> float:
        one, two = (groove(humanizer, ROCK, 1, temperature, seed)[0] for seed in (1, 2))
        return max(abs(a.start - b.start) for a, b in zip(one.notes, two.notes, strict=True))

    assert spread(0.01) < spread(1.0) / 10


def test_a_clip_longer_than_the_span_is_cut_at_bars_and_joined(humanizer, drummer):
    shifted = [replace(n, start=n.start + 8.0) for n in ROCK.notes if n.start < 4.0]
    long = Clip.from_notes([*ROCK.notes, *shifted], 12.0, ROCK.qpm, drums=True)  # 3 bars
    (grooved,) = groove(humanizer, long, 1, 1.0, seed=1)
    assert hits(grooved) == hits(long) and grooved.length == 12.0
    drums = drumify(drummer, long, 2, 1.0, seed=1)
    assert all(clip.length == 12.0 for clip in drums)
    assert all(n.start < 12.0 for clip in drums for n in clip.notes), "padding dropped"


def test_drumify_plays_drums_to_a_melodys_rhythm(drummer):
    results = drumify(drummer, rhythm(60), 4, 1.0, seed=3)
    assert len(results) == 4 and len({r.notes for r in results}) > 1
    for result in results:
        assert result.drums and result.length == 8.0 and result.qpm == 132.0
        assert result.notes and all(drum_class(n.pitch) is not None for n in result.notes)
        assert {n.pitch for n in result.notes} <= set(DrumKit().pitches), "Magenta's own kit"
    # Only the rhythm counts: other pitches and velocities, the same drums.
    assert drumify(drummer, rhythm(40, velocity=30), 4, 1.0, seed=3) == results
    assert drumify(drummer, rhythm(60), 4, 1.0, seed=4) != results


def test_drumify_of_a_drum_loop_keeps_its_kit(drummer):
    loop = Clip.from_notes(
        [Note(35 if i % 8 == 0 else 44, i / 4, 0.25, 100) for i in range(0, 32, 2)],
        8.0,
        drums=True,
    )
    played = {n.pitch for clip in drumify(drummer, loop, 8, 1.0, seed=0) for n in clip.notes}
    assert played and not played & {36, 42}, "the loop's kick (35) and hi-hat (44) instead"


def test_bad_input_is_refused_clearly(humanizer, drummer):
    with pytest.raises(ClipError, match="no notes to read"):
        groove(humanizer, Clip((), 8.0), 1, 1.0, 1)
    with pytest.raises(ClipError, match="4/4 clips only"):
        drumify(
            drummer, Clip.from_notes([Note(60, 0.0, 1.0)], 6.0, time_signature=(3, 4)), 1, 1.0, 1
        )
    high_melody = Clip.from_notes([Note(96 + i, i / 2, 0.5) for i in range(8)], 8.0)
    with pytest.raises(ClipError, match="no drum hits Magenta knows"):
        groove(humanizer, high_melody, 1, 1.0, 1)
    with pytest.raises(ClipError, match="groove needs a GrooVAE humanize model"):
        groove(drummer, ROCK, 1, 1.0, 1)
    with pytest.raises(ClipError, match="drumify needs a GrooVAE tap model"):
        drumify(humanizer, ROCK, 1, 1.0, 1)


def test_generate_and_vary_run_on_grooves_too(humanizer):
    (varied,) = vary(humanizer, ROCK, 1, 0.1, 0.5, seed=1)
    assert varied.drums and varied.length == 8.0 and varied.notes
    clips = generate(humanizer, 2, 4, 1.0, seed=1, qpm=90.0)
    assert [(c.length, c.qpm, c.drums) for c in clips] == [(16.0, 90.0, True)] * 2


def spec(name: str, config: str) -> ModelSpec:
    return ModelSpec(name, "music_vae", FIXTURES / config / "checkpoint", config=config)


def test_tools_ask_for_the_model_kind_they_need():
    humanize, tap = spec("humanize", HUMANIZE), spec("drumify", TAP)
    beats = spec("beats", "cat-drums_2bar_small")
    assert GROOVE.serves(humanize) and not GROOVE.serves(tap) and not GROOVE.serves(beats)
    assert DRUMIFY.serves(tap) and not DRUMIFY.serves(humanize)
    assert VARY.serves(humanize) and VARY.serves(tap)
    folk = ModelSpec("folk", "melody_rnn", Path("folk.safetensors"))
    assert not GROOVE.serves(replace(folk, backend="magenta")), "a bundle has no GrooVAE config"
    on_magenta = replace(folk, backend="magenta")
    assert [name for name, tool in TOOLS.items() if tool.serves(on_magenta)] == ["continue"]
    message = GROOVE.refusal(tap, [folk, humanize, tap], [replace(humanize, name="official")])
    assert message == (
        f"model 'drumify' is a music_vae ({TAP}) model; groove runs on music_vae models of "
        f"config {HUMANIZE}; models that fit: humanize; official would, once "
        f"{humanize.path} exists"
    )
    assert "no configured model fits" in DRUMIFY.refusal(folk, [folk, humanize])


def test_the_default_config_offers_googles_humanize_checkpoint():
    catalog = Catalog.of(load_config())
    entry = catalog.missing.get("humanize") or catalog.models["humanize"]
    assert entry.optional and entry.config == HUMANIZE and GROOVE.serves(entry)
    assert "magentadata/models/music_vae/checkpoints" in entry.description


def write_config(folder: Path) -> Path:
    models = {
        "humanize": {"family": "music_vae", "config": HUMANIZE},
        "drumify": {"family": "music_vae", "config": TAP},
    }
    for entry in models.values():
        entry["path"] = str(FIXTURES / entry["config"] / "checkpoint")
    config = {"models": models, "osc": {"port": 0}, "data_folder": str(folder / "data")}
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


def test_the_cli_grooves_a_folder_and_drumifies_a_file(tmp_path):
    config = write_config(tmp_path)
    loops = tmp_path / "loops"
    loops.mkdir()
    for index in range(3):
        notes = [replace(n, velocity=max(1, n.velocity - 10 * index)) for n in ROCK.notes]
        write_midi(replace(ROCK, notes=tuple(notes)), loops / f"loop{index}.mid")
    out = tmp_path / "grooved"
    done = run("groove", "--config", str(config), str(loops), "--variations", "2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        f"loop{i}-{v}.mid" for i in range(3) for v in (1, 2)
    ]
    assert "groove" in done.stderr and "humanize" in done.stderr, "progress bar and model"
    assert hits(read_midi(out / "loop1-2.mid")) == hits(ROCK)
    melody = tmp_path / "rhythm.mid"
    write_midi(rhythm(60), melody)
    done = run(
        "drumify",
        "--config",
        str(config),
        str(melody),
        "--variations",
        "4",
        "--seed",
        "3",
        "-o",
        str(tmp_path / "drums"),
    )
    assert done.returncode == 0, done.stderr
    drums = [read_midi(tmp_path / "drums" / f"rhythm-{i}.mid") for i in range(1, 5)]
    assert all(clip.drums and clip.notes for clip in drums)
    bad = run("groove", "--config", str(config), str(melody), "--model", "drumify", "-o", str(out))
    assert bad.returncode == 1
    assert "groove runs on music_vae models of config groovae_2bar_humanize" in bad.stderr
    assert "models that fit: humanize" in bad.stderr
    write_midi(Clip.from_notes([Note(36, 0.0, 0.25)], 6.0, time_signature=(3, 4)), loops / "w.mid")
    bad = run("groove", "--config", str(config), str(loops), "-o", str(out))
    assert bad.returncode == 1 and "w: groovae_2bar_humanize reads 4/4 clips only" in bad.stderr
