"""Benchmark: MusicVAE tools, native against Google's magenta `TrainedModel`, in one run.

Workloads (the issue's): interpolate between two 2-bar melodies in 8 steps
(cat-mel_2bar_small); vary a 2-bar drum loop 64 ways (cat-drums_2bar_small); batch-vary a
folder of 100 two-bar loops, 16 variations each (natively as the command line does: the
loops' variations decoded together); and the command line itself on --cli-loops loops.
Both sides use the same checkpoints: Magenta's configs at their full default sizes, built
and randomly initialised by magenta (models/reference/music_vae_timing.py), since speed
does not depend on what weights learned. Median of --repeats after a warm-up; temperature 0.5.

    .venv/bin/python bench/bench_music_vae.py [--repeats 10]

The loops are the example groove (examples/rock_groove.mid) with seeded changes: each
hi-hat and kick kept or dropped, so every loop differs. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from bridge.models.magenta_backend.backend import magenta_python  # noqa: E402
from bridge.models.music_vae.model import MusicVae  # noqa: E402
from bridge.music.clip import Clip  # noqa: E402
from bridge.music.midi import read_midi, write_midi  # noqa: E402
from bridge.tools.latent import Variations, interpolate, vary, vary_many  # noqa: E402

EXAMPLES = REPO / "examples"


def loops(count: int, folder: Path) -> list[Path]:
    """`count` variants of the example groove, written as MIDI files."""
    groove = read_midi(EXAMPLES / "rock_groove.mid")
    rng = random.Random(0)
    paths = []
    for index in range(count):
        notes = [n for n in groove.notes if n.pitch == 38 or rng.random() < 0.8]
        path = folder / f"loop{index:03d}.mid"
        write_midi(Clip.from_notes(notes, groove.length, groove.qpm, drums=True), path)
        paths.append(path)
    return paths


def cli_folder(work: Path, count: int) -> dict:
    """`magenta-bridge vary FOLDER` on `count` loops, 16 variations each, with the bundled
    drum MusicVAE (trained, so its results have the notes real ones have): wall time from
    the command's start (imports, model load) to its exit, every result written."""
    folder, out = work / "cli_loops", work / "cli_out"
    folder.mkdir()
    loops(count, folder)
    command = [
        str(Path(sys.executable).with_name("magenta-bridge")),
        *("vary", str(folder), "-o", str(out), "--model", "drum_vae"),
        *("--variations", "16", "--seed", "1"),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    written = len(list(out.glob("*.mid")))
    return {"loops": count, "results": written, "seconds": round(seconds, 2)}


def median_ms(work, repeats: int) -> float:
    work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--checkpoints", type=Path, default=None, help="reuse this folder")
    parser.add_argument(
        "--cli-loops",
        type=int,
        default=1000,
        help="loops for the command-line folder run (0: none)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    folder = args.checkpoints or work / "checkpoints"
    tune = read_midi(EXAMPLES / "folk_melody.mid")
    start = Clip.from_notes([n for n in tune.notes if n.start < 8], 8.0, tune.qpm)
    end = Clip.from_notes(
        [
            n.__class__(n.pitch, n.start - 8, n.duration, n.velocity)
            for n in tune.notes
            if 8 <= n.start < 16
        ],
        8.0,
        tune.qpm,
    )
    write_midi(start, work / "start.mid")
    write_midi(end, work / "end.mid")
    loop_paths = loops(100, work)
    request = {
        "folder": str(folder),
        "start": str(work / "start.mid"),
        "end": str(work / "end.mid"),
        "loop": str(loop_paths[0]),
        "loops": [str(p) for p in loop_paths],
        "repeats": args.repeats,
        "steps": 8,
        "variations": 64,
        "folder_variations": 16,
    }
    (work / "request.json").write_text(json.dumps(request))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [
            str(magenta_python()),
            str(REPO / "models/reference/music_vae_timing.py"),
            str(work / "request.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    magenta = json.loads(done.stdout.strip().splitlines()[-1])

    melody = MusicVae.load(folder / "cat-mel_2bar_small", "cat-mel_2bar_small", "cpu")
    drums = MusicVae.load(folder / "cat-drums_2bar_small", "cat-drums_2bar_small", "cpu")
    loop_clips = [read_midi(path) for path in loop_paths]
    native = {
        "interpolate_ms": median_ms(
            lambda: interpolate(melody, start, end, 8, True, True, 0.5, 1), args.repeats
        ),
        "vary_ms": median_ms(lambda: vary(drums, loop_clips[0], 64, 0.2, 0.5, 1), args.repeats),
        "folder_ms": median_ms(
            lambda: vary_many(drums, [Variations(clip, 16, 0.2, 0.5, 1) for clip in loop_clips]),
            max(1, args.repeats // 5),
        ),
    }
    cli = cli_folder(work, args.cli_loops) if args.cli_loops else None
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
                f"torch {torch.__version__}, {torch.get_num_threads()} threads",
                "native": native,
                "magenta": magenta,
                "magenta_over_native": {k: round(magenta[k] / native[k], 1) for k in native},
                "cli_folder": cli,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
