"""The parts of `--ray` that need no cluster: options, where actors run the model, the
summary's words, and the one-line error where Ray is not installed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fixture_ray import run_python

from bridge.config import Limits
from bridge.frontends.cli.file_jobs import FileJob
from bridge.frontends.cli.ray_batch import add_ray_options
from bridge.frontends.cli.ray_batch.options import RAY_DEFAULT, RaySettings
from bridge.frontends.cli.ray_batch.summary import BatchSummary
from bridge.frontends.cli.ray_batch.worker import actor_job
from bridge.models.catalog import ModelSpec

REPO = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_ray_options(parser)
    return parser.parse_args(argv)


def test_ray_alone_means_rays_default_and_an_address_is_kept():
    assert parse().ray is None
    assert RaySettings.of(parse("--ray")).address == RAY_DEFAULT
    settings = RaySettings.of(parse("--ray", "10.0.0.5:6379", "--ray-actors", "3"))
    assert (settings.address, settings.actors, settings.cpus) == ("10.0.0.5:6379", 3, 1.0)
    with pytest.raises(ValueError, match="--ray-actors must be at least 1"):
        RaySettings.of(parse("--ray", "--ray-actors", "0"))


@pytest.mark.parametrize(
    ("device", "gpus", "runs_on"),
    [("auto", 0, "cpu"), ("cuda:1", 0, "cpu"), ("auto", 1, "cuda"), ("cuda:1", 0.5, "cuda")],
)
def test_actors_run_on_the_gpu_ray_gives_them_else_on_cpus(device, gpus, runs_on):
    spec = ModelSpec("m", "music_vae", Path("m.safetensors"), device, config="cat-mel_2bar_small")
    job = FileJob("vary", spec, {"variations": 2}, Limits(), "latent")
    assert actor_job(job, gpus).spec.device == runs_on


def test_the_summary_names_counts_throughput_and_each_failure():
    summary = BatchSummary("drumify", files=5, skipped=1, done=3, results=6, actors=2)
    summary.nodes |= {"a", "b"}
    summary.seconds = 2.0
    summary.fail("loops/bad.mid", "MIDI data (9 bytes) cannot be read as MIDI")
    assert summary.lines() == [
        "drumify on Ray: 5 files: 3 done, 1 skipped (finished before), 1 failed; 6 results written",
        "4 files in 2.0 s (1.50 files/s) on 2 actor(s) across 2 node(s)",
        "failed: loops/bad.mid: MIDI data (9 bytes) cannot be read as MIDI",
    ]


def test_without_ray_installed_ray_is_one_clear_error(tmp_path):
    script = (
        "import sys; sys.modules['ray'] = None  # as if not installed\n"
        "from bridge.frontends.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    example = REPO / "examples" / "folk_melody.mid"
    args = ["vary", str(example), "-o", str(tmp_path / "out"), "--ray", "local"]
    done = run_python(script, *args)
    assert done.returncode == 1
    assert "magenta-bridge: error: --ray needs Ray: pip install -e '.[ray]'" in done.stderr
    assert "Traceback" not in done.stderr
