"""Benchmark: harmonizing 4 bars with Coconet, native against Google's magenta, in one run.

The work is the issue's: a 4-bar melody (the first 16 beats of examples/folk_melody.mid)
harmonized into four voices at batch 1 and 8 with the default schedule (one fill, then
64 steps x 4 voices = 256 Gibbs steps: 257 passes of the network), temperature 0.99.
Magenta runs `coconet_sample`'s default TensorFlow sampling graph
(models/reference/coconet_timing.py); native runs the `harmonize` tool's generator
(bridge/models/coconet/generator.py), clip in, four clips out. Both load the same checkpoint
folder, made by magenta's own graph at random (speed does not depend on what the weights
learned): the bundled model's architecture (`dilated-15-64`) and, with --official, the
architecture of Google's released checkpoint (`straight-64-128`, about 20x the arithmetic;
batch 1 only, a run takes minutes). Median of --repeats after a warm-up.

    .venv/bin/python bench/bench_coconet.py [--repeats 3] [--official]

Prints one JSON object, with the arithmetic a pass costs and the CPU's measured matrix
multiply rate, which together bound how fast any implementation can be.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from bridge.models.coconet.generator import harmonize  # noqa: E402
from bridge.models.coconet.model import Coconet  # noqa: E402
from bridge.models.magenta_backend.backend import magenta_python  # noqa: E402
from bridge.music.clip import Clip  # noqa: E402
from bridge.music.midi import read_midi  # noqa: E402

BARS_BEATS = 16.0
BUNDLED = REPO / "models/pretrained/coconet_bach.json"
OFFICIAL = {"architecture": "straight", "num_layers": 64, "num_filters": 128}


def melody() -> Clip:
    tune = read_midi(REPO / "examples/folk_melody.mid")
    notes = [n for n in tune.notes if n.start < BARS_BEATS]
    return Clip.from_notes(notes, BARS_BEATS, tune.qpm)


def sixteenths(clip: Clip) -> list[int | None]:
    """The melody's pitch at each 16th (None: a rest), as magenta reads a primer."""
    steps: list[int | None] = [None] * int(clip.length * 4)
    for note in clip.notes:
        for step in range(round(note.start * 4), min(len(steps), round(note.end * 4))):
            steps[step] = note.pitch
    return steps


def median_seconds(work, repeats: int) -> float:
    work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def pass_gflop(model: Coconet, steps: int) -> float:
    """Multiply-adds x 2 of one pass at batch 1 over `steps` 16ths."""
    positions = steps * model.config.num_pitches
    weights = sum(p.numel() for n, p in model.network.named_parameters() if n.endswith("weight"))
    return round(2 * weights * positions / 1e9, 2)


def matmul_gflops() -> float:
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    seconds = median_seconds(lambda: a @ b, 10)
    return round(2 * 2048**3 / seconds / 1e9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--official", action="store_true", help="also straight-64-128 at batch 1")
    parser.add_argument("--checkpoints", type=Path, default=None, help="reuse this folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    folder = args.checkpoints or work / "checkpoints"
    clip = melody()
    plans = {"dilated-15-64": (json.loads(BUNDLED.read_text())["hparams"], [1, 8])}
    if args.official:
        plans["straight-64-128"] = (OFFICIAL, [1])
    magenta = {}
    for name, (hparams, batches) in plans.items():  # one process each: one graph at a time
        request = {
            "folder": str(folder),
            "models": {name: hparams},
            "melody": sixteenths(clip),
            "batches": batches,
            "repeats": args.repeats,
        }
        (work / "request.json").write_text(json.dumps(request))
        done = subprocess.run(
            [str(magenta_python()), str(REPO / "models/reference/coconet_timing.py"),
             str(work / "request.json")],
            capture_output=True, text=True, check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""},
        )  # fmt: skip
        magenta.update(json.loads(done.stdout.strip().splitlines()[-1])["magenta"])

    results = {}
    for name, (_, batches) in plans.items():
        model = Coconet.load(folder / name, device="cpu")
        native = {
            str(batch): median_seconds(
                partial(harmonize, model, clip, batch, 0.99, 0), args.repeats
            )
            for batch in batches
        }
        theirs = magenta[name]["seconds"]
        results[name] = {
            "gflop_per_pass": pass_gflop(model, int(clip.length * 4)),
            "passes": int(clip.length * 4) * model.config.num_instruments + 1,
            "native_s": native,
            "magenta_s": theirs,
            "magenta_over_native": {b: round(theirs[b] / native[b], 2) for b in native},
        }
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
                f"torch {torch.__version__}, {torch.get_num_threads()} threads",
                "matmul_gflops_fp32": matmul_gflops(),
                "work": "harmonize 4 bars (64 16ths), default schedule, temperature 0.99",
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
