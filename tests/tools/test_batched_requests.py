"""Requests batched together get what they get alone: vary, groove and drumify decode many
requests (the engine's waiting jobs, a folder's files) as one batch, each request drawing
from its own seed, whatever its size, length, key lock or the other requests beside it.
The models are small ones trained by Google's magenta (tests/fixtures/music_vae)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bridge.config import Limits
from bridge.frontends.cli.file_jobs import RESULTS_PER_RUN, FileJob, ResultWriter
from bridge.models.catalog import ModelSpec
from bridge.models.music_vae import model as model_module
from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi, write_midi
from bridge.tools.groove import DrumRequest, drum_parts
from bridge.tools.latent import Variations, vary_many
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS

REPO = Path(__file__).parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "music_vae"
ROCK = read_midi(REPO / "examples" / "rock_groove.mid")  # 2 bars
MELODY, DRUMS = "cat-mel_2bar_small", "cat-drums_2bar_small"
HUMANIZE, TAP = "groovae_2bar_humanize", "groovae_2bar_tap_fixed_velocity"


def _model(config: str) -> MusicVae:
    return MusicVae.load(FIXTURES / config / "checkpoint", config, "cpu")


@pytest.fixture(scope="module")
def models() -> dict[str, MusicVae]:
    return {config: _model(config) for config in (MELODY, DRUMS, HUMANIZE, TAP)}


def tune(first: int, bars: int) -> Clip:
    notes = [Note(first + (i * 5) % 12, i / 2, 0.5, 80) for i in range(8 * bars)]
    return Clip.from_notes(notes, length=4.0 * bars)


def drums(bars: float) -> Clip:
    """The rock groove looped or cut to `bars` (odd lengths: a last span partly padding)."""
    beats = 4.0 * bars
    notes = [
        Note(n.pitch, n.start + offset, n.duration, n.velocity)
        for offset in range(0, int(beats) + 8, 8)
        for n in ROCK.notes
        if n.start + offset < beats
    ]
    return Clip.from_notes(notes, beats, ROCK.qpm, drums=True)


def test_variations_batched_are_the_variations_alone(models):
    requests = [
        Variations(drums(2), 16, 0.3, 0.5, 1),
        Variations(drums(1), 1, 0.3, 0.5, 2),  # one row: below the kernels' blocking
        Variations(drums(3), 5, 0.5, 1.5, 3),  # two spans, the last half padding
        Variations(drums(2), 3, 0.2, 0.5, None),  # no seed: its own random draws
    ]
    batched = vary_many(models[DRUMS], requests)
    assert [len(results) for results in batched] == [16, 1, 5, 3]
    for request, results in zip(requests[:3], batched[:3], strict=True):
        assert vary_many(models[DRUMS], [request]) == [results]
        assert all(clip.length == request.clip.length for clip in results)
    assert vary_many(models[DRUMS], requests[2:3] + requests[:1]) == [batched[2], batched[0]]


def test_a_key_lock_stays_with_its_request(models):
    locked = Variations(tune(60, 2), 6, 0.8, 1.0, 4, allowed_pitches=frozenset({60, 62, 64}))
    free = Variations(tune(62, 4), 6, 0.8, 1.0, 4)
    together = vary_many(models[MELODY], [free, locked])
    assert together == [vary_many(models[MELODY], [r])[0] for r in (free, locked)]
    assert {n.pitch for clip in together[1] for n in clip.notes} <= {60, 62, 64}
    assert {n.pitch for clip in together[0] for n in clip.notes} - {60, 62, 64}


@pytest.mark.parametrize(
    ("tool", "config", "requests"),
    [
        (
            "groove",
            HUMANIZE,
            [
                DrumRequest(drums(2), 4, 1.0, 5, keep_hits=True),
                DrumRequest(drums(1), 1, 0.5, 6, keep_hits=False),
                DrumRequest(drums(3), 2, 1.0, 7, keep_hits=True),
            ],
        ),
        (
            "drumify",
            TAP,
            [
                DrumRequest(tune(60, 2), 3, 1.0, 8),
                DrumRequest(drums(3), 2, 0.7, 9, backbone=False),
            ],
        ),
    ],
)
def test_drum_parts_batched_are_the_drum_parts_alone(models, tool, config, requests):
    batched = drum_parts(models[config], tool, requests)
    assert [len(parts) for parts in batched] == [r.variations for r in requests]
    for request, parts in zip(requests, batched, strict=True):
        assert drum_parts(models[config], tool, [request]) == [parts]


def _file_job(tool: str, config: str, **params) -> FileJob:
    spec = ModelSpec(name=config, family="music_vae", path=FIXTURES / config, config=config)
    limits = Limits()
    checked = parse_params(TOOLS[tool].params, params, limits)
    return FileJob.of(tool, spec, checked, limits, clip_tool=False)


def test_a_folder_runs_its_files_together_and_each_failure_alone(models):
    job = _file_job("vary", DRUMS, variations=4, seed=3)
    files = [(drums(2),), (drums(1),), (drums(3),)]
    batched = job.run_many(models[DRUMS], files)
    assert batched == [job.run(models[DRUMS], one) for one in files]
    assert all(len(encoded.files) == 4 for encoded in batched)
    # A file the model cannot read fails the batch it is in; run_each then runs each file
    # alone, so that file gets its own error and the files beside it their results.
    silent = (Clip.from_notes([], 8.0, drums=True),)
    outcomes = job.run_each(models[DRUMS], [files[0], silent, files[2]])
    assert outcomes[0] == batched[0] and outcomes[2] == batched[2]
    assert isinstance(outcomes[1], ClipError) and "no drum hits" in str(outcomes[1])


def test_a_file_is_finished_only_once_its_first_result_is_written_after_the_others(
    models, tmp_path
):
    job = _file_job("vary", DRUMS, variations=3, seed=3)
    (encoded,) = job.run_many(models[DRUMS], [(drums(2),)])
    writer = ResultWriter(job)
    base = tmp_path / "out" / "loop.mid"
    paths = writer.write(base, encoded.files)
    assert [path.name for path in paths] == ["loop-1.mid", "loop-2.mid", "loop-3.mid"]
    assert not job.finished(base) and paths[1].exists() and paths[2].exists()
    writer.flush()
    assert job.finished(base)
    assert [path.read_bytes() for path in paths] == encoded.files
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_command_line_runs_a_folder_in_runs_of_files(tmp_path):
    """A folder of more files than one run holds (RESULTS_PER_RUN results: 16 files of 64
    variations), its runs on two worker processes: each file's results are those of the file
    run alone, in this process."""
    folder = tmp_path / "loops"
    folder.mkdir()
    count = RESULTS_PER_RUN // 64 + 1
    for index in range(count):
        write_midi(drums(1 + index % 3), folder / f"loop{index:02d}.mid")
    config = tmp_path / "config.yaml"
    spec = {"family": "music_vae", "config": DRUMS, "path": str(FIXTURES / DRUMS / "checkpoint")}
    config.write_text(yaml.safe_dump({"models": {"drums": spec}, "data_folder": str(tmp_path)}))

    def vary(source: Path, output: Path, *more: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "bridge.frontends.cli", "--config", str(config)]
        options = ["--model", "drums", "--variations", "64", "--seed", "9", "-o", str(output)]
        return subprocess.run(
            [*command, "vary", str(source), *options, *more], capture_output=True, text=True
        )

    assert vary(folder, tmp_path / "all", "--workers", "2").returncode == 0  # two processes
    refused = vary(folder, tmp_path / "none", "--workers", "0")
    assert refused.returncode == 1 and "--workers must be at least 1, not 0" in refused.stderr
    assert len({path.name.split("-")[0] for path in (tmp_path / "all").iterdir()}) == count
    for index in (0, count - 2, count - 1):  # first and last of the first run, the second run
        assert vary(folder / f"loop{index:02d}.mid", tmp_path / "one").returncode == 0
    for alone in (tmp_path / "one").iterdir():
        assert alone.read_bytes() == (tmp_path / "all" / alone.name).read_bytes()


def test_requests_past_one_batch_of_rows_decode_in_several_alike(models, monkeypatch):
    """More rows than MAX_DECODE_ROWS decode batch by batch (what a decode holds at once stays
    bounded), a request never split, each with its results alone."""
    monkeypatch.setattr(model_module, "MAX_DECODE_ROWS", 16)
    requests = [Variations(drums(bars), 6, 0.4, 0.5, seed) for seed, bars in enumerate((2, 3, 1))]
    decoded = []
    original = model_module.MusicVae._decode
    monkeypatch.setattr(
        model_module.MusicVae,
        "_decode",
        lambda self, groups, blocks: (
            decoded.append(sum(len(g.z) for g in groups)) or original(self, groups, blocks)
        ),
    )
    batched = vary_many(models[DRUMS], requests)
    assert decoded[0] <= 16 < sum(decoded[:2])  # the first draw took two batches
    for request, results in zip(requests, batched, strict=True):
        assert vary_many(models[DRUMS], [request]) == [results]
