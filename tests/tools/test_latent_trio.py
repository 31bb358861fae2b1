"""generate, interpolate and vary on a trio model (melody, bass and drums together): from the
functions and from the command line with multi-track MIDI files; the daemon, whose requests
carry one clip per input, refuses trio models. The checkpoint is the small hierdec-trio_16bar
that Google's magenta trained for the parity fixtures: these tests check shapes, seeds, files
and errors, not the music."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.music_vae.model import MusicVae
from bridge.models.music_vae.trio_data import Trio, part_role, trio_parts
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import MidiPart, read_midi_parts, write_midi_parts
from bridge.tools.latent import generate, interpolate, vary
from bridge.tools.registry import TOOLS

REPO = Path(__file__).parents[2]
NAME = "hierdec-trio_16bar"
CHECKPOINT = REPO / "tests" / "fixtures" / "music_vae" / NAME / "checkpoint"
BAR = 4.0


@pytest.fixture(scope="module")
def trio_vae() -> MusicVae:
    return MusicVae.load(CHECKPOINT, NAME, "cpu")


def song(bars: int, root: int = 60, qpm: float = 110.0) -> Trio:
    """A little song: an arpeggio on a guitar, a bass on the beat, a rock beat."""
    melody = [Note(root + (0, 4, 7, 12)[i % 4], i / 2, 0.5, 96) for i in range(8 * bars)]
    bass = [Note(root - 24 + (i % 2) * 7, float(i), 1.0, 72) for i in range(4 * bars)]
    drums = [Note((36, 42, 38, 42)[i % 4], i / 2, 0.25, 100) for i in range(8 * bars)]
    return Trio(
        Clip.from_notes(melody, bars * BAR, qpm),
        Clip.from_notes(bass, bars * BAR, qpm),
        Clip.from_notes(drums, bars * BAR, qpm, drums=True),
        melody_program=25,
        bass_program=34,
    )


def test_generate_samples_trios_of_the_bars_asked(trio_vae):
    trios = generate(trio_vae, count=2, bars=20, temperature=0.5, seed=3, qpm=96.0)
    assert [type(t) for t in trios] == [Trio, Trio]
    assert all(t.length == 20 * BAR and t.qpm == 96.0 for t in trios)  # two spans, cut
    assert all(t.drums.drums and (t.melody_program, t.bass_program) == (0, 33) for t in trios)
    assert trios == generate(trio_vae, 2, 20, 0.5, seed=3, qpm=96.0)


def test_vary_keeps_the_songs_tempo_programs_and_kit(trio_vae):
    trios = vary(trio_vae, song(16), 3, 0.2, 0.5, seed=1)
    assert len(trios) == 3 and all(t.length == 16 * BAR and t.qpm == 110.0 for t in trios)
    assert all((t.melody_program, t.bass_program) == (25, 34) for t in trios)
    assert {n.velocity for t in trios for n in t.melody.notes} <= {96}
    assert trios == vary(trio_vae, song(16), 3, 0.2, 0.5, seed=1)


def test_interpolate_brings_songs_to_one_length(trio_vae):
    done = []
    trios = interpolate(
        trio_vae, song(16), song(20, root=55), 4, True, True, 0.5, 2, lambda *a: done.append(a)
    )
    assert len(trios) == 4 and all(t.length == 20 * BAR for t in trios)  # the longer song's
    assert done == [(4, 4)]


def test_a_trio_model_reads_no_single_clip_and_the_others_no_trio(trio_vae):
    with pytest.raises(ClipError, match=r"reads trios .* not a single clip"):
        vary(trio_vae, song(2).melody, 2, 0.2, 0.5, 1)


def test_the_daemons_requests_are_refused_for_trio_models():
    spec = ModelSpec(name="trio", family="music_vae", path=CHECKPOINT, config=NAME)
    limits = Limits()
    for name, clips in (("generate", ()), ("vary", (song(2).melody,))):
        tool = TOOLS[name]
        params = {param.name: param.default for param in tool.params}
        with pytest.raises(ClipError, match=r"three parts per input.*does not serve them"):
            tool.check(spec, clips, params, limits)


# -- the command line with multi-track MIDI files --------------------------------------------


def run(config: Path, command: str, *args: str | Path) -> subprocess.CompletedProcess:
    """`magenta-bridge COMMAND --config CONFIG ARGS`; options given as one string are split."""
    words = [w for a in args for w in (a.split() if isinstance(a, str) else [str(a)])]
    return subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", command, "--config", str(config), *words],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def test_the_cli_varies_songs_and_writes_trios(trio_config, tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    for index in range(2):
        # Another instrument first, which magenta ignores (program 48: strings).
        strings = MidiPart(Clip((Note(48, 0.0, 16.0),), 16 * BAR, 110.0), 48, "strings")
        write_midi_parts([strings, *trio_parts(song(16, 60 + index))], songs / f"s{index}.mid")
    out = tmp_path / "out"
    done = run(trio_config, "vary", songs, "--model trio --variations 2 --seed 4 -o", out)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        f"s{i}-{v}.mid" for i in (0, 1) for v in (1, 2)
    ]
    parts = read_midi_parts(out / "s1-2.mid")
    assert [(p.name, p.program, part_role(p)) for p in parts] == [
        ("melody", 25, "melody"),
        ("bass", 34, "bass"),
        ("drums", 0, "drums"),
    ]
    assert all(p.clip.length == 16 * BAR and p.clip.qpm == 110.0 for p in parts)


def test_the_cli_interpolates_and_generates_trios(trio_config, tmp_path):
    write_midi_parts(trio_parts(song(16)), tmp_path / "a.mid")
    write_midi_parts(trio_parts(song(8, 57)), tmp_path / "b.mid")
    out = tmp_path / "out"
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    done = run(trio_config, "interpolate", a, b, "--model trio --steps 3 -o", out)
    assert done.returncode == 0, done.stderr
    assert "interpolate-3.mid: a trio of" in done.stdout
    done = run(trio_config, "generate", "--model trio --variations 2 --seed 1 -o", out)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "generate-1.mid",
        "generate-2.mid",
        "interpolate-1.mid",
        "interpolate-2.mid",
        "interpolate-3.mid",
    ]
    for path in out.iterdir():
        parts = read_midi_parts(path)
        assert {p.clip.length for p in parts} == {16 * BAR}
        assert {part_role(p) for p in parts} <= {"melody", "bass", "drums"}


def test_the_cli_names_the_part_a_song_lacks(trio_config, tmp_path):
    melody, _, drums = trio_parts(song(4))
    write_midi_parts([melody, drums], tmp_path / "duo.mid")
    done = run(trio_config, "vary", tmp_path / "duo.mid", "--model trio -o", tmp_path / "out")
    assert done.returncode == 1
    assert "duo.mid' has no bass that a trio model can read" in done.stderr
