"""Benchmark: Continue on each RNN family, native against Google's magenta, in one run.

For each magenta-made fixture bundle (drum_kit, polyphony, performance_with_dynamics) the
same clip is continued by 2 bars, 1 variation at temperature 1.0: natively, and through the
magenta backend (`backend: magenta`, magenta's own generator in its worker process).
Median of --repeats timed calls after 2 warm-ups; loading is timed once.

    .venv/bin/python bench/bench_families.py [--repeats 10]

Needs mma (drum grooves) and music21 (chorales) for the clips, and .venv-magenta for the
reference. Prints one JSON object.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.models.catalog import ModelSpec  # noqa: E402
from bridge.models.events_rnn.sampling import SamplingOptions  # noqa: E402
from bridge.models.generation import Continuation  # noqa: E402
from bridge.models.loading import load_model  # noqa: E402
from bridge.music.clip import Clip  # noqa: E402
from bridge.music.midi import read_midi  # noqa: E402
from bridge.tools.continuation import continue_clips  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures"
CASES = {
    "drums_rnn": FIXTURES / "drums_rnn" / "drum_kit.mag",
    "polyphony_rnn": FIXTURES / "polyphony_rnn" / "polyphony.mag",
    "performance_rnn": FIXTURES / "performance_rnn" / "performance_with_dynamics.mag",
}


def groove() -> Clip:
    """Four bars of MMA's PopBallad1 (GPL data, rendered here, never stored)."""
    folder = Path(tempfile.mkdtemp())
    (folder / "g.mma").write_text("Tempo 120\nGroove PopBallad1\n" + "C\n" * 4)
    subprocess.run(["mma", "-f", "g.mid", "g.mma"], cwd=folder, check=True, capture_output=True)
    return read_midi(folder / "g.mid")


def chorale() -> Clip:
    """The first two bars of BWV 99.6 from music21's corpus."""
    import music21

    corpus = Path(music21.__file__).parent / "corpus" / "bach" / "bwv99.6.mxl"
    score = music21.converter.parse(str(corpus))
    clip = read_midi(music21.midi.translate.music21ObjectToMidiFile(score).writestr())
    length = 2 * clip.beats_per_bar
    notes = tuple(n for n in clip.notes if n.start < length)
    return Clip(notes, length, clip.qpm, clip.time_signature)


def measure(family: str, path: Path, backend: str, clip: Clip, repeats: int) -> dict:
    started = time.perf_counter()
    spec = ModelSpec(family, family, path, "cpu", backend=backend)
    model = load_model(spec)
    load_s = time.perf_counter() - started
    times = []
    for repeat in range(repeats + 2):
        continuation = Continuation(clip, bars=2, sampling=SamplingOptions(seed=repeat))
        t0 = time.perf_counter()
        continue_clips(model, spec, [continuation])
        if repeat >= 2:
            times.append(time.perf_counter() - t0)
    if hasattr(model, "close"):
        model.close()
    return {
        "load_s": round(load_s, 3),
        "continue_ms_median": round(statistics.median(times) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    clips = {"drums_rnn": groove(), "polyphony_rnn": chorale(), "performance_rnn": chorale()}
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "method": "continue 2 bars, 1 variation, temperature 1.0, median after 2 warm-ups",
    }
    for family, path in CASES.items():
        native = measure(family, path, "native", clips[family], args.repeats)
        magenta = measure(family, path, "magenta", clips[family], args.repeats)
        ratio = magenta["continue_ms_median"] / native["continue_ms_median"]
        results[family] = {
            "native": native,
            "magenta": magenta,
            "magenta_over_native": round(ratio, 1),
        }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
